// Package testkit is the test support every package's tests share: one
// pattern builder and loader, the render wiring, and helpers to find and
// read objects. It is imported only from _test.go files.
package testkit

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/generators"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
)

// Pattern builds a pattern document: the header (apiVersion, kind,
// metadata.name, spec.source) and the rest of spec as YAML.
type Pattern struct {
	// Name is metadata.name; default "demo".
	Name string
	// RepoURL is spec.source.repoURL; default
	// https://github.com/example/<Name>.git.
	RepoURL string
	// Source holds further spec.source fields as YAML (e.g.
	// "targetRevision: v1").
	Source string
	// Spec is the rest of spec as YAML, written at any indentation (the
	// common indentation is removed).
	Spec string
}

// YAML is the pattern document.
func (p Pattern) YAML() string {
	name := p.Name
	if name == "" {
		name = "demo"
	}
	repo := p.RepoURL
	if repo == "" {
		repo = "https://github.com/example/" + name + ".git"
	}
	var b strings.Builder
	b.WriteString("apiVersion: cocogen.dev/v1alpha1\nkind: Pattern\nmetadata:\n  name: " + name + "\nspec:\n  source:\n    repoURL: " + repo + "\n")
	if p.Source != "" {
		b.WriteString(Indent(Dedent(p.Source), 4) + "\n")
	}
	if p.Spec != "" {
		b.WriteString(Indent(Dedent(p.Spec), 2) + "\n")
	}
	return b.String()
}

// Load parses the document as pattern.yaml and fails t on any problem.
func (p Pattern) Load(t testing.TB) *spec.Pattern {
	t.Helper()
	return Load(t, p.YAML())
}

// Load parses a pattern document (as pattern.yaml) and fails t on any
// problem.
func Load(t testing.TB, doc string) *spec.Pattern {
	t.Helper()
	p, err := spec.Parse("pattern.yaml", []byte(doc), spec.LoadOptions{})
	if err != nil {
		t.Fatalf("pattern:\n%v\n---\n%s", err, doc)
	}
	return p
}

// LoadFile loads a pattern file and fails t on any problem.
func LoadFile(t testing.TB, path string) *spec.Pattern {
	t.Helper()
	p, err := spec.Load(path, spec.LoadOptions{})
	if err != nil {
		t.Fatalf("loading %s:\n%v", path, err)
	}
	return p
}

// Indent prefixes every line of s with n spaces.
func Indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pad + l
		}
	}
	return strings.Join(lines, "\n")
}

// Dedent removes the indentation every non-empty line of s shares, and
// leading blank lines.
func Dedent(s string) string {
	lines := strings.Split(strings.TrimLeft(s, "\n"), "\n")
	common := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " "))
		if common < 0 || n < common {
			common = n
		}
	}
	for i, l := range lines {
		if len(l) >= common && common > 0 {
			lines[i] = l[common:]
		}
	}
	return strings.Join(lines, "\n")
}

// Root is the module root (the directory holding go.mod), where fixtures
// and the sample apps live.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// Repo is this repository as a pattern's repository: application paths in
// test patterns (apps/...) resolve in it.
func Repo(t testing.TB) fs.FS { return os.DirFS(Root(t)) }

// Render renders p with every generator over this repository and fails t
// on any error.
func Render(t testing.TB, p *spec.Pattern) *render.Result {
	t.Helper()
	return RenderWith(t, p, Repo(t), generators.All()...)
}

// RenderWith renders p with the given generators over repo (which may be
// nil) and fails t on any error.
func RenderWith(t testing.TB, p *spec.Pattern, repo fs.FS, gens ...render.Generator) *render.Result {
	t.Helper()
	set, findings, err := render.Render(context.Background(), p, repo, gens)
	if err != nil {
		t.Fatalf("render:\n%v", err)
	}
	return &render.Result{Pattern: p, Set: set, Findings: findings}
}

// Generate runs one generator's Generate over p alone (no finalizers, no
// merging) and returns its output and the input with its findings.
func Generate(t testing.TB, g render.Generator, p *spec.Pattern, repo fs.FS) (*manifest.Set, *render.Input, error) {
	t.Helper()
	in := render.NewInput(p, repo)
	var set manifest.Set
	err := g.Generate(context.Background(), in, &set)
	set.Sort()
	return &set, in, err
}

// HasFinding reports whether a finding's message contains sub.
func HasFinding(findings []render.Finding, sub string) bool {
	for _, f := range findings {
		if strings.Contains(f.Message, sub) {
			return true
		}
	}
	return false
}

// Find returns the object of set with the given kind, namespace ("" for
// any) and name, and fails t when there is none.
func Find(t testing.TB, set *manifest.Set, kind, namespace, name string) manifest.Object {
	t.Helper()
	for _, o := range set.Objects {
		if o.Kind() == kind && o.Name() == name && (namespace == "" || o.Namespace() == namespace) {
			return o
		}
	}
	t.Fatalf("no %s %s/%s in the output", kind, namespace, name)
	return manifest.Object{}
}

// FindPath returns the object written to path in the tree, and fails t
// when there is none.
func FindPath(t testing.TB, set *manifest.Set, path string) manifest.Object {
	t.Helper()
	for _, o := range set.Objects {
		if o.TreePath() == path {
			return o
		}
	}
	t.Fatalf("no object at %s", path)
	return manifest.Object{}
}

// Get returns the value at path in decoded object content (nil when absent).
func Get(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

// Strings converts a decoded list of strings.
func Strings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// Group is one clusterGroups entry (YAML at column 0, for Pattern.Spec
// under "clusterGroups:"): the group selects clusters labelled
// cluster=<name>; platform is the platform's flow mapping (e.g. "{type:
// azure}"); apps are Apps, or "".
func Group(name, roles, platform, apps string) string {
	s := "- name: " + name + "\n  roles: [" + roles + "]\n  selector:\n    matchLabels: {cluster: " + name + "}\n  platform: " + platform + "\n"
	if apps != "" {
		s += "  applications:\n" + Indent(apps, 4) + "\n"
	}
	return s
}

// App is one applications entry (YAML at column 0): a confidential
// application in namespace <name> using init-data profile profile, or a
// plain one when profile is "".
func App(name, path, profile string) string {
	s := "- name: " + name + "\n  namespace: " + name + "\n  source: {path: " + path + "}\n"
	if profile != "" {
		s += "  confidential: {initData: " + profile + "}\n"
	}
	return s
}
