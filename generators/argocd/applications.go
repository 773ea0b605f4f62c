package argocd

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sort"

	argo "github.com/cocogen/cocogen/internal/argoapp"

	"github.com/cocogen/cocogen/internal/objects"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
	"github.com/cocogen/cocogen/pkg/waves"
)

var typeApplication = argo.TypeApplication

// rootApplication syncs RenderedPath/<group> into the cluster. It is the one
// object of a group applied by hand (hub) or by ACM (spokes).
func rootApplication(p *spec.Pattern, g group) manifest.Object {
	name := p.RootName(g.ClusterGroup)
	app := &argo.Application{
		TypeMeta: typeApplication,
		ObjectMeta: argo.ObjectMeta{
			Name:      name,
			Namespace: p.Spec.ArgoCD.Namespace,
			Labels:    objects.Labels(p, g.Name),
		},
		Spec: argo.ApplicationSpec{
			Project:     name,
			Source:      renderedSource(p, g.Dir(), g.Name, ""),
			Destination: argo.ApplicationDestination{Server: inCluster, Namespace: p.Spec.ArgoCD.Namespace},
			SyncPolicy: &argo.SyncPolicy{
				Automated: &argo.SyncPolicyAutomated{Prune: true, SelfHeal: true},
				Retry:     defaultRetry(),
			},
		},
	}
	return manifest.MustFromTyped(g.BootstrapDir(), app, g.origin(""))
}

// renderedSource is where an Application finds a directory of the
// rendered tree: in git at RenderedPath/<dir>, or, with spec.argocd.plugin,
// rendered at sync time by the plugin from the pattern (its parameters
// group and app select the same directory).
func renderedSource(p *spec.Pattern, dir, groupName, appName string) *argo.ApplicationSource {
	src := &argo.ApplicationSource{RepoURL: p.Spec.Source.RepoURL, TargetRevision: p.Spec.Source.TargetRevision}
	if p.Spec.ArgoCD.Plugin == "" {
		src.Path = path.Join(p.Spec.Source.RenderedPath, dir)
		src.Directory = &argo.ApplicationSourceDirectory{Recurse: true}
		return src
	}
	src.Path = path.Dir(p.RepoPath())
	params := []argo.PluginParameter{
		{Name: "group", String: &groupName},
	}
	if appName != "" {
		params = append(params, argo.PluginParameter{Name: "app", String: &appName})
	}
	if file := path.Base(p.RepoPath()); file != "pattern.yaml" {
		params = append(params, argo.PluginParameter{Name: "pattern", String: &file})
	}
	src.Plugin = &argo.ApplicationSourcePlugin{Name: p.Spec.ArgoCD.Plugin, Parameters: params}
	return src
}

func defaultRetry() *argo.RetryStrategy {
	factor := int64(2)
	return &argo.RetryStrategy{Limit: 5, Backoff: &argo.Backoff{Duration: "5s", Factor: &factor, MaxDuration: "3m"}}
}

// childApplication is one application of the group. Confidential
// applications sync the manifests cocogen rendered and annotated with their
// init-data (RenderedPath/apps/<group>/<app>) instead of their own source.
func childApplication(p *spec.Pattern, g group, i int) manifest.Object {
	a := &g.Applications[i]
	wave := waves.Workloads
	if a.SyncWave != nil {
		wave = *a.SyncWave
	}
	app := &argo.Application{
		TypeMeta: typeApplication,
		ObjectMeta: argo.ObjectMeta{
			Name:      a.Name,
			Namespace: p.Spec.ArgoCD.Namespace,
			Labels:    objects.Labels(p, g.Name),
			// Deleting the Application deletes what it deployed, so removing
			// an app from the pattern cleans the cluster up.
			Finalizers:  []string{argo.ResourcesFinalizerName},
			Annotations: map[string]string{waves.Annotation: waves.String(wave)},
		},
		Spec: argo.ApplicationSpec{
			Project:           a.Project,
			Destination:       argo.ApplicationDestination{Server: inCluster, Namespace: a.Namespace},
			SyncPolicy:        syncPolicy(a.SyncPolicy),
			IgnoreDifferences: ignoreDifferences(a.IgnoreDifferences),
		},
	}
	switch {
	case a.Confidential != nil:
		app.Spec.Source = renderedSource(p, g.AppDir(a), g.Name, a.Name)
	case a.Source != nil:
		app.Spec.Source = source(a.Source)
	default:
		for i := range a.Sources {
			app.Spec.Sources = append(app.Spec.Sources, *source(&a.Sources[i]))
		}
	}
	return manifest.MustFromTyped(g.Dir(), app, g.origin(fmt.Sprintf(".applications[%d]", i)))
}

func source(s *spec.AppSource) *argo.ApplicationSource {
	out := &argo.ApplicationSource{
		RepoURL:        s.RepoURL,
		TargetRevision: s.TargetRevision,
		Path:           s.Path,
		Chart:          s.Chart,
		Ref:            s.Ref,
	}
	if h := s.Helm; h != nil {
		helm := &argo.ApplicationSourceHelm{ReleaseName: h.ReleaseName, ValueFiles: h.ValueFiles}
		names := make([]string, 0, len(h.Parameters))
		for k := range h.Parameters {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			helm.Parameters = append(helm.Parameters, argo.HelmParameter{Name: k, Value: h.Parameters[k]})
		}
		if len(h.Values) > 0 {
			raw, err := json.Marshal(h.Values)
			if err != nil {
				panic(err) // values came from YAML/JSON decoding; they always marshal
			}
			helm.ValuesObject = raw
		}
		out.Helm = helm
	}
	return out
}

func syncPolicy(sp *spec.SyncPolicy) *argo.SyncPolicy {
	out := &argo.SyncPolicy{SyncOptions: sp.SyncOptions}
	if !sp.Manual {
		out.Automated = &argo.SyncPolicyAutomated{Prune: *sp.Prune, SelfHeal: *sp.SelfHeal}
	}
	if r := sp.Retry; r != nil {
		out.Retry = &argo.RetryStrategy{
			Limit:   *r.Limit,
			Backoff: &argo.Backoff{Duration: r.Duration, Factor: r.Factor, MaxDuration: r.MaxDuration},
		}
	}
	return out
}

// ignoreDifferences copies the pattern's entries (the same type) so the
// Application does not share the pattern's slices.
func ignoreDifferences(in []spec.IgnoreDifference) []argo.ResourceIgnoreDifferences {
	return slices.Clone(in)
}
