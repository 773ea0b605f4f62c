package profiles

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/cocogen/cocogen/internal/apps"
	"github.com/cocogen/cocogen/pkg/imagelock"
	"github.com/cocogen/cocogen/pkg/spec"
	"github.com/cocogen/cocogen/policies"
)

// A profile with policy.profile workload gives every confidential
// workload its own init-data: the profile's aa.toml and cdh.toml, and an
// agent policy bound to the workload's pod spec and the image lock. The
// init-data generator annotates each workload with its document, the
// Trustee generator trusts each document's digest; both derive them here
// from the same manifests.

// Workload is a confidential workload of an application.
type Workload struct {
	// ID is Kind/namespace/name.
	ID string
	// File is the repository file it was read from.
	File string
	Pod  policies.Pod
}

// Workloads are the workloads of an application's objects that get
// init-data: every pod or pod template whose runtime class is unset or
// the application's confidential class (cocogen sets the class; the
// init-data generator reports other classes). Objects without a
// namespace are in the application's, as the render places them.
func Workloads(app *spec.Application, objs []apps.Object) []Workload {
	configMaps := map[string]map[string]string{}
	for _, o := range objs {
		if o.Content["kind"] != "ConfigMap" || o.Content["apiVersion"] != "v1" {
			continue
		}
		meta, _ := o.Content["metadata"].(map[string]any)
		name, _ := meta["name"].(string)
		data, _ := o.Content["data"].(map[string]any)
		cm := map[string]string{}
		for k, v := range data {
			cm[k], _ = v.(string)
		}
		configMaps[namespaceOf(meta, app)+"/"+name] = cm
	}
	var out []Workload
	for _, o := range objs {
		pod, ok := policies.PodFromObject(o.Content, configMaps)
		if !ok {
			continue
		}
		if rc, _ := pod.Spec["runtimeClassName"].(string); rc != "" && rc != app.Confidential.RuntimeClassName {
			continue
		}
		kind, _ := o.Content["kind"].(string)
		meta, _ := o.Content["metadata"].(map[string]any)
		pod.Namespace = namespaceOf(meta, app)
		name, _ := meta["name"].(string)
		out = append(out, Workload{ID: kind + "/" + pod.Namespace + "/" + name, File: o.File, Pod: pod})
	}
	return out
}

func namespaceOf(meta map[string]any, app *spec.Application) string {
	if ns, _ := meta["namespace"].(string); ns != "" {
		return ns
	}
	return app.Namespace
}

// LoadLock reads the pattern's image lock (spec.imageLock) from its
// repository.
func LoadLock(p *spec.Pattern, repo fs.FS, limit int64) (*imagelock.Lock, error) {
	file := p.Spec.ImageLock
	patternFile, line := p.Locate("spec.imageLock")
	if repo == nil {
		return nil, &spec.FieldError{File: patternFile, Line: line, Path: "spec.imageLock", Msg: "workload policies are generated from the image lock in the pattern's repository, and none was given (render with a repository root)"}
	}
	data, err := spec.ReadRepoFile(repo, file, limit)
	if errors.Is(err, fs.ErrNotExist) {
		var bound []string
		for _, ref := range p.InitDataProfiles() {
			if ref.Profile.Policy.Profile == spec.PolicyWorkload {
				bound = append(bound, ref.Profile.Name)
			}
		}
		return nil, &spec.FieldError{File: patternFile, Line: line, Path: "spec.imageLock", Msg: fmt.Sprintf("no image lock at %s, and %s each confidential workload to its pod spec and locked images (the default for profiles applications use): run `cocogen images lock -f %s` (it resolves the images of the confidential workloads, once, with registry access) and commit %s; or write `policy: {profile: exec-deny}` in the profile, which does not bind the containers a pod creates",
			file, profilesBind(bound), patternFile, path.Base(file))}
	}
	if err != nil {
		return nil, &spec.FieldError{File: file, Msg: err.Error()}
	}
	lock, err := imagelock.Parse(file, data)
	if err != nil {
		// Parse names the file on each line; the error's File does here.
		msg := strings.ReplaceAll("\n"+err.Error(), "\n"+file+": ", "\n")
		return nil, &spec.FieldError{File: file, Msg: strings.TrimPrefix(msg, "\n")}
	}
	return lock, nil
}

