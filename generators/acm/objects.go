package acm

import (
	"maps"
	"slices"

	"github.com/cocogen/cocogen/internal/objects"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
	"github.com/cocogen/cocogen/pkg/waves"
)

// API versions of what this package emits.
const (
	policyAPIVersion    = "policy.open-cluster-management.io/v1"
	placementAPIVersion = "cluster.open-cluster-management.io/v1beta1"
	setBindingVersion   = "cluster.open-cluster-management.io/v1beta2"
	policyGroup         = "policy.open-cluster-management.io"
	clusterGroup        = "cluster.open-cluster-management.io"
)

// Policy annotations ACM's governance dashboard groups policies by.
const (
	annStandards  = "policy.open-cluster-management.io/standards"
	annCategories = "policy.open-cluster-management.io/categories"
	annControls   = "policy.open-cluster-management.io/controls"
)

// compliance is how a policy maps onto NIST SP 800-53.
type compliance struct {
	categories, controls string
}

var (
	// peer-pods-cm and peer-pods-secret are the baseline configuration of
	// the peer-pods runtime.
	peerPodsCompliance = compliance{
		categories: "CM Configuration Management",
		controls:   "CM-2 Baseline Configuration",
	}
	// init-data is measured configuration: its integrity is what
	// attestation verifies.
	initDataCompliance = compliance{
		categories: "CM Configuration Management, SI System and Information Integrity",
		controls:   "CM-2 Baseline Configuration, SI-7 Software, Firmware, and Information Integrity",
	}
)

// builder holds what every object of a render shares.
type builder struct {
	p   *spec.Pattern
	hub *spec.ClusterGroup
	// hubTemplateNamespaces are the hub namespaces (other than the policy
	// namespace) that hub templates read ConfigMaps from.
	hubTemplateNamespaces map[string]bool
}

func (b *builder) ns() string { return b.p.PolicyNamespace() }

// meta is the metadata of every ACM object. They are all marked as custom
// resources: ACM's CRDs arrive with its operator in an earlier wave of the
// same sync (the RBAC objects do not need it, and are harmless with it).
func (b *builder) meta(name, namespace string, annotations map[string]string) map[string]any {
	return objects.Meta{Name: name, Namespace: namespace, Group: b.hub.Name, Wave: waves.Policies, CustomResource: true, Annotations: annotations}.Build(b.p)
}

// object assembles an object of the hub's directory made from field.
func (b *builder) object(apiVersion, kind string, meta map[string]any, fields map[string]any, field string) manifest.Object {
	return objects.New(b.hub.Dir(), apiVersion, kind, meta, fields, manifest.Origin{Spec: field})
}

// policy wraps ConfigurationPolicies in a Policy. Its metadata is not copied
// to the replicated policies (copyPolicyMetadata: false): Argo CD's tracking
// label must stay on the root policy only, or Argo CD would adopt and prune
// the copies ACM makes in the managed clusters' namespaces.
func (b *builder) policy(name, field string, c compliance, deps []any, templates ...map[string]any) manifest.Object {
	var tmpls []any
	for _, t := range templates {
		tmpls = append(tmpls, map[string]any{"objectDefinition": t})
	}
	s := map[string]any{
		"disabled":           false,
		"copyPolicyMetadata": false,
		"remediationAction":  b.p.Spec.ACM.RemediationAction,
		"policy-templates":   tmpls,
	}
	if len(deps) > 0 {
		s["dependencies"] = deps
	}
	return b.object(policyAPIVersion, "Policy", b.meta(name, b.ns(), map[string]string{
		annStandards:  "NIST SP 800-53",
		annCategories: c.categories,
		annControls:   c.controls,
	}), map[string]any{"spec": s}, field)
}

// configurationPolicy is a policy template; spec holds object-templates or
// object-templates-raw.
func (b *builder) configurationPolicy(name string, spec map[string]any) map[string]any {
	spec["remediationAction"] = b.p.Spec.ACM.RemediationAction
	spec["severity"] = "high"
	return map[string]any{
		"apiVersion": policyAPIVersion,
		"kind":       "ConfigurationPolicy",
		"metadata":   map[string]any{"name": name},
		"spec":       spec,
	}
}

// dependency makes a policy wait until another one is compliant on the
// same cluster.
func dependency(policy, namespace string) map[string]any {
	return map[string]any{
		"apiVersion": policyAPIVersion,
		"kind":       "Policy",
		"name":       policy,
		"namespace":  namespace,
		"compliance": "Compliant",
	}
}

