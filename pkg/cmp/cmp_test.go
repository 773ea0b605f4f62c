package cmp_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	argo "github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	zglob "github.com/mattn/go-zglob"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/cocogen/cocogen/generators"
	"github.com/cocogen/cocogen/internal/golden"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/cmp"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/render"
)

// pluginConfig mirrors argo-cd v2.14.21 cmpserver/plugin.PluginConfig
// strictly, with its parameter announcements (reposerver/apiclient
// ParameterAnnouncement). argo-cd's own package cannot be linked into this
// module (its util/grpc needs an older otelgrpc); e2e/argocd-cmp starts the
// real server on plugin.yaml.
type pluginConfig struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version  string `json:"version"`
		Generate struct {
			Command []string `json:"command"`
			Args    []string `json:"args"`
		} `json:"generate"`
		Discover struct {
			FileName string `json:"fileName"`
			Find     struct {
				Command []string `json:"command"`
				Args    []string `json:"args"`
				Glob    string   `json:"glob"`
			} `json:"find"`
		} `json:"discover"`
		Parameters struct {
			Static []struct {
				Name           string            `json:"name"`
				Title          string            `json:"title"`
				Tooltip        string            `json:"tooltip"`
				Required       bool              `json:"required"`
				ItemType       string            `json:"itemType"`
				CollectionType string            `json:"collectionType"`
				String         string            `json:"string"`
				Array          []string          `json:"array"`
				Map            map[string]string `json:"map"`
			} `json:"static"`
		} `json:"parameters"`
		PreserveFileMode bool `json:"preserveFileMode"`
		ProvideGitCreds  bool `json:"provideGitCreds"`
	} `json:"spec"`
}

