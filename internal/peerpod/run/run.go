// Package run is peerpodd's main: configuration, the provider, the
// Kubernetes integration, the daemon on its socket, the probe server, and
// an orderly stop on SIGTERM. cmd/peerpodd only calls Main.
package run

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/ttrpc"

	"github.com/cocogen/cocogen/internal/peerpod/config"
	"github.com/cocogen/cocogen/internal/peerpod/daemon"
	"github.com/cocogen/cocogen/internal/peerpod/kube"
	"github.com/cocogen/cocogen/internal/peerpod/local"
	"github.com/cocogen/cocogen/internal/peerpod/podnetwork"
	"github.com/cocogen/cocogen/internal/peerpod/provider"
	"github.com/cocogen/cocogen/internal/peerpod/provider/azure"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1
	exitBadConf = 2
)

// Main runs the daemon until ctx ends (the caller wires SIGTERM to it) and
// returns the process's exit code.
func Main(ctx context.Context, args []string, env map[string]string, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	cfg, err := config.Parse(args, env, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "peerpodd: invalid configuration:\n%s\n", indent(err))
		return exitBadConf
	}
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	prov, err := newProvider(ctx, &cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "peerpodd: invalid configuration:\n%s\n", indent(err))
		if errors.Is(err, provider.ErrInvalidConfig) {
			return exitBadConf
		}
		return exitFailed
	}
	var opts []daemon.Option
	opts = append(opts, daemon.WithLogger(log))
	// A cloud VM needs the pod's network tunnelled to it; the local
	// provider's in-process VMs only when TUNNEL_TYPE asks for it.
	if cfg.Provider != config.ProviderLocal || strings.TrimSpace(env[podnetwork.EnvTunnelType]) != "" {
		pcfg, err := podnetwork.ConfigFromEnv(env)
		if err != nil {
			fmt.Fprintf(stderr, "peerpodd: invalid configuration:\n%s\n", indent(err))
			return exitBadConf
		}
		pn, err := podnetwork.New(pcfg)
		if err != nil {
			fmt.Fprintf(stderr, "peerpodd: %v\n", err)
			return exitFailed
		}
		pn.SetLogger(log)
		opts = append(opts, daemon.WithPodNetwork(pn))
	}
	var kc *kube.Client
	if cfg.Daemon.NodeName != "" {
		if kc, err = kubeClient(); err != nil {
			fmt.Fprintf(stderr, "peerpodd: NODE_NAME is set but Kubernetes is not reachable: %v\n", err)
			return exitBadConf
		}
		opts = append(opts, daemon.WithCluster(kc))
	}
	d, err := daemon.New(ctx, cfg.Daemon, prov, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "peerpodd: %v\n", err)
		return exitFailed
	}
	if kc != nil {
		// The node offers as many peer-pod VMs as the limit; pods ask for
		// kata.peerpods.io/vm, so the scheduler keeps within it.
		if err := kc.AdvertiseCapacity(ctx, cfg.Daemon.NodeName, cfg.Daemon.LimitPerNode); err != nil {
			log.Error("advertising kata.peerpods.io/vm capacity", "node", cfg.Daemon.NodeName, "error", err)
			return exitFailed
		}
	}

	probe := &http.Server{Addr: cfg.ProbeAddress, Handler: d.Handler(), ReadHeaderTimeout: 5 * time.Second}
	probeLn, err := net.Listen("tcp", cfg.ProbeAddress)
	if err != nil {
		log.Error("listening for probes", "address", cfg.ProbeAddress, "error", err)
		return exitFailed
	}
	go func() { _ = probe.Serve(probeLn) }()
	defer probe.Close()

	ln, err := listenUnix(cfg.Socket)
	if err != nil {
		log.Error("listening for the kata shim", "socket", cfg.Socket, "error", err)
		return exitFailed
	}
	served := make(chan error, 1)
	go func() { served <- d.Serve(context.Background(), ln) }()
	log.Info("serving the remote-hypervisor protocol", "socket", cfg.Socket, "provider", prov.Name(), "probes", cfg.ProbeAddress)

	select {
	case err := <-served:
		if err != nil && !errors.Is(err, ttrpc.ErrServerClosed) {
			log.Error("serving", "error", err)
			return exitFailed
		}
	case <-ctx.Done():
		// VMs stay: they belong to pods that outlive this process; the
		// next daemon re-adopts them from the pods directory.
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := d.Shutdown(shutdownCtx); err != nil {
			log.Warn("stopping", "error", err)
		}
	}
	return exitOK
}

func newProvider(ctx context.Context, cfg *config.Config, log *slog.Logger) (provider.Provider, error) {
	var p provider.Provider
	switch cfg.Provider {
	case config.ProviderAzure:
		ac, err := azure.ConfigFromEnv(cfg.Env)
		if err != nil {
			return nil, err
		}
		ap, err := azure.New(ac, azure.Options{Logger: log})
		if err != nil {
			return nil, err
		}
		cfg.Daemon.InstanceType = ac.InstanceSize
		cfg.Daemon.InstanceTypes = ac.InstanceSizes
		p = ap
	default:
		lp := local.New(local.Options{ForwarderPort: cfg.Daemon.ForwarderPort})
		cfg.Daemon.InstanceType = lp.DefaultInstanceType()
		p = lp
	}
	verifyCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := p.VerifyConfig(verifyCtx); err != nil {
		return nil, fmt.Errorf("verifying the %s configuration: %w", p.Name(), err)
	}
	return p, nil
}

func kubeClient() (*kube.Client, error) {
	kcfg, err := kube.InClusterConfig()
	if err != nil {
		return nil, err
	}
	return kube.New(kcfg)
}

func listenUnix(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	return ln, os.Chmod(path, 0o600)
}

func indent(err error) string {
	return "  " + strings.ReplaceAll(err.Error(), "\n", "\n  ")
}
