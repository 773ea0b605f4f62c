// Package initdata generates what confidential pods are configured with:
// per init-data profile the readable document and agent policy in git
// (initdata/<profile>.toml and .rego), a ConfigMap with the encoded
// annotation and its digests, and, for every confidential application, its
// manifests with the init-data annotation added to each kata workload
// (apps/<group>/<app>), which the application's Argo CD Application syncs.
package initdata

import (
	"context"
	"fmt"
	"strings"

	"github.com/cocogen/cocogen/internal/apps"
	"github.com/cocogen/cocogen/internal/objects"
	"github.com/cocogen/cocogen/internal/profiles"
	"github.com/cocogen/cocogen/pkg/imagelock"
	"github.com/cocogen/cocogen/pkg/initdata"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
	"github.com/cocogen/cocogen/pkg/waves"
	"github.com/cocogen/cocogen/policies"
)

// Name is the generator's name.
const Name = "initdata"

// Wave is the sync wave of the init-data ConfigMaps: waves.Policies, the
// wave of the ACM policies that copy them to spokes. Within a wave Argo CD
// applies ConfigMaps before custom resources, so the source exists when
// the copy policy is created, and on spokes it is in place before
// OperatorConfig turns the runtime on.
const Wave = waves.Policies

// ProfileLabel marks a ConfigMap with the profile it holds.
const ProfileLabel = "cocogen.dev/initdata-profile"

// maxConfigMapSize is the Kubernetes limit on a ConfigMap's data.
const maxConfigMapSize = 1 << 20

// Generator is the init-data generator.
type Generator struct{}

// New returns the init-data generator.
func New() *Generator { return &Generator{} }

// Name implements render.Generator.
func (*Generator) Name() string { return Name }

