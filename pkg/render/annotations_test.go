package render_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/cocogen/cocogen/pkg/manifest"
)

const initDataAnnotation = "io.katacontainers.config.hypervisor.cc_init_data"

// podAnnotations returns the annotations of a Pod or of a workload's pod
// template.
func podAnnotations(obj map[string]any) map[string]any {
	meta := func(m map[string]any) map[string]any {
		md, _ := m["metadata"].(map[string]any)
		ann, _ := md["annotations"].(map[string]any)
		return ann
	}
	if obj["kind"] == "Pod" {
		return meta(obj)
	}
	spec, _ := obj["spec"].(map[string]any)
	if obj["kind"] == "CronJob" {
		jt, _ := spec["jobTemplate"].(map[string]any)
		spec, _ = jt["spec"].(map[string]any)
	}
	tmpl, _ := spec["template"].(map[string]any)
	if tmpl == nil {
		return nil
	}
	return meta(tmpl)
}

func shell(t *testing.T, pipeline, stdin string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", pipeline)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v: %s", pipeline, err, stderr.String())
	}
	return string(out)
}

// TestAnnotationsDecodeWithStandardTools reads every golden tree as a
// reviewer would: each init-data annotation, put through `base64 -d |
// gunzip`, is byte for byte one of the TOML files in the same tree, and
// `sha256sum` (and `sha384sum`/`sha512sum` for the profile's algorithm) of
// it is the digest in that profile's ConfigMap.
func TestAnnotationsDecodeWithStandardTools(t *testing.T) {
	for _, tool := range []string{"sh", "base64", "gunzip", "sha256sum", "sha384sum", "sha512sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	for _, v := range variants(t) {
		t.Run(v.Name(), func(t *testing.T) {
			tree, err := manifest.ReadTree(v.expected())
			if err != nil {
				t.Fatal(err)
			}
			tomls := map[string]string{}              // document -> profile
			workloadDocs := map[string]bool{}         // a workload profile's document
			configMaps := map[string]map[string]any{} // profile -> ConfigMap data
			objects := map[string]map[string]any{}    // path -> object
			for path, content := range tree {
				if filepath.Base(filepath.Dir(path)) == "initdata" && strings.HasSuffix(path, ".toml") {
					tomls[content] = strings.TrimSuffix(filepath.Base(path), ".toml")
				}
				// A workload profile's documents: <group>/initdata/<profile>/<app>/<workload>.toml.
				if _, rest, ok := strings.Cut(path, "/initdata/"); ok && strings.Count(rest, "/") == 2 && strings.HasSuffix(path, ".toml") {
					profile, _, _ := strings.Cut(rest, "/")
					tomls[content] = profile
					workloadDocs[content] = true
				}
				if !strings.HasSuffix(path, ".yaml") {
					continue
				}
				var obj map[string]any
				if err := sigsyaml.Unmarshal([]byte(content), &obj); err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				objects[path] = obj
				if obj["kind"] == "ConfigMap" {
					md := obj["metadata"].(map[string]any)
					if name, _ := md["name"].(string); strings.HasPrefix(name, "initdata-") {
						configMaps[strings.TrimPrefix(name, "initdata-")] = obj["data"].(map[string]any)
					}
				}
			}
			annotated := 0
			for path, obj := range objects {
				ann, _ := podAnnotations(obj)[initDataAnnotation].(string)
				if ann == "" {
					continue
				}
				annotated++
				doc := shell(t, "base64 -d | gunzip", ann)
				profile, ok := tomls[doc]
				if !ok {
					t.Errorf("%s: base64 -d | gunzip gives a document that is none of the tree's initdata/*.toml files", path)
					continue
				}
				if workloadDocs[doc] {
					continue // its own document, with no ConfigMap (Trustee's reference values are checked elsewhere)
				}
				cm := configMaps[profile]
				if cm == nil {
					t.Errorf("%s: no initdata-%s ConfigMap in the tree", path, profile)
					continue
				}
				sum, _, _ := strings.Cut(shell(t, "base64 -d | gunzip | sha256sum", ann), " ")
				if sum != cm["SHA256"] {
					t.Errorf("%s: sha256sum %s, ConfigMap SHA256 %v", path, sum, cm["SHA256"])
				}
				alg := cm["ALGORITHM"].(string)
				sum, _, _ = strings.Cut(shell(t, "base64 -d | gunzip | "+alg+"sum", ann), " ")
				if sum != cm["DIGEST"] {
					t.Errorf("%s: %ssum %s, ConfigMap DIGEST %v", path, alg, sum, cm["DIGEST"])
				}
				if ann != cm["INITDATA"] {
					t.Errorf("%s: annotation differs from the ConfigMap's INITDATA", path)
				}
			}
			if annotated == 0 && len(tomls) > 0 {
				t.Error("init-data documents but no annotated workload: nothing was checked")
			}
		})
	}
}

// TestGoldenPoliciesCompile compiles every agent policy in the golden trees
// with OPA, as the agent's engine will, and requires the policy_data object
// Trustee reads to be the last statement and valid JSON.
func TestGoldenPoliciesCompile(t *testing.T) {
	n := 0
	for _, v := range variants(t) {
		tree, err := manifest.ReadTree(v.expected())
		if err != nil {
			t.Fatal(err)
		}
		for path, text := range tree {
			if !strings.HasSuffix(path, ".rego") {
				continue
			}
			n++
			if _, err := rego.New(rego.Query("data.agent_policy"), rego.Module(path, text)).PrepareForEval(context.Background()); err != nil {
				t.Errorf("%s/%s does not compile: %v", v.Name(), path, err)
			}
			i := strings.LastIndex(text, "policy_data := ")
			var data map[string]any
			if i < 0 || json.Unmarshal([]byte(text[i+len("policy_data := "):]), &data) != nil {
				t.Errorf("%s/%s: policy_data is not the last statement or not a JSON object", v.Name(), path)
			}
		}
	}
	if n == 0 {
		t.Fatal("no policies in the golden trees")
	}
}
