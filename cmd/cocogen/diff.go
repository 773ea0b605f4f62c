package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/generators"
	"github.com/cocogen/cocogen/pkg/diff"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
)

// errDifferent makes `cocogen diff` exit 1, like diff(1).
var errDifferent = errors.New("the renders differ")

func newDiffCmd() *cobra.Command {
	var (
		file, base, output string
		load               spec.LoadOptions
	)
	cmd := &cobra.Command{
		Use:   "diff -f PATTERN (--base REF | OLD_ROOT NEW_ROOT)",
		Short: "Show how two versions of a pattern render differently, init-data and policies decoded",
		Long: `Render two versions of a pattern and print a unified diff per changed
object (matched by cluster group, kind, namespace and name), with every
init-data and agent policy value decoded into its TOML and Rego, so that a
policy change reads as Rego. With --base REF the working tree is compared
with the pattern at the git revision REF (git archive); with two
directories, PATTERN is relative to each (two checkouts of the repository).
Exit 0 when the renders are equal, 1 when they differ, 2 on any error.`,
		Args: cobra.MaximumNArgs(2),
		// Not runE: every failure of a diff is exit 2, as for diff(1).
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" || (base == "") == (len(args) == 0) || (base == "" && len(args) != 2) {
				return usageError{fmt.Errorf("want -f PATTERN and either --base REF or two directories")}
			}
			if output != "text" && output != "markdown" {
				return usageError{fmt.Errorf("--output: want text or markdown, got %q", output)}
			}
			var oldRoot, newRoot, rel string
			if base != "" {
				newRoot = spec.FindRepoRoot(file)
				r, err := repoRelative(newRoot, file)
				if err != nil {
					return usageError{err}
				}
				rel = r
				tmp, err := os.MkdirTemp("", "cocogen-diff-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(tmp)
				oldRoot = tmp
				if err := diff.Checkout(newRoot, base, oldRoot); err != nil {
					return usageError{err}
				}
			} else {
				oldRoot, newRoot, rel = args[0], args[1], file
			}
			renderAt := func(root string) (*render.Result, error) {
				return render.Run(cmd.Context(), render.Request{Path: filepath.Join(root, rel), RepoRoot: root, Load: load, Generators: generators.All()})
			}
			old, err := renderAt(oldRoot)
			if err != nil {
				return err
			}
			cur, err := renderAt(newRoot)
			if err != nil {
				return err
			}
			changes, err := diff.Compare(old.Set, cur.Set)
			if err != nil {
				return err
			}
			if output == "markdown" {
				err = diff.WriteMarkdown(cmd.OutOrStdout(), changes)
			} else {
				err = diff.WriteText(cmd.OutOrStdout(), changes)
			}
			if err != nil {
				return err
			}
			if len(changes) > 0 {
				return errDifferent
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "the pattern file (with --base: in the working tree; else relative to each directory)")
	f.StringVar(&base, "base", "", "git revision to compare the working tree's render with (e.g. origin/main)")
	f.StringVarP(&output, "output", "o", "text", "text (unified diffs) or markdown (for a pull request comment)")
	f.StringVar(&load.Release, "release", "", "render both for this release line")
	addLimitFlags(f, &load.Limits)
	return cmd
}

// repoRelative is the pattern's path in its repository.
func repoRelative(root, file string) (string, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", err
	}
	rootAbs, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(rootAbs, abs)
	if err != nil || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%s is not inside its repository %s", file, root)
	}
	if _, err := os.Stat(abs); err != nil {
		return "", err
	}
	return rel, nil
}
