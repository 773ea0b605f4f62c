package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary documents to the loader: it must never panic,
// and every failure must be an input error that names the file, so the CLI
// exits 2 with a located message rather than crashing.
// Run longer with: go test ./pkg/spec -run '^$' -fuzz FuzzParse -fuzztime 60s
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../../fixtures/*/pattern.yaml")
	invalid, _ := filepath.Glob("../../fixtures/invalid/*.yaml")
	for _, path := range append(seeds, invalid...) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(minimal))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("spec: {clusterGroups: [{applications: [{source: {helm: {values: {a: [1, {b: null}]}}}}]}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data, LoadOptions{})
		if err == nil {
			if p == nil {
				t.Fatal("nil pattern without error")
			}
			return
		}
		if !IsInvalid(err) {
			t.Fatalf("not an input error: %T %v", err, err)
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, "fuzz.yaml") {
				t.Fatalf("problem without its file: %q", line)
			}
		}
	})
}
