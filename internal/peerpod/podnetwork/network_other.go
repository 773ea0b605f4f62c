//go:build !linux

package podnetwork

import (
	"net/netip"

	"github.com/cocogen/cocogen/internal/peerpod/userdata"
)

// Inspect returns ErrUnsupported: network namespaces are Linux's.
func (n *Network) Inspect(netnsPath string) (*userdata.PodNetwork, error) {
	return nil, ErrUnsupported
}

// Setup returns ErrUnsupported: network namespaces are Linux's.
func (n *Network) Setup(netnsPath string, vmIPs []netip.Addr, pn *userdata.PodNetwork) error {
	return ErrUnsupported
}

// Teardown returns ErrUnsupported: network namespaces are Linux's.
func (n *Network) Teardown(netnsPath string, pn *userdata.PodNetwork) error {
	return ErrUnsupported
}
