package policies

import (
	"fmt"
	"maps"
	"slices"
	"testing"
)

// referenceDirs are the genpolicy test-case directories whose requests do
// not depend on container images. ExecDeny must decide every case in them
// exactly as Kata's generated policy does.
var referenceDirs = []string{"copyfile", "updateroutes", "updateinterface", "addarpneighbors", "createsandbox"}

func TestReferenceCasesFound(t *testing.T) {
	total := 0
	for _, dir := range referenceDirs {
		n := 0
		for _, cases := range loadCases(t, dir) {
			n += len(cases)
		}
		if n == 0 {
			t.Errorf("no reference cases found in %s/%s", fixturesDir, dir)
		}
		total += n
	}
	if total == 0 {
		t.Fatal("no reference cases found at all")
	}
}

func TestExecDenyMatchesReference(t *testing.T) {
	e := newEngine(t, renderT(t, Options{}), agentRequests()...)
	total, matched := 0, 0
	for _, dir := range referenceDirs {
		files := loadCases(t, dir)
		dirTotal, dirMatched := 0, 0
		for _, file := range slices.Sorted(maps.Keys(files)) {
			// Cases in one file form a sequence sharing policy state, so
			// they run in order. The exec-deny policy keeps no state.
			for i, c := range files[file] {
				dirTotal++
				t.Run(fmt.Sprintf("%s/%02d_%s", dir, i, c.Description), func(t *testing.T) {
					got, err := e.decide(c.Kind, c.Request)
					switch {
					case err != nil:
						t.Errorf("%s case %d %q (%s): %v", file, i, c.Description, c.Kind, err)
					case got != c.Allowed:
						t.Errorf("%s case %d %q (%s): kata allowed=%v, exec-deny allowed=%v", file, i, c.Description, c.Kind, c.Allowed, got)
					default:
						dirMatched++
					}
				})
			}
		}
		t.Logf("%-16s %2d/%2d reference cases matched", dir, dirMatched, dirTotal)
		total += dirTotal
		matched += dirMatched
	}
	if total == 0 {
		t.Fatal("no reference cases evaluated")
	}
	t.Logf("total %d/%d matched (%.0f%%)", matched, total, 100*float64(matched)/float64(total))
}

// CreateContainerRequest is image-dependent and not measured against Kata,
// but the structural checks must not refuse the ordinary containers that
// Kata's policy allows.
func TestExecDenyAllowsReferenceContainers(t *testing.T) {
	e := newEngine(t, renderT(t, Options{}), "CreateContainerRequest")
	n := 0
	files := loadCases(t, "createcontainer")
	for _, file := range slices.Sorted(maps.Keys(files)) {
		for _, c := range files[file] {
			if c.Kind != "CreateContainerRequest" || !c.Allowed {
				continue
			}
			n++
			got, err := e.decide(c.Kind, c.Request)
			if err != nil || !got {
				t.Errorf("%s: case %q: exec-deny allowed=%v err=%v, want allowed", file, c.Description, got, err)
			}
		}
	}
	if n == 0 {
		t.Fatal("no allowed CreateContainerRequest reference cases found")
	}
}
