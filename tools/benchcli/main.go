// Command benchcli times the cocogen binary as users pay for it: a whole
// process, start to exit, for each way it is started (help, a render, the
// Argo CD plugin's generate, renders of synthetic patterns of growing
// size). It prints the median and slowest wall time and the peak resident
// memory of each, in a Markdown table.
//
//	go run ./tools/benchcli -bin bin/cocogen -runs 15
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	fmt.Printf("| command (%d runs) | median | slowest | peak RSS |\n| --- | --- | --- | --- |\n", runs)
	for _, s := range scenarios {
		var walls []time.Duration
		var rss int64
		for range runs {
			cmd := exec.Command(bin, s.args...)
			cmd.Dir = filepath.Join(root, s.dir)
			cmd.Env = append(os.Environ(), s.env...)
			start := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("%s: %v\n%s", s.name, err, out)
			}
			walls = append(walls, time.Since(start))
			rss = max(rss, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)
		}
		slices.Sort(walls)
		fmt.Printf("| `%s` | %v | %v | %d MiB |\n", s.name, walls[len(walls)/2].Round(100*time.Microsecond), walls[len(walls)-1].Round(100*time.Microsecond), rss>>10)
	}
	return nil
}
