package initdata

import (
	"fmt"
	"strings"

	"github.com/cocogen/cocogen/internal/apps"
	"github.com/cocogen/cocogen/internal/profiles"
	"github.com/cocogen/cocogen/pkg/imagelock"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
)

// renderApp reads a confidential application's manifests, adds the
// profile's annotations to its kata workloads and places every object in
// the application's directory of the rendered tree. With a workload
// profile (r nil, lock set) each workload gets its own document, bound to
// its pod spec, and its images pinned to the lock's digests; those
// documents are returned too.
func renderApp(in *render.Input, rp *apps.Repo, ref spec.AppRef, r *profiles.Profile, lock *imagelock.Lock) ([]manifest.Object, []*profiles.Profile, error) {
	p := in.Pattern
	a, g := ref.App, ref.Group
	// Validation guarantees one git-path source in the pattern's repository.
	src := a.Source
	if !rp.HasRepository() {
		return nil, nil, &spec.FieldError{Path: ref.Path() + ".source.path", Msg: "confidential applications are rendered from the pattern's repository, and none was given (render with a repository root)"}
	}
	if src.TargetRevision != p.Spec.Source.TargetRevision {
		in.Warn(ref.Path()+".source.targetRevision", "application %s: rendered from the checked-out repository, not from its targetRevision %q", a.Name, src.TargetRevision)
	}
	objs, err := rp.Load(ref.Path()+".source.path", src.Path)
	if err != nil {
		return nil, nil, err
	}
	var errs spec.ErrorList
	docs := map[string]*profiles.Profile{}
	var docList []*profiles.Profile
	if r == nil {
		// Built before anything below edits the objects: the Trustee
		// generator builds the same documents from the same manifests.
		profRef, _ := p.ProfileRef(a.Confidential.InitData)
		for _, w := range profiles.Workloads(a, objs) {
			doc, err := profiles.BuildWorkload(p, profRef, lock, w)
			if err != nil {
				problems, ok := spec.Problems(err)
				if !ok {
					return nil, nil, err
				}
				errs = append(errs, problems...)
				continue
			}
			docs[w.ID] = doc
			docList = append(docList, doc)
		}
	}
	inj := injector{profile: r, runtimeClass: a.Confidential.RuntimeClassName, kataClass: p.Line().Cluster.KataRuntimeClass, group: g.Name, warnf: func(format string, args ...any) {
		in.Warn(ref.Path(), "application %s: "+format, append([]any{a.Name}, args...)...)
	}}
	var out []manifest.Object
	seen := map[string]string{}
	workloads := 0
	for _, so := range objs {
		o := manifest.Object{Dir: g.AppDir(a), Content: so.Content, Origin: manifest.Origin{Spec: ref.Path(), File: so.File}}
		if o.APIVersion() == "" || o.Kind() == "" || o.Name() == "" {
			errs = append(errs, &spec.FieldError{File: so.File, Msg: "not a Kubernetes object: apiVersion, kind and metadata.name are required"})
			continue
		}
		if o.Namespace() == "" && !clusterScoped(o.Kind()) {
			// What Argo CD would do at sync, made explicit so the tree
			// says where each object goes.
			meta, _ := so.Content["metadata"].(map[string]any)
			meta["namespace"] = a.Namespace
		}
		if prev, dup := seen[o.ID()]; dup {
			errs = append(errs, &spec.FieldError{File: so.File, Msg: fmt.Sprintf("%s is also defined in %s", o.ID(), prev)})
			continue
		}
		seen[o.ID()] = so.File
		if r == nil {
			// A workload's own document; none for other objects, kata
			// (not confidential) workloads and workloads whose document
			// failed (reported above).
			doc, bound := docs[o.Kind()+"/"+o.Namespace()+"/"+o.Name()]
			inj.profile = doc
			if bound {
				profiles.PinImages(o.Content, lock)
			}
		}
		n, err := inj.inject(o)
		if err != nil {
			fe := &spec.FieldError{File: so.File, Msg: err.Error()}
			if ce, ok := err.(*classError); ok {
				fe.Path = ce.field
				fe.Line = rp.LineOf(so.File, o.Name(), "runtimeClassName", ce.class)
			}
			errs = append(errs, fe)
			continue
		}
		workloads += n
		out = append(out, o)
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	if workloads == 0 {
		in.Warn(ref.Path()+".source.path", "application %s is confidential but %s holds no kata workload to give init-data to", a.Name, src.Path)
	}
	return out, docList, nil
}

// clusterScopedKinds are the cluster-scoped kinds an application commonly
// ships; every kind named Cluster* is taken to be cluster-scoped too.
var clusterScopedKinds = map[string]bool{
	"Namespace": true, "CustomResourceDefinition": true, "PersistentVolume": true,
	"StorageClass": true, "PriorityClass": true, "RuntimeClass": true, "IngressClass": true,
	"MutatingWebhookConfiguration": true, "ValidatingWebhookConfiguration": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true,
	"APIService": true, "CSIDriver": true, "Node": true,
	"SecurityContextConstraints": true, "Project": true, "ConsoleLink": true, "ConsolePlugin": true,
}

func clusterScoped(kind string) bool {
	return clusterScopedKinds[kind] || strings.HasPrefix(kind, "Cluster")
}
