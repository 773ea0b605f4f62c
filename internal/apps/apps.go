// Package apps reads the manifests of a pattern's applications from its
// repository: plain YAML and JSON files, or a kustomization built with
// kustomize's own API, confined to the repository and bounded in size.
// Generators that need an application's objects (the init-data generator
// annotates them, the Trustee generator binds workload policies' digests)
// read them through it and agree on them.
package apps

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
)

// kustomizationFiles are the names kustomize (and Argo CD, to decide that a
// directory is a kustomization) recognise.
var kustomizationFiles = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// Repo reads application manifests from the pattern's repository. The
// file system is confined to the repository (render opens it with
// os.Root: a symlink leading out is an error, never followed), and every
// file is read through spec.ReadRepoFile, bounded by limit.
type Repo struct {
	fsys  fs.FS
	limit int64
	mem   filesys.FileSystem // lazily built copy for kustomize
	// loaded caches each directory's manifests: applications of many
	// groups share a source. Callers get copies (injection edits them).
	loaded map[string]loadResult
}

type loadResult struct {
	objs []Object
	err  error
}

func NewRepo(fsys fs.FS, limit int64) *Repo {
	return &Repo{fsys: fsys, limit: limit, loaded: map[string]loadResult{}}
}

// Load reads the manifests at dir (see read), once per render; every call
// gets its own copy of the objects.
func (rp *Repo) Load(field, dir string) ([]Object, error) {
	r, ok := rp.loaded[path.Clean(dir)]
	if !ok {
		r.objs, r.err = rp.read(field, dir)
		rp.loaded[path.Clean(dir)] = r
	}
	if r.err != nil {
		var fe *spec.FieldError
		if errors.As(r.err, &fe) && fe.Path != "" && fe.Path != field {
			// The same directory under another application: its field.
			c := *fe
			c.Path = field
			return nil, &c
		}
		return nil, r.err
	}
	out := make([]Object, len(r.objs))
	for i, o := range r.objs {
		out[i] = Object{File: o.File, Content: manifest.DeepCopy(o.Content)}
	}
	return out, nil
}

// readError locates a failed read at the file, without anything of its
// content.
func readError(name string, err error) *spec.FieldError {
	var fe *spec.FieldError
	if errors.As(err, &fe) {
		return fe
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "escapes") {
		return &spec.FieldError{File: name, Msg: "leaves the repository (a symlink pointing outside it): cocogen reads nothing outside the repository"}
	}
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &spec.FieldError{File: name, Msg: "cannot read: " + err.Error()}
}

// Object is one manifest of an application and where it came from.
type Object struct {
	// File is the repository path it was read from, for messages.
	File string
	// Content is the object.
	Content map[string]any
}

