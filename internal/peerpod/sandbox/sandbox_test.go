package sandbox

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestStoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, recs, skipped, err := Open(dir)
	if err != nil || len(recs) != 0 || len(skipped) != 0 {
		t.Fatal(recs, skipped, err)
	}
	rec := Record{ID: "abc", Phase: Running, PodName: "p", PodNamespace: "n", InstanceName: "podvm-p-abc", InstanceID: "id", IPs: []netip.Addr{netip.MustParseAddr("10.0.0.4")}}
	if err := s.Save(rec); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFile("abc", UserDataFile, []byte("secret")); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(filepath.Join(dir, "abc", UserDataFile)); info.Mode().Perm() != 0o600 {
		t.Errorf("user data mode %v", info.Mode())
	}
	// A corrupt neighbour is skipped, not fatal.
	os.MkdirAll(filepath.Join(dir, "torn"), 0o700)
	os.WriteFile(filepath.Join(dir, "torn", StateFile), []byte("{"), 0o600)
	_, recs, skipped, err = Open(dir)
	if err != nil || len(skipped) != 1 || !reflect.DeepEqual(recs, []Record{rec}) {
		t.Fatalf("%+v %v %v", recs, skipped, err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "abc"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	if err := s.Remove("abc"); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("abc"); err != nil {
		t.Errorf("second remove: %v", err)
	}
}

func TestTransitions(t *testing.T) {
	for _, tc := range []struct {
		from, to Phase
		ok       bool
	}{
		{Created, Starting, true}, {Starting, Running, true}, {Running, Stopping, true}, {Stopping, Stopped, true},
		{Created, Stopping, true}, {Starting, Stopping, true},
		{Created, Running, false}, {Running, Starting, false}, {Stopped, Running, false}, {Running, Created, false},
	} {
		if got := CanMove(tc.from, tc.to); got != tc.ok {
			t.Errorf("%s -> %s: %v", tc.from, tc.to, got)
		}
	}
}

func TestValidID(t *testing.T) {
	for _, id := range []string{"", ".", "..", "../x", "a/b", strings.Repeat("a", 129), "-a"} {
		if ValidID(id) == nil {
			t.Errorf("%q accepted", id)
		}
	}
	for _, id := range []string{strings.Repeat("f", 64), "sandbox-1", "a.b_c"} {
		if err := ValidID(id); err != nil {
			t.Errorf("%q: %v", id, err)
		}
	}
}
