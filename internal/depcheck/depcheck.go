// Package depcheck holds cocogen's architecture as rules on the import
// graph, and checks them on the graph `go list -deps` reports. Rules are on
// transitive imports: a package may not reach what it must not know through
// any chain of imports. The package's test applies Rules to this module.
package depcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"slices"
	"strings"
)

// Module is this module's path; rules name packages relative to it.
const Module = "github.com/cocogen/cocogen"

// Rule forbids a set of packages from reaching another.
type Rule struct {
	// Why is said when the rule is broken.
	Why string
	// From selects the packages the rule binds (module-relative path
	// prefixes, "generators/" for every generator, "pkg/initdata" for one
	// package and what is below it).
	From []string
	// Except exempts packages From selects.
	Except []string
	// Forbid are what those packages must not reach: module-relative
	// prefixes, or import path prefixes of other modules (those whose
	// first element has a dot, e.g. github.com/open-policy-agent/opa).
	Forbid []string
	// Sibling forbids each package selected by From to reach another
	// package selected by the same prefix (generators reaching each
	// other).
	Sibling bool
}

// Rules are cocogen's architecture.
var Rules = []Rule{
	{
		Why:     "generators are independent output families: what two share belongs in pkg/ or internal/, never in another generator",
		From:    []string{"generators/"},
		Sibling: true,
		Forbid:  []string{"cmd/"},
	},
	{
		Why:    "library packages serve every surface (CLI, plugin, KRM, diff) and know no generator: the pipeline knows only the Generator contract",
		From:   []string{"pkg/", "internal/objects", "internal/profiles"},
		Forbid: []string{"generators", "cmd/"},
	},
	{
		Why:    "pkg/initdata is only the init-data format, so the peer-pod daemon can use it without the pattern or a policy engine",
		From:   []string{"pkg/initdata"},
		Forbid: []string{"pkg/spec", "pkg/render", "policies", "internal/", "generators", "github.com/open-policy-agent/opa", "github.com/argoproj/argo-cd"},
	},
	{
		Why:  "the peer-pod daemon runs on every node: it depends on the init-data format only, never on the pattern, the generators, OPA or Argo CD, and talks to Kubernetes through its own small client rather than client-go and the API types",
		From: []string{"cmd/peerpodd", "pkg/peerpod", "internal/peerpod"},
		Forbid: []string{"generators", "pkg/render", "pkg/spec", "internal/profiles", "policies", "github.com/open-policy-agent/opa", "github.com/argoproj/argo-cd",
			"k8s.io/client-go", "k8s.io/api", "k8s.io/apimachinery/pkg/apis", "k8s.io/apimachinery/pkg/runtime", "internal/protogen", "github.com/bufbuild/protocompile"},
	},
	{
		Why:    "the binary starts on every Argo CD refresh and kustomize build: it links only what rendering needs; argo-cd's types, kubectl, client-go, the apiextensions validator, Kubernetes' API types and kyaml's function framework (its OpenAPI validation was most of the start-up) stay in the tests that check output against them",
		From:   []string{"cmd/cocogen", "pkg/", "generators", "internal/objects", "internal/profiles", "internal/argoapp", "internal/kbsconfig", "internal/apps", "internal/lazy"},
		Except: []string{"pkg/schema"},
		Forbid: []string{"github.com/argoproj/argo-cd", "github.com/argoproj/gitops-engine", "k8s.io/kubectl", "k8s.io/client-go", "k8s.io/apiextensions-apiserver", "github.com/open-policy-agent/opa",
			"k8s.io/api", "k8s.io/apimachinery/pkg/apis", "k8s.io/apimachinery/pkg/runtime", "k8s.io/apimachinery/pkg/api", "sigs.k8s.io/kustomize/kyaml/fn/framework"},
	},
	{
		Why:    "test support is for _test.go files only",
		From:   []string{""},
		Except: []string{"internal/testkit", "internal/golden", "internal/kubetest"},
		Forbid: []string{"internal/testkit", "internal/golden", "internal/kubetest"},
	},
}

// Package is one node of the import graph.
type Package struct {
	ImportPath string
	Imports    []string
}

