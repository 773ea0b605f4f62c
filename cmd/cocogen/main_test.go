package main

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/benchpattern"
	"github.com/cocogen/cocogen/internal/golden"
	"github.com/cocogen/cocogen/pkg/manifest"
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
}

// TestOutputDirectory: -o replaces only what cocogen wrote. A directory
// with a user's files, the repository root, the pattern file's path and a
// path holding .git are refused (exit 2, nothing touched); a tree cocogen
// wrote is replaced whole and a missing directory is created.
func TestOutputDirectory(t *testing.T) {
	repo := t.TempDir()
	if err := os.CopyFS(repo, os.DirFS("../..")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(repo)
	const pattern = "fixtures/azure-simple/pattern.yaml"
	render := func(dir string, extra ...string) (int, string) {
		var stderr bytes.Buffer
		code := run(append([]string{"render", "-f", pattern, "-o", dir}, extra...), nil, &bytes.Buffer{}, &stderr)
		return code, stderr.String()
	}
	write := func(path, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rootApp := filepath.Join("bootstrap", "simple", "Application", "openshift-gitops", "coco-simple.yaml")

	t.Run("missing directory is created", func(t *testing.T) {
		if code, stderr := render(filepath.Join(t.TempDir(), "new", "out")); code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
	t.Run("a tree cocogen wrote is replaced", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "out")
		if code, stderr := render(dir); code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if err := os.Remove(filepath.Join(dir, rootApp)); err != nil {
			t.Fatal(err) // a file cocogen wrote may go missing
		}
		if code, stderr := render(dir); code != exitOK {
			t.Fatalf("re-render: exit %d: %s", code, stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, rootApp)); err != nil {
			t.Errorf("root application not rewritten: %v", err)
		}
	})
	for _, tc := range []struct {
		name, dir, want string
		prepare         func(dir string)
		forcible        bool
	}{
		{name: "a directory with a user's files", dir: filepath.Join(t.TempDir(), "mine"), want: "cocogen did not write it", forcible: true,
			prepare: func(dir string) { write(filepath.Join(dir, "notes", "todo.txt"), "mine") }},
		{name: "a cocogen tree with a user's file added", dir: filepath.Join(t.TempDir(), "out"), want: "extra.yaml was not written by cocogen", forcible: true,
			prepare: func(dir string) {
				if code, stderr := render(dir); code != exitOK {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				write(filepath.Join(dir, "extra.yaml"), "mine")
			}},
		{name: "the repository root", dir: ".", want: "it is the repository root"},
		{name: "a parent of the repository", dir: "..", want: "it holds the repository root"},
		{name: "the pattern file", dir: pattern, want: "it is the pattern (" + pattern + ")"},
		{name: "the pattern's directory", dir: "fixtures/azure-simple", want: "it holds the pattern (" + pattern + ")"},
		{name: "a directory holding .git", dir: filepath.Join(t.TempDir(), "clone"), want: "it holds a git repository",
			prepare: func(dir string) { write(filepath.Join(dir, "sub", ".git", "HEAD"), "ref: refs/heads/main\n") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.prepare != nil {
				tc.prepare(tc.dir)
			}
			before, _ := manifest.ReadTree(tc.dir)
			code, stderr := render(tc.dir)
			if code != exitInvalid || !strings.Contains(stderr, "refusing to replace it") || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, want 2 naming %q:\n%s", code, tc.want, stderr)
			}
			if got := strings.Contains(stderr, "--force"); got != tc.forcible {
				t.Errorf("message offers --force: %v, want %v", got, tc.forcible)
			}
			if after, _ := manifest.ReadTree(tc.dir); !maps.Equal(before, after) {
				t.Error("a refused render changed the directory")
			}
			if !tc.forcible {
				if code, _ := render(tc.dir, "--force"); code != exitInvalid {
					t.Errorf("--force replaced a protected path: exit %d", code)
				}
			}
		})
	}
	t.Run("--force replaces a user's directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "mine")
		write(filepath.Join(dir, "old.yaml"), "x")
		if code, stderr := render(dir, "--force"); code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "old.yaml")); !os.IsNotExist(err) {
			t.Error("forced render kept the old file")
		}
	})
	if _, err := os.Stat(pattern); err != nil {
		t.Fatalf("the pattern is gone: %v", err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"render"}, {"render", "--no-such-flag"}, {"render", "-f", "does-not-exist.yaml"},
		{"frobnicate"}, {"render", "extra-argument"}, {"render", "--max-input-size", "lots"}, {"version", "x"},
	} {
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

// TestVersion: cocogen version and --version print the build's version.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var stdout bytes.Buffer
		if code := run(args, nil, &stdout, &bytes.Buffer{}); code != exitOK {
			t.Fatalf("%v: exit %d", args, code)
		}
		if !strings.HasPrefix(stdout.String(), "cocogen ") || !strings.Contains(stdout.String(), "revision ") {
			t.Errorf("%v printed %q", args, stdout.String())
		}
	}
}

// TestRenderStdin: -f - reads a YAML pattern from standard input, with the
// working directory as its repository.
func TestRenderStdin(t *testing.T) {
	t.Chdir("../..")
	pattern, err := os.ReadFile("fixtures/azure-simple/pattern.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var fromFile, fromStdin, stderr bytes.Buffer
	if code := run([]string{"render", "-f", "fixtures/azure-simple/pattern.yaml"}, nil, &fromFile, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if code := run([]string{"render", "-f", "-"}, bytes.NewReader(pattern), &fromStdin, &stderr); code != exitOK {
		t.Fatalf("stdin: exit %d: %s", code, stderr.String())
	}
	if fromFile.String() != fromStdin.String() {
		t.Error("the same pattern renders differently from stdin")
	}
}

// BenchmarkCLI is the whole command run in-process (flags, load, render,
// stream written to a buffer), without process start-up.
func BenchmarkCLI(b *testing.B) {
	b.Chdir("../..")
	var out, errs bytes.Buffer
	for b.Loop() {
		out.Reset()
		errs.Reset()
		if code := run([]string{"render", "-f", "fixtures/azure-simple/pattern.yaml"}, nil, &out, &errs); code != exitOK {
			b.Fatalf("exit %d: %s", code, errs.String())
		}
	}
}

// BenchmarkCLISynthetic is the whole command in-process on the synthetic
// patterns (groups x applications), the stream written to a buffer.
func BenchmarkCLISynthetic(b *testing.B) {
	b.Chdir("../..")
	dir, err := os.MkdirTemp("bin", "bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	for _, size := range benchpattern.Sizes {
		file := filepath.Join(dir, "pattern-"+size.String()+".yaml")
		if err := os.WriteFile(file, []byte(benchpattern.Pattern(size)), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Run(size.String(), func(b *testing.B) {
			var out, errs bytes.Buffer
			for b.Loop() {
				out.Reset()
				errs.Reset()
				if code := run([]string{"render", "-f", file}, nil, &out, &errs); code != exitOK {
					b.Fatalf("exit %d: %s", code, errs.String())
				}
			}
		})
	}
}
