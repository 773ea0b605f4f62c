package initdata_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/cocogen/cocogen/pkg/initdata"
	"github.com/cocogen/cocogen/pkg/spec"
)

const testPattern = `apiVersion: cocogen.dev/v1alpha1
kind: Pattern
metadata:
  name: demo
spec:
  source:
    repoURL: https://github.com/example/demo.git
  trustee:
    url: https://kbs.example.com
  initData:
    profiles:
      - name: default
  clusterGroups:
    - name: hub
      roles: [hub]
      selector:
        matchLabels: {cluster: hub}
      platform: {type: azure}
    - name: spoke
      roles: [workloads]
      selector:
        matchLabels: {cluster: spoke}
      platform: {type: azure}
      applications:
        - name: hello
          namespace: hello
          source: {path: apps/hello-openshift/confidential}
          confidential: {initData: default}
`

// fullPattern sets every init-data field; cert is a PEM certificate.
func fullPattern(cert string) string {
	return `apiVersion: cocogen.dev/v1alpha1
kind: Pattern
metadata:
  name: demo
spec:
  source:
    repoURL: https://github.com/example/demo.git
  initData:
    profiles:
      - name: full
        algorithm: sha512
        kbs:
          url: https://kbs.example.com:8443
          certificate: |
` + indent(cert, 12) + `
        imageSecurityPolicyURI: kbs:///default/security-policy/strict
        registryCredentialsURI: kbs:///default/credential/pull
        extraCACertificates:
          - |
` + indent(cert, 12) + `
          - |
` + indent(cert, 12) + `
        policy:
          allowExec: [["/bin/date"], ["/bin/sh", "-c", "echo ok"]]
          allowLogs: false
          allowStdin: true
        extraData:
          z.conf: |
            has ''' quotes
          a.conf: |
            key = "value"
        configMap:
          namespace: coco
        annotations:
          legacyName: true
          legacyPolicy: true
      - name: debug
        kbs:
          url: http://kbs.example.com:8080
        policy:
          profile: debug
      - name: sha256
        algorithm: sha256
        kbs:
          url: http://kbs.example.com:8080
  clusterGroups:
    - name: spoke
      roles: [workloads]
      selector:
        matchLabels: {cluster: spoke}
      platform: {type: azure}
      applications:
        - name: hello
          namespace: hello
          source: {path: apps/hello-openshift/confidential}
          confidential: {initData: full}
`
}

func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = pad + lines[i]
	}
	return strings.Join(lines, "\n")
}

func loadPattern(t testing.TB, doc string) *spec.Pattern {
	t.Helper()
	p, err := spec.Parse("pattern.yaml", []byte(doc), spec.LoadOptions{})
	if err != nil {
		t.Fatalf("pattern: %v", err)
	}
	return p
}

// testCert returns a fresh self-signed PEM certificate (public part only).
func testCert(t testing.TB) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "kbs.example.com"},
		DNSNames:     []string{"kbs.example.com"},
		NotBefore:    time.Unix(0, 0),
		NotAfter:     time.Unix(0, 0).Add(100 * 365 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

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
	doc := &initdata.Document{Version: initdata.Version, Algorithm: spec.AlgorithmSHA384, Data: map[string]string{
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
		if _, err := initdata.Digest(spec.AlgorithmSHA384, data); err != nil {
			b.Fatal(err)
		}
		_ = initdata.PCR8(data)
	}
}
