// Package daemon is the peer-pod daemon: kata's remote-hypervisor service
// (hypervisor.Hypervisor over ttrpc) on a unix socket, which turns each pod
// sandbox into a confidential VM through a provider and serves the
// sandbox's agent socket through a mutual-TLS proxy to the VM.
//
// Every sandbox is a state machine persisted under the pods directory
// (package sandbox), so a restarted daemon re-adopts running sandboxes,
// re-serves their agent sockets, finishes half-done deletions and deletes
// the VMs of sandboxes that are gone. Cloud calls are bounded by a
// concurrency cap and a rate limit.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/containerd/ttrpc"
	"golang.org/x/time/rate"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cocogen/cocogen/internal/peerpod/agentproxy"
	"github.com/cocogen/cocogen/internal/peerpod/hypervisor"
	"github.com/cocogen/cocogen/internal/peerpod/instancetype"
	"github.com/cocogen/cocogen/internal/peerpod/kube"
	"github.com/cocogen/cocogen/internal/peerpod/provider"
	"github.com/cocogen/cocogen/internal/peerpod/sandbox"
	"github.com/cocogen/cocogen/internal/peerpod/userdata"
	"github.com/cocogen/cocogen/pkg/initdata"
)

// Version is what the Version RPC reports.
const Version = "0.1.0"

// SocketName is the agent socket's name in the sandbox directory
// (cloud-api-adaptor v0.22.0 pkg/adaptor/proxy/proxy.go SocketName).
const SocketName = "agent.ttrpc"

// Annotations the shim sends in CreateVMRequest (kata 3.25.0
// src/runtime/virtcontainers/remote.go CreateVM; names from
// virtcontainers/pkg/annotations/annotations.go and containerd's
// pkg/cri/annotations).
const (
	AnnotationSandboxName      = "io.kubernetes.cri.sandbox-name"
	AnnotationSandboxNamespace = "io.kubernetes.cri.sandbox-namespace"
	AnnotationMachineType      = "io.katacontainers.config.hypervisor.machine_type"
	AnnotationImage            = "io.katacontainers.config.hypervisor.image"
	AnnotationVCPUs            = "io.katacontainers.config.hypervisor.default_vcpus"
	AnnotationMemory           = "io.katacontainers.config.hypervisor.default_memory"
	// AnnotationInitData carries the init-data document: the shim decodes
	// the pod's annotation (gzip+base64) and sends the TOML itself (kata
	// 3.25.0 src/runtime/pkg/oci/utils.go sets HypervisorConfig.Initdata
	// to the decoded string).
	AnnotationInitData = "io.katacontainers.config.hypervisor.cc_init_data"
)

// Config is the daemon's configuration.
type Config struct {
	// PodsDir holds a directory per sandbox (state, user data, agent
	// socket).
	PodsDir string
	// CADir holds the agent CA.
	CADir string
	// ForwarderPort is where the VM's agent-protocol forwarder listens.
	ForwarderPort int
	// ProxyTimeout bounds the wait for a VM's forwarder.
	ProxyTimeout time.Duration
	// InitData is the encoded init-data (INITDATA) for pods that carry
	// none.
	InitData string
	// LimitPerNode is the most sandboxes this node runs at once.
	LimitPerNode int
	// MaxConcurrentCreates caps cloud create calls in flight.
	MaxConcurrentCreates int
	// CreateRate and CreateBurst limit cloud create calls per second.
	CreateRate  float64
	CreateBurst int
	// InstanceType is the default size; InstanceTypes the allowed ones.
	InstanceType  string
	InstanceTypes []string
	// NodeName tags the VMs with the node that owns them.
	NodeName string
	// ScratchSpace asks VMs for an encrypted scratch disk.
	ScratchSpace bool
	// DeleteTimeout bounds a cleanup delete that runs after the caller's
	// context ended.
	DeleteTimeout time.Duration
	// ReconcileInterval is how often sandboxes left behind (a delete that
	// failed, a pod network that is gone, a start that failed and no
	// StopVM came for) are cleaned up.
	ReconcileInterval time.Duration
}

// Defaults for the limits that protect the cloud API.
const (
	DefaultMaxConcurrentCreates = 8
	DefaultCreateRate           = 2.0
	DefaultCreateBurst          = 5
	DefaultDeleteTimeout        = 10 * time.Minute
	DefaultReconcileInterval    = time.Minute
	// restoreConcurrency caps the cloud deletes a restart may start at once.
	restoreConcurrency = 8
)

// maxSocketPath is the longest unix socket path Linux accepts
// (sizeof(sockaddr_un.sun_path) - 1).
const maxSocketPath = 107

// Cluster is the daemon's optional Kubernetes side.
type Cluster interface {
	// PullSecretsAuth returns the pod's image pull credentials as
	// auth.json, nil when it has none.
	PullSecretsAuth(ctx context.Context, namespace, pod string) ([]byte, error)
	// CreatePeerPod records the VM as a PeerPod owned by the pod, with a
	// finalizer, so a cluster-side cleaner can delete a leaked VM.
	CreatePeerPod(ctx context.Context, namespace, pod, instanceID, cloudProvider string) (string, error)
	// ReleasePeerPod removes the finalizer once the VM is deleted.
	ReleasePeerPod(ctx context.Context, namespace, name string) error
	// PeerPodName is the name CreatePeerPod gives the PeerPod of a VM; the
	// daemon persists it before asking, so that a daemon that dies in
	// between still releases it.
	PeerPodName(pod, instanceID string) string
	// ListPeerPods lists the cluster's PeerPods, for the cleaner of VMs
	// whose daemon lost them.
	ListPeerPods(ctx context.Context) ([]kube.PeerPodRef, error)
}

