package initdata

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	toml "github.com/pelletier/go-toml/v2"
)

// Version is the init-data format version cocogen writes and reads.
const Version = "0.1.0"

// Names of the [data] entries guest components read.
const (
	DataAA     = "aa.toml"
	DataCDH    = "cdh.toml"
	DataPolicy = "policy.rego"
)

// Document is a parsed init-data document.
type Document struct {
	Version   string
	Algorithm string
	// Data maps entry names (aa.toml, cdh.toml, policy.rego, ...) to their
	// contents.
	Data map[string]string
}

// Parse reads a document and checks that it is one the kata runtime
// accepts: version 0.1.0, a known algorithm, a [data] table of strings and
// nothing else.
func Parse(data []byte) (*Document, error) {
	if !utf8.Valid(data) {
		return nil, invalid("TOML", errors.New("not valid UTF-8"))
	}
	var raw map[string]any
	if err := toml.Unmarshal(data, &raw); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, invalid("TOML", fmt.Errorf("line %d, column %d: %s", row, col, de.Error()))
		}
		return nil, invalid("TOML", err)
	}
	d := &Document{Data: map[string]string{}}
	var problems []string
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		switch k {
		case "version", "algorithm", "data":
		default:
			problems = append(problems, fmt.Sprintf("unknown key %q (want version, algorithm, [data])", k))
		}
	}
	version, ok := raw["version"].(string)
	switch {
	case raw["version"] == nil:
		return nil, invalid("version", errors.New(`missing: want version = "`+Version+`"`))
	case !ok || version != Version:
		return nil, invalid("version", fmt.Errorf("unsupported version %v (want %q)", raw["version"], Version))
	}
	d.Version = version
	alg, ok := raw["algorithm"].(string)
	switch {
	case raw["algorithm"] == nil:
		return nil, invalid("algorithm", fmt.Errorf("missing: want one of %s", strings.Join(Algorithms, ", ")))
	case !ok || !slices.Contains(Algorithms, alg):
		return nil, invalid("algorithm", fmt.Errorf("unknown algorithm %v (want %s)", raw["algorithm"], strings.Join(Algorithms, ", ")))
	}
	d.Algorithm = alg
	table, ok := raw["data"].(map[string]any)
	if !ok {
		return nil, invalid("TOML", errors.New("missing [data] table"))
	}
	for _, k := range slices.Sorted(maps.Keys(table)) {
		s, ok := table[k].(string)
		if !ok {
			problems = append(problems, fmt.Sprintf("data.%q is a %T, want a string", k, table[k]))
			continue
		}
		d.Data[k] = s
	}
	if len(problems) > 0 {
		return nil, invalid("TOML", errors.New(strings.Join(problems, "; ")))
	}
	return d, nil
}

// DataNames returns the entry names in the order Marshal writes them:
// aa.toml, cdh.toml, policy.rego, then the others sorted.
func (d *Document) DataNames() []string {
	var names []string
	for _, k := range []string{DataAA, DataCDH, DataPolicy} {
		if _, ok := d.Data[k]; ok {
			names = append(names, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(d.Data)) {
		if k != DataAA && k != DataCDH && k != DataPolicy {
			names = append(names, k)
		}
	}
	return names
}

// Marshal writes the document in cocogen's fixed layout: version,
// algorithm, then [data] with one multi-line string per entry, separated
// by blank lines. Contents are literal strings (triple single quotes) so they read
// exactly as the files they are; a content a literal string cannot hold
// (it contains three single quotes or a control character) is written as an escaped basic
// multi-line string instead. Either way Parse returns the same contents.
func (d *Document) Marshal() ([]byte, error) {
	if d.Version != Version {
		return nil, fmt.Errorf("marshalling init-data: unsupported version %q", d.Version)
	}
	if !slices.Contains(Algorithms, d.Algorithm) {
		return nil, fmt.Errorf("marshalling init-data: unknown algorithm %q", d.Algorithm)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "version = %s\nalgorithm = %s\n\n[data]\n", QuoteBasic(d.Version), QuoteBasic(d.Algorithm))
	for i, k := range d.DataNames() {
		v := d.Data[k]
		if !utf8.ValidString(v) {
			return nil, fmt.Errorf("marshalling init-data: data %q is not valid UTF-8", k)
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(QuoteBasic(k))
		b.WriteString(" = ")
		b.WriteString(multilineString(v))
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// multilineString quotes s as a TOML multi-line string. The newline after
// the opening delimiter is trimmed by TOML, so the value is exactly s.
func multilineString(s string) string {
	if literalOK(s) {
		return "'''\n" + s + "'''"
	}
	return QuoteMultiline(s)
}

// literalOK reports whether s can be a multi-line literal string: no
// triple single quote inside, no ' just before the closing delimiter, and no control
// character but tab and newline (carriage returns are excluded too: TOML
// lets parsers normalise CRLF, which would change the bytes).
func literalOK(s string) bool {
	if strings.Contains(s, "'''") || strings.HasSuffix(s, "'") {
		return false
	}
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n') || r == 0x7f {
			return false
		}
	}
	return true
}

// QuoteBasic quotes s as a single-line TOML basic string ("..."), also for
// the TOML files (aa.toml, cdh.toml) an init-data document carries.
func QuoteBasic(s string) string { return quoteTOML(s, false) }

// QuoteMultiline quotes s as a multi-line TOML basic string ("""...""",
// escaping what must be); unlike a literal string it can sit inside the
// document's own literal strings (triple single quotes).
func QuoteMultiline(s string) string { return quoteTOML(s, true) }

// quoteTOML writes s as a TOML basic string: "..." or, multi-line,
// """<newline>...""" where newlines and tabs may stay as they are. Other
// control characters are escaped in both forms, as TOML requires.
func quoteTOML(s string, multiline bool) string {
	var b strings.Builder
	if multiline {
		b.WriteString("\"\"\"\n")
	} else {
		b.WriteByte('"')
	}
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case multiline && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	if multiline {
		b.WriteString(`"""`)
	} else {
		b.WriteByte('"')
	}
	return b.String()
}
