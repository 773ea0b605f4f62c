package main

import (
	"bytes"
	"io"
	"os"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/cocogen/cocogen/generators"
	"github.com/cocogen/cocogen/pkg/krmfn"
	"github.com/cocogen/cocogen/pkg/spec"
)

func newKRMCmd() *cobra.Command {
	var limits spec.Limits
	cmd := &cobra.Command{
		Use:   "krm",
		Short: "Run as a kustomize KRM function: a ResourceList on stdin with a Pattern as functionConfig",
		Long: `Run as a kustomize KRM function (exec or container). kustomize passes a
ResourceList on stdin whose functionConfig is a cocogen Pattern; the
rendered objects are appended to its items on stdout. Input problems come
back as results with a failed run. cocogen also runs as a KRM function
without this subcommand when it is started with no arguments and a
ResourceList on stdin, as kustomize's exec functions are.`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			return runKRM(cmd, cmd.InOrStdin(), limits)
		}),
	}
	addLimitFlags(cmd.Flags(), &limits)
	return cmd
}

func runKRM(cmd *cobra.Command, in io.Reader, limits spec.Limits) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	return krmfn.Run(cmd.Context(), in, cmd.OutOrStdout(), krmfn.Options{WorkDir: wd, Generators: generators.All(), Limits: limits})
}

// resourceListOnStdin reads stdin when it is not a terminal and returns it
// if it holds a ResourceList (how kustomize starts an exec function).
func resourceListOnStdin(cmd *cobra.Command) ([]byte, bool) {
	if f, ok := cmd.InOrStdin().(*os.File); ok {
		if info, err := f.Stat(); err != nil || info.Mode()&os.ModeCharDevice != 0 {
			return nil, false
		}
	}
	data, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), spec.DefaultMaxInputBytes+1))
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return nil, false
	}
	var head struct {
		Kind string `json:"kind"`
	}
	if yaml.Unmarshal(data, &head) != nil || head.Kind != "ResourceList" {
		return nil, false
	}
	return data, true
}
