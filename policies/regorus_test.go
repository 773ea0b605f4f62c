package policies

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The kata agent evaluates policies with regorus, not OPA. The harness in
// e2e/regorus (built by .ci/run, or `make regorus`) runs regorus the way
// the agent does, with the regorus of each release line: kata3 is kata
// 3.25's regorus 0.2.8, kata4 the release closest to kata 4.0's pin.
var regorusEngines = []string{"kata3", "kata4"}

// harness returns the agent-policy-eval binary, or skips the test saying
// how to build it.
func harness(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("COCOGEN_AGENT_POLICY_EVAL")
	if bin == "" {
		bin = filepath.Join("..", "e2e", "regorus", "target", "release", "agent-policy-eval")
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("COCOGEN_REQUIRE_REGORUS") != "" {
			t.Fatalf("regorus harness required (COCOGEN_REQUIRE_REGORUS) but not built: %v", err)
		}
		t.Skipf("regorus harness not built (%v): run `make regorus` (cargo) or set COCOGEN_AGENT_POLICY_EVAL; .ci/run builds it", err)
	}
	return bin
}

type agentRequest struct {
	Kind  string         `json:"kind"`
	Input map[string]any `json:"input"`
}

type regorusSequence struct {
	AllowFailures bool `json:"allowFailures"`
	Results       []struct {
		Allowed *bool  `json:"allowed"`
		Error   string `json:"error"`
	} `json:"results"`
}

