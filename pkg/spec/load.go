package spec

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"

	jsonnet "github.com/google/go-jsonnet"
	yaml "go.yaml.in/yaml/v3"
)

// LoadOptions are inputs to Jsonnet patterns, passed through exactly like
// the jsonnet command's --ext-str/--ext-code/--tla-str/--tla-code flags.
type LoadOptions struct {
	ExtStrs  map[string]string
	ExtCodes map[string]string
	TLAStrs  map[string]string
	TLACodes map[string]string
	// JPath is the Jsonnet library search path (-J); the file's own
	// directory is always searched first.
	JPath []string
	// Release, when set, renders the pattern for this release line
	// instead of its own spec.release (to try a pattern on another line).
	Release string
	// RepoRoot is the repository the pattern belongs to: Jsonnet imports
	// and -J directories resolve inside it and nowhere else. Empty means
	// FindRepoRoot of the pattern file (Load) or the working directory
	// (Parse).
	RepoRoot string
	// Limits bound the input; zero fields take the defaults.
	Limits Limits
}

// Load reads, decodes, defaults and validates the pattern at path. A
// ".jsonnet" or ".libsonnet" file is evaluated first. Invalid input yields an
// ErrorList holding every problem, each with file, line and field path.
//
// The pattern must be a regular file inside its repository (symlinks
// evaluated), at most Limits.MaxInputBytes long.
func Load(path string, opts LoadOptions) (*Pattern, error) {
	if opts.RepoRoot == "" {
		opts.RepoRoot = FindRepoRoot(path)
	}
	repo, err := OpenRepository(opts.RepoRoot)
	if err != nil {
		return nil, ErrorList{{File: path, Msg: err.Error()}}
	}
	defer repo.Close()
	rel, err := repo.Rel(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, ErrorList{{File: path, Msg: "cannot read pattern: " + err.Error()}}
	}
	limit := opts.Limits.WithDefaults().MaxInputBytes
	data, err := repo.ReadFile(rel, limit)
	if errors.Is(err, errTooLarge) {
		return nil, ErrorList{LimitError(path, "max-input-size", "max-input-size", byteSize(limit))}
	}
	if err != nil {
		return nil, ErrorList{{File: path, Msg: "cannot read pattern: " + describeOpenError(err)}}
	}
	return parse(path, rel, data, opts, repo)
}

// Parse is Load for a document already in memory; name is used in errors
// and decides between YAML and Jsonnet (whose imports resolve from the
// repository's root).
func Parse(name string, data []byte, opts LoadOptions) (*Pattern, error) {
	return parse(name, path.Base(filepath.ToSlash(name)), data, opts, nil)
}

// parse decodes a pattern named name (in messages) found at the
// repository path rel. repo is opened on demand for Jsonnet imports.
func parse(name, rel string, data []byte, opts LoadOptions, repo *Repository) (*Pattern, error) {
	limits := opts.Limits.WithDefaults()
	if int64(len(data)) > limits.MaxInputBytes {
		return nil, ErrorList{LimitError(name, "max-input-size", "max-input-size", byteSize(limits.MaxInputBytes))}
	}
	d := &decoder{file: name, lines: map[string]int{}}
	if isJsonnet(name) {
		if repo == nil {
			root := opts.RepoRoot
			if root == "" {
				root = "."
			}
			r, err := OpenRepository(root)
			if err != nil {
				return nil, ErrorList{{File: name, Msg: err.Error()}}
			}
			defer r.Close()
			repo = r
		}
		out, err := evalJsonnet(name, rel, data, opts, limits, repo)
		if err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				return nil, ErrorList{fe}
			}
			return nil, ErrorList{{File: name, Msg: "evaluating Jsonnet: " + jsonnetMessage(err)}}
		}
		data = []byte(out)
		// Lines of the manifested JSON mean nothing to the author of the
		// Jsonnet; the field path is what locates the problem there.
		d.noLines = true
	}
	root, err := parseSingleDocument(name, data)
	if err != nil {
		return nil, err
	}
	var p Pattern
	d.decode(root, reflect.ValueOf(&p).Elem(), "")
	if len(d.errs) > 0 {
		return nil, d.errs.Sorted()
	}
	if opts.Release != "" {
		p.Spec.Release = opts.Release
	}
	p.Default()
	if p.Spec.ImageLock == "" {
		p.Spec.ImageLock = path.Join(path.Dir(rel), DefaultImageLock)
	}
	if errs := p.Validate(); len(errs) > 0 {
		for _, e := range errs {
			e.File = name
			e.Line = lineOf(d.lines, e.Path)
		}
		return nil, errs.Sorted()
	}
	p.source = &source{file: name, repoPath: rel, lines: d.lines}
	return &p, nil
}

