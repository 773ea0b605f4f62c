package main

import (
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// stopProfile ends the CPU profile --cpuprofile started; run calls it after
// the command, so the profile covers flag parsing to the last write.
var stopProfile func() error

// addProfileFlag adds the hidden --cpuprofile flag: what a whole process
// spends is only visible from inside one (Argo CD and kustomize start a
// new process per call), and a profile of many short runs merges in
// `go tool pprof bin/cocogen prof.*`.
func addProfileFlag(root *cobra.Command) {
	var file string
	root.PersistentFlags().StringVar(&file, "cpuprofile", "", "write a CPU profile of this run to `file`")
	_ = root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if file == "" {
			return nil
		}
		f, err := os.Create(file)
		if err != nil {
			return usageError{err}
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return internalError{err}
		}
		stopProfile = func() error {
			pprof.StopCPUProfile()
			return f.Close()
		}
		return nil
	}
}
