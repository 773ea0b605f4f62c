package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
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
	if m, ok := decodeObject(raw); ok {
		return m, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// DeepCopy copies content (maps, lists and the scalars DecodeJSON makes)
// so that a copy can change without touching what other objects share. A
// value of another type is a programming error and panics, as
// apimachinery's runtime.DeepCopyJSON does.
func DeepCopy(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return deepCopyValue(m).(map[string]any)
}

func deepCopyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopyValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopyValue(e)
		}
		return out
	case string, bool, json.Number, int64, float64, nil:
		return x
	default:
		panic(fmt.Sprintf("manifest.DeepCopy: %T is not object content", v))
	}
}
