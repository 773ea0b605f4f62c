package acm_test

// Test support: the template resolver ACM itself uses
// (stolostron/go-template-utils), driven the way the policy controllers
// drive it, against fake clusters holding real objects.

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stolostron/go-template-utils/v6/pkg/templates"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	discoveryfake "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/cocogen/cocogen/pkg/manifest"
)

// Cluster fixtures: what an OpenShift cluster on each cloud exposes (see
// each README for the ids expected from it).
const (
	azureCluster    = "openshift-azure"
	awsCluster      = "openshift-aws"
	ibmCloudCluster = "openshift-ibmcloud"
)

// resources are the API resources the fake clusters serve.
var resources = []*metav1.APIResourceList{
	{GroupVersion: "v1", APIResources: []metav1.APIResource{
		{Name: "configmaps", Namespaced: true, Kind: "ConfigMap", Verbs: []string{"get", "list", "watch"}},
		{Name: "secrets", Namespaced: true, Kind: "Secret", Verbs: []string{"get", "list", "watch"}},
		{Name: "nodes", Namespaced: false, Kind: "Node", Verbs: []string{"get", "list", "watch"}},
	}},
	{GroupVersion: "config.openshift.io/v1", APIResources: []metav1.APIResource{
		{Name: "infrastructures", Namespaced: false, Kind: "Infrastructure", Verbs: []string{"get", "list", "watch"}},
	}},
	{GroupVersion: "machine.openshift.io/v1beta1", APIResources: []metav1.APIResource{
		{Name: "machinesets", Namespaced: true, Kind: "MachineSet", Verbs: []string{"get", "list", "watch"}},
	}},
}

var listKinds = map[schema.GroupVersionResource]string{
	{Version: "v1", Resource: "configmaps"}:                                      "ConfigMapList",
	{Version: "v1", Resource: "nodes"}:                                           "NodeList",
	{Group: "machine.openshift.io", Version: "v1beta1", Resource: "machinesets"}: "MachineSetList",
	{Version: "v1", Resource: "secrets"}:                                         "SecretList",
	{Group: "config.openshift.io", Version: "v1", Resource: "infrastructures"}:   "InfrastructureList",
}

// cluster is a fake API server's content.
type cluster []map[string]any

// fixtureCluster loads the Azure cluster fixture.
func fixtureCluster(t *testing.T) cluster { return loadCluster(t, azureCluster) }

// loadCluster loads fixtures/<name> as the API server would store it
// (Secret stringData folded into base64 data).
func loadCluster(t *testing.T, name string) cluster {
	t.Helper()
	dir := filepath.Join("../../fixtures", name)
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s: %v", dir, err)
	}
	var c cluster
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := manifest.ReadStream(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, obj := range objs {
			c = append(c, storedForm(obj))
		}
	}
	return c
}

func storedForm(obj map[string]any) map[string]any {
	sd, ok := obj["stringData"].(map[string]any)
	if !ok {
		return obj
	}
	data, _ := obj["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	for k, v := range sd {
		data[k] = base64.StdEncoding.EncodeToString([]byte(v.(string)))
	}
	obj["data"] = data
	delete(obj, "stringData")
	return obj
}

func configMap(ns, name string, data map[string]string) map[string]any {
	d := map[string]any{}
	for k, v := range data {
		d[k] = v
	}
	return map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"data":     d,
	}
}

func (c cluster) with(objs ...map[string]any) cluster {
	return append(append(cluster(nil), c...), objs...)
}

