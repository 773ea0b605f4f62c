package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/generators"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/render"
)

func newRenderCmd() *cobra.Command {
	var (
		req    render.Request
		outDir string
	)
	cmd := &cobra.Command{
		Use:   "render -f PATTERN [-o DIR]",
		Short: "Render a pattern (YAML or Jsonnet) to a YAML stream or a directory tree",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.Path == "" {
				return usageError{fmt.Errorf("-f PATTERN is required")}
			}
			req.Generators = generators.All()
			res, err := render.Run(cmd.Context(), req)
			if err != nil {
				return err
			}
			printFindings(cmd.ErrOrStderr(), res.Findings)
			if outDir != "" {
				return manifest.WriteTree(outDir, res.Set)
			}
			return manifest.WriteStream(cmd.OutOrStdout(), res.Set)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&req.Path, "file", "f", "", "pattern file (.yaml, .yml, .json, .jsonnet)")
	f.StringVarP(&outDir, "output-dir", "o", "", "write one file per object under this directory (replaced atomically) instead of a stream on stdout")
	f.StringVar(&req.RepoRoot, "repo-root", "", "root of the pattern's git repository, which application paths are relative to (default: the nearest parent of the pattern holding .git, else its directory)")
	f.StringVar(&req.Load.Release, "release", "", "render for this release line instead of the pattern's spec.release")
	f.StringSliceVar(&req.Only, "only", nil, "keep only these directories of the tree (e.g. a cluster group's name, bootstrap/<group>), as the Argo CD plugin does for one cluster")
	f.StringToStringVar(&req.Load.ExtStrs, "ext-str", nil, "Jsonnet external string variable (name=value)")
	f.StringToStringVar(&req.Load.ExtCodes, "ext-code", nil, "Jsonnet external code variable (name=code)")
	f.StringToStringVar(&req.Load.TLAStrs, "tla-str", nil, "Jsonnet top-level string argument (name=value)")
	f.StringToStringVar(&req.Load.TLACodes, "tla-code", nil, "Jsonnet top-level code argument (name=code)")
	f.StringArrayVarP(&req.Load.JPath, "jpath", "J", nil, "Jsonnet library search directory")
	return cmd
}

// printFindings prints each finding as "cocogen: <severity>: file:line:
// field: message".
func printFindings(w io.Writer, findings []render.Finding) {
	for _, f := range findings {
		fmt.Fprintf(w, "cocogen: %s: %s\n", f.Severity, f)
	}
}
