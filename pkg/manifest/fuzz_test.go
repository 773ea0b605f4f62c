package manifest

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadStream feeds arbitrary files to the one reader of application
// manifests (and of every YAML stream cocogen takes): never a panic, and
// what it returns are objects (maps) only.
// Run longer with: go test ./pkg/manifest -run '^$' -fuzz FuzzReadStream -fuzztime 10m
func FuzzReadStream(f *testing.F) {
	seeds, _ := filepath.Glob("../../apps/*/*.yaml")
	more, _ := filepath.Glob("../../apps/*/*/*.yaml")
	for _, path := range append(seeds, more...) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"))
	f.Add([]byte("a: &x [*x, *x]\n---\n# only a comment\n---\n[1, 2]\n"))
	f.Add([]byte(`{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := ReadStream(data)
		if err != nil {
			return
		}
		for _, o := range objs {
			if o == nil {
				t.Fatal("nil object without error")
			}
		}
	})
}
