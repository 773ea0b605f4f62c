// Package e2e runs cocogen's config-management plugin in the real
// argocd-cmp-server of argo-cd v2.14.21, driven by argo-cd's own client
// code as the repo server drives it (cmpserver/apiclient and
// util/cmp.SendRepoStream), with the repository's plugin.yaml.
package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/cmpserver/apiclient"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v2/util/cmp"
	"sigs.k8s.io/yaml"
)

// repoRoot is cocogen's repository, two levels up.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func build(t *testing.T, dir, pkg, out string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

// server starts argocd-cmp-server with plugin.yaml and cocogen on its
// PATH, and returns the plugin's socket. The server ignores SIGTERM; it is
// stopped with SIGKILL.
func server(t *testing.T, bin string) string {
	t.Helper()
	tmp := t.TempDir()
	for _, d := range []string{"config", "plugins", "work"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	plugin, err := os.ReadFile(filepath.Join(repoRoot(t), "plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "config", "plugin.yaml"), plugin, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := filepath.Join(bin, "argocd-cmp-server")
	build(t, ".", "./cmd/cmp-server", srv)
	cmd := exec.Command(srv, "--config-dir-path", filepath.Join(tmp, "config"), "--loglevel", "warn")
	cmd.Env = append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"ARGOCD_PLUGINSOCKFILEPATH="+filepath.Join(tmp, "plugins"),
		"ARGOCD_CMP_WORKDIR="+filepath.Join(tmp, "work"),
	)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("argocd-cmp-server log:\n%s", log.String())
		}
	})
	// With no spec.version in plugin.yaml the socket is <name>.sock: the
	// name Applications give as plugin.name.
	sock := filepath.Join(tmp, "plugins", "cocogen.sock")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			return sock
		}
		if time.Now().After(deadline) {
			t.Fatalf("no plugin socket after 30s; plugins dir: %v\n%s", ls(filepath.Join(tmp, "plugins")), log.String())
		}
	}
}

