package policies

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestPinSetPolicy: the init-data's policy allows exactly one
// SetPolicyRequest, the one installing the annotation's policy byte for
// byte, which allows none; every other request is decided as the
// annotation's policy decides it.
func TestPinSetPolicy(t *testing.T) {
	for name, opts := range map[string]Options{"exec-deny": {}, "workload": withContainers(Options{Profile: Workload})} {
		t.Run(name, func(t *testing.T) {
			replacement := renderT(t, opts)
			pinned, err := PinSetPolicy(replacement)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := PinSetPolicy(pinned); err == nil {
				t.Error("a pinned policy pinned again")
			}
			if data, err := PolicyData(pinned); err != nil || data["profile"] != string(opts.Profile) && !(opts.Profile == "" && data["profile"] == "exec-deny") {
				t.Errorf("policy_data of the pinned policy: %v, %v", data["profile"], err)
			}
			kinds := append(agentRequests(), "AllowRequestsFailingPolicy")
			before, after := newEngine(t, pinned, kinds...), newEngine(t, replacement, kinds...)
			for policy, want := range map[string]bool{replacement: true, replacement + "\n": false, strings.Replace(replacement, "false", "true", 1): false, pinned: false, "": false} {
				req := map[string]any{"policy": policy}
				if got, err := before.decide("SetPolicyRequest", req); err != nil || got != want {
					t.Errorf("before: SetPolicy of %d bytes: %v (%v), want %v", len(policy), got, err, want)
				}
				if got, _ := after.decide("SetPolicyRequest", req); got {
					t.Errorf("after: SetPolicy of %d bytes allowed", len(policy))
				}
				x, err := NewExplainer(pinned)
				if err != nil {
					t.Fatal(err)
				}
				e, err := x.Explain("SetPolicyRequest", req)
				if err != nil || e.Allowed != want || !want && (e.Mismatch == nil || e.Mismatch.Field != "policy") {
					t.Errorf("explain SetPolicy of %d bytes: %+v, %v", len(policy), e, err)
				}
			}
			// Everything else as the replacement decides it.
			files := loadCases(t, "")
			n := 0
			for _, file := range slices.Sorted(maps.Keys(files)) {
				for _, c := range files[file] {
					a, errA := before.decide(c.Kind, c.Request)
					b, errB := after.decide(c.Kind, c.Request)
					if a != b || (errA != nil) != (errB != nil) {
						t.Errorf("%s %q (%s): pinned %v (%v), replacement %v (%v)", file, c.Description, c.Kind, a, errA, b, errB)
					}
					n++
				}
			}
			for _, kind := range agentRequests() {
				if kind == "SetPolicyRequest" {
					continue
				}
				a, _ := before.decide(kind, nil)
				b, _ := after.decide(kind, nil)
				if a != b {
					t.Errorf("%s: pinned %v, replacement %v", kind, a, b)
				}
			}
			if n == 0 {
				t.Fatal("no cases compared")
			}
		})
	}
}

// TestPolicyLines: regorus 0.9 (the kata 4 line) refuses lines over 1024
// columns, so a long policy_data string and the pinned text are split,
// multi-byte runes and escapes included, and read back whole: the policy
// decides with the whole value and explain reads it.
func TestPolicyLines(t *testing.T) {
	long := strings.Repeat(`"ü\`, 700)
	policy := renderT(t, Options{AllowedExec: [][]string{{"/bin/sh", "-c", long}}})
	pinned, err := PinSetPolicy(policy)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(pinned, "\n") {
		if len(line) > maxPolicyColumns {
			t.Errorf("line %d is %d bytes", i+1, len(line))
		}
	}
	exec := newEngine(t, policy, "ExecProcessRequest")
	for arg, want := range map[string]bool{long: true, long[1:]: false} {
		req := map[string]any{"process": map[string]any{"Args": []any{"/bin/sh", "-c", arg}}}
		if ok, err := exec.decide("ExecProcessRequest", req); err != nil || ok != want {
			t.Errorf("exec of a %d-byte argument: %v (%v), want %v", len(arg), ok, err, want)
		}
		if e, err := Explain(policy, "ExecProcessRequest", req); err != nil || e.Allowed != want {
			t.Errorf("explain exec of a %d-byte argument: %+v (%v)", len(arg), e, err)
		}
	}
	data, err := PolicyData(policy)
	if err != nil {
		t.Fatal(err)
	}
	if got := data["exec_process"].(map[string]any)["allowed_commands"].([]any)[0].([]any)[2]; got != long {
		t.Errorf("policy_data reads back %.40q", got)
	}
	if got, ok := pinnedPolicy(pinned); !ok || got != policy {
		t.Errorf("the pinned text does not read back (%v)", ok)
	}
	e := newEngine(t, pinned, "SetPolicyRequest")
	if ok, err := e.decide("SetPolicyRequest", map[string]any{"policy": policy}); err != nil || !ok {
		t.Errorf("SetPolicy of the pinned text: %v %v", ok, err)
	}
}

// trusteePolicyData reads policy_data as Trustee's attestation service
// does (v0.21.0 attestation-service/src/lib.rs extract_policy_data): the
// JSON after the first "policy_data := {".
func trusteePolicyData(t *testing.T, policy string) map[string]any {
	t.Helper()
	i := strings.Index(policy, "policy_data := {")
	if i < 0 {
		t.Fatal("Trustee finds no policy_data")
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(policy[i+len("policy_data := "):]), &data); err != nil {
		t.Fatalf("Trustee cannot parse policy_data: %v", err)
	}
	return data
}

// TestTrusteeReadsPinnedPolicyData: the pinned copy hides its own
// policy_data from Trustee, which reads the claims of the policy in
// force.
func TestTrusteeReadsPinnedPolicyData(t *testing.T) {
	for _, opts := range []Options{{}, withContainers(Options{Profile: Workload}), {Profile: Debug}} {
		policy := renderT(t, opts)
		pinned, err := PinSetPolicy(policy)
		if err != nil {
			t.Fatal(err)
		}
		want, err := PolicyData(policy)
		if err != nil {
			t.Fatal(err)
		}
		for name, text := range map[string]string{"plain": policy, "pinned": pinned} {
			if got := trusteePolicyData(t, text); !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s: Trustee reads other policy_data", opts.Profile, name)
			}
		}
	}
}

// TestPinnedSetPolicyOnlyFirst: the pinned replacement is allowed only
// before any container exists, since the agent starts the replacement
// with an empty policy state (kata 3.25.0 policy.rs set_policy).
func TestPinnedSetPolicyOnlyFirst(t *testing.T) {
	dir := "createcontainer/env_vars"
	replacement := workloadPolicy(t, dir)
	pinned, err := PinSetPolicy(replacement)
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, pinned, "SetPolicyRequest", "CreateContainerRequest")
	set := map[string]any{"policy": replacement}
	if ok, err := e.decide("SetPolicyRequest", set); err != nil || !ok {
		t.Fatalf("before any container: %v %v", ok, err)
	}
	var created bool
	for _, c := range loadCases(t, dir)[dir+"/testcases.json"] {
		if c.Allowed {
			ok, err := e.decide("CreateContainerRequest", c.Request)
			created = created || ok && err == nil
		}
	}
	if !created {
		t.Fatal("no container created")
	}
	if ok, _ := e.decide("SetPolicyRequest", set); ok {
		t.Error("the replacement is allowed after containers were created")
	}
}
