package initdata_test

import (
	"strings"
	"testing"

	"github.com/cocogen/cocogen/pkg/initdata"
)

// BenchmarkEncodeDigest60KB measures what a render does per profile for a
// large (~60 KB) policy: encode the annotation and compute the digest and
// PCR8.
func BenchmarkEncodeDigest60KB(b *testing.B) {
	var rego strings.Builder
	rego.WriteString("package agent_policy\n\ndefault AllowRequestsFailingPolicy := false\n\n")
	for i := 0; rego.Len() < 60<<10; i++ {
		rego.WriteString("default CreateContainerRequest := false\n\nCreateContainerRequest if {\n\tinput.OCI.Annotations[\"io.kubernetes.cri.container-name\"] == \"c")
		rego.WriteString(strings.Repeat("x", i%17))
		rego.WriteString("\"\n}\n\n")
	}
	doc := &initdata.Document{Version: initdata.Version, Algorithm: initdata.SHA384, Data: map[string]string{
		initdata.DataAA:     "[token_configs]\n[token_configs.kbs]\nurl = \"https://kbs.example.com\"\n",
		initdata.DataCDH:    "socket = \"unix:///run/confidential-containers/cdh.sock\"\ncredentials = []\n\n[kbc]\nname = \"cc_kbc\"\nurl = \"https://kbs.example.com\"\n",
		initdata.DataPolicy: rego.String(),
	}}
	data, err := doc.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := initdata.Encode(data); err != nil {
			b.Fatal(err)
		}
		if _, err := initdata.Digest(initdata.SHA384, data); err != nil {
			b.Fatal(err)
		}
		_ = initdata.PCR8(data)
	}
}
