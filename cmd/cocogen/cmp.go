package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/generators"
	"github.com/cocogen/cocogen/pkg/cmp"
	"github.com/cocogen/cocogen/pkg/spec"
)

func newCMPCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "cmp", Short: "Run as an Argo CD config-management plugin (see plugin.yaml)", Args: cobra.NoArgs}
	var limits spec.Limits
	generate := &cobra.Command{
		Use:   "generate",
		Short: "Render the Application's cluster group, as argocd-cmp-server runs it",
		Long: `Render the part of the tree an Argo CD Application asks for, in the
environment argocd-cmp-server gives the generate command: the working
directory is the application's path in the repository; the plugin
parameters group (required), app, pattern (default pattern.yaml), release,
jsonnet-ext-str and jsonnet-tla-str come as PARAM_* and ARGOCD_APP_PARAMETERS.
Manifests go to stdout only when the whole render succeeded; warnings go to
stderr and into the ConfigMap cocogen-render-findings in the Application's
namespace.`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			env := cmp.NewEnv(os.Environ())
			req, err := cmp.Request(env, wd, generators.All(), limits)
			if err != nil {
				return err
			}
			return cmp.Generate(cmd.Context(), req, env.Get("ARGOCD_APP_NAMESPACE"), cmd.OutOrStdout(), cmd.ErrOrStderr())
		}),
	}
	addLimitFlags(generate.Flags(), &limits)
	cmd.AddCommand(generate)
	return cmd
}