// Generate implements render.Generator. Input problems (a profile too
// large, an application that cannot be read or annotated) are collected
// and returned together as a spec.ErrorList.
func (*Generator) Generate(_ context.Context, in *render.Input, out *manifest.Set) error {
	p := in.Pattern
	var errs spec.ErrorList
	// collect keeps input problems to report them all at once; anything
	// else is returned.
	collect := func(err error) error {
		problems, ok := spec.Problems(err)
		if !ok {
			return err
		}
		errs = append(errs, problems...)
		return nil
	}
	rendered := map[string]*profiles.Profile{}
	workloadProfiles := map[string]bool{}
	for _, ref := range p.InitDataProfiles() {
		if ref.Profile.Policy.Profile == spec.PolicyWorkload {
			// No document of its own: one per workload, below.
			workloadProfiles[ref.Profile.Name] = true
			if rt := p.Line().Cluster.ContainerRuntime; rt == policies.RuntimeCRIO {
				in.Warn(ref.Path()+".policy.profile", "init-data profile %q: workload policies for CRI-O (release line %s) follow CRI-O's and OpenShift's sources (annotations, default capabilities, pause command, mounts), not requests seen from a kata agent on OpenShift, since none are published: before relying on them, check the first pods' requests with `cocogen policy explain <policy> <the agent's /tmp/policy.jsonl>`", ref.Profile.Name, p.Spec.Release)
			}
			continue
		}
		r, err := renderProfile(in, ref, out)
		if err != nil {
			if err := collect(err); err != nil {
				return err
			}
			continue
		}
		rendered[ref.Profile.Name] = r
	}
	repo := apps.NewRepo(in.Repo, in.MaxFileBytes)
	var lock *imagelock.Lock
	if len(workloadProfiles) > 0 {
		l, err := profiles.LoadLock(p, in.Repo, in.MaxFileBytes)
		if err != nil {
			if err := collect(err); err != nil {
				return err
			}
			// Go on with an empty lock: the workloads' other problems,
			// and the images each needs locked, are reported too.
			l = &imagelock.Lock{}
		}
		lock = l
	}
	for gi := range p.Spec.ClusterGroups {
		g := &p.Spec.ClusterGroups[gi]
		for ai := range g.Applications {
			a := &g.Applications[ai]
			if a.Confidential == nil {
				continue
			}
			r := rendered[a.Confidential.InitData]
			bound := workloadProfiles[a.Confidential.InitData]
			if r == nil && (!bound || lock == nil) {
				continue // its profile (or the lock) failed (reported) or was not rendered
			}
			ref := spec.AppRef{Group: g, App: a, GroupIndex: gi, AppIndex: ai}
			objs, docs, err := renderApp(in, repo, ref, r, lock)
			if err != nil {
				if err := collect(err); err != nil {
					return err
				}
				continue
			}
			out.Add(objs...)
			for _, doc := range docs {
				addWorkloadFiles(out, g, a, ref, doc)
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// addWorkloadFiles writes a workload document's readable files beside the
// profiles' (<group>/initdata/<profile>/<app>/<kind>-<namespace>-<name>
// .toml and .rego), so a review sees each workload's policy in plain text.
func addWorkloadFiles(out *manifest.Set, g *spec.ClusterGroup, a *spec.Application, ref spec.AppRef, doc *profiles.Profile) {
	kind, rest, _ := strings.Cut(doc.Workload, "/")
	base := fmt.Sprintf("%s/initdata/%s/%s/%s-%s", g.Dir(), doc.Name(), a.Name, strings.ToLower(kind), strings.ReplaceAll(rest, "/", "-"))
	origin := manifest.Origin{Spec: ref.Path()}
	out.AddFile(base+".toml", doc.TOML, origin)
	out.AddFile(base+".rego", []byte(doc.Policy), origin)
}

// profileGroups are the groups whose directories get a profile's files and
// ConfigMap: the hub group (Trustee reads the digests there and ACM copies
// the ConfigMap to spokes), else each workloads group that uses it.
func profileGroups(p *spec.Pattern, name string) []*spec.ClusterGroup {
	if hub := p.HubGroup(); hub != nil {
		return []*spec.ClusterGroup{hub}
	}
	var groups []*spec.ClusterGroup
	seen := map[*spec.ClusterGroup]bool{}
	for _, u := range p.InitDataUsers(name) {
		if !seen[u.Group] {
			seen[u.Group] = true
			groups = append(groups, u.Group)
		}
	}
	return groups
}

func renderProfile(in *render.Input, ref spec.ProfileRef, out *manifest.Set) (*profiles.Profile, error) {
	p, prof, path := in.Pattern, ref.Profile, ref.Path()
	groups := profileGroups(p, prof.Name)
	users := p.InitDataUsers(prof.Name)
	if len(groups) == 0 {
		in.Warn(path, "init-data profile %q is not used by any confidential application and there is no hub group to publish it on; nothing rendered for it", prof.Name)
		return nil, nil
	}
	r, err := profiles.Build(p, ref)
	if err != nil {
		return nil, err
	}
	if prof.Policy.Profile == spec.PolicyStrictRenamed {
		in.Warn(path+".policy.profile", "init-data profile %q: policy profile \"strict\" is now called %q, for what it enforces: it refuses exec and policy changes but does not bind the containers a pod creates (image, command, env, mounts); write %q", prof.Name, spec.PolicyExecDeny, spec.PolicyExecDeny)
	}
	if res := p.ResourcesOf(prof.Name); len(res) > 0 && prof.Policy.AllowLogs != nil && *prof.Policy.AllowLogs {
		in.Warn(path+".policy.allowLogs", "init-data profile %q lets the host read its containers' logs (kubectl logs) while its pods may fetch KBS resources (%s): a container that prints a secret hands it to the host", prof.Name, strings.Join(res, ", "))
	}
	if prof.Policy.Profile == spec.PolicyDebug {
		in.Warn(path+".policy.profile", "init-data profile %q uses the DEBUG agent policy: the host may exec into its pods, write their stdin, copy files in and replace the policy. It gives NO CONFIDENTIALITY; never use it for real workloads or secrets", prof.Name)
	}
	if n := len(r.Annotation); n > initdata.WarnAnnotationSize {
		in.Warn(path, "init-data profile %q: annotation is %d KiB (above %d KiB); every pod object carries it, and Kubernetes allows %d KiB of annotations per object", prof.Name, n>>10, initdata.WarnAnnotationSize>>10, initdata.MaxAnnotationSize>>10)
	}
	if prof.KBS.URL == "" && p.KBSURL() == p.InClusterKBSURL() {
		hub := p.HubGroup()
		for _, u := range users {
			if u.Group != hub {
				in.Warn(path+".kbs.url", "init-data profile %q points %s at the hub's in-cluster KBS service (%s), which pods on group %q cannot reach; set spec.trustee.ingressDomain or spec.trustee.url", prof.Name, u.App.Name, p.InClusterKBSURL(), u.Group.Name)
				break
			}
		}
	}
	if err := checkConfigMapSize(r); err != nil {
		return nil, err
	}
	origin := manifest.Origin{Spec: path}
	for _, g := range groups {
		out.AddFile(g.Dir()+"/initdata/"+prof.Name+".toml", r.TOML, origin)
		out.AddFile(g.Dir()+"/initdata/"+prof.Name+".rego", []byte(r.Policy), origin)
		labels := objects.Labels(p, g.Name)
		labels[ProfileLabel] = prof.Name
		out.Add(manifest.Object{Dir: g.Dir(), Content: configMap(r, labels), Origin: origin})
	}
	return r, nil
}

// checkConfigMapSize refuses a profile whose ConfigMap Kubernetes would
// refuse.
func checkConfigMapSize(r *profiles.Profile) error {
	size := 0
	for k, v := range r.ConfigMapData() {
		size += len(k) + len(v)
	}
	if size > maxConfigMapSize {
		return &spec.FieldError{Path: r.Ref.Path(), Msg: fmt.Sprintf("the init-data ConfigMap would hold %d bytes, above the Kubernetes limit of %d; shrink extraData or the policy", size, maxConfigMapSize)}
	}
	return nil
}

// configMap holds the profile's encoded init-data (INITDATA), its digests
// and the readable document entries.
func configMap(r *profiles.Profile, labels map[string]string) map[string]any {
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata": map[string]any{
			"name":        r.ConfigMapName,
			"namespace":   r.ConfigMapNamespace,
			"labels":      manifest.StringMap(labels),
			"annotations": map[string]any{waves.Annotation: waves.String(Wave)},
		},
		"data": manifest.StringMap(r.ConfigMapData()),
	}
}

var _ render.Generator = (*Generator)(nil)
