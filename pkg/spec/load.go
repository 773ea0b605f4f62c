package spec

import (
	"errors"
	"fmt"
	"io"
	"os"
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
}

// Load reads, decodes, defaults and validates the pattern at path. A
// ".jsonnet" or ".libsonnet" file is evaluated first. Invalid input yields an
// ErrorList holding every problem, each with file, line and field path.
func Load(path string, opts LoadOptions) (*Pattern, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, ErrorList{{File: path, Msg: fmt.Sprintf("cannot read pattern: %v", errors.Unwrap(err))}}
	}
	return Parse(path, data, opts)
}

// Parse is Load for a document already in memory; name is used in errors
// and decides between YAML and Jsonnet.
func Parse(name string, data []byte, opts LoadOptions) (*Pattern, error) {
	d := &decoder{file: name, lines: map[string]int{}}
	if isJsonnet(name) {
		out, err := evalJsonnet(name, data, opts)
		if err != nil {
			return nil, ErrorList{{File: name, Msg: "evaluating Jsonnet: " + strings.TrimSpace(err.Error())}}
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
	if errs := p.Validate(); len(errs) > 0 {
		for _, e := range errs {
			e.File = name
			e.Line = lineOf(d.lines, e.Path)
		}
		return nil, errs.Sorted()
	}
	p.source = &source{file: name, lines: d.lines}
	return &p, nil
}

// source remembers where a loaded pattern came from, so that what is found
// about it after loading (render warnings) can be located too.
type source struct {
	file  string
	lines map[string]int
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

func evalJsonnet(name string, data []byte, opts LoadOptions) (string, error) {
	vm := jsonnet.MakeVM()
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
	vm.Importer(&jsonnet.FileImporter{JPaths: append([]string{filepath.Dir(name)}, opts.JPath...)})
	return vm.EvaluateAnonymousSnippet(name, string(data))
}
