package daemon_test

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cocogen/cocogen/internal/peerpod/daemon"
	"github.com/cocogen/cocogen/internal/peerpod/hypervisor"
	"github.com/cocogen/cocogen/internal/peerpod/kube"
	"github.com/cocogen/cocogen/internal/peerpod/local"
	"github.com/cocogen/cocogen/internal/peerpod/provider"
)

// fakeCluster records PeerPods; block makes CreatePeerPod wait (for a
// daemon killed in the middle of it).
type fakeCluster struct {
	mu       sync.Mutex
	list     []kube.PeerPodRef
	held     []string
	block    chan struct{}
	entered  chan struct{}
	released []string
}

func (c *fakeCluster) PullSecretsAuth(context.Context, string, string) ([]byte, error) {
	return nil, nil
}

func (c *fakeCluster) PeerPodName(pod, instanceID string) string { return pod + "-pp" }

func (c *fakeCluster) ListPeerPods(context.Context) ([]kube.PeerPodRef, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.list), nil
}

func (c *fakeCluster) CreatePeerPod(ctx context.Context, ns, pod, instanceID, cloud string) (string, error) {
	c.mu.Lock()
	c.held = append(c.held, pod+"-pp") // the apiserver commits it...
	block, entered := c.block, c.entered
	c.mu.Unlock()
	if block != nil {
		close(entered)
		<-block // ...and the daemon dies before it hears back
	}
	return pod + "-pp", nil
}

func (c *fakeCluster) ReleasePeerPod(ctx context.Context, ns, name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.released = append(c.released, name)
	c.held = slices.DeleteFunc(c.held, func(s string) bool { return s == name })
	return nil
}

// TestKilledWhileCreatingThePeerPod: the PeerPod's name is persisted
// before it is asked for, so the next daemon releases it with the VM.
func TestKilledWhileCreatingThePeerPod(t *testing.T) {
	cluster := &fakeCluster{block: make(chan struct{}), entered: make(chan struct{})}
	n := newNodeWith(t, local.Options{}, nil, daemon.WithCluster(cluster))
	shim := n.shim()
	ctx := context.Background()
	if _, err := shim.CreateVM(ctx, createRequest("pp1", "web")); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: "pp1"}) }()
	<-cluster.entered
	n.kill()
	close(cluster.block)
	cluster.mu.Lock()
	cluster.block = nil
	cluster.mu.Unlock()
	n.start()
	if got := n.cloud.Instances(); len(got) != 0 {
		t.Errorf("VMs left: %v", got)
	}
	cluster.mu.Lock()
	defer cluster.mu.Unlock()
	if len(cluster.held) != 0 {
		t.Errorf("PeerPods still held: %v (released %v)", cluster.held, cluster.released)
	}
}

// TestCloseStopsServingAgents: a daemon closed while a StartVM is
// connecting serves no agent socket afterwards.
func TestCloseStopsServingAgents(t *testing.T) {
	n := newNode(t, local.Options{BootDelay: 300 * time.Millisecond}, nil)
	shim := n.shim()
	ctx := context.Background()
	created, err := shim.CreateVM(ctx, createRequest("cl1", "web"))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: "cl1"}) }()
	waitFor(t, func() bool { _, err := os.Stat(created.AgentSocketPath); return err == nil })
	n.kill()
	time.Sleep(600 * time.Millisecond) // the VM has booted by now
	if c, err := net.Dial("unix", created.AgentSocketPath); err == nil {
		c.Close()
		t.Error("a closed daemon still serves an agent socket")
	}
}

// TestReconcilerCleansUp: a failed start whose StopVM never comes, and a
// delete that failed, are cleaned up without any RPC.
func TestReconcilerCleansUp(t *testing.T) {
	var failDelete sync.Mutex
	failing := true
	cloud := &flakyDeletes{fail: func() bool { failDelete.Lock(); defer failDelete.Unlock(); return failing }}
	n := newNode(t, local.Options{AfterCreate: func(inst provider.Instance) error {
		if inst.Name == daemon.InstanceName("bad", "r1") {
			return errors.New("provisioning failed")
		}
		return nil
	}}, func(c *daemon.Config) { c.ReconcileInterval = 50 * time.Millisecond })
	cloud.Provider = n.cloud
	n.kill()
	n.cloudOverride = cloud
	n.start()
	shim := n.shim()
	ctx := context.Background()
	if _, err := shim.CreateVM(ctx, createRequest("r1", "bad")); err != nil {
		t.Fatal(err)
	}
	if _, err := shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: "r1"}); err == nil {
		t.Fatal("StartVM succeeded")
	}
	if _, err := shim.CreateVM(ctx, createRequest("r2", "good")); err != nil {
		t.Fatal(err)
	}
	if _, err := shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: "r2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := shim.StopVM(ctx, &hypervisor.StopVMRequest{Id: "r2"}); err == nil {
		t.Fatal("StopVM succeeded with a failing delete")
	}
	failDelete.Lock()
	failing = false
	failDelete.Unlock()
	waitFor(t, func() bool {
		entries, _ := os.ReadDir(n.cfg.PodsDir)
		return len(entries) == 0 && len(n.cloud.Instances()) == 0
	})
}

// flakyDeletes fails DeleteInstance while fail says so.
type flakyDeletes struct {
	*local.Provider
	fail func() bool
}

func (f *flakyDeletes) DeleteInstance(ctx context.Context, inst provider.Instance) error {
	if f.fail() && inst.ID != "" {
		return errors.New("the cloud is down")
	}
	return f.Provider.DeleteInstance(ctx, inst)
}

// TestCloudLimits: creates in flight never exceed the cap, and the rate
// limit spaces them out.
func TestCloudLimits(t *testing.T) {
	var mu sync.Mutex
	inFlight, most := 0, 0
	n := newNode(t, local.Options{BeforeCreate: func(provider.InstanceSpec) error {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		return nil
	}}, func(c *daemon.Config) { c.MaxConcurrentCreates = 2; c.CreateRate = 40; c.CreateBurst = 1 })
	shim := n.shim()
	ctx := context.Background()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := "lim" + string(rune('a'+i))
			if _, err := shim.CreateVM(ctx, createRequest(id, id)); err != nil {
				t.Error(err)
				return
			}
			if _, err := shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: id}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if most > 2 {
		t.Errorf("%d creates in flight, the cap is 2", most)
	}
	// 10 creates at 40/s with a burst of 1 take at least 9/40 s.
	if took := time.Since(start); took < 225*time.Millisecond {
		t.Errorf("10 creates took %v: the rate limit did not apply", took)
	}
}
