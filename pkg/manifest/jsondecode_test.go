package manifest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// decodeByEncodingJSON is DecodeJSON without its fast path.
func decodeByEncodingJSON(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	err := dec.Decode(&m)
	return m, err
}

var jsonSeeds = []string{
	`{}`, `{"a":1}`, `{"a":-0.5e+10,"b":[1,2,{"c":null}],"d":true,"e":false}`, ` {"k" : "v" } `,
	`{"s":"esc \" \\ \/ \u00e9 \n \t \ud83d\ude00"}`, `{"a":{}}`, `{"a":[]}`, `{"a":1}{"b":2}`, `{"a":01}`,
	`{"a":1.}`, `{"a":-}`, `{"a":"\x01"}`, `{"a":"` + "\xff" + `"}`, `null`, `[]`, `{"a":1,}`, `{"a" 1}`,
	`{"dup":1,"dup":2}`, `{"a":"\u0000"}`, `{"n":1E5,"m":0.0,"o":-0}`, `{"a":tru}`, `{"a":"unterminated}`,
}

func TestDecodeJSONFastPath(t *testing.T) {
	for _, s := range jsonSeeds {
		sameAsEncodingJSON(t, []byte(s))
	}
	// What json.Marshal writes takes the fast path.
	raw, _ := json.Marshal(map[string]any{"a": []any{"x", 1.5, nil, true, map[string]any{"é": "<&>"}}})
	if _, ok := decodeObject(raw); !ok {
		t.Errorf("json.Marshal output %s left the fast path", raw)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		sameAsEncodingJSON(t, raw)
	})
}

func sameAsEncodingJSON(t *testing.T, raw []byte) {
	t.Helper()
	want, wantErr := decodeByEncodingJSON(raw)
	got, gotErr := DecodeJSON(raw)
	if (gotErr == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeJSON(%q) = %#v, %v; encoding/json says %#v, %v", raw, got, gotErr, want, wantErr)
	}
}

func BenchmarkDecodeJSON(b *testing.B) {
	raw, err := json.Marshal(map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": "app", "namespace": "openshift-gitops", "labels": map[string]any{"a": "b", "c": "d"}},
		"spec": map[string]any{"project": "p", "source": map[string]any{"repoURL": "https://example.com/r.git", "path": "x/y", "targetRevision": "main"},
			"syncPolicy": map[string]any{"automated": map[string]any{"prune": true, "selfHeal": true}, "syncOptions": []any{"A=true", "B=false"}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			if _, ok := decodeObject(raw); !ok {
				b.Fatal("left the fast path")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			if _, err := decodeByEncodingJSON(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
