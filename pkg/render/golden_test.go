package render_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	argo "github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/google/go-cmp/cmp"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/cocogen/cocogen/generators"
	"github.com/cocogen/cocogen/internal/golden"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/release"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/schema"
	"github.com/cocogen/cocogen/pkg/spec"
)

// variant is a golden fixture rendered for one release line.
type variant struct {
	golden.Case
	line string
}

// Name is <case>/<line>, the subtest name.
func (v variant) Name() string { return v.Case.Name + "/" + v.line }

// expected is the variant's golden tree: fixtures/<case>/expected/<line>.
func (v variant) expected() string { return filepath.Join(v.Dir, "expected", v.line) }

// variants are the golden fixtures (fixtures/<case>/ with a pattern file),
// each for every release line: a pattern renders on every line cocogen
// supports, and each line's output is reviewed in git.
func variants(t testing.TB) []variant {
	var out []variant
	for _, c := range golden.Cases(t, filepath.Join(testkit.Root(t), "fixtures", "*"), "pattern.yaml", "pattern.jsonnet") {
		for _, line := range release.Names() {
			out = append(out, variant{Case: c, line: line})
		}
	}
	return out
}

// renderVariant runs the library entry point on a fixture as the CLI does,
// with this repository as the pattern's (application paths resolve in it).
func renderVariant(t testing.TB, v variant) *render.Result {
	t.Helper()
	res, err := render.Run(context.Background(), render.Request{
		Path: v.Input, Load: spec.LoadOptions{Release: v.line}, RepoRoot: testkit.Root(t), Generators: generators.All(),
	})
	if err != nil {
		t.Fatalf("rendering %s for %s:\n%v", v.Input, v.line, err)
	}
	return res
}

// TestGolden renders every fixture for every line and compares the tree
// with its expected/<line> directory file by file; `go test ./pkg/render
// -update` (make golden) rewrites them.
func TestGolden(t *testing.T) {
	for _, v := range variants(t) {
		t.Run(v.Name(), func(t *testing.T) {
			golden.Tree(t, v.expected(), renderVariant(t, v).Set)
		})
	}
}

// TestSchemas checks every object of every fixture against its real schema:
// core kinds strictly against k8s.io/api types, custom kinds against their
// CRD's structural schema with unknown fields rejected.
func TestSchemas(t *testing.T) {
	validator := schema.Default()
	for _, v := range variants(t) {
		t.Run(v.Name(), func(t *testing.T) {
			for _, o := range renderVariant(t, v).Set.Objects {
				if err := validator.Validate(o.Content); err != nil {
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
	for _, v := range variants(t) {
		t.Run(v.Name(), func(t *testing.T) {
			roots := map[string]bool{}
			for _, o := range renderVariant(t, v).Set.Objects {
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
					sameThroughArgo(t, o, data, &app)
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
					sameThroughArgo(t, o, data, &proj)
				}
			}
			p := renderVariant(t, v).Pattern
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
	stream := func(v variant) []byte {
		var buf bytes.Buffer
		if err := manifest.WriteStream(&buf, renderVariant(t, v).Set); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	for _, v := range variants(t) {
		t.Run(v.Name(), func(t *testing.T) {
			first := stream(v)
			for i := 0; i < 3; i++ {
				if again := stream(v); !bytes.Equal(first, again) {
					t.Fatalf("render %d differs from the first:\n%s", i+2, cmp.Diff(string(first), string(again)))
				}
			}
			prev := runtime.GOMAXPROCS(1)
			single := stream(v)
			runtime.GOMAXPROCS(prev)
			if !bytes.Equal(first, single) {
				t.Fatalf("GOMAXPROCS=1 output differs from GOMAXPROCS=%d:\n%s", prev, cmp.Diff(string(first), string(single)))
			}
		})
	}
}

func ExampleRun() {
	pattern := []byte(`
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
`)
	res, err := render.Run(context.Background(), render.Request{Path: "pattern.yaml", Data: pattern, Generators: generators.All()})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range res.Set.Objects {
		fmt.Println(o.TreePath())
	}
}

// sameThroughArgo requires an object cocogen wrote from its own small
// types (internal/argoapp) to come back byte for byte when argo-cd's types
// decode and re-encode it: the two are equivalent for everything cocogen
// emits.
func sameThroughArgo(t *testing.T, o manifest.Object, data []byte, typed any) {
	t.Helper()
	back, err := manifest.FromTyped(o.Dir, typed, o.Origin)
	if err != nil {
		t.Fatal(err)
	}
	again, err := manifest.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, again) {
		t.Errorf("%s changes through argo-cd's types:\n%s", o.TreePath(), manifest.Change{Path: o.TreePath(), Kind: manifest.Modified, Old: string(data), New: string(again)}.Unified())
	}
}