// clusterTimeout bounds each Kubernetes call: the shim's CreateVM has no
// deadline, and a sandbox's lock is held meanwhile.
const clusterTimeout = 30 * time.Second

// PodNetwork is the worker-node side of the pod network tunnel between
// the pod's network namespace and its VM.
type PodNetwork interface {
	// Inspect reads the pod's network namespace into the VM's
	// pod-network configuration, reserving a tunnel.
	Inspect(netnsPath string) (*userdata.PodNetwork, error)
	// Adopt reserves the tunnel of a sandbox restored after a restart.
	Adopt(pn *userdata.PodNetwork) error
	// Release frees the tunnel.
	Release(pn *userdata.PodNetwork)
	// Setup connects the pod's network namespace to the VM.
	Setup(netnsPath string, vmIPs []netip.Addr, pn *userdata.PodNetwork) error
	// Teardown undoes Setup; it is idempotent.
	Teardown(netnsPath string, pn *userdata.PodNetwork) error
}

// WithPodNetwork tunnels each pod's network to its VM.
func WithPodNetwork(n PodNetwork) Option { return func(d *Daemon) { d.podnet = n } }

// Option adjusts a daemon.
type Option func(*Daemon)

// WithCluster connects the daemon to Kubernetes.
func WithCluster(c Cluster) Option { return func(d *Daemon) { d.cluster = c } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(d *Daemon) { d.log = l } }

// Daemon serves the remote-hypervisor protocol.
type Daemon struct {
	cfg      Config
	provider provider.Provider
	cluster  Cluster
	log      *slog.Logger
	metrics  *Metrics
	store    *sandbox.Store
	ca       *agentproxy.CA
	selector *instancetype.Selector
	creates  chan struct{} // concurrency cap
	limiter  *rate.Limiter

	podnet PodNetwork

	mu        sync.Mutex
	sandboxes map[string]*entry
	phases    map[string]sandbox.Phase // for the metrics, without the entries' locks
	proxies   map[*agentproxy.Proxy]struct{}
	closing   bool // no proxy starts once set
	stop      chan struct{}
	stopOnce  sync.Once
	restored  chan struct{}
	srv       *ttrpc.Server
	ready     chan struct{} // closed once restored and serving
	serving   atomic.Bool
	// dead is set by Close: like a killed process, the daemon then
	// changes nothing more, neither state nor cloud, so that a successor
	// on the same state directory is the only one acting.
	dead      atomic.Bool
	readyOnce sync.Once
}

// entry is one sandbox in memory; its lock serialises the RPCs of one
// sandbox while different sandboxes proceed in parallel.
type entry struct {
	mu    sync.Mutex
	rec   sandbox.Record
	proxy *agentproxy.Proxy
	gone  bool // removed; a waiter that gets the lock must look again
}

// New prepares a daemon: it loads or creates the CA, opens the pods
// directory and restores every sandbox found there (see Restore).
func New(ctx context.Context, cfg Config, p provider.Provider, opts ...Option) (*Daemon, error) {
	if cfg.MaxConcurrentCreates <= 0 {
		cfg.MaxConcurrentCreates = DefaultMaxConcurrentCreates
	}
	if cfg.CreateRate <= 0 {
		cfg.CreateRate = DefaultCreateRate
	}
	if cfg.CreateBurst <= 0 {
		cfg.CreateBurst = DefaultCreateBurst
	}
	if cfg.ProxyTimeout <= 0 {
		cfg.ProxyTimeout = agentproxy.DefaultTimeout
	}
	if cfg.DeleteTimeout <= 0 {
		cfg.DeleteTimeout = DefaultDeleteTimeout
	}
	if cfg.ReconcileInterval <= 0 {
		cfg.ReconcileInterval = DefaultReconcileInterval
	}
	// containerd and CRI-O sandbox ids are 64 hex digits.
	if n := len(filepath.Join(cfg.PodsDir, strings.Repeat("f", 64), SocketName)); n > maxSocketPath {
		return nil, fmt.Errorf("pods directory %s is too long: its agent sockets would be %d bytes, above the %d a unix socket path may have", cfg.PodsDir, n, maxSocketPath)
	}
	d := &Daemon{
		cfg:       cfg,
		provider:  p,
		log:       slog.Default(),
		metrics:   NewMetrics(),
		creates:   make(chan struct{}, cfg.MaxConcurrentCreates),
		limiter:   rate.NewLimiter(rate.Limit(cfg.CreateRate), cfg.CreateBurst),
		sandboxes: map[string]*entry{},
		phases:    map[string]sandbox.Phase{},
		proxies:   map[*agentproxy.Proxy]struct{}{},
		stop:      make(chan struct{}),
		restored:  make(chan struct{}),
		ready:     make(chan struct{}),
	}
	for _, o := range opts {
		o(d)
	}
	d.metrics.observe(d)
	if cfg.InitData != "" {
		if _, err := initdata.Decode(cfg.InitData); err != nil {
			return nil, fmt.Errorf("INITDATA: %w", err)
		}
	}
	types, err := p.InstanceTypes(ctx, cfg.InstanceTypes)
	if err != nil {
		return nil, fmt.Errorf("describing instance types: %w", err)
	}
	if len(cfg.InstanceTypes) == 0 {
		types = nil // only the default is allowed
	}
	if d.selector, err = instancetype.NewSelector(types, cfg.InstanceType); err != nil {
		return nil, err
	}
	if d.ca, err = agentproxy.LoadOrCreateCA(cfg.CADir); err != nil {
		return nil, err
	}
	store, records, skipped, err := sandbox.Open(cfg.PodsDir)
	if err != nil {
		return nil, err
	}
	d.store = store
	for _, err := range skipped {
		d.log.Warn("skipping a sandbox directory", "error", err)
	}
	d.restore(records)
	return d, nil
}

