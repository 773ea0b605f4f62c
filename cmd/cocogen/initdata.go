package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/pkg/initdata"
)

func newInitDataCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "initdata",
		Short: "Compute digests of, decode and encode init-data documents",
		Long: `Init-data is the TOML document (aa.toml, cdh.toml, policy.rego) a
confidential pod receives in the io.katacontainers.config.hypervisor.cc_init_data
annotation as base64(gzip(TOML)). The TEE measures its digest; Trustee compares
it with a reference value. These commands work on the exact bytes.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newInitDataDigestCmd(), newInitDataDecodeCmd(), newInitDataEncodeCmd())
	return cmd
}

// readInput reads the file named by args[0], or stdin when there is none
// or it is "-".
func readInput(cmd *cobra.Command, args []string) ([]byte, error) {
	if len(args) == 0 || args[0] == "-" {
		data, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), initdata.MaxDocumentSize+1))
		if err != nil {
			return nil, fmt.Errorf("reading stdin: %w", err)
		}
		if len(data) > initdata.MaxDocumentSize {
			return nil, usageError{fmt.Errorf("input larger than %d bytes", initdata.MaxDocumentSize)}
		}
		return data, nil
	}
	f, err := os.Open(args[0])
	if err != nil {
		return nil, usageError{fmt.Errorf("reading %s: %w", args[0], errors.Unwrap(err))}
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		return nil, usageError{fmt.Errorf("reading %s: not a regular file", args[0])}
	}
	data, err := io.ReadAll(io.LimitReader(f, initdata.MaxDocumentSize+1))
	if err != nil {
		return nil, usageError{fmt.Errorf("reading %s: %w", args[0], errors.Unwrap(err))}
	}
	if len(data) > initdata.MaxDocumentSize {
		return nil, usageError{fmt.Errorf("%s is larger than %d bytes", args[0], initdata.MaxDocumentSize)}
	}
	return data, nil
}
