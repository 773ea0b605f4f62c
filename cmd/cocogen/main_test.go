package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/golden"
)

// fieldErrorLine is "file:line: field.path: message".
var fieldErrorLine = regexp.MustCompile(`^(cocogen: )?fixtures/invalid/([a-z0-9-]+/)*[a-z0-9-]+\.yaml:[0-9]+: [A-Za-z][A-Za-z0-9\[\]."/-]*: .+`)

// TestInvalidPatterns runs `cocogen render -o DIR` on every malformed
// pattern kept in fixtures/invalid: each must exit 2, print exactly the
// errors in its .err file (file, line and field path on every line, all
// problems at once) and create nothing.
func TestInvalidPatterns(t *testing.T) {
	// Paths in messages are as the user typed them: relative to the repo.
	t.Chdir("../..")
	for _, file := range golden.Files(t, "fixtures/invalid/*.yaml", 10) {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "rendered")
			var stdout, stderr bytes.Buffer
			code := run([]string{"render", "-f", file, "-o", out}, strings.NewReader(""), &stdout, &stderr)
			if code != exitInvalid {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitInvalid, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("wrote to stdout on invalid input:\n%s", stdout.String())
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output directory %s was created on invalid input", out)
			}
			if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".rendered*")); len(matches) > 0 {
				t.Errorf("temporary output left behind: %v", matches)
			}
			golden.File(t, strings.TrimSuffix(file, ".yaml")+".err", stderr.Bytes())
			if name == "yaml-syntax" {
				return // a syntax error has a line but no field yet
			}
			for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
				if !fieldErrorLine.MatchString(line) {
					t.Errorf("error line lacks file:line: field: %q", line)
				}
			}
		})
	}
}

func TestRenderStdoutAndTree(t *testing.T) {
	t.Chdir("../..")
	var stream, stderr bytes.Buffer
	if code := run([]string{"render", "-f", "fixtures/azure-simple/pattern.yaml"}, nil, &stream, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stream.String(), "kind: Application") {
		t.Fatalf("stream lacks Applications:\n%s", stream.String())
	}
	dir := filepath.Join(t.TempDir(), "out")
	// An existing tree is replaced whole: stale files must not survive.
	if err := os.MkdirAll(filepath.Join(dir, "stale"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "stale", "old.yaml"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"render", "-f", "fixtures/azure-simple/pattern.yaml", "-o", dir}, nil, &bytes.Buffer{}, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "stale")); !os.IsNotExist(err) {
		t.Errorf("stale file survived re-render")
	}
	if _, err := os.Stat(filepath.Join(dir, "bootstrap", "simple", "Application", "openshift-gitops", "coco-simple.yaml")); err != nil {
		t.Errorf("root application not written: %v", err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"render"}, {"render", "--no-such-flag"}, {"render", "-f", "does-not-exist.yaml"}} {
		var stderr bytes.Buffer
		if code := run(args, nil, &bytes.Buffer{}, &stderr); code != exitInvalid {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitInvalid, stderr.String())
		}
	}
}

// TestFindingsAreLocated: a render's warnings name the pattern file, the
// line and the field they are about, like its errors.
func TestFindingsAreLocated(t *testing.T) {
	t.Chdir("../..")
	var stderr bytes.Buffer
	if code := run([]string{"render", "-f", "fixtures/baremetal-tdx/pattern.yaml"}, nil, &bytes.Buffer{}, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	want := regexp.MustCompile(`(?m)^cocogen: warning: fixtures/baremetal-tdx/pattern\.yaml:[0-9]+: spec\.trustee\.referenceValues: no [a-z0-9_, ]+: pods on Intel TDX `)
	if !want.MatchString(stderr.String()) {
		t.Errorf("stderr lacks a located warning about TDX reference values:\n%s", stderr.String())
	}
}

// TestSecretsInit: key material goes only to a new directory outside the
// pattern's repository, or to stdout.
func TestSecretsInit(t *testing.T) {
	t.Chdir("../..")
	const pattern = "fixtures/azure-simple/pattern.yaml"
	dir := filepath.Join(t.TempDir(), "kbs")
	code, _, stderr := cli(t, "", "secrets", "init", "-f", pattern, "-o", dir)
	if code != exitOK || !strings.Contains(stderr, "apply "+dir+"/secrets.yaml") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, args := range [][]string{
		{"secrets", "init", "-f", pattern, "-o", "out/kbs-secrets"}, // inside the repository
		{"secrets", "init", "-f", pattern, "-o", dir},               // exists
		{"secrets", "init", "-f", pattern},                          // where to?
		{"secrets", "init", "-f", pattern, "-o", dir + "2", "--manifests"},
	} {
		if code, _, stderr := cli(t, "", args...); code != exitInvalid {
			t.Errorf("%v: exit %d, want %d: %s", args, code, exitInvalid, stderr)
		}
	}
	if _, err := os.Stat("out/kbs-secrets"); !os.IsNotExist(err) {
		t.Error("key material written inside the repository")
	}
	code, stdout, stderr := cli(t, "", "secrets", "init", "-f", pattern, "--manifests")
	if code != exitOK || strings.Count(stdout, "kind: Secret") != 4 || !strings.Contains(stderr, "BEGIN CERTIFICATE") {
		t.Errorf("--manifests: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
