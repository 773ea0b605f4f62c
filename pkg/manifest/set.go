package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Set is the whole output of a render.
type Set struct {
	Objects []Object
	Files   []File
}

// Add appends objects.
func (s *Set) Add(objs ...Object) { s.Objects = append(s.Objects, objs...) }

// AddFile appends a plain file.
func (s *Set) AddFile(path string, data []byte, origin Origin) {
	s.Files = append(s.Files, File{Path: path, Data: data, Origin: origin})
}

// Only returns the objects and files inside the given tree directories
// (a directory and everything below it).
func (s *Set) Only(dirs ...string) *Set {
	inside := func(p string) bool {
		for _, d := range dirs {
			d = strings.Trim(d, "/")
			if p == d || strings.HasPrefix(p, d+"/") {
				return true
			}
		}
		return false
	}
	out := &Set{}
	for _, o := range s.Objects {
		if inside(o.Dir) {
			out.Objects = append(out.Objects, o)
		}
	}
	for _, f := range s.Files {
		if inside(f.Path) {
			out.Files = append(out.Files, f)
		}
	}
	return out
}

// kindRank puts what other objects depend on first, so that a plain
// `kubectl apply -f` of the stream applies cleanly.
func kindRank(kind string) int {
	switch kind {
	case "Namespace":
		return 0
	case "CustomResourceDefinition":
		return 1
	default:
		return 2
	}
}

// Sort puts objects and files in canonical order: by directory, then
// Namespaces and CRDs first, then apiVersion, kind, namespace, name.
func (s *Set) Sort() {
	sort.SliceStable(s.Objects, func(i, j int) bool {
		a, b := s.Objects[i], s.Objects[j]
		if a.Dir != b.Dir {
			return a.Dir < b.Dir
		}
		if ra, rb := kindRank(a.Kind()), kindRank(b.Kind()); ra != rb {
			return ra < rb
		}
		if a.APIVersion() != b.APIVersion() {
			return a.APIVersion() < b.APIVersion()
		}
		if a.Kind() != b.Kind() {
			return a.Kind() < b.Kind()
		}
		if a.Namespace() != b.Namespace() {
			return a.Namespace() < b.Namespace()
		}
		return a.Name() < b.Name()
	})
	sort.SliceStable(s.Files, func(i, j int) bool { return s.Files[i].Path < s.Files[j].Path })
}

// Check reports objects that would overwrite each other in the tree or on
// the cluster, and files that collide with objects: each is a generator bug
// or a pattern naming two things alike.
func (s *Set) Check() error {
	var problems []string
	seen := map[string]string{}
	claim := func(key, what string) {
		if prev, dup := seen[key]; dup {
			problems = append(problems, fmt.Sprintf("%s and %s both render to %s", prev, what, key))
			return
		}
		seen[key] = what
	}
	for _, o := range s.Objects {
		if o.Kind() == "" || o.Name() == "" || o.APIVersion() == "" {
			problems = append(problems, fmt.Sprintf("object in %q lacks apiVersion, kind or name", o.Dir))
			continue
		}
		claim(o.TreePath(), o.ID())
	}
	for _, f := range s.Files {
		claim(f.Path, "file "+f.Path)
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("conflicting output:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// Marshal encodes one object as canonical YAML: keys sorted, two-space
// indent, multi-line strings as literal blocks so embedded TOML and Rego
// stay readable in review.
func Marshal(o Object) ([]byte, error) {
	n, err := toNode(o.Content)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.ID(), err)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("%s: %w", o.ID(), err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// MarshalFile is the content of the object's file in the tree: its origin
// comment, then Marshal's YAML.
func MarshalFile(o Object) ([]byte, error) {
	data, err := Marshal(o)
	if err != nil {
		return nil, err
	}
	c := o.Origin.Comment()
	if c == "" {
		return data, nil
	}
	return append([]byte(c), data...), nil
}

func toNode(v any) (*yaml.Node, error) {
	switch x := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child, err := toNode(x[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			n.Content = append(n.Content, strNode(k), child)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i, item := range x {
			child, err := toNode(item)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			n.Content = append(n.Content, child)
		}
		return n, nil
	case string:
		return strNode(x), nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(x), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(x)}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(x)}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	case int, int32, int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(x)}, nil
	case float64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: fmt.Sprint(x)}, nil
	default:
		return nil, fmt.Errorf("unsupported value of type %T", v)
	}
}

// strNode renders a string; multi-line strings without trailing spaces on a
// line become literal blocks (YAML cannot keep such spaces in a block).
func strNode(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if strings.Contains(s, "\n") && literalSafe(s) {
		n.Style = yaml.LiteralStyle
	}
	return n
}

func literalSafe(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		if strings.HasSuffix(line, " ") || strings.HasSuffix(line, "\t") || strings.Contains(line, "\r") {
			return false
		}
	}
	return true
}
