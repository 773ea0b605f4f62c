package manifest

import (
	"fmt"
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
	}, Origin{Spec: "spec.test"})
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
	s.AddFile("hub/ConfigMap/a/x.yaml", nil, Origin{})
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
	good.AddFile("hub/initdata/default.toml", []byte("version = \"0.1.0\"\n"), Origin{})
	if err := WriteTree(dir, good, WriteOptions{}); err != nil {
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
	bad.AddFile("../escape.txt", []byte("x"), Origin{})
	if err := WriteTree(dir, bad, WriteOptions{}); err == nil {
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
	s.AddFile("hub/initdata/p.toml", nil, Origin{})
	got := s.Only("hub")
	if len(got.Objects) != 1 || got.Objects[0].Dir != "hub" || len(got.Files) != 1 {
		t.Errorf("Only(hub) kept %+v", got)
	}
}

func TestMarshalFileStartsWithOrigin(t *testing.T) {
	o := configMap("hub", "ns", "cm", nil)
	o.Origin = Origin{Generator: "initdata", Spec: "spec.clusterGroups[0].applications[1]", File: "apps/x/pod.yaml"}
	got, err := MarshalFile(o)
	if err != nil {
		t.Fatal(err)
	}
	want := "# cocogen: generators/initdata from spec.clusterGroups[0].applications[1] (apps/x/pod.yaml)\napiVersion: v1\nkind: ConfigMap\n"
	if !strings.HasPrefix(string(got), want) {
		t.Errorf("file starts\n%s\nwant\n%s", got, want)
	}
	// The comment is not part of the object.
	objs, err := ReadStream(got)
	if err != nil || len(objs) != 1 || len(objs[0]) != 3 {
		t.Errorf("read back %v, %v", objs, err)
	}
}

func TestReadStream(t *testing.T) {
	stream := `# comment only
---
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {n: "1"}}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}
---
---
{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "c"}, "spec": {"x": 12345678901234567890}}
`
	objs, err := ReadStream([]byte(stream))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, o["metadata"].(map[string]any)["name"].(string))
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, names); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if n := objs[2]["spec"].(map[string]any)["x"]; fmt.Sprint(n) != "12345678901234567890" {
		t.Errorf("large integer read as %v", n)
	}
	for _, bad := range []string{"a: [b", "- just\n- a list\n", "---\nkind: List\nitems: [1]\n"} {
		if _, err := ReadStream([]byte(bad)); err == nil || !strings.Contains(err.Error(), "document ") {
			t.Errorf("ReadStream(%q) = %v, want an error naming the document", bad, err)
		}
	}
}

func TestCompareTrees(t *testing.T) {
	old := map[string]string{"a.yaml": "x: 1\ny: 2\n", "gone.yaml": "g\n", "same.yaml": "s\n"}
	new := map[string]string{"a.yaml": "x: 1\ny: 3\n", "new.yaml": "n\n", "same.yaml": "s\n"}
	changes := CompareTrees(old, new)
	var got []string
	for _, c := range changes {
		got = append(got, string(c.Kind)+" "+c.Path)
	}
	if diff := cmp.Diff([]string{"modified a.yaml", "removed gone.yaml", "added new.yaml"}, got); diff != "" {
		t.Fatalf("changes (-want +got):\n%s", diff)
	}
	want := "--- a/a.yaml\n+++ b/a.yaml\n@@ -1,2 +1,2 @@\n x: 1\n-y: 2\n+y: 3\n"
	if u := changes[0].Unified(); u != want {
		t.Errorf("unified diff:\n%s\nwant:\n%s", u, want)
	}
	if u := changes[2].Unified(); !strings.HasPrefix(u, "--- /dev/null\n+++ b/new.yaml\n") {
		t.Errorf("added file diff:\n%s", u)
	}
	if len(CompareTrees(old, old)) != 0 {
		t.Error("equal trees differ")
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
