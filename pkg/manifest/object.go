package manifest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Object is one Kubernetes object of the rendered output.
type Object struct {
	// Dir is the directory of the rendered tree the object belongs to, e.g.
	// "hub" (what the hub group's root Application syncs) or "bootstrap".
	Dir string
	// Content is the object as JSON-compatible values (what encoding/json
	// produces with UseNumber).
	Content map[string]any
	// Origin is the generator and pattern field that made the object; it
	// becomes the leading comment of its file, never part of Content.
	Origin Origin
}

// File is a plain file of the rendered tree (readable init-data TOML, Rego).
// Argo CD's directory sources read only .yaml, .yml and .json files, so
// these are for people and CI diffs, not for the cluster.
type File struct {
	// Path is slash-separated and relative to the tree root.
	Path string
	Data []byte
	// Origin is the generator and pattern field that made the file. These
	// files are exact payloads (the init-data document whose digest the TEE
	// measures, the policy inside it), so it is not written into them.
	Origin Origin
}

// FromTyped converts a typed API object (k8s.io/api, argo-cd types) into an
// Object, dropping the empty fields that Go's zero values would otherwise
// serialise (creationTimestamp: null, status: {}), so output carries only
// what the generator meant.
func FromTyped(dir string, obj any, origin Origin) (Object, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return Object{}, fmt.Errorf("encoding %T: %w", obj, err)
	}
	content, err := DecodeJSON(raw)
	if err != nil {
		return Object{}, fmt.Errorf("decoding %T: %w", obj, err)
	}
	pruneEmpty(content)
	return Object{Dir: dir, Content: content, Origin: origin}, nil
}

// MustFromTyped is FromTyped for objects built by generators from typed
// structs, which always marshal; a failure is a programming error.
func MustFromTyped(dir string, obj any, origin Origin) Object {
	o, err := FromTyped(dir, obj, origin)
	if err != nil {
		panic(err)
	}
	return o
}

// pruneEmpty removes metadata.creationTimestamp: null and empty status
// objects, which typed structs cannot omit.
func pruneEmpty(m map[string]any) {
	if md, ok := m["metadata"].(map[string]any); ok {
		if v, ok := md["creationTimestamp"]; ok && v == nil {
			delete(md, "creationTimestamp")
		}
	}
	if st, ok := m["status"].(map[string]any); ok && isEmptyStatus(st) {
		delete(m, "status")
	}
	if spec, ok := m["spec"].(map[string]any); ok {
		// Pod templates carry their own metadata with the same problem.
		if tmpl, ok := spec["template"].(map[string]any); ok {
			pruneEmpty(tmpl)
		}
	}
}

func isEmptyStatus(st map[string]any) bool {
	for _, v := range st {
		switch x := v.(type) {
		case map[string]any:
			if !isEmptyStatus(x) {
				return false
			}
		case []any:
			if len(x) > 0 {
				return false
			}
		case string:
			if x != "" {
				return false
			}
		case nil:
		default:
			return false
		}
	}
	return true
}

func (o Object) str(path ...string) string {
	var cur any = o.Content
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[p]
	}
	s, _ := cur.(string)
	return s
}

// APIVersion of the object.
func (o Object) APIVersion() string { return o.str("apiVersion") }

// Kind of the object.
func (o Object) Kind() string { return o.str("kind") }

// Name of the object.
func (o Object) Name() string { return o.str("metadata", "name") }

// Namespace of the object; empty for cluster-scoped objects.
func (o Object) Namespace() string { return o.str("metadata", "namespace") }

// Group is the API group of the object ("" for the core group).
func (o Object) Group() string {
	g, _, ok := strings.Cut(o.APIVersion(), "/")
	if !ok {
		return ""
	}
	return g
}

// ID identifies the object for messages and duplicate detection.
func (o Object) ID() string {
	id := o.APIVersion() + " " + o.Kind() + " "
	if ns := o.Namespace(); ns != "" {
		id += ns + "/"
	}
	return id + o.Name()
}

// TreePath is where the object is written in the rendered tree:
// <dir>/<Kind>/<namespace>/<name>.yaml, or <dir>/<Kind>/<name>.yaml for
// cluster-scoped objects. Two kinds of one name in different API groups
// would share a path; Set.Check reports that rather than guessing.
func (o Object) TreePath() string {
	// An object outside any directory (a base of its own) has none.
	parts := []string{o.Kind()}
	if o.Dir != "" {
		parts = []string{o.Dir, o.Kind()}
	}
	if ns := o.Namespace(); ns != "" {
		parts = append(parts, ns)
	}
	parts = append(parts, o.Name()+".yaml")
	return strings.Join(parts, "/")
}
