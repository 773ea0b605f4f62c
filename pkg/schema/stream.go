package schema

import (
	"bytes"
	"errors"
	"fmt"

	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// ValidateYAMLStream splits a multi-document YAML stream on "---" lines,
// skips empty and comment-only documents, and validates every other document
// with v (Default() if v is nil). It returns nil if all documents are valid,
// otherwise all errors joined (errors.Join), each prefixed with
// "document <n> (line <l>)": n counts every document of the stream from 1,
// l is the document's first line. Duplicate mapping keys are errors.
func ValidateYAMLStream(v *Validator, data []byte) error {
	if v == nil {
		v = Default()
	}
	var errs []error
	for i, doc := range splitYAML(data) {
		where := fmt.Sprintf("document %d (line %d)", i+1, doc.line)
		js, err := yaml.YAMLToJSONStrict(doc.data)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: invalid YAML: %w", where, err))
			continue
		}
		js = bytes.TrimSpace(js)
		if len(js) == 0 || bytes.Equal(js, []byte("null")) {
			continue // empty or comment-only
		}
		var obj any
		if err := utiljson.Unmarshal(js, &obj); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		m, ok := obj.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: not a YAML mapping (got %s)", where, jsonTypeName(obj)))
			continue
		}
		if err := v.Validate(m); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
	}
	return errors.Join(errs...)
}

type yamlDoc struct {
	line int // 1-based line of the document's first line
	data []byte
}

// splitYAML splits a stream at document separators: lines that are "---",
// optionally followed by whitespace or a comment.
func splitYAML(data []byte) []yamlDoc {
	var docs []yamlDoc
	cur := yamlDoc{line: 1}
	lines := bytes.SplitAfter(data, []byte("\n"))
	for i, l := range lines {
		if isSeparator(l) {
			docs = append(docs, cur)
			cur = yamlDoc{line: i + 2}
			continue
		}
		cur.data = append(cur.data, l...)
	}
	return append(docs, cur)
}

func isSeparator(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("---"))
	if !ok {
		return false
	}
	trimmed := bytes.TrimSpace(rest)
	return len(trimmed) == 0 || (trimmed[0] == '#' && len(rest) > len(bytes.TrimLeft(rest, " \t")))
}
