// Package schema checks Kubernetes objects emitted by cocogen against their
// real schemas, so that golden tests of every generator fail on anything a
// cluster would reject or silently drop.
//
// Objects are unstructured (map[string]any as decoded from JSON or YAML).
// Two kinds of schema are known:
//
//   - Custom resources whose CustomResourceDefinition is embedded from crds/
//     (see crds/README.md for sources and licences). They are checked the way
//     kube-apiserver checks a create request: the served version must exist,
//     unknown fields are found by structural pruning (honouring
//     x-kubernetes-preserve-unknown-fields and x-kubernetes-embedded-resource)
//     and reported as errors, metadata is type-checked and validated (name a
//     DNS subdomain, namespace present iff the CRD is Namespaced), defaults
//     are applied, then the OpenAPI schema validator, list-type invariants and
//     the CEL x-kubernetes-validations rules run.
//     Policy templates of policy.open-cluster-management.io Policies
//     (spec.policy-templates[*].objectDefinition) are validated recursively
//     against their own schema; their namespace is optional, since the policy
//     framework places them.
//
//   - Built-in kinds: every resource kind registered in the client-go scheme
//     (k8s.io/client-go/kubernetes/scheme) plus apiextensions.k8s.io. The
//     object is decoded strictly (unknown and duplicate fields are errors)
//     into its k8s.io/api Go type, as kube-apiserver does with
//     fieldValidation=Strict, and its metadata is validated with the
//     apimachinery name rules used for that kind (namespace required iff the
//     kind is namespaced; the scope of built-in kinds comes from a short
//     list of cluster-scoped kinds). API versions that k8s.io/api marks as
//     removed (e.g. extensions/v1beta1 Deployment) and alpha versions are
//     rejected. CustomResourceDefinitions are additionally run through the
//     apiextensions CRD validation. The per-kind semantic validation of
//     kube-apiserver (k8s.io/kubernetes/pkg/apis/.../validation, e.g.
//     "a Deployment's selector must match its template labels") is not run.
//
// Anything else is rejected with "no schema for <apiVersion> <Kind>"
// (errors.Is(err, ErrNoSchema)): a test never silently passes an object
// nobody checked.
//
// Validate returns an *ObjectError: "<apiVersion> <Kind> <namespace>/<name>:
// <path>: <problem>", one problem per line when there are several.
//
// Typical use in a golden test:
//
//	if err := schema.ValidateYAMLStream(schema.Default(), out); err != nil {
//		t.Fatal(err)
//	}
package schema
