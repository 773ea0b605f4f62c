package render_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	argo "github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/google/go-cmp/cmp"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/cocogen/cocogen/generators/all"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/schema"
	"github.com/cocogen/cocogen/pkg/spec"
)

var update = flag.Bool("update", false, "rewrite fixtures/<case>/expected from the current output")

// repoRoot is where fixtures' application paths resolve, as the CLI's
// --repo-root would for a checkout of this repository.
const repoRoot = "../.."

// goldenCase is a fixtures/<case> directory with a pattern file.
type goldenCase struct {
	name, pattern, expected string
}

func goldenCases(t testing.TB) []goldenCase {
	dirs, err := filepath.Glob(filepath.Join(repoRoot, "fixtures", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	for _, dir := range dirs {
		for _, name := range []string{"pattern.yaml", "pattern.jsonnet"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				cases = append(cases, goldenCase{
					name:     filepath.Base(dir),
					pattern:  filepath.Join(dir, name),
					expected: filepath.Join(dir, "expected"),
				})
			}
		}
	}
	if len(cases) == 0 {
		t.Fatal("no golden cases found under fixtures/: the test would pass vacuously")
	}
	return cases
}

func renderFile(t testing.TB, path string) *render.Result {
	t.Helper()
	p, err := spec.Load(path, spec.LoadOptions{})
	if err != nil {
		t.Fatalf("loading %s:\n%v", path, err)
	}
	res, err := render.Render(p, render.WithGenerators(all.Generators()...), render.WithRepo(os.DirFS(repoRoot)))
	if err != nil {
		t.Fatalf("rendering %s: %v", path, err)
	}
	return res
}

// TestGolden renders every fixture and compares the tree with its expected/
// directory file by file; `go test ./pkg/render -update` (make golden)
// rewrites them.
func TestGolden(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			res := renderFile(t, c.pattern)
			got, err := manifest.Tree(res.Set)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := manifest.WriteTree(c.expected, res.Set); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := manifest.ReadTree(c.expected)
			if err != nil {
				t.Fatalf("reading expected tree (run `make golden` to create it): %v", err)
			}
			compareTrees(t, want, got)
		})
	}
}

// compareTrees reports missing, extra and changed files, each changed file
// with its own line diff, so a reviewer sees exactly what moved.
func compareTrees(t *testing.T, want, got map[string]string) {
	t.Helper()
	paths := map[string]bool{}
	for p := range want {
		paths[p] = true
	}
	for p := range got {
		paths[p] = true
	}
	sorted := make([]string, 0, len(paths))
	for p := range paths {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	for _, p := range sorted {
		w, inWant := want[p]
		g, inGot := got[p]
		switch {
		case !inWant:
			t.Errorf("unexpected file %s (run `make golden` if intended)", p)
		case !inGot:
			t.Errorf("missing file %s", p)
		case w != g:
			t.Errorf("%s differs (-want +got):\n%s", p, cmp.Diff(strings.Split(w, "\n"), strings.Split(g, "\n")))
		}
	}
}

// TestSchemas checks every object of every fixture against its real schema:
// core kinds strictly against k8s.io/api types, custom kinds against their
// CRD's structural schema with unknown fields rejected.
func TestSchemas(t *testing.T) {
	v := schema.Default()
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			for _, o := range renderFile(t, c.pattern).Set.Objects {
				if err := v.Validate(o.Content); err != nil {
					t.Errorf("%s: %v", o.TreePath(), err)
				}
			}
		})
	}
}

// TestApplicationsRoundTrip decodes every Application and AppProject
// strictly into the argo-cd v1alpha1 types: a field those types do not know
// would be silently dropped by Argo CD.
func TestApplicationsRoundTrip(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			roots := map[string]bool{}
			for _, o := range renderFile(t, c.pattern).Set.Objects {
				data, err := manifest.Marshal(o)
				if err != nil {
					t.Fatal(err)
				}
				switch o.Kind() {
				case "Application":
					var app argo.Application
					if err := sigsyaml.UnmarshalStrict(data, &app); err != nil {
						t.Errorf("%s: %v", o.TreePath(), err)
					}
					if strings.HasPrefix(o.Dir, "bootstrap/") {
						roots[o.Dir] = true
					} else if app.Annotations["argocd.argoproj.io/sync-wave"] == "" {
						t.Errorf("%s: child application without a sync wave", o.TreePath())
					}
				case "AppProject":
					var proj argo.AppProject
					if err := sigsyaml.UnmarshalStrict(data, &proj); err != nil {
						t.Errorf("%s: %v", o.TreePath(), err)
					}
				}
			}
			p, err := spec.Load(c.pattern, spec.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range p.Spec.ClusterGroups {
				if !roots[g.BootstrapDir()] {
					t.Errorf("no root Application for cluster group %s", g.Name)
				}
			}
		})
	}
}

// TestDeterministic renders each fixture several times, with GOMAXPROCS 1
// and the default, and requires byte-identical streams.
func TestDeterministic(t *testing.T) {
	stream := func(path string) []byte {
		var buf bytes.Buffer
		if err := manifest.WriteStream(&buf, renderFile(t, path).Set); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			first := stream(c.pattern)
			for i := 0; i < 3; i++ {
				if again := stream(c.pattern); !bytes.Equal(first, again) {
					t.Fatalf("render %d differs from the first:\n%s", i+2, cmp.Diff(string(first), string(again)))
				}
			}
			prev := runtime.GOMAXPROCS(1)
			single := stream(c.pattern)
			runtime.GOMAXPROCS(prev)
			if !bytes.Equal(first, single) {
				t.Fatalf("GOMAXPROCS=1 output differs from GOMAXPROCS=%d:\n%s", prev, cmp.Diff(string(first), string(single)))
			}
		})
	}
}

func ExampleRender() {
	p, err := spec.Parse("pattern.yaml", []byte(`
apiVersion: cocogen.dev/v1alpha1
kind: Pattern
metadata: {name: demo}
spec:
  source: {repoURL: "https://github.com/example/demo.git"}
  clusterGroups:
    - name: hub
      roles: [hub]
      selector: {matchLabels: {local-cluster: "true"}}
      platform: {type: baremetal, baremetal: {tee: snp}}
      operators: []
`), spec.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := render.Render(p, render.WithGenerators(all.Generators()...))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range res.Set.Objects {
		fmt.Println(o.TreePath())
	}
}
