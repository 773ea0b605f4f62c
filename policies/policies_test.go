package policies

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

func TestProfiles(t *testing.T) {
	if diff := cmp.Diff([]Profile{ExecDeny, Workload, Debug}, Profiles()); diff != "" {
		t.Errorf("Profiles() mismatch (-want +got):\n%s", diff)
	}
	if ExecDeny.Permissive() {
		t.Error("ExecDeny.Permissive() = true")
	}
	if !Debug.Permissive() {
		t.Error("Debug.Permissive() = false")
	}
}

func TestRenderValidation(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string // substring of the error
	}{
		{"unknown profile", Options{Profile: "lax"}, `unknown profile "lax"`},
		{"empty argv", Options{AllowedExec: [][]string{{"date"}, {}}}, "AllowedExec[1] is an empty argv"},
		{"empty argv in debug", Options{Profile: Debug, AllowedExec: [][]string{nil}}, "AllowedExec[0] is an empty argv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Render error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestEmptyProfileIsStrict(t *testing.T) {
	if diff := cmp.Diff(renderT(t, Options{Profile: ExecDeny}), renderT(t, Options{})); diff != "" {
		t.Errorf("empty profile differs from exec-deny (-exec-deny +empty):\n%s", diff)
	}
}

func TestRenderCompiles(t *testing.T) {
	for _, p := range Profiles() {
		t.Run(string(p), func(t *testing.T) {
			text := renderT(t, withContainers(Options{Profile: p, AllowedExec: [][]string{{"/bin/sh", "-c", "echo \"<ok>\" & \\n"}}}))
			_, err := rego.New(
				rego.Query("data.agent_policy"),
				rego.Module("policy.rego", text),
			).PrepareForEval(context.Background())
			if err != nil {
				t.Fatalf("PrepareForEval: %v\n%s", err, text)
			}
		})
	}
}

func TestRenderDeterministic(t *testing.T) {
	for _, p := range Profiles() {
		opts := withContainers(Options{Profile: p, AllowedExec: [][]string{{"ls", "-l"}, {"date"}, {"ls", "-l"}}})
		first, second := renderT(t, opts), renderT(t, opts)
		if first != second {
			t.Errorf("%s: two renders differ", p)
		}
		// Order and duplicates of AllowedExec do not change the output.
		reordered := renderT(t, withContainers(Options{Profile: p, AllowedExec: [][]string{{"date"}, {"ls", "-l"}}}))
		if diff := cmp.Diff(first, reordered); diff != "" {
			t.Errorf("%s: AllowedExec order changes the output (-first +reordered):\n%s", p, diff)
		}
	}
}

// policy_data must be the last statement and the text after
// "policy_data := " must be a JSON object equal to the Rego value.
func TestPolicyDataIsLastAndJSON(t *testing.T) {
	f := false
	for _, p := range Profiles() {
		t.Run(string(p), func(t *testing.T) {
			text := renderT(t, withContainers(Options{Profile: p, AllowedExec: [][]string{{"cat", "/etc/os-release"}}, AllowLogs: &f, AllowStdin: true}))

			mod, err := ast.ParseModule("policy.rego", text)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			last := mod.Rules[0]
			for _, r := range mod.Rules {
				if r.Location.Row > last.Location.Row {
					last = r
				}
			}
			if got := last.Head.Name.String(); got != "policy_data" {
				t.Fatalf("last statement defines %q, want policy_data", got)
			}

			idx := strings.LastIndex(text, "\n"+policyDataPrefix)
			if idx < 0 {
				t.Fatalf("no line starting with %q", policyDataPrefix)
			}
			if strings.Count(text, "\n"+policyDataPrefix) != 1 {
				t.Fatalf("more than one line starting with %q", policyDataPrefix)
			}
			if !strings.HasSuffix(text, "}\n") {
				t.Fatalf("text does not end with the policy_data object: %q", text[len(text)-20:])
			}
			jsonText := text[idx+1+len(policyDataPrefix):]
			var fromJSON map[string]any
			if err := json.Unmarshal([]byte(jsonText), &fromJSON); err != nil {
				t.Fatalf("policy_data is not a JSON object: %v\n%s", err, jsonText)
			}
			if fromJSON["profile"] != string(p) {
				t.Errorf("policy_data.profile = %v, want %s", fromJSON["profile"], p)
			}

			rs, err := rego.New(rego.Query("data.agent_policy.policy_data"), rego.Module("policy.rego", text)).Eval(context.Background())
			if err != nil || len(rs) != 1 {
				t.Fatalf("evaluating policy_data: %v (%d results)", err, len(rs))
			}
			if diff := cmp.Diff(fromJSON, normalizeJSON(t, rs[0].Expressions[0].Value)); diff != "" {
				t.Errorf("JSON and Rego values of policy_data differ (-json +rego):\n%s", diff)
			}
		})
	}
}

// normalizeJSON round-trips v through encoding/json so numbers compare as float64.
func normalizeJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Every request the agent can ask about has a rule in exec-deny that yields a
// boolean for a default request, and every request rule in the Rego is in
// the agent API list (so neither side misses one).
func TestExecDenyHasRuleForEveryRequest(t *testing.T) {
	kinds := agentRequests()
	text := renderT(t, Options{})
	e := newEngine(t, text, kinds...)
	for _, kind := range kinds {
		if _, err := e.decide(kind, nil); err != nil {
			t.Errorf("exec-deny: %v", err)
		}
	}

	mod, err := ast.ParseModule("policy.rego", text)
	if err != nil {
		t.Fatal(err)
	}
	requestRule := regexp.MustCompile(`^(?:[A-Z][A-Za-z]*Request|MemAgent[A-Za-z]*Config)$`)
	known := map[string]bool{}
	for _, k := range kinds {
		known[k] = true
	}
	for _, r := range mod.Rules {
		name := r.Head.Name.String()
		if requestRule.MatchString(name) && !known[name] {
			t.Errorf("exec-deny has rule %s, which is not in the agent API list", name)
		}
	}
}

func TestDebugAllowsEverything(t *testing.T) {
	kinds := append(agentRequests(), "AllowRequestsFailingPolicy")
	e := newEngine(t, renderT(t, Options{Profile: Debug}), kinds...)
	for _, kind := range kinds {
		var got bool
		var err error
		if kind == "AllowRequestsFailingPolicy" {
			got, err = e.decideRaw(kind)
		} else {
			got, err = e.decide(kind, nil)
		}
		if err != nil || !got {
			t.Errorf("debug: %s = %v, %v; want true", kind, got, err)
		}
	}
	got, err := e.decide("ExecProcessRequest", map[string]any{"process": map[string]any{"Args": []any{"/bin/sh", "-c", "cat /secrets/*"}}})
	if err != nil || !got {
		t.Errorf("debug: exec of an arbitrary command = %v, %v; want true", got, err)
	}
	got, err = e.decide("SetPolicyRequest", map[string]any{"policy": "package agent_policy\n"})
	if err != nil || !got {
		t.Errorf("debug: SetPolicyRequest = %v, %v; want true", got, err)
	}
}

// decideRaw evaluates a rule that is not a request (no defaults to fill).
func (e *engine) decideRaw(rule string) (bool, error) {
	rs, err := e.queries[rule].Eval(context.Background())
	if err != nil || len(rs) != 1 {
		return false, err
	}
	b, _ := rs[0].Expressions[0].Value.(bool)
	return b, nil
}

func TestExecDenyAllowRequestsFailingPolicyIsFalse(t *testing.T) {
	e := newEngine(t, renderT(t, Options{}), "AllowRequestsFailingPolicy")
	rs, err := e.queries["AllowRequestsFailingPolicy"].Eval(context.Background())
	if err != nil || len(rs) != 1 || rs[0].Expressions[0].Value != false {
		t.Fatalf("AllowRequestsFailingPolicy = %v, %v; want false", rs, err)
	}
}

type obj = map[string]any

func exec(args ...any) obj { return obj{"process": obj{"Args": args}} }

const (
	testContainer = "81e5f43bc8599c5661e66f959ac28df5bfb30da23c5d583f2dcc6f9e0c5186dc"
	sharedPrefix  = "/run/kata-containers/shared/containers/"
)

func TestExecDenyDecisions(t *testing.T) {
	no := false
	listed := Options{AllowedExec: [][]string{{"/bin/sh", "-c", "date"}, {"ls"}}}
	container := func(mut func(oci obj)) obj {
		oci := obj{
			"Hooks": nil,
			"Process": obj{"Args": []any{"/app"}, "Capabilities": obj{
				"Bounding": []any{"CAP_CHOWN", "CAP_KILL"}, "Effective": []any{"CAP_CHOWN"},
			}},
		}
		if mut != nil {
			mut(oci)
		}
		return obj{"OCI": oci}
	}
	tests := []struct {
		name string
		opts Options
		kind string
		req  obj
		want bool
	}{
		{"SetPolicy refused", Options{}, "SetPolicyRequest", obj{"policy": "package agent_policy"}, false},
		{"exec refused by default", Options{}, "ExecProcessRequest", exec("ls"), false},
		{"exec of a non-listed argv", listed, "ExecProcessRequest", exec("/bin/sh", "-c", "id"), false},
		{"exec of a listed argv", listed, "ExecProcessRequest", exec("/bin/sh", "-c", "date"), true},
		{"exec of another listed argv", listed, "ExecProcessRequest", exec("ls"), true},
		{"exec of a prefix of a listed argv", listed, "ExecProcessRequest", exec("/bin/sh", "-c"), false},
		{"exec of a superset of a listed argv", listed, "ExecProcessRequest", exec("/bin/sh", "-c", "date", "-u"), false},
		{"exec of a listed argv plus args", listed, "ExecProcessRequest", exec("ls", "/"), false},
		{"exec with reordered argv", listed, "ExecProcessRequest", exec("-c", "/bin/sh", "date"), false},
		{"exec with one joined arg", listed, "ExecProcessRequest", exec("/bin/sh -c date"), false},
		{"exec without process", listed, "ExecProcessRequest", obj{}, false},
		{"logs allowed by default", Options{}, "ReadStreamRequest", obj{}, true},
		{"logs refused", Options{AllowLogs: &no}, "ReadStreamRequest", obj{}, false},
		{"stdin refused by default", Options{}, "WriteStreamRequest", obj{}, false},
		{"close stdin refused by default", Options{}, "CloseStdinRequest", obj{}, false},
		{"stdin allowed", Options{AllowStdin: true}, "WriteStreamRequest", obj{}, true},
		{"close stdin allowed", Options{AllowStdin: true}, "CloseStdinRequest", obj{}, true},
		{"start container", Options{}, "StartContainerRequest", obj{}, true},
		{"destroy sandbox", Options{}, "DestroySandboxRequest", obj{}, true},
		{"guest details", Options{}, "GuestDetailsRequest", obj{}, true},
		{"update container refused", Options{}, "UpdateContainerRequest", obj{}, false},
		{"set iptables refused", Options{}, "SetIPTablesRequest", obj{}, false},
		{"memcg config refused", Options{}, "MemAgentMemcgConfig", obj{}, false},
		{"ephemeral mounts refused", Options{}, "UpdateEphemeralMountsRequest", obj{}, false},
		{"swap refused", Options{}, "AddSwapRequest", obj{}, false},

		{"normal container", Options{}, "CreateContainerRequest", container(nil), true},
		{"container without OCI", Options{}, "CreateContainerRequest", obj{}, false},
		{"container with CAP_SYS_ADMIN", Options{}, "CreateContainerRequest", container(func(oci obj) {
			oci["Process"].(obj)["Capabilities"].(obj)["Permitted"] = []any{"CAP_SYS_ADMIN"}
		}), false},
		{"container with hooks", Options{}, "CreateContainerRequest", container(func(oci obj) {
			oci["Hooks"] = obj{"Prestart": []any{obj{"Path": "/bin/evil"}}}
		}), false},
		{"container with empty hooks", Options{}, "CreateContainerRequest", container(func(oci obj) {
			oci["Hooks"] = obj{"Prestart": []any{}, "Poststart": nil}
		}), true},
		{"container in shared pid namespace", Options{}, "CreateContainerRequest", func() obj {
			c := container(nil)
			c["sandbox_pidns"] = true
			return c
		}(), false},
		{"container with string_user", Options{}, "CreateContainerRequest", func() obj {
			c := container(nil)
			c["string_user"] = obj{"uid": "root"}
			return c
		}(), false},

		{"sandbox with shm storage", Options{}, "CreateSandboxRequest", obj{"storages": []any{obj{
			"driver": "ephemeral", "source": "shm", "fstype": "tmpfs", "mount_point": "/run/kata-containers/sandbox/shm",
			"options": []any{"noexec", "nosuid", "nodev", "mode=1777", "size=67108864"},
		}}}, true},
		{"sandbox with other storage", Options{}, "CreateSandboxRequest", obj{"storages": []any{obj{
			"driver": "local", "source": "local", "fstype": "local", "mount_point": "/etc",
		}}}, false},
		{"sandbox shm with exec option", Options{}, "CreateSandboxRequest", obj{"storages": []any{obj{
			"driver": "ephemeral", "source": "shm", "fstype": "tmpfs", "mount_point": "/run/kata-containers/sandbox/shm",
			"options": []any{"exec"},
		}}}, false},

		{"copy configmap dir", Options{}, "CopyFileRequest", obj{"file_type": "Directory",
			"path": sharedPrefix + "watchable/" + testContainer + "-0123456789abcdef-config"}, true},
		{"copy configmap data symlink", Options{}, "CopyFileRequest", obj{"file_type": "Symlink",
			"path":           sharedPrefix + "watchable/" + testContainer + "-0123456789abcdef-config/..data",
			"symlink_target": "..2024_01_02_03_04_05.123456789"}, true},
		{"copy configmap key symlink", Options{}, "CopyFileRequest", obj{"file_type": "Symlink",
			"path":           sharedPrefix + "watchable/" + testContainer + "-0123456789abcdef-config/key",
			"symlink_target": "..data/key"}, true},
		{"copy hosts via passthrough", Options{}, "CopyFileRequest", obj{"file_type": "Regular",
			"path": sharedPrefix + "passthrough/" + testContainer + "-0123456789abcdef-hosts"}, true},
		{"copy with double slash", Options{}, "CopyFileRequest", obj{"file_type": "Regular",
			"path": sharedPrefix + testContainer + "-0123456789abcdef-foo//bar"}, false},
		{"copy with dot component", Options{}, "CopyFileRequest", obj{"file_type": "Regular",
			"path": sharedPrefix + testContainer + "-0123456789abcdef-foo/./bar"}, false},
		{"copy without file type", Options{}, "CopyFileRequest", obj{
			"path": sharedPrefix + testContainer + "-0123456789abcdef-hosts"}, false},
		{"symlink with empty target", Options{}, "CopyFileRequest", obj{"file_type": "Symlink",
			"path": sharedPrefix + testContainer + "-0123456789abcdef-foo/lnk"}, false},

		{"routes absent", Options{}, "UpdateRoutesRequest", obj{}, true},
		{"route from IPv4-mapped loopback", Options{}, "UpdateRoutesRequest", obj{"routes": obj{"Routes": []any{
			obj{"device": "eth0", "source": "::ffff:127.0.0.1"}}}}, false},
		{"route from link-local ::1 lookalike", Options{}, "UpdateRoutesRequest", obj{"routes": obj{"Routes": []any{
			obj{"device": "eth0", "source": "fe80::1"}}}}, true},
		{"interface absent", Options{}, "UpdateInterfaceRequest", obj{}, false},
		{"interface with loopback address", Options{}, "UpdateInterfaceRequest", obj{"interface": obj{
			"name": "eth0", "device": "eth0", "hwAddr": "66:74:9f:6a:96:01",
			"IPAddresses": []any{obj{"address": "127.0.0.1", "mask": "8"}}}}, false},
		{"interface with all-zero MAC", Options{}, "UpdateInterfaceRequest", obj{"interface": obj{
			"name": "eth0", "device": "eth0", "hwAddr": "00:00:00:00:00:00"}}, false},
		{"ARP entry for IPv6 loopback", Options{}, "AddARPNeighborsRequest", obj{"neighbors": obj{"ARPNeighbors": []any{
			obj{"device": "eth0", "state": 128, "toIPAddress": obj{"address": "::1"}}}}}, false},
		{"ARP entry with negative flags", Options{}, "AddARPNeighborsRequest", obj{"neighbors": obj{"ARPNeighbors": []any{
			obj{"device": "eth0", "state": 128, "flags": -1, "toIPAddress": obj{"address": "10.0.0.1"}}}}}, false},
	}
	engines := map[string]*engine{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := renderT(t, tt.opts)
			e, ok := engines[text]
			if !ok {
				e = newEngine(t, text, agentRequests()...)
				engines[text] = e
			}
			got, err := e.decide(tt.kind, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%s %v: allowed=%v, want %v", tt.kind, tt.req, got, tt.want)
			}
		})
	}
}

// withContainers gives the workload profile, which needs them, a pod's
// containers.
func withContainers(o Options) Options {
	if o.Profile == Workload {
		o.Containers = []Container{{Type: "sandbox", Annotations: map[string]string{"io.kubernetes.cri.container-type": "^sandbox$"}, Process: Process{Args: []string{"/pause"}, Cwd: "/"}}}
	}
	return o
}
