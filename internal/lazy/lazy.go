// Package lazy compiles regular expressions on first use instead of at
// package initialisation: every process (each Argo CD refresh, each
// kustomize build, each --help) pays for initialisation, and most runs
// use few of the expressions.
package lazy

import (
	"regexp"
	"sync"
)

// Regexp returns a function that compiles expr once, on its first call,
// and panics if it does not compile, like regexp.MustCompile.
func Regexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
