// Command peerpodd is the peer-pod daemon: kata's remote hypervisor, which
// runs each confidential pod sandbox as a VM in the cloud. See
// internal/peerpod/run and the README's "peerpodd" section.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cocogen/cocogen/internal/peerpod/config"
	"github.com/cocogen/cocogen/internal/peerpod/run"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := run.Main(ctx, os.Args[1:], config.Environ(os.Environ()), os.Stderr)
	stop()
	os.Exit(code)
}
