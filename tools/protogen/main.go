// Command protogen regenerates the Go code of the peer-pod daemon's .proto
// files (run by `go generate ./internal/peerpod/...`; see internal/protogen).
//
//	go run ./tools/protogen DIR FILE.proto...
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cocogen/cocogen/internal/protogen"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: protogen DIR FILE.proto...")
		os.Exit(2)
	}
	dir := os.Args[1]
	out, err := protogen.Generate(context.Background(), dir, os.Args[2:]...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "protogen:", err)
		os.Exit(1)
	}
	for name, data := range out {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "protogen:", err)
			os.Exit(1)
		}
	}
}
