// Command cmp-server is argo-cd v2.14.21's argocd-cmp-server, built from
// its own command package, for the end-to-end test of cocogen's plugin.
package main

import (
	"os"

	"github.com/argoproj/argo-cd/v2/cmd/argocd-cmp-server/commands"
)

func main() {
	if err := commands.NewCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