// source remembers where a loaded pattern came from, so that what is found
// about it after loading (render warnings) can be located too.
type source struct {
	file     string
	repoPath string // the pattern's path in its repository
	lines    map[string]int
}

// RepoPath is the pattern file's path in its repository (slash-separated),
// e.g. for a config-management plugin to find it; "pattern.yaml" for a
// pattern built in memory.
func (p *Pattern) RepoPath() string {
	if p.source == nil || p.source.repoPath == "" {
		return "pattern.yaml"
	}
	return p.source.repoPath
}

// Locate returns the file the pattern was loaded from and the line of the
// field at path, or of its nearest parent present in the file (0 when none
// is, or for Jsonnet patterns). A pattern built in memory has no file.
func (p *Pattern) Locate(path string) (file string, line int) {
	if p.source == nil {
		return "", 0
	}
	return p.source.file, lineOf(p.source.lines, path)
}

// lineOf finds the line of path or of its nearest parent that was present in
// the input (defaulted fields have no line of their own).
func lineOf(lines map[string]int, path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := lines[p]; ok {
			return l
		}
	}
	return 0
}

func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndex(p, "["); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndex(p, "."); i >= 0 {
		return p[:i]
	}
	return ""
}

func parseSingleDocument(name string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, ErrorList{yamlSyntaxError(name, err)}
		}
		docs = append(docs, &n)
	}
	switch len(docs) {
	case 0:
		return nil, ErrorList{{File: name, Line: 1, Msg: "empty document: want a Pattern"}}
	case 1:
		return docs[0], nil
	default:
		return nil, ErrorList{{File: name, Line: docs[1].Line, Msg: fmt.Sprintf("%d YAML documents: a file holds exactly one Pattern", len(docs))}}
	}
}

// yamlSyntaxError turns "yaml: line 7: mapping values are not allowed" into
// a located FieldError.
func yamlSyntaxError(name string, err error) *FieldError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if _, scanErr := fmt.Sscanf(n, "%d", &line); scanErr == nil {
				msg = after
			}
		}
	}
	return &FieldError{File: name, Line: line, Msg: "YAML syntax: " + msg}
}

func isJsonnet(name string) bool {
	ext := filepath.Ext(name)
	return ext == ".jsonnet" || ext == ".libsonnet"
}

func evalJsonnet(name, rel string, data []byte, opts LoadOptions, limits Limits, repo *Repository) (string, error) {
	vm := jsonnet.MakeVM()
	vm.MaxStack = limits.JsonnetMaxStack
	for k, v := range opts.ExtStrs {
		vm.ExtVar(k, v)
	}
	for k, v := range opts.ExtCodes {
		vm.ExtCode(k, v)
	}
	for k, v := range opts.TLAStrs {
		vm.TLAVar(k, v)
	}
	for k, v := range opts.TLACodes {
		vm.TLACode(k, v)
	}
	im := &importer{repo: repo, limit: limits.MaxInputBytes, cache: map[string]importResult{}}
	for _, dir := range opts.JPath {
		jp, err := repo.Rel(dir)
		if err != nil {
			return "", &FieldError{File: name, Msg: fmt.Sprintf("-J %s: %v", dir, err)}
		}
		im.jpaths = append(im.jpaths, jp)
	}
	// No native functions are registered: std is all a pattern can call.
	vm.Importer(im)
	return budgeted(name, limits, func() (string, error) {
		return vm.EvaluateAnonymousSnippet(rel, string(data))
	})
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

// jsonnetMessage is a Jsonnet error on one line: its first line and the
// innermost place it names, without the rest of the stack (which, for a
// runaway recursion, runs to hundreds of frames).
func jsonnetMessage(err error) string {
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	msg := strings.TrimSpace(lines[0])
	for _, l := range lines[1:] {
		if l = strings.TrimSpace(l); l != "" {
			loc, _, _ := strings.Cut(l, "\t")
			return msg + " (at " + strings.TrimSpace(loc) + ")"
		}
	}
	return msg
}
