package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/pkg/deploy/peerpodd"
	"github.com/cocogen/cocogen/pkg/manifest"
)

func newPeerpoddCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "peerpodd",
		Short: "The peer-pod daemon for clusters without an operator that deploys one",
		Args:  cobra.NoArgs,
		// With a Run, cobra rejects an unknown subcommand (exit 2) instead
		// of printing help with exit 0.
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newPeerpoddManifestsCmd())
	return cmd
}

func newPeerpoddManifestsCmd() *cobra.Command {
	var (
		opts   = peerpodd.DefaultOptions()
		outDir string
		force  bool
	)
	cmd := &cobra.Command{
		Use:   "manifests --image IMAGE [-o DIR]",
		Short: "Print the manifests that deploy peerpodd, or write them as a kustomize base",
		Long: `Emits what runs peerpodd, the kata-remote hypervisor, on a cluster where no
operator deploys a peer-pod daemon (AKS, EKS): its Namespace, the PeerPod
CRD, a ServiceAccount with a least-privilege ClusterRole, the DaemonSet on
the nodes --node-selector picks, and the kata-remote RuntimeClass that
schedules pods there. The daemon's configuration is the user's: a ConfigMap
peer-pods-cm and, optionally, a Secret peer-pods-secret in the namespace,
with CAA's keys (CLOUD_PROVIDER, ...).

OpenShift sandboxed containers deploys its own daemon: do not use this there.`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			objs, err := peerpodd.Objects(opts)
			if err != nil {
				var invalid *peerpodd.InvalidOptionsError
				if errors.As(err, &invalid) {
					return usageError{invalidFlags(invalid)}
				}
				return err
			}
			if outDir == "" {
				return peerpodd.WriteStream(cmd.OutOrStdout(), objs)
			}
			set, err := peerpodd.Tree(objs)
			if err != nil {
				return err
			}
			return manifest.WriteTree(outDir, set, manifest.WriteOptions{Force: force, Protect: []manifest.Protected{{Path: ".", What: "the working directory"}}})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&opts.Image, "image", "", "the daemon's image, required: registry/repository@sha256:<digest> (recommended) or registry/repository:<release tag>, never latest")
	f.StringVar(&opts.Namespace, "namespace", opts.Namespace, "namespace of the daemon (created, labelled to admit privileged pods)")
	f.IntVar(&opts.PeerPodsLimit, "peer-pods-limit", opts.PeerPodsLimit, "peer pods each node accepts (its kata.peerpods.io/vm capacity)")
	f.StringToStringVar(&opts.NodeSelector, "node-selector", opts.NodeSelector, "labels of the nodes that run the daemon and the runtime class's pods (key=value,...)")
	f.StringVar(&opts.AzureWorkloadIdentityClientID, "azure-workload-identity-client-id", "", "reach Azure with workload identity as this client ID (annotates the ServiceAccount, labels the daemon's pods for the webhook)")
	f.StringVar(&opts.RuntimeClassName, "runtime-class", opts.RuntimeClassName, "name of the RuntimeClass pods use to run as peer pods")
	f.StringVar(&opts.Handler, "handler", opts.Handler, "CRI runtime handler of the RuntimeClass (kata's remote runtime in containerd or CRI-O)")
	f.StringVar(&opts.CloudProvider, "cloud-provider", "", "the cloud the daemon is for, recorded on the DaemonSet for readers (the daemon reads CLOUD_PROVIDER from peer-pods-cm)")
	f.StringVarP(&outDir, "output-dir", "o", "", "write a kustomize base (one file per object and kustomization.yaml) under this directory, replaced atomically, instead of a stream on stdout")
	f.BoolVar(&force, "force", false, "with -o, replace a directory cocogen did not write (never one holding .git)")
	return cmd
}

// invalidFlags words the options' problems as the flags they came from,
// one line each.
func invalidFlags(e *peerpodd.InvalidOptionsError) error {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = "--" + p.String()
	}
	return fmt.Errorf("invalid flags:\n  %s", strings.Join(lines, "\n  "))
}
