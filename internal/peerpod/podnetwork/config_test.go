package podnetwork

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/peerpod/userdata"
)

func TestConfigFromEnvDefaults(t *testing.T) {
	c, err := ConfigFromEnv(map[string]string{"VXLAN_PORT": "", "TUNNEL_TYPE": " "})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{TunnelType: "vxlan", VXLANPort: 4789, VXLANMinID: 555000}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v, want %+v", c, want)
	}
}

func TestConfigFromEnv(t *testing.T) {
	c, err := ConfigFromEnv(map[string]string{
		"TUNNEL_TYPE":                "vxlan",
		"VXLAN_PORT":                 "9000",
		"HOST_INTERFACE":             "eth1",
		"POD_SUBNET_CIDRS":           "10.128.0.0/14, 172.30.0.0/16,",
		"EXTERNAL_NETWORK_VIA_PODVM": "TRUE",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{TunnelType: "vxlan", VXLANPort: 9000, VXLANMinID: 555000, HostInterface: "eth1",
		PodSubnetCIDRs:      []netip.Prefix{netip.MustParsePrefix("10.128.0.0/14"), netip.MustParsePrefix("172.30.0.0/16")},
		ExternalNetViaPodVM: true}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v, want %+v", c, want)
	}
}

func TestConfigFromEnvErrors(t *testing.T) {
	_, err := ConfigFromEnv(map[string]string{
		"TUNNEL_TYPE":                "geneve",
		"VXLAN_PORT":                 "forty",
		"POD_SUBNET_CIDRS":           "10.128.0.0/14,nope,fd00::/64,10.0.0.1/8",
		"EXTERNAL_NETWORK_VIA_PODVM": "yes please",
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`TUNNEL_TYPE: unknown tunnel type "geneve" (only "vxlan")`,
		`VXLAN_PORT: "forty" is not a number`,
		`POD_SUBNET_CIDRS: "nope" is not a CIDR`,
		`POD_SUBNET_CIDRS: fd00::/64 is not an IPv4 CIDR`,
		`POD_SUBNET_CIDRS: 10.0.0.1/8 has host bits set (did you mean 10.0.0.0/8?)`,
		`EXTERNAL_NETWORK_VIA_PODVM: "yes please" is not true or false`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := ConfigFromEnv(map[string]string{"VXLAN_PORT": "70000"}); err == nil || !strings.Contains(err.Error(), "VXLAN_PORT: 70000 is not a UDP port") {
		t.Errorf("port 70000: %v", err)
	}
	if _, err := New(Config{TunnelType: "vxlan", VXLANPort: 4789}); err == nil || !strings.Contains(err.Error(), "VXLAN minimum id: 0") {
		t.Errorf("min id 0: %v", err)
	}
}

func newTestNetwork(t *testing.T, minID int) *Network {
	t.Helper()
	n, err := New(Config{TunnelType: TunnelVXLAN, VXLANPort: DefaultVXLANPort, VXLANMinID: minID})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAllocation(t *testing.T) {
	n := newTestNetwork(t, 555000)
	// A restarted daemon re-adopts two running pods, 0 and 2.
	for _, id := range []int{555000, 555002} {
		if err := n.Adopt(&userdata.PodNetwork{TunnelType: "vxlan", VXLANID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.Adopt(&userdata.PodNetwork{TunnelType: "vxlan", VXLANID: 555002}); err == nil || !strings.Contains(err.Error(), "VXLAN id 555002 is already in use") {
		t.Errorf("adopting twice: %v", err)
	}
	if err := n.Adopt(&userdata.PodNetwork{TunnelType: "vxlan"}); err == nil {
		t.Error("adopted a pod network without an id")
	}
	if err := n.Adopt(nil); err != nil {
		t.Errorf("adopting nil: %v", err)
	}
	var got []int
	for range 3 {
		idx, id, err := n.allocate()
		if err != nil {
			t.Fatal(err)
		}
		if id != 555000+idx {
			t.Errorf("index %d has id %d", idx, id)
		}
		got = append(got, idx)
	}
	if want := []int{1, 3, 4}; !reflect.DeepEqual(got, want) {
		t.Errorf("allocated %v, want %v", got, want)
	}
	// Released ids are not reused at once: allocation goes on in turn.
	n.Release(&userdata.PodNetwork{VXLANID: 555001})
	n.Release(nil)
	if idx, _, _ := n.allocate(); idx != 5 {
		t.Errorf("after release got index %d, want 5", idx)
	}
}

func TestAllocationWrapsAndExhausts(t *testing.T) {
	n := newTestNetwork(t, maxVXLANID-2) // three ids
	for want := range 3 {
		if idx, _, err := n.allocate(); err != nil || idx != want {
			t.Fatalf("allocate = %d, %v; want %d", idx, err, want)
		}
	}
	if _, _, err := n.allocate(); err == nil || !strings.Contains(err.Error(), "all 3 from 16777213 are in use") {
		t.Errorf("exhausted: %v", err)
	}
	n.Release(&userdata.PodNetwork{VXLANID: maxVXLANID - 1})
	if idx, id, err := n.allocate(); err != nil || idx != 1 || id != maxVXLANID-1 {
		t.Errorf("after release: %d %d %v", idx, id, err)
	}
}
