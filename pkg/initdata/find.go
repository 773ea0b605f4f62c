package initdata

import (
	"errors"

	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/pkg/manifest"
)

// ConfigMapKey is the ConfigMap key that holds an annotation value, in
// cocogen's init-data ConfigMaps and in peer-pods-cm (the default init-data
// of pods without their own).
const ConfigMapKey = "INITDATA"

// Found is one init-data value in a set of Kubernetes objects.
type Found struct {
	Kind, Namespace, Name string
	// Value is the annotation value (base64 of gzip).
	Value string
}

// Ref is KIND/NAME or KIND/NAMESPACE/NAME.
func (f Found) Ref() string {
	if f.Namespace != "" {
		return f.Kind + "/" + f.Namespace + "/" + f.Name
	}
	return f.Kind + "/" + f.Name
}

// bareValue is what an annotation value looks like on its own: base64 text,
// possibly wrapped.
var bareValue = regexp.MustCompile(`^[A-Za-z0-9+/=\s]+$`)

// IsAnnotationValue reports whether text is an annotation value rather than
// manifests: base64 text, or at least something with no ':' (every manifest
// has one), so that a mistyped value gets a base64 error rather than a YAML
// one.
func IsAnnotationValue(text string) bool {
	return bareValue.MatchString(text) || !strings.Contains(text, ":")
}

// ValueIn returns the annotation value in data, which is either the value
// itself (base64, as copied from a pod) or Kubernetes manifests (a
// ConfigMap, pods, workloads, a whole `cocogen render` stream) holding
// exactly one init-data value, or several of which object (KIND/NAME or
// KIND/NAMESPACE/NAME) selects one.
func ValueIn(data []byte, object string) (string, error) {
	text := strings.TrimSpace(string(data))
	if text == "" {
		return "", errors.New("empty input: want an annotation value, a ConfigMap or manifests")
	}
	if IsAnnotationValue(text) {
		return text, nil
	}
	objs, err := manifest.ReadStream(data)
	if err != nil {
		return "", fmt.Errorf("input is neither an annotation value (base64) nor YAML manifests: %w", err)
	}
	return Select(Find(objs), object)
}

// Find returns every init-data value in objs: the init-data annotation
// (current or legacy name) of Pods and of workloads' pod templates, and the
// INITDATA key of ConfigMaps.
func Find(objs []map[string]any) []Found {
	var out []Found
	for _, obj := range objs {
		if f, ok := findIn(obj); ok {
			out = append(out, f)
		}
	}
	return out
}

func findIn(obj map[string]any) (Found, bool) {
	apiVersion, _ := lookup(obj, "apiVersion")
	kind, _ := lookup(obj, "kind")
	name, _ := lookup(obj, "metadata", "name")
	ns, _ := lookup(obj, "metadata", "namespace")
	f := Found{Kind: kind, Namespace: ns, Name: name}
	if kind == "ConfigMap" && apiVersion == "v1" {
		v, ok := lookup(obj, "data", ConfigMapKey)
		f.Value = v
		return f, ok
	}
	tmpl, ok := PodTemplatePath(apiVersion, kind)
	if !ok {
		return f, false
	}
	for _, key := range []string{AnnotationInitData, AnnotationInitDataLegacy} {
		path := append(tmpl[:len(tmpl):len(tmpl)], "metadata", "annotations", key)
		if v, ok := lookup(obj, path...); ok {
			f.Value = v
			return f, true
		}
	}
	return f, false
}

// Select returns the one init-data value among found, or the value of the
// object sel names (KIND/NAME or KIND/NAMESPACE/NAME, case-insensitive)
// when sel is set. Several objects carrying the same value count as one.
func Select(found []Found, sel string) (string, error) {
	var hits []Found
	for _, f := range found {
		if sel == "" || strings.EqualFold(sel, f.Ref()) || strings.EqualFold(sel, f.Kind+"/"+f.Name) {
			hits = append(hits, f)
		}
	}
	distinct := map[string]bool{}
	for _, f := range hits {
		distinct[f.Value] = true
	}
	switch {
	case len(hits) == 0 && sel != "":
		return "", fmt.Errorf("no object %s with init-data in the input", sel)
	case len(hits) == 0:
		return "", fmt.Errorf("no init-data in the input: looked for annotation %s or %s on pods and pod templates, and key %s in ConfigMaps", AnnotationInitData, AnnotationInitDataLegacy, ConfigMapKey)
	case len(distinct) > 1:
		refs := make([]string, len(hits))
		for i, f := range hits {
			refs[i] = f.Ref()
		}
		slices.Sort(refs)
		return "", fmt.Errorf("%d different init-data values in the input (%s); choose one with --object", len(distinct), strings.Join(refs, ", "))
	}
	return hits[0].Value, nil
}

// lookup returns the string at path in a decoded object.
func lookup(m map[string]any, path ...string) (string, bool) {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		cur = mm[p]
	}
	s, ok := cur.(string)
	return s, ok
}
