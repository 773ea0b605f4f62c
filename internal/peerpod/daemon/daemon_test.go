package daemon_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cocogen/cocogen/internal/testkit"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cocogen/cocogen/internal/peerpod/agentpb"
	"github.com/cocogen/cocogen/internal/peerpod/daemon"
	"github.com/cocogen/cocogen/internal/peerpod/hypervisor"
	"github.com/cocogen/cocogen/internal/peerpod/local"
	"github.com/cocogen/cocogen/internal/peerpod/provider"
	"github.com/cocogen/cocogen/internal/peerpod/sandbox"
	"github.com/cocogen/cocogen/pkg/initdata"
)

// node is one worker node: a state directory, a local cloud that outlives
// daemon restarts, and the current daemon serving the hypervisor socket.
type node struct {
	t     testing.TB
	dir   string
	cloud *local.Provider
	cfg   daemon.Config
	opts  []daemon.Option
	// cloudOverride, when set, is the provider the daemon uses instead of
	// cloud (a wrapper around it).
	cloudOverride provider.Provider
	d             *daemon.Daemon
	socket        string
	done          chan error
}

func newNode(t testing.TB, opts local.Options, tweak func(*daemon.Config)) *node {
	t.Helper()
	return newNodeWith(t, opts, tweak)
}

func newNodeWith(t testing.TB, opts local.Options, tweak func(*daemon.Config), dopts ...daemon.Option) *node {
	t.Helper()
	// Unix socket paths are limited to 108 bytes: keep the directory short.
	dir, err := os.MkdirTemp("", "ppd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if opts.ForwarderPort == 0 {
		opts.ForwarderPort = testkit.FreePort(t)
	}
	cloud := local.New(opts)
	t.Cleanup(cloud.Close)
	n := &node{t: t, dir: dir, cloud: cloud, cfg: daemon.Config{
		PodsDir:       filepath.Join(dir, "pods"),
		CADir:         filepath.Join(dir, "ca"),
		ForwarderPort: opts.ForwarderPort,
		ProxyTimeout:  10 * time.Second,
		InstanceType:  "local",
		LimitPerNode:  100,
		CreateRate:    1000,
		CreateBurst:   100,
		NodeName:      "worker-0",
	}, socket: filepath.Join(dir, "hypervisor.sock"), opts: dopts}
	if tweak != nil {
		tweak(&n.cfg)
	}
	n.start()
	t.Cleanup(func() { n.d.Close() })
	return n
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// start runs a new daemon on the node's state directory.
func (n *node) start() {
	n.t.Helper()
	var p provider.Provider = n.cloud
	if n.cloudOverride != nil {
		p = n.cloudOverride
	}
	d, err := daemon.New(context.Background(), n.cfg, p, append([]daemon.Option{daemon.WithLogger(quiet)}, n.opts...)...)
	if err != nil {
		n.t.Fatal(err)
	}
	os.Remove(n.socket)
	l, err := net.Listen("unix", n.socket)
	if err != nil {
		n.t.Fatal(err)
	}
	n.d = d
	n.done = make(chan error, 1)
	go func() { n.done <- d.Serve(context.Background(), l) }()
	<-d.Ready()
}

// kill stops the daemon as a SIGKILL would: nothing is cleaned up.
func (n *node) kill() {
	n.d.Close()
	<-n.done
}

// shim is a ttrpc client acting as the kata shim, which opens a new
// connection for every call (kata 3.25.0 remote.go openRemoteService).
func (n *node) shim() hypervisor.HypervisorService {
	return shimClient{n}
}

type shimClient struct{ n *node }

func (s shimClient) call(ctx context.Context, f func(hypervisor.HypervisorService) error) error {
	conn, err := net.Dial("unix", s.n.socket)
	if err != nil {
		return err
	}
	c := ttrpc.NewClient(conn)
	defer c.Close()
	return f(hypervisor.NewHypervisorClient(c))
}

func (s shimClient) CreateVM(ctx context.Context, r *hypervisor.CreateVMRequest) (resp *hypervisor.CreateVMResponse, err error) {
	err = s.call(ctx, func(c hypervisor.HypervisorService) error { resp, err = c.CreateVM(ctx, r); return err })
	return
}

func (s shimClient) StartVM(ctx context.Context, r *hypervisor.StartVMRequest) (resp *hypervisor.StartVMResponse, err error) {
	err = s.call(ctx, func(c hypervisor.HypervisorService) error { resp, err = c.StartVM(ctx, r); return err })
	return
}

func (s shimClient) StopVM(ctx context.Context, r *hypervisor.StopVMRequest) (resp *hypervisor.StopVMResponse, err error) {
	err = s.call(ctx, func(c hypervisor.HypervisorService) error { resp, err = c.StopVM(ctx, r); return err })
	return
}

func (s shimClient) Version(ctx context.Context, r *hypervisor.VersionRequest) (resp *hypervisor.VersionResponse, err error) {
	err = s.call(ctx, func(c hypervisor.HypervisorService) error { resp, err = c.Version(ctx, r); return err })
	return
}

func createRequest(id, pod string) *hypervisor.CreateVMRequest {
	// What kata 3.25.0 remote.go sends: every annotation, empty or not.
	return &hypervisor.CreateVMRequest{
		Id: id,
		Annotations: map[string]string{
			daemon.AnnotationSandboxName:                            pod,
			daemon.AnnotationSandboxNamespace:                       "confidential",
			daemon.AnnotationMachineType:                            "",
			daemon.AnnotationImage:                                  "",
			daemon.AnnotationVCPUs:                                  "1",
			daemon.AnnotationMemory:                                 "2048",
			daemon.AnnotationInitData:                               "",
			"io.katacontainers.config.hypervisor.default_gpus":      "0",
			"io.katacontainers.config.hypervisor.default_gpu_model": "",
		},
	}
}

// agentCheck dials the sandbox's agent socket as the shim does and calls
// the agent's health service.
func agentCheck(ctx context.Context, socket string) error {
	conn, err := net.Dial("unix", socket)
	if err != nil {
		return err
	}
	c := ttrpc.NewClient(conn)
	defer c.Close()
	resp, err := agentpb.NewHealthClient(c).Check(ctx, &agentpb.CheckRequest{})
	if err != nil {
		return err
	}
	if resp.Status != agentpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("agent status %v", resp.Status)
	}
	return nil
}

