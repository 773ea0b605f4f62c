package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/policies"
)

func newPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Work with the kata agent policies cocogen generates",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newPolicyExplainCmd())
	return cmd
}

func newPolicyExplainCmd() *cobra.Command {
	var kind string
	cmd := &cobra.Command{
		Use:   "explain POLICY REQUEST",
		Short: "Say why an agent policy allows or denies an agent request",
		Long: `POLICY is a cocogen agent policy: the .rego, the init-data .toml, an
annotation value, or manifests carrying the init-data (a rendered Pod or
Deployment). REQUEST is the request as JSON: one request (its kind from
--kind), or the kata agent's policy log (/tmp/policy.jsonl in the guest,
one {"kind": ..., "request": ...} per line), read in order, following the
sandbox state as the policy does (which container each id was created
as). From a log, every CreateContainerRequest, ExecProcessRequest and
stream request (logs: ReadStreamRequest; stdin: WriteStreamRequest,
CloseStdinRequest) is printed, and any other request (CreateSandbox,
CopyFile, network updates, SetPolicy, ...) only when denied.

For a denial it prints the first field of the request that differs from
what the policy expects, the expected value and, for a workload policy's
containers, the container of the pod spec it was derived from (container
requests need a workload policy; the others are explained for every
profile). The decision is cocogen's reading of the
policy's data (the tests hold it to the policy's own decisions); the agent
decides with the policy. Exit status 1 when a request is denied.`,
		Args: cobra.ExactArgs(2),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			policyData, err := os.ReadFile(args[0])
			if err != nil {
				return usageError{err}
			}
			policyText, err := policies.PolicyIn(policyData)
			if err != nil {
				return usageError{fmt.Errorf("%s: %w", args[0], err)}
			}
			reqData, err := os.ReadFile(args[1])
			if err != nil {
				return usageError{err}
			}
			requests, err := policies.ReadRequests(reqData, kind)
			if err != nil {
				return usageError{fmt.Errorf("%s: %w", args[1], err)}
			}
			x, err := policies.NewExplainer(policyText)
			if err != nil {
				return usageError{fmt.Errorf("%s: %w", args[0], err)}
			}
			if len(requests) > 1 {
				// The agent's log: follow the sandbox state, so an exec is
				// explained against the container its id was created as.
				x.Track()
			}
			out := cmd.OutOrStdout()
			denied, explained := false, 0
			for _, r := range requests {
				if r.Kind == "RemoveContainerRequest" {
					_, _ = x.Explain(r.Kind, r.Request) // state only
					continue
				}
				e, err := x.Explain(r.Kind, r.Request)
				if err != nil {
					return usageError{err}
				}
				if len(requests) > 1 && e.Allowed && !slices.Contains(policies.ExplainedKinds, r.Kind) {
					continue // the log's routine requests
				}
				explained++
				decision := "allowed"
				if !e.Allowed {
					decision, denied = "DENIED", true
				}
				where := ""
				if e.Container != "" {
					where = " for " + e.Container
				}
				fmt.Fprintf(out, "%s%s: %s\n", r.Kind, where, decision)
				if e.Mismatch != nil {
					fmt.Fprintf(out, "  %s\n", e.Mismatch)
				}
			}
			if explained == 0 {
				fmt.Fprintf(out, "no %s and no denied request in %s\n", strings.Join(policies.ExplainedKinds, ", "), args[1])
			}
			if denied {
				return errDifferent
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&kind, "kind", "CreateContainerRequest", "kind of a single request (ignored for the agent's log)")
	return cmd
}