// Serve answers the remote-hypervisor protocol on l until Shutdown or
// Close; like net/http it returns ttrpc.ErrServerClosed then.
func (d *Daemon) Serve(ctx context.Context, l net.Listener) error {
	srv, err := ttrpc.NewServer(ttrpc.WithUnaryServerInterceptor(d.metrics.intercept))
	if err != nil {
		return err
	}
	hypervisor.RegisterHypervisorService(srv, d)
	d.mu.Lock()
	d.srv = srv
	d.mu.Unlock()
	go func() {
		select {
		case <-d.restored:
			d.readyOnce.Do(func() { close(d.ready) })
		case <-d.stop:
		}
	}()
	go d.reconcileLoop()
	d.serving.Store(true)
	defer d.serving.Store(false)
	return srv.Serve(ctx, l)
}

// Ready is closed once the daemon serves and restored its sandboxes
// (RPCs for a sandbox being restored wait for it meanwhile).
func (d *Daemon) Ready() <-chan struct{} { return d.ready }

// Shutdown stops accepting RPCs, waits for those in flight, and stops
// serving agent sockets. VMs are left running: they belong to pods that
// outlive a daemon restart, and the next daemon re-adopts them.
func (d *Daemon) Shutdown(ctx context.Context) error {
	d.mu.Lock()
	srv := d.srv
	d.mu.Unlock()
	var err error
	if srv != nil {
		err = srv.Shutdown(ctx)
	}
	d.closeProxies()
	d.stopOnce.Do(func() { close(d.stop) })
	return err
}

// Close stops at once, like a killed process would (VMs stay, state
// stays, RPCs in flight change nothing more).
func (d *Daemon) Close() error {
	d.dead.Store(true)
	d.mu.Lock()
	srv := d.srv
	d.mu.Unlock()
	var err error
	if srv != nil {
		err = srv.Close()
	}
	d.closeProxies()
	d.stopOnce.Do(func() { close(d.stop) })
	return err
}

// closeProxies stops every agent socket; none starts afterwards.
func (d *Daemon) closeProxies() {
	d.mu.Lock()
	d.closing = true
	proxies := make([]*agentproxy.Proxy, 0, len(d.proxies))
	for p := range d.proxies {
		proxies = append(proxies, p)
	}
	d.mu.Unlock()
	for _, p := range proxies {
		_ = p.Close()
	}
}

// startProxy serves a sandbox's agent socket, unless the daemon is
// stopping.
func (d *Daemon) startProxy(e *entry) error {
	addr := netip.AddrPortFrom(e.rec.IPs[0], uint16(d.cfg.ForwarderPort))
	p := agentproxy.New(e.rec.AgentSocket, addr.String(), d.ca.ClientConfig(e.rec.InstanceName), d.cfg.ProxyTimeout)
	d.mu.Lock()
	if d.closing {
		d.mu.Unlock()
		return errClosed
	}
	d.proxies[p] = struct{}{}
	d.mu.Unlock()
	e.proxy = p
	return p.Serve()
}

func (d *Daemon) stopProxy(e *entry) {
	if e.proxy == nil {
		return
	}
	d.mu.Lock()
	delete(d.proxies, e.proxy)
	d.mu.Unlock()
	_ = e.proxy.Close()
	e.proxy = nil
}

// Version implements the protocol's Version.
func (d *Daemon) Version(context.Context, *hypervisor.VersionRequest) (*hypervisor.VersionResponse, error) {
	return &hypervisor.VersionResponse{Version: Version}, nil
}

