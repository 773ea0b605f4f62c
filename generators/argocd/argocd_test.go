package argocd_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/testkit"

	"github.com/cocogen/cocogen/generators/argocd"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
)

const pattern = `apiVersion: cocogen.dev/v1alpha1
kind: Pattern
metadata: {name: demo}
spec:
  source: {repoURL: "https://github.com/example/demo.git", targetRevision: v1}
  clusterGroups:
    - name: edge
      roles: [workloads]
      selector: {matchLabels: {env: edge}}
      platform: {type: baremetal, baremetal: {tee: snp}}
      operators:
        - name: sandboxed-containers-operator
        - name: my-operator
          namespace: shared-ops
          channel: alpha
          source: community-operators
          targetNamespaces: [a]
        - name: other-operator
          namespace: shared-ops
          channel: stable
          source: community-operators
          targetNamespaces: [a]
          syncWave: -18
      applications:
        - name: web
          namespace: web
          syncWave: 3
          syncPolicy: {manual: true, syncOptions: [CreateNamespace=false]}
          source: {path: apps/web}
        - name: chart
          namespace: chart
          project: charts
          sources:
            - {chart: nginx, repoURL: "https://charts.example.com", targetRevision: 1.2.3, helm: {valueFiles: [$vals/nginx.yaml], parameters: {b: "2", a: "1"}, values: {replicas: 2}}}
            - {repoURL: "https://github.com/example/values.git", ref: vals}
`

func renderArgo(t *testing.T) (*spec.Pattern, *manifest.Set) {
	t.Helper()
	p := testkit.Load(t, pattern)
	// Another generator's object in the group's directory: the root project
	// must grant its kind and namespace, and a Namespace must be created.
	res := testkit.RenderWith(t, p, nil, argocd.New(), extraGenerator{})
	return p, res.Set
}

type extraGenerator struct{}

func (extraGenerator) Name() string { return "extra" }
func (extraGenerator) Generate(_ context.Context, _ *render.Input, out *manifest.Set) error {
	out.Add(manifest.Object{Dir: "edge", Content: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w", "namespace": "widgets"},
	}, Origin: manifest.Origin{Spec: "spec.clusterGroups[0]"}})
	return nil
}

func find(t *testing.T, s *manifest.Set, path string) map[string]any {
	t.Helper()
	return testkit.FindPath(t, s, path).Content
}

var (
	get       = testkit.Get
	toStrings = testkit.Strings
)

func TestRootProjectGrantsExactlyWhatTheGroupHolds(t *testing.T) {
	_, s := renderArgo(t)
	proj := find(t, s, "bootstrap/edge/AppProject/openshift-gitops/demo-edge.yaml")
	var kinds []string
	for _, k := range get(proj, "spec", "namespaceResourceWhitelist").([]any) {
		gk := k.(map[string]any)
		kinds = append(kinds, gk["group"].(string)+"/"+gk["kind"].(string))
	}
	// The ConfigMap is the sandboxed containers operator's feature gates.
	want := []string{"/ConfigMap", "argoproj.io/AppProject", "argoproj.io/Application", "example.com/Widget", "operators.coreos.com/OperatorGroup", "operators.coreos.com/Subscription"}
	if !slices.Equal(kinds, want) {
		t.Errorf("namespaced kinds %v, want %v", kinds, want)
	}
	var cluster []string
	for _, k := range get(proj, "spec", "clusterResourceWhitelist").([]any) {
		cluster = append(cluster, k.(map[string]any)["kind"].(string))
	}
	if !slices.Equal(cluster, []string{"Namespace", "KataConfig"}) {
		t.Errorf("cluster kinds %v", cluster)
	}
	var dests []string
	for _, d := range get(proj, "spec", "destinations").([]any) {
		dests = append(dests, d.(map[string]any)["namespace"].(string))
	}
	if !slices.Equal(dests, []string{"openshift-gitops", "openshift-sandboxed-containers-operator", "shared-ops", "widgets"}) {
		t.Errorf("destinations %v", dests)
	}
	find(t, s, "edge/Namespace/widgets.yaml") // created for the other generator's namespace
}

func TestOperatorsShareOneOperatorGroupPerNamespace(t *testing.T) {
	_, s := renderArgo(t)
	og := find(t, s, "edge/OperatorGroup/shared-ops/shared-ops.yaml")
	if got := get(og, "spec", "targetNamespaces"); !slices.Equal(toStrings(got), []string{"a"}) {
		t.Errorf("targetNamespaces %v", got)
	}
	sub := find(t, s, "edge/Subscription/shared-ops/other-operator.yaml")
	if w := get(sub, "metadata", "annotations", "argocd.argoproj.io/sync-wave"); w != "-18" {
		t.Errorf("operator sync wave override: %v", w)
	}
	kc := find(t, s, "edge/KataConfig/default-kata-config.yaml")
	if get(kc, "spec", "enablePeerPods") != false {
		t.Error("bare metal must not enable peer pods")
	}
}

