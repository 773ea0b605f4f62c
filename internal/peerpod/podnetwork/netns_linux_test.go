package podnetwork

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/cocogen/cocogen/internal/peerpod/userdata"
)

// These tests build real network namespaces with ip(8), as root with
// CAP_NET_ADMIN. Every namespace is named after the test process and a
// counter, so parallel runs do not collide, and deleted in t.Cleanup; all
// devices live in them and go with them.

var nsCounter atomic.Int64

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// newNetns makes a named namespace and returns its name and path.
func newNetns(t *testing.T, role string) (string, string) {
	t.Helper()
	name := fmt.Sprintf("ppn-%d-%d-%s", os.Getpid(), nsCounter.Add(1), role)
	ipCmd(t, "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	ipCmd(t, "-n", name, "link", "set", "lo", "up")
	return name, filepath.Join("/run/netns", name)
}

var (
	netAdminOnce sync.Once
	netAdminErr  error
)

// requireNetAdmin skips unless namespaces and VXLAN devices can be made.
func requireNetAdmin(t *testing.T) {
	t.Helper()
	netAdminOnce.Do(func() {
		if _, err := exec.LookPath("ip"); err != nil {
			netAdminErr = fmt.Errorf("no ip(8): %w", err)
			return
		}
		name := fmt.Sprintf("ppn-%d-probe", os.Getpid())
		if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
			netAdminErr = fmt.Errorf("ip netns add: %v: %s", err, out)
			return
		}
		defer exec.Command("ip", "netns", "del", name).Run()
		if out, err := exec.Command("ip", "-n", name, "link", "add", "vx", "type", "vxlan", "id", "1", "dstport", "4789", "remote", "127.0.0.2").CombinedOutput(); err != nil {
			netAdminErr = fmt.Errorf("adding a VXLAN device: %v: %s", err, out)
		}
	})
	if netAdminErr != nil {
		t.Skipf("needs root with CAP_NET_ADMIN, ip(8) and the vxlan module: %v", netAdminErr)
	}
}

// topology is a worker node, a pod on it as a CNI plugin leaves it, and a
// VM reachable from the node.
type topology struct {
	node, nodePath   string // the node: uplink 192.168.77.1/24, hv0 10.244.1.1/24
	pod, podPath     string // the pod: eth0 10.244.1.5/24
	vm, vmPath       string // the VM: eth0 192.168.77.2/24
	vmPod, vmPodPath string // the pod's namespace inside the VM
}

const (
	podMAC = "0a:58:0a:f4:01:05"
	gwMAC  = "0a:58:0a:f4:01:01"
)

func newTopology(t *testing.T) *topology {
	t.Helper()
	requireNetAdmin(t)
	tp := &topology{}
	tp.node, tp.nodePath = newNetns(t, "node")
	tp.pod, tp.podPath = newNetns(t, "pod")
	tp.vm, tp.vmPath = newNetns(t, "vm")
	tp.vmPod, tp.vmPodPath = newNetns(t, "vmpod")

	// Node and VM on one network; the node's default route makes uplink
	// its primary interface.
	ipCmd(t, "-n", tp.node, "link", "add", "uplink", "type", "veth", "peer", "name", "eth0", "netns", tp.vm)
	ipCmd(t, "-n", tp.node, "addr", "add", "192.168.77.1/24", "dev", "uplink")
	ipCmd(t, "-n", tp.node, "link", "set", "uplink", "up")
	ipCmd(t, "-n", tp.node, "route", "add", "default", "via", "192.168.77.254", "dev", "uplink")
	ipCmd(t, "-n", tp.vm, "addr", "add", "192.168.77.2/24", "dev", "eth0")
	ipCmd(t, "-n", tp.vm, "link", "set", "eth0", "up")
	ipCmd(t, "-n", tp.vm, "route", "add", "default", "via", "192.168.77.254", "dev", "eth0")

	// The pod as a CNI plugin leaves it: a veth with the host end (the
	// node's side, as a bridge or ptp plugin would have it) holding the
	// gateway address, a default route via it, a pinned gateway MAC.
	ipCmd(t, "-n", tp.node, "link", "add", "hv0", "address", gwMAC, "type", "veth", "peer", "name", "eth0", "netns", tp.pod)
	ipCmd(t, "-n", tp.node, "addr", "add", "10.244.1.1/24", "dev", "hv0")
	ipCmd(t, "-n", tp.node, "link", "set", "hv0", "up")
	ipCmd(t, "-n", tp.pod, "link", "set", "eth0", "address", podMAC, "mtu", "1400")
	ipCmd(t, "-n", tp.pod, "addr", "add", "10.244.1.5/24", "dev", "eth0")
	ipCmd(t, "-n", tp.pod, "link", "set", "eth0", "up")
	ipCmd(t, "-n", tp.pod, "route", "add", "default", "via", "10.244.1.1", "dev", "eth0")
	ipCmd(t, "-n", tp.pod, "route", "add", "10.96.0.0/12", "via", "10.244.1.1", "dev", "eth0", "proto", "static")
	ipCmd(t, "-n", tp.pod, "route", "add", "10.200.0.0/16", "via", "10.244.1.1", "dev", "eth0", "proto", "bird") // not the pod's
	ipCmd(t, "-n", tp.pod, "neigh", "add", "10.244.1.1", "lladdr", gwMAC, "dev", "eth0", "nud", "permanent")
	ipCmd(t, "-n", tp.pod, "neigh", "add", "10.244.1.9", "lladdr", "02:00:00:00:00:09", "dev", "eth0", "nud", "reachable")
	return tp
}

