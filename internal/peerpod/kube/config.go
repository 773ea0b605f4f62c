package kube

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Config says how to reach and authenticate to the API server.
type Config struct {
	// Host is the API server's base URL, e.g. "https://10.96.0.1:443". It
	// must be https: every request carries a bearer token.
	Host string
	// Token is a fixed bearer token. At most one of Token and TokenFile
	// may be set; with neither, requests are anonymous.
	Token string
	// TokenFile is a file holding the bearer token, re-read at most every
	// TokenRefresh and whenever the server answers 401, because projected
	// service account tokens are rotated by the kubelet while the daemon
	// runs.
	TokenFile string
	// TokenRefresh is how long a token read from TokenFile is used before
	// the file is read again; DefaultTokenRefresh when zero.
	TokenRefresh time.Duration
	// CAData is the PEM bundle the server's certificate is verified
	// against. Empty means the system roots (or TLS.RootCAs).
	CAData []byte
	// TLS is the base TLS configuration, cloned. It may not set RootCAs
	// together with CAData.
	TLS *tls.Config
	// UserAgent is sent with every request; DefaultUserAgent when empty.
	UserAgent string
}

// DefaultTokenRefresh is how often a token file is re-read. The kubelet
// rotates a projected token once 80% of its lifetime (one hour at least)
// has passed, and the old token stays valid until it expires, so a minute
// (client-go's period for in-cluster tokens) picks up a new token long
// before the old one lapses without reading the file on every request.
const DefaultTokenRefresh = time.Minute

// DefaultUserAgent names the daemon in the API server's audit log.
const DefaultUserAgent = "peerpodd"

// serviceAccountDir is where the kubelet mounts a pod's service account
// token and the cluster's CA bundle.
const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// InClusterConfig is the configuration of a pod talking to its own
// cluster: the API server from KUBERNETES_SERVICE_HOST and
// KUBERNETES_SERVICE_PORT, the pod's service account token file and the
// cluster CA the kubelet mounts.
func InClusterConfig() (Config, error) {
	return inClusterConfig(os.Getenv, serviceAccountDir)
}

func inClusterConfig(getenv func(string) string, dir string) (Config, error) {
	host, port := getenv("KUBERNETES_SERVICE_HOST"), getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return Config{}, errors.New("loading in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set (not running in a pod?)")
	}
	ca, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return Config{}, fmt.Errorf("loading in-cluster configuration: %w", err)
	}
	return Config{
		// JoinHostPort brackets an IPv6 service address.
		Host:      "https://" + net.JoinHostPort(host, port),
		TokenFile: filepath.Join(dir, "token"),
		CAData:    ca,
	}, nil
}

// validate checks the configuration, reporting every problem at once.
func (c Config) validate() error {
	var errs []error
	u, err := url.Parse(c.Host)
	switch {
	case c.Host == "":
		errs = append(errs, errors.New("host is empty"))
	case err != nil:
		errs = append(errs, fmt.Errorf("host: %w", err))
	case u.Scheme != "https" || u.Host == "":
		errs = append(errs, fmt.Errorf("host %q: want an https://host[:port] URL", c.Host))
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		errs = append(errs, fmt.Errorf("host %q: must not carry a query, fragment or user", c.Host))
	}
	if c.Token != "" && c.TokenFile != "" {
		errs = append(errs, errors.New("token and token file are both set"))
	}
	if c.TokenRefresh < 0 {
		errs = append(errs, errors.New("token refresh is negative"))
	}
	if len(c.CAData) > 0 && c.TLS != nil && c.TLS.RootCAs != nil {
		errs = append(errs, errors.New("CA data and TLS root CAs are both set"))
	}
	return errors.Join(errs...)
}

// fileToken is a bearer token read from a file and cached for a while.
type fileToken struct {
	path    string
	refresh time.Duration
	now     func() time.Time // replaced by tests

	mu    sync.Mutex
	token string
	read  time.Time
}

// get returns the token, reading the file when the cached one is older
// than the refresh period or when force is set (the server has just
// rejected the cached one).
func (f *fileToken) get(force bool) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if !force && f.token != "" && now.Sub(f.read) < f.refresh {
		return f.token, nil
	}
	b, err := os.ReadFile(f.path)
	token := strings.TrimSpace(string(b))
	if err == nil && token == "" {
		err = fmt.Errorf("token file %s is empty", f.path)
	}
	if err != nil {
		// The kubelet swaps the file atomically, so a failed read is not a
		// rotation in progress; the cached token is still the best guess
		// until it expires, and the server will say so when it does.
		if f.token != "" {
			return f.token, nil
		}
		return "", fmt.Errorf("reading token: %w", err)
	}
	f.token, f.read = token, now
	return token, nil
}
