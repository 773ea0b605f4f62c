package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// FuzzJsonnet evaluates arbitrary Jsonnet as a pattern with the sandbox on,
// in a repository holding one library, next to a file outside it: it must
// never panic, every failure must be a located input error, and nothing of
// the outside file may appear in a result or an error.
// Run longer with: go test ./pkg/spec -run '^$' -fuzz FuzzJsonnet -fuzztime 10m
func FuzzJsonnet(f *testing.F) {
	base := f.TempDir()
	repo := filepath.Join(base, "repo")
	if err := os.MkdirAll(filepath.Join(repo, "lib"), 0o755); err != nil {
		f.Fatal(err)
	}
	const canary = "FUZZ-CANARY-OUTSIDE"
	if err := os.WriteFile(filepath.Join(base, "outside.txt"), []byte(canary), 0o644); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "lib", "names.libsonnet"), []byte("{ name: 'demo' }"), 0o644); err != nil {
		f.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "outside.txt"), filepath.Join(repo, "lib", "link.txt")); err != nil {
		f.Fatal(err)
	}
	if seed, err := os.ReadFile("../../fixtures/jsonnet-multi/pattern.jsonnet"); err == nil {
		f.Add(seed)
	}
	f.Add([]byte(`local n = import 'lib/names.libsonnet'; { apiVersion: 'cocogen.dev/v1alpha1', kind: 'Pattern', metadata: { name: n.name } }`))
	f.Add([]byte(`{ a: importstr 'lib/link.txt' }`))
	f.Add([]byte(`{ a: importstr '../outside.txt' }`))
	f.Add([]byte(`{ a: importstr '` + filepath.Join(base, "outside.txt") + `' }`))
	f.Add([]byte(`{ a: std.extVar('x') }`))
	// Small budgets: a runaway evaluation cannot be stopped, only left.
	opts := LoadOptions{RepoRoot: repo, Limits: Limits{JsonnetTimeout: 200 * time.Millisecond, JsonnetMemoryBytes: 32 << 20, JsonnetMaxStack: 100}}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		p, err := Parse("fuzz.jsonnet", data, opts)
		if err == nil {
			if p == nil {
				t.Fatal("nil pattern without error")
			}
			return
		}
		if !IsInvalid(err) {
			t.Fatalf("not an input error: %T %v", err, err)
		}
		if strings.Contains(err.Error(), canary) {
			t.Fatalf("content from outside the repository in an error: %v", err)
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, "fuzz.jsonnet") {
				t.Fatalf("problem without its file: %q", line)
			}
		}
	})
}
