// Package generators lists cocogen's generators, one output family per
// subpackage (argocd, initdata, trustee, acm). Each implements
// render.Generator and never imports another: what two families share is
// in the pattern (pkg/spec) or in a library package (pkg/initdata,
// internal/profiles, internal/objects), computed deterministically by both.
package generators

import (
	"github.com/cocogen/cocogen/generators/acm"
	"github.com/cocogen/cocogen/generators/argocd"
	"github.com/cocogen/cocogen/generators/initdata"
	"github.com/cocogen/cocogen/generators/trustee"
	"github.com/cocogen/cocogen/pkg/render"
)

// All returns a fresh list of every generator, in the order their output
// is merged. Every surface renders with it:
//
//	res, err := render.Run(ctx, render.Request{Path: "pattern.yaml", Generators: generators.All()})
func All() []render.Generator {
	return []render.Generator{
		argocd.New(),
		initdata.New(),
		trustee.New(),
		acm.New(),
	}
}
