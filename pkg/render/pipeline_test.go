package render_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
)

// fake is a generator for pipeline tests: it adds one ConfigMap named after
// itself and, as a finalizer, records the order finalizers ran in.
type fake struct {
	name     string
	after    []string
	finalize bool
	order    *[]string
	err      error
	noOrigin bool
	warn     string
}

func (f *fake) Name() string { return f.name }

func (f *fake) Generate(_ context.Context, in *render.Input, out *manifest.Set) error {
	if f.err != nil {
		return f.err
	}
	if f.warn != "" {
		in.Warn(f.warn, "%s looked at %s", f.name, f.warn)
	}
	o := manifest.Object{Dir: "g", Content: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": f.name, "namespace": "ns"},
	}}
	if !f.noOrigin {
		o.Origin = manifest.Origin{Spec: "spec.clusterGroups[0]"}
	}
	out.Add(o)
	return nil
}

// finalizing wraps fake as a render.Finalizer.
type finalizing struct{ *fake }

func (f finalizing) FinalizeAfter() []string { return f.after }

func (f finalizing) Finalize(_ context.Context, _ *render.Input, out *manifest.Set) error {
	*f.order = append(*f.order, f.name)
	out.Add(manifest.Object{Dir: "g", Content: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": f.name, "namespace": "ns"},
	}, Origin: manifest.Origin{Spec: "spec.clusterGroups[0]"}})
	return nil
}

const tinyPattern = `apiVersion: cocogen.dev/v1alpha1
kind: Pattern
metadata: {name: demo}
spec:
  source: {repoURL: "https://github.com/example/demo.git"}
  trustee:
    url: https://kbs.example.com
  clusterGroups:
    - name: g
      roles: [workloads]
      selector: {matchLabels: {a: b}}
      platform: {type: baremetal, baremetal: {tee: snp}}
`

func TestFinalizersRunInDeclaredOrder(t *testing.T) {
	p := testkit.Load(t, tinyPattern)
	var order []string
	a := finalizing{&fake{name: "a", after: []string{"c"}, order: &order}}
	b := finalizing{&fake{name: "b", after: []string{"a", "plain"}, order: &order}}
	c := finalizing{&fake{name: "c", order: &order}}
	plain := &fake{name: "plain"}
	set, _, err := render.Render(context.Background(), p, nil, []render.Generator{b, a, plain, c})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, ","); got != "c,a,b" {
		t.Errorf("finalizers ran %s, want c,a,b", got)
	}
	// What a finalizer adds is stamped with its name.
	for _, o := range set.Objects {
		if o.Origin.Generator != o.Name() {
			t.Errorf("%s made by %q, stamped %q", o.ID(), o.Name(), o.Origin.Generator)
		}
	}
}

func TestWiringMistakesFailBeforeWork(t *testing.T) {
	p := testkit.Load(t, tinyPattern)
	var order []string
	for name, tc := range map[string]struct {
		gens []render.Generator
		want string
	}{
		"none":      {nil, "no generators"},
		"unknown":   {[]render.Generator{finalizing{&fake{name: "a", after: []string{"zzz"}, order: &order}}}, `a finalizes after "zzz", which is not among the generators`},
		"cycle":     {[]render.Generator{finalizing{&fake{name: "a", after: []string{"b"}, order: &order}}, finalizing{&fake{name: "b", after: []string{"a"}, order: &order}}}, "cycle"},
		"duplicate": {[]render.Generator{&fake{name: "a"}, &fake{name: "a"}}, `two generators named "a"`},
		"no origin": {[]render.Generator{&fake{name: "a", noOrigin: true}}, "without the pattern field it came from"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := render.Render(context.Background(), p, nil, tc.gens)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if spec.IsInvalid(err) {
				t.Error("a wiring mistake reported as invalid input")
			}
		})
	}
	if len(order) != 0 {
		t.Errorf("finalizers ran despite wiring mistakes: %v", order)
	}
}

// TestInputErrorsOfAllGeneratorsTogether: every generator's input problems
// come back at once, located in the pattern file; an internal error names
// its generator.
func TestInputErrorsOfAllGeneratorsTogether(t *testing.T) {
	p := testkit.Load(t, tinyPattern)
	gens := []render.Generator{
		&fake{name: "a", err: &spec.FieldError{Path: "spec.clusterGroups[0].platform", Msg: "first"}},
		&fake{name: "b", err: spec.ErrorList{{Path: "spec.trustee.url", Msg: "second"}}},
	}
	_, _, err := render.Render(context.Background(), p, nil, gens)
	if !spec.IsInvalid(err) {
		t.Fatalf("err = %v, want invalid input", err)
	}
	want := "pattern.yaml:7: spec.trustee.url: second\npattern.yaml:12: spec.clusterGroups[0].platform: first"
	if err.Error() != want {
		t.Errorf("errors:\n%v\nwant:\n%s", err, want)
	}
	_, _, err = render.Render(context.Background(), p, nil, []render.Generator{&fake{name: "broken", err: errors.New("boom")}})
	if err == nil || err.Error() != "broken: boom" || spec.IsInvalid(err) {
		t.Errorf("internal error = %v", err)
	}
}

func TestFindingsAreLocatedAndSorted(t *testing.T) {
	p := testkit.Load(t, tinyPattern)
	_, findings, err := render.Render(context.Background(), p, nil, []render.Generator{
		&fake{name: "b", warn: "spec.clusterGroups[0].platform"},
		&fake{name: "a", warn: "spec.trustee.url"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range findings {
		got = append(got, f.Generator+" "+f.String())
	}
	want := []string{
		"a pattern.yaml:7: spec.trustee.url: a looked at spec.trustee.url",
		"b pattern.yaml:12: spec.clusterGroups[0].platform: b looked at spec.clusterGroups[0].platform",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := render.Run(ctx, render.Request{Path: "p.yaml", Data: []byte(tinyPattern), Generators: []render.Generator{&fake{name: "a"}}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
