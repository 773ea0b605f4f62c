package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validator checks unstructured objects (map[string]any as decoded from
// JSON/YAML) against the schemas of the embedded CRDs and of the built-in
// Kubernetes kinds. It is immutable after New and safe for concurrent use.
type Validator struct {
	custom   map[schema.GroupKind]*customKind
	builtin  map[schema.GroupVersionKind]*builtinKind
	unserved map[schema.GroupVersionKind]string // built-in kinds of removed or alpha API versions -> reason
}

// ErrNoSchema is matched (errors.Is) by the error Validate returns for an
// object whose apiVersion/kind has no known schema.
var ErrNoSchema = errors.New("no schema")

// ObjectError is the error returned by Validate: all problems found in one
// object.
type ObjectError struct {
	APIVersion, Kind, Namespace, Name string
	// Problems are sorted, each "<field path>: <detail>".
	Problems []string

	noSchema bool
}

// Ref is "<apiVersion> <Kind> <namespace>/<name>" ("<apiVersion> <Kind>
// <name>" when there is no namespace) identifying the object.
func (e *ObjectError) Ref() string {
	ref := e.Name
	if ref == "" {
		ref = "<no name>"
	}
	if e.Namespace != "" {
		ref = e.Namespace + "/" + ref
	}
	return e.APIVersion + " " + e.Kind + " " + ref
}

func (e *ObjectError) Error() string {
	if len(e.Problems) == 1 {
		return e.Ref() + ": " + e.Problems[0]
	}
	return fmt.Sprintf("%s: %d problems:\n\t%s", e.Ref(), len(e.Problems), strings.Join(e.Problems, "\n\t"))
}

// Is reports whether target is ErrNoSchema and the object had no schema.
func (e *ObjectError) Is(target error) bool { return target == ErrNoSchema && e.noSchema }

// problem is one finding; path is a field path ("" for the object itself).
type problem struct {
	path, msg string
}

func (p problem) String() string {
	if p.path == "" {
		return p.msg
	}
	return p.path + ": " + p.msg
}

func fieldProblems(errs field.ErrorList) []problem {
	out := make([]problem, 0, len(errs))
	for _, e := range errs {
		if e == nil {
			continue
		}
		c := *e
		// Whole objects or lists as bad values make unreadable messages.
		if k := reflect.ValueOf(c.BadValue).Kind(); k == reflect.Map || k == reflect.Slice || k == reflect.Struct {
			c.BadValue = field.OmitValueType{}
		}
		path := c.Field
		if path == "<nil>" {
			path = "" // field.Path(nil).String()
		}
		out = append(out, problem{path: path, msg: c.ErrorBody()})
	}
	return out
}

func unknownFieldProblems(paths []string) []problem {
	out := make([]problem, 0, len(paths))
	for _, p := range paths {
		out = append(out, problem{path: p, msg: "unknown field"})
	}
	return out
}

// New loads and compiles all embedded CRDs and indexes the built-in kinds.
// The result is safe for concurrent use; prefer Default to share one.
func New() (*Validator, error) {
	v := &Validator{custom: map[schema.GroupKind]*customKind{}}
	if err := v.loadEmbeddedCRDs(); err != nil {
		return nil, err
	}
	if err := v.loadBuiltins(); err != nil {
		return nil, err
	}
	return v, nil
}

var defaultValidator = sync.OnceValues(New)

// Default returns a lazily built Validator shared by all callers. It panics
// only if the embedded CRDs are broken (which the package's tests catch).
func Default() *Validator {
	v, err := defaultValidator()
	if err != nil {
		panic("schema: embedded CRDs: " + err.Error())
	}
	return v
}

// Known reports whether Validate checks objects of this apiVersion and kind
// against a schema: a served version of an embedded CRD, or a built-in kind
// of an API version that has not been removed.
func (v *Validator) Known(apiVersion, kind string) bool {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil || apiVersion == "" || kind == "" {
		return false
	}
	gvk := gv.WithKind(kind)
	if ck, ok := v.custom[gvk.GroupKind()]; ok {
		cv, ok := ck.versions[gvk.Version]
		return ok && cv.served
	}
	_, ok := v.builtin[gvk]
	return ok
}

// Validate checks one object. It returns nil if the object is valid and
// otherwise an *ObjectError listing every problem with its field path. obj
// is not modified.
func (v *Validator) Validate(obj map[string]any) error {
	e := &ObjectError{}
	if obj == nil {
		e.Problems = []string{"nil object"}
		return e
	}
	e.APIVersion, _ = obj["apiVersion"].(string)
	e.Kind, _ = obj["kind"].(string)
	if md, ok := obj["metadata"].(map[string]any); ok {
		e.Namespace, _ = md["namespace"].(string)
		e.Name, _ = md["name"].(string)
	}
	probs, noSchema := v.validate(obj, false)
	if len(probs) == 0 {
		return nil
	}
	e.noSchema = noSchema
	seen := map[string]bool{}
	for _, p := range probs {
		s := p.String()
		if !seen[s] {
			seen[s] = true
			e.Problems = append(e.Problems, s)
		}
	}
	sort.Strings(e.Problems)
	return e
}

// validate checks obj; nested objects (policy templates) may omit their
// namespace.
func (v *Validator) validate(in map[string]any, nested bool) (probs []problem, noSchema bool) {
	apiVersion, avOK := in["apiVersion"].(string)
	kind, kindOK := in["kind"].(string)
	if !avOK || apiVersion == "" {
		probs = append(probs, problem{"apiVersion", "Required value: must be a non-empty string"})
	}
	if !kindOK || kind == "" {
		probs = append(probs, problem{"kind", "Required value: must be a non-empty string"})
	}
	if len(probs) > 0 {
		return probs, false
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return []problem{{"apiVersion", err.Error()}}, false
	}
	gvk := gv.WithKind(kind)

	// Work on a private, normalised copy: JSON round trip as the apiserver
	// sees it (integers as int64, only map[string]any / []any containers).
	obj, err := normalize(in)
	if err != nil {
		return []problem{{"", "cannot be encoded as JSON: " + err.Error()}}, false
	}

	if ck, ok := v.custom[gvk.GroupKind()]; ok {
		return v.validateCustom(ck, gvk, obj, nested), false
	}
	if bk, ok := v.builtin[gvk]; ok {
		return v.validateBuiltin(bk, obj, nested), false
	}
	msg := fmt.Sprintf("no schema for %s %s", apiVersion, kind)
	if reason, ok := v.unserved[gvk]; ok {
		msg += ": " + reason
	} else {
		msg += " (neither an embedded CRD in pkg/schema/crds nor a built-in Kubernetes kind)"
	}
	return []problem{{"", msg}}, true
}

func normalize(in map[string]any) (map[string]any, error) {
	data, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := utiljson.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// prefixProblems re-roots problems of a nested object at path.
func prefixProblems(path string, probs []problem) []problem {
	for i := range probs {
		if probs[i].path == "" {
			probs[i].path = path
		} else {
			probs[i].path = path + "." + probs[i].path
		}
	}
	return probs
}
