package krmfn_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/cocogen/cocogen/generators"
	"github.com/cocogen/cocogen/internal/golden"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/krmfn"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
)

// resourceList wraps a functionConfig (and an item of the user's) the way
// kustomize hands it to a function.
func resourceList(t *testing.T, functionConfig string) string {
	t.Helper()
	return "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" +
		"  - {apiVersion: v1, kind: ConfigMap, metadata: {name: users-own, namespace: default}}\n" +
		"functionConfig:\n" + testkit.Indent(functionConfig, 2) + "\n"
}

func exampleConfig(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testkit.Root(t), "fixtures/kustomize/exec/cocogen.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestGenerates: the function appends exactly what `cocogen render --only`
// renders for the annotation's directories, keeps the user's items, and
// no object inherits the functionConfig's local-config.
func TestGenerates(t *testing.T) {
	root := testkit.Root(t)
	var out bytes.Buffer
	err := krmfn.Run(context.Background(), strings.NewReader(resourceList(t, exampleConfig(t))), &out,
		krmfn.Options{WorkDir: filepath.Join(root, "fixtures/kustomize/exec"), Generators: generators.All()})
	if err != nil {
		t.Fatal(err)
	}
	var rl struct {
		Items   []map[string]any `json:"items"`
		Results []map[string]any `json:"results"`
	}
	if err := sigsyaml.Unmarshal(out.Bytes(), &rl); err != nil {
		t.Fatal(err)
	}
	want, err := render.Run(context.Background(), render.Request{
		Path: filepath.Join(root, "fixtures/azure-simple/pattern.yaml"), Only: []string{"simple"}, Generators: generators.All(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(rl.Items); got != len(want.Set.Objects)+1 {
		t.Fatalf("%d items, want the user's one and %d rendered", got, len(want.Set.Objects))
	}
	if name := testkit.Get(rl.Items[0], "metadata", "name"); name != "users-own" {
		t.Errorf("first item %v, want the user's own", name)
	}
	for _, item := range rl.Items {
		ann, _ := testkit.Get(item, "metadata", "annotations").(map[string]any)
		for k := range ann {
			if k == "config.kubernetes.io/local-config" || k == "config.kubernetes.io/function" || k == krmfn.OnlyAnnotation {
				t.Errorf("%v carries %s", testkit.Get(item, "metadata", "name"), k)
			}
		}
	}
	// Findings of the render come back as results too.
	if len(rl.Results) == 0 {
		t.Error("the render's warnings are not in the results")
	}
}

// TestBrokenSpec: an invalid pattern fails the run with results holding
// the field path and the file, and adds nothing.
func TestBrokenSpec(t *testing.T) {
	cfg := strings.Replace(exampleConfig(t), "  clusterGroups:", "  clusterGroup:", 1)
	var out bytes.Buffer
	err := krmfn.Run(context.Background(), strings.NewReader(resourceList(t, cfg)), &out, krmfn.Options{WorkDir: testkit.Root(t), Generators: generators.All()})
	if !spec.IsInvalid(err) {
		t.Fatalf("want an input error, got %v", err)
	}
	// The results in kyaml's own types (fn/framework), strictly: the
	// function writes them without linking the framework.
	var rl struct {
		APIVersion     string            `json:"apiVersion"`
		Kind           string            `json:"kind"`
		Items          []map[string]any  `json:"items"`
		FunctionConfig map[string]any    `json:"functionConfig"`
		Results        framework.Results `json:"results"`
	}
	if err := sigsyaml.UnmarshalStrict(out.Bytes(), &rl); err != nil {
		t.Fatalf("%v in:\n%s", err, out.String())
	}
	if rl.APIVersion != "config.kubernetes.io/v1" || rl.Kind != "ResourceList" {
		t.Errorf("wrote a %s %s, want a config.kubernetes.io/v1 ResourceList", rl.APIVersion, rl.Kind)
	}
	if len(rl.Items) != 1 {
		t.Errorf("%d items after a failed render, want the user's one", len(rl.Items))
	}
	found := false
	for _, r := range rl.Results {
		if r.Severity == framework.Error && r.Field != nil && r.Field.Path == "spec.clusterGroup" && r.File != nil && r.File.Path != "" && strings.Contains(r.Message, "unknown field") {
			found = true
		}
	}
	if !found {
		t.Errorf("no error result for spec.clusterGroup in:\n%s", out.String())
	}
}

// TestKustomizeBuild builds fixtures/kustomize/exec with kustomize's own
// API, plugins and exec enabled (kustomize build --enable-alpha-plugins
// --enable-exec), running the cocogen binary as the function, and compares
// the output with fixtures/kustomize/expected.yaml.
func TestKustomizeBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the cocogen binary")
	}
	root := testkit.Root(t)
	repo := t.TempDir()
	bin := filepath.Join(repo, "bin", "cocogen")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(testkit.Binary(t), bin); err != nil {
		t.Fatal(err)
	}
	// A repository of its own: the example and the apps it deploys, with
	// the exec path pointing at the binary as the example's does.
	for _, dir := range []string{"apps", "fixtures/kustomize/exec"} {
		if err := os.CopyFS(filepath.Join(repo, dir), os.DirFS(filepath.Join(root, dir))); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := krusty.MakeDefaultOptions()
	opts.PluginConfig = types.EnabledPluginConfig(types.BploUseStaticallyLinked)
	opts.PluginConfig.HelmConfig.Enabled = false
	opts.PluginConfig.FnpLoadingOptions.EnableExec = true
	m, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), filepath.Join(repo, "fixtures/kustomize/exec"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Resources()) < 10 {
		t.Fatalf("kustomize built %d resources", len(m.Resources()))
	}
	golden.File(t, filepath.Join(root, "fixtures/kustomize/expected.yaml"), got)

	// Without --enable-exec kustomize skips the function silently: the
	// README warns about exactly this.
	opts.PluginConfig.FnpLoadingOptions.EnableExec = false
	if m, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), filepath.Join(repo, "fixtures/kustomize/exec")); err == nil && m.Size() != 0 {
		t.Errorf("without exec kustomize built %d resources", m.Size())
	}
	// The rendered objects are what render --only simple gives.
	want, err := render.Run(context.Background(), render.Request{Path: filepath.Join(root, "fixtures/azure-simple/pattern.yaml"), Only: []string{"simple"}, Generators: generators.All()})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Resources()) != len(want.Set.Objects) {
		t.Errorf("kustomize built %d objects, render --only simple %d", len(m.Resources()), len(want.Set.Objects))
	}
}