const initDataTOML = `algorithm = "sha256"
version = "0.1.0"

[data]
"aa.toml" = '''
[token_configs.kbs]
url = "https://kbs.example:8080"
'''
`

// TestShimLifecycle is the end-to-end path: the shim creates and starts a
// sandbox, reaches the fake agent through the proxy over mutual TLS, and
// stops it; the VM is deleted and the sockets removed.
func TestShimLifecycle(t *testing.T) {
	n := newNode(t, local.Options{BootDelay: 200 * time.Millisecond}, nil)
	shim := n.shim()
	ctx := context.Background()

	v, err := shim.Version(ctx, &hypervisor.VersionRequest{Version: "0.0.0"})
	if err != nil || v.Version != daemon.Version {
		t.Fatalf("Version: %v %v", v, err)
	}
	req := createRequest("c0ffee00aa", "web-0")
	req.Annotations[daemon.AnnotationInitData] = initDataTOML
	req.NetworkNamespacePath = filepath.Join(n.dir, "netns-web-0")
	if err := os.WriteFile(req.NetworkNamespacePath, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	created, err := shim.CreateVM(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(n.cfg.PodsDir, "c0ffee00aa", "agent.ttrpc"); created.AgentSocketPath != want {
		t.Fatalf("agent socket %q, want %q", created.AgentSocketPath, want)
	}
	if got := n.cloud.Instances(); len(got) != 0 {
		t.Fatalf("CreateVM made a VM: %v", got)
	}
	if _, err := shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: "c0ffee00aa"}); err != nil {
		t.Fatal(err)
	}
	vm := n.cloud.VM("podvm-web-0-c0ffee00")
	if vm == nil {
		t.Fatalf("no VM podvm-web-0-c0ffee00 among %v", n.cloud.Instances())
	}
	if string(vm.InitData) != initDataTOML {
		t.Errorf("the VM got init-data %q", vm.InitData)
	}
	if vm.Config.PodName != "web-0" || vm.Config.PodNamespace != "confidential" {
		t.Errorf("apf.json names pod %s/%s", vm.Config.PodNamespace, vm.Config.PodName)
	}
	for i := range 3 {
		if err := agentCheck(ctx, created.AgentSocketPath); err != nil {
			t.Fatalf("agent call %d: %v", i, err)
		}
	}
	if got := vm.Agent().Checks(); got != 3 {
		t.Errorf("the agent answered %d checks, want 3", got)
	}
	if _, err := shim.StopVM(ctx, &hypervisor.StopVMRequest{Id: "c0ffee00aa"}); err != nil {
		t.Fatal(err)
	}
	if got := n.cloud.Instances(); len(got) != 0 {
		t.Errorf("VMs left: %v", got)
	}
	if _, err := os.Stat(created.AgentSocketPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("agent socket left: %v", err)
	}
	if _, err := os.Stat(filepath.Join(n.cfg.PodsDir, "c0ffee00aa")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("sandbox directory left: %v", err)
	}
	// Idempotent: again, and for sandboxes never seen or never started.
	for _, id := range []string{"c0ffee00aa", "", "unknown"} {
		if _, err := shim.StopVM(ctx, &hypervisor.StopVMRequest{Id: id}); err != nil {
			t.Errorf("StopVM(%q): %v", id, err)
		}
	}
	if _, err := shim.CreateVM(ctx, createRequest("never-started", "web-1")); err != nil {
		t.Fatal(err)
	}
	if _, err := shim.StopVM(ctx, &hypervisor.StopVMRequest{Id: "never-started"}); err != nil {
		t.Errorf("StopVM of a sandbox without VM: %v", err)
	}
	if c, d := n.cloud.Counts(); c != 1 || d != 1 {
		t.Errorf("%d creates, %d deletes; want 1 and 1", c, d)
	}
}

