// Package krmfn is cocogen as a kustomize KRM function (the Configuration
// Functions Specification, kustomize's exec and container functions): the
// ResourceList's functionConfig is a Pattern; the function renders it with
// pkg/render and appends the objects to the items, as a generator. Input
// problems come back as ResourceList results (severity, message, field
// path, file) with a failed run, never as a silently short list.
//
// The function runs in the kustomization's directory (kustomize sets it for
// exec functions); the pattern's repository is the nearest parent of it
// holding .git, as for `cocogen render`. An annotation on the
// functionConfig, cocogen.dev/only (comma-separated tree directories, e.g.
// a cluster group's name), keeps part of the tree, like --only.
package krmfn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
)

// OnlyAnnotation on the functionConfig selects tree directories.
const OnlyAnnotation = "cocogen.dev/only"

// Options configure a run.
type Options struct {
	// WorkDir is where the function runs (the kustomization directory);
	// the repository is found from it.
	WorkDir string
	// Generators are what to render with (generators.All()).
	Generators []render.Generator
	// Limits bound the input, as for the CLI.
	Limits spec.Limits
}

// Run reads a ResourceList from r and writes the processed one to w. The
// error is a spec.ErrorList when the pattern is invalid (the list written
// to w then carries the same problems as results).
func Run(ctx context.Context, r io.Reader, w io.Writer, opts Options) error {
	rw := &kio.ByteReadWriter{Reader: r, Writer: w, KeepReaderAnnotations: true}
	items, err := rw.Read()
	if err != nil {
		return fmt.Errorf("reading the ResourceList: %w", err)
	}
	// As kyaml's fn/framework.Execute does (fn/framework/framework.go,
	// kustomize/kyaml v0.21.1): path and index annotations of the input
	// are kept in step in their legacy and internal spellings. cocogen
	// does not link the framework: its OpenAPI validation is most of the
	// binary's start-up.
	annotations, err := kio.PreprocessResourcesForInternalAnnotationMigration(items)
	if err != nil {
		return err
	}
	added, results, runErr := process(ctx, rw.FunctionConfig, opts)
	items = append(items, added...)
	if err := kio.ReconcileInternalAnnotations(items, annotations); err != nil {
		return err
	}
	if len(results) > 0 {
		n, err := yaml.FromMap(map[string]any{"results": results.toList()})
		if err != nil {
			return err
		}
		rw.Results = n.Field("results").Value
	}
	if err := rw.Write(items); err != nil {
		return err
	}
	return runErr
}

// result is one entry of a ResourceList's results, in the layout of the
// KRM functions specification (kyaml fn/framework.Result at v0.21.1:
// message, severity, field.path, file.path).
type result struct {
	Severity string
	Message  string
	Field    string
	File     string
}

type resultList []result

// toList is the results as plain values, omitting empty fields as the
// specification's omitempty tags do.
func (rs resultList) toList() []any {
	out := make([]any, len(rs))
	for i, r := range rs {
		m := map[string]any{"severity": r.Severity, "message": r.Message}
		if r.Field != "" {
			m["field"] = map[string]any{"path": r.Field}
		}
		if r.File != "" {
			m["file"] = map[string]any{"path": r.File}
		}
		out[i] = m
	}
	return out
}

// kustomizeAnnotations are the annotation prefixes kustomize and kyaml put
// on a functionConfig (the function spec, local-config, paths and
// indexes); they are the tool's, not the pattern's.
var kustomizeAnnotations = []string{"config.kubernetes.io/", "internal.config.kubernetes.io/", "config.k8s.io/", "kustomize.config.k8s.io/"}

// process renders the functionConfig and returns the objects to add.
func process(ctx context.Context, fc *yaml.RNode, opts Options) ([]*yaml.RNode, resultList, error) {
	if fc == nil {
		err := spec.ErrorList{{Msg: "no functionConfig: give the function a cocogen Pattern"}}
		return nil, resultsOf(err, nil), err
	}
	meta, _ := fc.GetMeta()
	name := configPath(meta)
	if meta.APIVersion != spec.APIVersion || meta.Kind != spec.Kind {
		err := spec.ErrorList{{File: name, Msg: "the functionConfig is a " + meta.APIVersion + " " + meta.Kind + ", want a " + spec.APIVersion + " " + spec.Kind}}
		return nil, resultsOf(err, nil), err
	}
	var only []string
	if v := meta.Annotations[OnlyAnnotation]; v != "" {
		for _, d := range strings.Split(v, ",") {
			if d = strings.TrimSpace(d); d != "" {
				only = append(only, d)
			}
		}
	}
	pattern := fc.Copy()
	if err := stripToolAnnotations(pattern); err != nil {
		return nil, nil, err
	}
	data, err := pattern.String()
	if err != nil {
		return nil, nil, err
	}
	res, err := render.Run(ctx, render.Request{
		Path:       name,
		Data:       []byte(data),
		RepoRoot:   spec.FindRepoRoot(filepath.Join(opts.WorkDir, "kustomization.yaml")),
		Only:       only,
		Generators: opts.Generators,
		Load:       spec.LoadOptions{Limits: opts.Limits},
	})
	if err != nil {
		return nil, resultsOf(err, nil), err
	}
	results := resultsOf(nil, res.Findings)
	items := make([]*yaml.RNode, 0, len(res.Set.Objects))
	for _, o := range res.Set.Objects {
		n, err := yaml.FromMap(o.Content)
		if err != nil {
			return nil, results, err
		}
		items = append(items, n)
	}
	return items, results, nil
}

// configPath names the functionConfig in messages: the file kustomize read
// it from when known.
func configPath(meta yaml.ResourceMeta) string {
	for _, k := range []string{"internal.config.kubernetes.io/path", "config.kubernetes.io/path"} {
		if p := meta.Annotations[k]; p != "" {
			return p
		}
	}
	return "functionConfig.yaml"
}

// stripToolAnnotations removes kustomize's annotations (and the
// function's own cocogen.dev/only) from the pattern's metadata, so the
// pattern decodes as the author wrote it and no rendered object inherits
// local-config.
func stripToolAnnotations(n *yaml.RNode) error {
	ann := n.GetAnnotations()
	for k := range ann {
		if k == OnlyAnnotation {
			delete(ann, k)
			continue
		}
		for _, prefix := range kustomizeAnnotations {
			if strings.HasPrefix(k, prefix) {
				delete(ann, k)
			}
		}
	}
	if len(ann) == 0 {
		return n.PipeE(yaml.Lookup("metadata"), yaml.Clear("annotations"))
	}
	return n.SetAnnotations(ann)
}

// resultsOf turns input errors and findings into ResourceList results.
func resultsOf(err error, findings []render.Finding) resultList {
	var out resultList
	var errs spec.ErrorList
	if errors.As(err, &errs) {
		for _, e := range errs {
			out = append(out, result{Severity: "error", Message: e.Msg, Field: e.Path, File: e.File})
		}
	} else if err != nil {
		out = append(out, result{Severity: "error", Message: err.Error()})
	}
	for _, f := range findings {
		sev := "warning"
		if f.Severity == render.Info {
			sev = "info"
		}
		out = append(out, result{Severity: sev, Message: f.Message, Field: f.Field, File: f.File})
	}
	return out
}
