// Package local is the peer-pod provider whose "VMs" live in the daemon's
// process: each instance takes a loopback address of its own, reads the
// user data the daemon generated exactly as a pod VM does (strict
// cloud-config, apf.json, init-data), and serves the agent-protocol
// forwarder's mutual-TLS port in front of a stand-in kata agent. Tests, the
// demo and CI use it; the daemon cannot tell it from a cloud, so every
// daemon code path (state, user data, certificates, proxy, restart) runs
// for real.
package local

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cocogen/cocogen/internal/peerpod/agentproxy"
	"github.com/cocogen/cocogen/internal/peerpod/fakeagent"
	"github.com/cocogen/cocogen/internal/peerpod/provider"
	"github.com/cocogen/cocogen/internal/peerpod/userdata"
	"github.com/cocogen/cocogen/pkg/initdata"
)

// Name is CLOUD_PROVIDER for this provider.
const Name = "local"

// DefaultUserDataLimit is the same limit as Azure's, so that user data that
// passes here passes there.
const DefaultUserDataLimit = 64 * 1024

// Options configure the provider.
type Options struct {
	// ForwarderPort is the port every VM's forwarder listens on (the
	// daemon's FORWARDER_PORT).
	ForwarderPort int
	// InstanceTypes are the sizes offered; default one "local" type.
	InstanceTypes []provider.InstanceType
	// BootDelay is how long a VM takes before its forwarder listens, so
	// that the daemon's connection retries are exercised.
	BootDelay time.Duration
	// UserDataLimit defaults to DefaultUserDataLimit.
	UserDataLimit int
	// AgentVersion is what the stand-in agent reports.
	AgentVersion string
	// BeforeCreate, when set, runs first in CreateInstance; an error
	// fails the create (fault injection).
	BeforeCreate func(provider.InstanceSpec) error
	// AfterCreate, when set, runs once the VM exists; an error fails the
	// create with the VM left for the caller to delete, as a cloud whose
	// VM failed after it was accepted.
	AfterCreate func(provider.Instance) error
}

// Provider is a process-local cloud.
type Provider struct {
	opts Options

	mu      sync.Mutex
	vms     map[string]*VM // by name
	nextIP  uint32
	creates int
	deletes int
}

