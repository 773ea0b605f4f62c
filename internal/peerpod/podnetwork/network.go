package podnetwork

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os/exec"
	"sync"

	"github.com/cocogen/cocogen/internal/peerpod/userdata"
)

// ErrUnsupported is returned by Inspect, Setup and Teardown on operating
// systems other than Linux.
var ErrUnsupported = errors.New("the pod network is only supported on Linux")

// defaultHostNetns is the namespace the tunnels' UDP sockets live in: the
// daemon's own, which is the node's (the DaemonSet runs on the host
// network). The main thread's, not the calling thread's: a goroutine may
// run on a thread some other code switched.
const defaultHostNetns = "/proc/self/ns/net"

// Network sets up and tears down the worker-node end of pods' tunnels, and
// hands out their VXLAN ids. Its methods are safe for concurrent use.
type Network struct {
	cfg Config
	log *slog.Logger

	// hostNetns is the node's namespace (tests use their own).
	hostNetns string
	// iptables is the iptables binary, or "" when there is none (see
	// iptables_linux.go); run runs it, replaceable in tests.
	iptables string
	run      func(name string, args ...string) ([]byte, error)
	iptMu    sync.Mutex
	// noIPTablesWarning is logged once, at the first Setup.
	noIPTablesWarning sync.Once

	mu sync.Mutex
	// inUse holds the VXLAN ids of live tunnels: the kernel refuses a
	// second VXLAN device with the same id and port in the node's
	// namespace, and a VM's packets are told apart by it.
	inUse map[int]struct{}
	// next is the index tried first: indexes are handed out in turn, not
	// lowest-free, so a just-released id is not reused at once for
	// another pod while packets of the old VM may still be in flight.
	next int
}

// New checks cfg and returns a Network. The iptables binary is looked up
// now; without one the tunnels work but their packets are tracked by
// conntrack (see iptables_linux.go).
func New(cfg Config) (*Network, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("pod network configuration: %w", err)
	}
	cfg.PodSubnetCIDRs = append([]netip.Prefix(nil), cfg.PodSubnetCIDRs...)
	n := &Network{
		cfg:       cfg,
		log:       slog.Default().With("component", "podnetwork"),
		hostNetns: defaultHostNetns,
		run:       runCommand,
		inUse:     map[int]struct{}{},
	}
	if p, err := exec.LookPath("iptables"); err == nil {
		n.iptables = p
	}
	return n, nil
}

// SetLogger sends the Network's log lines to l (default: slog.Default());
// call it before the Network is used.
func (n *Network) SetLogger(l *slog.Logger) { n.log = l.With("component", "podnetwork") }

// Config returns the configuration the Network was made with.
func (n *Network) Config() Config { return n.cfg }

func runCommand(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}

// allocate reserves the next free VXLAN id and returns its index.
//
// cloud-api-adaptor v0.22.0 (pkg/podnetwork/workernode.go podIndexManager)
// counts up from 0 in memory, forever: after a restart it hands out ids
// that running pods still use, and it never reuses one. Here the ids in
// use are known (Adopt after a restart), skipped, and freed by Release.
func (n *Network) allocate() (index, id int, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	span := maxVXLANID - n.cfg.VXLANMinID + 1
	for i := range span {
		idx := (n.next + i) % span
		id := n.cfg.VXLANMinID + idx
		if _, used := n.inUse[id]; used {
			continue
		}
		n.inUse[id] = struct{}{}
		n.next = (idx + 1) % span
		return idx, id, nil
	}
	return 0, 0, fmt.Errorf("allocating a VXLAN id: all %d from %d are in use", span, n.cfg.VXLANMinID)
}

// Adopt reserves the VXLAN id of a pod network made before a restart, so
// that no new pod gets it while that pod's tunnel lives. Call it for every
// sandbox the daemon restores, before it serves new ones. A nil pn (a
// sandbox without a tunnel) is nothing to adopt. An id already reserved
// is an error: two live pods would share a tunnel.
func (n *Network) Adopt(pn *userdata.PodNetwork) error {
	if pn == nil {
		return nil
	}
	if pn.TunnelType != TunnelVXLAN {
		return fmt.Errorf("adopting pod network: tunnel type %q is not %q", pn.TunnelType, TunnelVXLAN)
	}
	if pn.VXLANID < 1 || pn.VXLANID > maxVXLANID {
		return fmt.Errorf("adopting pod network: VXLAN id %d is not within 1-%d", pn.VXLANID, maxVXLANID)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, used := n.inUse[pn.VXLANID]; used {
		return fmt.Errorf("adopting pod network: VXLAN id %d is already in use", pn.VXLANID)
	}
	// Ids outside this configuration's range (VXLANMinID changed across
	// the restart) are reserved all the same: they are live on the node.
	n.inUse[pn.VXLANID] = struct{}{}
	return nil
}

// Release frees pn's VXLAN id, once its tunnel is torn down for good. A nil
// pn or an id not reserved is nothing to do.
func (n *Network) Release(pn *userdata.PodNetwork) {
	if pn == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.inUse, pn.VXLANID)
}

// checkPodNetwork reports what Setup and Teardown cannot work with.
func checkPodNetwork(pn *userdata.PodNetwork) error {
	var errs []error
	if pn.TunnelType != TunnelVXLAN {
		errs = append(errs, fmt.Errorf("tunnel type %q is not %q", pn.TunnelType, TunnelVXLAN))
	}
	if pn.VXLANID < 1 || pn.VXLANID > maxVXLANID {
		errs = append(errs, fmt.Errorf("VXLAN id %d is not within 1-%d", pn.VXLANID, maxVXLANID))
	}
	if pn.VXLANPort < 1 || pn.VXLANPort > 65535 {
		errs = append(errs, fmt.Errorf("VXLAN port %d is not a UDP port", pn.VXLANPort))
	}
	if pn.InterfaceName == "" {
		errs = append(errs, errors.New("no pod interface"))
	}
	return errors.Join(errs...)
}
