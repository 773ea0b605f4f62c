package policies

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestExplainHostRequestsMatchReference: on every case of kata's
// image-independent folders (sandbox, file copies, network updates),
// policy explain decides as OPA does with the policy (which decides as
// kata's generated policy does), for exec-deny and workload policies
// alike, and names a field for each denial.
func TestExplainHostRequestsMatchReference(t *testing.T) {
	for _, opts := range []Options{{}, withContainers(Options{Profile: Workload})} {
		text := renderT(t, opts)
		e := newEngine(t, text, agentRequests()...)
		x, err := NewExplainer(text)
		if err != nil {
			t.Fatal(err)
		}
		denials := 0
		for _, dir := range referenceDirs {
			files := loadCases(t, dir)
			for _, file := range slices.Sorted(maps.Keys(files)) {
				for i, c := range files[file] {
					name := fmt.Sprintf("%s %s case %d %q", opts.Profile, file, i, c.Description)
					input, err := fillDefaults(c.Kind, c.Request)
					if err != nil {
						t.Fatal(err)
					}
					want, err := e.decide(c.Kind, c.Request)
					if err != nil {
						t.Fatal(err)
					}
					got, err := x.Explain(c.Kind, input)
					switch {
					case err != nil:
						t.Errorf("%s: %v", name, err)
					case got.Allowed != want || want != c.Allowed:
						t.Errorf("%s: explain allowed=%v, OPA %v, kata %v (%v)", name, got.Allowed, want, c.Allowed, got.Mismatch)
					case !got.Allowed && (got.Mismatch == nil || got.Mismatch.Field == ""):
						t.Errorf("%s: denied without naming a field", name)
					case !got.Allowed:
						denials++
						t.Logf("%s: %s", name, got.Mismatch)
					}
				}
			}
		}
		if denials == 0 {
			t.Errorf("%s: no denial explained", opts.Profile)
		}
	}
}

// TestExplainEveryRequestKind: every request the agent can send (as it
// sends it with no fields set) is explained as OPA decides it, for every
// profile; the container requests of exec-deny, which binds no
// container, are the exception and say so.
func TestExplainEveryRequestKind(t *testing.T) {
	for _, opts := range []Options{{}, {Profile: Debug}, withContainers(Options{Profile: Workload}), {AllowLogs: ptrTo(true), AllowStdin: true, AllowedExec: [][]string{{"/bin/date"}}}} {
		text := renderT(t, opts)
		e := newEngine(t, text, agentRequests()...)
		x, err := NewExplainer(text)
		if err != nil {
			t.Fatal(err)
		}
		for _, kind := range agentRequests() {
			for _, req := range []map[string]any{nil, {"process": map[string]any{"Args": []any{"/bin/date"}}}} {
				input, _ := fillDefaults(kind, req)
				want, err := e.decide(kind, req)
				if err != nil {
					t.Fatal(err)
				}
				got, err := x.Explain(kind, input)
				if err != nil {
					if kind == "CreateContainerRequest" && opts.Profile != Workload && opts.Profile != Debug {
						continue
					}
					t.Errorf("%s %s: %v", opts.Profile, kind, err)
					continue
				}
				if got.Allowed != want {
					t.Errorf("%s %s %v: explain allowed=%v, OPA %v (%v)", opts.Profile, kind, req, got.Allowed, want, got.Mismatch)
				}
				if !got.Allowed && (got.Mismatch == nil || got.Mismatch.Field == "") {
					t.Errorf("%s %s: denied without naming a field", opts.Profile, kind)
				}
			}
		}
	}
}

// TestExplainSetPolicy names the spec option behind a SetPolicyRequest:
// the shim sends one for the legacy policy annotation.
func TestExplainSetPolicy(t *testing.T) {
	e, err := Explain(renderT(t, Options{}), "SetPolicyRequest", map[string]any{"policy": "package agent_policy"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Allowed || e.Mismatch == nil || !strings.Contains(e.Mismatch.String(), "legacyPolicy") {
		t.Errorf("explanation %+v", e)
	}
}

func ptrTo[T any](v T) *T { return &v }