// New returns an empty local cloud.
func New(opts Options) *Provider {
	if opts.UserDataLimit == 0 {
		opts.UserDataLimit = DefaultUserDataLimit
	}
	if len(opts.InstanceTypes) == 0 {
		opts.InstanceTypes = []provider.InstanceType{{Name: "local", VCPUs: 2, MemoryMiB: 4096}}
	}
	if opts.AgentVersion == "" {
		opts.AgentVersion = "fakeagent"
	}
	return &Provider{opts: opts, vms: map[string]*VM{}}
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// VerifyConfig implements provider.Provider.
func (p *Provider) VerifyConfig(context.Context) error {
	if p.opts.ForwarderPort <= 0 || p.opts.ForwarderPort > 65535 {
		return fmt.Errorf("%w: forwarder port %d", provider.ErrInvalidConfig, p.opts.ForwarderPort)
	}
	return nil
}

// InstanceTypes implements provider.Provider.
func (p *Provider) InstanceTypes(_ context.Context, names []string) ([]provider.InstanceType, error) {
	if len(names) == 0 {
		return p.opts.InstanceTypes, nil
	}
	var out []provider.InstanceType
	var unknown []string
	for _, n := range names {
		found := false
		for _, t := range p.opts.InstanceTypes {
			if t.Name == n {
				out = append(out, t)
				found = true
			}
		}
		if !found {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%w: unknown instance types %v", provider.ErrInvalidConfig, unknown)
	}
	return out, nil
}

// DefaultInstanceType is the first offered type.
func (p *Provider) DefaultInstanceType() string { return p.opts.InstanceTypes[0].Name }

// UserDataLimit implements provider.Provider.
func (p *Provider) UserDataLimit() int { return p.opts.UserDataLimit }

// CreateInstance boots a VM: it parses the user data, then serves the
// forwarder on a fresh loopback address.
func (p *Provider) CreateInstance(ctx context.Context, spec provider.InstanceSpec) (provider.Instance, error) {
	if p.opts.BeforeCreate != nil {
		if err := p.opts.BeforeCreate(spec); err != nil {
			return provider.Instance{}, err
		}
	}
	if len(spec.UserData) > p.opts.UserDataLimit {
		return provider.Instance{}, fmt.Errorf("user data is %d bytes, the limit is %d", len(spec.UserData), p.opts.UserDataLimit)
	}
	p.mu.Lock()
	if _, exists := p.vms[spec.Name]; exists {
		p.mu.Unlock()
		return provider.Instance{}, fmt.Errorf("a VM named %s exists", spec.Name)
	}
	p.nextIP++
	ip := loopback(p.nextIP)
	p.mu.Unlock()

	vm, err := Boot(spec.UserData, netip.AddrPortFrom(ip, uint16(p.opts.ForwarderPort)), BootOptions{AgentVersion: p.opts.AgentVersion, Delay: p.opts.BootDelay})
	if err != nil {
		return provider.Instance{}, err
	}
	vm.Spec = spec
	vm.Instance = provider.Instance{ID: "local/" + spec.Name, Name: spec.Name, IPs: []netip.Addr{ip}}
	p.mu.Lock()
	p.vms[spec.Name] = vm
	p.creates++
	p.mu.Unlock()
	if p.opts.AfterCreate != nil {
		if err := p.opts.AfterCreate(vm.Instance); err != nil {
			return vm.Instance, err
		}
	}
	return vm.Instance, nil
}

// BootOptions tune Boot.
type BootOptions struct {
	// AgentVersion is what the stand-in agent reports.
	AgentVersion string
	// Delay is how long the VM takes before its forwarder listens.
	Delay time.Duration
}

// Boot starts a VM from its user data as a pod VM would: the document is
// decoded strictly, the init-data must decode, and the forwarder serves
// mutual TLS on addr with the key pair and client CA of apf.json, in
// front of a stand-in agent. Other providers' tests use it to give the
// VMs they create in a fake cloud a forwarder. Stop it with Stop.
func Boot(userData []byte, addr netip.AddrPort, opts BootOptions) (*VM, error) {
	cc, err := userdata.Parse(userData)
	if err != nil {
		return nil, fmt.Errorf("the VM refused its user data: %w", err)
	}
	fc, err := cc.Forwarder()
	if err != nil {
		return nil, fmt.Errorf("the VM refused its user data: %w", err)
	}
	var doc []byte
	if enc, ok := cc.File(userdata.InitDataPath); ok {
		if doc, err = initdata.Decode(enc); err != nil {
			return nil, fmt.Errorf("the VM refused its init-data: %w", err)
		}
	}
	serverTLS, err := agentproxy.ServerConfig([]byte(fc.TLSServerCert), []byte(fc.TLSServerKey), []byte(fc.TLSClientCA))
	if err != nil {
		return nil, fmt.Errorf("the VM refused its forwarder configuration: %w", err)
	}
	if opts.AgentVersion == "" {
		opts.AgentVersion = "fakeagent"
	}
	vm := &VM{
		Config:   fc,
		InitData: doc,
		conns:    map[net.Conn]struct{}{},
		stopCh:   make(chan struct{}),
	}
	if err := vm.boot(addr, serverTLS, opts.AgentVersion, opts.Delay); err != nil {
		vm.stop()
		return nil, fmt.Errorf("booting the VM at %s: %w", addr, err)
	}
	return vm, nil
}

// Stop stops a VM from Boot.
func (vm *VM) Stop() { vm.stop() }

// loopback returns 127.x.y.z for n (skipping 127.0.0.0/24 so the VMs
// never take 127.0.0.1).
func loopback(n uint32) netip.Addr {
	n += 256
	return netip.AddrFrom4([4]byte{127, byte(n >> 16), byte(n >> 8), byte(n)})
}

// DeleteInstance stops the VM; one that does not exist is not an error.
func (p *Provider) DeleteInstance(_ context.Context, inst provider.Instance) error {
	name := inst.Name
	if name == "" {
		name = strings.TrimPrefix(inst.ID, "local/")
	}
	p.mu.Lock()
	vm := p.vms[name]
	delete(p.vms, name)
	if vm != nil {
		p.deletes++
	}
	p.mu.Unlock()
	if vm != nil {
		vm.stop()
	}
	return nil
}

// Instances lists the names of the VMs that exist, sorted.
func (p *Provider) Instances() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	names := make([]string, 0, len(p.vms))
	for n := range p.vms {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// VM returns the VM called name, or nil.
func (p *Provider) VM(name string) *VM {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.vms[name]
}

// Counts is how many VMs were created and deleted.
func (p *Provider) Counts() (creates, deletes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.creates, p.deletes
}

// Close stops every VM (the end of a test or of the daemon).
func (p *Provider) Close() {
	p.mu.Lock()
	vms := p.vms
	p.vms = map[string]*VM{}
	p.mu.Unlock()
	for _, vm := range vms {
		vm.stop()
	}
}

// VM is one local instance.
type VM struct {
	Spec     provider.InstanceSpec
	Instance provider.Instance
	// Config is the apf.json the VM booted with.
	Config userdata.ForwarderConfig
	// InitData is the decoded init-data document, nil when none.
	InitData []byte

	mu      sync.Mutex
	ln      net.Listener
	agent   *fakeagent.Agent
	pipe    *fakeagent.PipeListener
	stopped bool
	conns   map[net.Conn]struct{}
	stopCh  chan struct{}
	wg      sync.WaitGroup
}

// Agent is the VM's stand-in agent.
func (vm *VM) Agent() *fakeagent.Agent { return vm.agent }

func (vm *VM) boot(addr netip.AddrPort, serverTLS *tls.Config, agentVersion string, delay time.Duration) error {
	agent, err := fakeagent.New(agentVersion)
	if err != nil {
		return err
	}
	vm.agent = agent
	vm.pipe = fakeagent.NewPipeListener()
	vm.wg.Add(1)
	go func() {
		defer vm.wg.Done()
		_ = agent.Serve(context.Background(), vm.pipe)
	}()
	listen := func() error {
		ln, err := tls.Listen("tcp", addr.String(), serverTLS)
		if err != nil {
			return err
		}
		vm.mu.Lock()
		defer vm.mu.Unlock()
		if vm.stopped {
			ln.Close()
			return errors.New("stopped while booting")
		}
		vm.ln = ln
		vm.wg.Add(1)
		go vm.serve(ln)
		return nil
	}
	if delay <= 0 {
		return listen()
	}
	// Booting in the background: the address exists at once, the
	// forwarder only after the delay, like a cloud VM.
	vm.wg.Add(1)
	go func() {
		defer vm.wg.Done()
		select {
		case <-time.After(delay):
			_ = listen()
		case <-vm.stopCh:
		}
	}()
	return nil
}

func (vm *VM) serve(ln net.Listener) {
	defer vm.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		vm.mu.Lock()
		if vm.stopped {
			vm.mu.Unlock()
			c.Close()
			return
		}
		vm.conns[c] = struct{}{}
		vm.mu.Unlock()
		vm.wg.Add(1)
		go func() {
			defer vm.wg.Done()
			defer func() {
				vm.mu.Lock()
				delete(vm.conns, c)
				vm.mu.Unlock()
				c.Close()
			}()
			agentConn, err := vm.pipe.Dial()
			if err != nil {
				return
			}
			defer agentConn.Close()
			agentproxy.Splice(c, agentConn)
		}()
	}
}

func (vm *VM) stop() {
	vm.mu.Lock()
	if !vm.stopped {
		close(vm.stopCh)
	}
	vm.stopped = true
	if vm.ln != nil {
		vm.ln.Close()
	}
	for c := range vm.conns {
		c.Close()
	}
	vm.mu.Unlock()
	if vm.pipe != nil {
		vm.pipe.Close()
	}
	if vm.agent != nil {
		vm.agent.Close()
	}
	vm.wg.Wait()
}
