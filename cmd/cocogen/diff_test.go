package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// diffRepos are two checkouts of the repository's example: the second's
// default profile allows one more exec command.
func diffRepos(t *testing.T) (string, string) {
	t.Helper()
	var roots []string
	for range 2 {
		root := t.TempDir()
		for _, d := range []string{"apps", "fixtures/azure-simple"} {
			if err := os.CopyFS(filepath.Join(root, d), os.DirFS(filepath.Join("../..", d))); err != nil {
				t.Fatal(err)
			}
		}
		roots = append(roots, root)
	}
	p := filepath.Join(roots[1], "fixtures/azure-simple/pattern.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(strings.Replace(string(data), "        policy: {profile: exec-deny}\n", "", 1), "    profiles:\n      - name: default\n", "    profiles:\n      - name: default\n        policy:\n          profile: exec-deny\n          allowExec:\n            - [/bin/date, -u]\n", 1)
	if changed == string(data) {
		t.Fatal("the example's profile moved; update the test")
	}
	if err := os.WriteFile(p, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	return roots[0], roots[1]
}

// base64Run is a run of base64 long enough to be an encoded blob.
var base64Run = regexp.MustCompile(`[A-Za-z0-9+/_-]{60,}`)

// hexDigest is a digest, which changes with the document and reads as one.
var hexDigest = regexp.MustCompile(`^[0-9a-f]+$`)

// TestDiffReadsAsRego: a profile that allows one more exec command shows
// as Rego (and the init-data TOML around it) in every object carrying the
// policy, never as base64; exit 1. Equal renders exit 0.
func TestDiffReadsAsRego(t *testing.T) {
	oldRoot, newRoot := diffRepos(t)
	var stdout, stderr bytes.Buffer
	code := run([]string{"diff", "-f", "fixtures/azure-simple/pattern.yaml", oldRoot, newRoot}, nil, &stdout, &stderr)
	if code != exitDifferent {
		t.Fatalf("exit %d, want %d:\n%s", code, exitDifferent, stderr.String())
	}
	out := stdout.String()
	var changed []string
	for _, l := range strings.Split(out, "\n") {
		if (strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-")) && !strings.HasPrefix(l, "+++") && !strings.HasPrefix(l, "---") {
			changed = append(changed, l)
		}
	}
	if len(changed) == 0 {
		t.Fatalf("no changed lines:\n%s", out)
	}
	for _, l := range changed {
		if m := base64Run.FindString(l); m != "" && !hexDigest.MatchString(m) {
			t.Errorf("a changed line is base64: %.100s", l)
		}
	}
	if !strings.Contains(out, `"/bin/date"`) || !strings.Contains(out, "# decoded by cocogen diff from base64(gzip(init-data TOML))") {
		t.Errorf("the diff does not show the Rego of the new exec rule:\n%s", out)
	}
	for _, obj := range []string{"apps/simple/kbs-access/Pod/kbs-access/kbs-access.yaml", "simple/initdata/default.rego"} {
		if !strings.Contains(out, "+++ b/"+obj) {
			t.Errorf("%s does not change", obj)
		}
	}

	stdout.Reset()
	if code := run([]string{"diff", "-f", "fixtures/azure-simple/pattern.yaml", "--output", "markdown", oldRoot, newRoot}, nil, &stdout, &stderr); code != exitDifferent || !strings.Contains(stdout.String(), "<details><summary><code>") {
		t.Errorf("markdown: exit %d:\n%s", code, stdout.String())
	}
	if code := run([]string{"diff", "-f", "fixtures/azure-simple/pattern.yaml", oldRoot, oldRoot}, nil, &bytes.Buffer{}, &stderr); code != exitOK {
		t.Errorf("equal renders: exit %d", code)
	}
	if code := run([]string{"diff", "-f", "nope.yaml", oldRoot, newRoot}, nil, &bytes.Buffer{}, &bytes.Buffer{}); code != exitInvalid {
		t.Errorf("missing pattern: exit %d, want %d", code, exitInvalid)
	}
}