// Graph is the non-test import graph of some packages and everything they
// import, by import path.
type Graph map[string][]string

// Load runs `go list -deps` in dir on the patterns (with an optional
// overlay file, as `go build -overlay` takes it) and returns the graph.
func Load(dir, overlay string, patterns ...string) (Graph, error) {
	args := []string{"list", "-deps", "-json=ImportPath,Imports"}
	if overlay != "" {
		args = append(args, "-overlay="+overlay)
	}
	cmd := exec.Command("go", append(args, patterns...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v: %s", err, stderr.String())
	}
	g := Graph{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p Package
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return g, nil
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		g[p.ImportPath] = p.Imports
	}
}

// Check returns one line per broken rule and package: the rule's reason
// and the chain of imports that breaks it.
func Check(g Graph, rules []Rule) []string {
	var out []string
	for _, pkg := range slices.Sorted(maps.Keys(g)) {
		rel, ok := relative(pkg)
		if !ok {
			continue
		}
		for _, r := range rules {
			from, selected := matching(rel, r.From)
			if _, exempt := matching(rel, r.Except); !selected || exempt {
				continue
			}
			forbidden := func(dep string) bool {
				if dep == pkg {
					return false
				}
				drel, own := relative(dep)
				if r.Sibling && own && from != "" && hasPrefix(drel, from) && !strings.HasPrefix(drel, sub(rel, from)) && !strings.HasPrefix(rel, sub(drel, from)) {
					return true
				}
				for _, f := range r.Forbid {
					if own && !external(f) && hasPrefix(drel, f) || !own && external(f) && hasPrefix(dep, f) {
						return true
					}
				}
				return false
			}
			if chain := g.path(pkg, forbidden); chain != nil {
				out = append(out, fmt.Sprintf("%s reaches %s (%s): %s", rel, display(chain[len(chain)-1]), strings.Join(displayAll(chain), " -> "), r.Why))
			}
		}
	}
	return out
}

// path returns the shortest import chain from pkg to a package that bad
// accepts, or nil.
func (g Graph) path(pkg string, bad func(string) bool) []string {
	prev := map[string]string{pkg: ""}
	queue := []string{pkg}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur != pkg && bad(cur) {
			var chain []string
			for p := cur; p != ""; p = prev[p] {
				chain = append([]string{p}, chain...)
			}
			return chain
		}
		for _, next := range g[cur] {
			if _, seen := prev[next]; !seen {
				prev[next] = cur
				queue = append(queue, next)
			}
		}
	}
	return nil
}

// relative is an import path of this module relative to its root.
func relative(importPath string) (string, bool) {
	if importPath == Module {
		return "", true
	}
	rel, ok := strings.CutPrefix(importPath, Module+"/")
	return rel, ok
}

// hasPrefix matches path prefixes on element boundaries: "pkg/spec"
// matches pkg/spec and pkg/spec/x, not pkg/specs; a prefix ending in "/"
// matches what is below it; "" matches every package of the module.
func hasPrefix(path, prefix string) bool {
	if prefix == "" || strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(path, prefix)
	}
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// external reports whether a rule's prefix names another module's
// packages: its first element is a domain.
func external(prefix string) bool {
	first, _, _ := strings.Cut(prefix, "/")
	return strings.Contains(first, ".")
}

// matching returns the first of prefixes that path matches.
func matching(path string, prefixes []string) (string, bool) {
	for _, p := range prefixes {
		if hasPrefix(path, p) {
			return p, true
		}
	}
	return "", false
}

// sub is the first element of rel below prefix, e.g. generators/acm/ for
// generators/acm/x under generators/.
func sub(rel, prefix string) string {
	rest := strings.TrimPrefix(rel, prefix)
	first, _, _ := strings.Cut(rest, "/")
	return prefix + first + "/"
}

func display(importPath string) string {
	if rel, ok := relative(importPath); ok {
		return rel
	}
	return importPath
}

func displayAll(chain []string) []string {
	out := make([]string, len(chain))
	for i, p := range chain {
		out[i] = display(p)
	}
	return out
}
