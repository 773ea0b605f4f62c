package manifest

import (
	"maps"
	"slices"

	udiff "github.com/aymanbagabas/go-udiff"
)

// ChangeKind says how a file differs between two trees.
type ChangeKind string

// Kinds of change.
const (
	Added    ChangeKind = "added"
	Removed  ChangeKind = "removed"
	Modified ChangeKind = "modified"
)

// Change is one file that differs between two trees (as Tree and ReadTree
// return them: slash-separated path to content).
type Change struct {
	Path     string
	Kind     ChangeKind
	Old, New string
}

// CompareTrees returns every file that differs between old and new, sorted
// by path. Equal trees give none.
func CompareTrees(old, new map[string]string) []Change {
	paths := map[string]bool{}
	for p := range old {
		paths[p] = true
	}
	for p := range new {
		paths[p] = true
	}
	var out []Change
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		o, inOld := old[p]
		n, inNew := new[p]
		switch {
		case !inOld:
			out = append(out, Change{Path: p, Kind: Added, New: n})
		case !inNew:
			out = append(out, Change{Path: p, Kind: Removed, Old: o})
		case o != n:
			out = append(out, Change{Path: p, Kind: Modified, Old: o, New: n})
		}
	}
	return out
}

// Unified is the change as a unified diff (a/<path> and b/<path>, three
// lines of context), the form reviewers read in pull requests.
func (c Change) Unified() string {
	oldName, newName := "a/"+c.Path, "b/"+c.Path
	switch c.Kind {
	case Added:
		oldName = "/dev/null"
	case Removed:
		newName = "/dev/null"
	}
	return udiff.Unified(oldName, newName, c.Old, c.New)
}
