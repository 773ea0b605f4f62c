package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	yaml "go.yaml.in/yaml/v3"
)

// Set is the whole output of a render.
type Set struct {
	Objects []Object
	Files   []File

	// encoded caches each object's file content (FileData) by the
	// identity of its content map: a render's output is encoded once,
	// whether it is measured, streamed or written as a tree.
	encoded map[encodedKey][]byte
}

type encodedKey struct {
	content unsafe.Pointer
	origin  Origin
}

// EncodeAll encodes every object (FileData) on all CPUs, so that the
// writers and size checks that follow find them encoded: YAML encoding is
// most of the cost of a large render.
func (s *Set) EncodeAll() error {
	if s.encoded == nil {
		s.encoded = map[encodedKey][]byte{}
	}
	var todo []int
	keys := make([]encodedKey, len(s.Objects))
	for i, o := range s.Objects {
		keys[i] = encodedKey{content: reflect.ValueOf(o.Content).UnsafePointer(), origin: o.Origin}
		if _, done := s.encoded[keys[i]]; !done {
			todo = append(todo, i)
		}
	}
	data := make([][]byte, len(s.Objects))
	errs := make([]error, len(s.Objects))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(todo)) {
		wg.Go(func() {
			for {
				n := int(next.Add(1)) - 1
				if n >= len(todo) {
					return
				}
				i := todo[n]
				data[i], errs[i] = MarshalFile(s.Objects[i])
			}
		})
	}
	wg.Wait()
	for _, i := range todo {
		if errs[i] != nil {
			return errs[i]
		}
		s.encoded[keys[i]] = data[i]
	}
	return nil
}

// Clone returns a copy of the set to add objects to, sharing the encoded
// objects' cache.
func (s *Set) Clone() *Set {
	if s.encoded == nil {
		s.encoded = map[encodedKey][]byte{}
	}
	return &Set{Objects: append([]Object(nil), s.Objects...), Files: append([]File(nil), s.Files...), encoded: s.encoded}
}

// FileData is MarshalFile of an object of the set, computed once. Objects
// must not change once encoded (a render's output never does).
func (s *Set) FileData(o Object) ([]byte, error) {
	key := encodedKey{content: reflect.ValueOf(o.Content).UnsafePointer(), origin: o.Origin}
	if data, ok := s.encoded[key]; ok {
		return data, nil
	}
	data, err := MarshalFile(o)
	if err != nil {
		return nil, err
	}
	if s.encoded == nil {
		s.encoded = map[encodedKey][]byte{}
	}
	s.encoded[key] = data
	return data, nil
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
	if out, ok := emitCanonical("", o.Content); ok {
		return out, nil
	}
	return marshalYAML(o)
}

// marshalYAML is Marshal by go.yaml.in/yaml/v3, the definition of the
// canonical form (emitCanonical is the same, faster).
func marshalYAML(o Object) ([]byte, error) {
	var long []string
	n, err := toNode(o.Content, &long)
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
	if len(long) == 0 {
		return buf.Bytes(), nil
	}
	// Put the long values back where their placeholders were emitted.
	out := buf.Bytes()
	for i, s := range long {
		out = bytes.Replace(out, []byte(placeholder(i)), []byte(s), 1)
	}
	return out, nil
}

// A long base64 value (an init-data annotation, an INITDATA key) is what
// the YAML emitter spends most of its time on, scanning it character by
// character to choose a style, only to write it as it is: a plain scalar
// (no spaces, so never folded; no indicators; starts with a letter, so it
// resolves to no other type). It is emitted as a short placeholder of the
// same kind and put back afterwards: the same bytes, far sooner (tests
// hold this against encoding without it).
const longPlain = 256

func isLongPlain(s string) bool {
	if len(s) < longPlain || !(s[0] >= 'A' && s[0] <= 'Z' || s[0] >= 'a' && s[0] <= 'z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

// placeholder is the i-th long value's stand-in: plain-safe and not a
// base64 text cocogen writes (base64 has no '_').
func placeholder(i int) string { return fmt.Sprintf("cocogen_long_value_%d_", i) }

// MarshalFile is the content of the object's file in the tree: its origin
// comment, then Marshal's YAML.
func MarshalFile(o Object) ([]byte, error) {
	c := o.Origin.Comment()
	if out, ok := emitCanonical(c, o.Content); ok {
		return out, nil
	}
	data, err := marshalYAML(o)
	if err != nil {
		return nil, err
	}
	return append([]byte(c), data...), nil
}

func toNode(v any, long *[]string) (*yaml.Node, error) {
	switch x := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child, err := toNode(x[k], long)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			n.Content = append(n.Content, strNode(k), child)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i, item := range x {
			child, err := toNode(item, long)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			n.Content = append(n.Content, child)
		}
		return n, nil
	case string:
		if long != nil && isLongPlain(x) {
			*long = append(*long, x)
			return strNode(placeholder(len(*long) - 1)), nil
		}
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
	switch {
	case strings.Contains(s, "\n") && literalSafe(s):
		n.Style = yaml.LiteralStyle
	case yaml11Bool(s):
		// yaml.v3 quotes these when it marshals a Go string, but not in a
		// !!str node; sigs.k8s.io/yaml (kubectl, kustomize) would read
		// them plain as booleans.
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// yaml11Bool reports whether YAML 1.1 reads s, unquoted, as a boolean.
func yaml11Bool(s string) bool {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF":
		return true
	}
	return false
}

func literalSafe(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		if strings.HasSuffix(line, " ") || strings.HasSuffix(line, "\t") || strings.Contains(line, "\r") {
			return false
		}
	}
	return true
}
