package podnetwork

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/cocogen/cocogen/internal/peerpod/userdata"
)

// podVXLANInterface is the name of the node's end of the tunnel in the
// pod's namespace (cloud-api-adaptor v0.22.0
// src/cloud-api-adaptor/pkg/podnetwork/tunneler/vxlan/workernode.go
// secondPodInterface).
const podVXLANInterface = "vxlan1"

// errNetnsGone marks a namespace whose path no longer holds one.
var errNetnsGone = errors.New("network namespace is gone")

// nsHandle is a netlink handle bound to one network namespace: its sockets
// are opened in it, so calls through it need no setns of the calling
// thread.
type nsHandle struct {
	*netlink.Handle
	ns   netns.NsHandle
	path string
}

func (h *nsHandle) Close() {
	h.Handle.Close()
	h.ns.Close()
}

// openNetns opens the namespace at path. A path that does not exist, or
// whose bind mount is gone (an empty file left in /run/netns), is
// errNetnsGone.
func openNetns(path string) (*nsHandle, error) {
	ns, err := netns.GetFromPath(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("opening network namespace %s: %w", path, errNetnsGone)
		}
		return nil, fmt.Errorf("opening network namespace %s: %w", path, err)
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(ns), &st); err != nil {
		ns.Close()
		return nil, fmt.Errorf("opening network namespace %s: %w", path, err)
	}
	if st.Type != unix.NSFS_MAGIC && st.Type != unix.PROC_SUPER_MAGIC {
		ns.Close()
		return nil, fmt.Errorf("opening network namespace %s: %w", path, errNetnsGone)
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("opening netlink in network namespace %s: %w", path, err)
	}
	return &nsHandle{Handle: h, ns: ns, path: path}, nil
}

// Inspect reads the pod's network namespace at netnsPath and the node's,
// and returns the pod-network section of the VM's apf.json, with a VXLAN
// id reserved for it (Release frees it). It changes nothing.
//
// Field by field as cloud-api-adaptor v0.22.0
// src/cloud-api-adaptor/pkg/podnetwork/workernode.go Inspect and
// tunneler/vxlan/workernode.go Configure:
//   - WorkerNodeIP is the first IPv4 address of HostInterface, or of the
//     node's primary interface (findPrimaryInterface), and Dedicated says
//     HostInterface is another one;
//   - the pod's interface is its namespace's primary interface, PodIP its
//     only IPv4 address, PodHwAddr and MTU that interface's;
//   - Routes are the namespace's IPv4 unicast routes of the main table
//     set by static, boot, dhcp or kernel, in the reference's order, then
//     one per PodSubnetCIDRs via the pod's gateway;
//   - Neighbors are the permanent IPv4 neighbours on the pod's interface.
//
// Differences: the id is reserved only when the inspection succeeds (the
// reference takes an index first, and loses it on an error); a node
// interface without an IPv4 address is an error (the reference indexes an
// empty list); a default route's destination is 0.0.0.0/0, where the
// reference, through netlink v1.3.1's 16-byte zero address, writes the
// equivalent ::ffff:0.0.0.0/0 (the VM adds both as the same IPv4 route).
func (n *Network) Inspect(netnsPath string) (*userdata.PodNetwork, error) {
	host, err := openNetns(n.hostNetns)
	if err != nil {
		return nil, fmt.Errorf("inspecting the node's network: %w", err)
	}
	defer host.Close()

	hostPrimary, _, err := findPrimaryInterface(host)
	if err != nil {
		return nil, fmt.Errorf("inspecting the node's network: %w", err)
	}
	pn := &userdata.PodNetwork{TunnelType: n.cfg.TunnelType, ExternalNetViaPodVM: n.cfg.ExternalNetViaPodVM}
	hostIf := n.cfg.HostInterface
	if hostIf == "" {
		hostIf = hostPrimary
	} else if hostIf != hostPrimary {
		pn.Dedicated = true
	}
	pn.WorkerNodeIP, err = firstIPv4(host, hostIf)
	if err != nil {
		return nil, fmt.Errorf("inspecting the node's network: %w", err)
	}

	pod, err := openNetns(netnsPath)
	if err != nil {
		return nil, fmt.Errorf("inspecting the pod's network: %w", err)
	}
	defer pod.Close()
	if err := inspectPod(pod, pn, n.cfg.PodSubnetCIDRs); err != nil {
		return nil, fmt.Errorf("inspecting the pod's network in %s: %w", netnsPath, err)
	}

	pn.Index, pn.VXLANID, err = n.allocate()
	if err != nil {
		return nil, err
	}
	pn.VXLANPort = n.cfg.VXLANPort
	return pn, nil
}

