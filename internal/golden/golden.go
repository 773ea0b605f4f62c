// Package golden is the golden-file harness every package's tests share:
// finding the cases under fixtures/, comparing output with what is
// committed, and rewriting it with -update (`make golden`). Differences are
// reported as unified diffs per file, the form a reviewer reads.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/cocogen/cocogen/pkg/manifest"
)

// Update rewrites golden files from the current output instead of
// comparing; review `git diff fixtures/` afterwards.
var Update = flag.Bool("update", false, "rewrite golden files from the current output")

// Case is one directory of test input.
type Case struct {
	// Name is the directory's base name.
	Name string
	// Dir is the directory.
	Dir string
	// Input is the input file found in it.
	Input string
}

// Cases returns every directory matching glob that holds one of the input
// file names, in lexical order; it fails t when there is none, so a test
// cannot pass vacuously.
func Cases(t testing.TB, glob string, inputs ...string) []Case {
	t.Helper()
	dirs, err := filepath.Glob(glob)
	if err != nil {
		t.Fatal(err)
	}
	var cases []Case
	for _, dir := range dirs {
		for _, name := range inputs {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				cases = append(cases, Case{Name: filepath.Base(dir), Dir: dir, Input: filepath.Join(dir, name)})
			}
		}
	}
	if len(cases) == 0 {
		t.Fatalf("no golden cases match %s with %v: the test would pass vacuously", glob, inputs)
	}
	return cases
}

// Files returns the files matching glob, in lexical order; it fails t when
// there are fewer than min.
func Files(t testing.TB, glob string, min int) []string {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < min {
		t.Fatalf("want at least %d files matching %s, found %d", min, glob, len(files))
	}
	return files
}

// Tree compares the set, as `cocogen render -o` would write it, with the
// tree at dir; with -update it rewrites dir.
func Tree(t testing.TB, dir string, set *manifest.Set) {
	t.Helper()
	got, err := manifest.Tree(set)
	if err != nil {
		t.Fatal(err)
	}
	if *Update {
		// Golden trees are test data: rewritten whole, without the
		// marker WriteTree leaves for users.
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		for name, content := range got {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	want, err := manifest.ReadTree(dir)
	if err != nil {
		t.Fatalf("reading the golden tree (run `make golden` to create it): %v", err)
	}
	for _, c := range manifest.CompareTrees(want, got) {
		switch c.Kind {
		case manifest.Added:
			t.Errorf("unexpected file %s (run `make golden` if intended)", c.Path)
		case manifest.Removed:
			t.Errorf("missing file %s", c.Path)
		default:
			t.Errorf("%s differs from the golden file (run `make golden` if intended):\n%s", c.Path, c.Unified())
		}
	}
}

// File compares got with the golden file at path; with -update it rewrites
// the file.
func File(t testing.TB, path string, got []byte) {
	t.Helper()
	if *Update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the golden file (run `make golden` to create it): %v", err)
	}
	if string(want) != string(got) {
		c := manifest.Change{Path: filepath.ToSlash(path), Kind: manifest.Modified, Old: string(want), New: string(got)}
		t.Errorf("%s differs (run `make golden` if intended):\n%s", path, c.Unified())
	}
}
