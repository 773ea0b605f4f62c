package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const minimal = `apiVersion: cocogen.dev/v1alpha1
kind: Pattern
metadata:
  name: demo
spec:
  source:
    repoURL: https://github.com/example/demo.git
  clusterGroups:
    - name: hub
      roles: [hub, workloads]
      selector:
        matchLabels: {local-cluster: "true"}
      platform:
        type: azure
`

func TestDefaults(t *testing.T) {
	p, err := Parse("p.yaml", []byte(minimal), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := p.Spec.ClusterGroups[0]
	var ops []string
	for _, o := range g.Operators {
		ops = append(ops, o.Name+"@"+o.Namespace)
	}
	want := []string{
		"advanced-cluster-management@open-cluster-management",
		"trustee-operator@trustee-operator-system",
		"openshift-external-secrets-operator@external-secrets-operator",
		"sandboxed-containers-operator@openshift-sandboxed-containers-operator",
	}
	if diff := cmp.Diff(want, ops); diff != "" {
		t.Errorf("operators by role (-want +got):\n%s", diff)
	}
	if p.Spec.Source.TargetRevision != "main" || p.Spec.Source.RenderedPath != "rendered" || p.Spec.ArgoCD.Namespace != "openshift-gitops" || p.Spec.ArgoCD.Instance != "demo" {
		t.Errorf("source/argocd defaults: %+v %+v", p.Spec.Source, p.Spec.ArgoCD)
	}
	if g.KataConfig == nil || !*g.KataConfig.PeerPods || g.ConfidentialRuntimeClass(p.Line()) != "kata-remote" {
		t.Errorf("azure workloads want peer pods and kata-remote, got %+v", g.KataConfig)
	}
	if az := g.Platform.Azure; az.DefaultInstanceSize != "Standard_DC2as_v5" || len(az.InstanceSizes) != 3 || az.CloudConfig.Key != "cloud.conf" {
		t.Errorf("azure defaults: %+v", az)
	}
	if pp := g.Platform.PeerPods; *pp.LimitPerNode != 10 || pp.ProxyTimeout != "5m" || *pp.VXLANPort != 9000 || g.Platform.Azure.Credentials != nil {
		t.Errorf("peer pod defaults: %+v", pp)
	}
}

func TestExplicitEmptyOperatorsMeansNone(t *testing.T) {
	p, err := Parse("p.yaml", []byte(minimal+"      operators: []\n"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.Spec.ClusterGroups[0].Operators); n != 0 {
		t.Errorf("operators: [] gave %d operators", n)
	}
}

// TestDecodeErrors pins the decoder's messages: every problem, located.
func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name, doc string
		want      []string
	}{
		{"unknown and misspelled fields, all at once", minimal + "      platfrom: {}\n      colour: blue\n", []string{
			"p.yaml:15: spec.clusterGroups[0].platfrom: unknown field (did you mean \"platform\"?)",
			"p.yaml:16: spec.clusterGroups[0].colour: unknown field (known fields:",
		}},
		{"wrong kinds", strings.Replace(minimal, "roles: [hub, workloads]", "roles: hub", 1) + "      namespaces: {a: b}\n", []string{
			"p.yaml:10: spec.clusterGroups[0].roles: want a list, got str \"hub\"",
			"p.yaml:15: spec.clusterGroups[0].namespaces: want a list, got an object",
		}},
		{"numbers are not strings", strings.Replace(minimal, `local-cluster: "true"`, "local-cluster: true", 1), []string{
			`p.yaml:12: spec.clusterGroups[0].selector.matchLabels.local-cluster: want a string, got bool "true" (quote it if it is meant as text)`,
		}},
		{"duplicate key", minimal + "      roles: [hub]\n", []string{
			"p.yaml:15: spec.clusterGroups[0].roles: duplicate field",
		}},
		{"two documents", minimal + "---\n" + minimal, []string{
			"p.yaml:15: 2 YAML documents: a file holds exactly one Pattern",
		}},
		{"empty", "", []string{"p.yaml:1: empty document: want a Pattern"}},
		{"label keys with dots are quoted in paths", strings.Replace(minimal, `local-cluster: "true"`, `"bad key!": "x"`, 1), []string{
			`p.yaml:12: spec.clusterGroups[0].selector.matchLabels["bad key!"]: invalid label key:`,
		}},
		{"validation problems carry the line of their field", strings.Replace(minimal, "type: azure", "type: azuer", 1), []string{
			`p.yaml:14: spec.clusterGroups[0].platform.type: unknown platform "azuer" (want azure, aws, ibmcloud, baremetal)`,
		}},
		{"defaulted fields point at their parent", strings.Replace(minimal, "type: azure", "type: azure\n        azure: {defaultInstanceSize: Standard_D2s_v5}", 1), []string{
			`p.yaml:15: spec.clusterGroups[0].platform.azure.defaultInstanceSize: "Standard_D2s_v5" is not one of instanceSizes`,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(c.doc), LoadOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			if !IsInvalid(err) {
				t.Errorf("error is not marked as invalid input: %T", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(c.want) {
				t.Errorf("want %d problems, got %d:\n%s", len(c.want), len(lines), err)
			}
			for i, w := range c.want {
				if i < len(lines) && !strings.HasPrefix(lines[i], w) {
					t.Errorf("problem %d:\n got %s\nwant %s...", i, lines[i], w)
				}
			}
		})
	}
}

func TestJsonnet(t *testing.T) {
	dir := t.TempDir()
	lib := `{ group(name, region):: { name: name, roles: ['workloads'], selector: { matchLabels: { region: region } }, platform: { type: 'azure', azure: { region: region } } } }`
	if err := os.WriteFile(filepath.Join(dir, "lib.libsonnet"), []byte(lib), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `local lib = import 'lib.libsonnet';
function(region='eastus') {
  apiVersion: 'cocogen.dev/v1alpha1', kind: 'Pattern', metadata: { name: std.extVar('name') },
  spec: { source: { repoURL: 'https://github.com/example/demo.git' }, clusterGroups: [lib.group('spoke', region)] },
}`
	path := filepath.Join(dir, "p.jsonnet")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(path, LoadOptions{ExtStrs: map[string]string{"name": "from-ext"}, TLAStrs: map[string]string{"region": "westeurope"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Metadata.Name != "from-ext" || p.Spec.ClusterGroups[0].Platform.Azure.Region != "westeurope" {
		t.Errorf("ext-str/tla-str not applied: %s %s", p.Metadata.Name, p.Spec.ClusterGroups[0].Platform.Azure.Region)
	}

	// Problems in Jsonnet output are located by field path; the line of the
	// manifested JSON would mislead, so none is given.
	_, err = Load(path, LoadOptions{ExtStrs: map[string]string{"name": "Bad_Name"}})
	if err == nil || !strings.HasPrefix(err.Error(), path+": metadata.name: \"Bad_Name\"") {
		t.Errorf("want a path-located error without line, got %v", err)
	}
	// Jsonnet's own errors keep their position.
	_, err = Load(path, LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "evaluating Jsonnet") || !strings.Contains(err.Error(), "name") {
		t.Errorf("want the undefined extVar reported, got %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("no/such/pattern.yaml", LoadOptions{})
	if err == nil || !IsInvalid(err) || !strings.Contains(err.Error(), "no/such/pattern.yaml: cannot read pattern") {
		t.Errorf("got %v", err)
	}
}

func TestLevenshtein(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"platform", "platfrom", 2}, {"kitten", "sitting", 3}, {"abc", "", 3}} {
		if got := levenshtein(c.a, c.b); got != c.d {
			t.Errorf("levenshtein(%q,%q)=%d want %d", c.a, c.b, got, c.d)
		}
	}
}
