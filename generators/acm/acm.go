// Package acm generates the Advanced Cluster Management objects of a
// pattern, all in the hub group's directory (ACM runs on the hub):
//
//   - per cloud group with peer pods, a Policy whose ConfigurationPolicies
//     build peer-pods-cm and peer-pods-secret on each managed cluster from
//     that cluster's own cloud configuration and credentials, with managed
//     cluster templates ({{ ... }}) resolved in-cluster, so no cluster
//     detail and no credential is ever written to git;
//   - per spoke group (clusters other than the hub's), Policies that
//     install OpenShift GitOps and create the group's root AppProject and
//     Application (bootstrap.go), so spokes start syncing by themselves,
//     and a Policy that copies the init-data ConfigMaps from the hub with
//     hub templates ({{hub ... hub}});
//   - per group with policies, a Placement selecting the group's clusters by
//     its selector and a PlacementBinding, plus the ManagedClusterSetBinding
//     the placements need.
//
// The objects sync in wave waves.Policies.
package acm

import (
	"context"
	"fmt"

	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
)

// Name is the generator's name.
const Name = "acm"

// Generator is the ACM policy generator.
type Generator struct{}

// New returns the ACM policy generator.
func New() *Generator { return &Generator{} }

// Name implements render.Generator.
func (*Generator) Name() string { return Name }

// group is a cluster group with its field path, for provenance.
type group struct {
	*spec.ClusterGroup
	path string
}

// Generate implements render.Generator.
func (*Generator) Generate(_ context.Context, in *render.Input, out *manifest.Set) error {
	p := in.Pattern
	hub := p.HubGroup()
	if hub == nil {
		for i := range p.Spec.ClusterGroups {
			if g := &p.Spec.ClusterGroups[i]; needsPeerPodsConfig(g) {
				in.Warn(fmt.Sprintf("spec.clusterGroups[%d].roles", i), "cluster group %q: no group has role hub, so no ACM delivers peer-pods-cm and peer-pods-secret; create them on its clusters yourself", g.Name)
			}
		}
		return nil
	}
	b := &builder{p: p, hub: hub}
	placed := false
	for i := range p.Spec.ClusterGroups {
		g := group{ClusterGroup: &p.Spec.ClusterGroups[i], path: fmt.Sprintf("spec.clusterGroups[%d]", i)}
		var policies []string
		var deps []any
		if p.IsSpoke(g.ClusterGroup) {
			policies = append(policies, p.GitOpsPolicyName(g.ClusterGroup), p.BootstrapPolicyName(g.ClusterGroup))
			out.Add(b.gitopsPolicy(g), b.bootstrapPolicy(g))
		}
		if pol := b.initDataPolicy(g); pol != nil {
			out.Add(*pol)
			policies = append(policies, pol.Name())
			deps = append(deps, dependency(pol.Name(), p.PolicyNamespace()))
		}
		if needsPeerPodsConfig(g.ClusterGroup) {
			if g.Platform.Type == spec.PlatformIBMCloud {
				// openshift/cloud-api-adaptor osc-release,
				// src/cloud-providers/ibmcloud/provider.go: NewProvider
				// reads kube-system/cluster-info (cluster_id) and looks up
				// the cluster's kube-<id> security group through the
				// IBM Cloud Kubernetes Service, and fails without them.
				in.Note(g.path+".platform", "cluster group %q: the cloud-api-adaptor's IBM Cloud provider needs the IBM Cloud Kubernetes Service (kube-system/cluster-info and the cluster's kube-<id> security group): peer pods run on Red Hat OpenShift on IBM Cloud, not on clusters installed with openshift-install", g.Name)
			}
			pol := b.peerPodsPolicy(g, deps)
			out.Add(pol)
			policies = append(policies, pol.Name())
		}
		if len(policies) == 0 {
			continue
		}
		out.Add(b.placement(g), b.placementBinding(g, policies))
		placed = true
	}
	if placed {
		out.Add(b.clusterSetBinding())
	}
	out.Add(b.hubTemplateRBAC()...)
	return nil
}

// needsPeerPodsConfig reports whether the group's clusters run peer pods on
// a cloud and so need peer-pods-cm and peer-pods-secret.
func needsPeerPodsConfig(g *spec.ClusterGroup) bool {
	if !g.HasRole(spec.RoleWorkloads) || !g.PeerPods() {
		return false
	}
	switch g.Platform.Type {
	case spec.PlatformAzure, spec.PlatformAWS, spec.PlatformIBMCloud:
		return true
	}
	return false
}

var (
	_ render.Generator = (*Generator)(nil)
	_ render.Finalizer = (*Generator)(nil)
)
