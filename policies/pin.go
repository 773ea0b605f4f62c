package policies

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The legacy policy annotation (io.katacontainers.config.agent.policy)
// reaches the agent as a SetPolicyRequest, which the kata shim sends
// right after the agent starts, before the sandbox is created (kata
// 3.25.0 src/runtime/virtcontainers/kata_agent.go startSandbox); the
// agent installs it if the policy in force allows the request
// (src/agent/src/policy.rs do_set_policy), in place of the one the
// init-data carried, with a new, empty policy state (policy/src/policy.rs
// set_policy). The annotation is not measured, the init-data is.
// So the init-data's policy pins the replacement: it enforces the very
// same rules and allows exactly one SetPolicyRequest, the one whose
// policy is the annotation's text, byte for byte, and only before any
// container exists (a replacement would forget them); the replacement
// itself allows none. (The agent's regorus has no hash builtins, so the text itself is
// pinned; a policy cannot contain its own text, so the two differ by
// this rule.)

// pinnedPolicyPrefix starts the statement holding the pinned text.
const pinnedPolicyPrefix = "pinned_policy := "

// PinSetPolicy returns the policy for init-data that enforces policy's
// rules and allows one replacement: policy itself, as the legacy policy
// annotation sends it.
func PinSetPolicy(policy string) (string, error) {
	i := strings.LastIndex(policy, "\n"+policyDataPrefix)
	if i < 0 {
		return "", fmt.Errorf("not a cocogen agent policy: no policy_data statement")
	}
	if strings.Contains(policy, "\n"+pinnedPolicyPrefix) {
		return "", fmt.Errorf("the policy already pins a replacement")
	}
	var b strings.Builder
	b.WriteString(policy[:i+1])
	b.WriteString(`# The legacy policy annotation's SetPolicyRequest may install only the
# policy below, byte for byte: these rules without this one (see
# policies/pin.go in cocogen). One string per line of it, as newer
# regorus refuses lines over 1024 columns.
SetPolicyRequest if {
	input.policy == pinned_policy
	# Before any container: a replacement starts with an empty state.
	count(data.pstate) == 0
}

`)
	// Trustee reads policy_data from the first "policy_data := {" of the
	// policy (attestation-service v0.21.0 src/lib.rs
	// extract_policy_data): the pinned copy must not have one, so a
	// piece is also cut after each "policy_data".
	var parts []string
	for _, piece := range pieces(policy, pieceBytes) {
		for {
			i := strings.Index(piece, policyDataPrefix)
			if i < 0 {
				break
			}
			parts = append(parts, piece[:i+len("policy_data")])
			piece = piece[i+len("policy_data"):]
		}
		parts = append(parts, piece)
	}
	b.WriteString(pinnedPolicyPrefix)
	writeConcat(&b, "\t", "", parts)
	b.WriteString("\n\n")
	b.WriteString(policy[i+1:])
	return b.String(), nil
}

// pieces splits text after each newline, and lines longer than max
// bytes at rune boundaries, so that each quoted piece fits on a line.
func pieces(text string, max int) []string {
	var out []string
	for _, line := range strings.SplitAfter(text, "\n") {
		for len(line) > max {
			cut := max
			for cut > 0 && !utf8.RuneStart(line[cut]) {
				cut--
			}
			out = append(out, line[:cut])
			line = line[cut:]
		}
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}

// pinnedPolicy is the replacement a policy pins, if any.
func pinnedPolicy(policy string) (string, bool) {
	start := strings.Index(policy, "\n"+pinnedPolicyPrefix+concatOpen+"\n")
	if start < 0 {
		return "", false
	}
	end := strings.Index(policy[start:], "\n])\n")
	if end < 0 {
		return "", false
	}
	joined, err := joinLongStrings(policy[start+1 : start+end+4])
	if err != nil {
		return "", false
	}
	var text string
	if err := json.Unmarshal([]byte(strings.TrimPrefix(strings.TrimSpace(joined), pinnedPolicyPrefix)), &text); err != nil {
		return "", false
	}
	return text, true
}
