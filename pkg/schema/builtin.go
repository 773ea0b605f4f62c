package schema

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsv1beta1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1beta1"
	apiextensionsvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// kubeMinor is the Kubernetes 1.x release of the linked k8s.io/api
// (v0.31): API versions k8s.io/api marks as removed in or before it are not
// served by such a cluster.
const kubeMinor = 31

// builtinKind is a resource kind with a k8s.io/api Go type.
type builtinKind struct {
	typ        reflect.Type // struct type
	namespaced bool
	nameFn     apimachineryvalidation.ValidateNameFunc
}

// clusterScoped lists the built-in kinds that are not namespaced (the Go
// types do not carry their scope; kube-apiserver's REST storage does).
var clusterScoped = map[schema.GroupKind]bool{
	{Group: "", Kind: "Namespace"}:                                                    true,
	{Group: "", Kind: "Node"}:                                                         true,
	{Group: "", Kind: "PersistentVolume"}:                                             true,
	{Group: "", Kind: "ComponentStatus"}:                                              true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:                         true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}:                  true,
	{Group: "storage.k8s.io", Kind: "StorageClass"}:                                   true,
	{Group: "storage.k8s.io", Kind: "VolumeAttachment"}:                               true,
	{Group: "storage.k8s.io", Kind: "CSIDriver"}:                                      true,
	{Group: "storage.k8s.io", Kind: "CSINode"}:                                        true,
	{Group: "storage.k8s.io", Kind: "VolumeAttributesClass"}:                          true,
	{Group: "scheduling.k8s.io", Kind: "PriorityClass"}:                               true,
	{Group: "node.k8s.io", Kind: "RuntimeClass"}:                                      true,
	{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}:                 true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"}:     true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"}:   true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicy"}:        true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicyBinding"}: true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingAdmissionPolicy"}:          true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingAdmissionPolicyBinding"}:   true,
	{Group: "networking.k8s.io", Kind: "IngressClass"}:                                true,
	{Group: "networking.k8s.io", Kind: "IPAddress"}:                                   true,
	{Group: "networking.k8s.io", Kind: "ServiceCIDR"}:                                 true,
	{Group: "certificates.k8s.io", Kind: "CertificateSigningRequest"}:                 true,
	{Group: "certificates.k8s.io", Kind: "ClusterTrustBundle"}:                        true,
	{Group: "flowcontrol.apiserver.k8s.io", Kind: "FlowSchema"}:                       true,
	{Group: "flowcontrol.apiserver.k8s.io", Kind: "PriorityLevelConfiguration"}:       true,
	{Group: "authentication.k8s.io", Kind: "TokenReview"}:                             true,
	{Group: "authentication.k8s.io", Kind: "SelfSubjectReview"}:                       true,
	{Group: "authorization.k8s.io", Kind: "SubjectAccessReview"}:                      true,
	{Group: "authorization.k8s.io", Kind: "SelfSubjectAccessReview"}:                  true,
	{Group: "authorization.k8s.io", Kind: "SelfSubjectRulesReview"}:                   true,
	{Group: "resource.k8s.io", Kind: "DeviceClass"}:                                   true,
	{Group: "resource.k8s.io", Kind: "ResourceSlice"}:                                 true,
	{Group: "storagemigration.k8s.io", Kind: "StorageVersionMigration"}:               true,
	{Group: "internal.apiserver.k8s.io", Kind: "StorageVersion"}:                      true,
	{Group: "apiregistration.k8s.io", Kind: "APIService"}:                             true,
}

// nameFuncs are the kinds whose names kube-apiserver validates with another
// rule than a DNS subdomain.
var nameFuncs = map[schema.GroupKind]apimachineryvalidation.ValidateNameFunc{
	{Group: "", Kind: "Namespace"}:                                   apimachineryvalidation.ValidateNamespaceName,
	{Group: "", Kind: "Service"}:                                     apimachineryvalidation.NameIsDNS1035Label,
	{Group: "rbac.authorization.k8s.io", Kind: "Role"}:               path.ValidatePathSegmentName,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:        path.ValidatePathSegmentName,
	{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}:        path.ValidatePathSegmentName,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}: path.ValidatePathSegmentName,
}

