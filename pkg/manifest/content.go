package manifest

import (
	"bytes"
	"encoding/json"
)

// Helpers for generators that build Content directly as JSON-compatible
// values (for kinds without Go types here: OLM, ACM, Trustee, KataConfig).

// StringList converts a string slice to the []any that Content holds.
func StringList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// StringMap converts a string map (labels, annotations, ConfigMap data) to
// the map[string]any that Content holds.
func StringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// DecodeJSON decodes one JSON object the way Content is represented:
// numbers stay json.Number, so integers never turn into floats on the way
// back out.
func DecodeJSON(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}
