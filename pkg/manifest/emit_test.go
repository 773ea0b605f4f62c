package manifest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	sigsyaml "sigs.k8s.io/yaml"
)

// goldenObjects are the objects of every golden tree in fixtures/.
func goldenObjects(t testing.TB) []map[string]any {
	t.Helper()
	files, _ := filepath.Glob("../../fixtures/*/expected/*/*/*/*.yaml")
	more, _ := filepath.Glob("../../fixtures/*/expected/*/*/*/*/*.yaml")
	deeper, _ := filepath.Glob("../../fixtures/*/expected/*/*/*/*/*/*.yaml")
	var out []map[string]any
	for _, f := range append(append(files, more...), deeper...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := ReadStream(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, objs...)
	}
	if len(out) < 100 {
		t.Fatalf("only %d golden objects", len(out))
	}
	return out
}

// TestEmitterIsYAMLv3: the direct writer gives exactly yaml.v3's bytes
// for every object of every golden tree.
func TestEmitterIsYAMLv3(t *testing.T) {
	fast := 0
	for _, obj := range goldenObjects(t) {
		o := Object{Content: obj}
		want, err := marshalYAML(o)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := emitCanonical("", obj)
		if !ok {
			continue
		}
		fast++
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Fatalf("%s: the writer differs from yaml.v3 (-yaml.v3 +writer):\n%s", o.ID(), diff)
		}
	}
	if fast == 0 {
		t.Fatal("the writer handled no golden object")
	}
}

// TestYAML11BooleansStayStrings: "yes", "on" and the other YAML 1.1
// booleans are written quoted, as yaml.v3 writes them, because
// sigs.k8s.io/yaml (kubectl, kustomize) reads them unquoted as booleans.
func TestYAML11BooleansStayStrings(t *testing.T) {
	for _, v := range []string{"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"} {
		obj := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "x"}, "data": map[string]any{"k": v}}
		got, ok := emitCanonical("", obj)
		if !ok {
			t.Fatalf("%q: not written", v)
		}
		want, err := marshalYAML(Object{Content: obj})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%q: writer %q, yaml.v3 %q", v, got, want)
		}
		var back struct{ Data map[string]any }
		if err := sigsyaml.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		if back.Data["k"] != v {
			t.Errorf("%q reads back as %#v", v, back.Data["k"])
		}
	}
}

// FuzzEmitter builds objects from arbitrary strings (as keys, values,
// list items, multi-line text) and holds the writer to yaml.v3's bytes.
// Run longer with: go test ./pkg/manifest -run '^$' -fuzz FuzzEmitter -fuzztime 10m
func FuzzEmitter(f *testing.F) {
	for _, s := range []string{"plain", "with space", "a: b", "x #y", "true", "10", "1:20", "- x", " lead", "trail ", "multi\nline\n", "multi\nline", "two\n\n", "\nlead", "  indented\nx\n", "tab\there", "quote'", "é", "{a}", "a,b", "=", "@x", "ok~", "a(b)", "\tlead tab\nx\n", "in\ttab\n\tnext\n", "end tab\t\nx\n", " \tsp\n", "yes", "On", "n", "OFF"} {
		f.Add(s, s+s)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			return
		}
		obj := map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "x", "annotations": map[string]any{"k": a}},
			"data":     map[string]any{"a": a, "b": b, "n": json.Number("3")},
			"list":     []any{a, map[string]any{"k": b, "l": []any{a}}, []any{b, a}, map[string]any{}, []any{}},
		}
		if key := strings.TrimSpace(a); key != "" && len(key) < 100 {
			obj["data"].(map[string]any)[key] = b
		}
		want, err := marshalYAML(Object{Content: obj})
		if err != nil {
			return
		}
		got, ok := emitCanonical("", obj)
		if !ok {
			return
		}
		if string(got) != string(want) {
			t.Fatalf("a=%q b=%q: the writer differs from yaml.v3:\n%s", a, b, cmp.Diff(string(want), string(got)))
		}
	})
}
