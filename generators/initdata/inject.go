package initdata

import (
	"fmt"
	"strings"

	"github.com/cocogen/cocogen/internal/profiles"
	"github.com/cocogen/cocogen/pkg/initdata"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
)

// injector adds a profile's annotations to workloads.
type injector struct {
	profile      *profiles.Profile
	runtimeClass string // the application's, for pods that name none
	warnf        func(format string, args ...any)
}

// inject annotates o's pod template if o is a kata workload and returns
// how many pod templates it annotated (0 or 1). A workload without a
// runtime class gets the application's; one with a non-kata class is left
// alone (with a warning): it would not read init-data.
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
	switch rc, _ := podSpec["runtimeClassName"].(string); {
	case rc == "":
		podSpec["runtimeClassName"] = in.runtimeClass
	case !spec.IsKataRuntimeClass(rc):
		in.warnf("%s runs with runtimeClassName %q, not a kata class; it gets no init-data and is not confidential", o.ID(), rc)
		return 0, nil
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
