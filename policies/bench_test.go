package policies

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"
)

// benchContainerRequest returns the first allowed reference
// CreateContainerRequest for an application container (not the pause
// container), with agent defaults filled in.
func benchContainerRequest(b *testing.B) map[string]any {
	b.Helper()
	files := loadCases(b, "createcontainer")
	for _, file := range slices.Sorted(maps.Keys(files)) {
		for _, c := range files[file] {
			if c.Kind != "CreateContainerRequest" || !c.Allowed {
				continue
			}
			oci, _ := c.Request["OCI"].(map[string]any)
			annotations, _ := oci["Annotations"].(map[string]any)
			if annotations["io.kubernetes.cri.container-type"] != "container" {
				continue
			}
			req, err := fillDefaults(c.Kind, c.Request)
			if err != nil {
				b.Fatal(err)
			}
			return req
		}
	}
	b.Fatal("no application CreateContainerRequest in the reference cases")
	return nil
}

// BenchmarkCreateContainerDecision measures one exec-deny CreateContainerRequest
// decision with a prepared query, input given as the decoded request JSON.
func BenchmarkCreateContainerDecision(b *testing.B) {
	req := benchContainerRequest(b)
	e := newEngine(b, renderT(b, Options{}), "CreateContainerRequest")
	pq := e.queries["CreateContainerRequest"]
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rs, err := pq.Eval(ctx, rego.EvalInput(req))
		if err != nil || len(rs) != 1 || rs[0].Expressions[0].Value != true {
			b.Fatalf("decision = %v, %v; want true", rs, err)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	opts := Options{AllowedExec: [][]string{{"/bin/sh", "-c", "date"}, {"cat", "/etc/os-release"}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWorkloadPolicy derives and renders the workload policy of a
// pod with one container (kata's env_vars test pod).
func BenchmarkWorkloadPolicy(b *testing.B) {
	pod, lock := podOf(b, "createcontainer/env_vars"), kataLock(b)
	for b.Loop() {
		containers, err := Containers(pod, lock, DefaultSettings())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Render(Options{Profile: Workload, Containers: containers, Probes: Probes(pod)}); err != nil {
			b.Fatal(err)
		}
	}
}