// TestConcurrentSandboxes creates, starts, uses and stops 50 sandboxes at
// once; no VM, socket or directory is left.
func TestConcurrentSandboxes(t *testing.T) {
	n := newNode(t, local.Options{BootDelay: 20 * time.Millisecond}, nil)
	shim := n.shim()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("%064x", i+1)
			created, err := shim.CreateVM(ctx, createRequest(id, fmt.Sprintf("pod-%d", i)))
			if err == nil {
				_, err = shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: id})
			}
			if err == nil {
				err = agentCheck(ctx, created.AgentSocketPath)
			}
			if _, stopErr := shim.StopVM(ctx, &hypervisor.StopVMRequest{Id: id}); err == nil {
				err = stopErr
			}
			if err != nil {
				errs <- fmt.Errorf("sandbox %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := n.cloud.Instances(); len(got) != 0 {
		t.Errorf("%d VMs leaked: %v", len(got), got)
	}
	if c, d := n.cloud.Counts(); c != 50 || d != 50 {
		t.Errorf("%d creates, %d deletes; want 50 each", c, d)
	}
	if entries, _ := os.ReadDir(n.cfg.PodsDir); len(entries) != 0 {
		t.Errorf("%d sandbox directories left", len(entries))
	}
}

// TestFailedStartDeletesWhatItCreated: a VM that fails after the cloud
// accepted it, and a forwarder that never answers, both end with no VM.
func TestFailedStartDeletesWhatItCreated(t *testing.T) {
	var failAfter bool
	var mu sync.Mutex
	n := newNode(t, local.Options{AfterCreate: func(provider.Instance) error {
		mu.Lock()
		defer mu.Unlock()
		if failAfter {
			return errors.New("provisioning failed")
		}
		return nil
	}}, func(c *daemon.Config) { c.ProxyTimeout = 300 * time.Millisecond })
	shim := n.shim()
	ctx := context.Background()

	mu.Lock()
	failAfter = true
	mu.Unlock()
	if _, err := shim.CreateVM(ctx, createRequest("fail-1", "a")); err != nil {
		t.Fatal(err)
	}
	_, err := shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: "fail-1"})
	if err == nil || !strings.Contains(err.Error(), "provisioning failed") {
		t.Fatalf("StartVM: %v", err)
	}
	if got := n.cloud.Instances(); len(got) != 0 {
		t.Errorf("VMs left after a failed create: %v", got)
	}

	// A forwarder that does not answer: the VM exists but its agent
	// channel never comes up within PROXY_TIMEOUT.
	mu.Lock()
	failAfter = false
	mu.Unlock()
	n.cloud2(t)
	if _, err := shim.CreateVM(ctx, createRequest("fail-2", "b")); err != nil {
		t.Fatal(err)
	}
	_, err = shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: "fail-2"})
	if err == nil || !strings.Contains(err.Error(), "connecting to the agent forwarder") {
		t.Fatalf("StartVM: %v", err)
	}
	if got := n.cloud.Instances(); len(got) != 0 {
		t.Errorf("VMs left after a forwarder timeout: %v", got)
	}
	for _, id := range []string{"fail-1", "fail-2"} {
		if _, err := shim.StopVM(ctx, &hypervisor.StopVMRequest{Id: id}); err != nil {
			t.Errorf("StopVM(%s): %v", id, err)
		}
	}
	if entries, _ := os.ReadDir(n.cfg.PodsDir); len(entries) != 0 {
		t.Errorf("%d sandbox directories left", len(entries))
	}
}