type lifecycleRemoved interface {
	APILifecycleRemoved() (major, minor int)
}

type lifecycleReplacement interface {
	APILifecycleReplacement() schema.GroupVersionKind
}

// loadBuiltins indexes every resource kind (a type with ObjectMeta) of the
// client-go scheme plus apiextensions.k8s.io, except API versions a default
// cluster does not serve: removed ones (per k8s.io/api's prerelease
// lifecycle data) and alpha ones.
func (v *Validator) loadBuiltins() error {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme,
		apiextensionsv1.AddToScheme,
		apiextensionsv1beta1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return err
		}
	}
	v.builtin = map[schema.GroupVersionKind]*builtinKind{}
	v.unserved = map[schema.GroupVersionKind]string{}
	for gvk, t := range s.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal || t.Kind() != reflect.Struct {
			continue
		}
		obj := reflect.New(t).Interface()
		if _, ok := obj.(metav1.Object); !ok {
			continue // lists, options, Status, WatchEvent, ...
		}
		if lr, ok := obj.(lifecycleRemoved); ok {
			if major, minor := lr.APILifecycleRemoved(); major == 1 && minor <= kubeMinor {
				reason := fmt.Sprintf("%s was removed in Kubernetes %d.%d", gvk.GroupVersion(), major, minor)
				if rp, ok := obj.(lifecycleReplacement); ok {
					if r := rp.APILifecycleReplacement(); !r.Empty() {
						reason += fmt.Sprintf("; use %s %s", r.GroupVersion(), r.Kind)
					}
				}
				v.unserved[gvk] = reason
				continue
			}
		}
		if strings.Contains(gvk.Version, "alpha") {
			v.unserved[gvk] = fmt.Sprintf("%s is an alpha API, disabled by default", gvk.GroupVersion())
			continue
		}
		gk := gvk.GroupKind()
		nameFn := nameFuncs[gk]
		if nameFn == nil {
			nameFn = apimachineryvalidation.NameIsDNSSubdomain
		}
		v.builtin[gvk] = &builtinKind{typ: t, namespaced: !clusterScoped[gk], nameFn: nameFn}
	}
	return nil
}

// validateBuiltin decodes obj strictly into its Go type and validates the
// metadata; CustomResourceDefinitions also get the apiextensions validation.
func (v *Validator) validateBuiltin(bk *builtinKind, obj map[string]any, nested bool) []problem {
	probs := typedProblems(nil, obj, bk.typ)
	// The unstructured accessors tolerate malformed metadata (already
	// reported above), so names are checked even if decoding failed.
	probs = append(probs, fieldProblems(validateMeta(&unstructured.Unstructured{Object: obj}, bk.namespaced, nested, bk.nameFn))...)
	if bk.typ == reflect.TypeFor[apiextensionsv1.CustomResourceDefinition]() && len(probs) == 0 {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, crd); err != nil {
			return []problem{{"", err.Error()}}
		}
		probs = append(probs, fieldProblems(validateCRD(crd))...)
	}
	return probs
}

// validateCRD runs the apiextensions-apiserver validation of a CRD create,
// after the defaulting and status preparation the apiserver does.
func validateCRD(crd *apiextensionsv1.CustomResourceDefinition) field.ErrorList {
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(crd)
	internal := &apiextensions.CustomResourceDefinition{}
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(crd, internal, nil); err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	internal.Status = apiextensions.CustomResourceDefinitionStatus{}
	for _, ver := range internal.Spec.Versions {
		if ver.Storage {
			internal.Status.StoredVersions = []string{ver.Name}
			break
		}
	}
	// Its ObjectMeta errors duplicate validateMeta's; Validate drops
	// identical problems.
	return apiextensionsvalidation.ValidateCustomResourceDefinition(context.Background(), internal)
}
