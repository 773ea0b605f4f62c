package argocd

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/objects"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
	"github.com/cocogen/cocogen/pkg/waves"
)

// platformObjects are what the group's root Application installs before any
// workload: its namespaces, operators and KataConfig.
func platformObjects(p *spec.Pattern, g group) []manifest.Object {
	var out []manifest.Object
	owned := ownedNamespaces(g)
	for _, ns := range slices.Sorted(maps.Keys(owned)) {
		out = append(out, namespace(p, g, ns, g.origin(owned[ns])))
	}
	for _, og := range operatorGroups(g) {
		meta := objects.Meta{Name: og.namespace, Namespace: og.namespace, Group: g.Name, Wave: waves.OperatorGroups}.Build(p)
		out = append(out, manifest.Object{Dir: g.Dir(), Content: objects.OperatorGroup(meta, og.targets), Origin: g.origin(og.field)})
	}
	out = append(out, catalogSources(p, g)...)
	for i := range g.Operators {
		op := &g.Operators[i]
		wave := waves.Subscriptions
		if op.SyncWave != nil {
			wave = *op.SyncWave
		}
		meta := objects.Meta{Name: op.Name, Namespace: op.Namespace, Group: g.Name, Wave: wave}.Build(p)
		out = append(out, manifest.Object{Dir: g.Dir(), Content: objects.Subscription(meta, op), Origin: g.origin(fmt.Sprintf(".operators[%d]", i))})
	}
	out = append(out, operatorInstances(p, g)...)
	out = append(out, nodePreparation(p, g)...)
	if g.KataConfig != nil {
		out = append(out, kataConfig(p, g))
	}
	return out
}

// operatorInstances are what the group's operators need before they do
// anything: ACM's MultiClusterHub, the External Secrets operator's
// ExternalSecretsConfig, and the sandboxed containers operator's feature
// gates, which must say confidential before it builds its pod VM image
// and runtime classes (otherwise it builds a non-confidential image and
// sets DISABLECVM in peer-pods-cm).
func operatorInstances(p *spec.Pattern, g group) []manifest.Object {
	line := p.Line()
	var out []manifest.Object
	for i, op := range g.Operators {
		field := fmt.Sprintf(".operators[%d]", i)
		switch op.Name {
		case spec.OperatorACM:
			meta := objects.Meta{Name: line.Cluster.MultiClusterHub, Namespace: line.Cluster.MultiClusterHubNamespace, Group: g.Name, Wave: waves.OperatorInstances, CustomResource: true}.Build(p)
			out = append(out, objects.New(g.Dir(), "operator.open-cluster-management.io/v1", "MultiClusterHub", meta, map[string]any{"spec": map[string]any{}}, g.origin(field)))
		case spec.OperatorExternalSecrets:
			meta := objects.Meta{Name: line.Cluster.ExternalSecretsConfig, Group: g.Name, Wave: waves.OperatorInstances, CustomResource: true}.Build(p)
			out = append(out, objects.New(g.Dir(), "operator.openshift.io/v1alpha1", "ExternalSecretsConfig", meta, map[string]any{"spec": map[string]any{}}, g.origin(field)))
		case spec.OperatorSandboxedContainers:
			if !g.HasRole(spec.RoleWorkloads) || g.ConfidentialRuntimeClass(line) == "" {
				continue // runs kata, but no confidential pods
			}
			meta := objects.Meta{Name: line.Cluster.FeatureGates, Namespace: op.Namespace, Group: g.Name, Wave: waves.Policies}.Build(p)
			out = append(out, objects.New(g.Dir(), "v1", "ConfigMap", meta, map[string]any{"data": map[string]any{"confidential": "true"}}, g.origin(field)))
		}
	}
	return out
}

// catalogSources are the OLM catalogs the group's subscriptions need that
// OpenShift does not ship (the release line's Catalogs): they must serve
// before the subscriptions resolve, so they sync with the OperatorGroups.
func catalogSources(p *spec.Pattern, g group) []manifest.Object {
	line := p.Line()
	var out []manifest.Object
	seen := map[string]bool{}
	for i, op := range g.Operators {
		c, ok := line.Catalogs[op.Source]
		if !ok || op.SourceNamespace != c.Namespace || seen[c.Name] {
			continue
		}
		seen[c.Name] = true
		meta := objects.Meta{Name: c.Name, Namespace: c.Namespace, Group: g.Name, Wave: waves.OperatorGroups}.Build(p)
		out = append(out, objects.New(g.Dir(), "operators.coreos.com/v1alpha1", "CatalogSource", meta, map[string]any{
			"spec": map[string]any{
				"sourceType":  "grpc",
				"image":       c.Image,
				"displayName": c.DisplayName,
				"publisher":   c.Publisher,
			},
		}, g.origin(fmt.Sprintf(".operators[%d].source", i))))
	}
	return out
}