// placement selects the group's clusters by the group's selector from the
// configured cluster set. It tolerates clusters that are briefly
// unreachable, so their policies are not withdrawn and re-created.
func (b *builder) placement(g group) manifest.Object {
	sel := map[string]any{}
	if len(g.Selector.MatchLabels) > 0 {
		sel["matchLabels"] = manifest.StringMap(g.Selector.MatchLabels)
	}
	if len(g.Selector.MatchExpressions) > 0 {
		var exprs []any
		for _, e := range g.Selector.MatchExpressions {
			m := map[string]any{"key": e.Key, "operator": e.Operator}
			if len(e.Values) > 0 {
				m["values"] = manifest.StringList(e.Values)
			}
			exprs = append(exprs, m)
		}
		sel["matchExpressions"] = exprs
	}
	return b.object(placementAPIVersion, "Placement", b.meta(b.p.PlacementName(g.ClusterGroup), b.ns(), nil), map[string]any{
		"spec": map[string]any{
			"clusterSets": []any{b.p.Spec.ACM.ClusterSet},
			"predicates": []any{map[string]any{
				"requiredClusterSelector": map[string]any{"labelSelector": sel},
			}},
			"tolerations": []any{
				map[string]any{"key": "cluster.open-cluster-management.io/unreachable", "operator": "Exists"},
				map[string]any{"key": "cluster.open-cluster-management.io/unavailable", "operator": "Exists"},
			},
		},
	}, g.path+".selector")
}

func (b *builder) placementBinding(g group, policies []string) manifest.Object {
	var subjects []any
	for _, p := range policies {
		subjects = append(subjects, map[string]any{"apiGroup": policyGroup, "kind": "Policy", "name": p})
	}
	name := b.p.PlacementName(g.ClusterGroup)
	return b.object(policyAPIVersion, "PlacementBinding", b.meta(name, b.ns(), nil), map[string]any{
		"placementRef": map[string]any{"apiGroup": clusterGroup, "kind": "Placement", "name": name},
		"subjects":     subjects,
	}, g.path)
}

// clusterSetBinding makes the cluster set usable by placements in the
// policy namespace; ACM requires its name to be the set's.
func (b *builder) clusterSetBinding() manifest.Object {
	set := b.p.Spec.ACM.ClusterSet
	return b.object(setBindingVersion, "ManagedClusterSetBinding", b.meta(set, b.ns(), nil), map[string]any{
		"spec": map[string]any{"clusterSet": set},
	}, "spec.acm.clusterSet")
}

// needHubTemplateAccess records that hub templates read ConfigMaps in ns;
// it returns the service account the policy must name, or "" when ns is the
// policy namespace (which hub templates may always read).
func (b *builder) needHubTemplateAccess(ns string) string {
	if ns == b.ns() {
		return ""
	}
	if b.hubTemplateNamespaces == nil {
		b.hubTemplateNamespaces = map[string]bool{}
	}
	b.hubTemplateNamespaces[ns] = true
	return b.p.HubTemplateServiceAccount()
}

// hubTemplateRBAC lets the hub templates' service account read ConfigMaps
// in the namespaces they look in, and nothing else.
func (b *builder) hubTemplateRBAC() []manifest.Object {
	if len(b.hubTemplateNamespaces) == 0 {
		return nil
	}
	sa := b.p.HubTemplateServiceAccount()
	const field = "spec.acm.policyNamespace"
	out := []manifest.Object{b.object("v1", "ServiceAccount", b.meta(sa, b.ns(), nil), nil, field)}
	for _, ns := range slices.Sorted(maps.Keys(b.hubTemplateNamespaces)) {
		out = append(out,
			b.object("rbac.authorization.k8s.io/v1", "Role", b.meta(sa, ns, nil), map[string]any{
				"rules": []any{map[string]any{
					"apiGroups": []any{""},
					"resources": []any{"configmaps"},
					"verbs":     []any{"get", "list", "watch"},
				}},
			}, field),
			b.object("rbac.authorization.k8s.io/v1", "RoleBinding", b.meta(sa, ns, nil), map[string]any{
				"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": sa},
				"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": sa, "namespace": b.ns()}},
			}, field),
		)
	}
	return out
}
