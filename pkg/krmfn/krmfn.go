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
	"io"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
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
	var inputErr error
	p := framework.ResourceListProcessorFunc(func(rl *framework.ResourceList) error {
		items, results, err := process(ctx, rl.FunctionConfig, opts)
		rl.Results = append(rl.Results, results...)
		if err != nil {
			if spec.IsInvalid(err) {
				inputErr = err
			}
			return err
		}
		rl.Items = append(rl.Items, items...)
		return nil
	})
	err := framework.Execute(p, &kio.ByteReadWriter{Reader: r, Writer: w, KeepReaderAnnotations: true})
	if inputErr != nil {
		return inputErr
	}
	return err
}

// kustomizeAnnotations are the annotation prefixes kustomize and kyaml put
// on a functionConfig (the function spec, local-config, paths and
// indexes); they are the tool's, not the pattern's.
var kustomizeAnnotations = []string{"config.kubernetes.io/", "internal.config.kubernetes.io/", "config.k8s.io/", "kustomize.config.k8s.io/"}

// process renders the functionConfig and returns the objects to add.
func process(ctx context.Context, fc *yaml.RNode, opts Options) ([]*yaml.RNode, framework.Results, error) {
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
func resultsOf(err error, findings []render.Finding) framework.Results {
	var out framework.Results
	var errs spec.ErrorList
	if errors.As(err, &errs) {
		for _, e := range errs {
			out = append(out, &framework.Result{Severity: framework.Error, Message: e.Msg, Field: field(e.Path), File: file(e.File)})
		}
	} else if err != nil {
		out = append(out, &framework.Result{Severity: framework.Error, Message: err.Error()})
	}
	for _, f := range findings {
		sev := framework.Warning
		if f.Severity == render.Info {
			sev = framework.Info
		}
		out = append(out, &framework.Result{Severity: sev, Message: f.Message, Field: field(f.Field), File: file(f.File)})
	}
	return out
}

func field(path string) *framework.Field {
	if path == "" {
		return nil
	}
	return &framework.Field{Path: path}
}

func file(path string) *framework.File {
	if path == "" {
		return nil
	}
	return &framework.File{Path: path}
}
