package acm_test

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/golden"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
)

// TestEveryTemplateResolves renders every golden fixture and puts every
// ConfigurationPolicy of every Policy through both template passes ACM
// makes: hub templates as the propagator resolves them (against a hub
// holding the rendered hub objects), then managed-cluster templates as the
// config policy controller does (against the OpenShift-on-Azure cluster of
// fixtures/openshift-azure plus the other clouds' credentials). Policies
// run in dependency order, so what one creates (the init-data copy) is on
// the cluster for the next. A template that fails to parse or to resolve
// fails the test, whichever policy it is in.
func TestEveryTemplateResolves(t *testing.T) {
	patterns := golden.Files(t, filepath.Join(testkit.Root(t), "fixtures/*/pattern.*"), 1)
	credentials := map[string]map[string]any{
		"aws-cloud-credentials": {"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "fake"},
		"ibm-cloud-credentials": {"ibmcloud_api_key": "fake"},
	}
	resolved := 0
	for _, path := range patterns {
		name := filepath.Base(filepath.Dir(path))
		t.Run(name, func(t *testing.T) {
			p := testkit.LoadFile(t, path)
			res := testkit.Render(t, p)
			var hub cluster
			var policies []manifest.Object
			for _, o := range res.Set.Objects {
				if g := p.HubGroup(); g != nil && o.Dir == g.Dir() {
					hub = append(hub, o.Content)
				}
				if o.Kind() == "Policy" {
					policies = append(policies, o)
				}
			}
			// A policy runs after the policies it depends on.
			rank := func(o manifest.Object) int {
				deps, _ := o.Content["spec"].(map[string]any)["dependencies"].([]any)
				return len(deps)
			}
			sort.SliceStable(policies, func(i, j int) bool { return rank(policies[i]) < rank(policies[j]) })

			managed := fixtureCluster(t)
			for secret, data := range credentials {
				managed = managed.with(storedForm(map[string]any{
					"apiVersion": "v1", "kind": "Secret",
					"metadata":   map[string]any{"name": secret, "namespace": "openshift-cloud-controller-manager"},
					"stringData": data,
				}))
			}
			// When the hub also runs workloads it is its own managed
			// cluster (local-cluster): what Argo CD applied there, such as
			// the init-data ConfigMaps, is on it before any policy runs.
			if g := p.HubGroup(); g != nil && g.HasRole(spec.RoleWorkloads) {
				for _, o := range hub {
					managed = upsert(managed, o)
				}
			}
			for _, pol := range policies {
				s := pol.Content["spec"].(map[string]any)
				lookupNS := pol.Namespace()
				if opts, ok := s["hubTemplateOptions"].(map[string]any); ok && opts["serviceAccountName"] != nil {
					lookupNS = ""
				}
				for _, pt := range s["policy-templates"].([]any) {
					tmpl := pt.(map[string]any)["objectDefinition"].(map[string]any)
					replicated := propagate(t, hub, tmpl, "cluster-1", lookupNS)
					for _, ot := range evaluate(t, managed, replicated) {
						if strings.Contains(mustJSON(t, ot.ObjectDefinition), "{{") {
							t.Errorf("%s: unresolved template left in %v", pol.ID(), ot.ObjectDefinition["kind"])
						}
						managed = upsert(managed, ot.ObjectDefinition)
					}
					resolved++
				}
			}
		})
	}
	if resolved == 0 {
		t.Fatal("no ConfigurationPolicy was resolved")
	}
}

// upsert puts what a policy created on the fake managed cluster, replacing
// an object of the same identity. Only the kinds later templates look up
// (ConfigMaps, Secrets) are kept; the fake serves no others.
func upsert(c cluster, obj map[string]any) cluster {
	kind, _ := obj["kind"].(string)
	if kind != "ConfigMap" && kind != "Secret" {
		return c
	}
	id := func(o map[string]any) string {
		md, _ := o["metadata"].(map[string]any)
		return fmt.Sprint(o["kind"], "/", md["namespace"], "/", md["name"])
	}
	out := cluster{}
	for _, o := range c {
		if id(o) != id(obj) {
			out = append(out, o)
		}
	}
	if kind == "Secret" {
		obj = storedForm(obj)
	}
	return append(out, obj)
}
