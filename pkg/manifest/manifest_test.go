package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func configMap(dir, ns, name string, data map[string]string) Object {
	return MustFromTyped(dir, &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Data:       data,
	})
}

func TestMarshalCanonical(t *testing.T) {
	o := configMap("hub", "ns", "cm", map[string]string{
		"z":       "last",
		"a.toml":  "[kbc]\nname = \"cc_kbc\"\n",
		"spaces":  "trailing \nspace",
		"number":  "1.0",
		"boolish": "true",
	})
	got, err := Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: v1
data:
  a.toml: |
    [kbc]
    name = "cc_kbc"
  boolish: "true"
  number: "1.0"
  spaces: "trailing \nspace"
  z: last
kind: ConfigMap
metadata:
  name: cm
  namespace: ns
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("canonical YAML (-want +got):\n%s", diff)
	}
	if strings.Contains(string(got), "creationTimestamp") {
		t.Error("creationTimestamp: null leaked from the typed object")
	}
}

func TestSortAndTreePath(t *testing.T) {
	s := &Set{}
	s.Add(
		configMap("hub", "b", "x", nil),
		configMap("hub", "a", "y", nil),
		Object{Dir: "hub", Content: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "a"}}},
		configMap("bootstrap/hub", "a", "z", nil),
	)
	s.Sort()
	var got []string
	for _, o := range s.Objects {
		got = append(got, o.TreePath())
	}
	want := []string{"bootstrap/hub/ConfigMap/a/z.yaml", "hub/Namespace/a.yaml", "hub/ConfigMap/a/y.yaml", "hub/ConfigMap/b/x.yaml"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestCheckCollisions(t *testing.T) {
	s := &Set{}
	s.Add(configMap("hub", "a", "x", nil), configMap("hub", "a", "x", map[string]string{"k": "v"}))
	s.AddFile("hub/ConfigMap/a/x.yaml", nil)
	err := s.Check()
	if err == nil || strings.Count(err.Error(), "both render to hub/ConfigMap/a/x.yaml") != 2 {
		t.Errorf("want both collisions reported, got %v", err)
	}
}

func TestWriteTreeReplacesWholeTreeOrNothing(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "rendered")
	good := &Set{}
	good.Add(configMap("hub", "a", "x", map[string]string{"k": "v1"}))
	good.AddFile("hub/initdata/default.toml", []byte("version = \"0.1.0\"\n"))
	if err := WriteTree(dir, good); err != nil {
		t.Fatal(err)
	}
	before, err := ReadTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Tree(good)
	if diff := cmp.Diff(want, before); diff != "" {
		t.Fatalf("written tree differs from in-memory tree:\n%s", diff)
	}

	// A render that fails half-way (here: a file escaping the tree, after
	// valid objects were written) must leave the previous tree untouched.
	bad := &Set{}
	bad.Add(configMap("hub", "a", "x", map[string]string{"k": "v2"}))
	bad.AddFile("../escape.txt", []byte("x"))
	if err := WriteTree(dir, bad); err == nil {
		t.Fatal("escaping path accepted")
	}
	after, err := ReadTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("failed write changed the tree:\n%s", diff)
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("temporary directories left behind: %v", names)
	}
	if _, err := os.Stat(filepath.Join(parent, "escape.txt")); !os.IsNotExist(err) {
		t.Error("file written outside the tree")
	}
}

func TestOnly(t *testing.T) {
	s := &Set{}
	s.Add(configMap("hub", "a", "x", nil), configMap("hub-2", "a", "x", nil), configMap("bootstrap/hub", "a", "x", nil))
	s.AddFile("hub/initdata/p.toml", nil)
	got := s.Only("hub")
	if len(got.Objects) != 1 || got.Objects[0].Dir != "hub" || len(got.Files) != 1 {
		t.Errorf("Only(hub) kept %+v", got)
	}
}

func BenchmarkMarshal(b *testing.B) {
	o := configMap("hub", "ns", "cm", map[string]string{"policy.rego": strings.Repeat("allow if { input.x == 1 }\n", 2000)})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Marshal(o); err != nil {
			b.Fatal(err)
		}
	}
}