func inspectPod(pod *nsHandle, pn *userdata.PodNetwork, subnets []netip.Prefix) error {
	routes, err := listRoutes(pod)
	if err != nil {
		return err
	}
	podIf, gw, err := findPrimaryInterface(pod)
	if err != nil {
		return err
	}
	link, err := pod.LinkByName(podIf)
	if err != nil {
		return fmt.Errorf("finding pod interface %s: %w", podIf, err)
	}
	addrs, err := pod.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("listing addresses of %s: %w", podIf, err)
	}
	// Exactly one IPv4 address: the VM's end takes it over
	// (workernode.go getPodIP).
	var ips []netip.Prefix
	for _, a := range addrs {
		if p := toPrefix(a.IPNet); p.IsValid() && p.Addr().Is4() {
			ips = append(ips, p)
		}
	}
	switch len(ips) {
	case 0:
		return fmt.Errorf("no IPv4 address on %s", podIf)
	case 1:
	default:
		return fmt.Errorf("more than one IPv4 address on %s: %v", podIf, ips)
	}
	pn.PodIP = ips[0]
	pn.PodHwAddr = link.Attrs().HardwareAddr.String()
	pn.InterfaceName = podIf
	pn.MTU = link.Attrs().MTU

	for _, r := range routes {
		pn.Routes = append(pn.Routes, userdata.Route{Dst: r.dst, GW: r.gw, Dev: r.dev,
			Protocol: userdata.RouteProtocol(r.protocol), Scope: userdata.RouteScope(r.scope)})
	}
	for _, cidr := range subnets {
		pn.Routes = append(pn.Routes, userdata.Route{Dst: cidr, GW: gw, Dev: podIf})
	}

	// Permanent entries only, matched exactly as netlink's
	// NeighListExecute does for the reference (netops.go NeighborList):
	// what the CNI plugin pinned (e.g. the gateway's MAC) must be pinned
	// in the VM too, where no one answers ARP for it.
	neighs, err := pod.NeighList(link.Attrs().Index, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("listing neighbours on %s: %w", podIf, err)
	}
	for _, nb := range neighs {
		if nb.State != netlink.NUD_PERMANENT {
			continue
		}
		ip, ok := netip.AddrFromSlice(nb.IP)
		if !ok {
			continue
		}
		pn.Neighbors = append(pn.Neighbors, userdata.Neighbor{IP: ip.Unmap(), HardwareAddr: nb.HardwareAddr.String(),
			Dev: podIf, State: userdata.NeighborStatePermanent})
	}
	return nil
}

// route is a route as the reference's netops.go Route sees it.
type route struct {
	dst      netip.Prefix
	gw       netip.Addr
	dev      string
	priority int
	table    int
	protocol int
	scope    int
}

