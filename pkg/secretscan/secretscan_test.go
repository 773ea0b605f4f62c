package secretscan_test

import (
	"strings"
	"testing"

	"github.com/cocogen/cocogen/pkg/secretscan"
)

func TestFind(t *testing.T) {
	for s, want := range map[string]string{
		"-----BEGIN RSA PRIVATE KEY-----\nMIIE":                     "a PEM private key",
		"-----BEGIN OPENSSH PRIVATE KEY-----":                       "a PEM private key",
		"https://admin:hunter2@git.example.com/repo.git":            "a URL with a password",
		"Authorization: Bearer abcdefghijklmnop":                    "an Authorization header",
		"key AKIAIOSFODNN7EXAMPLE here":                             "an AWS access key id",
		"ghp_" + strings.Repeat("a", 36):                            "a GitHub token",
		"xoxb-1234567890-abc":                                       "a Slack token",
		"AIza" + strings.Repeat("b", 35):                            "a Google API key",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc":      "a JSON Web Token",
		"-----BEGIN CERTIFICATE-----\nMIIB":                         "",
		"https://git.example.com/repo.git":                          "",
		"https://user@git.example.com/repo.git":                     "",
		`{{ fromSecret "openshift-cloud-controller-manager" "x" }}`: "",
		"H4sIAAAAAAAA/6pWKkktLlGyUlAqS8wpTVWqBQQAAP//":              "",
	} {
		m, ok := secretscan.Find(s)
		if got := m.Reason; got != want || ok != (want != "") {
			t.Errorf("Find(%q) = %q, %v; want %q", s, got, ok, want)
		}
		if ok && (m.Start < 0 || m.End > len(s) || m.Start >= m.End) {
			t.Errorf("Find(%q): bad span %d..%d", s, m.Start, m.End)
		}
	}
}
