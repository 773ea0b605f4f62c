package schema

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

	olmcrds "github.com/operator-framework/api/crds"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"
)

// crdFS holds the CRDs; see crds/README.md for where each comes from.
//
//go:embed crds/*.yaml
var crdFS embed.FS

// customKind is one CRD.
type customKind struct {
	crdName    string
	namespaced bool
	versions   map[string]*customVersion
}

// customVersion is what kube-apiserver builds for one version of a CRD.
type customVersion struct {
	served     bool
	structural *structuralschema.Structural
	validator  apiservervalidation.SchemaValidator
	// cel returns the evaluator of the x-kubernetes-validations rules (nil
	// when the schema has none), compiled on first use: compiling all rules
	// of all CRDs would dominate New. Compile errors surface at Validate,
	// as in the apiserver (and TestEmbeddedCRDsValid checks all rules).
	cel func() *cel.Validator
}

func (v *Validator) loadEmbeddedCRDs() error {
	docs, err := CRDs()
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(docs)) {
		if err := v.addCRD(docs[name]); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// CRDs returns every CRD the validator checks against, as YAML documents
// by source name: the embedded copies (crds/) and OLM's CatalogSource CRD
// as operator-framework/api (the module OLM itself builds from) ships it.
// A test installs the same set into a real kube-apiserver.
func CRDs() (map[string][]byte, error) {
	files, err := fs.Glob(crdFS, "crds/*.yaml")
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no CRDs embedded")
	}
	out := map[string][]byte{}
	for _, f := range files {
		data, err := crdFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out[f] = data
	}
	for _, name := range moduleCRDs {
		data, err := olmcrds.Asset(name)
		if err != nil {
			return nil, err
		}
		out["operator-framework/api "+name] = data
	}
	return out, nil
}

// moduleCRDs are CRDs read from Go modules rather than embedded copies.
var moduleCRDs = []string{"operators.coreos.com_catalogsources.yaml"}

// parseCRD decodes a v1 CRD strictly and applies the v1 defaults.
func parseCRD(data []byte) (*apiextensionsv1.CustomResourceDefinition, error) {
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(data, crd); err != nil {
		return nil, err
	}
	if crd.APIVersion != apiextensionsv1.SchemeGroupVersion.String() || crd.Kind != "CustomResourceDefinition" {
		return nil, fmt.Errorf("not an apiextensions.k8s.io/v1 CustomResourceDefinition: %s %s", crd.APIVersion, crd.Kind)
	}
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(crd)
	return crd, nil
}

// addCRD compiles a CRD the way kube-apiserver's CR handler does
// (k8s.io/apiextensions-apiserver/pkg/apiserver/customresource_handler.go).
func (v *Validator) addCRD(data []byte) error {
	crd, err := parseCRD(data)
	if err != nil {
		return err
	}
	gk := schema.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}
	if prev, dup := v.custom[gk]; dup {
		return fmt.Errorf("%s defined twice (also by %s)", gk, prev.crdName)
	}
	if crd.Spec.PreserveUnknownFields {
		return fmt.Errorf("CRD %s: spec.preserveUnknownFields=true is not supported", crd.Name)
	}
	ck := &customKind{
		crdName:    crd.Name,
		namespaced: crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
		versions:   map[string]*customVersion{},
	}
	for i := range crd.Spec.Versions {
		ver := &crd.Spec.Versions[i]
		if ver.Schema == nil || ver.Schema.OpenAPIV3Schema == nil {
			return fmt.Errorf("CRD %s version %s has no schema", crd.Name, ver.Name)
		}
		internal := &apiextensions.JSONSchemaProps{}
		if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(ver.Schema.OpenAPIV3Schema, internal, nil); err != nil {
			return fmt.Errorf("CRD %s version %s: converting schema: %w", crd.Name, ver.Name, err)
		}
		s, err := structuralschema.NewStructural(internal)
		if err != nil {
			return fmt.Errorf("CRD %s version %s: %w", crd.Name, ver.Name, err)
		}
		if errs := structuralschema.ValidateStructural(nil, s); len(errs) > 0 {
			return fmt.Errorf("CRD %s version %s: schema is not structural: %w", crd.Name, ver.Name, errs.ToAggregate())
		}
		s = s.DeepCopy() // as the apiserver does: s shares defaults with internal
		if err := structuraldefaulting.PruneDefaults(s); err != nil {
			return fmt.Errorf("CRD %s version %s: pruning defaults: %w", crd.Name, ver.Name, err)
		}
		sv, _, err := apiservervalidation.NewSchemaValidator(internal)
		if err != nil {
			return fmt.Errorf("CRD %s version %s: %w", crd.Name, ver.Name, err)
		}
		ck.versions[ver.Name] = &customVersion{
			served:     ver.Served,
			structural: s,
			validator:  sv,
			cel: sync.OnceValue(func() *cel.Validator {
				return cel.NewValidator(s, true, celconfig.PerCallLimit)
			}),
		}
	}
	v.custom[gk] = ck
	return nil
}