func TestChildApplications(t *testing.T) {
	_, s := renderArgo(t)
	web := find(t, s, "edge/Application/openshift-gitops/web.yaml")
	if _, automated := get(web, "spec", "syncPolicy").(map[string]any)["automated"]; automated {
		t.Error("manual sync policy rendered as automated")
	}
	if w := get(web, "metadata", "annotations", "argocd.argoproj.io/sync-wave"); w != "3" {
		t.Errorf("sync wave %v", w)
	}
	if f := get(web, "metadata", "finalizers"); !slices.Equal(toStrings(f), []string{"resources-finalizer.argocd.argoproj.io"}) {
		t.Errorf("finalizers %v", f)
	}
	chart := find(t, s, "edge/Application/openshift-gitops/chart.yaml")
	sources := get(chart, "spec", "sources").([]any)
	helm := sources[0].(map[string]any)["helm"].(map[string]any)
	params := helm["parameters"].([]any)
	if params[0].(map[string]any)["name"] != "a" || params[1].(map[string]any)["name"] != "b" {
		t.Errorf("helm parameters not sorted: %v", params)
	}
	if sources[1].(map[string]any)["ref"] != "vals" {
		t.Errorf("ref source: %v", sources[1])
	}
	proj := find(t, s, "edge/AppProject/openshift-gitops/charts.yaml")
	if repos := toStrings(get(proj, "spec", "sourceRepos")); !slices.Equal(repos, []string{"https://charts.example.com", "https://github.com/example/values.git"}) {
		t.Errorf("charts project repos %v", repos)
	}
	// Argo CD denies every cluster-scoped kind to a project without a
	// clusterResourceWhitelist.
	if wl, present := get(proj, "spec").(map[string]any)["clusterResourceWhitelist"]; present {
		t.Errorf("application project may create cluster-scoped kinds: %v", wl)
	}
	root := find(t, s, "bootstrap/edge/Application/openshift-gitops/demo-edge.yaml")
	if p := get(root, "spec", "source", "path"); p != "rendered/edge" {
		t.Errorf("root app path %v", p)
	}
}

// TestNodePreparation: on request, a bare-metal group gets Node Feature
// Discovery with a rule for its TEE (the label and key capacity the
// operator's kata-cc class selects and requests) and a MachineConfig per
// pool; otherwise none of it.
func TestNodePreparation(t *testing.T) {
	if _, s := renderArgo(t); slices.ContainsFunc(s.Objects, func(o manifest.Object) bool { return o.Kind() == "MachineConfig" || o.Kind() == "NodeFeatureRule" }) {
		t.Error("node preparation without prepareNodes")
	}
	doc := strings.Replace(pattern, "baremetal: {tee: snp}", "baremetal: {tee: snp, prepareNodes: true, machineConfigRoles: [master, worker]}", 1)
	doc = strings.Replace(doc, "        - name: sandboxed-containers-operator\n", "        - name: sandboxed-containers-operator\n        - name: nfd\n", 1)
	res := testkit.RenderWith(t, testkit.Load(t, doc), nil, argocd.New())
	rule := find(t, res.Set, "edge/NodeFeatureRule/openshift-nfd/cocogen-snp.yaml")
	r := get(rule, "spec", "rules").([]any)[0].(map[string]any)
	if get(r, "labels", "amd.feature.node.kubernetes.io/snp") != "true" || get(r, "extendedResources", "sev-snp.amd.com/esids") != "@cpu.security.sev.encrypted_state_ids" {
		t.Errorf("SNP rule %v", r)
	}
	find(t, res.Set, "edge/NodeFeatureDiscovery/openshift-nfd/nfd-instance.yaml")
	find(t, res.Set, "edge/Subscription/openshift-nfd/nfd.yaml")
	for _, role := range []string{"master", "worker"} {
		mc := find(t, res.Set, "edge/MachineConfig/99-cocogen-snp-"+role+".yaml")
		if get(mc, "metadata", "labels", "machineconfiguration.openshift.io/role") != role {
			t.Errorf("MachineConfig for %s: %v", role, get(mc, "metadata", "labels"))
		}
		if args := toStrings(get(mc, "spec", "kernelArguments")); slices.Contains(args, "kvm_intel.tdx=1") {
			t.Errorf("TDX kernel argument on an SNP host: %v", args)
		}
	}
}
