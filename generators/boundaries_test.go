package generators_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/cocogen/cocogen/"

// imports lists the non-test imports of the Go package in dir.
func imports(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out = append(out, p)
		}
	}
	return out
}

// TestGeneratorsAreIndependent keeps each output family self-contained: what
// two families share belongs in pkg/ (or the pattern), never in another
// generator, so they can run concurrently and be read one at a time.
func TestGeneratorsAreIndependent(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "all" {
			continue
		}
		found++
		for _, imp := range imports(t, e.Name()) {
			if strings.HasPrefix(imp, module+"generators/") {
				t.Errorf("generators/%s imports %s", e.Name(), imp)
			}
			if strings.HasPrefix(imp, module+"cmd/") || imp == "github.com/spf13/cobra" {
				t.Errorf("generators/%s imports the CLI stack (%s)", e.Name(), imp)
			}
		}
	}
	if found == 0 {
		t.Fatal("no generator packages found")
	}
}

// TestLibrariesStayOffTheCLI keeps pkg/ usable from the Argo CD plugin and
// the KRM function without pulling in cobra or cmd/, and independent of
// any one generator (the pipeline knows only the interface).
func TestLibrariesStayOffTheCLI(t *testing.T) {
	dirs, err := filepath.Glob("../pkg/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		for _, imp := range imports(t, dir) {
			if strings.HasPrefix(imp, module+"cmd/") || strings.HasPrefix(imp, module+"generators/") || imp == "github.com/spf13/cobra" {
				t.Errorf("%s imports %s", dir, imp)
			}
		}
	}
}