// ownedNamespaces are the namespaces the pattern itself asks for: those of
// its operators and applications, and extra ones it lists; each with the
// first field (relative to the group) that asks for it.
func ownedNamespaces(g group) map[string]string {
	fields := map[string]string{}
	add := func(ns, field string) {
		if _, ok := fields[ns]; !ok {
			fields[ns] = field
		}
	}
	for i, op := range g.Operators {
		add(op.Namespace, fmt.Sprintf(".operators[%d].namespace", i))
	}
	for i, a := range g.Applications {
		add(a.Namespace, fmt.Sprintf(".applications[%d].namespace", i))
	}
	for i, ns := range g.Namespaces {
		add(ns, fmt.Sprintf(".namespaces[%d]", i))
	}
	return fields
}

func namespace(p *spec.Pattern, g group, name string, origin manifest.Origin) manifest.Object {
	labels := objects.Labels(p, g.Name)
	// Lets a namespace-scoped Argo CD instance (OpenShift GitOps) manage
	// what the pattern puts in the namespace.
	labels["argocd.argoproj.io/managed-by"] = p.Spec.ArgoCD.Namespace
	ns := map[string]any{
		"apiVersion": "v1",
		"kind":       "Namespace",
		"metadata": map[string]any{
			"name":   name,
			"labels": manifest.StringMap(labels),
			"annotations": map[string]any{
				waves.Annotation: waves.String(waves.Namespaces),
				// Pruning a namespace deletes everything in it, including
				// what other tools put there; removing it from the pattern
				// must not do that silently.
				waves.SyncOptionsAnnotation: "Prune=false",
			},
		},
		// The empty spec core/v1's Namespace type always wrote; kept so
		// the trees stay what they were.
		"spec": map[string]any{},
	}
	return manifest.Object{Dir: g.Dir(), Content: ns, Origin: origin}
}

// missingNamespaces adds a Namespace for every namespace that objects of the
// group's directory use but nothing creates, except the cluster's own
// (kube-*, openshift-*, default) and Argo CD's, which exist already and must
// never be owned (and so pruned) by the pattern.
func missingNamespaces(p *spec.Pattern, g group, set *manifest.Set) []manifest.Object {
	have := map[string]bool{}
	used := map[string]manifest.Origin{}
	for _, o := range set.Objects {
		if o.Dir != g.Dir() {
			continue
		}
		if o.Kind() == "Namespace" && o.APIVersion() == "v1" {
			have[o.Name()] = true
		}
		if ns := o.Namespace(); ns != "" {
			if _, ok := used[ns]; !ok {
				// The namespace exists for that object: same pattern field.
				used[ns] = manifest.Origin{Spec: o.Origin.Spec}
			}
		}
	}
	var out []manifest.Object
	for _, ns := range slices.Sorted(maps.Keys(used)) {
		if have[ns] || systemNamespace(p, ns) {
			continue
		}
		out = append(out, namespace(p, g, ns, used[ns]))
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
	field     string   // the first operator in the namespace
}

// operatorGroups returns one OperatorGroup per operator namespace: OLM
// allows exactly one per namespace. Validation guarantees operators sharing
// a namespace agree on their target namespaces.
func operatorGroups(g group) []opGroup {
	byNS := map[string]opGroup{}
	for i, op := range g.Operators {
		if _, ok := byNS[op.Namespace]; !ok {
			byNS[op.Namespace] = opGroup{namespace: op.Namespace, targets: op.TargetNamespaces, field: fmt.Sprintf(".operators[%d]", i)}
		}
	}
	var out []opGroup
	for _, ns := range slices.Sorted(maps.Keys(byNS)) {
		out = append(out, byNS[ns])
	}
	return out
}

// kataConfig turns the kata runtime on; with peer pods, pod sandboxes become
// confidential VMs created by the peer-pod daemon from peer-pods-cm.
func kataConfig(p *spec.Pattern, g group) manifest.Object {
	k := g.KataConfig
	s := map[string]any{"enablePeerPods": *k.PeerPods}
	if len(k.NodeSelector) > 0 {
		s["kataConfigPoolSelector"] = map[string]any{"matchLabels": manifest.StringMap(k.NodeSelector)}
	}
	// The KataConfig CRD appears only once the operator of an earlier wave
	// is installed.
	meta := objects.Meta{Name: k.Name, Group: g.Name, Wave: waves.OperatorConfig, CustomResource: true}.Build(p)
	return objects.New(g.Dir(), "kataconfiguration.openshift.io/v1", "KataConfig", meta, map[string]any{"spec": s}, g.origin(".kataConfig"))
}