// CreateVM accepts a sandbox: it validates the request, picks the
// instance type, issues the VM's certificate, renders its user data and
// persists the sandbox. No cloud call is made: StartVM creates the VM.
func (d *Daemon) CreateVM(ctx context.Context, req *hypervisor.CreateVMRequest) (*hypervisor.CreateVMResponse, error) {
	if err := sandbox.ValidID(req.Id); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	pod := podName(req.Annotations[AnnotationSandboxName])
	namespace := req.Annotations[AnnotationSandboxNamespace]
	var problems []string
	if pod == "" {
		problems = append(problems, "annotation "+AnnotationSandboxName+" (the pod's name) is missing")
	}
	if namespace == "" {
		problems = append(problems, "annotation "+AnnotationSandboxNamespace+" (the pod's namespace) is missing")
	}
	vcpus, err := annotationInt(req.Annotations, AnnotationVCPUs)
	if err != nil {
		problems = append(problems, err.Error())
	}
	memory, err := annotationInt(req.Annotations, AnnotationMemory)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return nil, status.Errorf(codes.InvalidArgument, "sandbox %s: %s", req.Id, strings.Join(problems, "; "))
	}
	itype, err := d.selector.Select(instancetype.Request{MachineType: req.Annotations[AnnotationMachineType], VCPUs: vcpus, MemoryMiB: memory})
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "sandbox %s: %v", req.Id, err)
	}

	e, existing, err := d.claim(req.Id)
	if err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	if existing {
		// The shim retried: the same pod gets the same answer.
		if e.rec.PodName == pod && e.rec.PodNamespace == namespace && (e.rec.Phase == sandbox.Created || e.rec.Phase == sandbox.Running) {
			return &hypervisor.CreateVMResponse{AgentSocketPath: e.rec.AgentSocket}, nil
		}
		return nil, status.Errorf(codes.AlreadyExists, "sandbox %s exists (pod %s/%s, %s)", req.Id, e.rec.PodNamespace, e.rec.PodName, e.rec.Phase)
	}
	var rec sandbox.Record
	created := false
	defer func() {
		if !created {
			if rec.PodNetwork != nil {
				d.podnet.Release(rec.PodNetwork)
			}
			// Remove before forget: a CreateVM retried for the same id
			// must not have its fresh directory removed by this one.
			_ = d.remove(req.Id)
			d.forget(req.Id, e)
		}
	}()

	rec = sandbox.Record{
		ID:           req.Id,
		Phase:        sandbox.Created,
		PodName:      pod,
		PodNamespace: namespace,
		NetNSPath:    req.NetworkNamespacePath,
		InstanceName: InstanceName(pod, req.Id),
		InstanceType: itype,
		Image:        req.Annotations[AnnotationImage],
		AgentSocket:  filepath.Join(d.store.Dir(req.Id), SocketName),
	}
	if len(rec.AgentSocket) > maxSocketPath {
		return nil, status.Errorf(codes.InvalidArgument, "sandbox %s: its agent socket %s would be longer than a unix socket path may be (%d bytes)", req.Id, rec.AgentSocket, maxSocketPath)
	}
	if d.podnet != nil && rec.NetNSPath != "" {
		if rec.PodNetwork, err = d.podnet.Inspect(rec.NetNSPath); err != nil {
			return nil, status.Errorf(codes.Internal, "sandbox %s: reading the pod network of %s: %v", req.Id, rec.NetNSPath, err)
		}
	}
	ud, err := d.userData(ctx, rec, req.Annotations[AnnotationInitData])
	if err != nil {
		return nil, err
	}
	// The record first: a directory with user data (a TLS key, pull
	// credentials) but no record would be skipped at every start, never
	// removed.
	if err := d.save(rec); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if err := d.writeFile(rec.ID, sandbox.UserDataFile, ud); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	e.rec = rec
	d.setPhase(rec.ID, rec.Phase)
	created = true
	d.log.Info("sandbox created", "sandbox", rec.ID, "pod", namespace+"/"+pod, "instanceType", itype, "instance", rec.InstanceName)
	return &hypervisor.CreateVMResponse{AgentSocketPath: rec.AgentSocket}, nil
}

// claim returns the sandbox's entry locked; existing tells whether it was
// there already. A new entry counts against the node's limit.
func (d *Daemon) claim(id string) (e *entry, existing bool, err error) {
	for {
		d.mu.Lock()
		if e = d.sandboxes[id]; e != nil {
			d.mu.Unlock()
			e.mu.Lock()
			if e.gone {
				e.mu.Unlock()
				continue
			}
			return e, true, nil
		}
		if d.cfg.LimitPerNode > 0 && len(d.sandboxes) >= d.cfg.LimitPerNode {
			d.mu.Unlock()
			return nil, false, status.Errorf(codes.ResourceExhausted, "this node runs %d peer pods, its limit (PEERPODS_LIMIT_PER_NODE)", d.cfg.LimitPerNode)
		}
		e = &entry{}
		e.mu.Lock()
		d.sandboxes[id] = e
		d.mu.Unlock()
		return e, false, nil
	}
}

// lookup returns the sandbox's entry locked, or nil.
func (d *Daemon) lookup(id string) *entry {
	for {
		d.mu.Lock()
		e := d.sandboxes[id]
		d.mu.Unlock()
		if e == nil {
			return nil
		}
		e.mu.Lock()
		if !e.gone {
			return e
		}
		e.mu.Unlock()
	}
}

// forget drops a locked entry.
func (d *Daemon) forget(id string, e *entry) {
	e.gone = true
	d.mu.Lock()
	if d.sandboxes[id] == e {
		delete(d.sandboxes, id)
		delete(d.phases, id)
	}
	d.mu.Unlock()
}

func (d *Daemon) setPhase(id string, p sandbox.Phase) {
	d.mu.Lock()
	if _, ok := d.sandboxes[id]; ok {
		d.phases[id] = p
	}
	d.mu.Unlock()
}

