package argocd_test

// The health checks run in the real consumer: Argo CD v2.14's settings
// manager reads them from argocd-cm and its Lua VM evaluates them, as the
// application controller does. On OpenShift GitOps the operator first turns
// the ArgoCD resource's resourceHealthChecks into those argocd-cm keys.

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	argov1alpha1 "github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/argoproj/argo-cd/v2/util/lua"
	"github.com/argoproj/argo-cd/v2/util/settings"
	"github.com/argoproj/gitops-engine/pkg/health"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
)

// hubPattern is a hub with ACM, Trustee and peer pods on Azure.
func hubPattern(flavour string) string {
	return testkit.Pattern{Name: "demo"}.YAML() + `  argocd: {flavour: ` + flavour + `}
  trustee: {ingressDomain: apps.hub.example.com}
  initData:
    profiles: [{name: default, policy: {profile: exec-deny}}]
  clusterGroups:
    - name: hub
      roles: [hub, workloads]
      selector: {matchLabels: {local-cluster: "true"}}
      platform: {type: azure}
      applications:
        - name: hello
          namespace: hello
          source: {path: apps/hello-openshift/confidential}
          confidential: {initData: default}
`
}

// argoCDConfigMap returns the argocd-cm a group's Argo CD ends up with: the
// rendered one on upstream Argo CD; on OpenShift GitOps, the one its
// operator builds from the ArgoCD resource (argocd-operator
// controllers/argocd/configmap.go getResourceHealthChecks, at e624ae0781b4,
// the version gitops-operator v1.16.2 pins: key
// resource.customizations.health.<group>_<kind>).
func argoCDConfigMap(t *testing.T, s *manifest.Set, flavour string) *corev1.ConfigMap {
	t.Helper()
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "argocd-cm", Namespace: "openshift-gitops", Labels: map[string]string{"app.kubernetes.io/part-of": "argocd"}},
		Data:       map[string]string{},
	}
	var found int
	for _, o := range s.Objects {
		if o.Dir != "bootstrap/hub" {
			continue
		}
		switch {
		case flavour == spec.FlavourArgoCD && o.Kind() == "ConfigMap" && o.Name() == "argocd-cm":
			found++
			for k, v := range o.Content["data"].(map[string]any) {
				cm.Data[k] = v.(string)
			}
		case flavour == spec.FlavourOpenShiftGitOps && o.Kind() == "ArgoCD":
			found++
			if o.Name() != "openshift-gitops" || o.Namespace() != "openshift-gitops" {
				t.Errorf("ArgoCD %s/%s, want the default instance openshift-gitops/openshift-gitops", o.Namespace(), o.Name())
			}
			for _, c := range o.Content["spec"].(map[string]any)["resourceHealthChecks"].([]any) {
				hc := c.(map[string]any)
				group, _ := hc["group"].(string)
				if group != "" {
					group += "_"
				}
				cm.Data["resource.customizations.health."+group+hc["kind"].(string)] = hc["check"].(string)
			}
		case o.Kind() == "ConfigMap" && o.Name() == "argocd-cm", o.Kind() == "ArgoCD":
			t.Errorf("flavour %s renders %s %s", flavour, o.Kind(), o.Name())
		}
	}
	if found != 1 {
		t.Fatalf("flavour %s: %d health check objects in bootstrap/hub, want 1", flavour, found)
	}
	return cm
}

