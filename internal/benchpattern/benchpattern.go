// Package benchpattern writes synthetic patterns of a given size for the
// benchmarks (in-process and whole-process), so both measure the same
// inputs.
package benchpattern

import (
	"fmt"
	"strings"
)

// Size is a pattern's shape: cluster groups, and applications per group.
type Size struct{ Groups, AppsPerGroup int }

// String is GxA, as benchmark names show it.
func (s Size) String() string { return fmt.Sprintf("%dx%d", s.Groups, s.AppsPerGroup) }

// Sizes are the four sizes the benchmarks report, up to 40 groups of 20
// applications; 20x10 is the reference point.
var Sizes = []Size{{5, 5}, {10, 10}, {20, 10}, {40, 20}}

// Pattern writes a pattern with one hub and Groups-1 spoke groups, each
// with AppsPerGroup applications; every fourth application is confidential
// (apps/hello-openshift/confidential of this repository), so init-data and
// workload rendering are part of the cost.
func Pattern(s Size) string {
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
	for g := 0; g < s.Groups; g++ {
		roles := "[workloads]"
		if g == 0 {
			roles = "[hub, workloads]"
		}
		fmt.Fprintf(&b, "    - name: group-%d\n      roles: %s\n      selector: {matchLabels: {group: g%d}}\n      platform: {type: azure}\n      applications:\n", g, roles, g)
		for a := 0; a < s.AppsPerGroup; a++ {
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
