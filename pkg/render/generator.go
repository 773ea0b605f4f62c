package render

import (
	"context"
	"fmt"
	"io/fs"
	"sync"

	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
)

// Generator turns a validated pattern into one family of the rendered
// output (Argo CD applications, init-data, Trustee, ACM policies, ...).
// Each family is a package of its own under generators/ and never imports
// another: what two families share is in the pattern or in a library
// package, computed deterministically by both.
type Generator interface {
	// Name is short and stable; it prefixes the generator's errors and
	// names it in the provenance comment of every file it makes
	// ("generators/<name>").
	Name() string
	// Generate adds the generator's objects and files to out. It must be a
	// pure function of in: same input, same output. Every object it adds
	// carries Origin.Spec, the pattern field it was made from.
	Generate(ctx context.Context, in *Input, out *manifest.Set) error
}

// Finalizer is an optional second phase: it runs after every Generate and
// sees (and may add to) the whole output so far. The App-of-Apps uses it to
// grant each AppProject exactly the kinds and namespaces the other
// generators put in its directory.
type Finalizer interface {
	// FinalizeAfter names the generators whose Finalize must have run
	// before this one's. The order is declared here, not implied by the
	// generators' list order, and a name that is not among the generators
	// of a render is an error before anything runs.
	FinalizeAfter() []string
	Finalize(ctx context.Context, in *Input, out *manifest.Set) error
}

// Input is what every generator of one render works from, and where it
// reports findings for the user.
type Input struct {
	// Pattern is decoded, defaulted and validated.
	Pattern *spec.Pattern
	// Repo is the pattern's git repository as checked out (the root that
	// application paths are relative to); nil when rendering without one.
	Repo fs.FS
	// MaxFileBytes bounds each file a generator reads from Repo (use
	// spec.ReadRepoFile, which names the limit when it is exceeded).
	MaxFileBytes int64

	generator string // set on the per-generator copies the runner hands out
	log       *findingLog
}

// findingLog collects the findings of one render from every generator.
type findingLog struct {
	mu   sync.Mutex
	list []Finding
}

// NewInput returns the input of a render of p.
func NewInput(p *spec.Pattern, repo fs.FS) *Input {
	return &Input{Pattern: p, Repo: repo, MaxFileBytes: spec.DefaultMaxInputBytes, log: &findingLog{}}
}

// forGenerator is in as one generator sees it: what it reports names it.
func (in *Input) forGenerator(name string) *Input {
	return &Input{Pattern: in.Pattern, Repo: in.Repo, MaxFileBytes: in.MaxFileBytes, generator: name, log: in.log}
}

// Warn records a warning about the pattern field at path (e.g. a permissive
// policy profile). Warnings never change the output; every surface shows
// them (stderr, KRM results, plugin logs).
func (in *Input) Warn(path, format string, args ...any) {
	in.report(Finding{Severity: Warning, Field: path, Message: fmt.Sprintf(format, args...)})
}

// Note records information the user needs to act on that is not a
// problem (e.g. a Secret to create before syncing).
func (in *Input) Note(path, format string, args ...any) {
	in.report(Finding{Severity: Info, Field: path, Message: fmt.Sprintf(format, args...)})
}

func (in *Input) report(f Finding) {
	f.Generator = in.generator
	if in.Pattern != nil && f.Field != "" && f.File == "" {
		f.File, f.Line = in.Pattern.Locate(f.Field)
	}
	in.log.mu.Lock()
	defer in.log.mu.Unlock()
	in.log.list = append(in.log.list, f)
}

// Findings returns what generators reported so far, sorted.
func (in *Input) Findings() []Finding {
	in.log.mu.Lock()
	defer in.log.mu.Unlock()
	return sortFindings(append([]Finding(nil), in.log.list...))
}
