// Package all lists cocogen's generators in the order their output is
// merged. Adapters (CLI, Argo CD plugin, KRM function) render with this list.
package all

import (
	"github.com/cocogen/cocogen/generators"
	"github.com/cocogen/cocogen/generators/acm"
	"github.com/cocogen/cocogen/generators/argocd"
	"github.com/cocogen/cocogen/generators/initdata"
	"github.com/cocogen/cocogen/generators/trustee"
)

// Generators returns a fresh list of every generator, in merge order.
func Generators() []generators.Generator {
	return []generators.Generator{
		argocd.New(),
		initdata.New(),
		trustee.New(),
		acm.New(),
	}
}
