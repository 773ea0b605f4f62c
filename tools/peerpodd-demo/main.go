// Command peerpodd-demo runs bin/peerpodd with the local provider and
// plays the kata shim against it, step by step: what `make demo-peerpodd`
// shows. It is a demonstration, not a test (those are in
// internal/peerpod/...).
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/containerd/ttrpc"

	"github.com/cocogen/cocogen/internal/peerpod/agentpb"
	"github.com/cocogen/cocogen/internal/peerpod/hypervisor"
)

const initData = `algorithm = "sha256"
version = "0.1.0"

[data]
"aa.toml" = '''
[token_configs.kbs]
url = "https://kbs.example:8080"
'''
`

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "peerpodd-demo:", err)
		os.Exit(1)
	}
}

func run() error {
	bin := "bin/peerpodd"
	if len(os.Args) > 1 {
		bin = os.Args[1]
	}
	dir, err := os.MkdirTemp("", "ppd") // short: unix socket paths are limited
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	socket := filepath.Join(dir, "hypervisor.sock")
	port, err := freePort()
	if err != nil {
		return err
	}
	daemon := exec.Command(bin)
	daemon.Env = append(os.Environ(),
		"CLOUD_PROVIDER=local",
		"REMOTE_HYPERVISOR_ENDPOINT="+socket,
		"PODS_DIR="+filepath.Join(dir, "pods"),
		"PEERPODD_CA_DIR="+filepath.Join(dir, "ca"),
		"FORWARDER_PORT="+strconv.Itoa(port),
		"PROBE_ADDRESS=127.0.0.1:0",
	)
	daemon.Stderr = os.Stderr
	if err := daemon.Start(); err != nil {
		return err
	}
	defer func() {
		_ = daemon.Process.Signal(syscall.SIGTERM)
		_ = daemon.Wait()
	}()
	ctx := context.Background()
	call := func(what string, f func(hypervisor.HypervisorService) error) error {
		var conn net.Conn
		var err error
		for range 100 { // the daemon is starting
			if conn, err = net.Dial("unix", socket); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			return err
		}
		c := ttrpc.NewClient(conn)
		defer c.Close()
		start := time.Now()
		if err := f(hypervisor.NewHypervisorClient(c)); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		fmt.Printf("shim: %-9s ok (%s)\n", what, time.Since(start).Round(time.Microsecond))
		return nil
	}
	var agentSocket string
	steps := []struct {
		name string
		f    func(hypervisor.HypervisorService) error
	}{
		{"Version", func(h hypervisor.HypervisorService) error {
			_, err := h.Version(ctx, &hypervisor.VersionRequest{})
			return err
		}},
		{"CreateVM", func(h hypervisor.HypervisorService) error {
			resp, err := h.CreateVM(ctx, &hypervisor.CreateVMRequest{Id: "demo", Annotations: map[string]string{
				"io.kubernetes.cri.sandbox-name":                   "web-0",
				"io.kubernetes.cri.sandbox-namespace":              "confidential",
				"io.katacontainers.config.hypervisor.cc_init_data": initData,
			}})
			if err == nil {
				agentSocket = resp.AgentSocketPath
			}
			return err
		}},
		{"StartVM", func(h hypervisor.HypervisorService) error {
			_, err := h.StartVM(ctx, &hypervisor.StartVMRequest{Id: "demo"})
			return err
		}},
	}
	for _, s := range steps {
		if err := call(s.name, s.f); err != nil {
			return err
		}
	}
	conn, err := net.Dial("unix", agentSocket)
	if err != nil {
		return err
	}
	ac := ttrpc.NewClient(conn)
	resp, err := agentpb.NewHealthClient(ac).Check(ctx, &agentpb.CheckRequest{})
	ac.Close()
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	fmt.Printf("shim: agent at %s answers %v over mutual TLS\n", agentSocket, resp.Status)
	if err := call("StopVM", func(h hypervisor.HypervisorService) error {
		_, err := h.StopVM(ctx, &hypervisor.StopVMRequest{Id: "demo"})
		return err
	}); err != nil {
		return err
	}
	if _, err := os.Stat(agentSocket); os.IsNotExist(err) {
		fmt.Println("shim: the VM is deleted and its agent socket removed")
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
