package kube_test

import (
	"testing"

	"github.com/cocogen/cocogen/internal/depcheck"
	"github.com/cocogen/cocogen/internal/testkit"
)

// TestSmallImportGraph keeps the package on the standard library: the
// daemon runs on every node, and client-go with the API types would be
// most of its binary.
func TestSmallImportGraph(t *testing.T) {
	const pkg = "internal/peerpod/kube"
	g, err := depcheck.Load(testkit.Root(t), "", "./"+pkg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g[depcheck.Module+"/"+pkg]; !ok {
		t.Fatalf("the graph lacks %s: the check would pass vacuously", pkg)
	}
	for _, v := range depcheck.Check(g, []depcheck.Rule{{
		Why:    "the peer-pod daemon's Kubernetes client speaks REST with net/http",
		From:   []string{pkg},
		Forbid: []string{"k8s.io", "sigs.k8s.io", "github.com", "golang.org", "google.golang.org", "gopkg.in"},
	}}) {
		t.Error(v)
	}
}