// evalRegorus evaluates each sequence on a fresh regorus engine.
func evalRegorus(t *testing.T, bin, engine, policy string, seqs [][]agentRequest) []regorusSequence {
	t.Helper()
	job, err := json.Marshal(map[string]any{"engine": engine, "policy": policy, "sequences": seqs})
	if err != nil {
		t.Fatal(err)
	}
	cmd := osexec.Command(bin)
	cmd.Stdin = bytes.NewReader(job)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, stderr.String())
	}
	// regorus prints its parser warnings on stdout, before the harness's
	// answer, which is the last line.
	out = bytes.TrimRight(out, "\n")
	if i := bytes.LastIndexByte(out, '\n'); i >= 0 {
		t.Logf("regorus (%s) said: %s", engine, out[:i])
		out = out[i+1:]
	}
	var res struct {
		LoadError string            `json:"loadError"`
		Sequences []regorusSequence `json:"sequences"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%s wrote %q: %v", bin, out, err)
	}
	if res.LoadError != "" {
		t.Fatalf("regorus (%s) cannot load the policy: %s\n%s", engine, res.LoadError, stderr.String())
	}
	if len(res.Sequences) != len(seqs) {
		t.Fatalf("regorus (%s) answered %d sequences for %d", engine, len(res.Sequences), len(seqs))
	}
	return res.Sequences
}

// regorusVariants are the policies the comparison covers: every profile,
// and exec-deny with each of its options.
func regorusVariants() map[string]Options {
	no := false
	return map[string]Options{
		"exec-deny":               {},
		"exec-deny-exec-allowed":  {AllowedExec: [][]string{{"/bin/sh", "-c", "true"}, {"cat", "/tmp/ready"}}},
		"exec-deny-no-logs":       {AllowLogs: &no},
		"exec-deny-stdin-allowed": {AllowStdin: true},
		// A string too long for regorus 0.9's lines, split in policy_data.
		"exec-deny-long-argv": {AllowedExec: [][]string{{"/bin/sh", "-c", strings.Repeat("echo ü; ", 400)}}},
		"debug":               {Profile: Debug},
	}
}

// TestRegorusAgreesWithOPA evaluates every policy variant on every
// request of kata's genpolicy test cases (each file a sequence, as in an
// agent) and on a default request of every kind, with OPA and with the
// regorus of each release line, the agent's AllowRequestsFailingPolicy
// applied to both. Any disagreement fails: a decision cocogen's tests
// make with OPA must be the decision the agent makes.
func TestRegorusAgreesWithOPA(t *testing.T) {
	bin := harness(t)
	var seqs [][]agentRequest
	var names []string
	files := loadCases(t, "")
	for _, file := range slices.Sorted(maps.Keys(files)) {
		var seq []agentRequest
		for _, c := range files[file] {
			input, err := fillDefaults(c.Kind, c.Request)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			seq = append(seq, agentRequest{Kind: c.Kind, Input: input})
		}
		seqs, names = append(seqs, seq), append(names, file)
	}
	var defaults []agentRequest
	for _, kind := range agentRequests() {
		input, err := fillDefaults(kind, nil)
		if err != nil {
			t.Fatal(err)
		}
		defaults = append(defaults, agentRequest{Kind: kind, Input: input})
	}
	seqs, names = append(seqs, defaults), append(names, "(a default request of every kind)")
	// Mounts as peer pods and CRI-O give them, which kata's cases lack:
	// an emptyDir as guest-local storage, CRI-O's own mounts.
	for name, reqs := range mountRequests(t) {
		var seq []agentRequest
		for _, r := range reqs {
			input, err := fillDefaults("CreateContainerRequest", r)
			if err != nil {
				t.Fatal(err)
			}
			seq = append(seq, agentRequest{Kind: "CreateContainerRequest", Input: input})
		}
		seqs, names = append(seqs, seq), append(names, name)
	}

	variants := regorusVariants()
	// Workload policies of kata's test pods: they keep and check more
	// data (containers, probes) through more rules.
	for _, dir := range []string{"createcontainer/env_vars", "createcontainer/generate_name", "createcontainer/security_context/supplemental_groups", "createcontainer/sysctls", "state/execprocess", "state/execprocessdeployment"} {
		pod := podOf(t, dir)
		variants["workload "+dir] = Options{Profile: Workload, Containers: containersOf(t, dir), Probes: Probes(pod)}
	}
	crio := SettingsFor(RuntimeCRIO)
	crioContainers, err := Containers(podOf(t, "state/execprocess"), kataLock(t), crio)
	if err != nil {
		t.Fatal(err)
	}
	variants["workload cri-o state/execprocess"] = Options{Profile: Workload, Containers: crioContainers, Probes: Probes(podOf(t, "state/execprocess"))}
	variants["workload createcontainer/volumes/emptydir"] = Options{Profile: Workload, Containers: containersOf(t, "createcontainer/volumes/emptydir")}
	crioEnv, err := Containers(podOf(t, "createcontainer/env_vars"), kataLock(t), crio)
	if err != nil {
		t.Fatal(err)
	}
	variants["workload cri-o createcontainer/env_vars"] = Options{Profile: Workload, Containers: crioEnv}
	texts := map[string]string{}
	for name, opts := range variants {
		texts[name] = renderT(t, opts)
	}
	// The init-data policy that pins the legacy annotation's, and the
	// SetPolicyRequests the shim could send with it.
	replacement := texts["exec-deny"]
	pinned, err := PinSetPolicy(replacement)
	if err != nil {
		t.Fatal(err)
	}
	texts["exec-deny pinning its replacement"] = pinned
	var setPolicy []agentRequest
	for _, policy := range []string{replacement, replacement + " ", pinned} {
		setPolicy = append(setPolicy, agentRequest{Kind: "SetPolicyRequest", Input: map[string]any{"policy": policy}})
	}
	seqs, names = append(seqs, setPolicy), append(names, "(SetPolicyRequests)")
	var longExec []agentRequest
	for _, argv := range regorusVariants()["exec-deny-long-argv"].AllowedExec {
		input, err := fillDefaults("ExecProcessRequest", map[string]any{"process": map[string]any{"Args": anyStrings(argv)}})
		if err != nil {
			t.Fatal(err)
		}
		longExec = append(longExec, agentRequest{Kind: "ExecProcessRequest", Input: input})
	}
	seqs, names = append(seqs, longExec), append(names, "(an exec with a long argument)")
	for _, name := range slices.Sorted(maps.Keys(texts)) {
		t.Run(name, func(t *testing.T) {
			policy := texts[name]
			e := newEngine(t, policy, append(agentRequests(), "AllowRequestsFailingPolicy")...)
			opaFailures, err := e.decideRaw("AllowRequestsFailingPolicy")
			if err != nil {
				t.Fatal(err)
			}
			for _, engine := range regorusEngines {
				got := evalRegorus(t, bin, engine, policy, seqs)
				compared := 0
				for i, seq := range seqs {
					if got[i].AllowFailures != opaFailures {
						t.Errorf("%s: AllowRequestsFailingPolicy: regorus (%s) %v, OPA %v", names[i], engine, got[i].AllowFailures, opaFailures)
					}
					for j, r := range seq {
						opa, opaErr := e.decide(r.Kind, r.Input)
						if opaFailures {
							opa, opaErr = true, nil
						}
						reg := got[i].Results[j]
						switch {
						case (opaErr != nil) != (reg.Error != ""):
							t.Errorf("%s #%d %s: OPA error %v, regorus (%s) error %q", names[i], j, r.Kind, opaErr, engine, reg.Error)
						case opaErr == nil && (reg.Allowed == nil || *reg.Allowed != opa):
							t.Errorf("%s #%d %s: OPA allowed=%v, regorus (%s) allowed=%v", names[i], j, r.Kind, opa, engine, deref(reg.Allowed))
						default:
							compared++
						}
					}
				}
				t.Logf("regorus (%s) and OPA agree on %d requests", engine, compared)
			}
		})
	}
}

func deref(b *bool) string {
	if b == nil {
		return "(none)"
	}
	return fmt.Sprint(*b)
}

// TestRegorusHarnessTellsEnginesApart: a policy in Rego v1 syntax without
// `import rego.v1` reads one way in OPA v1 and another in kata 3.25's
// regorus (which takes `if` for a name there): the harness must see the
// difference, or the comparison above proves nothing.
func TestRegorusHarnessTellsEnginesApart(t *testing.T) {
	bin := harness(t)
	policy := "package agent_policy\n\ndefault CreateContainerRequest := false\n\nCreateContainerRequest if {\n\tinput.x == 1\n}\n"
	e := newEngine(t, policy, "CreateContainerRequest")
	opa, err := e.decide("CreateContainerRequest", map[string]any{"x": 2})
	if err != nil {
		t.Fatal(err)
	}
	got := evalRegorus(t, bin, "kata3", policy, [][]agentRequest{{{Kind: "CreateContainerRequest", Input: map[string]any{"x": 2}}}})
	reg := got[0].Results[0]
	if reg.Error == "" && reg.Allowed != nil && *reg.Allowed == opa {
		t.Fatalf("OPA and regorus 0.2.8 both say allowed=%v: the harness does not reach the engine that differs", opa)
	}
}

// TestRegorusLoadsEveryGoldenPolicy: every agent policy the golden trees
// ship (exec-deny, debug and workload policies, as users deploy them)
// loads in the regorus of each release line and answers a request.
func TestRegorusLoadsEveryGoldenPolicy(t *testing.T) {
	bin := harness(t)
	var files []string
	err := filepath.WalkDir(filepath.Join("..", "fixtures"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".rego") && strings.Contains(path, string(filepath.Separator)+"expected"+string(filepath.Separator)) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden policy found")
	}
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, engine := range regorusEngines {
			got := evalRegorus(t, bin, engine, string(text), [][]agentRequest{{{Kind: "GetOOMEventRequest", Input: map[string]any{}}}})
			if r := got[0].Results[0]; r.Error != "" || r.Allowed == nil || !*r.Allowed {
				t.Errorf("%s with regorus (%s): %+v", file, engine, r)
			}
		}
	}
	t.Logf("%d golden policies load in both regorus versions", len(files))
}

// mountRequests are CreateContainerRequests with the mounts kata's cases
// do not show: kata's emptyDir container with the image name containerd
// sets and its emptyDir as guest-local storage (allowed) or as tmpfs
// (refused), and the env_vars container as CRI-O gives it (allowed), with
// a mount at another destination (refused).
func mountRequests(t *testing.T) map[string][]map[string]any {
	t.Helper()
	allowed := func(dir string) map[string]any {
		for _, c := range loadCases(t, dir)[dir+"/testcases.json"] {
			ann, _ := c.Request["OCI"].(map[string]any)["Annotations"].(map[string]any)
			if c.Allowed && c.Kind == "CreateContainerRequest" && ann["io.kubernetes.cri.container-type"] == "container" {
				return normalizeJSON(t, c.Request)
			}
		}
		t.Fatalf("%s: no allowed container request", dir)
		return nil
	}
	emptyDir := func(typ string) map[string]any {
		req := allowed("createcontainer/volumes/emptydir")
		oci := req["OCI"].(map[string]any)
		oci["Annotations"].(map[string]any)["io.kubernetes.cri.image-name"] = "registry.k8s.io/pause@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db"
		oci["Mounts"].([]any)[0].(map[string]any)["type_"] = typ
		return req
	}
	crio := crioRequest(t, allowed("createcontainer/env_vars"), "ghcr.io/burgerdev/weird-images/gid:latest@sha256:bdbb485bb9e3baf381a2957b9369b6051c6113097a5f8dcee27faff17624a2c0")
	elsewhere := normalizeJSON(t, crio)
	oci := elsewhere["OCI"].(map[string]any)
	oci["Mounts"] = append(oci["Mounts"].([]any), map[string]any{"destination": "/usr/bin", "type_": "bind", "options": []any{"rbind", "rprivate", "rw", "bind"}, "source": "/run/kata-containers/shared/containers/x"})
	return map[string][]map[string]any{
		"(emptyDir as guest-local storage, as tmpfs)": {emptyDir("local"), emptyDir("tmpfs")},
		"(CRI-O's mounts, one more)":                  {crio, elsewhere},
	}
}

func anyStrings(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
