package manifest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// WriteStream writes every object of the set, in canonical order, as one
// YAML stream. Each document starts with comments naming its place in the
// tree and its origin, so a reader of the stream can find it in `-o`
// output and in the pattern.
func WriteStream(w io.Writer, s *Set) error {
	// Everything is encoded before the first byte goes out, so a failure
	// writes nothing; then the objects go out through one buffer.
	if err := s.EncodeAll(); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	for i, o := range s.Objects {
		data, err := s.FileData(o)
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteString("---\n")
		}
		bw.WriteString("# Source: ")
		bw.WriteString(o.TreePath())
		bw.WriteByte('\n')
		bw.Write(data)
	}
	return bw.Flush()
}

// MarkerFile is the file WriteTree leaves at the top of a tree it wrote:
// the list of the tree's files. Only a directory holding exactly those
// files (plus the marker) is replaced without --force; Argo CD ignores it
// (not a manifest).
const MarkerFile = ".cocogen-tree"

const markerHeader = "# Written by cocogen render -o; the next render replaces this directory.\n# Files (anything else here makes cocogen refuse to replace it):\n"

// WriteOptions say what WriteTree may replace.
type WriteOptions struct {
	// Force replaces a directory cocogen did not write (or that holds
	// files it did not write). Protected paths stay protected.
	Force bool
	// Protect are paths the tree must neither be nor contain (the
	// pattern file, the repository root), in addition to any directory
	// holding a .git entry.
	Protect []Protected
}

// Protected is a path WriteTree never replaces, with what it is (for the
// message).
type Protected struct {
	Path, What string
}

// RefusedError is a destination WriteTree would not replace; the CLI
// reports it as an input error.
type RefusedError struct {
	Dir, Reason string
	// Forcible says --force would override it.
	Forcible bool
}

func (e *RefusedError) Error() string {
	msg := fmt.Sprintf("%s: refusing to replace it: %s", e.Dir, e.Reason)
	if e.Forcible {
		msg += " (pass --force to replace it anyway)"
	}
	return msg
}

// WriteTree writes the set as a directory tree at dir. The tree is built in
// a temporary sibling directory and renamed into place, so a failure leaves
// dir exactly as it was: never a mix of old and new files. It replaces only
// what cocogen wrote: dir must be missing, empty, or a tree holding
// exactly the files its marker lists (see MarkerFile), unless opts.Force;
// and never a protected path or a directory holding one or a .git entry.
func WriteTree(dir string, s *Set, opts WriteOptions) (err error) {
	dir = filepath.Clean(dir)
	if err := checkDestination(dir, opts); err != nil {
		return err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("creating temporary tree: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	var files []string
	for _, o := range s.Objects {
		data, err := s.FileData(o)
		if err != nil {
			return err
		}
		if err := writeFile(tmp, o.TreePath(), data); err != nil {
			return err
		}
		files = append(files, o.TreePath())
	}
	for _, f := range s.Files {
		if err := writeFile(tmp, f.Path, f.Data); err != nil {
			return err
		}
		files = append(files, f.Path)
	}
	slices.Sort(files)
	if err := writeFile(tmp, MarkerFile, []byte(markerHeader+strings.Join(files, "\n")+"\n")); err != nil {
		return err
	}
	return replaceDir(tmp, dir)
}

// checkDestination decides whether dir may be replaced.
func checkDestination(dir string, opts WriteOptions) error {
	abs, err := realPath(dir)
	if err != nil {
		return err
	}
	for _, p := range opts.Protect {
		pa, err := realPath(p.Path)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(abs, pa); err == nil && (rel == "." || filepath.IsLocal(rel)) {
			what := fmt.Sprintf("it holds %s (%s)", p.What, p.Path)
			if rel == "." {
				what = fmt.Sprintf("it is %s (%s)", p.What, p.Path)
			}
			return &RefusedError{Dir: dir, Reason: what}
		}
	}
	info, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return &RefusedError{Dir: dir, Reason: "it is not a directory"}
	}
	var listed map[string]bool
	if data, err := os.ReadFile(filepath.Join(dir, MarkerFile)); err == nil && strings.HasPrefix(string(data), markerHeader) {
		listed = map[string]bool{MarkerFile: true}
		for _, l := range strings.Split(strings.TrimPrefix(string(data), markerHeader), "\n") {
			if l != "" {
				listed[l] = true
			}
		}
	}
	var foreign string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.Name() == ".git" {
			return &RefusedError{Dir: dir, Reason: "it holds a git repository (" + rel + ")"}
		}
		if d.IsDir() || foreign != "" {
			return nil
		}
		if !listed[filepath.ToSlash(rel)] {
			foreign = filepath.ToSlash(rel)
		}
		return nil
	})
	if err != nil {
		return err
	}
	switch {
	case foreign == "":
		return nil
	case opts.Force:
		return nil
	case listed == nil:
		return &RefusedError{Dir: dir, Reason: "cocogen did not write it (no " + MarkerFile + ") and it holds " + foreign, Forcible: true}
	default:
		return &RefusedError{Dir: dir, Reason: foreign + " was not written by cocogen", Forcible: true}
	}
}

// realPath is the absolute path with symlinks evaluated as far as the
// path exists (a destination may not exist yet).
func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	for cur := abs; ; cur = filepath.Dir(cur) {
		if real, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(real, rest), nil
		}
		if filepath.Dir(cur) == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
	}
}

func writeFile(root, rel string, data []byte) error {
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return fmt.Errorf("refusing to write %q outside the tree", rel)
	}
	path := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// replaceDir moves tmp to dir. An existing dir is moved aside first and
// removed only once the new tree is in place; if the swap fails the old tree
// is put back.
func replaceDir(tmp, dir string) error {
	if _, err := os.Lstat(dir); os.IsNotExist(err) {
		return os.Rename(tmp, dir)
	}
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil {
		return fmt.Errorf("moving old tree aside: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if rerr := os.Rename(old, dir); rerr != nil {
			return fmt.Errorf("installing new tree: %v; restoring old tree also failed: %v", err, rerr)
		}
		return fmt.Errorf("installing new tree: %w", err)
	}
	return os.RemoveAll(old)
}

// ReadTree loads every regular file under dir (but the marker; symlinks
// are not followed) into a map
// keyed by slash-separated relative path; golden tests compare trees with
// it.
func ReadTree(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || (d.Name() == MarkerFile && filepath.Dir(path) == filepath.Clean(dir)) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	return out, err
}

// Tree renders the set in memory as WriteTree would write it.
func Tree(s *Set) (map[string]string, error) {
	out := map[string]string{}
	for _, o := range s.Objects {
		data, err := s.FileData(o)
		if err != nil {
			return nil, err
		}
		out[o.TreePath()] = string(data)
	}
	for _, f := range s.Files {
		out[strings.TrimPrefix(f.Path, "/")] = string(f.Data)
	}
	return out, nil
}
