package manifest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// WriteStream writes every object of the set, in canonical order, as one
// YAML stream. Each document starts with comments naming its place in the
// tree and its origin, so a reader of the stream can find it in `-o`
// output and in the pattern.
func WriteStream(w io.Writer, s *Set) error {
	var buf bytes.Buffer
	for i, o := range s.Objects {
		data, err := MarshalFile(o)
		if err != nil {
			return err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		fmt.Fprintf(&buf, "# Source: %s\n", o.TreePath())
		buf.Write(data)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// WriteTree writes the set as a directory tree at dir. The tree is built in
// a temporary sibling directory and renamed into place, so a failure leaves
// dir exactly as it was: never a mix of old and new files.
func WriteTree(dir string, s *Set) (err error) {
	dir = filepath.Clean(dir)
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
	for _, o := range s.Objects {
		data, err := MarshalFile(o)
		if err != nil {
			return err
		}
		if err := writeFile(tmp, o.TreePath(), data); err != nil {
			return err
		}
	}
	for _, f := range s.Files {
		if err := writeFile(tmp, f.Path, f.Data); err != nil {
			return err
		}
	}
	return replaceDir(tmp, dir)
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

// ReadTree loads every regular file under dir into a map keyed by
// slash-separated relative path; golden tests compare trees with it.
func ReadTree(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
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
		data, err := MarshalFile(o)
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
