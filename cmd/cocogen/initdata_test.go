package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/pkg/initdata"
)

const vectors = "../../fixtures/initdata-vectors/"

func cli(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func minimal(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(vectors + "minimal.toml")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestInitDataDigest(t *testing.T) {
	raw, err := os.ReadFile(vectors + "minimal.digests.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]json.RawMessage
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{"sha256", "sha384", "sha512"} {
		t.Run(alg, func(t *testing.T) {
			code, out, stderr := cli(t, "", "initdata", "digest", vectors+"minimal.toml", "--algorithm", alg, "-o", "json")
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var got digestReport
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			var v struct {
				Digest     string `json:"digest"`
				HostData   string `json:"snp_hostdata_32"`
				MRConfigID string `json:"tdx_mrconfigid_48"`
			}
			json.Unmarshal(want[alg], &v)
			var pcr8 string
			json.Unmarshal(want["azure_vtpm_pcr8_sha256"], &pcr8)
			if got.Digest != v.Digest || got.HostData != v.HostData || got.MRConfigID != v.MRConfigID || got.PCR8 != pcr8 || got.Bytes != 519 || got.Algorithm != alg {
				t.Errorf("got %+v, want %+v pcr8 %s", got, v, pcr8)
			}
		})
	}
	// Text output from stdin, with the document's own algorithm.
	code, out, _ := cli(t, string(minimal(t)), "initdata", "digest")
	if code != exitOK || !strings.Contains(out, "algorithm:       sha384\n") || !strings.Contains(out, "digest:          e263ff74") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

func TestInitDataRoundTrip(t *testing.T) {
	doc := minimal(t)
	code, ann, stderr := cli(t, "", "initdata", "encode", vectors+"minimal.toml")
	if code != exitOK {
		t.Fatalf("encode: exit %d: %s", code, stderr)
	}
	if want, _ := initdata.Encode(doc); ann != want+"\n" {
		t.Errorf("encode printed %q", ann)
	}
	code, out, stderr := cli(t, ann, "initdata", "decode")
	if code != exitOK || out != string(doc) {
		t.Fatalf("decode: exit %d, %s\n%s", code, stderr, out)
	}
	code, out, _ = cli(t, ann, "initdata", "decode", "--policy")
	if code != exitOK || !strings.HasPrefix(out, "package agent_policy\n") || !strings.HasSuffix(out, "SetPolicyRequest := false\n") {
		t.Errorf("decode --policy: exit %d\n%s", code, out)
	}
}

func TestInitDataDecodeManifests(t *testing.T) {
	doc := minimal(t)
	ann, _ := initdata.Encode(doc)
	other, _ := initdata.Encode(bytes.Replace(doc, []byte("kbs.example"), []byte("kbs.other"), -1))
	stream := `# Source: x
apiVersion: v1
kind: Service
metadata: {name: s}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cron, namespace: ns}
spec:
  jobTemplate:
    spec:
      template:
        metadata:
          annotations:
            io.katacontainers.config.runtime.cc_init_data: ` + ann + `
---
apiVersion: v1
kind: ConfigMap
metadata: {name: initdata-default, namespace: trustee}
data:
  INITDATA: ` + ann + `
`
	dir := t.TempDir()
	file := filepath.Join(dir, "stream.yaml")
	os.WriteFile(file, []byte(stream), 0o644)
	code, out, stderr := cli(t, "", "initdata", "decode", file)
	if code != exitOK || out != string(doc) {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	// Two different values: ask which one, then pick one.
	conflicting := stream + "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    io.katacontainers.config.hypervisor.cc_init_data: " + other + "\nspec: {}\n"
	code, _, stderr = cli(t, conflicting, "initdata", "decode")
	if code != exitInvalid || !strings.Contains(stderr, "2 different init-data values in the input (ConfigMap/trustee/initdata-default, CronJob/ns/cron, Pod/p); choose one with --object") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	code, out, stderr = cli(t, conflicting, "initdata", "decode", "--object", "pod/p")
	if code != exitOK || !strings.Contains(out, "kbs.other") {
		t.Errorf("--object: exit %d: %s", code, stderr)
	}
}

func TestInitDataErrors(t *testing.T) {
	gz := func(data string) string {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(data))
		w.Close()
		return base64.StdEncoding.EncodeToString(b.Bytes())
	}
	good := string(minimal(t))
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"bad base64", "H4sI*AAA", []string{"decode"}, "invalid init-data base64: illegal base64 data at input byte 4"},
		{"not manifests", "a: [b", []string{"decode"}, "input is neither an annotation value (base64) nor YAML"},
		{"bad padding", "H4sIAAAAAAAA/w", []string{"decode"}, "invalid init-data base64"},
		{"bad gzip", base64.StdEncoding.EncodeToString([]byte("plain text, not gzip")), []string{"decode"}, "invalid init-data gzip: gzip: invalid header"},
		{"bad TOML in annotation", gz("version = "), []string{"decode"}, "invalid init-data TOML: line 1"},
		{"unknown version", gz(strings.Replace(good, "0.1.0", "9.9.9", 1)), []string{"decode"}, "invalid init-data version: unsupported version 9.9.9"},
		{"unknown algorithm", gz(strings.Replace(good, "sha384", "sha1", 1)), []string{"decode"}, "invalid init-data algorithm: unknown algorithm sha1"},
		{"no init-data in manifests", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n", []string{"decode"}, "no init-data in the input"},
		{"empty", "", []string{"decode"}, "empty input"},
		{"digest bad TOML", "version = ", []string{"digest"}, "invalid init-data TOML"},
		{"digest unknown algorithm flag", good, []string{"digest", "--algorithm", "md5"}, "invalid init-data algorithm: unknown algorithm \"md5\""},
		{"digest bad output", good, []string{"digest", "-o", "yaml"}, "-o: want text or json"},
		{"encode unknown version", strings.Replace(good, "0.1.0", "0.2", 1), []string{"encode"}, "invalid init-data version"},
		{"missing file", "", []string{"encode", "/nonexistent/x.toml"}, "reading /nonexistent/x.toml: no such file or directory"},
		{"unknown flag", "", []string{"encode", "--nope"}, "unknown flag: --nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := cli(t, tc.stdin, append([]string{"initdata"}, tc.args...)...)
			if code != exitInvalid {
				t.Errorf("exit %d, want %d", code, exitInvalid)
			}
			if out != "" {
				t.Errorf("stdout: %q", out)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q, want it to contain %q", stderr, tc.want)
			}
		})
	}
}