// listRoutes lists the IPv4 unicast routes of the main table whose
// protocol is static, boot, dhcp or kernel — one filter each, in that
// order, then stable-sorted by destination address, prefix length and
// metric — as the reference's netops.go RouteList does without filters.
// Routes other daemons add (bird, bgp, ...) are not the pod's.
func listRoutes(h *nsHandle) ([]route, error) {
	var routes []route
	for _, proto := range []netlink.RouteProtocol{unix.RTPROT_STATIC, unix.RTPROT_BOOT, unix.RTPROT_DHCP, unix.RTPROT_KERNEL} {
		filter := &netlink.Route{Table: unix.RT_TABLE_MAIN, Type: unix.RTN_UNICAST, Protocol: proto}
		list, err := h.RouteListFiltered(netlink.FAMILY_V4, filter, netlink.RT_FILTER_TABLE|netlink.RT_FILTER_TYPE|netlink.RT_FILTER_PROTOCOL)
		if err != nil {
			return nil, fmt.Errorf("listing routes in %s: %w", h.path, err)
		}
		for _, r := range list {
			rr, err := toRoute(h, r)
			if err != nil {
				return nil, err
			}
			routes = append(routes, rr)
		}
	}
	sortRoutes(routes)
	return routes, nil
}

func toRoute(h *nsHandle, r netlink.Route) (route, error) {
	var dev string
	if r.LinkIndex > 0 {
		l, err := h.LinkByIndex(r.LinkIndex)
		if err != nil {
			return route{}, fmt.Errorf("finding interface %d of a route: %w", r.LinkIndex, err)
		}
		dev = l.Attrs().Name
	}
	gw, _ := netip.AddrFromSlice(r.Gw)
	return route{dst: toPrefix(r.Dst), gw: gw.Unmap(), dev: dev, priority: r.Priority, table: r.Table,
		protocol: int(r.Protocol), scope: int(r.Scope)}, nil
}

// sortRoutes orders as the reference's netops.go Route.compare: table,
// destination address bytes, prefix length, metric.
func sortRoutes(routes []route) {
	slices.SortStableFunc(routes, func(a, b route) int {
		if a.table != b.table {
			return a.table - b.table
		}
		if c := bytes.Compare(a.dst.Addr().AsSlice(), b.dst.Addr().AsSlice()); c != 0 {
			return c
		}
		if a.dst.Bits() != b.dst.Bits() {
			return a.dst.Bits() - b.dst.Bits()
		}
		return a.priority - b.priority
	})
}

// findPrimaryInterface returns the interface of the namespace's IPv4
// default route and its gateway, chosen as cloud-api-adaptor v0.22.0
// src/cloud-api-adaptor/pkg/podnetwork/common.go findPrimaryInterface
// chooses among several: the lowest metric first, replaced only by one on
// an interface of the same name prefix with a lower number (eth0 over
// eth1), the way the VM picks its own so both ends agree.
func findPrimaryInterface(h *nsHandle) (string, netip.Addr, error) {
	list, err := h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return "", netip.Addr{}, fmt.Errorf("listing routes in %s: %w", h.path, err)
	}
	var defaults []route
	for _, r := range list {
		if r.LinkIndex <= 0 || (r.Dst != nil && !isDefault(r.Dst)) {
			continue
		}
		rr, err := toRoute(h, r)
		if err != nil {
			return "", netip.Addr{}, err
		}
		defaults = append(defaults, rr)
	}
	sortRoutes(defaults)
	var (
		dev, prefix string
		num         = math.MaxInt
		gw          netip.Addr
	)
	for _, r := range defaults {
		p, k := splitInterfaceName(r.dev)
		if dev == "" || (p == prefix && k < num) {
			dev, prefix, num, gw = r.dev, p, k, r.gw
		}
	}
	if dev == "" {
		return "", netip.Addr{}, fmt.Errorf("finding the primary interface in %s: no IPv4 default route", h.path)
	}
	return dev, gw, nil
}

func isDefault(n *net.IPNet) bool {
	ones, _ := n.Mask.Size()
	return ones == 0
}

// splitInterfaceName splits "eth10" into "eth" and 10; a name without a
// number, or with a number that does not parse, sorts last
// (common.go extractInterfaceNumber).
func splitInterfaceName(name string) (string, int) {
	i := strings.IndexFunc(name, unicode.IsDigit)
	if i < 0 {
		return name, math.MaxInt
	}
	k, err := strconv.Atoi(name[i:])
	if err != nil {
		k = math.MaxInt
	}
	return name[:i], k
}

