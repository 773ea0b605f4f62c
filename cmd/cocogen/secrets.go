package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/pkg/kbssecrets"
	"github.com/cocogen/cocogen/pkg/spec"
)

func newSecretsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "secrets", Short: "Make the key material of a pattern's KBS", Args: cobra.NoArgs}
	cmd.AddCommand(newSecretsInitCmd())
	return cmd
}

func newSecretsInitCmd() *cobra.Command {
	var file, outDir string
	var manifests bool
	cmd := &cobra.Command{
		Use:   "init -f PATTERN (-o DIR | --manifests)",
		Short: "Generate the KBS Secrets the pattern says cocogen makes (source: generate)",
		Long: `Generate the KBS TLS key and certificate (with the CA that init-data pins),
the attestation token signing key and certificate, and the admin key pair.
With -o, DIR (new, outside the pattern's repository) gets secrets.yaml (the
Secrets, for 'oc apply -f'), kbs-ca.crt (for spec.trustee.certificate) and
kbs-admin.key, all readable by you only. With --manifests the Secrets go to
stdout and the CA certificate to stderr. Nothing is written to the rendered
tree, and nothing generated is ever rendered.`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if file == "" || (outDir == "") == !manifests {
				return usageError{fmt.Errorf("want -f PATTERN and one of -o DIR or --manifests")}
			}
			p, err := spec.Load(file, spec.LoadOptions{})
			if err != nil {
				return err
			}
			if outDir != "" {
				if err := outsideRepo(file, outDir); err != nil {
					return usageError{err}
				}
			}
			m, err := kbssecrets.Generate(p, kbssecrets.Options{})
			if err != nil {
				return err
			}
			if len(m.Secrets) == 0 {
				return usageError{fmt.Errorf("no KBS Secret of %s has source %q: nothing to generate", file, spec.SourceGenerate)}
			}
			stderr := cmd.ErrOrStderr()
			if manifests {
				if m.AdminPrivateKey != nil && p.Spec.Trustee.AdminAPI {
					return usageError{fmt.Errorf("spec.trustee.adminAPI is on: the admin private key must be kept, use -o DIR")}
				}
				data, err := m.Manifests()
				if err != nil {
					return err
				}
				if _, err := cmd.OutOrStdout().Write(data); err != nil {
					return err
				}
				if m.CACertificate != nil {
					fmt.Fprintf(stderr, "cocogen: set spec.trustee.certificate to this CA certificate, which pods pin:\n%s", m.CACertificate)
				}
				return nil
			}
			if err := m.WriteDir(outDir); err != nil {
				return usageError{err}
			}
			fmt.Fprintf(stderr, "cocogen: wrote %s: apply %s to the hub (oc apply -f), set spec.trustee.certificate to %s\n",
				outDir, filepath.Join(outDir, kbssecrets.SecretsFile), filepath.Join(outDir, kbssecrets.CAFile))
			return nil
		}),
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "pattern file")
	cmd.Flags().StringVarP(&outDir, "output-dir", "o", "", "new directory for the key material (outside the pattern's repository)")
	cmd.Flags().BoolVar(&manifests, "manifests", false, "print the Secrets on stdout instead")
	return cmd
}

// outsideRepo refuses a key material directory inside the pattern's
// repository, where it would be one `git add` away from being published.
func outsideRepo(pattern, dir string) error {
	root, err := filepath.Abs(spec.FindRepoRoot(pattern))
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(root, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("%s is inside the pattern's repository (%s): write key material outside it", dir, root)
	}
	return nil
}
