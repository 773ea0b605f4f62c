// Command cocogen renders a Confidential Containers pattern spec into
// everything a GitOps deployment needs. See README.md.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
)

// Exit codes.
const (
	exitOK       = 0
	exitInternal = 1
	exitInvalid  = 2
	// exitDifferent is `cocogen diff` finding differences (diff(1)'s 1).
	exitDifferent = 1
)

func main() {
	// A render lives for tens of milliseconds and its heap is all live
	// until the output is written: collecting at the default 100% (from a
	// 4 MiB start) costs a third of the run for little memory back. The
	// Jsonnet budget sets its own memory limit, which the collector
	// honours whatever the percentage; GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the CLI with explicit streams so tests drive it in-process.
// Exit 1 is kept for cocogen's own failures (a bug, a failed write): a
// command returns those wrapped as internalError. Everything else, bad
// input, unknown commands, flags or arguments included, is the user's to
// fix: exit 2.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if stop := stopProfile; stop != nil {
		stopProfile = nil
		if perr := stop(); perr != nil && err == nil {
			err = internalError{perr}
		}
	}
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errDifferent) {
		return exitDifferent
	}
	fmt.Fprintln(stderr, "cocogen: "+err.Error())
	if errors.As(err, new(internalError)) && !spec.IsInvalid(err) {
		return exitInternal
	}
	return exitInvalid
}

// usageError marks errors caused by how cocogen was called or by bad input
// that is not a pattern (e.g. an annotation to decode); exit code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// internalError is a failure that is not the input's: exit code 1.
type internalError struct{ err error }

func (e internalError) Error() string { return e.err.Error() }
func (e internalError) Unwrap() error { return e.err }

// classify marks an error a command returns: input errors (a pattern
// problem, a refused destination, a usage error) stay as they are, the
// rest is internal.
func classify(err error) error {
	if err == nil || spec.IsInvalid(err) || errors.As(err, new(usageError)) || errors.As(err, new(*manifest.RefusedError)) {
		return err
	}
	return internalError{err}
}

// runE wraps a command's body so that its errors are classified.
func runE(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error { return classify(fn(cmd, args)) }
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "cocogen",
		Short:         "Render Confidential Containers patterns into GitOps manifests",
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		// Without a subcommand: a KRM function when kustomize starts it
		// (a ResourceList on stdin), else help; with an unknown one: a
		// usage error (exit 2), not cobra's help with exit 0.
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown command %q (see cocogen --help)", args[0])}
			}
			if data, ok := resourceListOnStdin(cmd); ok {
				return runKRM(cmd, bytes.NewReader(data), spec.Limits{})
			}
			return cmd.Help()
		}),
	}
	addProfileFlag(root)
	root.SetVersionTemplate("cocogen {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newRenderCmd(), newInitDataCmd(), newSecretsCmd(), newKRMCmd(), newCMPCmd(), newDiffCmd(), newImagesCmd(), newPolicyCmd(), newVersionCmd())
	return root
}

// version is the module version and the VCS revision the binary was built
// from, as the Go toolchain recorded them.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if rev == "" {
		rev = "unknown"
	}
	return fmt.Sprintf("%s (revision %s%s, %s)", v, rev, modified, info.GoVersion)
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print cocogen's version and the revision it was built from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "cocogen "+version())
			return nil
		},
	}
}