// firstIPv4 returns the first IPv4 address of the interface.
func firstIPv4(h *nsHandle, name string) (netip.Prefix, error) {
	link, err := h.LinkByName(name)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("finding interface %s: %w", name, err)
	}
	addrs, err := h.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("listing addresses of %s: %w", name, err)
	}
	for _, a := range addrs {
		if p := toPrefix(a.IPNet); p.IsValid() && p.Addr().Is4() {
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no IPv4 address on %s", name)
}

// toPrefix converts, unmapping 16-byte IPv4 addresses; nil is the
// default route 0.0.0.0/0 (netops.go toPrefix).
func toPrefix(n *net.IPNet) netip.Prefix {
	if n == nil {
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	}
	addr, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(addr.Unmap(), ones)
}

// Setup makes the node's end of pn's tunnel toward the VM: vmIPs are the
// VM's addresses, the first its primary one, the second the one on the
// dedicated network when pn.Dedicated (tunneler/vxlan/workernode.go
// Setup at v0.22.0).
//
// As the reference: conntrack is disabled for the tunnel's UDP packets
// (iptables, see iptables_linux.go); a VXLAN device with pn's id and port
// and the VM as remote, whose socket is in the node's namespace, ends up
// in the pod's namespace as vxlan1, up; and an ingress tc u32 filter on
// each of the pod's interface and vxlan1 redirects every frame to the
// other (mirred egress redirect).
//
// Differences: the device is created directly in the pod's namespace
// under its final name (IFLA_NET_NS_FD; the kernel still binds its socket
// in the namespace of the request, the node's), where the reference
// creates ppvxlan1..5 in the node's namespace and moves and renames it —
// at most five setups at once, and a crash between the steps leaves a
// device behind on the node. What an earlier, interrupted Setup left in
// the pod's namespace is removed first, and a failed Setup removes what it
// made, so Setup can be retried.
func (n *Network) Setup(netnsPath string, vmIPs []netip.Addr, pn *userdata.PodNetwork) error {
	if pn == nil {
		return errors.New("setting up the pod network: no pod network")
	}
	if err := checkPodNetwork(pn); err != nil {
		return fmt.Errorf("setting up the pod network: %w", err)
	}
	var dst netip.Addr
	switch {
	case len(vmIPs) == 0:
		return errors.New("setting up the pod network: the VM has no address")
	case pn.Dedicated && len(vmIPs) < 2:
		return errors.New("setting up the pod network: the tunnel is dedicated but the VM has no second address")
	case pn.Dedicated:
		dst = vmIPs[1]
	default:
		dst = vmIPs[0]
	}
	if !dst.IsValid() {
		return errors.New("setting up the pod network: invalid VM address")
	}
	dst = dst.Unmap()

	host, err := openNetns(n.hostNetns)
	if err != nil {
		return fmt.Errorf("setting up the pod network: %w", err)
	}
	defer host.Close()
	pod, err := openNetns(netnsPath)
	if err != nil {
		return fmt.Errorf("setting up the pod network: %w", err)
	}
	defer pod.Close()

	if err := removePodSide(pod, pn.InterfaceName); err != nil {
		return fmt.Errorf("setting up the pod network: removing an earlier attempt: %w", err)
	}
	if err := n.iptablesSetup(dst, pn.VXLANPort, pn.VXLANID); err != nil {
		return fmt.Errorf("setting up the pod network: %w", err)
	}
	if err := setupPodSide(host, pod, dst, pn); err != nil {
		err = fmt.Errorf("setting up the pod network in %s: %w", netnsPath, err)
		if e := removePodSide(pod, pn.InterfaceName); e != nil {
			err = errors.Join(err, fmt.Errorf("undoing: %w", e))
		}
		if e := n.iptablesTeardown(pn.VXLANID); e != nil {
			err = errors.Join(err, fmt.Errorf("undoing: %w", e))
		}
		return err
	}
	n.log.Info("pod network set up", "netns", netnsPath, "vxlan_id", pn.VXLANID, "remote", dst, "port", pn.VXLANPort)
	return nil
}

func setupPodSide(host, pod *nsHandle, dst netip.Addr, pn *userdata.PodNetwork) error {
	attrs := netlink.NewLinkAttrs()
	attrs.Name = podVXLANInterface
	attrs.Namespace = netlink.NsFd(pod.ns)
	// Group set to a unicast address is the remote (IFLA_VXLAN_GROUP), as
	// the reference's netops.go VXLAN; learning off, netlink's default.
	vx := &netlink.Vxlan{LinkAttrs: attrs, VxlanId: pn.VXLANID, Group: net.IP(dst.AsSlice()), Port: pn.VXLANPort}
	if err := host.LinkAdd(vx); err != nil {
		return fmt.Errorf("creating VXLAN device %s (id %d, remote %s:%d): %w", podVXLANInterface, pn.VXLANID, dst, pn.VXLANPort, err)
	}
	link, err := pod.LinkByName(podVXLANInterface)
	if err != nil {
		return fmt.Errorf("finding %s: %w", podVXLANInterface, err)
	}
	if err := pod.LinkSetUp(link); err != nil {
		return fmt.Errorf("bringing %s up: %w", podVXLANInterface, err)
	}
	if err := addRedirect(pod, pn.InterfaceName, podVXLANInterface); err != nil {
		return err
	}
	return addRedirect(pod, podVXLANInterface, pn.InterfaceName)
}

// addRedirect sends every frame arriving on src out of dst: an ingress
// qdisc on src with a match-all u32 filter (any protocol) whose action is
// a mirred egress redirect to dst, stolen — netops.go RedirectAdd at
// v0.22.0.
func addRedirect(h *nsHandle, src, dst string) error {
	s, err := h.LinkByName(src)
	if err != nil {
		return fmt.Errorf("finding %s: %w", src, err)
	}
	d, err := h.LinkByName(dst)
	if err != nil {
		return fmt.Errorf("finding %s: %w", dst, err)
	}
	qdisc := &netlink.Ingress{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: s.Attrs().Index, Parent: netlink.HANDLE_INGRESS}}
	if err := h.QdiscAdd(qdisc); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("adding an ingress qdisc to %s: %w", src, err)
	}
	filter := &netlink.U32{
		FilterAttrs: netlink.FilterAttrs{LinkIndex: s.Attrs().Index, Parent: netlink.MakeHandle(0xffff, 0), Protocol: unix.ETH_P_ALL},
		Actions: []netlink.Action{&netlink.MirredAction{
			ActionAttrs:  netlink.ActionAttrs{Action: netlink.TC_ACT_STOLEN},
			MirredAction: netlink.TCA_EGRESS_REDIR,
			Ifindex:      d.Attrs().Index,
		}},
	}
	if err := h.FilterAdd(filter); err != nil {
		return fmt.Errorf("adding a tc redirect from %s to %s: %w", src, dst, err)
	}
	return nil
}

