package kbssecrets_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/kbssecrets"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
)

func pattern(t *testing.T) *spec.Pattern {
	t.Helper()
	return testkit.LoadFile(t, filepath.Join(testkit.Root(t), "fixtures/azure-simple/pattern.yaml"))
}

func secret(t *testing.T, m *kbssecrets.Material, name string) kbssecrets.Secret {
	t.Helper()
	for _, s := range m.Secrets {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no Secret %s", name)
	return kbssecrets.Secret{}
}

func block(t *testing.T, data []byte, typ string) []byte {
	t.Helper()
	b, _ := pem.Decode(data)
	if b == nil || b.Type != typ {
		t.Fatalf("want a PEM %s block, got %q", typ, data)
	}
	return b.Bytes
}

// TestKeyTypes: every key is of the type the KBS reads: the TLS chain
// verifies for the KBS's host with the CA pods pin, the token signer is EC
// P-256 with its certificate, the admin key is Ed25519.
func TestKeyTypes(t *testing.T) {
	p := pattern(t)
	m, err := kbssecrets.Generate(p, kbssecrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Secrets) != 4 {
		t.Fatalf("%d Secrets, want the four the pattern generates", len(m.Secrets))
	}
	tls := secret(t, m, "kbs-tls")
	if tls.Type != "kubernetes.io/tls" || tls.Namespace != "trustee-operator-system" {
		t.Errorf("TLS Secret %s %s", tls.Type, tls.Namespace)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(m.CACertificate) {
		t.Fatal("CA certificate does not parse")
	}
	leaf, err := x509.ParseCertificate(block(t, tls.Data["tls.crt"], "CERTIFICATE"))
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"kbs-trustee-operator-system.apps.coco.example.com", "kbs-service.trustee-operator-system.svc"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: host}); err != nil {
			t.Errorf("TLS certificate for %s: %v", host, err)
		}
	}
	key, err := x509.ParsePKCS8PrivateKey(block(t, tls.Data["tls.key"], "PRIVATE KEY"))
	if err != nil || !key.(*ecdsa.PrivateKey).PublicKey.Equal(leaf.PublicKey) {
		t.Errorf("TLS key does not match its certificate: %v", err)
	}
	tokKey, err := x509.ParseECPrivateKey(block(t, secret(t, m, "kbs-attestation-key").Data["token.key"], "EC PRIVATE KEY"))
	if err != nil || tokKey.Curve != elliptic.P256() {
		t.Fatalf("token key: %v", err)
	}
	tokCert, err := x509.ParseCertificate(block(t, secret(t, m, "kbs-attestation-cert").Data["token.crt"], "CERTIFICATE"))
	if err != nil || !tokKey.PublicKey.Equal(tokCert.PublicKey) {
		t.Errorf("token certificate does not match its key: %v", err)
	}
	pub, err := x509.ParsePKIXPublicKey(block(t, secret(t, m, "kbs-auth-public-key").Data["publicKey"], "PUBLIC KEY"))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(block(t, m.AdminPrivateKey, "PRIVATE KEY"))
	if err != nil || !priv.(ed25519.PrivateKey).Public().(ed25519.PublicKey).Equal(pub) {
		t.Errorf("admin keys are not a pair: %v", err)
	}
}

// TestWriteDir: the directory and every file are the user's alone, and an
// existing directory is never overwritten.
func TestWriteDir(t *testing.T) {
	m, err := kbssecrets.Generate(pattern(t), kbssecrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "kbs")
	if err := m.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v", fi.Mode())
	}
	for _, name := range []string{kbssecrets.SecretsFile, kbssecrets.CAFile, kbssecrets.AdminKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", name, fi.Mode(), err)
		}
	}
	objs, err := manifest.ReadStream(must(os.ReadFile(filepath.Join(dir, kbssecrets.SecretsFile))))
	if err != nil || len(objs) != 4 || objs[0]["kind"] != "Secret" {
		t.Errorf("secrets.yaml: %v %v", len(objs), err)
	}
	if err := m.WriteDir(dir); err == nil {
		t.Error("an existing directory was overwritten")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestNothingGeneratedIsRendered is the canary: with the generated CA
// pinned in the pattern, no byte of generated key material (private keys,
// Secret values) appears in any rendered file; only the CA certificate,
// which is public, does.
func TestNothingGeneratedIsRendered(t *testing.T) {
	p := pattern(t)
	m, err := kbssecrets.Generate(p, kbssecrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.Spec.Trustee.Certificate = string(m.CACertificate)
	tree, err := manifest.Tree(testkit.Render(t, p).Set)
	if err != nil {
		t.Fatal(err)
	}
	var canaries []string
	add := func(data []byte) {
		for rest := data; ; {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				body := base64.StdEncoding.EncodeToString(b.Bytes)
				canaries = append(canaries, body[:40], body[len(body)-40:])
			}
		}
		canaries = append(canaries, base64.StdEncoding.EncodeToString(data)[:40])
	}
	add(m.AdminPrivateKey)
	for _, s := range m.Secrets {
		for _, v := range s.Data {
			add(v)
		}
	}
	pinned := 0
	for path, content := range tree {
		for _, c := range canaries {
			if strings.Contains(content, c) {
				t.Errorf("%s holds generated key material", path)
			}
		}
		if strings.Contains(content, strings.Split(string(m.CACertificate), "\n")[1]) {
			pinned++
		}
	}
	if pinned == 0 {
		t.Error("the CA certificate is pinned nowhere: the canary checked nothing real")
	}
}
