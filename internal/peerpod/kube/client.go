package kube

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client makes peerpodd's API calls. It is safe for concurrent use.
type Client struct {
	host      string
	http      *http.Client
	userAgent string
	token     string     // a fixed token, or
	tokenFile *fileToken // one read from a file
}

// New returns a client for cfg. With a token file, it reads the file once
// so that a missing or unreadable token is reported at start-up rather than
// on the first pod.
func New(cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("creating kube client: %w", err)
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLS != nil {
		tlsConfig = cfg.TLS.Clone()
	}
	if len(cfg.CAData) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cfg.CAData) {
			return nil, errors.New("creating kube client: CA data holds no PEM certificate")
		}
		tlsConfig.RootCAs = pool
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConfig
	// The daemon talks to one server; keep its connections for the bursts
	// of pod starts rather than the default two idle ones per host.
	transport.MaxIdleConnsPerHost = 16
	c := &Client{
		host:      strings.TrimSuffix(cfg.Host, "/"),
		http:      &http.Client{Transport: transport},
		userAgent: cfg.UserAgent,
		token:     cfg.Token,
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	if cfg.TokenFile != "" {
		refresh := cfg.TokenRefresh
		if refresh == 0 {
			refresh = DefaultTokenRefresh
		}
		c.tokenFile = &fileToken{path: cfg.TokenFile, refresh: refresh, now: time.Now}
		if _, err := c.tokenFile.get(true); err != nil {
			return nil, fmt.Errorf("creating kube client: %w", err)
		}
	}
	return c, nil
}

// StatusError is the API server's answer to a failed request: its HTTP
// status and, when the body is a metav1.Status, its reason and message.
type StatusError struct {
	// Method and Path are the request's, for the log.
	Method, Path string
	// Code is the HTTP status code.
	Code int
	// Reason is the Status's machine-readable reason ("NotFound",
	// "AlreadyExists", "Conflict"...), empty when the body was not a
	// Status.
	Reason string
	// Message is the Status's message, or the start of the body.
	Message string
}

// Error says which request failed and what the server said.
func (e *StatusError) Error() string {
	s := fmt.Sprintf("%s %s: %d", e.Method, e.Path, e.Code)
	if e.Reason != "" {
		s += " " + e.Reason
	} else if t := http.StatusText(e.Code); t != "" {
		s += " " + t
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// IsNotFound reports whether err is, or wraps, the API server's 404.
func IsNotFound(err error) bool { return hasCode(err, http.StatusNotFound) }

func hasCode(err error, code int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == code
}

func isAlreadyExists(err error) bool {
	var se *StatusError
	// 409 is also a write conflict; only the reason tells them apart.
	return errors.As(err, &se) && se.Code == http.StatusConflict && se.Reason == "AlreadyExists"
}

// status is the part of metav1.Status an error needs.
type status struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Reason  string `json:"reason"`
}

// maxBody bounds what is read of a response: the largest object the
// daemon reads is a secret (at most 1 MiB in etcd), JSON-encoded.
const maxBody = 4 << 20

// maxMessage bounds a non-Status error body quoted in an error (a proxy's
// HTML page, say).
const maxMessage = 256

// Content types of the patches the daemon sends.
const (
	jsonPatch  = "application/json-patch+json"
	mergePatch = "application/merge-patch+json"
)

// do sends one request and decodes a 2xx response's body into out (when
// not nil); any other response becomes a *StatusError. path is the
// escaped request path.
func (c *Client) do(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	resp, sent, err := c.send(ctx, method, path, contentType, body)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusUnauthorized && c.tokenFile != nil {
		// The token may have been rotated since it was cached: re-read the
		// file and, if it changed, repeat the request once with it.
		if fresh, err := c.tokenFile.get(true); err == nil && fresh != sent {
			drain(resp)
			if resp, _, err = c.send(ctx, method, path, contentType, body); err != nil {
				return err
			}
		}
	}
	defer drain(resp)
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("%s %s: reading response: %w", method, path, err)
	}
	if len(data) > maxBody {
		return fmt.Errorf("%s %s: response larger than %d bytes", method, path, maxBody)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(method, path, resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decoding response: %w", method, path, err)
	}
	return nil
}

// send makes one attempt, returning the token it sent.
func (c *Client) send(ctx context.Context, method, path, contentType string, body []byte) (*http.Response, string, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.host+path, r)
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	token := c.token
	if c.tokenFile != nil {
		if token, err = c.tokenFile.get(false); err != nil {
			return nil, "", fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error quotes the URL, which holds no credentials.
		return nil, "", err
	}
	return resp, token, nil
}

// statusError decodes an error response.
func statusError(method, path string, code int, body []byte) *StatusError {
	e := &StatusError{Method: method, Path: path, Code: code}
	var s status
	if json.Unmarshal(body, &s) == nil && s.Kind == "Status" {
		e.Reason, e.Message = s.Reason, s.Message
		return e
	}
	msg := strings.Join(strings.Fields(string(body)), " ")
	if r := []rune(msg); len(r) > maxMessage {
		msg = strings.TrimSpace(string(r[:maxMessage])) + "..."
	}
	e.Message = msg
	return e
}

// drain reads what is left of a body so that its connection is reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	_ = resp.Body.Close()
}

// required rejects empty names, which would turn a request for one object
// into one for a list (GET .../pods/ lists pods). pairs are what, value.
func required(pairs ...string) error {
	var missing []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			missing = append(missing, pairs[i])
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s must not be empty", strings.Join(missing, " and "))
	}
	return nil
}
