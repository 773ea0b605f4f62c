package acm

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cocogen/cocogen/internal/objects"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/release"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
)

// Spokes run their own Argo CD, started from the hub: per spoke group one
// Policy installs the OpenShift GitOps operator, and a second, which waits
// for the first, creates what the argocd generator rendered into the
// group's bootstrap directory (its root AppProject and root Application).
// From then on the spoke's Argo CD syncs the group's directory by itself.

var bootstrapCompliance = compliance{
	categories: "CM Configuration Management",
	controls:   "CM-2 Baseline Configuration",
}

// gitopsPolicy installs the OpenShift GitOps operator on the spoke.
func (b *builder) gitopsPolicy(g group) manifest.Object {
	musthave := func(obj map[string]any) any {
		return map[string]any{"complianceType": "musthave", "objectDefinition": obj}
	}
	// The OpenShift GitOps operator as the release line pins it; its
	// default Argo CD instance, openshift-gitops, is what spokes sync with.
	sub := b.p.Line().Operators[release.OperatorGitOps]
	gitops := &spec.Operator{
		Name: sub.Package, Namespace: sub.Namespace, Channel: sub.Channel, InstallPlanApproval: sub.InstallPlanApproval,
		Source: sub.Source, SourceNamespace: sub.SourceNamespace, StartingCSV: sub.StartingCSV,
	}
	name := b.p.GitOpsPolicyName(g.ClusterGroup)
	return b.policy(name, g.path, bootstrapCompliance, nil, b.configurationPolicy(name, map[string]any{
		"object-templates": []any{
			musthave(map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": gitops.Namespace}}),
			musthave(objects.OperatorGroup(map[string]any{"name": gitops.Namespace, "namespace": gitops.Namespace}, sub.TargetNamespaces)),
			musthave(objects.Subscription(map[string]any{"name": gitops.Name, "namespace": gitops.Namespace}, gitops)),
		},
	}))
}

// bootstrapPolicy is emitted by Generate with no object templates yet: the
// objects it carries are the argocd generator's, and exist only once that
// generator has finalized. fillBootstrapPolicy adds them in Finalize.
func (b *builder) bootstrapPolicy(g group) manifest.Object {
	name := b.p.BootstrapPolicyName(g.ClusterGroup)
	deps := []any{dependency(b.p.GitOpsPolicyName(g.ClusterGroup), b.ns())}
	return b.policy(name, g.path, bootstrapCompliance, deps, b.configurationPolicy(name, map[string]any{
		"object-templates": []any{},
	}))
}

// argocdGenerator is the name of the generator whose bootstrap objects the
// spokes' bootstrap policies carry (generators never import each other, so
// it is named, not referred to).
const argocdGenerator = "argocd"

// FinalizeAfter implements render.Finalizer: the bootstrap objects are
// complete only once argocd has finalized (it derives the root AppProject
// then).
func (*Generator) FinalizeAfter() []string { return []string{argocdGenerator} }

// Finalize implements render.Finalizer: it fills each spoke's bootstrap
// Policy with the objects of the spoke's bootstrap directory.
func (*Generator) Finalize(_ context.Context, in *render.Input, out *manifest.Set) error {
	p := in.Pattern
	hub := p.HubGroup()
	if hub == nil {
		return nil
	}
	b := &builder{p: p, hub: hub}
	for i := range p.Spec.ClusterGroups {
		g := &p.Spec.ClusterGroups[i]
		if !p.IsSpoke(g) {
			continue
		}
		if err := b.fillBootstrapPolicy(g, out); err != nil {
			return fmt.Errorf("cluster group %s: %w", g.Name, err)
		}
	}
	return nil
}

func (b *builder) fillBootstrapPolicy(g *spec.ClusterGroup, out *manifest.Set) error {
	var policy *manifest.Object
	boot := &manifest.Set{}
	for i := range out.Objects {
		o := &out.Objects[i]
		if o.Dir == b.hub.Dir() && o.Kind() == "Policy" && o.Name() == b.p.BootstrapPolicyName(g) {
			policy = o
		}
		if o.Dir == g.BootstrapDir() {
			boot.Add(*o)
		}
	}
	if policy == nil {
		return fmt.Errorf("bootstrap policy %s missing", b.p.BootstrapPolicyName(g))
	}
	// The root AppProject is the last bootstrap object argocd derives; its
	// absence means acm is finalizing before argocd.
	hasProject := false
	for _, o := range boot.Objects {
		hasProject = hasProject || (o.Kind() == "AppProject" && o.Name() == b.p.RootName(g))
	}
	if !hasProject {
		return fmt.Errorf("no root AppProject in %s to bootstrap the spoke with (did %s finalize first?)", g.BootstrapDir(), argocdGenerator)
	}
	boot.Sort()
	var templates []any
	for _, o := range boot.Objects {
		tmpl, err := b.bootstrapTemplate(o)
		if err != nil {
			return err
		}
		templates = append(templates, tmpl)
	}
	cfg := policy.Content["spec"].(map[string]any)["policy-templates"].([]any)[0].(map[string]any)["objectDefinition"].(map[string]any)
	cfg["spec"].(map[string]any)["object-templates"] = templates
	return nil
}

// bootstrapTemplate turns one bootstrap object into an object template.
// Objects are created with musthave: Argo CD adds its own fields to
// Applications and AppProjects, and the ArgoCD resource with the health
// checks must merge into the instance the GitOps operator made, both of
// which mustonlyhave would fight.
func (b *builder) bootstrapTemplate(o manifest.Object) (any, error) {
	obj := manifest.DeepCopy(o.Content)
	raw, _ := json.Marshal(obj)
	if strings.Contains(string(raw), "{{") {
		// ACM would read it as a template on the spoke.
		return nil, fmt.Errorf("%s contains '{{', which ACM would evaluate as a template", o.ID())
	}
	return map[string]any{"complianceType": "musthave", "objectDefinition": obj}, nil
}