// resolver returns a non-caching resolver over the cluster, as
// templates.NewResolver builds it from a kubeconfig, with the given
// delimiters ("" for the managed cluster's {{ }}).
func (c cluster) resolver(t *testing.T, start, stop string) *templates.TemplateResolver {
	t.Helper()
	var objs []runtime.Object
	for _, o := range c {
		objs = append(objs, &unstructured.Unstructured{Object: deepCopy(t, o)})
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, objs...)
	disc := &discoveryfake.FakeDiscovery{Fake: &clienttesting.Fake{Resources: resources}}
	r, err := templates.NewResolverWithClients(dyn, disc, templates.Config{StartDelim: start, StopDelim: stop})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// hubContext is what the governance policy propagator passes to hub
// templates.
type hubContext struct {
	ManagedClusterName   string
	ManagedClusterLabels map[string]string
	PolicyMetadata       map[string]any
}

// propagate resolves the hub templates of a policy template (the whole
// objectDefinition, as the propagator does when it replicates a policy to
// a managed cluster) and returns the replicated objectDefinition.
// lookupNamespace is the root policy's namespace unless the policy names a
// hub template service account ("").
func propagate(t *testing.T, hub cluster, tmpl map[string]any, clusterName, lookupNamespace string) map[string]any {
	t.Helper()
	raw, err := json.Marshal(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if !templates.HasTemplate(raw, "{{hub", false) {
		return tmpl
	}
	r := hub.resolver(t, "{{hub", "hub}}")
	res, err := r.ResolveTemplate(raw, hubContext{
		ManagedClusterName:   clusterName,
		ManagedClusterLabels: map[string]string{"name": clusterName},
	}, &templates.ResolveOptions{LookupNamespace: lookupNamespace})
	if err != nil {
		t.Fatalf("resolving hub templates for %s: %v", clusterName, err)
	}
	var out map[string]any
	if err := json.Unmarshal(res.ResolvedJSON, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// objectTemplate is one resolved object-templates entry.
type objectTemplate struct {
	ComplianceType   string         `json:"complianceType"`
	RecordDiff       string         `json:"recordDiff,omitempty"`
	ObjectDefinition map[string]any `json:"objectDefinition"`
}

// evaluate resolves a ConfigurationPolicy's templates on a managed cluster
// the way the config policy controller does: object-templates-raw as one
// YAML template producing the list, object-templates one JSON object
// definition at a time, no context.
func evaluate(t *testing.T, c cluster, cp map[string]any) []objectTemplate {
	t.Helper()
	spec := cp["spec"].(map[string]any)
	r := c.resolver(t, "", "")
	if raw, ok := spec["object-templates-raw"].(string); ok {
		if strings.Contains(raw, "{{hub") {
			t.Fatalf("hub template left in managed-cluster template:\n%s", raw)
		}
		res, err := r.ResolveTemplate([]byte(raw), nil, &templates.ResolveOptions{InputIsYAML: true})
		if err != nil {
			t.Fatalf("resolving object-templates-raw: %v\n%s", err, raw)
		}
		var out []objectTemplate
		if err := json.Unmarshal(res.ResolvedJSON, &out); err != nil {
			t.Fatalf("resolved object-templates-raw is not a list of object templates: %v\n%s", err, res.ResolvedJSON)
		}
		return out
	}
	var out []objectTemplate
	for _, ot := range spec["object-templates"].([]any) {
		raw, err := json.Marshal(ot)
		if err != nil {
			t.Fatal(err)
		}
		var o objectTemplate
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		def, _ := json.Marshal(o.ObjectDefinition)
		if templates.HasTemplate(def, "", true) {
			res, err := r.ResolveTemplate(def, nil, &templates.ResolveOptions{})
			if err != nil {
				t.Fatalf("resolving object template: %v\n%s", err, def)
			}
			o.ObjectDefinition = nil
			if err := json.Unmarshal(res.ResolvedJSON, &o.ObjectDefinition); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, o)
	}
	return out
}

func deepCopy(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func stringMap(t *testing.T, v any) map[string]string {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("want a string map, got %T", v)
	}
	out := map[string]string{}
	for k, x := range m {
		s, ok := x.(string)
		if !ok {
			t.Fatalf("key %s: want a string, got %T (%v)", k, x, x)
		}
		out[k] = s
	}
	return out
}
