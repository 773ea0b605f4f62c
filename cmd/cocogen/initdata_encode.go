package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/pkg/initdata"
)

func newInitDataEncodeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "encode [FILE|-]",
		Short: "Print the annotation value, base64(gzip(TOML)), of an init-data document",
		Args:  cobra.MaximumNArgs(1),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			data, err := readInput(cmd, args)
			if err != nil {
				return err
			}
			if _, err := initdata.Parse(data); err != nil {
				return usageError{err}
			}
			ann, err := initdata.Encode(data)
			if err != nil {
				return err
			}
			if n := len(ann); n > initdata.MaxAnnotationSize {
				return usageError{fmt.Errorf("the annotation would be %d bytes, above the Kubernetes limit of %d", n, initdata.MaxAnnotationSize)}
			} else if n > initdata.WarnAnnotationSize {
				fmt.Fprintf(cmd.ErrOrStderr(), "cocogen: warning: the annotation is %d KiB\n", n>>10)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), ann)
			return err
		}),
	}
}
