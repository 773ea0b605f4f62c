package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
)

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
