// Package fakeagent is a stand-in kata agent for tests, benchmarks and the
// local provider's demo VMs: a real ttrpc server that answers the health
// service (grpc.Health Check and Version), the first calls the kata shim
// makes on an agent connection. It is a test aid, not an agent: it runs no
// container.
package fakeagent

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"

	"github.com/containerd/ttrpc"

	"github.com/cocogen/cocogen/internal/peerpod/agentpb"
)

// Agent answers the health service.
type Agent struct {
	version string
	srv     *ttrpc.Server
	checks  atomic.Int64
}

// New returns an agent that reports version.
func New(version string) (*Agent, error) {
	srv, err := ttrpc.NewServer()
	if err != nil {
		return nil, err
	}
	a := &Agent{version: version, srv: srv}
	agentpb.RegisterHealthService(srv, health{a})
	return a, nil
}

// Serve answers connections from l until Close.
func (a *Agent) Serve(ctx context.Context, l net.Listener) error {
	err := a.srv.Serve(ctx, l)
	if errors.Is(err, ttrpc.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops the agent at once.
func (a *Agent) Close() error { return a.srv.Close() }

// Checks is how many health checks were answered.
func (a *Agent) Checks() int64 { return a.checks.Load() }

type health struct{ a *Agent }

func (h health) Check(context.Context, *agentpb.CheckRequest) (*agentpb.HealthCheckResponse, error) {
	h.a.checks.Add(1)
	return &agentpb.HealthCheckResponse{Status: agentpb.HealthCheckResponse_SERVING}, nil
}

func (h health) Version(context.Context, *agentpb.CheckRequest) (*agentpb.VersionCheckResponse, error) {
	return &agentpb.VersionCheckResponse{GrpcVersion: "ttrpc", AgentVersion: h.a.version}, nil
}

// PipeListener is a net.Listener whose connections are in-memory pipes,
// for an agent that lives in the same process as its client.
type PipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

// NewPipeListener returns a listener to Dial into.
func NewPipeListener() *PipeListener {
	return &PipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

// Dial returns the client end of a new connection.
func (l *PipeListener) Dial() (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		client.Close()
		server.Close()
		return nil, net.ErrClosed
	}
}

// Accept implements net.Listener.
func (l *PipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener.
func (l *PipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// Addr implements net.Listener.
func (l *PipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }
