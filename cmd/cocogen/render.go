package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cocogen/cocogen/generators"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
)

func newRenderCmd() *cobra.Command {
	var (
		req    render.Request
		outDir string
		force  bool
	)
	cmd := &cobra.Command{
		Use:   "render -f PATTERN [-o DIR]",
		Short: "Render a pattern (YAML or Jsonnet) to a YAML stream or a directory tree",
		Args:  cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if req.Path == "" {
				return usageError{fmt.Errorf("-f PATTERN is required (- reads a YAML pattern from stdin)")}
			}
			if req.Path == "-" {
				data, err := readStdin(cmd, req.Load.Limits.WithDefaults().MaxInputBytes)
				if err != nil {
					return err
				}
				req.Path, req.Data = "<stdin>", data
			}
			req.Generators = generators.All()
			res, err := render.Run(cmd.Context(), req)
			if err != nil {
				return err
			}
			printFindings(cmd.ErrOrStderr(), res.Findings)
			if outDir == "" {
				return manifest.WriteStream(cmd.OutOrStdout(), res.Set)
			}
			root := req.RepoRoot
			if root == "" {
				root = "."
				if req.Data == nil {
					root = spec.FindRepoRoot(req.Path)
				}
			}
			protect := []manifest.Protected{{Path: root, What: "the repository root"}}
			if req.Data == nil {
				protect = append(protect, manifest.Protected{Path: req.Path, What: "the pattern"})
			}
			return manifest.WriteTree(outDir, res.Set, manifest.WriteOptions{Force: force, Protect: protect})
		}),
	}
	f := cmd.Flags()
	f.StringVarP(&req.Path, "file", "f", "", "pattern file (.yaml, .yml, .json, .jsonnet), or - for a YAML pattern on stdin")
	f.StringVarP(&outDir, "output-dir", "o", "", "write one file per object under this directory (replaced atomically; only a directory cocogen wrote, an empty or a missing one) instead of a stream on stdout")
	f.BoolVar(&force, "force", false, "with -o, replace a directory cocogen did not write (never the repository, the pattern or a directory holding .git)")
	f.StringVar(&req.RepoRoot, "repo-root", "", "root of the pattern's git repository: application paths and Jsonnet imports resolve inside it, and nothing outside it is read (default: the nearest parent of the pattern holding .git, else its directory)")
	f.StringVar(&req.Load.Release, "release", "", "render for this release line instead of the pattern's spec.release")
	f.StringSliceVar(&req.Only, "only", nil, "keep only these directories of the tree (a cluster group's name, bootstrap/<group>, apps/<group>), as the Argo CD plugin does for one cluster")
	f.StringToStringVar(&req.Load.ExtStrs, "ext-str", nil, "Jsonnet external string variable (name=value)")
	f.StringToStringVar(&req.Load.ExtCodes, "ext-code", nil, "Jsonnet external code variable (name=code)")
	f.StringToStringVar(&req.Load.TLAStrs, "tla-str", nil, "Jsonnet top-level string argument (name=value)")
	f.StringToStringVar(&req.Load.TLACodes, "tla-code", nil, "Jsonnet top-level code argument (name=code)")
	f.StringArrayVarP(&req.Load.JPath, "jpath", "J", nil, "Jsonnet library search directory (inside the repository)")
	addLimitFlags(f, &req.Load.Limits)
	return cmd
}

// addLimitFlags binds the input limits (see spec.Limits) to flags.
func addLimitFlags(f *pflag.FlagSet, l *spec.Limits) {
	f.Var(newSizeValue(&l.MaxInputBytes, spec.DefaultMaxInputBytes), "max-input-size", "largest file read (pattern, Jsonnet import, application manifest), e.g. 8Mi")
	f.Var(newSizeValue(&l.MaxOutputBytes, spec.DefaultMaxOutputBytes), "max-output-size", "largest rendered output, all files together, e.g. 48Mi")
	f.DurationVar(&l.JsonnetTimeout, "jsonnet-timeout", spec.DefaultJsonnetTimeout, "longest a Jsonnet pattern may evaluate")
	f.Var(newSizeValue(&l.JsonnetMemoryBytes, spec.DefaultJsonnetMemoryBytes), "jsonnet-memory", "most the process may grow while a Jsonnet pattern evaluates, e.g. 48Mi")
	f.IntVar(&l.JsonnetMaxStack, "jsonnet-max-stack", spec.DefaultJsonnetMaxStack, "deepest Jsonnet call stack")
}

// readStdin reads standard input, at most limit bytes.
func readStdin(cmd *cobra.Command, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading stdin: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, spec.ErrorList{spec.LimitError("<stdin>", "max-input-size", "max-input-size", spec.ByteSize(limit))}
	}
	return data, nil
}

// printFindings prints each finding as "cocogen: <severity>: file:line:
// field: message".
func printFindings(w io.Writer, findings []render.Finding) {
	for _, f := range findings {
		fmt.Fprintf(w, "cocogen: %s: %s\n", f.Severity, f)
	}
}
