// Package policies renders the Kata agent policy (Rego, package
// agent_policy) that cocogen puts into init-data as policy.rego.
//
// The Kata agent in a confidential VM queries data.agent_policy.<Request>
// for every agent API request, with the request as JSON input, and runs the
// request only if the answer is true. This package ships three profiles:
//
//   - Workload ("workload", what a pattern's confidential applications get
//     unless their profile says otherwise) is ExecDeny bound to one pod
//     spec: CreateContainerRequest must match one of the containers the
//     pod spec and the image lock give (workload.go), exec runs only the
//     pod's probes.
//   - ExecDeny ("exec-deny", Options' zero value) has an explicit rule for every
//     agent request and denies by default. SetPolicyRequest is always refused; exec is
//     refused unless the full argv is allow-listed; stdin is refused and
//     logs are allowed unless Options say otherwise; CopyFile, network
//     updates and CreateSandbox are checked against policy_data.
//     CreateContainerRequest gets structural checks only (no hooks, no
//     shared PID namespace, no escape capabilities): it does not pin
//     images, commands or mounts.
//   - Debug allows everything, SetPolicyRequest included. It gives no
//     confidentiality; Profile.Permissive reports it so callers can warn.
//
// Render returns the policy text. Its last statement is always
//
//	policy_data := { ... }
//
// a JSON object (sorted keys) holding every tunable of the policy; Trustee
// parses it as JSON for attestation claims. The rules are embedded Rego v1
// sources (rego/*.rego) that also import rego.v1, so engines that default
// to Rego v0 accept them.
//
// The exec-deny rules for CopyFile, UpdateRoutes, UpdateInterface,
// AddARPNeighbors and CreateSandbox reach the same decision as the policy
// Kata's genpolicy generates on every case of genpolicy's own test data,
// kept in fixtures/genpolicy (see its NOTICE.md); the tests check that.
package policies
