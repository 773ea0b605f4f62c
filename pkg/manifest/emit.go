package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	yaml "go.yaml.in/yaml/v3"
)

// The canonical YAML of an object, written directly. go.yaml.in/yaml/v3
// is the definition of the output (Marshal with it is canonical), but its
// emitter examines every character of every scalar to choose a style, and
// is most of the cost of a large render. This writer produces the same
// bytes for the shapes cocogen emits: block mappings with sorted keys,
// block sequences indented under their key, flow {} and [] when empty,
// literal blocks for multi-line strings, and plain scalars for strings it
// can prove yaml.v3 writes plain. Any other string is written by yaml.v3
// itself, one scalar at a time; a value it cannot place at all (a key
// yaml.v3 would write as a complex key) makes the object fall back to
// yaml.v3 whole. Tests hold the two to the same bytes on every golden
// object and under fuzzing.

// emitCanonical writes prefix (a comment) and then v as yaml.v3 (indent
// 2) would, or reports false.
func emitCanonical(prefix string, v any) ([]byte, bool) {
	x, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	if len(x) == 0 {
		return []byte(prefix + "{}\n"), true
	}
	e := emitters.Get().(*emitter)
	defer func() {
		e.buf.Reset()
		e.failed = false
		emitters.Put(e)
	}()
	e.buf.WriteString(prefix)
	e.mapping(x, 0)
	if e.failed {
		return nil, false
	}
	// One exact copy out of the reused buffer, instead of the buffer's
	// doublings for every object.
	return bytes.Clone(e.buf.Bytes()), true
}

// emitters are reused across objects: their buffers have grown to the
// size of a large object already.
var emitters = sync.Pool{New: func() any { return &emitter{} }}

type emitter struct {
	buf    bytes.Buffer
	failed bool
}

func (e *emitter) indent(n int) {
	for range n {
		e.buf.WriteByte(' ')
	}
}

// mapping writes the entries of a non-empty map, each at column col.
// The first entry's indentation is the caller's when it continues a line
// ("- " of a sequence item).
func (e *emitter) mapping(m map[string]any, col int) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			e.indent(col)
		}
		if !e.key(k) {
			return
		}
		e.value(m[k], col)
	}
}

// key writes "k:" (without the space); false for keys yaml.v3 would not
// write as simple keys.
func (e *emitter) key(k string) bool {
	if len(k) > 128 || strings.ContainsAny(k, "\n\r") {
		e.failed = true
		return false
	}
	e.scalar(k)
	e.buf.WriteByte(':')
	return true
}

// value writes what follows "k:" for a mapping entry at column col.
func (e *emitter) value(v any, col int) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			e.buf.WriteString(" {}\n")
			return
		}
		e.buf.WriteByte('\n')
		e.indent(col + 2)
		e.mapping(x, col+2)
	case []any:
		if len(x) == 0 {
			e.buf.WriteString(" []\n")
			return
		}
		e.buf.WriteByte('\n')
		e.sequence(x, col+2)
	case string:
		if isLiteral(x) {
			e.buf.WriteByte(' ')
			e.literal(x, col+2)
			return
		}
		e.buf.WriteByte(' ')
		e.scalar(x)
		e.buf.WriteByte('\n')
	default:
		e.buf.WriteByte(' ')
		e.other(x)
		e.buf.WriteByte('\n')
	}
}

// sequence writes items "- ..." at column col.
func (e *emitter) sequence(items []any, col int) {
	for _, item := range items {
		e.indent(col)
		e.buf.WriteString("- ")
		switch x := item.(type) {
		case map[string]any:
			if len(x) == 0 {
				e.buf.WriteString("{}\n")
				continue
			}
			e.mapping(x, col+2)
		case []any:
			if len(x) == 0 {
				e.buf.WriteString("[]\n")
				continue
			}
			// A nested sequence starts on the item's line.
			e.nestedSequence(x, col+2)
		case string:
			if isLiteral(x) {
				e.literal(x, col+2)
				continue
			}
			e.scalar(x)
			e.buf.WriteByte('\n')
		default:
			e.other(x)
			e.buf.WriteByte('\n')
		}
		if e.failed {
			return
		}
	}
}

// nestedSequence writes a sequence whose first item continues the current
// line ("- - a").
func (e *emitter) nestedSequence(items []any, col int) {
	var rest bytes.Buffer
	sub := &emitter{}
	sub.sequence(items, col)
	if sub.failed {
		e.failed = true
		return
	}
	rest.Write(sub.buf.Bytes())
	// Drop the first item's indentation: it continues this line.
	e.buf.Write(bytes.TrimLeft(rest.Bytes(), " "))
}