// fakeIPTables is iptables' raw table in memory, for the commands the
// package runs.
type fakeIPTables struct {
	mu     sync.Mutex
	chains map[string][][]string
}

func newFakeIPTables() *fakeIPTables {
	return &fakeIPTables{chains: map[string][][]string{"OUTPUT": nil, "PREROUTING": nil}}
}

func quoteArgs(args []string) string {
	var b []string
	for _, a := range args {
		if strings.Contains(a, " ") {
			a = strconv.Quote(a)
		}
		b = append(b, a)
	}
	return strings.Join(b, " ")
}

func (f *fakeIPTables) run(name string, args ...string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(args) < 4 || args[0] != "-w" || args[1] != "-t" || args[2] != "raw" {
		return nil, fmt.Errorf("unexpected iptables %v", args)
	}
	args = args[3:]
	op, chain, spec := args[0], args[1], args[2:]
	rules, ok := f.chains[chain]
	fail := func(msg string) ([]byte, error) { return []byte(msg), fmt.Errorf("exit status 1") }
	if !ok && op != "-N" {
		return fail("No chain/target/match by that name.")
	}
	find := func() int {
		return slices.IndexFunc(rules, func(r []string) bool { return slices.Equal(r, spec) })
	}
	switch op {
	case "-S":
		var b bytes.Buffer
		fmt.Fprintf(&b, "-N %s\n", chain)
		for _, r := range rules {
			fmt.Fprintf(&b, "-A %s %s\n", chain, quoteArgs(r))
		}
		return b.Bytes(), nil
	case "-N":
		if ok {
			return fail("Chain already exists.")
		}
		f.chains[chain] = nil
	case "-C":
		if find() < 0 {
			return fail("Bad rule")
		}
	case "-A":
		f.chains[chain] = append(rules, spec)
	case "-D":
		i := find()
		if len(spec) == 1 {
			k, err := strconv.Atoi(spec[0])
			if err == nil {
				i = k - 1
			}
		}
		if i < 0 || i >= len(rules) {
			return fail("Bad rule")
		}
		f.chains[chain] = slices.Delete(rules, i, i+1)
	case "-X":
		if len(rules) > 0 {
			return fail("Directory not empty")
		}
		for _, r := range f.chains {
			if slices.ContainsFunc(r, func(x []string) bool { return slices.Equal(x, []string{"-j", chain}) }) {
				return fail("Too many links")
			}
		}
		delete(f.chains, chain)
	default:
		return fail("unknown op " + op)
	}
	return nil, nil
}

func (f *fakeIPTables) dump() map[string][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]string{}
	for c, rules := range f.chains {
		for _, r := range rules {
			out[c] = append(out[c], quoteArgs(r))
		}
	}
	return out
}

func networkOn(t *testing.T, tp *topology, cfg Config) (*Network, *fakeIPTables) {
	t.Helper()
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.hostNetns = tp.nodePath
	n.log = slog.New(slog.NewTextHandler(tWriter{t}, nil))
	ipt := newFakeIPTables()
	n.iptables, n.run = "iptables", ipt.run
	return n, ipt
}

