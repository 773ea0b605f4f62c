package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	sigsyaml "sigs.k8s.io/yaml"

	"github.com/cocogen/cocogen/internal/golden"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/manifest"
)

// hostileCase is fixtures/hostile/<name>/case.yaml.
type hostileCase struct {
	Args  []string `json:"args"`
	Setup []struct {
		Symlink string `json:"symlink"`
		To      string `json:"to"`
		File    string `json:"file"`
		Size    int64  `json:"size"`
	} `json:"setup"`
	Want  string `json:"want"`
	Never string `json:"never"`
}

// Budgets every hostile input must stay within.
const (
	hostileTime   = 2 * time.Second
	hostileMemory = 200 << 20
)

// located is how every error line starts: the file, and the line where
// there is one (Jsonnet and limit errors name the file only).
var located = regexp.MustCompile(`^(cocogen: )?[^\s:]+(:[0-9]+)?: `)

// measureEnv makes this test binary a launcher: it runs the command after
// its arguments and writes the command's peak resident memory (KiB) and
// CPU time (ms) to the file the variable names. A process's peak includes what the process
// that started it had mapped at exec time, so the command is started from
// this small, fresh process rather than from the test process, whose own
// memory (with the race detector) would be counted.
const measureEnv = "COCOGEN_TEST_MEASURE_RSS"

func TestMain(m *testing.M) {
	if out := os.Getenv(measureEnv); out != "" {
		os.Exit(launch(out, os.Args[1:]))
	}
	os.Exit(m.Run())
}

func launch(out string, args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = slices.DeleteFunc(os.Environ(), func(e string) bool { return strings.HasPrefix(e, measureEnv+"=") })
	_ = cmd.Run()
	if cmd.ProcessState == nil {
		return 125
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Milliseconds()
	if err := os.WriteFile(out, fmt.Appendf(nil, "%d %d", ru.Maxrss, cpu), 0o644); err != nil {
		return 125
	}
	return cmd.ProcessState.ExitCode()
}

// TestHostileInputs runs the cocogen binary, as Argo CD's repo-server would,
// on each input of fixtures/hostile in a repository of its own, next to a
// canary file outside it.
func TestHostileInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the cocogen binary")
	}
	bin := testkit.Binary(t)
	passwd, _ := os.ReadFile("/etc/passwd")
	for _, dir := range golden.Files(t, "../../fixtures/hostile/*/case.yaml", 20) {
		dir = filepath.Dir(dir)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var c hostileCase
			data, err := os.ReadFile(filepath.Join(dir, "case.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if err := sigsyaml.UnmarshalStrict(data, &c); err != nil {
				t.Fatal(err)
			}
			base := t.TempDir()
			repo := filepath.Join(base, "repo")
			// Cases whose repository starts empty have no repo/ in git.
			if _, err := os.Stat(filepath.Join(dir, "repo")); err == nil {
				if err := os.CopyFS(repo, os.DirFS(filepath.Join(dir, "repo"))); err != nil {
					t.Fatal(err)
				}
			} else if err := os.MkdirAll(repo, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(filepath.Join(repo, ".git"), 0o755); err != nil {
				t.Fatal(err)
			}
			canary := "COCOGEN-CANARY-" + randomHex(t)
			outside := map[string]string{
				"canary":     filepath.Join(base, "outside", "canary.yaml"),
				"canary-dir": filepath.Join(base, "outside", "app"),
			}
			writeFile(t, outside["canary"], "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "+strings.ToLower(canary)+"\ndata:\n  secret: "+canary+"\n")
			writeFile(t, filepath.Join(outside["canary-dir"], "pod.yaml"), "apiVersion: v1\nkind: Pod\nmetadata:\n  name: "+strings.ToLower(canary)+"\nspec:\n  containers: [{name: c, image: "+canary+"}]\n")
			for _, s := range c.Setup {
				switch {
				case s.Symlink != "":
					target := s.To
					if o, ok := outside[s.To]; ok {
						target = o
					}
					link := filepath.Join(repo, s.Symlink)
					if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.Symlink(target, link); err != nil {
						t.Fatal(err)
					}
				case s.File != "":
					writeFile(t, filepath.Join(repo, s.File), "# "+strings.Repeat("x", int(s.Size))+"\n")
				}
			}
			before, err := manifest.ReadTree(repo)
			if err != nil {
				t.Fatal(err)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			rssFile := filepath.Join(base, "rss")
			cmd := exec.CommandContext(ctx, os.Args[0], append([]string{bin}, c.Args...)...)
			cmd.Dir = repo
			cmd.Env = append(os.Environ(), "COCOGEN_CANARY="+canary, measureEnv+"="+rssFile)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			err = cmd.Run()
			elapsed := time.Since(start)
			code := cmd.ProcessState.ExitCode()
			usage, rerr := os.ReadFile(rssFile)
			if rerr != nil {
				t.Fatalf("launcher: %v (%v)", rerr, err)
			}
			var rss, cpuMillis int64
			if _, err := fmt.Sscan(string(usage), &rss, &cpuMillis); err != nil {
				t.Fatal(err)
			}
			rss <<= 10
			cpu := time.Duration(cpuMillis) * time.Millisecond

			out := stdout.String() + stderr.String()
			if code != exitInvalid {
				t.Errorf("exit %d (%v), want %d", code, err, exitInvalid)
			}
			if !strings.Contains(stderr.String(), c.Want) {
				t.Errorf("stderr lacks %q", c.Want)
			}
			for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
				if !strings.HasPrefix(line, "cocogen: warning: ") && !strings.HasPrefix(line, "cocogen: info: ") && !located.MatchString(line) {
					t.Errorf("error not located: %q", line)
				}
			}
			if strings.Contains(out, canary) || (len(passwd) > 0 && strings.Contains(out, "root:x:0:0")) || strings.Contains(out, "COCOGEN_CANARY=") {
				t.Error("output holds content from outside the repository")
			}
			if c.Never != "" && strings.Contains(out, c.Never) {
				t.Errorf("output quotes the secret %q", c.Never)
			}
			if stdout.Len() != 0 {
				t.Errorf("wrote %d bytes to stdout", stdout.Len())
			}
			after, err := manifest.ReadTree(repo)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(before, after) {
				t.Error("the repository changed")
			}
			// The budget is cocogen's own time, its CPU time; the wall
			// clock measures the machine too (CI runs test packages side
			// by side), so it only has to show that nothing hangs.
			if cpu > hostileTime {
				t.Errorf("used %v of CPU, budget %v", cpu, hostileTime)
			}
			if elapsed > 5*hostileTime {
				t.Errorf("took %v of wall clock", elapsed)
			}
			if rss > hostileMemory {
				t.Errorf("peak resident memory %d MiB, budget %d MiB", rss>>20, hostileMemory>>20)
			}
			t.Logf("%v wall, %v CPU, %d MiB peak", elapsed.Round(time.Millisecond), cpu, rss>>20)
			if t.Failed() {
				t.Logf("stderr:\n%s", stderr.String())
			}
		})
	}
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
