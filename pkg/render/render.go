// Package render is cocogen's library entry point: Run loads a pattern,
// runs the generators over it and returns one canonical, checked
// manifest.Set with the findings worth telling the user. The CLI, the Argo
// CD plugin, the KRM function and diff are thin adapters around Run.
//
// The package also owns the contract generators implement (Generator,
// Finalizer, Input). It knows only that contract, never a generator: the
// standard set is generators.All(), which callers pass in.
package render

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"

	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
)

// Render runs gens over p and returns the output and the findings. Generate
// phases run concurrently, each into its own set; the sets are merged in
// the order of gens, finalizers run in the order they declare, and the
// result is sorted and checked for collisions. The output is therefore
// independent of scheduling and GOMAXPROCS.
//
// Input problems that generators find (an application directory that does
// not exist, a profile too large) are returned together as a
// spec.ErrorList, located in the pattern file; anything else is an
// internal error naming the generator.
func Render(ctx context.Context, p *spec.Pattern, repo fs.FS, gens []Generator) (*manifest.Set, []Finding, error) {
	return render(ctx, p, repo, gens, spec.Limits{}.WithDefaults())
}

func render(ctx context.Context, p *spec.Pattern, repo fs.FS, gens []Generator, limits spec.Limits) (*manifest.Set, []Finding, error) {
	finalizers, err := finalizeOrder(gens)
	if err != nil {
		return nil, nil, err
	}
	in := NewInput(p, repo)
	in.MaxFileBytes = limits.MaxInputBytes
	parts := make([]manifest.Set, len(gens))
	errs := make([]error, len(gens))
	var wg sync.WaitGroup
	for i, g := range gens {
		wg.Go(func() {
			if err := ctx.Err(); err != nil {
				errs[i] = err
				return
			}
			errs[i] = g.Generate(ctx, in.forGenerator(g.Name()), &parts[i])
			stamp(g.Name(), parts[i].Objects, parts[i].Files)
		})
	}
	wg.Wait()
	if err := joinErrors(p, gens, errs); err != nil {
		return nil, nil, err
	}
	set := &manifest.Set{}
	for i := range parts {
		set.Add(parts[i].Objects...)
		set.Files = append(set.Files, parts[i].Files...)
	}
	for _, i := range finalizers {
		g := gens[i]
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		nObjs, nFiles := len(set.Objects), len(set.Files)
		err := g.(Finalizer).Finalize(ctx, in.forGenerator(g.Name()), set)
		if err := joinErrors(p, []Generator{g}, []error{err}); err != nil {
			return nil, nil, err
		}
		stamp(g.Name(), set.Objects[nObjs:], set.Files[nFiles:])
	}
	if err := checkOrigins(set); err != nil {
		return nil, nil, err
	}
	set.Sort()
	if err := set.Check(); err != nil {
		return nil, nil, err
	}
	if err := scanSecrets(p, set, repo, limits.MaxInputBytes, in); err != nil {
		return nil, nil, err
	}
	return set, in.Findings(), nil
}

// stamp names the generator on what it made.
func stamp(name string, objs []manifest.Object, files []manifest.File) {
	for i := range objs {
		if objs[i].Origin.Generator == "" {
			objs[i].Origin.Generator = name
		}
	}
	for i := range files {
		if files[i].Origin.Generator == "" {
			files[i].Origin.Generator = name
		}
	}
}

// checkOrigins enforces provenance: every object and file names the
// pattern field it came from, so every file of the tree can be traced.
func checkOrigins(set *manifest.Set) error {
	var missing []string
	for _, o := range set.Objects {
		if o.Origin.Spec == "" {
			missing = append(missing, o.Origin.Generator+": "+o.ID())
		}
	}
	for _, f := range set.Files {
		if f.Origin.Spec == "" {
			missing = append(missing, f.Origin.Generator+": file "+f.Path)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("render: output without the pattern field it came from (Origin.Spec): %v", missing)
	}
	return nil
}

// joinErrors merges generators' errors: input problems of every generator
// into one located spec.ErrorList, so the user sees them all at once; the
// first other error, prefixed with its generator, as an internal error.
func joinErrors(p *spec.Pattern, gens []Generator, errs []error) error {
	var invalid spec.ErrorList
	for i, err := range errs {
		if err == nil {
			continue
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		problems, ok := spec.Problems(err)
		if !ok {
			return fmt.Errorf("%s: %w", gens[i].Name(), err)
		}
		invalid = append(invalid, problems...)
	}
	if len(invalid) == 0 {
		return nil
	}
	for _, fe := range invalid {
		if fe.File == "" && fe.Path != "" {
			fe.File, fe.Line = p.Locate(fe.Path)
		}
	}
	return invalid.Sorted()
}

// finalizeOrder returns the indexes of the finalizers among gens in an
// order that honours every FinalizeAfter declaration, list order breaking
// ties. A declared name that is not among gens, a duplicate generator name
// or a cycle is an error: it is a wiring mistake, caught before any work.
func finalizeOrder(gens []Generator) ([]int, error) {
	if len(gens) == 0 {
		return nil, errors.New("render: no generators (pass generators.All())")
	}
	index := map[string]int{}
	for i, g := range gens {
		if _, dup := index[g.Name()]; dup {
			return nil, fmt.Errorf("render: two generators named %q", g.Name())
		}
		index[g.Name()] = i
	}
	after := map[int][]int{}
	var pending []int
	for i, g := range gens {
		f, ok := g.(Finalizer)
		if !ok {
			continue
		}
		pending = append(pending, i)
		for _, name := range f.FinalizeAfter() {
			j, ok := index[name]
			if !ok {
				return nil, fmt.Errorf("render: %s finalizes after %q, which is not among the generators", g.Name(), name)
			}
			if _, ok := gens[j].(Finalizer); ok {
				after[i] = append(after[i], j)
			}
		}
	}
	done := map[int]bool{}
	var order []int
	for len(pending) > 0 {
		progressed := false
		for k, i := range pending {
			ready := true
			for _, j := range after[i] {
				ready = ready && done[j]
			}
			if ready {
				order = append(order, i)
				done[i] = true
				pending = slices.Delete(pending, k, k+1)
				progressed = true
				break
			}
		}
		if !progressed {
			var names []string
			for _, i := range pending {
				names = append(names, gens[i].Name())
			}
			return nil, fmt.Errorf("render: finalizers wait on each other in a cycle: %v", names)
		}
	}
	return order, nil
}
