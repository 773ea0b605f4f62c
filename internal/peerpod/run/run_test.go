package run_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cocogen/cocogen/internal/testkit"

	"github.com/containerd/ttrpc"

	"github.com/cocogen/cocogen/internal/peerpod/agentpb"
	"github.com/cocogen/cocogen/internal/peerpod/hypervisor"
	"github.com/cocogen/cocogen/internal/peerpod/run"
)

// TestMainLocal runs the daemon as cmd/peerpodd does, with the local
// provider, serves one sandbox end to end, and stops on the signal.
func TestMainLocal(t *testing.T) {
	dir, err := os.MkdirTemp("", "ppr")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	probe := "127.0.0.1:" + strconv.Itoa(testkit.FreePort(t))
	socket := filepath.Join(dir, "hv.sock")
	env := map[string]string{
		"CLOUD_PROVIDER":             "local",
		"REMOTE_HYPERVISOR_ENDPOINT": socket,
		"PODS_DIR":                   filepath.Join(dir, "pods"),
		"PEERPODD_CA_DIR":            filepath.Join(dir, "ca"),
		"FORWARDER_PORT":             strconv.Itoa(testkit.FreePort(t)),
		"PROXY_TIMEOUT":              "10s",
		"PROBE_ADDRESS":              probe,
		"PAUSE_IMAGE":                "registry.example/pause:3.9",
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	code := make(chan int, 1)
	go func() { code <- run.Main(ctx, nil, env, &stderr) }()

	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + probe + "/startup")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never started: %v\n%s", err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	conn, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	c := ttrpc.NewClient(conn)
	hv := hypervisor.NewHypervisorClient(c)
	created, err := hv.CreateVM(ctx, &hypervisor.CreateVMRequest{Id: "abc", Annotations: map[string]string{
		"io.kubernetes.cri.sandbox-name": "k8s_web-0_confidential_0f1e_0", "io.kubernetes.cri.sandbox-namespace": "confidential",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hv.StartVM(ctx, &hypervisor.StartVMRequest{Id: "abc"}); err != nil {
		t.Fatal(err)
	}
	agentConn, err := net.Dial("unix", created.AgentSocketPath)
	if err != nil {
		t.Fatal(err)
	}
	ac := ttrpc.NewClient(agentConn)
	if resp, err := agentpb.NewHealthClient(ac).Check(ctx, &agentpb.CheckRequest{}); err != nil || resp.Status != agentpb.HealthCheckResponse_SERVING {
		t.Fatalf("agent: %v %v", resp, err)
	}
	ac.Close()
	if _, err := hv.StopVM(ctx, &hypervisor.StopVMRequest{Id: "abc"}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	cancel()
	if got := <-code; got != 0 {
		t.Errorf("exit %d\n%s", got, stderr.String())
	}
	log := stderr.String()
	for _, want := range []string{"PAUSE_IMAGE is set but has no effect", `sandbox created`, "pod=confidential/web-0", "instance=podvm-web-0-abc"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
}

// TestMainRefusesBadConfiguration: exit 2 and every problem named.
func TestMainRefusesBadConfiguration(t *testing.T) {
	var stderr syncBuffer
	got := run.Main(context.Background(), []string{"--create-rate", "-1"}, map[string]string{
		"CLOUD_PROVIDER":          "azure",
		"PEERPODS_LIMIT_PER_NODE": "ten",
		"AZURE_REGION":            "eastus",
		"AZURE_CLIENT_SECRET":     "s3cr3t-value",
		"INITDATA":                "not-base64!",
	}, &stderr)
	if got != 2 {
		t.Errorf("exit %d", got)
	}
	out := stderr.String()
	for _, want := range []string{"PEERPODS_LIMIT_PER_NODE: \"ten\"", "PEERPODD_CREATE_RATE: \"-1\"", "INITDATA: not encoded init-data"} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	// The provider's keys are checked once the common ones pass.
	var stderr2 syncBuffer
	got = run.Main(context.Background(), nil, map[string]string{"CLOUD_PROVIDER": "azure", "AZURE_CLIENT_SECRET": "s3cr3t-value"}, &stderr2)
	if got != 2 || !strings.Contains(stderr2.String(), "AZURE_SUBSCRIPTION_ID") || !strings.Contains(stderr2.String(), "AZURE_SUBNET_ID") {
		t.Errorf("exit %d:\n%s", got, stderr2.String())
	}
	if strings.Contains(stderr.String()+stderr2.String(), "s3cr3t-value") {
		t.Error("the client secret reached the output")
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
