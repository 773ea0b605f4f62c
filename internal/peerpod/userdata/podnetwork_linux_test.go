package userdata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The types below mirror cloud-api-adaptor v0.22.0
// src/cloud-api-adaptor/pkg/podnetwork/tunneler/tunneler.go (Config, Route,
// Neighbor) and the JSON of src/cloud-api-adaptor/pkg/util/netops/netops.go
// (RouteProtocol, RouteScope, NeighborState: a name, looked up in a table
// built from netlink's String methods), rebuilt here from netlink v1.3.1 as
// that release pins it, so that this test decodes what we write the way
// the pod VM does. Linux-only because netlink's names are.

type caaConfig struct {
	PodIP               netip.Prefix   `json:"podip"`
	PodHwAddr           string         `json:"pod-hw-addr"`
	InterfaceName       string         `json:"interface"`
	WorkerNodeIP        netip.Prefix   `json:"worker-node-ip"`
	TunnelType          string         `json:"tunnel-type"`
	Routes              []*caaRoute    `json:"routes"`
	Neighbors           []*caaNeighbor `json:"neighbors"`
	MTU                 int            `json:"mtu"`
	Index               int            `json:"index"`
	VXLANPort           int            `json:"vxlan-port,omitempty"`
	VXLANID             int            `json:"vxlan-id,omitempty"`
	Dedicated           bool           `json:"dedicated"`
	ExternalNetViaPodVM bool           `json:"external-net-via-pod-vm"`
}

type caaRoute struct {
	Dst      netip.Prefix     `json:"dst,omitempty"`
	GW       netip.Addr       `json:"gw,omitempty"`
	Dev      string           `json:"dev,omitempty"`
	Protocol caaRouteProtocol `json:"protocol,omitempty"`
	Scope    caaRouteScope    `json:"scope,omitempty"`
}

type caaNeighbor struct {
	IP           netip.Addr       `json:"ip,omitempty"`
	HardwareAddr string           `json:"hw-addr,omitempty"`
	Dev          string           `json:"dev,omitempty"`
	State        caaNeighborState `json:"state,omitempty"`
}

type caaRouteProtocol netlink.RouteProtocol

func (p caaRouteProtocol) MarshalJSON() ([]byte, error) {
	return json.Marshal(netlink.RouteProtocol(p).String())
}

func (p *caaRouteProtocol) UnmarshalJSON(data []byte) error {
	table := map[string]caaRouteProtocol{}
	for _, v := range []int{unix.RTPROT_STATIC, unix.RTPROT_BOOT, unix.RTPROT_DHCP, unix.RTPROT_KERNEL} {
		table[netlink.RouteProtocol(v).String()] = caaRouteProtocol(v)
	}
	return caaLookup("route protocol", data, table, p)
}

type caaRouteScope netlink.Scope

func (s caaRouteScope) MarshalJSON() ([]byte, error) {
	return json.Marshal(netlink.Scope(s).String())
}

func (s *caaRouteScope) UnmarshalJSON(data []byte) error {
	table := map[string]caaRouteScope{}
	for _, v := range []netlink.Scope{netlink.SCOPE_UNIVERSE, netlink.SCOPE_SITE, netlink.SCOPE_LINK, netlink.SCOPE_HOST, netlink.SCOPE_NOWHERE} {
		table[v.String()] = caaRouteScope(v)
	}
	return caaLookup("route scope", data, table, s)
}

type caaNeighborState uint16

var caaNeighborStates = map[caaNeighborState]string{
	netlink.NUD_NONE: "none", netlink.NUD_INCOMPLETE: "incomplete", netlink.NUD_REACHABLE: "reachable",
	netlink.NUD_STALE: "stale", netlink.NUD_DELAY: "delay", netlink.NUD_PROBE: "probe",
	netlink.NUD_FAILED: "failed", netlink.NUD_NOARP: "noarp", netlink.NUD_PERMANENT: "permanent",
}

func (s caaNeighborState) MarshalJSON() ([]byte, error) {
	n, ok := caaNeighborStates[s]
	if !ok {
		n = "unknown"
	}
	return json.Marshal(n)
}

func (s *caaNeighborState) UnmarshalJSON(data []byte) error {
	table := map[string]caaNeighborState{}
	for v, n := range caaNeighborStates {
		table[n] = v
	}
	return caaLookup("neighbor state", data, table, s)
}

func caaLookup[T any](what string, data []byte, table map[string]T, dst *T) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("invalid %s: %w", what, err)
	}
	v, ok := table[s]
	if !ok {
		return fmt.Errorf("unknown %s: %s", what, s)
	}
	*dst = v
	return nil
}