// TestPluginConfig holds plugin.yaml to Argo CD's rules
// (cmpserver/plugin.ValidatePluginConfig: a name, kind
// ConfigManagementPlugin, a generate command) and checks the name
// Applications use (Address: <name>.sock, or <name>-<version>.sock with a
// version) and the discovery of every fixture's pattern, with the glob
// library the server uses (mattn/go-zglob, joined to the app path).
func TestPluginConfig(t *testing.T) {
	root := testkit.Root(t)
	data, err := os.ReadFile(filepath.Join(root, "plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg pluginConfig
	if err := sigsyaml.UnmarshalStrict(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Metadata.Name == "" || cfg.Kind != "ConfigManagementPlugin" || len(cfg.Spec.Generate.Command) == 0 {
		t.Fatalf("argocd-cmp-server would refuse it: name %q kind %q generate %v", cfg.Metadata.Name, cfg.Kind, cfg.Spec.Generate.Command)
	}
	if cfg.Metadata.Name != "cocogen" || cfg.Spec.Version != "" {
		t.Errorf("the plugin registers as %s-%s: Applications naming plugin cocogen would not find it", cfg.Metadata.Name, cfg.Spec.Version)
	}
	if !slices.Equal(cfg.Spec.Generate.Command, []string{"cocogen", "cmp", "generate"}) {
		t.Errorf("generate runs %v", cfg.Spec.Generate.Command)
	}
	var names []string
	for _, p := range cfg.Spec.Parameters.Static {
		names = append(names, p.Name)
	}
	for _, want := range []string{cmp.ParamGroup, cmp.ParamApp, cmp.ParamPattern, cmp.ParamRelease, cmp.ParamExtStr, cmp.ParamTLAStr} {
		if !slices.Contains(names, want) {
			t.Errorf("parameter %s not announced (have %v)", want, names)
		}
	}
	for _, c := range golden.Cases(t, filepath.Join(root, "fixtures", "*"), "pattern.yaml", "pattern.jsonnet") {
		matches, err := zglob.Glob(filepath.Join(c.Dir, cfg.Spec.Discover.Find.Glob))
		if err != nil || len(matches) == 0 {
			t.Errorf("%s: not discovered (%v)", c.Name, err)
		}
	}
	if matches, _ := zglob.Glob(filepath.Join(root, "apps/kbs-access", cfg.Spec.Discover.Find.Glob)); len(matches) != 0 {
		t.Errorf("a directory without a pattern is discovered: %v", matches)
	}
}

// generateEnv is the environment argocd-cmp-server gives the generate
// command for an Application on path appPath with these parameters
// (reposerver newEnv, getPluginEnvs; parameters through argo-cd's own
// ApplicationSourcePluginParameters.Environ).
func generateEnv(t *testing.T, appPath string, params argo.ApplicationSourcePluginParameters) []string {
	t.Helper()
	env := []string{
		"ARGOCD_APP_NAME=coco", "ARGOCD_APP_NAMESPACE=openshift-gitops",
		"ARGOCD_APP_REVISION=0123456789abcdef0123456789abcdef01234567", "ARGOCD_APP_REVISION_SHORT=0123456", "ARGOCD_APP_REVISION_SHORT_8=01234567",
		"ARGOCD_APP_SOURCE_REPO_URL=https://github.com/example/coco-pattern.git", "ARGOCD_APP_SOURCE_PATH=" + appPath,
		"ARGOCD_APP_SOURCE_TARGET_REVISION=main", "KUBE_VERSION=1.32.0", "KUBE_API_VERSIONS=v1,apps/v1,route.openshift.io/v1",
	}
	pe, err := params.Environ()
	if err != nil {
		t.Fatal(err)
	}
	return append(append(os.Environ(), env...), pe...)
}

func str(s string) *string { return &s }

// stream is a repository as the repo server streams it to the sidecar:
// its files without .git (ARGOCD_REPO_SERVER_PLUGIN_TAR_EXCLUSIONS=.git).
func stream(t *testing.T) string {
	t.Helper()
	root := testkit.Root(t)
	dir := t.TempDir()
	for _, d := range []string{"apps", "fixtures"} {
		if err := os.CopyFS(filepath.Join(dir, d), os.DirFS(filepath.Join(root, d))); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestGenerateAsTheServerRunsIt runs the binary the way argocd-cmp-server
// runs generate (working directory = the application's path, environment
// as Argo CD builds it) for every cluster group of every fixture: stdout
// is exactly the group's directory of the tree, plus the findings
// ConfigMap. A broken spec and an unknown group exit non-zero with nothing
// on stdout.
func TestGenerateAsTheServerRunsIt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the cocogen binary")
	}
	bin := testkit.Binary(t)
	repo := stream(t)
	run := func(appPath string, params argo.ApplicationSourcePluginParameters) (int, string, string) {
		cmd := exec.Command(bin, "cmp", "generate")
		cmd.Dir = filepath.Join(repo, appPath)
		cmd.Env = generateEnv(t, appPath, params)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		_ = cmd.Run()
		return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
	}
	root := testkit.Root(t)
	for _, c := range golden.Cases(t, filepath.Join(root, "fixtures", "*"), "pattern.yaml", "pattern.jsonnet") {
		appPath := filepath.ToSlash(must(filepath.Rel(root, c.Dir)))
		full, err := render.Run(context.Background(), render.Request{Path: c.Input, Generators: generators.All()})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range full.Pattern.Spec.ClusterGroups {
			t.Run(c.Name+"/"+g.Name, func(t *testing.T) {
				params := argo.ApplicationSourcePluginParameters{{Name: "group", String_: str(g.Name)}}
				if base := filepath.Base(c.Input); base != cmp.DefaultPattern {
					params = append(params, argo.ApplicationSourcePluginParameter{Name: "pattern", String_: str(base)})
				}
				code, stdout, stderr := run(appPath, params)
				if code != 0 {
					t.Fatalf("exit %d:\n%s", code, stderr)
				}
				objs, err := manifest.ReadStream([]byte(stdout))
				if err != nil {
					t.Fatal(err)
				}
				var got, want []string
				for _, o := range objs {
					obj := manifest.Object{Content: o}
					if obj.Name() == cmp.FindingsConfigMap {
						continue
					}
					got = append(got, obj.ID())
				}
				for _, o := range full.Set.Only(g.Name).Objects {
					want = append(want, o.ID())
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("generate gave %d objects, the tree's %s directory has %d", len(got), g.Name, len(want))
				}
				if stderr != "" && !strings.Contains(stdout, cmp.FindingsConfigMap) {
					t.Error("warnings on stderr but no findings ConfigMap")
				}
			})
		}
	}
	t.Run("unknown group", func(t *testing.T) {
		code, stdout, stderr := run("fixtures/azure-simple", argo.ApplicationSourcePluginParameters{{Name: "group", String_: str("Simple")}})
		if code == 0 || stdout != "" || !strings.Contains(stderr, `--only "Simple": no such directory`) {
			t.Errorf("exit %d, %d bytes on stdout:\n%s", code, len(stdout), stderr)
		}
	})
	t.Run("no group", func(t *testing.T) {
		code, stdout, stderr := run("fixtures/azure-simple", nil)
		if code == 0 || stdout != "" || !strings.Contains(stderr, `set the plugin parameter "group"`) {
			t.Errorf("exit %d, %d bytes on stdout:\n%s", code, len(stdout), stderr)
		}
	})
	t.Run("broken spec", func(t *testing.T) {
		p := filepath.Join(repo, "fixtures/azure-simple/pattern.yaml")
		data, _ := os.ReadFile(p)
		if err := os.WriteFile(filepath.Join(repo, "fixtures/azure-simple/broken.yaml"), bytes.Replace(data, []byte("clusterGroups:"), []byte("clusterGroup:"), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := run("fixtures/azure-simple", argo.ApplicationSourcePluginParameters{{Name: "group", String_: str("simple")}, {Name: "pattern", String_: str("broken.yaml")}})
		if code == 0 || stdout != "" || !strings.Contains(stderr, "broken.yaml:") {
			t.Errorf("exit %d, %d bytes on stdout:\n%s", code, len(stdout), stderr)
		}
	})
	t.Run("confidential app", func(t *testing.T) {
		code, stdout, stderr := run("fixtures/azure-simple", argo.ApplicationSourcePluginParameters{{Name: "group", String_: str("simple")}, {Name: "app", String_: str("kbs-access")}})
		if code != 0 || !strings.Contains(stdout, "io.katacontainers.config.hypervisor.cc_init_data") {
			t.Errorf("exit %d:\n%s", code, stderr)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// BenchmarkGenerate is one whole CMP generate invocation as the server
// makes it, process start to exit, on azure-simple.
func BenchmarkGenerate(b *testing.B) {
	bin := testkit.Binary(b)
	root := testkit.Root(b)
	env := append(os.Environ(), "ARGOCD_APP_NAME=coco", "ARGOCD_APP_NAMESPACE=openshift-gitops", "ARGOCD_APP_SOURCE_PATH=fixtures/azure-simple", "PARAM_GROUP=simple")
	for b.Loop() {
		cmd := exec.Command(bin, "cmp", "generate")
		cmd.Dir = filepath.Join(root, "fixtures/azure-simple")
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
	}
}
