// Package argocd generates the Argo CD App-of-Apps of a pattern: per cluster
// group a root Application (in the bootstrap directory) that syncs the
// group's directory, and in that directory the child Applications, their
// AppProjects, the Namespaces, the OLM Subscriptions and OperatorGroups of
// the group's operators and its KataConfig, ordered by sync waves.
package argocd

import (
	"github.com/cocogen/cocogen/generators"
	"github.com/cocogen/cocogen/pkg/manifest"
)

// inCluster is the Argo CD destination of everything cocogen emits: every
// cluster runs its own Argo CD (spokes get theirs bootstrapped by ACM).
const inCluster = "https://kubernetes.default.svc"

// Generator is the App-of-Apps generator.
type Generator struct{}

// New returns the App-of-Apps generator.
func New() *Generator { return &Generator{} }

// Name implements generators.Generator.
func (*Generator) Name() string { return "argocd" }

// Generate implements generators.Generator.
func (*Generator) Generate(ctx *generators.Context, out *manifest.Set) error {
	p := ctx.Pattern
	for i := range p.Spec.ClusterGroups {
		g := &p.Spec.ClusterGroups[i]
		out.Add(rootApplication(p, g))
		out.Add(platformObjects(p, g)...)
		for j := range g.Applications {
			out.Add(childApplication(p, g, &g.Applications[j]))
		}
		if *p.Spec.ArgoCD.HealthCustomization {
			out.Add(healthCustomization(p, g))
		}
	}
	return nil
}

// Finalize implements generators.Finalizer: AppProjects and missing
// Namespaces are derived from everything in each group's directory.
func (*Generator) Finalize(ctx *generators.Context, out *manifest.Set) error {
	p := ctx.Pattern
	for i := range p.Spec.ClusterGroups {
		g := &p.Spec.ClusterGroups[i]
		out.Add(missingNamespaces(p, g, out)...)
		projects(p, g, out)
	}
	return nil
}

var (
	_ generators.Generator = (*Generator)(nil)
	_ generators.Finalizer = (*Generator)(nil)
)