func TestHealthChecksInArgoCD(t *testing.T) {
	cases := []struct {
		name   string
		obj    map[string]any
		status health.HealthStatusCode
	}{
		{"application healthy", object("argoproj.io/v1alpha1", "Application", map[string]any{"health": map[string]any{"status": "Healthy"}}), health.HealthStatusHealthy},
		{"application degraded", object("argoproj.io/v1alpha1", "Application", map[string]any{"health": map[string]any{"status": "Degraded", "message": "crash"}}), health.HealthStatusDegraded},
		{"application new", object("argoproj.io/v1alpha1", "Application", nil), health.HealthStatusProgressing},
		{"hub running", object("operator.open-cluster-management.io/v1", "MultiClusterHub", map[string]any{"phase": "Running"}), health.HealthStatusHealthy},
		{"hub installing", object("operator.open-cluster-management.io/v1", "MultiClusterHub", map[string]any{"phase": "Installing"}), health.HealthStatusProgressing},
		{"hub new", object("operator.open-cluster-management.io/v1", "MultiClusterHub", nil), health.HealthStatusProgressing},
		{"hub error", object("operator.open-cluster-management.io/v1", "MultiClusterHub", map[string]any{"phase": "Error"}), health.HealthStatusDegraded},
		{"kata installed", object("kataconfiguration.openshift.io/v1", "KataConfig", map[string]any{
			"conditions": []any{map[string]any{"type": "InProgress", "status": "False", "message": ""}}}), health.HealthStatusHealthy},
		{"kata installing", object("kataconfiguration.openshift.io/v1", "KataConfig", map[string]any{
			"conditions": []any{map[string]any{"type": "InProgress", "status": "True"}}}), health.HealthStatusProgressing},
		{"kata failed", object("kataconfiguration.openshift.io/v1", "KataConfig", map[string]any{
			"conditions": []any{map[string]any{"type": "InProgress", "status": "False"}},
			"kataNodes":  map[string]any{"failedToInstall": []any{"worker-1", "worker-2"}}}), health.HealthStatusDegraded},
		{"kbs ready", object("confidentialcontainers.org/v1alpha1", "KbsConfig", map[string]any{"isReady": true}), health.HealthStatusHealthy},
		{"kbs not ready", object("confidentialcontainers.org/v1alpha1", "KbsConfig", map[string]any{"isReady": false}), health.HealthStatusProgressing},
	}
	for _, flavour := range []string{spec.FlavourOpenShiftGitOps, spec.FlavourArgoCD} {
		t.Run(flavour, func(t *testing.T) {
			res := testkit.Render(t, testkit.Load(t, hubPattern(flavour)))
			cm := argoCDConfigMap(t, res.Set, flavour)
			mgr := settings.NewSettingsManager(context.Background(), fake.NewClientset(cm, argoCDSecret()), "openshift-gitops")
			overrides, err := mgr.GetResourceOverrides()
			if err != nil {
				t.Fatal(err)
			}
			for _, gk := range []string{"argoproj.io/Application", "operator.open-cluster-management.io/MultiClusterHub", "kataconfiguration.openshift.io/KataConfig", "confidentialcontainers.org/KbsConfig"} {
				if overrides[gk].HealthLua == "" {
					t.Errorf("Argo CD reads no health check for %s; it has %v", gk, slices.Sorted(maps.Keys(overrides)))
				}
			}
			for _, tc := range cases {
				got, err := lua.ResourceHealthOverrides(overrides).GetResourceHealth(&unstructured.Unstructured{Object: tc.obj})
				if err != nil {
					t.Errorf("%s: %v", tc.name, err)
					continue
				}
				if got == nil || got.Status != tc.status {
					t.Errorf("%s: health %+v, want %s", tc.name, got, tc.status)
				}
			}
		})
	}
}

func object(apiVersion, kind string, status map[string]any) map[string]any {
	o := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": map[string]any{"name": "x", "namespace": "y"}}
	if status != nil {
		o["status"] = status
	}
	return o
}

func argoCDSecret() *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "argocd-secret", Namespace: "openshift-gitops", Labels: map[string]string{"app.kubernetes.io/part-of": "argocd"}},
		Data:       map[string][]byte{"server.secretkey": []byte("test")},
	}
}