// cloud2 makes the node's VMs boot slower than the proxy waits.
func (n *node) cloud2(t *testing.T) {
	t.Helper()
	n.kill()
	opts := local.Options{ForwarderPort: n.cfg.ForwarderPort, BootDelay: time.Hour}
	n.cloud = local.New(opts)
	t.Cleanup(n.cloud.Close)
	n.start()
}

// TestRestart kills the daemon after CreateVM, after StartVM and while a
// VM is being created; a new daemon on the same state directory serves
// every surviving sandbox and leaves no VM without a sandbox.
func TestRestart(t *testing.T) {
	block := make(chan struct{})
	entered := make(chan struct{})
	var blocking sync.Mutex
	blockName := ""
	n := newNode(t, local.Options{BeforeCreate: func(s provider.InstanceSpec) error {
		blocking.Lock()
		b := blockName
		blocking.Unlock()
		if s.Name == b {
			close(entered)
			<-block // the daemon dies while the cloud creates this VM
		}
		return nil
	}}, nil)
	shim := n.shim()
	ctx := context.Background()
	netns := func(name string) string {
		p := filepath.Join(n.dir, "netns-"+name)
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	create := func(id, pod string) string {
		t.Helper()
		req := createRequest(id, pod)
		req.NetworkNamespacePath = netns(pod)
		resp, err := shim.CreateVM(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.AgentSocketPath
	}
	// running: started before the kill, still wanted.
	runningSock := create("running", "r")
	if _, err := shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: "running"}); err != nil {
		t.Fatal(err)
	}
	// gone: started, but its pod network disappears while the daemon is down.
	create("gone", "g")
	if _, err := shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: "gone"}); err != nil {
		t.Fatal(err)
	}
	// created: CreateVM only; StartVM comes after the restart.
	createdSock := create("created", "c")
	// starting: the daemon dies inside the cloud's create.
	create("starting", "s")
	blocking.Lock()
	blockName = daemon.InstanceName("s", "starting")
	blocking.Unlock()
	startErr := make(chan error, 1)
	go func() {
		_, err := shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: "starting"})
		startErr <- err
	}()
	<-entered
	if p := phase(n, "starting"); p != sandbox.Starting {
		t.Fatalf("phase %q while the cloud creates the VM", p)
	}

	n.kill()
	close(block) // the cloud finishes creating the VM nobody will use
	if err := <-startErr; err == nil {
		t.Error("StartVM succeeded across a daemon kill")
	}
	waitFor(t, func() bool { return n.cloud.VM(daemon.InstanceName("s", "starting")) != nil })
	os.Remove(filepath.Join(n.dir, "netns-g"))

	n.start()

	if err := agentCheck(ctx, runningSock); err != nil {
		t.Errorf("the running sandbox is not served after the restart: %v", err)
	}
	if _, err := shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: "created"}); err != nil {
		t.Fatalf("StartVM after the restart: %v", err)
	}
	if err := agentCheck(ctx, createdSock); err != nil {
		t.Errorf("the sandbox started after the restart is not served: %v", err)
	}
	want := []string{daemon.InstanceName("c", "created"), daemon.InstanceName("r", "running")}
	if got := n.cloud.Instances(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("VMs after the restart: %v, want %v", got, want)
	}
	// The shim's StopVM for the failed start finds nothing left to do.
	if _, err := shim.StopVM(ctx, &hypervisor.StopVMRequest{Id: "starting"}); err != nil {
		t.Error(err)
	}
	for _, id := range []string{"running", "created"} {
		if _, err := shim.StopVM(ctx, &hypervisor.StopVMRequest{Id: id}); err != nil {
			t.Error(err)
		}
	}
	if got := n.cloud.Instances(); len(got) != 0 {
		t.Errorf("VMs leaked: %v", got)
	}
	if entries, _ := os.ReadDir(n.cfg.PodsDir); len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("sandbox directories left: %v", names)
	}
}

