// Package config reads the peer-pod daemon's configuration: flags, each
// defaulting to the environment key the cloud-api-adaptor reads (so that
// the peer-pods-cm ConfigMap and peer-pods-secret Secret cocogen's ACM
// policies write work unchanged), then the provider's own keys. Every value
// that does not parse and every missing required one is reported, all at
// once; the daemon exits 2 on any.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cocogen/cocogen/internal/peerpod/agentproxy"
	"github.com/cocogen/cocogen/internal/peerpod/daemon"
	"github.com/cocogen/cocogen/pkg/initdata"
)

// Providers the daemon can run.
const (
	ProviderAzure = "azure"
	ProviderLocal = "local"
)

// Config is everything the daemon starts with.
type Config struct {
	// Provider is CLOUD_PROVIDER.
	Provider string
	// Socket is where the remote-hypervisor service listens.
	Socket string
	// ProbeAddress serves /healthz, /startup and /metrics.
	ProbeAddress string
	// Daemon is the daemon's own configuration.
	Daemon daemon.Config
	// Env is the whole environment, for the provider's keys.
	Env map[string]string
	// Warnings are settings read but not acted on.
	Warnings []string
}

// Defaults (cloud-api-adaptor v0.22.0: pkg/adaptor/server.go
// DefaultSocketPath and DefaultPodsDir, pkg/forwarder/forwarder.go
// DefaultListenPort, pkg/probe/probe.go port 8000,
// cmd/cloud-api-adaptor/main.go PEERPODS_LIMIT_PER_NODE default 10).
const (
	DefaultSocket        = "/run/peerpod/hypervisor.sock"
	DefaultPodsDir       = "/run/peerpod/pods"
	DefaultCADir         = "/run/peerpod/ca"
	DefaultForwarderPort = 15150
	DefaultProbePort     = 8000
	DefaultLimitPerNode  = 10
)

// Keys read but without effect in this daemon, with why; a value set
// for them is reported at start-up so nobody believes it applies.
var inert = map[string]string{
	"VXLAN_PORT":      "peerpodd sets up no VXLAN tunnel yet: the pod network inside the VM is the forwarder's own",
	"TUNNEL_TYPE":     "peerpodd sets up no pod-network tunnel yet",
	"PAUSE_IMAGE":     "peerpodd forwards agent calls byte for byte and does not rewrite the pause image",
	"CACERT_FILE":     "the agent channel uses peerpodd's own CA (see --ca-dir)",
	"CERT_FILE":       "the agent channel uses peerpodd's own CA (see --ca-dir)",
	"CERT_KEY":        "the agent channel uses peerpodd's own CA (see --ca-dir)",
	"TLS_SKIP_VERIFY": "the agent channel is always verified",
}

