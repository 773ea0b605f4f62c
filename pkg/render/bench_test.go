package render_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/generators"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
)

// syntheticPattern writes a pattern with one hub and groups-1 spoke groups
// sharing apps applications evenly; every fourth application is
// confidential, so init-data and workload rendering are part of the cost.
func syntheticPattern(groups, apps int) string {
	var b strings.Builder
	b.WriteString(`apiVersion: cocogen.dev/v1alpha1
kind: Pattern
metadata: {name: bench}
spec:
  source: {repoURL: "https://github.com/example/bench.git"}
  initData: {profiles: [{name: default}]}
  trustee: {url: "https://kbs.example.com"}
  clusterGroups:
`)
	perGroup := apps / groups
	for g := 0; g < groups; g++ {
		roles := "[workloads]"
		if g == 0 {
			roles = "[hub, workloads]"
		}
		fmt.Fprintf(&b, "    - name: group-%d\n      roles: %s\n      selector: {matchLabels: {group: g%d}}\n      platform: {type: azure}\n      applications:\n", g, roles, g)
		for a := 0; a < perGroup; a++ {
			fmt.Fprintf(&b, "        - name: app-%d\n          namespace: ns-%d\n", a, a)
			if a%4 == 3 {
				b.WriteString("          source: {path: apps/hello-openshift/confidential}\n          confidential: {initData: default}\n")
			} else {
				fmt.Fprintf(&b, "          syncWave: %d\n          source: {path: apps/app-%d}\n", a%3, a)
			}
		}
	}
	return b.String()
}

var benchSizes = []struct{ groups, apps int }{{5, 50}, {10, 100}, {20, 200}, {40, 400}}

// BenchmarkRender measures the pipeline (all generators, sort, collision
// check) on patterns of four sizes; the reference point is 200
// applications across 20 cluster groups.
func BenchmarkRender(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("groups=%d/apps=%d", size.groups, size.apps), func(b *testing.B) {
			p, err := spec.Parse("bench.yaml", []byte(syntheticPattern(size.groups, size.apps)), spec.LoadOptions{})
			if err != nil {
				b.Fatal(err)
			}
			repo := testkit.Repo(b)
			gens := generators.All()
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := render.Render(ctx, p, repo, gens); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoad measures decoding, defaulting and validating the same
// patterns: the other half of what `cocogen render` does.
func BenchmarkLoad(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("groups=%d/apps=%d", size.groups, size.apps), func(b *testing.B) {
			data := []byte(syntheticPattern(size.groups, size.apps))
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				if _, err := spec.Parse("bench.yaml", data, spec.LoadOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