func phase(n *node, id string) sandbox.Phase {
	data, err := os.ReadFile(filepath.Join(n.cfg.PodsDir, id, sandbox.StateFile))
	if err != nil {
		return ""
	}
	for _, p := range []sandbox.Phase{sandbox.Created, sandbox.Starting, sandbox.Running, sandbox.Stopping, sandbox.Stopped} {
		if strings.Contains(string(data), `"phase": "`+string(p)+`"`) {
			return p
		}
	}
	return ""
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCreateVMRefusals: every problem of a request is reported, with the
// annotation it comes from.
func TestCreateVMRefusals(t *testing.T) {
	n := newNode(t, local.Options{UserDataLimit: 4096}, func(c *daemon.Config) { c.LimitPerNode = 1 })
	shim := n.shim()
	ctx := context.Background()
	bad := createRequest("bad", "")
	bad.Annotations[daemon.AnnotationVCPUs] = "two"
	_, err := shim.CreateVM(ctx, bad)
	for _, want := range []string{"io.kubernetes.cri.sandbox-name (the pod's name) is missing", `default_vcpus: "two" is not a non-negative integer`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("code %v", status.Code(err))
	}
	machine := createRequest("m", "p")
	machine.Annotations[daemon.AnnotationMachineType] = "Standard_D96as_v5"
	if _, err := shim.CreateVM(ctx, machine); err == nil || !strings.Contains(err.Error(), `instance type "Standard_D96as_v5"`) {
		t.Errorf("machine type: %v", err)
	}
	big := createRequest("big", "p")
	big.Annotations[daemon.AnnotationInitData] = "algorithm = \"sha256\"\nversion = \"0.1.0\"\n[data]\n\"x\" = '''\n" + randomText(8000) + "\n'''\n"
	if _, err := shim.CreateVM(ctx, big); err == nil || !strings.Contains(err.Error(), "above local's limit of 4096") {
		t.Errorf("user data limit: %v", err)
	}
	if _, err := shim.CreateVM(ctx, createRequest("one", "p")); err != nil {
		t.Fatal(err)
	}
	if _, err := shim.CreateVM(ctx, createRequest("two", "q")); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("over the node's limit: %v", err)
	}
	if _, err := shim.CreateVM(ctx, createRequest("../x", "q")); status.Code(err) != codes.InvalidArgument {
		t.Errorf("path-like id: %v", err)
	}
	if entries, _ := os.ReadDir(n.cfg.PodsDir); len(entries) != 1 {
		t.Errorf("%d sandbox directories, want 1 (refused requests leave nothing)", len(entries))
	}
}

// randomText does not compress, so the init-data stays large encoded.
func randomText(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = alphabet[x%uint32(len(alphabet))]
	}
	return string(b)
}

// TestGlobalInitData: a pod without init-data gets INITDATA.
func TestGlobalInitData(t *testing.T) {
	enc, err := initdata.Encode([]byte(initDataTOML))
	if err != nil {
		t.Fatal(err)
	}
	n := newNode(t, local.Options{}, func(c *daemon.Config) { c.InitData = enc })
	shim := n.shim()
	ctx := context.Background()
	if _, err := shim.CreateVM(ctx, createRequest("g", "p")); err != nil {
		t.Fatal(err)
	}
	if _, err := shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: "g"}); err != nil {
		t.Fatal(err)
	}
	if vm := n.cloud.VM(daemon.InstanceName("p", "g")); vm == nil || string(vm.InitData) != initDataTOML {
		t.Errorf("the VM did not get INITDATA")
	}
}

func TestHealthAndMetrics(t *testing.T) {
	n := newNode(t, local.Options{}, nil)
	srv := httptest.NewServer(n.d.Handler())
	defer srv.Close()
	ctx := context.Background()
	shim := n.shim()
	if _, err := shim.CreateVM(ctx, createRequest("m1", "p")); err != nil {
		t.Fatal(err)
	}
	if _, err := shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: "m1"}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/healthz", "/startup"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s: %v %v", path, resp, err)
		}
	}
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`peerpodd_rpc_duration_seconds_count{code="OK",method="StartVM"} 1`,
		`peerpodd_sandboxes{phase="running"} 1`,
		`peerpodd_instance_operation_duration_seconds_count{operation="create",result="ok"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	n.kill()
	if resp, err := srv.Client().Get(srv.URL + "/healthz"); err != nil || resp.StatusCode != 503 {
		t.Errorf("/healthz of a daemon that stopped serving: %v %v", resp, err)
	}
}

func TestInstanceName(t *testing.T) {
	for _, tc := range []struct{ pod, id, want string }{
		{"web-0", "c0ffee00aa", "podvm-web-0-c0ffee00"},
		{"Web_App.1", "ABCDEF0123", "podvm-web-app-1-abcdef01"},
		{strings.Repeat("x", 80), "0123456789", "podvm-" + strings.Repeat("x", 48) + "-01234567"},
		{"", "0123456789", "podvm-01234567"},
	} {
		got := daemon.InstanceName(tc.pod, tc.id)
		if got != tc.want || len(got) > 63 {
			t.Errorf("InstanceName(%q, %q) = %q, want %q", tc.pod, tc.id, got, tc.want)
		}
	}
}