func (d *Daemon) userData(ctx context.Context, rec sandbox.Record, initDataTOML string) ([]byte, error) {
	certPEM, keyPEM, err := d.ca.IssueServer(rec.InstanceName)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	in := userdata.Input{
		Forwarder: userdata.ForwarderConfig{
			PodNetwork:    rec.PodNetwork,
			PodNamespace:  rec.PodNamespace,
			PodName:       rec.PodName,
			TLSServerCert: string(certPEM),
			TLSServerKey:  string(keyPEM),
			TLSClientCA:   string(d.ca.CertPEM()),
		},
		InitData:     d.cfg.InitData,
		ScratchSpace: d.cfg.ScratchSpace,
	}
	if initDataTOML != "" {
		// Re-encoded with cocogen's fixed gzip header, so the same
		// document always gives the VM the same bytes.
		if in.InitData, err = initdata.Encode([]byte(initDataTOML)); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "sandbox %s: init-data: %v", rec.ID, err)
		}
	}
	if d.cluster != nil {
		// Like the kubelet, a missing pull secret is not fatal: the image
		// may be public.
		cctx, cancel := context.WithTimeout(ctx, clusterTimeout)
		in.AuthJSON, err = d.cluster.PullSecretsAuth(cctx, rec.PodNamespace, rec.PodName)
		cancel()
		if err != nil {
			d.log.Warn("reading image pull secrets", "pod", rec.PodNamespace+"/"+rec.PodName, "error", err)
		}
	}
	ud, err := userdata.Build(in)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if limit := d.provider.UserDataLimit(); limit > 0 && len(ud) > limit {
		return nil, status.Errorf(codes.InvalidArgument, "sandbox %s: the VM's user data is %d bytes, above %s's limit of %d (init-data %d bytes, pull credentials %d bytes)",
			rec.ID, len(ud), d.provider.Name(), limit, len(in.InitData), len(in.AuthJSON))
	}
	return ud, nil
}

// StartVM creates the VM and returns once its forwarder answers over
// mutual TLS. Whatever fails, what it created is deleted.
func (d *Daemon) StartVM(ctx context.Context, req *hypervisor.StartVMRequest) (*hypervisor.StartVMResponse, error) {
	e := d.lookup(req.Id)
	if e == nil {
		return nil, status.Errorf(codes.NotFound, "sandbox %s does not exist (CreateVM first)", req.Id)
	}
	defer e.mu.Unlock()
	switch e.rec.Phase {
	case sandbox.Running:
		return &hypervisor.StartVMResponse{}, nil
	case sandbox.Created:
	default:
		return nil, status.Errorf(codes.FailedPrecondition, "sandbox %s is %s", req.Id, e.rec.Phase)
	}
	ud, err := d.store.ReadFile(req.Id, sandbox.UserDataFile)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if err := d.move(e, sandbox.Starting); err != nil {
		return nil, err
	}
	inst, err := d.createInstance(ctx, e.rec, ud)
	// The user data (a TLS key, pull credentials) is not needed again:
	// a sandbox is started once.
	_ = os.Remove(filepath.Join(d.store.Dir(req.Id), sandbox.UserDataFile))
	if err == nil {
		err = d.serveAgent(ctx, e, inst)
	}
	if err != nil {
		d.log.Error("starting the VM failed; deleting what was created", "sandbox", req.Id, "instance", e.rec.InstanceName, "error", err)
		if terr := d.teardown(e, sandbox.Stopped); terr != nil {
			d.log.Error("cleaning up a failed start", "sandbox", req.Id, "error", terr)
		}
		return nil, rpcError(req.Id, err)
	}
	d.log.Info("sandbox running", "sandbox", req.Id, "instance", e.rec.InstanceName, "ip", inst.IPs[0])
	return &hypervisor.StartVMResponse{}, nil
}

// rpcError keeps a status error's code, and gives others one: the
// caller's deadline or cancellation as such, the rest Unavailable (the
// cloud or the VM did not come up).
func rpcError(id string, err error) error {
	if s, ok := status.FromError(err); ok && s.Code() != codes.Unknown {
		return err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return status.Errorf(codes.DeadlineExceeded, "sandbox %s: %v", id, err)
	case errors.Is(err, context.Canceled):
		return status.Errorf(codes.Canceled, "sandbox %s: %v", id, err)
	}
	return status.Errorf(codes.Unavailable, "sandbox %s: %v", id, err)
}

func (d *Daemon) createInstance(ctx context.Context, rec sandbox.Record, ud []byte) (provider.Instance, error) {
	select {
	case d.creates <- struct{}{}:
		defer func() { <-d.creates }()
	case <-ctx.Done():
		return provider.Instance{}, fmt.Errorf("waiting for a create slot: %w", ctx.Err())
	}
	if err := d.limiter.Wait(ctx); err != nil {
		return provider.Instance{}, fmt.Errorf("waiting for the create rate limit: %w", err)
	}
	start := time.Now()
	inst, err := d.provider.CreateInstance(ctx, provider.InstanceSpec{
		Name:         rec.InstanceName,
		InstanceType: rec.InstanceType,
		Image:        rec.Image,
		UserData:     ud,
		Tags:         instanceTags(rec, d.cfg.NodeName),
	})
	d.metrics.instanceOp("create", start, err)
	if err != nil {
		return inst, fmt.Errorf("creating instance %s: %w", rec.InstanceName, err)
	}
	if len(inst.IPs) == 0 {
		return inst, fmt.Errorf("instance %s has no address", rec.InstanceName)
	}
	return inst, nil
}

