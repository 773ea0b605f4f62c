// Package render is cocogen's pipeline: it runs the generators over a
// pattern and returns one canonical, checked manifest.Set. The CLI, the Argo
// CD plugin and the KRM function are thin adapters around Render.
package render

import (
	"fmt"
	"io/fs"
	"sort"
	"sync"

	"github.com/cocogen/cocogen/generators"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
)

type options struct {
	gens []generators.Generator
	repo fs.FS
}

// Option configures Render.
type Option func(*options)

// WithGenerators sets the generators to run, in order. Output does not
// depend on how they are scheduled, only on this order.
func WithGenerators(gens ...generators.Generator) Option {
	return func(o *options) { o.gens = append(o.gens, gens...) }
}

// WithRepo gives generators the pattern's repository to read application
// manifests from.
func WithRepo(repo fs.FS) Option {
	return func(o *options) { o.repo = repo }
}

// Result is a render's output and the warnings generators raised.
type Result struct {
	Set      *manifest.Set
	Warnings []string
}

// Render runs the generators over p. Generate phases run concurrently, each
// into its own set; the sets are merged in generator order, finalizers run
// in that order, and the result is sorted and checked for collisions. The
// output is therefore independent of scheduling and GOMAXPROCS.
func Render(p *spec.Pattern, opts ...Option) (*Result, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if len(o.gens) == 0 {
		return nil, fmt.Errorf("render: no generators")
	}
	ctx := &generators.Context{Pattern: p, Repo: o.repo}
	parts := make([]manifest.Set, len(o.gens))
	errs := make([]error, len(o.gens))
	var wg sync.WaitGroup
	for i, g := range o.gens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.Generate(ctx, &parts[i]); err != nil {
				errs[i] = fmt.Errorf("%s: %w", g.Name(), err)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	set := &manifest.Set{}
	for i := range parts {
		set.Add(parts[i].Objects...)
		set.Files = append(set.Files, parts[i].Files...)
	}
	for _, g := range o.gens {
		if f, ok := g.(generators.Finalizer); ok {
			if err := f.Finalize(ctx, set); err != nil {
				return nil, fmt.Errorf("%s: %w", g.Name(), err)
			}
		}
	}
	set.Sort()
	if err := set.Check(); err != nil {
		return nil, err
	}
	warnings := ctx.Warnings()
	sort.Strings(warnings)
	return &Result{Set: set, Warnings: warnings}, nil
}
