package daemon_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/peerpod/daemon"
	"github.com/cocogen/cocogen/internal/peerpod/hypervisor"
	"github.com/cocogen/cocogen/internal/peerpod/local"
	"github.com/cocogen/cocogen/internal/peerpod/podnetwork"
)

// podNetns makes a pod's network namespace as a CNI plugin leaves it
// (eth0 10.244.9.<n>/24, a default route), or skips the test where
// namespaces cannot be made.
func podNetns(t *testing.T, n int) string {
	t.Helper()
	if out, err := exec.Command("ip", "route", "show", "default").CombinedOutput(); err != nil || len(out) == 0 {
		t.Skipf("the host has no default route for the tunnel's node address: %v %s", err, out)
	}
	name := fmt.Sprintf("ppd-%d-%d", os.Getpid(), n)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("needs root with CAP_NET_ADMIN and ip(8): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	host := fmt.Sprintf("ppv%d-%d", os.Getpid()%100000, n)
	for _, args := range [][]string{
		{"link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", name},
		{"link", "set", host, "up"},
		{"-n", name, "addr", "add", fmt.Sprintf("10.244.9.%d/24", n), "dev", "eth0"},
		{"-n", name, "link", "set", "eth0", "up"},
		{"-n", name, "route", "add", "default", "via", "10.244.9.1", "dev", "eth0"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v %s", strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() { exec.Command("ip", "link", "del", host).Run() })
	return filepath.Join("/run/netns", name)
}

func hasLink(netnsPath, link string) bool {
	return exec.Command("ip", "-n", filepath.Base(netnsPath), "link", "show", link).Run() == nil
}

// TestPodNetworkThroughTheDaemon: the pod's network goes into the VM's
// apf.json, the tunnel is set up when the VM runs and removed when it
// stops, and tunnel ids survive a daemon restart.
func TestPodNetworkThroughTheDaemon(t *testing.T) {
	newPodNetwork := func() daemon.Option {
		pn, err := podnetwork.New(podnetwork.Config{TunnelType: podnetwork.TunnelVXLAN, VXLANPort: podnetwork.DefaultVXLANPort, VXLANMinID: podnetwork.DefaultVXLANMinID})
		if err != nil {
			t.Fatal(err)
		}
		pn.SetLogger(quiet)
		return daemon.WithPodNetwork(pn)
	}
	ns1, ns2 := podNetns(t, 5), podNetns(t, 6)
	n := newNodeWith(t, local.Options{}, nil, newPodNetwork())
	shim := n.shim()
	ctx := context.Background()
	req := createRequest("net1", "web-0")
	req.NetworkNamespacePath = ns1
	created, err := shim.CreateVM(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: "net1"}); err != nil {
		t.Fatal(err)
	}
	vm := n.cloud.VM(daemon.InstanceName("web-0", "net1"))
	got := vm.Config.PodNetwork
	if got == nil || got.PodIP != netip.MustParsePrefix("10.244.9.5/24") || got.InterfaceName != "eth0" || got.TunnelType != "vxlan" || got.VXLANID < podnetwork.DefaultVXLANMinID {
		t.Fatalf("apf.json pod-network: %+v", got)
	}
	if !hasLink(ns1, "vxlan1") {
		t.Error("no tunnel in the pod's namespace while the VM runs")
	}
	if err := agentCheck(ctx, created.AgentSocketPath); err != nil {
		t.Fatal(err)
	}

	// After a restart, the running sandbox keeps its tunnel id: a new
	// sandbox gets another.
	n.kill()
	n.opts = []daemon.Option{newPodNetwork()} // a new process knows no tunnel
	n.start()
	if !hasLink(ns1, "vxlan1") {
		t.Error("the restart took the running sandbox's tunnel down")
	}
	if err := agentCheck(ctx, created.AgentSocketPath); err != nil {
		t.Errorf("after the restart: %v", err)
	}
	req2 := createRequest("net2", "web-1")
	req2.NetworkNamespacePath = ns2
	if _, err := shim.CreateVM(ctx, req2); err != nil {
		t.Fatal(err)
	}
	if _, err := shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: "net2"}); err != nil {
		t.Fatal(err)
	}
	vm2 := n.cloud.VM(daemon.InstanceName("web-1", "net2"))
	if vm2.Config.PodNetwork.VXLANID == got.VXLANID {
		t.Errorf("two running sandboxes share VXLAN id %d", got.VXLANID)
	}
	for _, id := range []string{"net1", "net2"} {
		if _, err := shim.StopVM(ctx, &hypervisor.StopVMRequest{Id: id}); err != nil {
			t.Fatal(err)
		}
	}
	if hasLink(ns1, "vxlan1") || hasLink(ns2, "vxlan1") {
		t.Error("a tunnel outlived its sandbox")
	}
}
