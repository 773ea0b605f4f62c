package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/imagelock"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/policies"
)

// TestPolicyExplain: the workload policy of kata's env_vars test pod, the
// request kata allows and the same with another command, as one request
// and as the agent's policy log.
func TestPolicyExplain(t *testing.T) {
	root := testkit.Root(t)
	dir := filepath.Join(root, "fixtures", "genpolicy")
	podYAML, err := os.ReadFile(filepath.Join(dir, "policy", "createcontainer", "env_vars", "pod.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.ReadStream(podYAML)
	if err != nil {
		t.Fatal(err)
	}
	pod, _ := policies.PodFromObject(objs[0], nil)
	lockData, err := os.ReadFile(filepath.Join(dir, "images.lock.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	lock, err := imagelock.Parse("images.lock.yaml", lockData)
	if err != nil {
		t.Fatal(err)
	}
	containers, err := policies.Containers(pod, lock, policies.DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	text, err := policies.Render(policies.Options{Profile: policies.Workload, Containers: containers})
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	policyFile := filepath.Join(tmp, "policy.rego")
	testkit.WriteFile(t, policyFile, text)

	var cases []struct {
		Allowed bool           `json:"allowed"`
		Request map[string]any `json:"request"`
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "policy", "createcontainer", "env_vars", "testcases.json"))
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	allowed := cases[0].Request
	reqFile := filepath.Join(tmp, "request.json")
	data, _ := json.Marshal(allowed)
	testkit.WriteFile(t, reqFile, string(data))
	var out, errs bytes.Buffer
	if code := run([]string{"policy", "explain", policyFile, reqFile}, nil, &out, &errs); code != exitOK {
		t.Fatalf("exit %d for an allowed request: %s%s", code, out.String(), errs.String())
	}
	if !strings.Contains(out.String(), "CreateContainerRequest for spec.containers[0] (gid, image ghcr.io/burgerdev/weird-images/gid:latest@sha256:bdbb485bb9e3baf381a2957b9369b6051c6113097a5f8dcee27faff17624a2c0): allowed") {
		t.Errorf("output:\n%s", out.String())
	}

	// The agent's log: the allowed request, then one with another command.
	var changed map[string]any
	_ = json.Unmarshal(data, &changed)
	changed["OCI"].(map[string]any)["Process"].(map[string]any)["Args"] = []any{"/bin/sh"}
	var log strings.Builder
	for _, r := range []map[string]any{allowed, changed} {
		line, _ := json.Marshal(map[string]any{"kind": "CreateContainerRequest", "request": r})
		log.Write(line)
		log.WriteString("\n")
	}
	logFile := filepath.Join(tmp, "policy.jsonl")
	testkit.WriteFile(t, logFile, log.String())
	out.Reset()
	if code := run([]string{"policy", "explain", policyFile, logFile}, nil, &out, &errs); code != exitDifferent {
		t.Fatalf("exit %d with a denied request in the log, want %d: %s", code, exitDifferent, out.String())
	}
	if !strings.Contains(out.String(), `: DENIED
  OCI.Process.Args: the request has ["/bin/sh"], the policy expects ["/entrypoint.sh"]`) {
		t.Errorf("output:\n%s", out.String())
	}

	// An exec-deny policy binds no container to explain one against...
	plain, _ := policies.Render(policies.Options{})
	testkit.WriteFile(t, policyFile, plain)
	errs.Reset()
	if code := run([]string{"policy", "explain", policyFile, reqFile}, nil, &out, &errs); code != exitInvalid || !strings.Contains(errs.String(), "explained only against a workload policy") {
		t.Errorf("exit %d: %s", code, errs.String())
	}
	// ...but the host's requests are explained for it, with the field.
	testkit.WriteFile(t, reqFile, `{"path": "/etc/ssl/cert.pem", "file_type": "Regular"}`)
	out.Reset()
	if code := run([]string{"policy", "explain", "--kind", "CopyFileRequest", policyFile, reqFile}, nil, &out, &errs); code != exitDifferent ||
		!strings.Contains(out.String(), "CopyFileRequest: DENIED\n  path: the request has \"/etc/ssl/cert.pem\"") {
		t.Errorf("exit %d:\n%s", code, out.String())
	}
	// From a log, routine requests are not printed; denied ones are.
	testkit.WriteFile(t, reqFile, `{"kind": "WaitProcessRequest", "request": {"container_id": "abc"}}
{"kind": "SetPolicyRequest", "request": {"policy": "package agent_policy"}}
`)
	out.Reset()
	if code := run([]string{"policy", "explain", policyFile, reqFile}, nil, &out, &errs); code != exitDifferent ||
		strings.Contains(out.String(), "WaitProcess") || !strings.Contains(out.String(), "SetPolicyRequest: DENIED") || !strings.Contains(out.String(), "legacyPolicy") {
		t.Errorf("exit %d:\n%s", code, out.String())
	}
	// ...but its logs decision is explained, with the option to change it.
	no := false
	noLogs, _ := policies.Render(policies.Options{AllowLogs: &no})
	testkit.WriteFile(t, policyFile, noLogs)
	testkit.WriteFile(t, reqFile, `{"container_id": "abc", "exec_id": "", "len": 0}`)
	out.Reset()
	if code := run([]string{"policy", "explain", "--kind", "ReadStreamRequest", policyFile, reqFile}, nil, &out, &errs); code != exitDifferent ||
		!strings.Contains(out.String(), "ReadStreamRequest: DENIED") || !strings.Contains(out.String(), "policy.allowLogs: true") {
		t.Errorf("exit %d:\n%s", code, out.String())
	}
}