// maxTagValue is the shortest tag value limit of the supported clouds
// (Azure: 256 characters).
const maxTagValue = 256

// instanceTags name the sandbox, pod and node a VM belongs to; values are
// cut to the clouds' limit (a namespace and pod name can together reach
// 317 characters).
func instanceTags(rec sandbox.Record, node string) map[string]string {
	cut := func(s string) string { return s[:min(len(s), maxTagValue)] }
	return map[string]string{"peerpodd-sandbox": cut(rec.ID), "peerpodd-pod": cut(rec.PodNamespace + "." + rec.PodName), "peerpodd-node": cut(node)}
}

// serveAgent records the instance, guards it with a PeerPod, connects
// the pod network, then serves the agent socket once the forwarder
// answers.
func (d *Daemon) serveAgent(ctx context.Context, e *entry, inst provider.Instance) error {
	e.rec.InstanceID = inst.ID
	e.rec.IPs = inst.IPs
	if d.cluster != nil {
		// Named before it is asked for, so that a daemon that dies in
		// between still releases it.
		e.rec.PeerPod = d.cluster.PeerPodName(e.rec.PodName, inst.ID)
	}
	if err := d.save(e.rec); err != nil {
		return err
	}
	if d.cluster != nil {
		cctx, cancel := context.WithTimeout(ctx, clusterTimeout)
		_, err := d.cluster.CreatePeerPod(cctx, e.rec.PodNamespace, e.rec.PodName, inst.ID, d.provider.Name())
		cancel()
		if err != nil {
			// The VM works without it; only the cluster-side safety net
			// is missing, which the metrics and log make visible.
			d.metrics.errors.WithLabelValues("peerpod").Inc()
			d.log.Warn("creating the PeerPod object", "sandbox", e.rec.ID, "error", err)
		}
	}
	if d.podnet != nil && e.rec.PodNetwork != nil {
		if err := d.podnet.Setup(e.rec.NetNSPath, inst.IPs, e.rec.PodNetwork); err != nil {
			return fmt.Errorf("connecting the pod network to the VM: %w", err)
		}
	}
	if err := d.startProxy(e); err != nil {
		return err
	}
	if err := e.proxy.Connect(ctx); err != nil {
		return err
	}
	return d.move(e, sandbox.Running)
}

// errClosed is what state changes return once the daemon was closed.
var errClosed = status.Error(codes.Unavailable, "the daemon is shutting down")

func (d *Daemon) save(rec sandbox.Record) error {
	if d.dead.Load() {
		return errClosed
	}
	return d.store.Save(rec)
}

func (d *Daemon) writeFile(id, name string, data []byte) error {
	if d.dead.Load() {
		return errClosed
	}
	return d.store.WriteFile(id, name, data)
}

func (d *Daemon) remove(id string) error {
	if d.dead.Load() {
		return errClosed
	}
	return d.store.Remove(id)
}

// move persists a phase change.
func (d *Daemon) move(e *entry, to sandbox.Phase) error {
	if !sandbox.CanMove(e.rec.Phase, to) {
		return status.Errorf(codes.FailedPrecondition, "sandbox %s cannot go from %s to %s", e.rec.ID, e.rec.Phase, to)
	}
	prev := e.rec.Phase
	e.rec.Phase = to
	if err := d.save(e.rec); err != nil {
		e.rec.Phase = prev
		if status.Code(err) != codes.Unknown {
			return err
		}
		return status.Error(codes.Internal, err.Error())
	}
	d.setPhase(e.rec.ID, to)
	return nil
}

// StopVM deletes the sandbox's VM and everything the daemon holds for it.
// It is idempotent: an unknown sandbox, or one that never got a VM, stops
// successfully.
func (d *Daemon) StopVM(ctx context.Context, req *hypervisor.StopVMRequest) (*hypervisor.StopVMResponse, error) {
	if req.Id == "" {
		return &hypervisor.StopVMResponse{}, nil
	}
	e := d.lookup(req.Id)
	if e == nil {
		return &hypervisor.StopVMResponse{}, nil
	}
	defer e.mu.Unlock()
	if err := d.teardown(e, ""); err != nil {
		return nil, rpcError(req.Id, err)
	}
	return &hypervisor.StopVMResponse{}, nil
}