// tWriter sends the package's log to the test's.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func defaultConfig() Config {
	return Config{TunnelType: TunnelVXLAN, VXLANPort: DefaultVXLANPort, VXLANMinID: DefaultVXLANMinID,
		PodSubnetCIDRs: []netip.Prefix{netip.MustParsePrefix("10.128.0.0/14")}}
}

func TestInspect(t *testing.T) {
	tp := newTopology(t)
	n, _ := networkOn(t, tp, defaultConfig())
	pn, err := n.Inspect(tp.podPath)
	if err != nil {
		t.Fatal(err)
	}
	gw := netip.MustParseAddr("10.244.1.1")
	want := &userdata.PodNetwork{
		PodIP:         netip.MustParsePrefix("10.244.1.5/24"),
		PodHwAddr:     podMAC,
		InterfaceName: "eth0",
		WorkerNodeIP:  netip.MustParsePrefix("192.168.77.1/24"),
		TunnelType:    "vxlan",
		Routes: []userdata.Route{
			{Dst: netip.MustParsePrefix("0.0.0.0/0"), GW: gw, Dev: "eth0", Protocol: userdata.RouteProtocolBoot},
			{Dst: netip.MustParsePrefix("10.96.0.0/12"), GW: gw, Dev: "eth0", Protocol: userdata.RouteProtocolStatic},
			{Dst: netip.MustParsePrefix("10.244.1.0/24"), Dev: "eth0", Protocol: userdata.RouteProtocolKernel, Scope: userdata.RouteScopeLink},
			{Dst: netip.MustParsePrefix("10.128.0.0/14"), GW: gw, Dev: "eth0"},
		},
		Neighbors: []userdata.Neighbor{{IP: gw, HardwareAddr: gwMAC, Dev: "eth0", State: userdata.NeighborStatePermanent}},
		MTU:       1400,
		Index:     0,
		VXLANPort: 4789,
		VXLANID:   555000,
	}
	if !reflect.DeepEqual(pn, want) {
		t.Errorf("Inspect:\n got %+v\nwant %+v", pn, want)
	}
	if _, err := json.Marshal(pn); err != nil {
		t.Errorf("encoding: %v", err)
	}

	// The next pod gets the next id; a failed inspection takes none.
	if _, err := n.Inspect(filepath.Join("/run/netns", "ppn-no-such-netns")); err == nil {
		t.Error("inspected a missing namespace")
	}
	pn2, err := n.Inspect(tp.podPath)
	if err != nil {
		t.Fatal(err)
	}
	if pn2.Index != 1 || pn2.VXLANID != 555001 {
		t.Errorf("second pod: index %d id %d", pn2.Index, pn2.VXLANID)
	}

	// Naming another node interface makes the tunnel dedicated, to that
	// interface's address.
	ipCmd(t, "-n", tp.node, "link", "add", "dedicated0", "type", "veth", "peer", "name", "dedicated1")
	ipCmd(t, "-n", tp.node, "addr", "add", "192.168.88.1/24", "dev", "dedicated0")
	cfg := defaultConfig()
	cfg.HostInterface = "dedicated0"
	cfg.ExternalNetViaPodVM = true
	nd, _ := networkOn(t, tp, cfg)
	pnd, err := nd.Inspect(tp.podPath)
	if err != nil {
		t.Fatal(err)
	}
	if !pnd.Dedicated || pnd.WorkerNodeIP != netip.MustParsePrefix("192.168.88.1/24") || !pnd.ExternalNetViaPodVM {
		t.Errorf("dedicated: %+v", pnd)
	}
}

func TestInspectErrors(t *testing.T) {
	tp := newTopology(t)
	n, _ := networkOn(t, tp, defaultConfig())
	ipCmd(t, "-n", tp.pod, "addr", "add", "10.244.1.6/24", "dev", "eth0")
	if _, err := n.Inspect(tp.podPath); err == nil || !strings.Contains(err.Error(), "more than one IPv4 address on eth0") {
		t.Errorf("two addresses: %v", err)
	}
	ipCmd(t, "-n", tp.pod, "route", "del", "default")
	if _, err := n.Inspect(tp.podPath); err == nil || !strings.Contains(err.Error(), "no IPv4 default route") {
		t.Errorf("no default route: %v", err)
	}
	if idx, _, _ := n.allocate(); idx != 0 {
		t.Errorf("failed inspections took ids: next index %d", idx)
	}
}