// Parse reads args (without the program name) and env.
func Parse(args []string, env map[string]string, usage io.Writer) (Config, error) {
	var errs []error
	fs := flag.NewFlagSet("peerpodd", flag.ContinueOnError)
	fs.SetOutput(usage)
	get := func(key, def string) string {
		if v := strings.TrimSpace(env[key]); v != "" {
			return v
		}
		return def
	}
	c := Config{Env: env}
	var forwarderPort, probePort, limit, maxCreates, burst string
	var proxyTimeout, createRate, scratch string
	fs.StringVar(&c.Provider, "cloud-provider", get("CLOUD_PROVIDER", ""), "azure or local (env CLOUD_PROVIDER)")
	fs.StringVar(&c.Socket, "socket", get("REMOTE_HYPERVISOR_ENDPOINT", DefaultSocket), "remote-hypervisor socket (env REMOTE_HYPERVISOR_ENDPOINT)")
	fs.StringVar(&c.Daemon.PodsDir, "pods-dir", get("PODS_DIR", DefaultPodsDir), "sandbox state, user data and agent sockets (env PODS_DIR)")
	fs.StringVar(&c.Daemon.CADir, "ca-dir", get("PEERPODD_CA_DIR", DefaultCADir), "the agent channel's CA (env PEERPODD_CA_DIR)")
	fs.StringVar(&forwarderPort, "forwarder-port", get("FORWARDER_PORT", strconv.Itoa(DefaultForwarderPort)), "the VM's agent-protocol-forwarder port (env FORWARDER_PORT)")
	fs.StringVar(&proxyTimeout, "proxy-timeout", get("PROXY_TIMEOUT", agentproxy.DefaultTimeout.String()), "how long to wait for a VM's forwarder (env PROXY_TIMEOUT)")
	fs.StringVar(&probePort, "probe-port", get("PROBE_PORT", strconv.Itoa(DefaultProbePort)), "port of /healthz, /startup and /metrics (env PROBE_PORT)")
	fs.StringVar(&c.ProbeAddress, "probe-address", get("PROBE_ADDRESS", ""), "host:port of /healthz, /startup and /metrics; overrides --probe-port (env PROBE_ADDRESS)")
	fs.StringVar(&limit, "peerpods-limit-per-node", get("PEERPODS_LIMIT_PER_NODE", strconv.Itoa(DefaultLimitPerNode)), "peer pods this node runs at most (env PEERPODS_LIMIT_PER_NODE)")
	fs.StringVar(&c.Daemon.InitData, "initdata", get("INITDATA", ""), "encoded init-data for pods without their own (env INITDATA)")
	fs.StringVar(&scratch, "enable-scratch-space", get("ENABLE_SCRATCH_SPACE", "false"), "ask VMs for an encrypted scratch disk (env ENABLE_SCRATCH_SPACE)")
	fs.StringVar(&maxCreates, "max-concurrent-creates", get("PEERPODD_MAX_CONCURRENT_CREATES", strconv.Itoa(daemon.DefaultMaxConcurrentCreates)), "cloud creates in flight at most (env PEERPODD_MAX_CONCURRENT_CREATES)")
	fs.StringVar(&createRate, "create-rate", get("PEERPODD_CREATE_RATE", strconv.FormatFloat(daemon.DefaultCreateRate, 'f', -1, 64)), "cloud creates per second (env PEERPODD_CREATE_RATE)")
	fs.StringVar(&burst, "create-burst", get("PEERPODD_CREATE_BURST", strconv.Itoa(daemon.DefaultCreateBurst)), "cloud creates in a burst (env PEERPODD_CREATE_BURST)")
	fs.StringVar(&c.Daemon.NodeName, "node-name", get("NODE_NAME", ""), "this node's name; enables the Kubernetes integration (env NODE_NAME)")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}

	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, a...)...))
	}
	intIn := func(key, v string, lo, hi int) int {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			bad(key, "%q is not a whole number from %d to %d", v, lo, hi)
		}
		return n
	}
	switch c.Provider {
	case ProviderAzure, ProviderLocal:
	case "":
		bad("CLOUD_PROVIDER", "is required (azure or local)")
	default:
		bad("CLOUD_PROVIDER", "%q is not supported by peerpodd (azure or local)", c.Provider)
	}
	c.Daemon.ForwarderPort = intIn("FORWARDER_PORT", forwarderPort, 1, 65535)
	port := intIn("PROBE_PORT", probePort, 1, 65535)
	if c.ProbeAddress == "" {
		// Loopback, like the reference daemon: the kubelet probes a
		// host-network pod on the node itself.
		c.ProbeAddress = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	} else if _, _, err := net.SplitHostPort(c.ProbeAddress); err != nil {
		bad("PROBE_ADDRESS", "%q is not host:port", c.ProbeAddress)
	}
	c.Daemon.LimitPerNode = intIn("PEERPODS_LIMIT_PER_NODE", limit, 1, 10000)
	c.Daemon.MaxConcurrentCreates = intIn("PEERPODD_MAX_CONCURRENT_CREATES", maxCreates, 1, 1000)
	c.Daemon.CreateBurst = intIn("PEERPODD_CREATE_BURST", burst, 1, 1000)
	if r, err := strconv.ParseFloat(createRate, 64); err != nil || r <= 0 || r > 1000 {
		bad("PEERPODD_CREATE_RATE", "%q is not a rate above 0 and at most 1000 per second", createRate)
	} else {
		c.Daemon.CreateRate = r
	}
	// PROXY_TIMEOUT is a Go duration in the reference daemon (its
	// DurationWithEnv); a bare number is read as minutes, as its help
	// text ("timeout in minutes") suggests people write it.
	if d, err := time.ParseDuration(proxyTimeout); err == nil && d > 0 {
		c.Daemon.ProxyTimeout = d
	} else if n, err := strconv.Atoi(proxyTimeout); err == nil && n > 0 {
		c.Daemon.ProxyTimeout = time.Duration(n) * time.Minute
	} else {
		bad("PROXY_TIMEOUT", "%q is not a duration (e.g. 5m)", proxyTimeout)
	}
	if b, err := strconv.ParseBool(strings.ToLower(scratch)); err != nil {
		bad("ENABLE_SCRATCH_SPACE", "%q is not a boolean", scratch)
	} else {
		c.Daemon.ScratchSpace = b
	}
	if c.Daemon.InitData != "" {
		if _, err := initdata.Decode(c.Daemon.InitData); err != nil {
			bad("INITDATA", "not encoded init-data (gzip then base64): %v", err)
		}
	}
	for _, key := range sortedKeys(inert) {
		if v := strings.TrimSpace(env[key]); v != "" {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s is set but has no effect: %s", key, inert[key]))
		}
	}
	return c, errors.Join(errs...)
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// Environ turns os.Environ() into a map.
func Environ(environ []string) map[string]string {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}