func ls(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// env is what the repo server sends for an Application on appPath with
// these plugin parameters (reposerver newEnv, getPluginEnvs).
func env(t *testing.T, appPath string, params v1alpha1.ApplicationSourcePluginParameters) []string {
	t.Helper()
	out := []string{
		"ARGOCD_APP_NAME=coco", "ARGOCD_APP_NAMESPACE=openshift-gitops", "ARGOCD_APP_REVISION=0123456",
		"ARGOCD_APP_SOURCE_REPO_URL=https://github.com/example/coco-pattern.git", "ARGOCD_APP_SOURCE_PATH=" + appPath,
		"ARGOCD_APP_SOURCE_TARGET_REVISION=main", "KUBE_VERSION=1.32.0", "KUBE_API_VERSIONS=v1,apps/v1",
	}
	pe, err := params.Environ()
	if err != nil {
		t.Fatal(err)
	}
	return append(out, pe...)
}

func str(s string) *string { return &s }

// TestRealCMPServer: the real server discovers each fixture's pattern
// through plugin.yaml, generates every cluster group's objects (the same
// ones `cocogen render --only <group>` writes) from a repository streamed
// without .git, and returns an error for a broken spec.
func TestRealCMPServer(t *testing.T) {
	root := repoRoot(t)
	bin := t.TempDir()
	build(t, root, "./cmd/cocogen", filepath.Join(bin, "cocogen"))
	sock := server(t, bin)
	closer, client, err := apiclient.NewConfigManagementPluginClientSet(sock).NewConfigManagementPluginClient()
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()

	// The repository as the repo server streams it: what the patterns
	// need, .git excluded.
	repo := t.TempDir()
	for _, d := range []string{"apps", "fixtures"} {
		if err := os.CopyFS(filepath.Join(repo, d), os.DirFS(filepath.Join(root, d))); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	generate := func(appPath string, params v1alpha1.ApplicationSourcePluginParameters) ([]string, error) {
		stream, err := client.GenerateManifest(ctx)
		if err != nil {
			return nil, err
		}
		if err := cmp.SendRepoStream(ctx, filepath.Join(repo, appPath), repo, stream, env(t, appPath, params), []string{".git"}); err != nil {
			return nil, err
		}
		resp, err := stream.CloseAndRecv()
		if err != nil {
			return nil, err
		}
		return resp.Manifests, nil
	}

	fixtures, _ := filepath.Glob(filepath.Join(root, "fixtures", "*", "pattern.*"))
	if len(fixtures) < 4 {
		t.Fatalf("found %d fixtures", len(fixtures))
	}
	for _, pattern := range fixtures {
		dir := filepath.Dir(pattern)
		appPath := filepath.ToSlash(strings.TrimPrefix(dir, root+string(filepath.Separator)))
		t.Run(filepath.Base(dir), func(t *testing.T) {
			stream, err := client.MatchRepository(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := cmp.SendRepoStream(ctx, filepath.Join(repo, appPath), repo, stream, env(t, appPath, nil), []string{".git"}); err != nil {
				t.Fatal(err)
			}
			match, err := stream.CloseAndRecv()
			if err != nil || !match.IsSupported {
				t.Fatalf("not discovered: %+v %v", match, err)
			}
			for _, group := range groups(t, filepath.Join(bin, "cocogen"), root, pattern) {
				params := v1alpha1.ApplicationSourcePluginParameters{{Name: "group", String_: str(group)}}
				if base := filepath.Base(pattern); base != "pattern.yaml" {
					params = append(params, v1alpha1.ApplicationSourcePluginParameter{Name: "pattern", String_: str(base)})
				}
				manifests, err := generate(appPath, params)
				if err != nil {
					t.Fatalf("group %s: %v", group, err)
				}
				want := rendered(t, filepath.Join(bin, "cocogen"), root, pattern, group)
				var got []string
				for _, m := range manifests {
					id := identity(t, m)
					if !strings.HasSuffix(id, "/cocogen-render-findings") {
						got = append(got, id)
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("group %s: the server generated %d objects, render --only %d", group, len(got), len(want))
				}
			}
		})
	}
	t.Run("broken spec", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(repo, "fixtures/azure-simple/pattern.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, "fixtures/azure-simple/broken.yaml"), bytes.Replace(data, []byte("clusterGroups:"), []byte("clusterGroup:"), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = generate("fixtures/azure-simple", v1alpha1.ApplicationSourcePluginParameters{{Name: "group", String_: str("simple")}, {Name: "pattern", String_: str("broken.yaml")}})
		if err == nil || !strings.Contains(err.Error(), "broken.yaml") {
			t.Errorf("want the spec error, got %v", err)
		}
	})
	t.Run("unknown group", func(t *testing.T) {
		_, err := generate("fixtures/azure-simple", v1alpha1.ApplicationSourcePluginParameters{{Name: "group", String_: str("Simple")}})
		if err == nil {
			t.Error("an unknown group generated something (an automated sync would prune the application)")
		}
	})
}

// groups are the cluster group directories of a pattern's tree, from
// `cocogen render -o`.
func groups(t *testing.T, cocogen, root, pattern string) []string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "tree")
	cmd := exec.Command(cocogen, "render", "-f", pattern, "-o", out)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("render: %v\n%s", err, b)
	}
	var names []string
	for _, e := range ls(out) {
		if e != "apps" && e != "bootstrap" && !strings.HasPrefix(e, ".") {
			names = append(names, e)
		}
	}
	return names
}

// rendered is what `cocogen render --only group` gives, as identities.
func rendered(t *testing.T, cocogen, root, pattern, group string) []string {
	t.Helper()
	cmd := exec.Command(cocogen, "render", "-f", pattern, "--only", group)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	var ids []string
	for _, doc := range strings.Split(string(out), "\n---\n") {
		if strings.TrimSpace(doc) != "" {
			ids = append(ids, identity(t, doc))
		}
	}
	slices.Sort(ids)
	return ids
}

func identity(t *testing.T, doc string) string {
	t.Helper()
	var o struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
		t.Fatal(err)
	}
	return o.APIVersion + " " + o.Kind + " " + o.Metadata.Namespace + "/" + o.Metadata.Name
}
