// Command cocogen renders a Confidential Containers pattern spec into
// everything a GitOps deployment needs. See README.md.
package main

import (
	"errors"
	"fmt"
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
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(os.Stderr, "cocogen: "+err.Error())
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
	return root
}