// podState is what the tunnel left in the pod's namespace.
type podState struct {
	vxlan              *netlink.Vxlan
	eth0Redir, vxRedir []int // mirred redirect targets (ifindex) on each
	eth0Ingress        bool
}

func readPodState(t *testing.T, path string) podState {
	t.Helper()
	h, err := openNetns(path)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var st podState
	redirects := func(l netlink.Link) []int {
		fs, err := h.FilterList(l, netlink.MakeHandle(0xffff, 0))
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for _, f := range fs {
			u, ok := f.(*netlink.U32)
			if !ok {
				continue
			}
			for _, a := range u.Actions {
				if m, ok := a.(*netlink.MirredAction); ok && m.MirredAction == netlink.TCA_EGRESS_REDIR {
					out = append(out, m.Ifindex)
				}
			}
		}
		return out
	}
	eth0, err := h.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	st.eth0Redir = redirects(eth0)
	qs, err := h.QdiscList(eth0)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if _, ok := q.(*netlink.Ingress); ok {
			st.eth0Ingress = true
		}
	}
	if l, err := h.LinkByName("vxlan1"); err == nil {
		st.vxlan = l.(*netlink.Vxlan)
		st.vxRedir = redirects(l)
	}
	return st
}

func nodeLinks(t *testing.T, tp *topology) []string {
	t.Helper()
	h, err := openNetns(tp.nodePath)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ls, err := h.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range ls {
		names = append(names, l.Attrs().Name)
	}
	slices.Sort(names)
	return names
}

