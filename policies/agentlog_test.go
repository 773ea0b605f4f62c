package policies

import (
	"strings"
	"testing"

	"github.com/cocogen/cocogen/pkg/initdata"
)

// TestPolicyIn: the policy itself, its init-data document and the
// annotation value all give the policy text.
func TestPolicyIn(t *testing.T) {
	text := renderT(t, Options{})
	doc := &initdata.Document{Version: initdata.Version, Algorithm: "sha256", Data: map[string]string{initdata.DataPolicy: text}}
	toml, err := doc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	ann, err := initdata.Encode(toml)
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]string{"policy": text, "init-data": string(toml), "annotation": ann} {
		got, err := PolicyIn([]byte(in))
		if err != nil || got != text {
			t.Errorf("%s: %v (same policy: %v)", name, err, got == text)
		}
	}
	if _, err := PolicyIn([]byte("a: b\n")); err == nil {
		t.Error("YAML without init-data accepted")
	}
}

func TestReadRequests(t *testing.T) {
	one, err := ReadRequests([]byte(`{"OCI": {}}`), "CreateContainerRequest")
	if err != nil || len(one) != 1 || one[0].Kind != "CreateContainerRequest" {
		t.Errorf("one request: %v %v", one, err)
	}
	log, err := ReadRequests([]byte("{\"kind\":\"A\",\"request\":{}}\n\n{\"kind\":\"B\",\"request\":{\"x\":1}}\n"), "")
	if err != nil || len(log) != 2 || log[1].Kind != "B" {
		t.Errorf("log: %v %v", log, err)
	}
	if _, err := ReadRequests([]byte("{\"kind\":\"A\",\"request\":{}}\nnot json\n"), ""); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad line: %v", err)
	}
}
