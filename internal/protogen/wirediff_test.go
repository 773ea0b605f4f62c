package protogen

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWireDiffBites: a renumbered field, a renamed method, a changed type
// and a missing enum value are each reported.
func TestWireDiffBites(t *testing.T) {
	base := `syntax = "proto3";
package p;
service S { rpc M(A) returns (B); }
message A { string id = 1; map<string, string> m = 2; E e = 3; }
message B {}
enum E { X = 0; Y = 1; }
`
	cases := map[string]string{
		"field 1":                 strings.Replace(base, "string id = 1", "string id = 4", 1),
		"no method p.S.M":         strings.Replace(base, "rpc M(", "rpc N(", 1),
		"field 2":                 strings.Replace(base, "map<string, string> m", "map<string, int32> m", 1),
		"value 1 is not Y":        strings.Replace(base, "Y = 1;", "Z = 1;", 1),
		"-> p.A, want p.A -> p.B": strings.Replace(base, "returns (B)", "returns (A)", 1),
	}
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("want.proto", base)
	want, err := Compile(context.Background(), dir, "want.proto")
	if err != nil {
		t.Fatal(err)
	}
	if d := WireDiff(want, want); len(d) != 0 {
		t.Fatalf("identical files differ: %v", d)
	}
	for substr, body := range cases {
		write("got.proto", body)
		got, err := Compile(context.Background(), dir, "got.proto")
		if err != nil {
			t.Fatal(err)
		}
		if d := strings.Join(WireDiff(want, got), "\n"); !strings.Contains(d, substr) {
			t.Errorf("want a difference mentioning %q, got:\n%s", substr, d)
		}
	}
}
