// Package objects builds the parts every generator's objects share: the
// labels cocogen puts on what it owns, metadata with a sync wave, and OLM
// Subscriptions and OperatorGroups. Generators never import each other;
// what they would otherwise copy lives here.
package objects

import (
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
	"github.com/cocogen/cocogen/pkg/waves"
)

// Labels are the labels cocogen puts on what it owns, so that `kubectl get
// -l app.kubernetes.io/managed-by=cocogen` finds it and several patterns can
// share a cluster. group is the cluster group whose directory holds the
// object ("" for none).
func Labels(p *spec.Pattern, group string) map[string]string {
	l := map[string]string{
		"app.kubernetes.io/managed-by": "cocogen",
		"app.kubernetes.io/part-of":    p.Spec.ArgoCD.Instance,
	}
	if group != "" {
		l["cocogen.dev/cluster-group"] = group
	}
	return l
}

// Meta describes an object's metadata.
type Meta struct {
	Name string
	// Namespace is empty for cluster-scoped objects.
	Namespace string
	// Group is the cluster group whose directory holds the object; it
	// labels the object (see Labels).
	Group string
	// Wave is the object's Argo CD sync wave (package waves).
	Wave int
	// CustomResource marks a kind whose CRD an operator installs in an
	// earlier wave of the same sync: Argo CD must not dry-run it first.
	CustomResource bool
	// Annotations are added to the sync annotations.
	Annotations map[string]string
}

// Build returns the metadata as object content.
func (m Meta) Build(p *spec.Pattern) map[string]any {
	ann := map[string]any{waves.Annotation: waves.String(m.Wave)}
	if m.CustomResource {
		ann[waves.SyncOptionsAnnotation] = waves.SkipDryRunOnMissingResource
	}
	for k, v := range m.Annotations {
		ann[k] = v
	}
	out := map[string]any{
		"name":        m.Name,
		"labels":      manifest.StringMap(Labels(p, m.Group)),
		"annotations": ann,
	}
	if m.Namespace != "" {
		out["namespace"] = m.Namespace
	}
	return out
}

// New assembles an object in directory dir from its type, metadata (e.g.
// Meta.Build) and top-level fields (spec, data, rules, ...).
func New(dir, apiVersion, kind string, meta map[string]any, fields map[string]any, origin manifest.Origin) manifest.Object {
	c := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": meta}
	for k, v := range fields {
		c[k] = v
	}
	return manifest.Object{Dir: dir, Content: c, Origin: origin}
}

// Subscription is the content of the OLM Subscription that installs op,
// with metadata meta.
func Subscription(meta map[string]any, op *spec.Operator) map[string]any {
	s := map[string]any{
		"name":                op.Name,
		"channel":             op.Channel,
		"source":              op.Source,
		"sourceNamespace":     op.SourceNamespace,
		"installPlanApproval": op.InstallPlanApproval,
	}
	if op.StartingCSV != "" {
		s["startingCSV"] = op.StartingCSV
	}
	return map[string]any{
		"apiVersion": "operators.coreos.com/v1alpha1",
		"kind":       "Subscription",
		"metadata":   meta,
		"spec":       s,
	}
}

// OperatorGroup is the content of an OLM OperatorGroup with metadata meta,
// targeting the given namespaces (none: all namespaces). OLM allows one
// per namespace.
func OperatorGroup(meta map[string]any, targetNamespaces []string) map[string]any {
	s := map[string]any{}
	if len(targetNamespaces) > 0 {
		s["targetNamespaces"] = manifest.StringList(targetNamespaces)
	}
	return map[string]any{
		"apiVersion": "operators.coreos.com/v1",
		"kind":       "OperatorGroup",
		"metadata":   meta,
		"spec":       s,
	}
}
