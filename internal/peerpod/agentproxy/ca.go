package agentproxy

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cocogen/cocogen/internal/atomicfile"
)

// The CA's files in its directory. The key is readable by the daemon only.
const (
	caCertFile = "ca.crt"
	caKeyFile  = "ca.key"
)

// Validity of what the CA issues. A VM's server certificate must outlive
// the VM, and peer pods can run for a long time; the daemon's own client
// certificate is issued afresh at every start.
const (
	caValidity     = 10 * 365 * 24 * time.Hour
	serverValidity = 5 * 365 * 24 * time.Hour
	clientValidity = 365 * 24 * time.Hour
)

// CA is the daemon's certificate authority for the agent channel: it
// issues each VM's forwarder a server certificate for the VM's name (sent
// in the VM's user data) and the daemon a client certificate, and each
// side trusts only this CA. It is persisted so that VMs created before a
// restart still trust the restarted daemon.
type CA struct {
	cert    *x509.Certificate
	certPEM []byte
	key     crypto.Signer

	mu     sync.Mutex
	client *tls.Certificate
}

// renewBefore is how long before it expires the daemon's client
// certificate is replaced, so a daemon that runs for years keeps reaching
// its VMs.
const renewBefore = 30 * 24 * time.Hour

// LoadOrCreateCA reads the CA from dir, or creates and persists one.
func LoadOrCreateCA(dir string) (*CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, caCertFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return createCA(dir)
	case err != nil:
		return nil, fmt.Errorf("reading the agent CA: %w", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, caKeyFile))
	if err != nil {
		return nil, fmt.Errorf("reading the agent CA key: %w", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("loading the agent CA from %s: %w", dir, err)
	}
	return newCA(pair.Leaf, certPEM, pair.PrivateKey.(crypto.Signer))
}

func createCA(dir string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating the agent CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "peerpodd agent CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("creating the agent CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	// Key first: a certificate without its key would make the next start
	// fail instead of creating a new CA.
	if err := atomicfile.Write(filepath.Join(dir, caKeyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(dir, caCertFile), certPEM, 0o600); err != nil {
		return nil, err
	}
	return newCA(cert, certPEM, key)
}

func newCA(cert *x509.Certificate, certPEM []byte, key crypto.Signer) (*CA, error) {
	if time.Now().After(cert.NotAfter) {
		return nil, fmt.Errorf("the agent CA expired on %s: remove it to create a new one (VMs created with it must be replaced)", cert.NotAfter.Format(time.DateOnly))
	}
	ca := &CA{cert: cert, certPEM: certPEM, key: key}
	if _, err := ca.clientCertificate(); err != nil {
		return nil, err
	}
	return ca, nil
}

// clientCertificate returns the daemon's client certificate, issuing a
// new one when it nears its end.
func (ca *CA) clientCertificate() (*tls.Certificate, error) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if ca.client != nil && time.Now().Add(renewBefore).Before(ca.client.Leaf.NotAfter) {
		return ca.client, nil
	}
	certPEM, keyPEM, err := ca.issue("peerpodd", clientValidity, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	ca.client = &pair
	return ca.client, nil
}

// CertPEM is the CA certificate (apf.json's tls-client-ca).
func (ca *CA) CertPEM() []byte { return ca.certPEM }

// IssueServer issues the forwarder of the VM called name its key pair.
func (ca *CA) IssueServer(name string) (certPEM, keyPEM []byte, err error) {
	return ca.issue(name, serverValidity, x509.ExtKeyUsageServerAuth)
}

func (ca *CA) issue(name string, validity time.Duration, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating a key for %s: %w", name, err)
	}
	now := time.Now()
	notAfter := now.Add(validity)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	if usage == x509.ExtKeyUsageServerAuth {
		tmpl.DNSNames = []string{name}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("issuing a certificate for %s: %w", name, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// ClientConfig is the daemon's side of the channel to the VM called name:
// its client certificate, and only a server certificate the CA issued for
// that name is accepted.
func (ca *CA) ClientConfig(name string) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return &tls.Config{
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return ca.clientCertificate() },
		RootCAs:              pool,
		ServerName:           name,
		MinVersion:           tls.VersionTLS12,
	}
}

// ServerConfig is the forwarder's side, from the PEM material of apf.json:
// it is what a pod VM's forwarder does with tls-server-cert, tls-server-key
// and tls-client-ca (the local provider uses it).
func ServerConfig(certPEM, keyPEM, clientCAPEM []byte) (*tls.Config, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("loading the forwarder key pair: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(clientCAPEM) {
		return nil, errors.New("no certificate in tls-client-ca")
	}
	return &tls.Config{
		Certificates: []tls.Certificate{pair},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return n
}
