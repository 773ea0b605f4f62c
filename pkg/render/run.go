package render

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
)

// Request is one render as a surface (CLI, Argo CD plugin, KRM function,
// diff) asks for it.
type Request struct {
	// Path is the pattern file (.yaml, .yml, .json, .jsonnet). With Data
	// set it only names the pattern in messages and decides its format.
	Path string
	// Data is the pattern's content when the surface already has it (a
	// KRM functionConfig, stdin); nil means read Path.
	Data []byte
	// Load are the Jsonnet options (--ext-str, --tla-str, -J, ...).
	Load spec.LoadOptions
	// RepoRoot is the repository application paths and Jsonnet imports
	// are relative to, and the only directory read; empty means
	// spec.FindRepoRoot(Path) (the working directory for Data).
	RepoRoot string
	// Repo, when set, is the repository itself (in-memory in tests); it
	// takes precedence over RepoRoot.
	Repo fs.FS
	// Only keeps these directories of the tree (a cluster group's name,
	// bootstrap/<group>, ...), as the Argo CD plugin does for one cluster.
	Only []string
	// Generators to run, in merge order: generators.All() for everything
	// cocogen renders.
	Generators []Generator
}

// Result is a render's output.
type Result struct {
	// Pattern is the loaded (defaulted, validated) pattern.
	Pattern *spec.Pattern
	// Set holds the rendered objects and files, sorted and checked.
	Set *manifest.Set
	// Findings are warnings and notes for the user; they never change Set.
	Findings []Finding
}

// Run loads the pattern of req, renders it and selects the requested
// directories. Invalid input (the pattern, or what generators read from the
// repository) is a spec.ErrorList with every problem located; see
// spec.IsInvalid.
func Run(ctx context.Context, req Request) (*Result, error) {
	root := req.RepoRoot
	if root == "" {
		if req.Data != nil {
			root = "."
		} else {
			root = spec.FindRepoRoot(req.Path)
		}
	}
	load := req.Load
	load.RepoRoot = root
	var p *spec.Pattern
	var err error
	if req.Data != nil {
		p, err = spec.Parse(req.Path, req.Data, load)
	} else {
		p, err = spec.Load(req.Path, load)
	}
	if err != nil {
		return nil, err
	}
	repo := req.Repo
	if repo == nil {
		r, err := spec.OpenRepository(root)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		repo = r.FS()
	}
	set, findings, err := render(ctx, p, repo, req.Generators, req.Load.Limits.WithDefaults())
	if err != nil {
		return nil, err
	}
	if len(set.Objects) == 0 && len(set.Files) == 0 {
		file, _ := p.Locate("")
		return nil, spec.ErrorList{{File: file, Path: "spec.clusterGroups", Msg: "the pattern renders nothing; an empty output would make Argo CD prune everything it deployed"}}
	}
	if len(req.Only) > 0 {
		if set, err = only(p, set, req.Only); err != nil {
			return nil, err
		}
	}
	if err := checkOutputSize(p, set, req.Load.Limits.WithDefaults().MaxOutputBytes); err != nil {
		return nil, err
	}
	return &Result{Pattern: p, Set: set, Findings: findings}, nil
}

// only keeps the directories dirs of the tree. A name that selects nothing
// is an input error listing the names that exist: an empty selection would
// read as "delete everything" to Argo CD.
func only(p *spec.Pattern, set *manifest.Set, dirs []string) (*manifest.Set, error) {
	have := map[string]bool{}
	add := func(dir string) {
		for d := dir; d != "." && d != ""; d = path.Dir(d) {
			have[d] = true
		}
	}
	for _, o := range set.Objects {
		add(o.Dir)
	}
	for _, f := range set.Files {
		add(path.Dir(f.Path))
	}
	file, _ := p.Locate("")
	var errs spec.ErrorList
	for _, d := range dirs {
		if !have[strings.Trim(d, "/")] {
			errs = append(errs, &spec.FieldError{File: file, Msg: fmt.Sprintf("--only %q: no such directory in the rendered tree; it has: %s", d, strings.Join(topDirs(have), ", "))})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return set.Only(dirs...), nil
}

// topDirs are the directories worth naming in a message: a group's, and
// bootstrap/<group> and apps/<group>.
func topDirs(have map[string]bool) []string {
	var out []string
	for d := range have {
		if n := strings.Count(d, "/"); n == 0 || (n == 1 && (strings.HasPrefix(d, "bootstrap/") || strings.HasPrefix(d, "apps/"))) {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// checkOutputSize holds the rendered tree to the output limit.
func checkOutputSize(p *spec.Pattern, set *manifest.Set, limit int64) error {
	if err := set.EncodeAll(); err != nil {
		return err
	}
	var total int64
	for _, f := range set.Files {
		total += int64(len(f.Data))
	}
	for _, o := range set.Objects {
		data, err := set.FileData(o)
		if err != nil {
			return err
		}
		if total += int64(len(data)); total > limit {
			break
		}
	}
	if total > limit {
		file, _ := p.Locate("")
		return spec.ErrorList{spec.LimitError(file, "max-output-size", "max-output-size", spec.ByteSize(limit))}
	}
	return nil
}
