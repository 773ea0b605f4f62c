package kube

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// tokenServer is an API server stand-in that accepts one bearer token at a
// time and records the tokens it was sent.
type tokenServer struct {
	*httptest.Server
	mu     sync.Mutex
	accept string
	seen   []string
}

func newTokenServer(t *testing.T, accept string) *tokenServer {
	s := &tokenServer{accept: accept}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		s.seen = append(s.seen, token)
		ok := token == s.accept
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`))
			return
		}
		_, _ = w.Write([]byte(`{"metadata":{"name":"p","uid":"u"}}`))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *tokenServer) rotate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accept = token
}

func (s *tokenServer) takeSeen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := s.seen
	s.seen = nil
	return seen
}

func (s *tokenServer) caPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
}

// clock is a settable time source for the token cache.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func writeToken(t *testing.T, path, token string) {
	t.Helper()
	// As the kubelet does: a new file renamed over the old one.
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestTokenFileRotation follows a token file through rotations: the cached
// token is used within the refresh period, the file is re-read after it,
// and a 401 with a rotated file is answered by one retry with the new
// token, while a 401 with an unchanged file is not retried.
func TestTokenFileRotation(t *testing.T) {
	srv := newTokenServer(t, "token-1")
	tokenFile := filepath.Join(t.TempDir(), "token")
	writeToken(t, tokenFile, "token-1")
	c, err := New(Config{Host: srv.URL, TokenFile: tokenFile, CAData: srv.caPEM(), TokenRefresh: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Unix(1e9, 0)}
	c.tokenFile.now = clk.Now
	if _, err := c.tokenFile.get(true); err != nil { // read at the fake time
		t.Fatal(err)
	}
	ctx := context.Background()
	get := func() error { _, err := c.getPod(ctx, "ns", "p"); return err }

	step := func(name string, wantErr bool, wantSeen ...string) {
		t.Helper()
		err := get()
		if (err != nil) != wantErr {
			t.Fatalf("%s: err = %v, want error %v", name, err, wantErr)
		}
		if seen := srv.takeSeen(); strings.Join(seen, ",") != strings.Join(wantSeen, ",") {
			t.Fatalf("%s: server saw tokens %q, want %q", name, seen, wantSeen)
		}
	}

	step("first token", false, "token-1")

	// The file changes but the server still takes the old token: within
	// the refresh period the cached one is sent.
	writeToken(t, tokenFile, "token-2")
	step("cached token", false, "token-1")

	// After the refresh period the file is read again.
	clk.advance(time.Minute)
	srv.rotate("token-2")
	step("refreshed token", false, "token-2")

	// The server moves on before the period is over: the 401 makes the
	// client read the file, find a new token and repeat the request once.
	writeToken(t, tokenFile, "token-3")
	srv.rotate("token-3")
	step("401 then rotated token", false, "token-2", "token-3")

	// A 401 with nothing new in the file is the answer.
	srv.rotate("token-4")
	step("401 and no new token", true, "token-3")
	err = get()
	if !hasCode(err, http.StatusUnauthorized) {
		t.Fatalf("want a 401 StatusError, got %v", err)
	}
	srv.takeSeen()

	// A file that cannot be read leaves the cached token in use.
	if err := os.Remove(tokenFile); err != nil {
		t.Fatal(err)
	}
	srv.rotate("token-3")
	clk.advance(time.Hour)
	step("unreadable file keeps the cached token", false, "token-3")
}

// TestNewTokenFileMissing reports an unreadable token at construction.
func TestNewTokenFileMissing(t *testing.T) {
	_, err := New(Config{Host: "https://127.0.0.1:6443", TokenFile: filepath.Join(t.TempDir(), "token")})
	if err == nil || !strings.Contains(err.Error(), "creating kube client: reading token: open ") {
		t.Fatalf("got %v", err)
	}
}

// TestErrorDecoding turns the API server's failures into StatusErrors that
// carry the code and the Status message, and quote a body that is not a
// Status only in part.
func TestErrorDecoding(t *testing.T) {
	const token = "s3cret-token-value"
	long := "<html><body>" + strings.Repeat("proxy says no ", 100) + "</body></html>"
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token || r.Header.Get("User-Agent") != DefaultUserAgent {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		switch r.URL.Path {
		case "/api/v1/namespaces/ns/pods/gone":
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"gone\" not found","reason":"NotFound","details":{"name":"gone","kind":"pods"},"code":404}`))
		case "/api/v1/namespaces/ns/pods/forbidden":
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"forbidden\" is forbidden: User \"x\" cannot get resource \"pods\"","reason":"Forbidden","code":403}`))
		case "/api/v1/namespaces/ns/pods/proxy":
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(long))
		case "/api/v1/namespaces/ns/pods/empty":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/api/v1/namespaces/ns/pods/garbage":
			_, _ = w.Write([]byte(`{not json`))
		default:
			w.WriteHeader(http.StatusTeapot)
		}
	}))
	defer srv.Close()
	c, err := New(Config{Host: srv.URL + "/", Token: token, CAData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})})
	if err != nil {
		t.Fatal(err)
	}
	for pod, want := range map[string]struct {
		text     string
		code     int
		notFound bool
	}{
		"gone":      {`GET /api/v1/namespaces/ns/pods/gone: 404 NotFound: pods "gone" not found`, 404, true},
		"forbidden": {`GET /api/v1/namespaces/ns/pods/forbidden: 403 Forbidden: pods "forbidden" is forbidden: User "x" cannot get resource "pods"`, 403, false},
		"proxy":     {"GET /api/v1/namespaces/ns/pods/proxy: 502 Bad Gateway: <html><body>" + strings.Repeat("proxy says no ", 17) + "proxy...", 502, false},
		"empty":     {"GET /api/v1/namespaces/ns/pods/empty: 503 Service Unavailable", 503, false},
		"garbage":   {"GET /api/v1/namespaces/ns/pods/garbage: decoding response: invalid character 'n' looking for beginning of object key string", 0, false},
	} {
		_, err := c.getPod(context.Background(), "ns", pod)
		if err == nil || err.Error() != want.text {
			t.Errorf("%s: got error\n%v\nwant\n%s", pod, err, want.text)
			continue
		}
		if want.code != 0 && !hasCode(err, want.code) {
			t.Errorf("%s: code is not %d", pod, want.code)
		}
		if IsNotFound(err) != want.notFound {
			t.Errorf("%s: IsNotFound = %v", pod, !want.notFound)
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("%s: error quotes the token", pod)
		}
	}

	// The methods wrap the StatusError with what they were doing.
	_, err = c.PullSecretsAuth(context.Background(), "ns", "gone")
	if want := `reading image pull secrets of pod ns/gone: GET /api/v1/namespaces/ns/pods/gone: 404 NotFound: pods "gone" not found`; err == nil || err.Error() != want || !IsNotFound(err) {
		t.Errorf("got %v, want %s", err, want)
	}

	// The deadline is the context's.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.AdvertiseCapacity(ctx, "n", 1); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("cancelled context: got %v", err)
	}
}

// TestConfigValidation reports every problem of a configuration at once.
func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "creating kube client: host is empty"},
		{Config{Host: "http://10.0.0.1"}, `creating kube client: host "http://10.0.0.1": want an https://host[:port] URL`},
		{Config{Host: "https://10.0.0.1", Token: "a", TokenFile: "b", TokenRefresh: -1},
			"creating kube client: token and token file are both set\ntoken refresh is negative"},
		{Config{Host: "https://10.0.0.1", CAData: []byte("nope")}, "creating kube client: CA data holds no PEM certificate"},
	} {
		_, err := New(tc.cfg)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%+v: got %v, want %s", tc.cfg, err, tc.want)
		}
	}
	// Empty names never reach the server (GET .../pods/ would list pods).
	c, err := New(Config{Host: "https://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreatePeerPod(context.Background(), "ns", "", "", "azure"); err == nil || err.Error() != "creating PeerPod: pod and instance ID must not be empty" {
		t.Errorf("got %v", err)
	}
}