// other writes a non-string scalar as yaml.v3 does for the node toNode
// makes of it.
func (e *emitter) other(v any) {
	switch x := v.(type) {
	case json.Number:
		e.buf.WriteString(string(x))
	case bool:
		fmt.Fprint(&e.buf, x)
	case nil:
		e.buf.WriteString("null")
	case int, int32, int64, float64:
		fmt.Fprint(&e.buf, x)
	default:
		e.failed = true
	}
}

// isLiteral reports whether strNode makes s a literal block.
func isLiteral(s string) bool {
	return strings.Contains(s, "\n") && literalSafe(s)
}

// literal writes a literal block scalar's header and lines, the lines at
// column col.
func (e *emitter) literal(s string, col int) {
	trimmed := strings.TrimRight(s, "\n")
	trailing := len(s) - len(trimmed)
	// "Keep" chomping (trailing blank lines) leaves the document open
	// ended in yaml.v3, and Unicode line breaks are breaks to it: both
	// are left to yaml.v3.
	if trailing > 1 || trimmed == "" || !printableASCII(s) {
		e.failed = true
		return
	}
	e.buf.WriteByte('|')
	if s[0] == ' ' || s[0] == '\n' {
		fmt.Fprintf(&e.buf, "%d", 2)
	}
	if trailing == 0 {
		e.buf.WriteByte('-')
	}
	e.buf.WriteByte('\n')
	for _, line := range strings.Split(trimmed, "\n") {
		if line != "" {
			e.indent(col)
			e.buf.WriteString(line)
		}
		e.buf.WriteByte('\n')
	}
}

// printableASCII reports whether s holds only printable ASCII, tabs and
// line feeds: what yaml.v3 writes in a literal block without second
// thoughts (a control character or other line breaks make it choose
// another style; tabs only block plain and quoted styles, emitterc.go
// yaml_emitter_analyze_scalar, and strNode already refused lines ending
// in one).
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '\n' && c != '\t' && (c < 0x20 || c > 0x7e) {
			return false
		}
	}
	return true
}

// scalar writes a single-line string: plain when it certainly is in
// yaml.v3, otherwise as yaml.v3 writes it.
func (e *emitter) scalar(s string) {
	if plainSafe(s) {
		e.buf.WriteString(s)
		return
	}
	if s == "" || decimal(s) {
		// Would read as null or a number: yaml.v3 double-quotes them.
		e.buf.WriteByte('"')
		e.buf.WriteString(s)
		e.buf.WriteByte('"')
		return
	}
	if out, ok := scalarCache.Load(s); ok {
		e.buf.WriteString(out.(string))
		return
	}
	out, ok := yamlScalar(s)
	if !ok {
		e.failed = true
		return
	}
	scalarCache.Store(s, out)
	e.buf.WriteString(out)
}

// scalarCache remembers how yaml.v3 writes the strings the fast test
// does not decide: the same few (URLs, templates, sync waves) recur in
// every object of a render.
var scalarCache sync.Map

// decimal reports whether s is an optionally signed run of digits, which
// yaml.v3 resolves as an integer (and so quotes as a string).
func decimal(s string) bool {
	if s[0] == '-' || s[0] == '+' {
		s = s[1:]
	}
	if s == "" || len(s) > 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// plainSafe is a conservative test for strings yaml.v3 writes as plain
// scalars: they start with a letter (so they are no number, timestamp or
// special value except the literal words below), hold only characters
// that are no YAML indicator, and no ": " or " #" that would end or
// comment them.
func plainSafe(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') || s[len(s)-1] == ' ' || s[len(s)-1] == ':' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == '/', c == '=', c == '+', c == '@', c == ',', c == '(', c == ')', c == ';', c == '<', c == '>', c == '$', c == '^', c == '~':
		case c == ' ':
			if s[i+1] == ' ' || s[i+1] == '#' {
				return false
			}
		case c == ':':
			if s[i+1] == ' ' {
				return false
			}
		default:
			return false
		}
	}
	switch s {
	case "true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL":
		return false
	}
	return !yaml11Bool(s)
}

// yamlScalar is how yaml.v3 writes s as a block mapping value on one line.
func yamlScalar(s string) (string, bool) {
	n := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "k"},
		strNode(s),
	}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil || enc.Close() != nil {
		return "", false
	}
	out, ok := strings.CutPrefix(buf.String(), "k: ")
	if !ok || !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		return "", false
	}
	return strings.TrimSuffix(out, "\n"), true
}
