package acm_test

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/generators/acm"
	"github.com/cocogen/cocogen/internal/golden"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
)

// TestEveryTemplateResolves renders every golden fixture and puts every
// ConfigurationPolicy of every Policy through both template passes ACM
// makes: hub templates as the propagator resolves them (against a hub
// holding the rendered hub objects), then managed-cluster templates as the
// config policy controller does, against the cluster fixture of the
// group's cloud (fixtures/openshift-azure, -aws, -ibmcloud). Policies run
// in dependency order, so what one creates (the init-data copy) is on the
// cluster for the next. A template that fails to parse or to resolve fails
// the test, whichever policy it is in, and every peer-pods-cm must carry
// the network ids of the cluster it was built on.
func TestEveryTemplateResolves(t *testing.T) {
	patterns := golden.Files(t, filepath.Join(testkit.Root(t), "fixtures/*/pattern.*"), 1)
	resolved := map[string]int{}
	for _, path := range patterns {
		name := filepath.Base(filepath.Dir(path))
		t.Run(name, func(t *testing.T) {
			p := testkit.LoadFile(t, path)
			res := testkit.Render(t, p)
			var hub cluster
			policies := map[string]manifest.Object{}
			for _, o := range res.Set.Objects {
				if g := p.HubGroup(); g != nil && o.Dir == g.Dir() {
					hub = append(hub, o.Content)
				}
				if o.Kind() == "Policy" {
					policies[o.Name()] = o
				}
			}
			for i := range p.Spec.ClusterGroups {
				g := &p.Spec.ClusterGroups[i]
				var mine []manifest.Object
				for _, n := range []string{p.GitOpsPolicyName(g), p.BootstrapPolicyName(g), p.InitDataPolicyName(g), p.PeerPodsPolicyName(g)} {
					if pol, ok := policies[n]; ok {
						mine = append(mine, pol)
						delete(policies, n)
					}
				}
				if len(mine) == 0 {
					continue
				}
				// A policy runs after the policies it depends on.
				rank := func(o manifest.Object) int {
					deps, _ := o.Content["spec"].(map[string]any)["dependencies"].([]any)
					return len(deps)
				}
				sort.SliceStable(mine, func(i, j int) bool { return rank(mine[i]) < rank(mine[j]) })
				clusterName := clusterFixtures[g.Platform.Type]
				if clusterName == "" {
					clusterName = azureCluster // bare metal: no cloud lookups
				}
				managed := loadCluster(t, clusterName)
				// When the hub also runs workloads it is its own managed
				// cluster (local-cluster): what Argo CD applied there, such
				// as the init-data ConfigMaps, is on it before any policy
				// runs.
				if g == p.HubGroup() && g.HasRole(spec.RoleWorkloads) {
					for _, o := range hub {
						managed = upsert(managed, o)
					}
				}
				for _, pol := range mine {
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
							if md := ot.ObjectDefinition["metadata"].(map[string]any); md["name"] == acm.PeerPodsConfigMap {
								checkNetworkIDs(t, g, stringMap(t, ot.ObjectDefinition["data"]))
								resolved[g.Platform.Type]++
							}
							managed = upsert(managed, ot.ObjectDefinition)
						}
					}
				}
			}
			if len(policies) > 0 {
				t.Errorf("policies of no cluster group: %v", slices.Sorted(maps.Keys(policies)))
			}
		})
	}
	for _, cloud := range []string{spec.PlatformAzure, spec.PlatformAWS, spec.PlatformIBMCloud} {
		if resolved[cloud] == 0 {
			t.Errorf("no fixture builds peer-pods-cm on %s", cloud)
		}
	}
}

// clusterFixtures are the cluster fixtures per cloud.
var clusterFixtures = map[string]string{
	spec.PlatformAzure:    azureCluster,
	spec.PlatformAWS:      awsCluster,
	spec.PlatformIBMCloud: ibmCloudCluster,
}

// checkNetworkIDs holds a resolved peer-pods-cm to the ids its cluster
// fixture's README lists: pod VMs launch in the cluster's own network.
func checkNetworkIDs(t *testing.T, g *spec.ClusterGroup, data map[string]string) {
	t.Helper()
	var want map[string]string
	switch g.Platform.Type {
	case spec.PlatformAzure:
		want = map[string]string{"AZURE_SUBNET_ID": wantSubnetID, "AZURE_NSG_ID": wantNSGID, "AZURE_RESOURCE_GROUP": "coco-7xk2p-rg"}
	case spec.PlatformAWS:
		want = map[string]string{"AWS_SUBNET_ID": wantAWSSubnet, "AWS_REGION": "us-east-2"}
		if _, set := data["AWS_SG_IDS"]; set {
			t.Errorf("group %s: AWS_SG_IDS %q from a MachineSet naming security groups by filter", g.Name, data["AWS_SG_IDS"])
		}
	case spec.PlatformIBMCloud:
		want = map[string]string{"IBMCLOUD_VPC_ID": ibmVPC, "IBMCLOUD_VPC_SUBNET_ID": ibmSubnet, "IBMCLOUD_SECURITY_GROUP_IDS": ibmSecurityGroup,
			"IBMCLOUD_RESOURCE_GROUP_ID": ibmResourceGroup, "IBMCLOUD_ZONE": "us-south-1", "IBMCLOUD_VPC_ENDPOINT": "https://us-south.iaas.cloud.ibm.com/v1"}
	}
	for k, v := range want {
		if data[k] != v {
			t.Errorf("group %s: peer-pods-cm %s = %q, want the cluster's %q", g.Name, k, data[k], v)
		}
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
