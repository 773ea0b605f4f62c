// Package agentproxy carries the kata shim's agent connection to a peer-pod
// VM: the shim dials a per-sandbox unix socket, and each connection is
// forwarded byte for byte to the VM's agent-protocol forwarder over mutual
// TLS, with certificates from the daemon's own CA. Forwarding bytes rather
// than re-serving the agent API (as cloud-api-adaptor's proxy does) keeps
// the daemon out of the agent protocol: any agent version works, and the
// policy the agent enforces sees exactly what the shim sent.
package agentproxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"sync"
	"time"
)

// DefaultTimeout is how long a connection to the VM is retried
// (PROXY_TIMEOUT; cloud-api-adaptor v0.22.0 pkg/adaptor/proxy/proxy.go
// DefaultProxyTimeout is 5 minutes).
const DefaultTimeout = 5 * time.Minute

// Backoff between connection attempts: VMs take tens of seconds to boot,
// so attempts start fast and settle at a few seconds.
const (
	firstBackoff = 50 * time.Millisecond
	maxBackoff   = 5 * time.Second
)

// forwardTimeout bounds the dial for each shim connection once the VM
// answered.
const forwardTimeout = 30 * time.Second

// Proxy serves one sandbox's agent socket.
type Proxy struct {
	socket  string
	addr    string
	tls     *tls.Config
	timeout time.Duration
	ctx     context.Context // ended by Close
	cancel  context.CancelFunc

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// New returns a proxy from socket to addr (host:port of the forwarder).
func New(socket, addr string, tlsConfig *tls.Config, timeout time.Duration) *Proxy {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Proxy{socket: socket, addr: addr, tls: tlsConfig, timeout: timeout, ctx: ctx, cancel: cancel, conns: map[net.Conn]struct{}{}}
}

// Socket is the unix socket the shim dials.
func (p *Proxy) Socket() string { return p.socket }

// Connect dials the forwarder, retrying with backoff until the proxy's
// timeout or ctx ends, and hangs up: it is how StartVM learns that the VM
// is up. (The connection is not kept for the shim: one that idles while
// the shim gets ready could be stale by the time it is used.)
func (p *Proxy) Connect(ctx context.Context) error {
	conn, err := p.dial(ctx, p.timeout)
	if err != nil {
		return err
	}
	return conn.Close()
}

func (p *Proxy) dial(ctx context.Context, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Close ends a dial in progress.
	defer context.AfterFunc(p.ctx, cancel)()
	dialer := &tls.Dialer{NetDialer: &net.Dialer{}, Config: p.tls}
	backoff := firstBackoff
	var last error // the last failure that was not the deadline itself
	for {
		conn, err := dialer.DialContext(ctx, "tcp", p.addr)
		if err == nil {
			return conn, nil
		}
		if ctx.Err() == nil || last == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connecting to the agent forwarder at %s: %w (last attempt: %v)", p.addr, ctx.Err(), last)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// Serve listens on the socket (replacing a stale one) and forwards every
// connection until Close. It returns once listening.
func (p *Proxy) Serve() error {
	if err := os.Remove(p.socket); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing stale socket %s: %w", p.socket, err)
	}
	ln, err := net.Listen("unix", p.socket)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", p.socket, err)
	}
	// Only root (the shim) may reach the agent.
	if err := os.Chmod(p.socket, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("restricting %s: %w", p.socket, err)
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		ln.Close()
		return net.ErrClosed
	}
	p.ln = ln
	p.wg.Add(1)
	p.mu.Unlock()
	go p.accept(ln)
	return nil
}

func (p *Proxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		client, err := ln.Accept()
		if err != nil {
			return
		}
		if !p.trackForward(client) {
			client.Close()
			return
		}
		go p.forward(client)
	}
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

// trackForward tracks a client connection and counts its forwarding
// goroutine, under the lock Close takes, so Close's Wait sees it.
func (p *Proxy) trackForward(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	p.wg.Add(1)
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *Proxy) forward(client net.Conn) {
	defer p.wg.Done()
	defer p.untrack(client)
	// A VM that was up moments ago either answers soon or is gone: the
	// shim is better told quickly than left waiting the whole timeout.
	server, err := p.dial(p.ctx, min(p.timeout, forwardTimeout))
	if err != nil {
		return
	}
	if !p.track(server) {
		server.Close()
		return
	}
	defer p.untrack(server)
	Splice(client, server)
}

// Splice copies bytes both ways between a and b until either side ends,
// then closes both: a ttrpc stream has no meaning half-closed. It is how
// the proxy joins the shim to the VM, and how a local VM's forwarder joins
// the proxy to its agent.
func Splice(a, b net.Conn) {
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go pipe(a, b)
	go pipe(b, a)
	<-done
	<-done
}

// Close stops listening, cuts every forwarded connection, removes the
// socket and waits for the forwarding goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.wg.Wait()
		return nil
	}
	p.closed = true
	p.cancel()
	if p.ln != nil {
		p.ln.Close()
	}
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	if err := os.Remove(p.socket); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", p.socket, err)
	}
	return nil
}