// Teardown removes the node's end of pn's tunnel; it does not release
// pn's VXLAN id (Release does). It is idempotent: missing devices and
// filters are not errors, and neither is a namespace that is gone —
// the kernel deleted the VXLAN device and the filters with it. The
// iptables rules live in the node's namespace and are removed either way,
// by VXLAN id, so Teardown needs neither the VM's address nor the device
// (the reference reads them from the device, and fails without it:
// tunneler/vxlan/workernode.go Teardown at v0.22.0). A nil pn is a pod
// without a tunnel.
func (n *Network) Teardown(netnsPath string, pn *userdata.PodNetwork) error {
	if pn == nil {
		return nil
	}
	var errs []error
	pod, err := openNetns(netnsPath)
	switch {
	case errors.Is(err, errNetnsGone):
	case err != nil:
		errs = append(errs, err)
	default:
		if err := removePodSide(pod, pn.InterfaceName); err != nil {
			errs = append(errs, err)
		}
		pod.Close()
	}
	if pn.VXLANID > 0 {
		if err := n.iptablesTeardown(pn.VXLANID); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tearing down the pod network in %s: %w", netnsPath, err)
	}
	n.log.Info("pod network torn down", "netns", netnsPath, "vxlan_id", pn.VXLANID)
	return nil
}