func fullPodNetwork() PodNetwork {
	return PodNetwork{
		PodIP:         netip.MustParsePrefix("10.244.1.5/24"),
		PodHwAddr:     "0a:58:0a:f4:01:05",
		InterfaceName: "eth0",
		WorkerNodeIP:  netip.MustParsePrefix("192.168.122.10/24"),
		TunnelType:    "vxlan",
		Routes: []Route{
			{Dst: netip.MustParsePrefix("0.0.0.0/0"), GW: netip.MustParseAddr("10.244.1.1"), Dev: "eth0", Protocol: RouteProtocolBoot},
			{Dst: netip.MustParsePrefix("10.244.1.0/24"), Dev: "eth0", Protocol: RouteProtocolKernel, Scope: RouteScopeLink},
			{Dst: netip.MustParsePrefix("10.96.0.0/12"), GW: netip.MustParseAddr("10.244.1.1"), Dev: "eth0", Protocol: RouteProtocolStatic, Scope: RouteScopeSite},
			{Dst: netip.MustParsePrefix("10.97.0.0/16"), Dev: "eth0", Protocol: RouteProtocolDHCP, Scope: RouteScopeHost},
			{Dst: netip.MustParsePrefix("10.98.0.0/16"), Dev: "eth0", Scope: RouteScopeNowhere},
			{Dst: netip.MustParsePrefix("10.128.0.0/14"), GW: netip.MustParseAddr("10.244.1.1"), Dev: "eth0"},
		},
		Neighbors: []Neighbor{
			{IP: netip.MustParseAddr("10.244.1.1"), HardwareAddr: "ee:ee:ee:ee:ee:ee", Dev: "eth0", State: NeighborStatePermanent},
			{IP: netip.MustParseAddr("10.244.1.2"), HardwareAddr: "ee:ee:ee:ee:ee:ef", Dev: "eth0", State: NeighborStateNoARP},
		},
		MTU:                 1450,
		Index:               3,
		VXLANPort:           4789,
		VXLANID:             555003,
		Dedicated:           true,
		ExternalNetViaPodVM: true,
	}
}

// TestPodNetworkDecodesAsTunnelerConfig encodes a PodNetwork with every
// field set and every protocol and scope used, and decodes it strictly the
// way the pod VM decodes tunneler.Config.
func TestPodNetworkDecodesAsTunnelerConfig(t *testing.T) {
	pn := fullPodNetwork()
	data, err := json.Marshal(pn)
	if err != nil {
		t.Fatal(err)
	}
	var c caaConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decoding as tunneler.Config: %v\n%s", err, data)
	}
	if c.PodIP != pn.PodIP || c.PodHwAddr != pn.PodHwAddr || c.InterfaceName != pn.InterfaceName ||
		c.WorkerNodeIP != pn.WorkerNodeIP || c.TunnelType != pn.TunnelType || c.MTU != pn.MTU ||
		c.Index != pn.Index || c.VXLANPort != pn.VXLANPort || c.VXLANID != pn.VXLANID ||
		c.Dedicated != pn.Dedicated || c.ExternalNetViaPodVM != pn.ExternalNetViaPodVM {
		t.Errorf("scalar fields differ:\n got %+v\nwant %+v", c, pn)
	}
	if len(c.Routes) != len(pn.Routes) {
		t.Fatalf("got %d routes, want %d", len(c.Routes), len(pn.Routes))
	}
	for i, r := range pn.Routes {
		g := c.Routes[i]
		if g.Dst != r.Dst || g.GW != r.GW || g.Dev != r.Dev || int(g.Protocol) != int(r.Protocol) || int(g.Scope) != int(r.Scope) {
			t.Errorf("routes[%d] = %+v, want %+v", i, *g, r)
		}
	}
	if len(c.Neighbors) != len(pn.Neighbors) {
		t.Fatalf("got %d neighbors, want %d", len(c.Neighbors), len(pn.Neighbors))
	}
	for i, n := range pn.Neighbors {
		g := c.Neighbors[i]
		if g.IP != n.IP || g.HardwareAddr != n.HardwareAddr || g.Dev != n.Dev || int(g.State) != int(n.State) {
			t.Errorf("neighbors[%d] = %+v, want %+v", i, *g, n)
		}
	}

	// And the other way: what tunneler.Config writes is byte for byte what
	// PodNetwork writes, so the reference's own output decodes here too.
	back, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, data) {
		t.Errorf("tunneler.Config encodes differently:\n got %s\nwant %s", back, data)
	}
	var again PodNetwork
	dec = json.NewDecoder(bytes.NewReader(back))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&again); err != nil {
		t.Fatal(err)
	}
}

// TestPodNetworkEmpty checks the zero values: empty routes and neighbours
// are null, a zero VXLAN port and id are left out, zero netip values are "".
func TestPodNetworkEmpty(t *testing.T) {
	data, err := json.Marshal(PodNetwork{})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"podip":"","pod-hw-addr":"","interface":"","worker-node-ip":"","tunnel-type":"","routes":null,"neighbors":null,"mtu":0,"index":0,"dedicated":false,"external-net-via-pod-vm":false}`
	if string(data) != want {
		t.Errorf("got  %s\nwant %s", data, want)
	}
	ref, err := json.Marshal(caaConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if string(ref) != want {
		t.Errorf("tunneler.Config mirror writes %s", ref)
	}
}

// TestPodNetworkRefusesWhatTheVMRefuses: a protocol the VM cannot decode
// fails on the node, and unknown names fail decoding as on the VM.
func TestPodNetworkRefusesWhatTheVMRefuses(t *testing.T) {
	pn := PodNetwork{Routes: []Route{{Protocol: 186 /* RTPROT_BGP */}}}
	if _, err := json.Marshal(pn); err == nil || !strings.Contains(err.Error(), "route protocol 186") {
		t.Errorf("bgp route: got %v", err)
	}
	for _, in := range []string{
		`{"routes":[{"protocol":"bgp"}]}`,
		`{"routes":[{"scope":"galaxy"}]}`,
		`{"neighbors":[{"state":"unknown"}]}`,
	} {
		var p PodNetwork
		if err := json.Unmarshal([]byte(in), &p); err == nil {
			t.Errorf("%s: decoded", in)
		}
		var c caaConfig
		if err := json.Unmarshal([]byte(in), &c); err == nil {
			t.Errorf("%s: the mirror decoded it", in)
		}
	}
}