// TestOperatorInstances: the hub gets what its operators need before they
// act, each in a wave between the Subscriptions and what uses it.
func TestOperatorInstances(t *testing.T) {
	p := testkit.Load(t, hubPattern(spec.FlavourOpenShiftGitOps))
	res := testkit.Render(t, p)
	wave := func(path string) string {
		t.Helper()
		return get(find(t, res.Set, path), "metadata", "annotations", "argocd.argoproj.io/sync-wave").(string)
	}
	for path, want := range map[string]string{
		"hub/MultiClusterHub/open-cluster-management/multiclusterhub.yaml":             "-15",
		"hub/ExternalSecretsConfig/cluster.yaml":                                       "-15",
		"hub/ConfigMap/openshift-sandboxed-containers-operator/osc-feature-gates.yaml": "-5",
		"hub/KataConfig/default-kata-config.yaml":                                      "0",
		"hub/Subscription/open-cluster-management/advanced-cluster-management.yaml":    "-20",
	} {
		if got := wave(path); got != want {
			t.Errorf("%s: wave %s, want %s", path, got, want)
		}
	}
	gates := find(t, res.Set, "hub/ConfigMap/openshift-sandboxed-containers-operator/osc-feature-gates.yaml")
	if got := get(gates, "data", "confidential"); got != "true" {
		t.Errorf("feature gate confidential = %v", got)
	}
}

// TestPluginApplications: with spec.argocd.plugin the root and the
// confidential Applications render through the config-management plugin
// from the pattern's directory, with the parameters that select the same
// part of the tree; the root project may receive the plugin's findings
// ConfigMap in the Argo CD namespace.
func TestPluginApplications(t *testing.T) {
	doc := strings.Replace(hubPattern(spec.FlavourOpenShiftGitOps), "  argocd: {flavour: openshift-gitops}", "  argocd: {flavour: openshift-gitops, plugin: cocogen}", 1)
	res := testkit.Render(t, testkit.Load(t, doc))
	root := testkit.FindPath(t, res.Set, "bootstrap/hub/Application/openshift-gitops/demo-hub.yaml").Content
	src := get(root, "spec", "source").(map[string]any)
	if src["path"] != "." || get(src, "plugin", "name") != "cocogen" || src["directory"] != nil {
		t.Errorf("root source %v", src)
	}
	if params := get(src, "plugin", "parameters").([]any); len(params) != 1 || get(params[0].(map[string]any), "string") != "hub" {
		t.Errorf("root parameters %v", params)
	}
	app := testkit.FindPath(t, res.Set, "hub/Application/openshift-gitops/hello.yaml").Content
	var names []string
	for _, p := range get(app, "spec", "source", "plugin", "parameters").([]any) {
		names = append(names, p.(map[string]any)["name"].(string)+"="+p.(map[string]any)["string"].(string))
	}
	if !slices.Equal(names, []string{"group=hub", "app=hello"}) {
		t.Errorf("confidential app parameters %v", names)
	}
	// argo-cd's own types read the plugin sources back unchanged.
	for _, path := range []string{"bootstrap/hub/Application/openshift-gitops/demo-hub.yaml", "hub/Application/openshift-gitops/hello.yaml"} {
		o := testkit.FindPath(t, res.Set, path)
		data, err := manifest.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		var typed argov1alpha1.Application
		if err := sigsyaml.UnmarshalStrict(data, &typed); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		back, err := manifest.Marshal(must(manifest.FromTyped(o.Dir, &typed, o.Origin)))
		if err != nil || string(back) != string(data) {
			t.Errorf("%s changes through argo-cd's types (%v)", path, err)
		}
	}
	proj := testkit.FindPath(t, res.Set, "bootstrap/hub/AppProject/openshift-gitops/demo-hub.yaml").Content
	found := false
	for _, k := range get(proj, "spec", "namespaceResourceWhitelist").([]any) {
		found = found || (k.(map[string]any)["group"] == "" && k.(map[string]any)["kind"] == "ConfigMap")
	}
	if !found {
		t.Error("the root project refuses the plugin's findings ConfigMap")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