// validateCustom mirrors a create request with fieldValidation=Strict:
// decode (metadata coercion, pruning -> unknown fields), defaulting, then the
// custom resource strategy's validation (metadata, OpenAPI schema, embedded
// resources, list types, CEL).
func (v *Validator) validateCustom(ck *customKind, gvk schema.GroupVersionKind, obj map[string]any, nested bool) []problem {
	cv, ok := ck.versions[gvk.Version]
	if !ok {
		defined := make([]string, 0, len(ck.versions))
		for name := range ck.versions {
			defined = append(defined, name)
		}
		slices.Sort(defined)
		return []problem{{"apiVersion", fmt.Sprintf("version %q is not defined by CRD %s (versions: %s)", gvk.Version, ck.crdName, strings.Join(defined, ", "))}}
	}
	if !cv.served {
		return []problem{{"apiVersion", fmt.Sprintf("version %q of CRD %s is not served", gvk.Version, ck.crdName)}}
	}
	s := cv.structural
	var probs []problem

	// Root metadata: type errors and unknown fields (not pruned by the
	// structural schema). The apiserver decodes it with sigs.k8s.io/json
	// UnmarshalStrict; typedProblems does that plus a full diagnosis.
	if md, found := obj["metadata"]; found {
		probs = append(probs, typedProblems(field.NewPath("metadata"), md, reflect.TypeFor[metav1.ObjectMeta]())...)
	}

	// Unknown fields everywhere else (respects preserve-unknown-fields and
	// embedded resources).
	unknown := structuralpruning.PruneWithOptions(obj, s, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	probs = append(probs, unknownFieldProblems(unknown)...)
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(obj, s)

	// Metadata of embedded resources (x-kubernetes-embedded-resource).
	ferr, unknown := schemaobjectmeta.CoerceWithOptions(nil, obj, s, false, schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true})
	if ferr != nil {
		probs = append(probs, fieldProblems(field.ErrorList{ferr})...)
	}
	probs = append(probs, unknownFieldProblems(unknown)...)

	structuraldefaulting.Default(obj, s)

	var errs field.ErrorList
	u := &unstructured.Unstructured{Object: obj}
	errs = append(errs, validateMeta(u, ck.namespaced, nested, apimachineryvalidation.NameIsDNSSubdomain)...)
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, obj, cv.validator)...)
	errs = append(errs, schemaobjectmeta.Validate(nil, obj, s, false)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, s, obj)...)
	if celValidator := cv.cel(); celValidator != nil {
		// Like the apiserver, CEL rules only run on an object that is
		// otherwise well-formed (they assume the schema holds).
		if blockingErr(errs) || len(probs) > 0 {
			probs = append(probs, problem{"", "some x-kubernetes-validations (CEL) rules were not checked because the object was invalid; correct the existing errors to complete validation"})
		} else {
			celErrs, _ := celValidator.Validate(context.Background(), nil, s, obj, nil, celconfig.RuntimeCELCostBudget)
			errs = append(errs, celErrs...)
		}
	}
	probs = append(probs, fieldProblems(errs)...)

	if gvk.Group == "policy.open-cluster-management.io" && gvk.Kind == "Policy" {
		probs = append(probs, v.validatePolicyTemplates(obj)...)
	}
	return probs
}

// blockingErr is the apiserver's hasBlockingErr: errors after which CEL
// rules are not evaluated.
func blockingErr(errs field.ErrorList) bool {
	for _, err := range errs {
		switch err.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return true
		}
	}
	return false
}

// validatePolicyTemplates validates each policy template of an OCM Policy
// (e.g. a ConfigurationPolicy) against its own schema. The namespace of a
// template is optional: the policy framework sets it on the managed cluster.
//
// The objectDefinitions inside a ConfigurationPolicy's object-templates are
// NOT validated: they may legitimately be partial objects (musthave) or
// contain hub/managed-cluster templates.
func (v *Validator) validatePolicyTemplates(obj map[string]any) []problem {
	templates, _, _ := unstructured.NestedSlice(obj, "spec", "policy-templates")
	var probs []problem
	for i, t := range templates {
		tm, ok := t.(map[string]any)
		if !ok {
			continue // reported by the schema validator
		}
		def, ok := tm["objectDefinition"].(map[string]any)
		if !ok {
			continue
		}
		nested, _ := v.validate(def, true)
		probs = append(probs, prefixProblems(fmt.Sprintf("spec.policy-templates[%d].objectDefinition", i), nested)...)
	}
	return probs
}

// validateMeta is the apiserver's ObjectMeta validation, additionally
// requiring metadata.name (generateName does not work with kubectl apply or
// GitOps). A nested object may omit its namespace.
func validateMeta(m metav1.Object, namespaced, nested bool, nameFn apimachineryvalidation.ValidateNameFunc) field.ErrorList {
	var errs field.ErrorList
	if m.GetName() == "" && m.GetGenerateName() != "" {
		errs = append(errs, field.Required(field.NewPath("metadata", "name"), "generateName is not supported: set a name"))
	}
	requiresNamespace := namespaced && (!nested || m.GetNamespace() != "")
	errs = append(errs, apimachineryvalidation.ValidateObjectMetaAccessor(m, requiresNamespace, nameFn, field.NewPath("metadata"))...)
	return errs
}
