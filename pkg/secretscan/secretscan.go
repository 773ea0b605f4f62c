// Package secretscan recognises credentials in text: what must never be
// written to git, into annotations or into logs. It knows formats only
// (PEM private keys, URLs with a password, common token shapes); what to do
// with a match is its callers' business.
package secretscan

import (
	"regexp"
	"strings"
	"sync"

	"github.com/cocogen/cocogen/internal/lazy"
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
	// anyOf are literals of which every match contains one, allOf
	// literals every match contains all of: most values contain none, and
	// looking for them is far cheaper than running the expression.
	anyOf, allOf []string
	// fold makes the literals match in any ASCII case.
	fold bool
	re   func() *regexp.Regexp
}

// detectors, most specific first. Each matches the credential itself, so
// that a caller can locate it without quoting it.
var detectors = []detector{
	{reason: "a PEM private key", anyOf: []string{"PRIVATE KEY"}, re: lazy.Regexp(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----`)},
	{reason: "a URL with a password", allOf: []string{"://", "@"}, re: lazy.Regexp(`(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@'"]+:[^/\s@'"]+@`)},
	{reason: "an Authorization header", anyOf: []string{"authorization"}, fold: true, re: lazy.Regexp(`(?i)\bauthorization\s*[:=]\s*["']?(bearer|basic)\s+[A-Za-z0-9+/._~=-]{8,}`)},
	{reason: "an AWS access key id", anyOf: []string{"AKIA", "ASIA"}, re: lazy.Regexp(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{reason: "a GitHub token", anyOf: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}, re: lazy.Regexp(`\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b`)},
	{reason: "a Slack token", anyOf: []string{"xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-"}, re: lazy.Regexp(`\bxox[abprs]-[A-Za-z0-9-]{10,}`)},
	{reason: "a Google API key", anyOf: []string{"AIza"}, re: lazy.Regexp(`\bAIza[0-9A-Za-z_-]{35}\b`)},
	{reason: "a JSON Web Token", anyOf: []string{".eyJ"}, re: lazy.Regexp(`\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*`)},
}

// literal is one hint literal with its bit in a presence mask.
type literal struct {
	text string
	fold bool
	bit  uint64
}

// hintIndex finds every detector's literals in one pass over a text: the
// literals by their first byte (both cases for folded ones), and each
// detector's literals as masks.
var hintIndex = sync.OnceValue(func() *index {
	ix := &index{}
	bits := map[string]uint64{}
	bitOf := func(text string, fold bool) uint64 {
		if b, ok := bits[text]; ok {
			return b
		}
		b := uint64(1) << len(bits)
		bits[text] = b
		first := []byte{text[0]}
		if fold {
			first = []byte{lower(text[0]), upper(text[0])}
		}
		for _, c := range first {
			ix.byFirst[c] = append(ix.byFirst[c], literal{text: text, fold: fold, bit: b})
		}
		return b
	}
	for _, d := range detectors {
		var any, all uint64
		for _, t := range d.anyOf {
			any |= bitOf(t, d.fold)
		}
		for _, t := range d.allOf {
			all |= bitOf(t, d.fold)
		}
		ix.anyOf = append(ix.anyOf, any)
		ix.allOf = append(ix.allOf, all)
	}
	return ix
})

type index struct {
	byFirst      [256][]literal
	anyOf, allOf []uint64
}

// present is the mask of the literals s contains.
func (ix *index) present(s string) uint64 {
	var mask uint64
	for i := 0; i < len(s); i++ {
		for _, l := range ix.byFirst[s[i]] {
			if len(s)-i >= len(l.text) && (s[i:i+len(l.text)] == l.text || l.fold && strings.EqualFold(s[i:i+len(l.text)], l.text)) {
				mask |= l.bit
			}
		}
	}
	return mask
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// Find returns the first credential in s, if any.
func Find(s string) (Match, bool) {
	ix := hintIndex()
	mask := ix.present(s)
	if mask == 0 {
		return Match{}, false
	}
	for i, d := range detectors {
		if ix.anyOf[i] != 0 && mask&ix.anyOf[i] == 0 || mask&ix.allOf[i] != ix.allOf[i] {
			continue
		}
		if loc := d.re().FindStringIndex(s); loc != nil {
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
