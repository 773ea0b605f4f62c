// Command benchcli times the cocogen binary as users pay for it: a whole
// process, start to exit, for each way it is started (help, a render, the
// Argo CD plugin's generate, renders of synthetic patterns of growing
// size). It prints the median and slowest wall time and the peak resident
// memory of each, in a Markdown table.
//
//	go run ./tools/benchcli -bin bin/cocogen -runs 15
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cocogen/cocogen/internal/benchpattern"
)

type scenario struct {
	name string
	args []string
	dir  string
	env  []string
}

func main() {
	bin := flag.String("bin", "bin/cocogen", "the cocogen binary")
	runs := flag.Int("runs", 15, "runs per scenario (the median is reported)")
	flag.Parse()
	if err := run(*bin, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "benchcli:", err)
		os.Exit(1)
	}
}

func run(bin string, runs int) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	// Synthetic patterns live in the repository (bin/ is ignored by git),
	// where their confidential applications resolve.
	dir := filepath.Join(root, "bin", "bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	scenarios := []scenario{
		{name: "cocogen --help", args: []string{"--help"}},
		{name: "render azure-simple", args: []string{"render", "-f", "fixtures/azure-simple/pattern.yaml"}},
		{name: "cmp generate azure-simple (group simple)", args: []string{"cmp", "generate"}, dir: "fixtures/azure-simple",
			env: []string{"ARGOCD_APP_NAME=coco", "ARGOCD_APP_NAMESPACE=openshift-gitops", "ARGOCD_APP_SOURCE_PATH=fixtures/azure-simple", "PARAM_GROUP=simple"}},
	}
	for _, size := range benchpattern.Sizes {
		file := filepath.Join(dir, "pattern-"+size.String()+".yaml")
		if err := os.WriteFile(file, []byte(benchpattern.Pattern(size)), 0o644); err != nil {
			return err
		}
		scenarios = append(scenarios, scenario{name: "render " + size.String() + " (groups x apps)", args: []string{"render", "-f", file}})
	}
	// Rounds run every scenario once each, so that the machine's moods
	// (other tenants of a VM, CPU frequency) fall on all of them alike.
	walls := make([][]time.Duration, len(scenarios))
	cpus := make([][]time.Duration, len(scenarios))
	rss := make([]int64, len(scenarios))
	for range runs {
		for i, s := range scenarios {
			cmd := exec.Command(bin, s.args...)
			cmd.Dir = filepath.Join(root, s.dir)
			cmd.Env = append(os.Environ(), s.env...)
			// Output is read and dropped: kept, it would grow this
			// process, whose peak Linux counts into the child's (below).
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = io.Discard, &stderr
			start := time.Now()
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("%s: %v\n%s", s.name, err, stderr.Bytes())
			}
			walls[i] = append(walls[i], time.Since(start))
			cpus[i] = append(cpus[i], cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
			rss[i] = max(rss[i], cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)
		}
	}
	// A child started by vfork (as os/exec does) inherits, in its peak
	// RSS, the peak of the process that started it: print that floor.
	fmt.Printf("Peak RSS readings cannot go below this harness's own peak, %d MiB.\n\n", ownPeakRSS()>>20)
	fmt.Printf("| command (%d runs) | median wall | slowest | median CPU (user+sys) | peak RSS |\n| --- | --- | --- | --- | --- |\n", runs)
	for i, s := range scenarios {
		slices.Sort(walls[i])
		slices.Sort(cpus[i])
		fmt.Printf("| `%s` | %v | %v | %v | %d MiB |\n", s.name, round(walls[i][len(walls[i])/2]), round(walls[i][len(walls[i])-1]), round(cpus[i][len(cpus[i])/2]), rss[i]>>10)
	}
	return nil
}

// ownPeakRSS is this process's peak resident memory (VmHWM), in bytes.
func ownPeakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func round(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
