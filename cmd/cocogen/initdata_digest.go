package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/pkg/initdata"
)

// digestReport is `initdata digest -o json`; the names match the test
// vectors in fixtures/initdata-vectors.
type digestReport struct {
	Algorithm  string `json:"algorithm"`
	Bytes      int    `json:"bytes"`
	Digest     string `json:"digest"`
	HostData   string `json:"snp_hostdata_32"`
	MRConfigID string `json:"tdx_mrconfigid_48"`
	PCR8       string `json:"azure_vtpm_pcr8_sha256"`
}

func newInitDataDigestCmd() *cobra.Command {
	var alg, output string
	cmd := &cobra.Command{
		Use:   "digest [FILE|-]",
		Short: "Print the digest of an init-data TOML document and its TEE forms",
		Long: `Print the digest of an init-data document (FILE, or stdin) with its own
algorithm or --algorithm, and the values a TEE reports for it: SNP HOSTDATA
(32 bytes), TDX MRCONFIGID (48 bytes) and the Azure vTPM PCR8.`,
		Args: cobra.MaximumNArgs(1),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return usageError{fmt.Errorf("-o: want text or json, got %q", output)}
			}
			data, err := readInput(cmd, args)
			if err != nil {
				return err
			}
			doc, err := initdata.Parse(data)
			if err != nil {
				return usageError{err}
			}
			if alg == "" {
				alg = doc.Algorithm
			}
			digest, err := initdata.Digest(alg, data)
			if err != nil {
				return usageError{err}
			}
			hd, mr := initdata.HostDataOf(digest), initdata.MRConfigIDOf(digest)
			rep := digestReport{
				Algorithm:  alg,
				Bytes:      len(data),
				Digest:     hex.EncodeToString(digest),
				HostData:   hex.EncodeToString(hd[:]),
				MRConfigID: hex.EncodeToString(mr[:]),
				PCR8:       hex.EncodeToString(initdata.PCR8(data)),
			}
			w := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			_, err = fmt.Fprintf(w, "algorithm:       %s\ndigest:          %s\nsnp_hostdata:    %s\ntdx_mrconfigid:  %s\nazure_pcr8:      %s\n",
				rep.Algorithm, rep.Digest, rep.HostData, rep.MRConfigID, rep.PCR8)
			return err
		}),
	}
	cmd.Flags().StringVar(&alg, "algorithm", "", "digest algorithm: sha256, sha384 or sha512 (default: the document's)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
