package secretscan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// findByExpression is Find without the literal hints: every expression on
// the whole text. The hints may only save time, never change an answer.
func findByExpression(s string) (Match, bool) {
	for _, d := range detectors {
		if loc := d.re().FindStringIndex(s); loc != nil {
			return Match{Reason: d.reason, Start: loc[0], End: loc[1]}, true
		}
	}
	return Match{}, false
}

var hintSeeds = []string{
	"-----BEGIN RSA PRIVATE KEY-----\nMIIE", "https://admin:hunter2@git.example.com/x", "HTTPS://A:B@C",
	"Authorization: Bearer abcdefghijklmnop", "AUTHORIZATION=basic QWxhZGRpbjpvcGVu", "aUtHoRiZaTiOn: bearer 12345678",
	"key AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE", "ghp_" + strings.Repeat("a", 36), "github_pat_" + strings.Repeat("b", 40),
	"xoxb-1234567890-abc", "AIza" + strings.Repeat("b", 35), "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc",
	"plain", "", "@://", "a@b://c", "authorizatio", "PRIVATE KE",
}

func TestHintsNeverMiss(t *testing.T) {
	for _, s := range hintSeeds {
		got, gotOK := Find(s)
		want, wantOK := findByExpression(s)
		if got != want || gotOK != wantOK {
			t.Errorf("Find(%q) = %v, %v; the expressions alone say %v, %v", s, got, gotOK, want, wantOK)
		}
	}
}

func FuzzHints(f *testing.F) {
	for _, s := range hintSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, gotOK := Find(s)
		want, wantOK := findByExpression(s)
		if got != want || gotOK != wantOK {
			t.Fatalf("Find(%q) = %v, %v; the expressions alone say %v, %v", s, got, gotOK, want, wantOK)
		}
	})
}

// BenchmarkFind scans what a render writes: every line of the
// azure-simple tree (short values, as most are) and every whole file
// (the long init-data and policy values).
func BenchmarkFind(b *testing.B) {
	var texts []string
	root := "../../fixtures/azure-simple/expected/openshift-1.13"
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		texts = append(texts, string(data))
		texts = append(texts, strings.Split(string(data), "\n")...)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	size := 0
	for _, s := range texts {
		size += len(s)
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		for _, s := range texts {
			Find(s)
		}
	}
}
