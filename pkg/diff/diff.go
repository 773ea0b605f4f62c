// Package diff compares two renders of a pattern the way a reviewer needs
// to read them: object by object (matched by their place in the tree:
// cluster group, kind, namespace, name), with every init-data and agent
// policy value decoded from base64(gzip) into its TOML and Rego first, so
// that a policy change reads as a Rego change and not as two walls of
// base64.
package diff

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/pkg/initdata"
	"github.com/cocogen/cocogen/pkg/manifest"
)

// Change is one object or file that differs, its content made readable.
type Change = manifest.Change

// Compare returns the differences between two rendered sets, sorted by
// tree path; none when they render the same.
func Compare(old, new *manifest.Set) ([]Change, error) {
	a, err := readableTree(old)
	if err != nil {
		return nil, err
	}
	b, err := readableTree(new)
	if err != nil {
		return nil, err
	}
	return manifest.CompareTrees(a, b), nil
}

// readableTree is the set as files, encoded values decoded.
func readableTree(s *manifest.Set) (map[string]string, error) {
	out := map[string]string{}
	for _, o := range s.Objects {
		readable := o
		readable.Content = Readable(o.Content)
		data, err := manifest.MarshalFile(readable)
		if err != nil {
			return nil, err
		}
		out[o.TreePath()] = string(data)
	}
	for _, f := range s.Files {
		out[f.Path] = string(f.Data)
	}
	return out, nil
}

// decodedNote starts every decoded value, so that nobody takes the diff's
// text for what is deployed.
const decodedNote = "# decoded by cocogen diff from %s\n"

// Readable returns a copy of obj in which every value of an init-data or
// agent policy annotation (wherever it sits: a pod, a pod template), every
// INITDATA ConfigMap key and Trustee's reference value store is replaced
// by its decoded text. A value
// that does not decode is kept as it is.
func Readable(obj map[string]any) map[string]any {
	out, _ := readable(obj, "").(map[string]any)
	return out
}

func readable(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = readable(e, k)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = readable(e, "")
		}
		return l
	case string:
		return decode(key, x)
	}
	return v
}

func decode(key, value string) string {
	switch key {
	case initdata.AnnotationInitData, initdata.AnnotationInitDataLegacy, initdata.ConfigMapKey:
		doc, err := initdata.Decode(value)
		if err != nil {
			return value
		}
		return fmt.Sprintf(decodedNote, "base64(gzip(init-data TOML))") + string(doc)
	case "reference_value":
		if records, ok := referenceValues(value); ok {
			return fmt.Sprintf(decodedNote, "the RVPS store (base64url of each record)") + records
		}
		return value
	case initdata.AnnotationPolicy:
		rego, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
		if err != nil {
			return value
		}
		return fmt.Sprintf(decodedNote, "base64(agent policy Rego)") + string(rego)
	}
	return value
}

// referenceValues decodes Trustee's RVPS reference value store (a JSON
// object of base64url-encoded JSON records, release.Trustee layout) into
// the records themselves.
func referenceValues(value string) (string, bool) {
	var store map[string]string
	if err := json.Unmarshal([]byte(value), &store); err != nil || len(store) == 0 {
		return "", false
	}
	records := make(map[string]json.RawMessage, len(store))
	for name, enc := range store {
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(enc, "="))
		if err != nil || !json.Valid(raw) {
			return "", false
		}
		records[name] = raw
	}
	out, err := json.MarshalIndent(records, "", "  ")
	if err != nil {
		return "", false
	}
	return string(out) + "\n", true
}

// WriteText writes the changes as unified diffs, one per object.
func WriteText(w io.Writer, changes []Change) error {
	for _, c := range changes {
		if _, err := io.WriteString(w, c.Unified()); err != nil {
			return err
		}
	}
	return nil
}

// WriteMarkdown writes the changes for a pull request comment: a summary
// line, then each change as a collapsed diff block.
func WriteMarkdown(w io.Writer, changes []Change) error {
	if len(changes) == 0 {
		_, err := io.WriteString(w, "**cocogen**: the rendered output does not change.\n")
		return err
	}
	count := map[manifest.ChangeKind]int{}
	for _, c := range changes {
		count[c.Kind]++
	}
	var parts []string
	for _, k := range []manifest.ChangeKind{manifest.Modified, manifest.Added, manifest.Removed} {
		if count[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[k], k))
		}
	}
	fmt.Fprintf(w, "**cocogen**: %d rendered files change (%s). Init-data and agent policies are shown decoded.\n\n", len(changes), strings.Join(parts, ", "))
	for _, c := range changes {
		fence := "```"
		for strings.Contains(c.Old+c.New, fence) {
			fence += "`"
		}
		fmt.Fprintf(w, "<details><summary><code>%s</code> (%s)</summary>\n\n%sdiff\n%s%s\n\n</details>\n\n", c.Path, c.Kind, fence, c.Unified(), fence)
	}
	return nil
}

// Paths lists the changed paths, for a summary.
func Paths(changes []Change) []string {
	set := map[string]bool{}
	for _, c := range changes {
		set[c.Path] = true
	}
	return slices.Sorted(maps.Keys(set))
}