// teardown deletes the VM, undoes the pod network, releases the PeerPod
// and, unless keepAs names a phase to keep the record in, removes the
// sandbox. A failed delete leaves the record in Stopping for the next
// attempt (StopVM again, the reconciler, or the next daemon's restore).
func (d *Daemon) teardown(e *entry, keepAs sandbox.Phase) error {
	// The agent socket stops first, even in a daemon that is closing.
	d.stopProxy(e)
	if d.dead.Load() {
		return errClosed
	}
	if e.rec.PodNetwork != nil && d.podnet != nil {
		if err := d.podnet.Teardown(e.rec.NetNSPath, e.rec.PodNetwork); err != nil {
			d.log.Warn("tearing down the pod network", "sandbox", e.rec.ID, "error", err)
		}
	}
	if e.rec.Phase != sandbox.Created && e.rec.Phase != sandbox.Stopped {
		if err := d.move(e, sandbox.Stopping); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), d.cfg.DeleteTimeout)
		defer cancel()
		start := time.Now()
		err := d.provider.DeleteInstance(ctx, provider.Instance{ID: e.rec.InstanceID, Name: e.rec.InstanceName, IPs: e.rec.IPs})
		d.metrics.instanceOp("delete", start, err)
		if err != nil {
			d.log.Error("deleting the VM", "sandbox", e.rec.ID, "instance", e.rec.InstanceName, "error", err)
			return fmt.Errorf("deleting instance %s: %w", e.rec.InstanceName, err)
		}
		if e.rec.PeerPod != "" && d.cluster != nil {
			cctx, cancel := context.WithTimeout(ctx, clusterTimeout)
			err := d.cluster.ReleasePeerPod(cctx, e.rec.PodNamespace, e.rec.PeerPod)
			cancel()
			if err != nil {
				d.metrics.errors.WithLabelValues("peerpod").Inc()
				d.log.Warn("releasing the PeerPod object", "sandbox", e.rec.ID, "peerPod", e.rec.PeerPod, "error", err)
			}
		}
		e.rec.Phase = sandbox.Stopped
	}
	if e.rec.PodNetwork != nil && d.podnet != nil {
		d.podnet.Release(e.rec.PodNetwork)
		e.rec.PodNetwork = nil
	}
	if keepAs != "" {
		// A failed StartVM keeps the (VM-less) record so that the shim's
		// StopVM finds it; it is removed there, by the reconciler or at
		// the next restore.
		e.rec.Phase = keepAs
		if err := d.save(e.rec); err != nil {
			return err
		}
		d.setPhase(e.rec.ID, keepAs)
		return nil
	}
	if err := d.remove(e.rec.ID); err != nil {
		return err
	}
	d.forget(e.rec.ID, e)
	d.log.Info("sandbox stopped", "sandbox", e.rec.ID)
	return nil
}

// restore re-adopts what a previous daemon left (see the sandbox
// package's phases). Every restored sandbox is locked until it is done,
// so RPCs for it wait; the rest of the node is served meanwhile. Cloud
// deletes run at most restoreConcurrency at a time.
func (d *Daemon) restore(records []sandbox.Record) {
	entries := make([]*entry, len(records))
	d.mu.Lock()
	for i, rec := range records {
		e := &entry{rec: rec}
		e.mu.Lock()
		d.sandboxes[rec.ID] = e
		d.phases[rec.ID] = rec.Phase
		entries[i] = e
	}
	d.mu.Unlock()
	go func() {
		defer close(d.restored)
		sem := make(chan struct{}, restoreConcurrency)
		var wg sync.WaitGroup
		for _, e := range entries {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				defer e.mu.Unlock()
				d.restoreOne(e)
			}()
		}
		wg.Wait()
	}()
}

func (d *Daemon) restoreOne(e *entry) {
	rec := e.rec
	gone := rec.NetNSPath != "" && !exists(rec.NetNSPath)
	if rec.Phase == sandbox.Created && !exists(filepath.Join(d.store.Dir(rec.ID), sandbox.UserDataFile)) {
		gone = true // the daemon died inside CreateVM
	}
	if rec.PodNetwork != nil && d.podnet != nil && !gone {
		if err := d.podnet.Adopt(rec.PodNetwork); err != nil {
			d.log.Error("re-adopting the pod network", "sandbox", rec.ID, "error", err)
			gone = true
		}
	}
	var err error
	switch {
	case rec.Phase == sandbox.Created && !gone:
		d.log.Info("restored a sandbox waiting for StartVM", "sandbox", rec.ID)
	case rec.Phase == sandbox.Running && !gone:
		if err = d.startProxy(e); err == nil {
			d.log.Info("re-adopted a running sandbox", "sandbox", rec.ID, "instance", rec.InstanceName)
		}
	case rec.Phase == sandbox.Starting:
		// The StartVM that was in flight failed with the old daemon; the
		// shim will StopVM. Delete what it may have created, by name.
		d.log.Info("deleting the VM of a start that did not finish", "sandbox", rec.ID, "instance", rec.InstanceName)
		err = d.teardown(e, sandbox.Stopped)
	default:
		// Stopping, Stopped, or a sandbox whose pod network is gone.
		d.log.Info("deleting a sandbox that is gone", "sandbox", rec.ID, "phase", rec.Phase, "instance", rec.InstanceName)
		err = d.teardown(e, "")
	}
	if err != nil {
		d.metrics.errors.WithLabelValues("restore").Inc()
		d.log.Error("restoring", "sandbox", rec.ID, "error", err)
	}
}

// reconcileLoop cleans up, every ReconcileInterval, sandboxes nothing
// else will: deletes that failed (Stopping), failed starts whose StopVM
// never came (Stopped) and sandboxes whose pod network is gone.
func (d *Daemon) reconcileLoop() {
	t := time.NewTicker(d.cfg.ReconcileInterval)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			d.reconcile()
		}
	}
}

func (d *Daemon) reconcile() {
	d.reconcileSandboxes()
	if d.cluster != nil {
		d.cleanLostVMs()
	}
}

