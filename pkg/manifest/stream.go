package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// ReadStream parses a YAML (or JSON) stream into objects the way kubectl
// does: documents are separated by "---", empty documents are skipped and
// Lists (a kind ending in List with items) are expanded into their items.
// Objects come back as Content does: JSON-compatible values with numbers as
// json.Number. Errors name the document (1-based).
func ReadStream(data []byte) ([]map[string]any, error) {
	rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []map[string]any
	for i := 1; ; i++ {
		doc, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		raw, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if t := bytes.TrimSpace(raw); len(t) == 0 || string(t) == "null" {
			continue
		}
		m, err := DecodeJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("document %d: want a Kubernetes object: %w", i, err)
		}
		if kind, _ := m["kind"].(string); strings.HasSuffix(kind, "List") {
			if items, ok := m["items"].([]any); ok {
				for j, it := range items {
					obj, ok := it.(map[string]any)
					if !ok {
						return nil, fmt.Errorf("document %d: items[%d] is not an object", i, j)
					}
					out = append(out, obj)
				}
				continue
			}
		}
		out = append(out, m)
	}
}
