package podnetwork

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Conntrack off for the tunnels' packets.
//
// cloud-api-adaptor v0.22.0
// src/cloud-api-adaptor/pkg/podnetwork/tunneler/vxlan/iptables.go adds, in
// the node's namespace, two rules per tunnel to the raw table: in chain
// peerpod-OUTPUT (jumped to from OUTPUT) NOTRACK for UDP to the VM's
// address and the VXLAN port, and in peerpod-PREROUTING (from PREROUTING)
// NOTRACK for UDP from it to that port, each commented "peerpod
// [vni:<id>]". Why (cloud-api-adaptor issue 2015, PR 2023): a VXLAN
// packet's destination port is the same both ways and its source port is
// a hash of the inner flow, so conntrack sees every flow as a new,
// never-answered UDP "connection"; a busy pod fills the node's conntrack
// table, and then other connections that need NAT (services) fail. The
// tunnel works without the rules — they only keep it from filling the
// table.
//
// They are made here with the iptables binary, like the reference's
// go-iptables (which execs it too), when there is one on the PATH. The
// peerpodd image (UBI micro) has none: there New finds nothing, the first Setup
// logs that the rules are skipped, and the tunnels carry traffic
// with conntrack entries the node's conntrack timeouts expire. Mounting
// the host's iptables into the container, or an image with it, restores
// the rules.
//
// Differences: the jump from the base chain is checked on every Setup
// (the reference adds it only with the chain), and Teardown finds rules by
// their vni comment alone, so it needs neither the VM's address nor the
// device (both gone when the pod's namespace is).

const (
	iptablesTable           = "raw"
	iptablesOutputChain     = "peerpod-OUTPUT"
	iptablesPreroutingChain = "peerpod-PREROUTING"
)

type iptablesRule struct {
	base, chain string
	spec        []string
}

func iptablesComment(id int) string { return fmt.Sprintf("peerpod [vni:%d]", id) }

func iptablesRules(addr netip.Addr, port, id int) []iptablesRule {
	c := iptablesComment(id)
	p := strconv.Itoa(port)
	return []iptablesRule{
		{base: "OUTPUT", chain: iptablesOutputChain, spec: []string{
			"-m", "comment", "--comment", c, "-d", addr.String(), "-p", "udp", "-m", "udp", "--dport", p, "-j", "NOTRACK"}},
		{base: "PREROUTING", chain: iptablesPreroutingChain, spec: []string{
			"-m", "comment", "--comment", c, "-s", addr.String(), "-p", "udp", "-m", "udp", "--dport", p, "-j", "NOTRACK"}},
	}
}

// ipt runs iptables on the raw table in the node's namespace, waiting for
// the xtables lock other writers (kube-proxy, the CNI) hold.
func (n *Network) ipt(args ...string) (string, error) {
	var out []byte
	err := inNetns(n.hostNetns, func() error {
		var err error
		out, err = n.run(n.iptables, append([]string{"-w", "-t", iptablesTable}, args...)...)
		return err
	})
	if err != nil {
		return string(out), fmt.Errorf("running iptables %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func (n *Network) iptablesSetup(addr netip.Addr, port, id int) error {
	if n.iptables == "" {
		n.noIPTablesWarning.Do(func() {
			n.log.Warn("no iptables binary: the tunnels' packets stay tracked by conntrack")
		})
		return nil
	}
	n.iptMu.Lock()
	defer n.iptMu.Unlock()
	for _, r := range iptablesRules(addr, port, id) {
		if _, err := n.ipt("-S", r.chain); err != nil {
			if _, err := n.ipt("-N", r.chain); err != nil {
				return fmt.Errorf("disabling conntrack for the tunnel: %w", err)
			}
		}
		if _, err := n.ipt("-C", r.base, "-j", r.chain); err != nil {
			if _, err := n.ipt("-A", r.base, "-j", r.chain); err != nil {
				return fmt.Errorf("disabling conntrack for the tunnel: %w", err)
			}
		}
		if _, err := n.ipt(append([]string{"-C", r.chain}, r.spec...)...); err != nil {
			if _, err := n.ipt(append([]string{"-A", r.chain}, r.spec...)...); err != nil {
				return fmt.Errorf("disabling conntrack for the tunnel: %w", err)
			}
		}
	}
	return nil
}

// iptablesTeardown deletes every rule commented with id from both chains
// (by rule number, last first), and a chain and its jump once empty. A
// missing chain is nothing to do.
func (n *Network) iptablesTeardown(id int) error {
	if n.iptables == "" {
		return nil
	}
	n.iptMu.Lock()
	defer n.iptMu.Unlock()
	want := `--comment "` + iptablesComment(id) + `"`
	for _, r := range iptablesRules(netip.Addr{}, 0, id) {
		out, err := n.ipt("-S", r.chain)
		if err != nil {
			continue // no chain, no rules
		}
		var ours []int
		rules := 0
		for _, line := range strings.Split(out, "\n") {
			if !strings.HasPrefix(line, "-A "+r.chain+" ") {
				continue
			}
			rules++
			if strings.Contains(line, want) {
				ours = append(ours, rules)
			}
		}
		for i := len(ours) - 1; i >= 0; i-- {
			if _, err := n.ipt("-D", r.chain, strconv.Itoa(ours[i])); err != nil {
				return fmt.Errorf("removing the tunnel's conntrack rules: %w", err)
			}
		}
		if rules > len(ours) {
			continue
		}
		if _, err := n.ipt("-C", r.base, "-j", r.chain); err == nil {
			if _, err := n.ipt("-D", r.base, "-j", r.chain); err != nil {
				return fmt.Errorf("removing the tunnel's conntrack rules: %w", err)
			}
		}
		if _, err := n.ipt("-X", r.chain); err != nil {
			return fmt.Errorf("removing the tunnel's conntrack rules: %w", err)
		}
	}
	return nil
}
