package daemon_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/containerd/ttrpc"

	"github.com/cocogen/cocogen/internal/peerpod/agentpb"
	"github.com/cocogen/cocogen/internal/peerpod/agentproxy"
	"github.com/cocogen/cocogen/internal/peerpod/daemon"
	"github.com/cocogen/cocogen/internal/peerpod/hypervisor"
	"github.com/cocogen/cocogen/internal/peerpod/local"
)

// BenchmarkCreateStartVM measures the daemon's own cost of CreateVM and
// StartVM (the local provider's VM boots at once): state written with
// fsync, certificate issued, user data rendered and parsed, the agent
// channel's mutual-TLS handshake. StopVM runs outside the timer.
//
//	go test ./internal/peerpod/daemon -run '^$' -bench CreateStartVM -benchtime 200x
func BenchmarkCreateStartVM(b *testing.B) {
	n := newNode(b, local.Options{}, func(c *daemon.Config) { c.CreateRate = 1e6; c.CreateBurst = 1e6 })
	shim := n.shim()
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("%064x", i+1)
		if _, err := shim.CreateVM(ctx, createRequest(id, "bench")); err != nil {
			b.Fatal(err)
		}
		if _, err := shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: id}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if _, err := shim.StopVM(ctx, &hypervisor.StopVMRequest{Id: id}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkAgentRoundTrip compares one agent RPC (grpc.Health/Check) on a
// kept-open connection through the daemon's proxy with the same call
// straight to the VM's forwarder over the same mutual TLS, and reports
// the p50 and p99 of each and what the proxy adds at p99.
//
//	go test ./internal/peerpod/daemon -run '^$' -bench AgentRoundTrip -benchtime 20000x
func BenchmarkAgentRoundTrip(b *testing.B) {
	n := newNode(b, local.Options{}, nil)
	shim := n.shim()
	ctx := context.Background()
	created, err := shim.CreateVM(ctx, createRequest("rtt", "bench"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: "rtt"}); err != nil {
		b.Fatal(err)
	}
	vm := n.cloud.VM(daemon.InstanceName("bench", "rtt"))
	ca, err := agentproxy.LoadOrCreateCA(n.cfg.CADir)
	if err != nil {
		b.Fatal(err)
	}
	viaProxy, err := net.Dial("unix", created.AgentSocketPath)
	if err != nil {
		b.Fatal(err)
	}
	direct, err := tls.Dial("tcp", netip.AddrPortFrom(vm.Instance.IPs[0], uint16(n.cfg.ForwarderPort)).String(), ca.ClientConfig(vm.Instance.Name))
	if err != nil {
		b.Fatal(err)
	}
	measure := func(conn net.Conn) []time.Duration {
		c := ttrpc.NewClient(conn)
		defer c.Close()
		health := agentpb.NewHealthClient(c)
		for range 100 { // warm up
			if _, err := health.Check(ctx, &agentpb.CheckRequest{}); err != nil {
				b.Fatal(err)
			}
		}
		d := make([]time.Duration, 0, b.N)
		for range b.N {
			start := time.Now()
			if _, err := health.Check(ctx, &agentpb.CheckRequest{}); err != nil {
				b.Fatal(err)
			}
			d = append(d, time.Since(start))
		}
		slices.Sort(d)
		return d
	}
	b.ResetTimer()
	p := measure(viaProxy)
	dr := measure(direct)
	b.StopTimer()
	pct := func(d []time.Duration, q float64) float64 { return float64(d[int(q*float64(len(d)-1))].Microseconds()) }
	b.ReportMetric(pct(p, .5), "proxy-p50-µs")
	b.ReportMetric(pct(p, .99), "proxy-p99-µs")
	b.ReportMetric(pct(dr, .5), "direct-p50-µs")
	b.ReportMetric(pct(dr, .99), "direct-p99-µs")
	b.ReportMetric(pct(p, .99)-pct(dr, .99), "added-p99-µs")
}
