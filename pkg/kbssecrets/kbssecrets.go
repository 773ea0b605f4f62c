// Package kbssecrets makes the key material a pattern's KBS needs and that
// the pattern says cocogen generates (spec.trustee secrets with source
// "generate"): the KBS TLS key and certificate (signed by a CA of their
// own, which init-data pins), the key and certificate the attestation
// service signs tokens with, and the admin key pair. It runs on a user's
// machine (`cocogen secrets init`), never in a render: key material goes to
// a directory the user chooses or to Secret manifests for `oc apply`, and
// never into the rendered tree.
package kbssecrets

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"slices"
	"time"

	"github.com/cocogen/cocogen/pkg/spec"
)

// Secret is one Kubernetes Secret to create in the Trustee namespace.
type Secret struct {
	Name, Namespace string
	// Type is kubernetes.io/tls or Opaque.
	Type string
	// Data maps keys to values (not base64-encoded).
	Data map[string][]byte
}

// Material is everything Generate made.
type Material struct {
	// Secrets are the Secrets the KbsConfig mounts that the pattern
	// generates, ready for the hub.
	Secrets []Secret
	// CACertificate is the PEM certificate of the CA that signed the KBS
	// TLS certificate: what spec.trustee.certificate must be, so that pods
	// trust this KBS only (nil when the TLS Secret is not generated).
	CACertificate []byte
	// AdminPrivateKey is the PEM Ed25519 key whose public half is in the
	// admin Secret: it signs admin API requests and never goes to the
	// cluster (nil when the admin Secret is not generated).
	AdminPrivateKey []byte
}

// Options tune Generate.
type Options struct {
	// Rand is the source of randomness; nil means crypto/rand.
	Rand io.Reader
	// Now is the start of the certificates' validity; zero means now.
	Now time.Time
	// Validity of the certificates; zero means two years.
	Validity time.Duration
}

// Generate makes the key material of every KBS Secret of p whose source
// is spec.SourceGenerate. The TLS certificate names the KBS's URL host and
// its in-cluster service.
func Generate(p *spec.Pattern, opts Options) (*Material, error) {
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Validity == 0 {
		opts.Validity = 2 * 365 * 24 * time.Hour
	}
	t := &p.Spec.Trustee
	m := &Material{}
	add := func(s spec.TrusteeSecret, typ string, data map[string][]byte) {
		if s.SourceOf() == spec.SourceGenerate {
			m.Secrets = append(m.Secrets, Secret{Name: s.Name, Namespace: t.Namespace, Type: typ, Data: data})
		}
	}
	if t.TLSSecret.SourceOf() == spec.SourceGenerate {
		ca, chain, key, err := tlsMaterial(p, opts)
		if err != nil {
			return nil, err
		}
		m.CACertificate = ca
		add(t.TLSSecret, "kubernetes.io/tls", map[string][]byte{spec.KBSTLSCert: chain, spec.KBSTLSKey: key})
	}
	if t.AdminSecret.SourceOf() == spec.SourceGenerate {
		pub, priv, err := ed25519.GenerateKey(opts.Rand)
		if err != nil {
			return nil, err
		}
		pubDER, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return nil, err
		}
		privDER, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return nil, err
		}
		m.AdminPrivateKey = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})
		add(t.AdminSecret, "Opaque", map[string][]byte{spec.KBSAdminPublicKey: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})})
	}
	keySource, certSource := t.TokenSigner.KeySecret.SourceOf(), t.TokenSigner.CertSecret.SourceOf()
	if keySource == spec.SourceGenerate || certSource == spec.SourceGenerate {
		if keySource != certSource {
			return nil, fmt.Errorf("the token signer's key and certificate are one pair: generate both or neither (key: %s, certificate: %s)", keySource, certSource)
		}
		cert, key, err := tokenSigner(opts)
		if err != nil {
			return nil, err
		}
		add(t.TokenSigner.KeySecret, "Opaque", map[string][]byte{spec.KBSTokenKey: key})
		add(t.TokenSigner.CertSecret, "Opaque", map[string][]byte{spec.KBSTokenCert: cert})
	}
	return m, nil
}

// TLSHosts are the names the KBS TLS certificate must carry: the host pods
// reach it by (spec.trustee.url, else the Route's) and the in-cluster
// service.
func TLSHosts(p *spec.Pattern) []string {
	ns := p.Spec.Trustee.Namespace
	hosts := []string{"kbs-service." + ns + ".svc", "kbs-service." + ns + ".svc.cluster.local"}
	if u, err := url.Parse(p.KBSURL()); err == nil && u.Hostname() != "" && !slices.Contains(hosts, u.Hostname()) {
		hosts = append([]string{u.Hostname()}, hosts...)
	}
	if h := p.KBSRouteHost(); h != "" && !slices.Contains(hosts, h) {
		hosts = append(hosts, h)
	}
	return hosts
}

// tlsMaterial makes a CA and the KBS certificate it signs (ECDSA P-256):
// pods pin the CA, the KBS serves the certificate with the CA in its
// chain. A CA, rather than a self-signed server certificate, is what
// every TLS stack in the guest accepts as a trust anchor.
func tlsMaterial(p *spec.Pattern, opts Options) (caPEM, chainPEM, keyPEM []byte, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), opts.Rand)
	if err != nil {
		return nil, nil, nil, err
	}
	ca := &x509.Certificate{
		Subject:               pkix.Name{CommonName: p.Metadata.Name + " KBS CA", Organization: []string{"cocogen"}},
		NotBefore:             opts.Now.Add(-time.Hour),
		NotAfter:              opts.Now.Add(opts.Validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := sign(ca, ca, caKey.Public(), caKey, opts.Rand)
	if err != nil {
		return nil, nil, nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), opts.Rand)
	if err != nil {
		return nil, nil, nil, err
	}
	hosts := TLSHosts(p)
	leaf := &x509.Certificate{
		Subject:     pkix.Name{CommonName: hosts[0]},
		DNSNames:    hosts,
		NotBefore:   opts.Now.Add(-time.Hour),
		NotAfter:    opts.Now.Add(opts.Validity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := sign(leaf, caCert, key.Public(), caKey, opts.Rand)
	if err != nil {
		return nil, nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	chainPEM = append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), caPEM...)
	return caPEM, chainPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// tokenSigner makes the attestation service's token signing key: EC P-256
// (trustee attestation-service/src/ear_token/broker.rs reads it with
// EcKey::private_key_from_pem and, at v0.21.0, refuses other curves) and a
// self-signed certificate for it, which the KBS trusts
// (attestation_token.trusted_certs_paths) and tokens carry (x5c).
func tokenSigner(opts Options) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), opts.Rand)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "KBS attestation token signer", Organization: []string{"cocogen"}},
		NotBefore:             opts.Now.Add(-time.Hour),
		NotAfter:              opts.Now.Add(opts.Validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := sign(tmpl, tmpl, key.Public(), key, opts.Rand)
	if err != nil {
		return nil, nil, err
	}
	sec1, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), nil
}

// sign gives tmpl a random serial number and signs it.
func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer, r io.Reader) ([]byte, error) {
	serial, err := rand.Int(r, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	return x509.CreateCertificate(r, tmpl, parent, pub, signer)
}