// removePodSide removes the redirect from the pod's interface and vxlan1.
// Only mirred redirect filters are removed from the pod's interface, and
// its ingress qdisc only when nothing else is left on it (the reference's
// netops.go RedirectDel removes every u32 filter and the qdisc). Deleting
// vxlan1 takes its own qdisc and filter with it. A vxlan1 that is not a
// VXLAN device is not ours, and an error.
func removePodSide(h *nsHandle, podIf string) error {
	var errs []error
	if podIf != "" {
		if err := removeRedirect(h, podIf); err != nil {
			errs = append(errs, err)
		}
	}
	link, err := h.LinkByName(podVXLANInterface)
	var notFound netlink.LinkNotFoundError
	switch {
	case errors.As(err, &notFound):
	case err != nil:
		errs = append(errs, fmt.Errorf("finding %s: %w", podVXLANInterface, err))
	case link.Type() != "vxlan":
		errs = append(errs, fmt.Errorf("%s is a %s device, not the tunnel's VXLAN", podVXLANInterface, link.Type()))
	default:
		if err := h.LinkDel(link); err != nil && !errors.Is(err, unix.ENODEV) {
			errs = append(errs, fmt.Errorf("deleting %s: %w", podVXLANInterface, err))
		}
	}
	return errors.Join(errs...)
}

func removeRedirect(h *nsHandle, name string) error {
	link, err := h.LinkByName(name)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("finding %s: %w", name, err)
	}
	ingress := netlink.MakeHandle(0xffff, 0)
	filters, err := h.FilterList(link, ingress)
	if err != nil {
		return fmt.Errorf("listing tc filters on %s: %w", name, err)
	}
	left := 0
	for _, f := range filters {
		if !isRedirect(f) {
			left++
			continue
		}
		if err := h.FilterDel(f); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("deleting a tc redirect on %s: %w", name, err)
		}
	}
	if left > 0 {
		return nil
	}
	qdiscs, err := h.QdiscList(link)
	if err != nil {
		return fmt.Errorf("listing qdiscs on %s: %w", name, err)
	}
	for _, q := range qdiscs {
		if _, ok := q.(*netlink.Ingress); !ok {
			continue
		}
		if err := h.QdiscDel(q); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("deleting the ingress qdisc on %s: %w", name, err)
		}
	}
	return nil
}

// isRedirect reports a u32 filter with a mirred egress redirect: what
// addRedirect makes.
func isRedirect(f netlink.Filter) bool {
	u, ok := f.(*netlink.U32)
	if !ok {
		return false
	}
	for _, a := range u.Actions {
		if m, ok := a.(*netlink.MirredAction); ok && m.MirredAction == netlink.TCA_EGRESS_REDIR {
			return true
		}
	}
	return false
}

// inNetns runs fn on a thread switched into the namespace at path, for
// what has no namespace handle (running iptables: a child process
// inherits its thread's namespace). The thread is locked throughout; if it
// cannot be switched back it stays locked, so the runtime retires it
// instead of handing a thread in the wrong namespace to other goroutines.
func inNetns(path string, fn func() error) error {
	if path == defaultHostNetns {
		return fn()
	}
	target, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("opening network namespace %s: %w", path, err)
	}
	defer target.Close()
	// fn runs on a goroutine of its own, locked to its thread: if the
	// thread cannot be brought back to its namespace, the goroutine ends
	// still locked and the Go runtime discards the thread, instead of
	// another goroutine later running in the pod's namespace.
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("opening the current network namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("entering network namespace %s: %w", path, err)
			return
		}
		err = fn()
		if e := netns.Set(orig); e != nil {
			errc <- errors.Join(err, fmt.Errorf("leaving network namespace %s: %w", path, e))
			return // still locked: the thread goes with the goroutine
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}
