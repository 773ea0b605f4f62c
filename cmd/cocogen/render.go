package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/generators/all"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
)

func newRenderCmd() *cobra.Command {
	var (
		file     string
		outDir   string
		repoRoot string
		only     []string
		load     spec.LoadOptions
	)
	cmd := &cobra.Command{
		Use:   "render -f PATTERN [-o DIR]",
		Short: "Render a pattern (YAML or Jsonnet) to a YAML stream or a directory tree",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usageError{fmt.Errorf("-f PATTERN is required")}
			}
			p, err := spec.Load(file, load)
			if err != nil {
				return err
			}
			if repoRoot == "" {
				repoRoot = findRepoRoot(file)
			}
			res, err := render.Render(p, render.WithGenerators(all.Generators()...), render.WithRepo(os.DirFS(repoRoot)))
			if err != nil {
				return err
			}
			if len(only) > 0 {
				res.Set = res.Set.Only(only...)
			}
			for _, w := range res.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "cocogen: warning: "+w)
			}
			if outDir != "" {
				return manifest.WriteTree(outDir, res.Set)
			}
			return manifest.WriteStream(cmd.OutOrStdout(), res.Set)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "pattern file (.yaml, .yml, .json, .jsonnet)")
	f.StringVarP(&outDir, "output-dir", "o", "", "write one file per object under this directory (replaced atomically) instead of a stream on stdout")
	f.StringVar(&repoRoot, "repo-root", "", "root of the pattern's git repository, which application paths are relative to (default: the nearest parent of the pattern holding .git, else its directory)")
	f.StringSliceVar(&only, "only", nil, "keep only these directories of the tree (e.g. a cluster group's name, bootstrap/<group>), as the Argo CD plugin does for one cluster")
	f.StringToStringVar(&load.ExtStrs, "ext-str", nil, "Jsonnet external string variable (name=value)")
	f.StringToStringVar(&load.ExtCodes, "ext-code", nil, "Jsonnet external code variable (name=code)")
	f.StringToStringVar(&load.TLAStrs, "tla-str", nil, "Jsonnet top-level string argument (name=value)")
	f.StringToStringVar(&load.TLACodes, "tla-code", nil, "Jsonnet top-level code argument (name=code)")
	f.StringArrayVarP(&load.JPath, "jpath", "J", nil, "Jsonnet library search directory")
	return cmd
}

// findRepoRoot walks up from the pattern file to the directory holding
// .git; application paths in a pattern are relative to it.
func findRepoRoot(file string) string {
	start, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		return filepath.Dir(file)
	}
	for dir := start; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			return start
		}
	}
}
