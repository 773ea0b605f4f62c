package initdata

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/profiles"
	"github.com/cocogen/cocogen/pkg/initdata"
	"github.com/cocogen/cocogen/pkg/manifest"
)

// injector adds a profile's annotations to workloads.
type injector struct {
	profile *profiles.Profile
	// runtimeClass is the group's confidential class, which every
	// workload of the application runs in: the runtime class is
	// cocogen's decision, not the manifest's.
	runtimeClass string
	// kataClass is the group's non-confidential kata class, which a
	// workload may keep to opt out (no init-data).
	kataClass string
	group     string
	warnf     func(format string, args ...any)
}

// classError is a workload naming a runtime class its cluster group does
// not provide: the API server would reject it ("RuntimeClass not found").
type classError struct {
	id, class, group, want string
	// field is the path of runtimeClassName in the manifest.
	field string
}

func (e *classError) Error() string {
	return fmt.Sprintf("%s names runtimeClassName %q, which cluster group %q does not provide: leave runtimeClassName out, cocogen sets the group's confidential class %q", e.id, e.class, e.group, e.want)
}

// inject annotates o's pod template if o is a workload and returns how
// many pod templates it annotated (0 or 1). A workload without a runtime
// class gets the group's confidential one; one that keeps the plain kata
// class is left alone (with a warning); any other class is an error.
func (in *injector) inject(o manifest.Object) (int, error) {
	tmplPath, ok := initdata.PodTemplatePath(o.APIVersion(), o.Kind())
	if !ok {
		return 0, nil
	}
	tmpl, err := walk(o.Content, tmplPath)
	if err != nil {
		return 0, fmt.Errorf("%s: %v", o.ID(), err)
	}
	where := "pod template"
	if len(tmplPath) == 0 {
		where = "pod"
	}
	podSpec, err := walk(tmpl, []string{"spec"})
	if err != nil {
		return 0, fmt.Errorf("%s: %s: %v", o.ID(), where, err)
	}
	switch rc, _ := podSpec["runtimeClassName"].(string); rc {
	case "":
		podSpec["runtimeClassName"] = in.runtimeClass
	case in.runtimeClass:
	case in.kataClass:
		in.warnf("%s runs with runtimeClassName %q, in a kata VM without a TEE: it gets no init-data and is not confidential", o.ID(), rc)
		return 0, nil
	default:
		return 0, &classError{id: o.ID(), class: rc, group: in.group, want: in.runtimeClass, field: strings.Join(append(slices.Clone(tmplPath), "spec", "runtimeClassName"), ".")}
	}
	if in.profile == nil {
		return 0, nil // a workload profile's document that failed, reported
	}
	meta, err := walk(tmpl, []string{"metadata"})
	if err != nil {
		return 0, fmt.Errorf("%s: %s: %v", o.ID(), where, err)
	}
	ann, err := walk(meta, []string{"annotations"})
	if err != nil {
		return 0, fmt.Errorf("%s: %s: %v", o.ID(), where, err)
	}
	for _, key := range initdata.AnnotationKeys {
		have, exists := ann[key]
		if !exists {
			continue
		}
		if want, ours := in.profile.Annotations[key]; ours && fmt.Sprint(have) == want {
			continue // already what cocogen would set
		}
		if !in.profile.Ref.Profile.Annotations.Override {
			return 0, fmt.Errorf("%s: the %s already has annotation %s; cocogen sets init-data from profile %q (set annotations.override: true on the profile to replace it, or remove it from the manifest)", o.ID(), where, key, in.profile.Name())
		}
		delete(ann, key)
	}
	for k, v := range in.profile.Annotations {
		ann[k] = v
	}
	return 1, nil
}

// walk returns the object at path below m, creating empty objects on the
// way; it fails when something else is in the way.
func walk(m map[string]any, path []string) (map[string]any, error) {
	cur := m
	for i, k := range path {
		next, exists := cur[k]
		if !exists || next == nil {
			child := map[string]any{}
			cur[k] = child
			cur = child
			continue
		}
		child, ok := next.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s is a %T, want an object", strings.Join(path[:i+1], "."), next)
		}
		cur = child
	}
	return cur, nil
}
