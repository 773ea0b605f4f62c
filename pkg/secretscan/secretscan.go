// Package secretscan recognises credentials in text: what must never be
// written to git, into annotations or into logs. It knows formats only
// (PEM private keys, URLs with a password, common token shapes); what to do
// with a match is its callers' business.
package secretscan

import (
	"regexp"
	"strings"
)

// Match is a credential found in a text.
type Match struct {
	// Reason says what it looks like, e.g. "a PEM private key".
	Reason string
	// Start and End delimit it in the text (never print the text between).
	Start, End int
}

type detector struct {
	reason string
	// hint is a literal every match contains: most values contain none,
	// and a substring search is far cheaper than the expression.
	hint func(s string) bool
	re   *regexp.Regexp
}

func contains(sub string) func(string) bool {
	return func(s string) bool { return strings.Contains(s, sub) }
}

func containsAny(subs ...string) func(string) bool {
	return func(s string) bool {
		for _, sub := range subs {
			if strings.Contains(s, sub) {
				return true
			}
		}
		return false
	}
}

// containsFold reports whether s contains the lower-case ASCII word,
// in any case.
func containsFold(word string) func(string) bool {
	return func(s string) bool {
		for i := 0; i+len(word) <= len(s); i++ {
			j := 0
			for ; j < len(word); j++ {
				c := s[i+j]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				if c != word[j] {
					break
				}
			}
			if j == len(word) {
				return true
			}
		}
		return false
	}
}

// detectors, most specific first. Each matches the credential itself, so
// that a caller can locate it without quoting it.
var detectors = []detector{
	{"a PEM private key", contains("PRIVATE KEY"), regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----`)},
	{"a URL with a password", func(s string) bool { return strings.Contains(s, "://") && strings.Contains(s, "@") },
		regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@'"]+:[^/\s@'"]+@`)},
	{"an Authorization header", containsFold("authorization"), regexp.MustCompile(`(?i)\bauthorization\s*[:=]\s*["']?(bearer|basic)\s+[A-Za-z0-9+/._~=-]{8,}`)},
	{"an AWS access key id", containsAny("AKIA", "ASIA"), regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{"a GitHub token", containsAny("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b`)},
	{"a Slack token", containsAny("xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-"), regexp.MustCompile(`\bxox[abprs]-[A-Za-z0-9-]{10,}`)},
	{"a Google API key", contains("AIza"), regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`)},
	{"a JSON Web Token", contains(".eyJ"), regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*`)},
}

// Find returns the first credential in s, if any.
func Find(s string) (Match, bool) {
	for _, d := range detectors {
		if !d.hint(s) {
			continue
		}
		if loc := d.re.FindStringIndex(s); loc != nil {
			return Match{Reason: d.reason, Start: loc[0], End: loc[1]}, true
		}
	}
	return Match{}, false
}

// Contains reports whether s holds a credential (Find, without the match).
func Contains(s string) bool {
	_, ok := Find(s)
	return ok
}