// cleanLostVMs deletes the VM of every PeerPod being deleted (its pod is
// gone) that still holds the finalizer and that no sandbox of this daemon
// owns, then releases it: a VM whose daemon lost its record (a node that
// rebooted, a state directory wiped) would otherwise run on, and its
// namespace never finish deleting. Every node's daemon may do this for
// any PeerPod of its provider; deletes and releases are idempotent.
// (cloud-api-adaptor leaves it to its peerpod-ctrl controller, v0.22.0
// src/peerpod-ctrl/controllers/peerpod_controller.go.)
func (d *Daemon) cleanLostVMs() {
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	pps, err := d.cluster.ListPeerPods(ctx)
	cancel()
	if err != nil {
		d.metrics.errors.WithLabelValues("peerpod").Inc()
		d.log.Warn("listing PeerPods", "error", err)
		return
	}
	owned := map[string]bool{}
	d.mu.Lock()
	for _, e := range d.sandboxes {
		if e.mu.TryLock() {
			owned[e.rec.InstanceID] = true
			e.mu.Unlock()
		} else {
			// Busy: it may be creating a VM right now; skip this round.
			d.mu.Unlock()
			return
		}
	}
	d.mu.Unlock()
	for _, pp := range pps {
		if !pp.Deleting || !pp.Held || pp.CloudProvider != d.provider.Name() || pp.InstanceID == "" || owned[pp.InstanceID] {
			continue
		}
		d.log.Info("deleting the VM of a PeerPod being deleted that no sandbox owns", "peerPod", pp.Namespace+"/"+pp.Name, "instance", pp.InstanceID)
		ctx, cancel := context.WithTimeout(context.Background(), d.cfg.DeleteTimeout)
		start := time.Now()
		err := d.provider.DeleteInstance(ctx, provider.Instance{ID: pp.InstanceID})
		d.metrics.instanceOp("delete", start, err)
		if err == nil {
			cctx, ccancel := context.WithTimeout(ctx, clusterTimeout)
			err = d.cluster.ReleasePeerPod(cctx, pp.Namespace, pp.Name)
			ccancel()
		}
		cancel()
		if err != nil {
			d.metrics.errors.WithLabelValues("reconcile").Inc()
			d.log.Error("cleaning up a lost VM", "peerPod", pp.Namespace+"/"+pp.Name, "error", err)
		}
	}
}

func (d *Daemon) reconcileSandboxes() {
	d.mu.Lock()
	entries := make([]*entry, 0, len(d.sandboxes))
	for _, e := range d.sandboxes {
		entries = append(entries, e)
	}
	d.mu.Unlock()
	for _, e := range entries {
		// Busy sandboxes have an RPC in flight: it decides for them.
		if !e.mu.TryLock() {
			continue
		}
		if !e.gone {
			rec := e.rec
			gone := rec.NetNSPath != "" && !exists(rec.NetNSPath)
			if rec.Phase == sandbox.Stopping || rec.Phase == sandbox.Stopped || gone {
				d.log.Info("cleaning up a sandbox left behind", "sandbox", rec.ID, "phase", rec.Phase, "networkGone", gone)
				if err := d.teardown(e, ""); err != nil {
					d.metrics.errors.WithLabelValues("reconcile").Inc()
					d.log.Error("cleaning up", "sandbox", rec.ID, "error", err)
				}
			}
		}
		e.mu.Unlock()
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// phaseCounts counts the sandboxes by phase (for the metrics; it takes no
// sandbox's lock, so an RPC in flight does not hide its sandbox).
func (d *Daemon) phaseCounts() map[sandbox.Phase]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	counts := map[sandbox.Phase]int{}
	for _, p := range d.phases {
		counts[p]++
	}
	return counts
}

// podName extracts the pod's name: containerd sends it as is, CRI-O as
// k8s_<pod>_<namespace>_<uid>_<attempt> (cloud-api-adaptor v0.22.0
// pkg/util/cloud.go GetPodName).
func podName(sandboxName string) string {
	if parts := strings.Split(sandboxName, "_"); len(parts) > 1 && parts[0] == "k8s" {
		return parts[1]
	}
	return sandboxName
}

func annotationInt(annotations map[string]string, key string) (int64, error) {
	v, ok := annotations[key]
	if !ok || v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("annotation %s: %q is not a non-negative integer", key, v)
	}
	return n, nil
}

var notNameChar = regexp.MustCompile(`[^a-z0-9-]+`)

// InstanceName names a sandbox's VM: podvm-<pod>-<first 8 of the sandbox
// id>, lowercase letters, digits and dashes, at most 63 characters, so it
// is a valid name (and DNS label, which the forwarder's certificate
// needs) in every cloud, and tells an operator whose VM it is.
func InstanceName(pod, sandboxID string) string {
	id := strings.ToLower(notNameChar.ReplaceAllString(strings.ToLower(sandboxID), ""))
	if len(id) > 8 {
		id = id[:8]
	}
	p := strings.Trim(notNameChar.ReplaceAllString(strings.ToLower(pod), "-"), "-")
	const prefix = "podvm-"
	if room := 63 - len(prefix) - 1 - len(id); len(p) > room {
		p = strings.TrimRight(p[:room], "-")
	}
	if p == "" {
		return prefix + id
	}
	return prefix + p + "-" + id
}
