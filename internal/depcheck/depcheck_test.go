package depcheck_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/depcheck"
	"github.com/cocogen/cocogen/internal/testkit"
)

// TestArchitecture checks every rule on this module's non-test import
// graph, transitively.
func TestArchitecture(t *testing.T) {
	g, err := depcheck.Load(testkit.Root(t), "", "./...")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g[depcheck.Module+"/pkg/initdata"]; !ok {
		t.Fatal("the graph lacks pkg/initdata: the check would pass vacuously")
	}
	for _, v := range depcheck.Check(g, depcheck.Rules) {
		t.Error(v)
	}
}

// TestRulesBite adds a throwaway file to the module through a `go list`
// overlay (nothing on disk changes) for each kind of forbidden import, and
// requires the check to catch it, also when the import is indirect.
func TestRulesBite(t *testing.T) {
	root := testkit.Root(t)
	for name, tc := range map[string]struct {
		file, src, pattern, want string
	}{
		"initdata imports OPA": {
			file:    "pkg/initdata/zz_forbidden.go",
			src:     "package initdata\n\nimport _ \"github.com/open-policy-agent/opa/v1/rego\"\n",
			pattern: "./pkg/initdata",
			want:    "pkg/initdata reaches github.com/open-policy-agent/opa",
		},
		// (In pkg/initdata itself the import would be a cycle: policies
		// reads image locks, which find workloads with pkg/initdata.)
		"initdata imports the agent policies": {
			file:    "pkg/initdata/zz/forbidden.go",
			src:     "package zz\n\nimport _ \"github.com/cocogen/cocogen/policies\"\n",
			pattern: "./pkg/initdata/zz",
			want:    "pkg/initdata/zz reaches policies",
		},
		"a generator imports another": {
			file:    "generators/acm/zz_forbidden.go",
			src:     "package acm\n\nimport _ \"github.com/cocogen/cocogen/generators/argocd\"\n",
			pattern: "./generators/acm",
			want:    "generators/acm reaches generators/argocd",
		},
		"the daemon imports the pattern": {
			file:    "cmd/peerpodd/main.go",
			src:     "package main\n\nimport _ \"github.com/cocogen/cocogen/pkg/render\"\n\nfunc main() {}\n",
			pattern: "./cmd/peerpodd",
			want:    "cmd/peerpodd reaches pkg/render",
		},
		"a daemon package reaches the pattern through a library": {
			file:    "pkg/peerpod/x/x.go",
			src:     "package x\n\nimport _ \"github.com/cocogen/cocogen/internal/objects\"\n",
			pattern: "./pkg/peerpod/x",
			want:    "pkg/peerpod/x reaches pkg/spec (pkg/peerpod/x -> internal/objects",
		},
		"a library imports a generator": {
			file:    "pkg/schema/zz_forbidden.go",
			src:     "package schema\n\nimport _ \"github.com/cocogen/cocogen/generators/argocd\"\n",
			pattern: "./pkg/schema",
			want:    "pkg/schema reaches generators/argocd",
		},
		"the binary links Kubernetes API types": {
			file:    "pkg/manifest/zz_forbidden.go",
			src:     "package manifest\n\nimport _ \"k8s.io/api/core/v1\"\n",
			pattern: "./pkg/manifest",
			want:    "pkg/manifest reaches k8s.io/api",
		},
		"production code imports test support": {
			file:    "policies/zz_forbidden.go",
			src:     "package policies\n\nimport _ \"github.com/cocogen/cocogen/internal/golden\"\n",
			pattern: "./policies",
			want:    "policies reaches internal/golden",
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "src.go")
			if err := os.WriteFile(src, []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(root, tc.file): src}})
			ov := filepath.Join(dir, "overlay.json")
			if err := os.WriteFile(ov, overlay, 0o644); err != nil {
				t.Fatal(err)
			}
			g, err := depcheck.Load(root, ov, tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			violations := depcheck.Check(g, depcheck.Rules)
			for _, v := range violations {
				if strings.HasPrefix(v, tc.want) {
					return
				}
			}
			t.Errorf("no violation %q among %q", tc.want, violations)
		})
	}
}