// read reads the manifests at dir: a kustomization is built, otherwise
// every .yaml, .yml and .json file below dir is read (multi-document,
// recursively, in lexical order).
func (rp *Repo) read(field, dir string) ([]Object, error) {
	dir = path.Clean(dir)
	if !fs.ValidPath(dir) {
		return nil, &spec.FieldError{Path: field, Msg: fmt.Sprintf("%q is not a path inside the repository", dir)}
	}
	info, err := fs.Stat(rp.fsys, dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		fe := readError(dir, err)
		return nil, &spec.FieldError{Path: field, Msg: fmt.Sprintf("%s: %s", dir, fe.Msg)}
	}
	if err != nil || !info.IsDir() {
		return nil, &spec.FieldError{Path: field, Msg: fmt.Sprintf("%s: no such directory in the repository", dir)}
	}
	for _, k := range kustomizationFiles {
		if _, err := fs.Stat(rp.fsys, path.Join(dir, k)); err == nil {
			return rp.kustomize(dir, path.Join(dir, k))
		}
	}
	var out []Object
	var errs spec.ErrorList
	err = fs.WalkDir(rp.fsys, dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && name != dir {
				return fs.SkipDir
			}
			return nil
		}
		switch path.Ext(name) {
		case ".yaml", ".yml", ".json":
		default:
			return nil
		}
		data, err := spec.ReadRepoFile(rp.fsys, name, rp.limit)
		if err != nil {
			errs = append(errs, readError(name, err))
			return nil
		}
		objs, err := manifest.ReadStream(data)
		if err != nil {
			errs = append(errs, &spec.FieldError{File: name, Msg: err.Error()})
			return nil
		}
		for _, o := range objs {
			out = append(out, Object{File: name, Content: o})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// kustomize builds the kustomization at dir over an in-memory copy of the
// repository, so it reads exactly what is in git and nothing else.
func (rp *Repo) kustomize(dir, file string) ([]Object, error) {
	if rp.mem == nil {
		mem, err := copyToMemory(rp.fsys, rp.limit)
		if err != nil {
			return nil, err
		}
		rp.mem = mem
	}
	if err := localOnly(rp.mem, "/"+dir, map[string]bool{}); err != nil {
		return nil, err
	}
	// Default options: load restrictions root-only, no plugins, no Helm.
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(rp.mem, "/"+dir)
	if err != nil {
		return nil, &spec.FieldError{File: file, Msg: "kustomize build: " + err.Error()}
	}
	var out []Object
	for _, r := range res.Resources() {
		raw, err := r.MarshalJSON()
		if err != nil {
			return nil, &spec.FieldError{File: file, Msg: fmt.Sprintf("kustomize output %s: %v", r.CurId(), err)}
		}
		m, err := manifest.DecodeJSON(raw)
		if err != nil {
			return nil, &spec.FieldError{File: file, Msg: fmt.Sprintf("kustomize output %s: %v", r.CurId(), err)}
		}
		out = append(out, Object{File: file, Content: m})
	}
	return out, nil
}

// localOnly refuses a kustomization that would reach beyond the
// repository: kustomize fetches a resources, bases or components entry it
// cannot find locally as a remote (git or HTTP) resource, which would make
// the render depend on the network instead of the commit. Every entry must
// be a file or directory of the in-memory copy; directories are followed.
func localOnly(mem filesys.FileSystem, dir string, seen map[string]bool) error {
	if seen[dir] {
		return nil
	}
	seen[dir] = true
	var kfile string
	for _, k := range kustomizationFiles {
		if mem.Exists(path.Join(dir, k)) {
			kfile = path.Join(dir, k)
			break
		}
	}
	if kfile == "" {
		return nil // a plain resource directory
	}
	data, err := mem.ReadFile(kfile)
	if err != nil {
		return err
	}
	var k struct {
		Resources  []string `json:"resources"`
		Bases      []string `json:"bases"`
		Components []string `json:"components"`
	}
	if err := sigsyaml.Unmarshal(data, &k); err != nil {
		return &spec.FieldError{File: strings.TrimPrefix(kfile, "/"), Msg: "not a kustomization: " + err.Error()}
	}
	for _, entry := range slices.Concat(k.Resources, k.Bases, k.Components) {
		p := path.Join(dir, entry)
		switch {
		case strings.Contains(entry, "://") || !mem.Exists(p) || !strings.HasPrefix(p+"/", "/"):
			return &spec.FieldError{File: strings.TrimPrefix(kfile, "/"), Msg: fmt.Sprintf("resource %q is not in the repository: cocogen renders from the commit only and never fetches remote resources (vendor it into the repository)", entry)}
		case mem.IsDir(p):
			if err := localOnly(mem, p, seen); err != nil {
				return err
			}
		}
	}
	return nil
}

func copyToMemory(src fs.FS, limit int64) (filesys.FileSystem, error) {
	mem := filesys.MakeFsInMemory()
	err := fs.WalkDir(src, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return fs.SkipDir
			}
			return mem.MkdirAll("/" + name)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if info, err := d.Info(); err != nil || info.Size() > limit {
			return err // larger files are not manifests; kustomize will not find them
		}
		data, err := spec.ReadRepoFile(src, name, limit)
		if err != nil {
			return err
		}
		return mem.WriteFile("/"+name, data)
	})
	if err != nil {
		return nil, fmt.Errorf("copying the repository for kustomize: %w", err)
	}
	return mem, nil
}

// LineOf finds, in a manifest file of the repository, the line of a
// key: value pair inside the document whose metadata.name is name; 0 when
// the file is a kustomization (its output has no lines) or has no such
// pair. It only runs to locate an error.
func (rp *Repo) LineOf(file, name, key, value string) int {
	data, err := spec.ReadRepoFile(rp.fsys, file, rp.limit)
	if err != nil || slices.Contains(kustomizationFiles, path.Base(file)) {
		return 0
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			return 0
		}
		if !hasName(&doc, name) {
			continue
		}
		if line := findPair(&doc, key, value); line > 0 {
			return line
		}
	}
}

// hasName reports whether a document's metadata.name is name.
func hasName(doc *yaml.Node, name string) bool {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	meta := mapValue(root, "metadata")
	n := mapValue(meta, "name")
	return n != nil && n.Value == name
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// findPair returns the line of the first key: value pair below n.
func findPair(n *yaml.Node, key, value string) int {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, v := n.Content[i], n.Content[i+1]; k.Value == key && v.Kind == yaml.ScalarNode && v.Value == value {
				return k.Line
			}
		}
	}
	for _, c := range n.Content {
		if line := findPair(c, key, value); line > 0 {
			return line
		}
	}
	return 0
}

// HasRepository reports whether the render has a repository to read
// applications from.
func (rp *Repo) HasRepository() bool { return rp.fsys != nil }
