package main

import (
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/pkg/initdata"
)

func newInitDataDecodeCmd() *cobra.Command {
	var policy bool
	var object string
	cmd := &cobra.Command{
		Use:   "decode [FILE|-]",
		Short: "Print the TOML inside an init-data annotation, ConfigMap or manifest stream",
		Long: `Read an annotation value (base64 of gzip), or Kubernetes manifests
(a ConfigMap with an INITDATA key, pods or workloads with the init-data
annotation, a whole 'cocogen render' stream) from FILE or stdin, and print
the init-data TOML it holds. The document is checked (version, algorithm,
[data]) before it is printed.`,
		Args: cobra.MaximumNArgs(1),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			data, err := readInput(cmd, args)
			if err != nil {
				return err
			}
			ann, err := initdata.ValueIn(data, object)
			if err != nil {
				return usageError{err}
			}
			doc, err := initdata.Decode(ann)
			if err != nil {
				return usageError{err}
			}
			parsed, err := initdata.Parse(doc)
			if err != nil {
				return usageError{err}
			}
			w := cmd.OutOrStdout()
			if policy {
				rego, ok := parsed.Data[initdata.DataPolicy]
				if !ok {
					return usageError{errors.New("the init-data holds no policy.rego")}
				}
				_, err = io.WriteString(w, rego)
				return err
			}
			_, err = w.Write(doc)
			return err
		}),
	}
	cmd.Flags().BoolVar(&policy, "policy", false, "print only policy.rego")
	cmd.Flags().StringVar(&object, "object", "", "when manifests hold several init-data values, the one of this object: KIND/NAME or KIND/NAMESPACE/NAME")
	return cmd
}
