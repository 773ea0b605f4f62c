package podnetwork

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// TunnelVXLAN is the only tunnel type cloud-api-adaptor v0.22.0 registers
// (src/cloud-api-adaptor/pkg/podnetwork/common.go init) and its default
// (workernode.go DefaultTunnelType).
const TunnelVXLAN = "vxlan"

// Defaults (cloud-api-adaptor v0.22.0
// src/cloud-api-adaptor/pkg/podnetwork/tunneler/vxlan/workernode.go
// DefaultVXLANPort and DefaultVXLANMinID, as cmd/cloud-api-adaptor/main.go
// uses them). 4789 is the IANA VXLAN port; if the cluster's own overlay
// already uses it on the node, VXLAN_PORT must move one of them.
const (
	DefaultTunnelType = TunnelVXLAN
	DefaultVXLANPort  = 4789
	DefaultVXLANMinID = 555000
)

// maxVXLANID is the largest 24-bit VXLAN network identifier.
const maxVXLANID = 1<<24 - 1

// Config is the node-wide pod-network configuration.
type Config struct {
	// TunnelType is the tunnel between the pod's namespace and the VM;
	// only TunnelVXLAN exists.
	TunnelType string
	// VXLANPort is the UDP port of both ends of every tunnel.
	VXLANPort int
	// VXLANMinID is the VXLAN id of tunnel index 0; a pod's id is
	// VXLANMinID plus its index.
	VXLANMinID int
	// HostInterface is the node interface whose address the VM sends the
	// tunnel to; empty means the interface of the node's default route.
	// Naming another interface makes the tunnel "dedicated": the VM's
	// second address is its end (workernode.go, vxlan/workernode.go).
	HostInterface string
	// PodSubnetCIDRs are extra routes the VM adds in the pod's namespace,
	// via the pod's gateway (the cluster's pod subnets, so pod-to-pod
	// traffic goes back through the tunnel).
	PodSubnetCIDRs []netip.Prefix
	// ExternalNetViaPodVM asks the VM to route the pod's traffic outside
	// the cluster through the VM's own second interface; nothing changes
	// on the node (podnode.go setupExternalNetwork).
	ExternalNetViaPodVM bool
}

// Environment keys (the peer-pods-cm keys cloud-api-adaptor v0.22.0
// cmd/cloud-api-adaptor/main.go reads through FlagRegistrar, plus
// HOST_INTERFACE for its -host-interface flag, which has no key there).
const (
	EnvTunnelType          = "TUNNEL_TYPE"
	EnvVXLANPort           = "VXLAN_PORT"
	EnvHostInterface       = "HOST_INTERFACE"
	EnvPodSubnetCIDRs      = "POD_SUBNET_CIDRS"
	EnvExternalNetViaPodVM = "EXTERNAL_NETWORK_VIA_PODVM"
)

// ConfigFromEnv reads the configuration from the environment keys. As in
// the reference an empty value is unset and takes the default; unlike it
// (src/cloud-providers/util.go IntWithEnv, BoolWithEnv, CustomTypeWithEnv
// silently keep the default, and workernode.go skips a CIDR that does not
// parse) a value that does not parse is an error, and every error is
// returned, each naming its key. The VXLAN minimum id is a flag only in
// the reference (-vxlan-min-id) and keeps its default here.
func ConfigFromEnv(env map[string]string) (Config, error) {
	c := Config{TunnelType: DefaultTunnelType, VXLANPort: DefaultVXLANPort, VXLANMinID: DefaultVXLANMinID}
	var errs []error
	get := func(k string) string { return strings.TrimSpace(env[k]) }

	if v := get(EnvTunnelType); v != "" {
		c.TunnelType = v
	}
	if v := get(EnvVXLANPort); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a number", EnvVXLANPort, v))
		} else {
			c.VXLANPort = p
		}
	}
	c.HostInterface = get(EnvHostInterface)
	if v := get(EnvPodSubnetCIDRs); v != "" {
		// Comma-separated with spaces allowed (tunneler/config.go
		// SubnetCIDRs.Set); empty items, as from a trailing comma, are
		// skipped.
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			p, err := netip.ParsePrefix(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a CIDR", EnvPodSubnetCIDRs, s))
				continue
			}
			c.PodSubnetCIDRs = append(c.PodSubnetCIDRs, p)
		}
	}
	if v := get(EnvExternalNetViaPodVM); v != "" {
		// The reference takes "1" and "true" in any case as true and
		// anything else as false; a typo then silently disables it.
		switch strings.ToLower(v) {
		case "1", "true":
			c.ExternalNetViaPodVM = true
		case "0", "false":
		default:
			errs = append(errs, fmt.Errorf("%s: %q is not true or false", EnvExternalNetViaPodVM, v))
		}
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate reports every invalid setting, each naming its key.
func (c Config) Validate() error {
	var errs []error
	if c.TunnelType != TunnelVXLAN {
		errs = append(errs, fmt.Errorf("%s: unknown tunnel type %q (only %q)", EnvTunnelType, c.TunnelType, TunnelVXLAN))
	}
	if c.VXLANPort < 1 || c.VXLANPort > 65535 {
		errs = append(errs, fmt.Errorf("%s: %d is not a UDP port", EnvVXLANPort, c.VXLANPort))
	}
	// Not 0: apf.json leaves a zero vxlan-id out (omitempty), so id 0
	// could not be told from "none" on the way back.
	if c.VXLANMinID < 1 || c.VXLANMinID > maxVXLANID {
		errs = append(errs, fmt.Errorf("VXLAN minimum id: %d is not within 1-%d", c.VXLANMinID, maxVXLANID))
	}
	for _, p := range c.PodSubnetCIDRs {
		// The VM adds each as a route via the pod's IPv4 gateway
		// (workernode.go Inspect), which the kernel refuses for an IPv6
		// destination or one with host bits set.
		switch {
		case !p.IsValid() || !p.Addr().Is4():
			errs = append(errs, fmt.Errorf("%s: %s is not an IPv4 CIDR", EnvPodSubnetCIDRs, p))
		case p != p.Masked():
			errs = append(errs, fmt.Errorf("%s: %s has host bits set (did you mean %s?)", EnvPodSubnetCIDRs, p, p.Masked()))
		}
	}
	return errors.Join(errs...)
}
