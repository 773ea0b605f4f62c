package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"os"
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

// TestInitDataDecodeManifests decodes what `cocogen render` prints, as a
// reviewer would: the one init-data value of a stream (the ConfigMap and
// every annotated pod carry the same), and with two patterns' streams
// together, the one --object names.
func TestInitDataDecodeManifests(t *testing.T) {
	t.Chdir("../..")
	render := func(pattern string) string {
		code, out, stderr := cli(t, "", "render", "-f", pattern)
		if code != exitOK {
			t.Fatalf("render %s: exit %d: %s", pattern, code, stderr)
		}
		return out
	}
	want, err := os.ReadFile("fixtures/azure-simple/expected/openshift-1.13/simple/initdata/default.toml")
	if err != nil {
		t.Fatal(err)
	}
	simple := render("fixtures/azure-simple/pattern.yaml")
	code, out, stderr := cli(t, simple, "initdata", "decode")
	if code != exitOK || out != string(want) {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	both := simple + "---\n" + render("fixtures/baremetal-tdx/pattern.yaml")
	code, _, stderr = cli(t, both, "initdata", "decode")
	if code != exitInvalid || !strings.Contains(stderr, "2 different init-data values in the input") || !strings.Contains(stderr, "choose one with --object") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	code, out, stderr = cli(t, both, "initdata", "decode", "--object", "ConfigMap/trustee-operator-system/initdata-default")
	if code != exitOK || out != string(want) {
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