// TestInClusterConfig reads the service environment and mounted files,
// bracketing an IPv6 service address.
func TestInClusterConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), []byte("CA"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"}
	cfg, err := inClusterConfig(func(k string) string { return env[k] }, dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://[fd00::1]:443" || cfg.TokenFile != filepath.Join(dir, "token") || string(cfg.CAData) != "CA" {
		t.Errorf("got %+v", cfg)
	}
	if _, err := inClusterConfig(func(string) string { return "" }, dir); err == nil {
		t.Error("no error outside a pod")
	}
}

// TestPeerPodName keeps names deterministic, distinct per instance and
// valid DNS subdomains at the length limit.
func TestPeerPodName(t *testing.T) {
	a, b := PeerPodName("web", "i-1"), PeerPodName("web", "i-2")
	if a != PeerPodName("web", "i-1") || a == b || !strings.HasPrefix(a, "web-resource-") {
		t.Errorf("names %q, %q", a, b)
	}
	// Cut at 233 characters, the label "a...a." loses its dot.
	long := strings.Repeat("a", 232) + ".bcdefgh"
	n := PeerPodName(long, "i-1")
	if len(n) != 252 || !strings.HasPrefix(n, strings.Repeat("a", 232)+"-resource-") {
		t.Errorf("long name %q (%d)", n, len(n))
	}
}
