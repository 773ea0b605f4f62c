package agentproxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCAPersists(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.CertPEM(), b.CertPEM()) {
		t.Error("a restarted daemon made a new CA: its VMs would refuse it")
	}
	info, err := os.Stat(filepath.Join(dir, caKeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("CA key mode %v %v", info.Mode(), err)
	}
}

// forwarder serves echo over the server side of the channel, as a VM
// built from the CA's material would.
func forwarder(t *testing.T, ca *CA, name, addr string) net.Listener {
	t.Helper()
	cert, key, err := ca.IssueServer(name)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ServerConfig(cert, key, ca.CertPEM())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln
}

func shortDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "ap")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// TestProxyRetriesUntilTheVMListens: Connect waits through refused
// connections until the forwarder comes up, then bytes flow both ways.
func TestProxyRetriesUntilTheVMListens(t *testing.T) {
	ca, err := LoadOrCreateCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	probe, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := probe.Addr().String()
	probe.Close()
	p := New(filepath.Join(shortDir(t), "agent.ttrpc"), addr, ca.ClientConfig("vm-1"), 5*time.Second)
	defer p.Close()
	if err := p.Serve(); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		forwarder(t, ca, "vm-1", addr)
	}()
	if err := p.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 2 { // every client connection is a connection of its own to the VM
		c, err := net.Dial("unix", p.Socket())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
			t.Fatalf("%q %v", buf, err)
		}
		c.Close()
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.Socket()); !os.IsNotExist(err) {
		t.Errorf("socket left: %v", err)
	}
}

// TestProxyRefusesAnotherVM: a forwarder whose certificate names another
// VM, or comes from another CA, is never connected.
func TestProxyRefusesAnotherVM(t *testing.T) {
	ca, _ := LoadOrCreateCA(t.TempDir())
	other, _ := LoadOrCreateCA(t.TempDir())
	for name, srv := range map[string]*CA{"vm-2": ca, "vm-1": other} {
		ln := forwarder(t, srv, name, "127.0.0.1:0")
		p := New(filepath.Join(shortDir(t), "agent.ttrpc"), ln.Addr().String(), ca.ClientConfig("vm-1"), 400*time.Millisecond)
		err := p.Connect(context.Background())
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("forwarder %s: %v", name, err)
		}
		p.Close()
	}
}

// TestForwarderRefusesAnotherClient: the VM's side requires the daemon's
// client certificate.
func TestForwarderRefusesAnotherClient(t *testing.T) {
	ca, _ := LoadOrCreateCA(t.TempDir())
	other, _ := LoadOrCreateCA(t.TempDir())
	ln := forwarder(t, ca, "vm-1", "127.0.0.1:0")
	cfg := other.ClientConfig("vm-1")
	cfg.RootCAs = ca.ClientConfig("vm-1").RootCAs
	c, err := tls.Dial("tcp", ln.Addr().String(), cfg)
	if err == nil {
		_, err = c.Read(make([]byte, 1))
		c.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client of another CA got through: %v", err)
	}
}
