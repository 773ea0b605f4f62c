package daemon_test

import (
	"context"
	"encoding/base64"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cocogen/cocogen/internal/testkit"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/cocogen/cocogen/internal/peerpod/daemon"
	"github.com/cocogen/cocogen/internal/peerpod/hypervisor"
	"github.com/cocogen/cocogen/internal/peerpod/local"
	"github.com/cocogen/cocogen/internal/peerpod/provider"
	"github.com/cocogen/cocogen/internal/peerpod/provider/azure"
	"github.com/cocogen/cocogen/internal/peerpod/provider/azure/fakearm"
)

const azSub = "0f8e6c2a-1b2c-4d5e-8f90-123456789abc"

// azureCloud is the Azure provider against a fake ARM whose VMs come to
// life: each VM the provider creates boots, at its NIC's (loopback)
// address, from the user data ARM received, as a pod VM would.
type azureCloud struct {
	*azure.Provider
	arm  *fakearm.Server
	port int

	mu  sync.Mutex
	vms map[string]*local.VM
}

func (c *azureCloud) CreateInstance(ctx context.Context, spec provider.InstanceSpec) (provider.Instance, error) {
	inst, err := c.Provider.CreateInstance(ctx, spec)
	if err != nil {
		return inst, err
	}
	stored, ok := c.arm.VM(inst.ID)
	if !ok || stored.Properties == nil || stored.Properties.UserData == nil {
		return inst, nil // no VM, no boot: the daemon's proxy times out
	}
	ud, err := base64.StdEncoding.DecodeString(*stored.Properties.UserData)
	if err != nil {
		return inst, err
	}
	vm, err := local.Boot(ud, netip.AddrPortFrom(inst.IPs[0], uint16(c.port)), local.BootOptions{})
	if err != nil {
		return inst, err
	}
	vm.Spec, vm.Instance = spec, inst
	c.mu.Lock()
	c.vms[inst.Name] = vm
	c.mu.Unlock()
	return inst, nil
}

func (c *azureCloud) DeleteInstance(ctx context.Context, inst provider.Instance) error {
	c.mu.Lock()
	vm := c.vms[inst.Name]
	delete(c.vms, inst.Name)
	c.mu.Unlock()
	if vm != nil {
		vm.Stop()
	}
	return c.Provider.DeleteInstance(ctx, inst)
}

// TestAzureEndToEnd runs sandboxes through the daemon and the Azure
// provider against the fake ARM, throttled once: the VM ARM was given
// boots from the user data ARM received and answers the shim's agent
// call over mutual TLS; StopVM leaves nothing in the resource group.
func TestAzureEndToEnd(t *testing.T) {
	arm := fakearm.New(fakearm.Options{PollsBeforeDone: 1})
	t.Cleanup(arm.Close)
	subnet := "/subscriptions/" + azSub + "/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/pods"
	// A loopback subnet, so the VMs' addresses are reachable here.
	if err := arm.AddSubnet(subnet, "127.77.0.0/24"); err != nil {
		t.Fatal(err)
	}
	cfg, err := azure.ConfigFromEnv(map[string]string{
		"AZURE_SUBSCRIPTION_ID": azSub,
		"AZURE_CLIENT_ID":       "11111111-2222-3333-4444-555555555555",
		"AZURE_TENANT_ID":       "66666666-7777-8888-9999-000000000000",
		"AZURE_CLIENT_SECRET":   "not-used-the-credential-is-injected",
		"AZURE_REGION":          "eastus",
		"AZURE_RESOURCE_GROUP":  "peerpods",
		"AZURE_SUBNET_ID":       subnet,
		"AZURE_IMAGE_ID":        "/CommunityGalleries/cocoPodVM-0a1b/images/podvm/versions/1.0.0",
		"AZURE_INSTANCE_SIZE":   "Standard_DC2as_v5",
		"AZURE_INSTANCE_SIZES":  "Standard_DC2as_v5,Standard_DC4as_v5",
	})
	if err != nil {
		t.Fatal(err)
	}
	co := arm.ClientOptions()
	co.Retry = policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond, MaxRetryDelay: 2 * time.Second}
	ap, err := azure.New(cfg, azure.Options{Credential: fakearm.Credential{}, ClientOptions: co, PollFrequency: 2 * time.Millisecond, SSHPublicKey: "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 test"})
	if err != nil {
		t.Fatal(err)
	}
	port := testkit.FreePort(t)
	cloud := &azureCloud{Provider: ap, arm: arm, port: port, vms: map[string]*local.VM{}}
	// The node starts on the local cloud, then restarts on Azure.
	n := newNode(t, local.Options{ForwarderPort: port, InstanceTypes: []provider.InstanceType{{Name: "Standard_DC2as_v5"}, {Name: "Standard_DC4as_v5"}}}, func(c *daemon.Config) {
		c.InstanceType = cfg.InstanceSize
		c.InstanceTypes = cfg.InstanceSizes
	})
	n.kill()
	n.cloudOverride = cloud
	n.start()
	arm.Inject(fakearm.Fault{Method: "PUT", PathContains: "virtualMachines/", Status: 429, RetryAfter: 1})

	shim := n.shim()
	ctx := context.Background()
	req := createRequest("az1", "web-0")
	req.Annotations[daemon.AnnotationVCPUs] = "4"
	req.Annotations[daemon.AnnotationMemory] = "8192"
	req.Annotations[daemon.AnnotationInitData] = initDataTOML
	created, err := shim.CreateVM(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: "az1"}); err != nil {
		t.Fatal(err)
	}
	if got := arm.Count("PUT virtualMachines"); got != 2 {
		t.Errorf("%d VM PUTs, want 2 (one throttled, one retried)", got)
	}
	name := daemon.InstanceName("web-0", "az1")
	cloud.mu.Lock()
	booted := cloud.vms[name]
	cloud.mu.Unlock()
	if booted == nil || string(booted.InitData) != initDataTOML {
		t.Fatalf("the VM did not boot with the pod's init-data")
	}
	// The best fit for 4 vCPUs and 8 GiB among the allowed sizes.
	if vm, ok := arm.VM(booted.Instance.ID); !ok || string(*vm.Properties.HardwareProfile.VMSize) != "Standard_DC4as_v5" {
		t.Errorf("VM %s size: %+v", booted.Instance.ID, vm.Properties)
	}
	if err := agentCheck(ctx, created.AgentSocketPath); err != nil {
		t.Fatal(err)
	}
	if _, err := shim.StopVM(ctx, &hypervisor.StopVMRequest{Id: "az1"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range arm.Resources() {
		if strings.Contains(strings.ToLower(r), strings.ToLower(name)) {
			t.Errorf("left in Azure: %s", r)
		}
	}
}
