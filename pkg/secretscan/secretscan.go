// Package secretscan recognises credentials in text: what must never be
// written to git, into annotations or into logs. It knows formats only
// (PEM private keys, URLs with a password, common token shapes); what to do
// with a match is its callers' business.
package secretscan

import "regexp"

// Match is a credential found in a text.
type Match struct {
	// Reason says what it looks like, e.g. "a PEM private key".
	Reason string
	// Start and End delimit it in the text (never print the text between).
	Start, End int
}

type detector struct {
	reason string
	re     *regexp.Regexp
}

// detectors, most specific first. Each matches the credential itself, so
// that a caller can locate it without quoting it.
var detectors = []detector{
	{"a PEM private key", regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----`)},
	{"a URL with a password", regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@'"]+:[^/\s@'"]+@`)},
	{"an Authorization header", regexp.MustCompile(`(?i)\bauthorization\s*[:=]\s*["']?(bearer|basic)\s+[A-Za-z0-9+/._~=-]{8,}`)},
	{"an AWS access key id", regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{"a GitHub token", regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b`)},
	{"a Slack token", regexp.MustCompile(`\bxox[abprs]-[A-Za-z0-9-]{10,}`)},
	{"a Google API key", regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`)},
	{"a JSON Web Token", regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*`)},
}

// Find returns the first credential in s, if any.
func Find(s string) (Match, bool) {
	for _, d := range detectors {
		if loc := d.re.FindStringIndex(s); loc != nil {
			return Match{Reason: d.reason, Start: loc[0], End: loc[1]}, true
		}
	}
	return Match{}, false
}
