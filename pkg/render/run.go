package render

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"

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
	// RepoRoot is the repository application paths are relative to;
	// empty means FindRepoRoot(Path).
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
	var p *spec.Pattern
	var err error
	if req.Data != nil {
		p, err = spec.Parse(req.Path, req.Data, req.Load)
	} else {
		p, err = spec.Load(req.Path, req.Load)
	}
	if err != nil {
		return nil, err
	}
	repo := req.Repo
	if repo == nil {
		root := req.RepoRoot
		if root == "" {
			root = FindRepoRoot(req.Path)
		}
		repo = os.DirFS(root)
	}
	set, findings, err := Render(ctx, p, repo, req.Generators)
	if err != nil {
		return nil, err
	}
	if len(req.Only) > 0 {
		set = set.Only(req.Only...)
	}
	return &Result{Pattern: p, Set: set, Findings: findings}, nil
}

// FindRepoRoot walks up from the pattern file to the directory holding
// .git, the root application paths in a pattern are relative to; without
// one it is the pattern's own directory.
func FindRepoRoot(patternFile string) string {
	start, err := filepath.Abs(filepath.Dir(patternFile))
	if err != nil {
		return filepath.Dir(patternFile)
	}
	for dir := start; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			return start
		}
	}
}
