// Package generators defines the one small interface every output family of
// cocogen implements. Each family lives in its own subpackage (argocd,
// initdata, acm, trustee, ...) and never imports another: what two families
// share is either in the pattern (pkg/spec) or in a library package
// (pkg/initdata, ...), computed deterministically by both.
package generators

import (
	"fmt"
	"io/fs"
	"sync"

	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
)

// Generator turns a validated pattern into part of the rendered output.
type Generator interface {
	// Name is short and stable; it prefixes the generator's errors.
	Name() string
	// Generate adds the generator's objects and files to out. It must be a
	// pure function of ctx: same input, same output.
	Generate(ctx *Context, out *manifest.Set) error
}

// Finalizer is an optional second phase: it runs after every Generate, in
// generator order, and sees the whole output so far. The App-of-Apps uses it
// to grant each AppProject exactly the kinds and namespaces the other
// generators put in its directory.
type Finalizer interface {
	Finalize(ctx *Context, out *manifest.Set) error
}

// Context is what a generator gets to work from.
type Context struct {
	// Pattern is decoded, defaulted and validated.
	Pattern *spec.Pattern
	// Repo is the pattern's git repository as checked out (the root that
	// application paths are relative to); nil when rendering without one.
	Repo fs.FS

	mu       sync.Mutex
	warnings []string
}

// Warnf records a warning for the user (e.g. a permissive policy profile).
// Warnings never change the output; the CLI prints them on stderr.
func (c *Context) Warnf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.warnings = append(c.warnings, fmt.Sprintf(format, args...))
}

// Warnings returns the warnings recorded so far.
func (c *Context) Warnings() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.warnings...)
}

// Labels are the labels cocogen puts on what it owns, so that `kubectl get
// -l app.kubernetes.io/managed-by=cocogen` finds it and several patterns can
// share a cluster.
func Labels(p *spec.Pattern, group string) map[string]string {
	l := map[string]string{
		"app.kubernetes.io/managed-by": "cocogen",
		"app.kubernetes.io/part-of":    p.Spec.ArgoCD.Instance,
	}
	if group != "" {
		l["cocogen.dev/cluster-group"] = group
	}
	return l
}