// profilesBind is `init-data profile "a" binds` or `init-data profiles
// "a", "b" bind`.
func profilesBind(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = strconv.Quote(n)
	}
	if len(names) == 1 {
		return "init-data profile " + quoted[0] + " binds"
	}
	return "init-data profiles " + strings.Join(quoted, ", ") + " bind"
}

// BuildWorkload renders the init-data of one workload of a workload
// profile: the profile's document with the agent policy bound to the
// workload. Images missing from the lock are an input error at the
// workload's file, naming them and the command that fixes it.
func BuildWorkload(p *spec.Pattern, ref spec.ProfileRef, lock *imagelock.Lock, w Workload) (*Profile, error) {
	containers, err := policies.Containers(w.Pod, lock, policies.SettingsFor(p.Line().Cluster.ContainerRuntime))
	if err != nil {
		return nil, &spec.FieldError{File: w.File, Msg: fmt.Sprintf("%s: %v", w.ID, err)}
	}
	opts := PolicyOptions(ref.Profile)
	opts.Containers = containers
	opts.Probes = policies.Probes(w.Pod)
	r, err := build(p, ref, opts)
	if err != nil {
		return nil, err
	}
	r.Workload = w.ID
	return r, nil
}

// PinImages rewrites the images of a workload object's pod (template) to the
// locked digests (reference@digest), so that the image the node pulls
// and names to the agent is the one the policy expects.
func PinImages(obj map[string]any, lock *imagelock.Lock) {
	pod, ok := policies.PodFromObject(obj, nil)
	if !ok {
		return
	}
	for _, field := range []string{"initContainers", "containers"} {
		list, _ := pod.Spec[field].([]any)
		for _, c := range list {
			cm, _ := c.(map[string]any)
			image, _ := cm["image"].(string)
			if im, ok := lock.Find(image); ok && !strings.Contains(image, "@") {
				cm["image"] = image + "@" + im.Digest
			}
		}
	}
}

// WorkloadImages are the images of every confidential workload of the
// pattern (containers and init containers, whatever its profile), read
// from the repository as the render reads them: what `cocogen images
// lock` resolves. It needs no lock, so it runs before there is one.
func WorkloadImages(p *spec.Pattern, repo fs.FS, limit int64) ([]imagelock.Use, error) {
	rp := apps.NewRepo(repo, limit)
	var uses []imagelock.Use
	var errs spec.ErrorList
	for gi := range p.Spec.ClusterGroups {
		g := &p.Spec.ClusterGroups[gi]
		for ai := range g.Applications {
			a := &g.Applications[ai]
			if a.Confidential == nil {
				continue
			}
			ref := spec.AppRef{Group: g, App: a, GroupIndex: gi, AppIndex: ai}
			objs, err := rp.Load(ref.Path()+".source.path", a.Source.Path)
			if err != nil {
				problems, ok := spec.Problems(err)
				if !ok {
					return nil, err
				}
				errs = append(errs, problems...)
				continue
			}
			for _, w := range Workloads(a, objs) {
				for _, field := range []string{"initContainers", "containers"} {
					list, _ := w.Pod.Spec[field].([]any)
					for _, c := range list {
						cm, _ := c.(map[string]any)
						image, _ := cm["image"].(string)
						name, _ := cm["name"].(string)
						if image != "" {
							uses = append(uses, imagelock.Use{Reference: image, Where: fmt.Sprintf("%s %s %s", w.ID, field, name)})
						}
					}
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	slices.SortFunc(uses, func(a, b imagelock.Use) int {
		if c := strings.Compare(a.Reference, b.Reference); c != 0 {
			return c
		}
		return strings.Compare(a.Where, b.Where)
	})
	return uses, nil
}