func TestSetupTeardown(t *testing.T) {
	tp := newTopology(t)
	n, ipt := networkOn(t, tp, defaultConfig())
	pn, err := n.Inspect(tp.podPath)
	if err != nil {
		t.Fatal(err)
	}
	linksBefore := nodeLinks(t, tp)
	vmIP := netip.MustParseAddr("192.168.77.2")
	for range 2 { // a second Setup replaces the first's
		if err := n.Setup(tp.podPath, []netip.Addr{vmIP}, pn); err != nil {
			t.Fatal(err)
		}
	}
	st := readPodState(t, tp.podPath)
	if st.vxlan == nil {
		t.Fatal("no vxlan1 in the pod's namespace")
	}
	if st.vxlan.VxlanId != pn.VXLANID || st.vxlan.Port != 4789 || !st.vxlan.Group.Equal(net.ParseIP("192.168.77.2")) || st.vxlan.Learning {
		t.Errorf("vxlan1: id %d port %d remote %s learning %v", st.vxlan.VxlanId, st.vxlan.Port, st.vxlan.Group, st.vxlan.Learning)
	}
	if st.vxlan.Attrs().Flags&net.FlagUp == 0 {
		t.Error("vxlan1 is down")
	}
	h, _ := openNetns(tp.podPath)
	eth0, _ := h.LinkByName("eth0")
	h.Close()
	if !slices.Equal(st.eth0Redir, []int{st.vxlan.Attrs().Index}) || !slices.Equal(st.vxRedir, []int{eth0.Attrs().Index}) {
		t.Errorf("redirects: eth0 → %v, vxlan1 → %v (eth0 %d, vxlan1 %d)", st.eth0Redir, st.vxRedir, eth0.Attrs().Index, st.vxlan.Attrs().Index)
	}
	if got := nodeLinks(t, tp); !slices.Equal(got, linksBefore) {
		t.Errorf("Setup left devices on the node: %v, before %v", got, linksBefore)
	}
	comment := fmt.Sprintf(`--comment "peerpod [vni:%d]"`, pn.VXLANID)
	wantRules := map[string][]string{
		"OUTPUT":             {"-j peerpod-OUTPUT"},
		"PREROUTING":         {"-j peerpod-PREROUTING"},
		"peerpod-OUTPUT":     {"-m comment " + comment + " -d 192.168.77.2 -p udp -m udp --dport 4789 -j NOTRACK"},
		"peerpod-PREROUTING": {"-m comment " + comment + " -s 192.168.77.2 -p udp -m udp --dport 4789 -j NOTRACK"},
	}
	if got := ipt.dump(); !reflect.DeepEqual(got, wantRules) {
		t.Errorf("iptables after Setup:\n got %q\nwant %q", got, wantRules)
	}

	// A dedicated tunnel goes to the VM's second address, and needs one.
	pnd := *pn
	pnd.Dedicated = true
	if err := n.Setup(tp.podPath, []netip.Addr{vmIP}, &pnd); err == nil || !strings.Contains(err.Error(), "no second address") {
		t.Errorf("dedicated without a second address: %v", err)
	}
	// Setup with a bad pod network says everything wrong at once.
	if err := n.Setup(tp.podPath, []netip.Addr{vmIP}, &userdata.PodNetwork{TunnelType: "gre"}); err == nil ||
		!strings.Contains(err.Error(), `tunnel type "gre"`) || !strings.Contains(err.Error(), "VXLAN id 0") || !strings.Contains(err.Error(), "no pod interface") {
		t.Errorf("bad pod network: %v", err)
	}

	for i := range 2 { // idempotent
		if err := n.Teardown(tp.podPath, pn); err != nil {
			t.Fatalf("Teardown #%d: %v", i+1, err)
		}
	}
	st = readPodState(t, tp.podPath)
	if st.vxlan != nil || len(st.eth0Redir) > 0 || st.eth0Ingress {
		t.Errorf("after Teardown: %+v", st)
	}
	if got := ipt.dump(); len(got) != 0 {
		t.Errorf("iptables after Teardown: %q", got)
	}

	// Set up again, then the pod's namespace goes (the pod was deleted):
	// Teardown still removes the node's rules, and succeeds.
	if err := n.Setup(tp.podPath, []netip.Addr{vmIP}, pn); err != nil {
		t.Fatal(err)
	}
	ipCmd(t, "netns", "del", tp.pod)
	for i := range 2 {
		if err := n.Teardown(tp.podPath, pn); err != nil {
			t.Fatalf("Teardown #%d after the namespace is gone: %v", i+1, err)
		}
	}
	if got := ipt.dump(); len(got) != 0 {
		t.Errorf("iptables after Teardown: %q", got)
	}
	// An empty file where the namespace was mounted is gone too.
	stale := filepath.Join(t.TempDir(), "netns")
	if err := os.WriteFile(stale, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := n.Teardown(stale, pn); err != nil {
		t.Errorf("Teardown of an unmounted namespace: %v", err)
	}
	if err := n.Teardown(tp.podPath, nil); err != nil {
		t.Errorf("Teardown of no tunnel: %v", err)
	}
}

// TestTeardownKeepsOthers: one pod's teardown leaves another's rules, and
// filters on eth0 that are not redirects.
func TestTeardownKeepsOthers(t *testing.T) {
	tp := newTopology(t)
	n, ipt := networkOn(t, tp, defaultConfig())
	vmIP := netip.MustParseAddr("192.168.77.2")
	other := &userdata.PodNetwork{TunnelType: "vxlan", VXLANID: 555099, VXLANPort: 4789, InterfaceName: "eth0"}
	if err := n.iptablesSetup(netip.MustParseAddr("192.168.77.99"), 4789, other.VXLANID); err != nil {
		t.Fatal(err)
	}
	pn, err := n.Inspect(tp.podPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Setup(tp.podPath, []netip.Addr{vmIP}, pn); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("tc", "-n", tp.pod, "filter", "add", "dev", "eth0", "parent", "ffff:", "protocol", "ip", "prio", "7", "u32", "match", "u32", "0", "0", "classid", "1:1").CombinedOutput(); err != nil {
		t.Skipf("tc: %v: %s", err, out)
	}
	if err := n.Teardown(tp.podPath, pn); err != nil {
		t.Fatal(err)
	}
	st := readPodState(t, tp.podPath)
	if st.vxlan != nil || len(st.eth0Redir) > 0 || !st.eth0Ingress {
		t.Errorf("after Teardown: %+v (the ingress qdisc must stay for the classid filter)", st)
	}
	got := ipt.dump()
	if len(got["peerpod-OUTPUT"]) != 1 || !strings.Contains(got["peerpod-OUTPUT"][0], "vni:555099") || len(got["OUTPUT"]) != 1 {
		t.Errorf("the other pod's rules: %q", got)
	}
}
