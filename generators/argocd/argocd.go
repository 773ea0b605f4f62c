// Package argocd generates the Argo CD App-of-Apps of a pattern: per cluster
// group a root Application (in the bootstrap directory) that syncs the
// group's directory, and in that directory the child Applications, their
// AppProjects, the Namespaces, the OLM Subscriptions and OperatorGroups of
// the group's operators and its KataConfig, ordered by sync waves.
package argocd

import (
	"context"
	"fmt"

	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
)

// Name is the generator's name.
const Name = "argocd"

// inCluster is the Argo CD destination of everything cocogen emits: every
// cluster runs its own Argo CD (spokes get theirs bootstrapped by ACM).
const inCluster = "https://kubernetes.default.svc"

// Generator is the App-of-Apps generator.
type Generator struct{}

// New returns the App-of-Apps generator.
func New() *Generator { return &Generator{} }

// Name implements render.Generator.
func (*Generator) Name() string { return Name }

// Generate implements render.Generator.
func (*Generator) Generate(_ context.Context, in *render.Input, out *manifest.Set) error {
	p := in.Pattern
	for i := range p.Spec.ClusterGroups {
		g := group{ClusterGroup: &p.Spec.ClusterGroups[i], path: fmt.Sprintf("spec.clusterGroups[%d]", i)}
		out.Add(rootApplication(p, g))
		out.Add(platformObjects(p, g)...)
		for j := range g.Applications {
			out.Add(childApplication(p, g, j))
		}
		if *p.Spec.ArgoCD.HealthCustomization {
			out.Add(healthCustomization(p, g))
		}
	}
	return nil
}

// FinalizeAfter implements render.Finalizer: the projects are derived from
// everything the other generators emitted, whatever the order.
func (*Generator) FinalizeAfter() []string { return nil }

// Finalize implements render.Finalizer: AppProjects and missing
// Namespaces are derived from everything in each group's directory.
func (*Generator) Finalize(_ context.Context, in *render.Input, out *manifest.Set) error {
	p := in.Pattern
	for i := range p.Spec.ClusterGroups {
		g := group{ClusterGroup: &p.Spec.ClusterGroups[i], path: fmt.Sprintf("spec.clusterGroups[%d]", i)}
		out.Add(missingNamespaces(p, g, out)...)
		projects(p, g, out)
	}
	return nil
}

// group is a cluster group with its field path, for provenance.
type group struct {
	*spec.ClusterGroup
	path string
}

// origin is the provenance of an object made from field (relative to the
// group, e.g. ".applications[0]"; "" for the group itself).
func (g group) origin(field string) manifest.Origin { return manifest.Origin{Spec: g.path + field} }

var (
	_ render.Generator = (*Generator)(nil)
	_ render.Finalizer = (*Generator)(nil)
)
