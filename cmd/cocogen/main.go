// Command cocogen renders a Confidential Containers pattern spec into
// everything a GitOps deployment needs. See README.md.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/pkg/spec"
)

// Exit codes.
const (
	exitOK       = 0
	exitInternal = 1
	exitInvalid  = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the CLI with explicit streams so tests drive it in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "cocogen: "+err.Error())
	if spec.IsInvalid(err) || errors.As(err, new(usageError)) {
		return exitInvalid
	}
	return exitInternal
}

// usageError marks errors caused by how cocogen was called or by bad input
// that is not a pattern (e.g. an annotation to decode); exit code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "cocogen",
		Short:         "Render Confidential Containers patterns into GitOps manifests",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newRenderCmd())
	root.AddCommand(newInitDataCmd())
	root.AddCommand(newSecretsCmd())
	return root
}
