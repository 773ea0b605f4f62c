package imagelock

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/pkg/initdata"
)

// Use is an image a confidential workload runs.
type Use struct {
	Reference string
	// Where is the object and container (Deployment/ns/name container x).
	Where string
}

// Images returns the images of the confidential workloads among objs
// (those carrying an init-data annotation: cocogen gives one to every
// confidential workload it renders), containers and init containers,
// sorted by reference, then by where.
func Images(objs []map[string]any) []Use {
	var out []Use
	for _, obj := range objs {
		apiVersion, _ := obj["apiVersion"].(string)
		kind, _ := obj["kind"].(string)
		tmplPath, ok := initdata.PodTemplatePath(apiVersion, kind)
		if !ok {
			continue
		}
		tmpl, ok := dig(obj, tmplPath...)
		if !ok || !confidential(tmpl) {
			continue
		}
		meta, _ := obj["metadata"].(map[string]any)
		ns, _ := meta["namespace"].(string)
		name, _ := meta["name"].(string)
		for _, field := range []string{"initContainers", "containers"} {
			list, _ := dig(tmpl, "spec")
			containers, _ := list[field].([]any)
			for _, c := range containers {
				cm, _ := c.(map[string]any)
				image, _ := cm["image"].(string)
				cname, _ := cm["name"].(string)
				if image == "" {
					continue
				}
				out = append(out, Use{Reference: image, Where: fmt.Sprintf("%s/%s/%s %s %s", kind, ns, name, field, cname)})
			}
		}
	}
	slices.SortFunc(out, func(a, b Use) int {
		if a.Reference != b.Reference {
			return strings.Compare(a.Reference, b.Reference)
		}
		return strings.Compare(a.Where, b.Where)
	})
	return out
}

func confidential(tmpl map[string]any) bool {
	ann, _ := dig(tmpl, "metadata", "annotations")
	for _, k := range []string{initdata.AnnotationInitData, initdata.AnnotationInitDataLegacy} {
		if _, ok := ann[k]; ok {
			return true
		}
	}
	return false
}

// References are the distinct references of uses, sorted.
func References(uses []Use) []string {
	var out []string
	for _, u := range uses {
		out = append(out, u.Reference)
	}
	return slices.Compact(out)
}

func dig(m map[string]any, path ...string) (map[string]any, bool) {
	for _, k := range path {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil, false
		}
		m = next
	}
	return m, true
}
