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
	root.AddCommand(newRenderCmd(), newInitDataCmd(), newSecretsCmd(), newKRMCmd(), newCMPCmd(), newDiffCmd(), newImagesCmd(), newPolicyCmd(), newPeerpoddCmd(), newVersionCmd())
	return root
}
