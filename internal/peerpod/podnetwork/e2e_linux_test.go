package podnetwork

import (
	"encoding/json"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cocogen/cocogen/internal/peerpod/userdata"
)

// vmSetup does in the VM what its forwarder does with apf.json's
// pod-network (cloud-api-adaptor v0.22.0
// src/cloud-api-adaptor/pkg/podnetwork/tunneler/vxlan/podnode.go Setup and
// podnode.go Setup): a VXLAN device toward the worker node made in the
// VM's namespace, moved into the pod's namespace there and renamed to the
// pod's interface, with the pod's MAC, MTU (at most 1450) and address, up;
// the kernel's subnet route removed, then the routes, those without a
// gateway first, then the permanent neighbours.
func vmSetup(t *testing.T, tp *topology, pn *userdata.PodNetwork) {
	t.Helper()
	ipCmd(t, "-n", tp.vm, "link", "add", "vxlan0", "type", "vxlan", "id", strconv.Itoa(pn.VXLANID),
		"remote", pn.WorkerNodeIP.Addr().String(), "dstport", strconv.Itoa(pn.VXLANPort), "nolearning")
	ipCmd(t, "-n", tp.vm, "link", "set", "vxlan0", "netns", tp.vmPod)
	ipCmd(t, "-n", tp.vmPod, "link", "set", "vxlan0", "name", pn.InterfaceName)
	ipCmd(t, "-n", tp.vmPod, "link", "set", pn.InterfaceName, "address", pn.PodHwAddr, "mtu", strconv.Itoa(min(pn.MTU, 1450)))
	ipCmd(t, "-n", tp.vmPod, "addr", "add", pn.PodIP.String(), "dev", pn.InterfaceName)
	ipCmd(t, "-n", tp.vmPod, "link", "set", pn.InterfaceName, "up")
	if !pn.PodIP.IsSingleIP() {
		ipCmd(t, "-n", tp.vmPod, "route", "del", pn.PodIP.Masked().String(), "dev", pn.InterfaceName)
	}
	var first, second []userdata.Route
	for _, r := range pn.Routes {
		if r.GW.IsValid() {
			second = append(second, r)
		} else {
			first = append(first, r)
		}
	}
	for _, r := range append(first, second...) {
		args := []string{"-n", tp.vmPod, "route", "add", r.Dst.String()}
		if r.GW.IsValid() {
			args = append(args, "via", r.GW.String())
		} else {
			args = append(args, "scope", "link") // netops.go RouteAdd
		}
		args = append(args, "dev", r.Dev)
		if r.Protocol != 0 {
			args = append(args, "proto", r.Protocol.String())
		}
		if r.Scope != 0 && r.GW.IsValid() {
			args = append(args, "scope", r.Scope.String())
		}
		ipCmd(t, args...)
	}
	for _, nb := range pn.Neighbors {
		ipCmd(t, "-n", tp.vmPod, "neigh", "add", nb.IP.String(), "lladdr", nb.HardwareAddr, "dev", nb.Dev, "nud", nb.State.String())
	}
}

// TestEndToEnd sends UDP from the node to the pod's IP and gets the answer
// of a server that runs only in the VM's pod namespace: the frames went
// node → pod eth0 → vxlan1 → (UDP in the node's namespace) → VM → back.
func TestEndToEnd(t *testing.T) {
	tp := newTopology(t)
	n, _ := networkOn(t, tp, defaultConfig())
	inspected, err := n.Inspect(tp.podPath)
	if err != nil {
		t.Fatal(err)
	}
	// The VM gets the pod network through apf.json.
	data, err := json.Marshal(userdata.ForwarderConfig{PodNetwork: inspected})
	if err != nil {
		t.Fatal(err)
	}
	var apf userdata.ForwarderConfig
	if err := json.Unmarshal(data, &apf); err != nil {
		t.Fatal(err)
	}
	pn := apf.PodNetwork
	vmSetup(t, tp, pn)
	if err := n.Setup(tp.podPath, []netip.Addr{netip.MustParseAddr("192.168.77.2")}, inspected); err != nil {
		t.Fatal(err)
	}

	var server net.PacketConn
	if err := inNetns(tp.vmPodPath, func() (err error) {
		server, err = net.ListenPacket("udp4", net.JoinHostPort(pn.PodIP.Addr().String(), "7777"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			k, from, err := server.ReadFrom(buf)
			if err != nil {
				return
			}
			server.WriteTo(append([]byte("from the VM: "), buf[:k]...), from)
		}
	}()

	var client net.Conn
	if err := inNetns(tp.nodePath, func() (err error) {
		client, err = net.Dial("udp4", net.JoinHostPort(pn.PodIP.Addr().String(), "7777"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	got := ""
	buf := make([]byte, 1500)
	for attempt := 0; attempt < 10 && got == ""; attempt++ {
		if _, err := client.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		client.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		if k, err := client.Read(buf); err == nil {
			got = string(buf[:k])
		}
	}
	if got != "from the VM: hello" {
		t.Fatalf("no answer from the VM through the tunnel (got %q)", got)
	}

	// After Teardown the pod is unreachable: nothing forwards to the VM.
	if err := n.Teardown(tp.podPath, inspected); err != nil {
		t.Fatal(err)
	}
	client.Write([]byte("again"))
	client.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if k, err := client.Read(buf); err == nil && strings.HasPrefix(string(buf[:k]), "from the VM") {
		t.Errorf("the VM still answers after Teardown: %q", buf[:k])
	}
}
