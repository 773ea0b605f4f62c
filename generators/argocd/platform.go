package argocd

import (
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cocogen/cocogen/generators"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
	"github.com/cocogen/cocogen/pkg/waves"
)

// platformObjects are what the group's root Application installs before any
// workload: its namespaces, operators and KataConfig.
func platformObjects(p *spec.Pattern, g *spec.ClusterGroup) []manifest.Object {
	var out []manifest.Object
	for _, ns := range ownedNamespaces(g) {
		out = append(out, namespace(p, g, ns))
	}
	for _, og := range operatorGroups(g) {
		out = append(out, operatorGroup(p, g, og))
	}
	for i := range g.Operators {
		out = append(out, subscription(p, g, &g.Operators[i]))
	}
	if g.KataConfig != nil {
		out = append(out, kataConfig(p, g))
	}
	return out
}

// ownedNamespaces are the namespaces the pattern itself asks for: those of
// its operators and applications, and extra ones it lists.
func ownedNamespaces(g *spec.ClusterGroup) []string {
	set := map[string]bool{}
	for _, op := range g.Operators {
		set[op.Namespace] = true
	}
	for _, a := range g.Applications {
		set[a.Namespace] = true
	}
	for _, ns := range g.Namespaces {
		set[ns] = true
	}
	return slices.Sorted(maps.Keys(set))
}

func namespace(p *spec.Pattern, g *spec.ClusterGroup, name string) manifest.Object {
	labels := generators.Labels(p, g.Name)
	// Lets a namespace-scoped Argo CD instance (OpenShift GitOps) manage
	// what the pattern puts in the namespace.
	labels["argocd.argoproj.io/managed-by"] = p.Spec.ArgoCD.Namespace
	ns := &corev1.Namespace{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: labels,
			Annotations: map[string]string{
				waves.Annotation: waves.String(waves.Namespaces),
				// Pruning a namespace deletes everything in it, including
				// what other tools put there; removing it from the pattern
				// must not do that silently.
				waves.SyncOptionsAnnotation: "Prune=false",
			},
		},
	}
	return manifest.MustFromTyped(g.Dir(), ns)
}

// missingNamespaces adds a Namespace for every namespace that objects of the
// group's directory use but nothing creates, except the cluster's own
// (kube-*, openshift-*, default) and Argo CD's, which exist already and must
// never be owned (and so pruned) by the pattern.
func missingNamespaces(p *spec.Pattern, g *spec.ClusterGroup, set *manifest.Set) []manifest.Object {
	have := map[string]bool{}
	used := map[string]bool{}
	for _, o := range set.Objects {
		if o.Dir != g.Dir() {
			continue
		}
		if o.Kind() == "Namespace" && o.APIVersion() == "v1" {
			have[o.Name()] = true
		}
		if ns := o.Namespace(); ns != "" {
			used[ns] = true
		}
	}
	var out []manifest.Object
	for _, ns := range slices.Sorted(maps.Keys(used)) {
		if have[ns] || systemNamespace(p, ns) {
			continue
		}
		out = append(out, namespace(p, g, ns))
	}
	return out
}

func systemNamespace(p *spec.Pattern, ns string) bool {
	return ns == "default" || ns == p.Spec.ArgoCD.Namespace ||
		strings.HasPrefix(ns, "kube-") || strings.HasPrefix(ns, "openshift-")
}

type opGroup struct {
	namespace string
	targets   []string // empty: all namespaces
}

// operatorGroups returns one OperatorGroup per operator namespace: OLM
// allows exactly one per namespace. Validation guarantees operators sharing
// a namespace agree on their target namespaces.
func operatorGroups(g *spec.ClusterGroup) []opGroup {
	byNS := map[string][]string{}
	for _, op := range g.Operators {
		byNS[op.Namespace] = op.TargetNamespaces
	}
	var out []opGroup
	for _, ns := range slices.Sorted(maps.Keys(byNS)) {
		out = append(out, opGroup{namespace: ns, targets: byNS[ns]})
	}
	return out
}

func operatorGroup(p *spec.Pattern, g *spec.ClusterGroup, og opGroup) manifest.Object {
	spec := map[string]any{}
	if len(og.targets) > 0 {
		spec["targetNamespaces"] = manifest.StringList(og.targets)
	}
	return manifest.Object{Dir: g.Dir(), Content: map[string]any{
		"apiVersion": "operators.coreos.com/v1",
		"kind":       "OperatorGroup",
		"metadata":   meta(p, g, og.namespace, og.namespace, waves.OperatorGroups),
		"spec":       spec,
	}}
}

func subscription(p *spec.Pattern, g *spec.ClusterGroup, op *spec.Operator) manifest.Object {
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
	wave := waves.Subscriptions
	if op.SyncWave != nil {
		wave = *op.SyncWave
	}
	return manifest.Object{Dir: g.Dir(), Content: map[string]any{
		"apiVersion": "operators.coreos.com/v1alpha1",
		"kind":       "Subscription",
		"metadata":   meta(p, g, op.Name, op.Namespace, wave),
		"spec":       s,
	}}
}

// kataConfig turns the kata runtime on; with peer pods, pod sandboxes become
// confidential VMs created by the peer-pod daemon from peer-pods-cm.
func kataConfig(p *spec.Pattern, g *spec.ClusterGroup) manifest.Object {
	k := g.KataConfig
	s := map[string]any{"enablePeerPods": *k.PeerPods}
	if len(k.NodeSelector) > 0 {
		labels := map[string]any{}
		for key, v := range k.NodeSelector {
			labels[key] = v
		}
		s["kataConfigPoolSelector"] = map[string]any{"matchLabels": labels}
	}
	m := meta(p, g, k.Name, "", waves.OperatorConfig)
	// The KataConfig CRD appears only once the operator of an earlier wave
	// is installed.
	m["annotations"].(map[string]any)[waves.SyncOptionsAnnotation] = waves.SkipDryRunOnMissingResource
	return manifest.Object{Dir: g.Dir(), Content: map[string]any{
		"apiVersion": "kataconfiguration.openshift.io/v1",
		"kind":       "KataConfig",
		"metadata":   m,
		"spec":       s,
	}}
}

func meta(p *spec.Pattern, g *spec.ClusterGroup, name, namespace string, wave int) map[string]any {
	m := map[string]any{
		"name":        name,
		"labels":      manifest.StringMap(generators.Labels(p, g.Name)),
		"annotations": map[string]any{waves.Annotation: waves.String(wave)},
	}
	if namespace != "" {
		m["namespace"] = namespace
	}
	return m
}
