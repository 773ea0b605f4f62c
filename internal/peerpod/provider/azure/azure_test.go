package azure

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v6"

	"github.com/cocogen/cocogen/internal/peerpod/provider"
	"github.com/cocogen/cocogen/internal/peerpod/provider/azure/fakearm"
)

const (
	testSub    = "0f8e6c2a-1b2c-4d5e-8f90-123456789abc"
	testRG     = "peerpods"
	testSubnet = "/subscriptions/" + testSub + "/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/pods"
	testNSG    = "/subscriptions/" + testSub + "/resourceGroups/net/providers/Microsoft.Network/networkSecurityGroups/pods-nsg"
	testImage  = "/subscriptions/" + testSub + "/resourceGroups/images/providers/Microsoft.Compute/galleries/g/images/podvm/versions/1.2.3"
	testSecret = "Zq8~s3cr3t.VALUE_never-print"
	// testKey is a syntactically valid authorized_keys line, so that most
	// tests skip generating the throwaway RSA key.
	testKey = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 test"
)

// testEnv is a complete, valid configuration.
func testEnv() map[string]string {
	return map[string]string{
		KeySubscriptionID:   testSub,
		KeyClientID:         "11111111-2222-3333-4444-555555555555",
		KeyClientSecret:     testSecret,
		KeyTenantID:         "66666666-7777-8888-9999-000000000000",
		KeyRegion:           "eastus",
		KeyResourceGroup:    testRG,
		KeySubnetID:         testSubnet,
		KeyNSGID:            testNSG,
		KeyImageID:          testImage,
		KeyInstanceSizes:    "Standard_DC2as_v5,Standard_DC4as_v5",
		KeyTags:             "owner=peerpods, cost-center=42",
		KeyRootVolumeSize:   "50",
		KeyEnableSecureBoot: "false",
	}
}

type harness struct {
	p   *Provider
	srv *fakearm.Server
}

// newHarness starts a fake ARM and a provider talking to it with fast
// retries and polling. edit changes the environment before it is read.
func newHarness(t testing.TB, fopts fakearm.Options, edit func(map[string]string)) *harness {
	t.Helper()
	srv := fakearm.New(fopts)
	t.Cleanup(srv.Close)
	if err := srv.AddSubnet(testSubnet, "10.0.0.0/24"); err != nil {
		t.Fatal(err)
	}
	env := testEnv()
	if edit != nil {
		edit(env)
	}
	cfg, err := ConfigFromEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	co := srv.ClientOptions()
	co.Retry = policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond, MaxRetryDelay: 2 * time.Second}
	p, err := New(cfg, Options{
		Credential:    fakearm.Credential{},
		ClientOptions: co,
		PollFrequency: 2 * time.Millisecond,
		SSHPublicKey:  testKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{p: p, srv: srv}
}

func spec(name string) provider.InstanceSpec {
	return provider.InstanceSpec{
		Name:         name,
		InstanceType: "Standard_DC2as_v5",
		UserData:     []byte("#cloud-config\nwrite_files: []\n"),
		Tags:         map[string]string{"sandbox-id": "abc123", "Owner": "pod"},
	}
}

// noSecret fails when err mentions the client secret.
func noSecret(t testing.TB, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testSecret) {
		t.Fatalf("error leaks the client secret: %v", err)
	}
}

func (h *harness) vmID(name string) string { return h.p.vmID(name) }

func TestCreateDeleteRoundTrip(t *testing.T) {
	h := newHarness(t, fakearm.Options{PollsBeforeDone: 2}, nil)
	ctx := t.Context()
	sp := spec("podvm-roundtrip")
	inst, err := h.p.CreateInstance(ctx, sp)
	noSecret(t, err)
	if err != nil {
		t.Fatalf("CreateInstance: %v", err)
	}
	if inst.ID != h.vmID(sp.Name) || inst.Name != sp.Name {
		t.Errorf("instance = %+v", inst)
	}
	if want := []netip.Addr{netip.MustParseAddr("10.0.0.4")}; fmt.Sprint(inst.IPs) != fmt.Sprint(want) {
		t.Errorf("IPs = %v, want %v", inst.IPs, want)
	}

	vm, ok := h.srv.VM(inst.ID)
	if !ok {
		t.Fatal("VM not stored")
	}
	pr := vm.Properties
	if got := *pr.ProvisioningState; got != "Succeeded" {
		t.Errorf("provisioningState = %s", got)
	}
	sec := pr.SecurityProfile
	if *sec.SecurityType != armcompute.SecurityTypesConfidentialVM || !*sec.UefiSettings.VTpmEnabled || *sec.UefiSettings.SecureBootEnabled {
		t.Errorf("securityProfile = %+v / %+v", sec, sec.UefiSettings)
	}
	disk := pr.StorageProfile.OSDisk
	if *disk.ManagedDisk.SecurityProfile.SecurityEncryptionType != armcompute.SecurityEncryptionTypesVMGuestStateOnly {
		t.Errorf("disk encryption = %s", *disk.ManagedDisk.SecurityProfile.SecurityEncryptionType)
	}
	if *disk.DiskSizeGB != 50 || *disk.DeleteOption != armcompute.DiskDeleteOptionTypesDelete || *disk.Name != sp.Name+"-disk" {
		t.Errorf("osDisk size=%d delete=%s name=%s", *disk.DiskSizeGB, *disk.DeleteOption, *disk.Name)
	}
	if got := *pr.StorageProfile.ImageReference.ID; got != testImage {
		t.Errorf("image = %s", got)
	}
	if ud, _ := base64.StdEncoding.DecodeString(*pr.UserData); string(ud) != string(sp.UserData) {
		t.Errorf("userData = %q", ud)
	}
	wantTags := map[string]string{"owner": "", "Owner": "pod", "cost-center": "42", "sandbox-id": "abc123"}
	delete(wantTags, "owner") // the spec's "Owner" replaces the configured "owner"
	if len(vm.Tags) != len(wantTags) {
		t.Errorf("tags = %v, want %v", vm.Tags, wantTags)
	}
	for k, v := range wantTags {
		if vm.Tags[k] == nil || *vm.Tags[k] != v {
			t.Errorf("tag %s = %v, want %s", k, vm.Tags[k], v)
		}
	}
	ref := pr.NetworkProfile.NetworkInterfaces[0]
	if *ref.Properties.DeleteOption != armcompute.DeleteOptionsDelete {
		t.Errorf("NIC deleteOption = %s", *ref.Properties.DeleteOption)
	}
	nic, ok := h.srv.NIC(*ref.ID)
	if !ok || *nic.Properties.NetworkSecurityGroup.ID != testNSG || *nic.Name != sp.Name+"-net" {
		t.Errorf("NIC = %+v", nic)
	}
	if n := len(h.srv.Resources()); n != 3 {
		t.Errorf("resources after create = %v, want VM, NIC and disk", h.srv.Resources())
	}

	if err := h.p.DeleteInstance(ctx, inst); err != nil {
		t.Fatalf("DeleteInstance: %v", err)
	}
	if left := h.srv.Resources(); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	// Idempotent, by name alone.
	if err := h.p.DeleteInstance(ctx, provider.Instance{Name: sp.Name}); err != nil {
		t.Errorf("second DeleteInstance: %v", err)
	}
	for kind, want := range map[string]int{"PUT networkInterfaces": 1, "PUT virtualMachines": 1, "DELETE virtualMachines": 2} {
		if got := h.srv.Count(kind); got != want {
			t.Errorf("%s: %d requests, want %d", kind, got, want)
		}
	}
}

func TestThrottlingIsRetried(t *testing.T) {
	h := newHarness(t, fakearm.Options{}, nil)
	h.srv.Inject(fakearm.Fault{Method: "PUT", PathContains: "/virtualMachines/", Status: 429, RetryAfter: 1})
	h.srv.Inject(fakearm.Fault{Method: "GET", PathContains: "/operations/", Status: 429})
	start := time.Now()
	inst, err := h.p.CreateInstance(t.Context(), spec("podvm-throttled"))
	if err != nil {
		t.Fatalf("CreateInstance: %v", err)
	}
	if got := h.srv.Count("PUT virtualMachines"); got != 2 {
		t.Errorf("VM PUT sent %d times, want 2 (one 429, one retry)", got)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("retried after %v, before the Retry-After of 1s", d)
	}
	if err := h.p.DeleteInstance(t.Context(), inst); err != nil {
		t.Fatal(err)
	}
}

func TestVMServerErrorCleansUpNIC(t *testing.T) {
	h := newHarness(t, fakearm.Options{}, nil)
	h.srv.Inject(fakearm.Fault{Method: "PUT", PathContains: "/virtualMachines/", Status: 500, Times: 100})
	inst, err := h.p.CreateInstance(t.Context(), spec("podvm-500"))
	noSecret(t, err)
	if err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("err = %v, want the 500", err)
	}
	if inst.ID != "" || inst.Name != "" || inst.IPs != nil {
		t.Errorf("instance = %+v, want none: nothing is left", inst)
	}
	if got := h.srv.Count("PUT virtualMachines"); got != 4 {
		t.Errorf("VM PUT sent %d times, want 4 (MaxRetries 3)", got)
	}
	if left := h.srv.Resources(); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestConflicts(t *testing.T) {
	t.Run("vm", func(t *testing.T) {
		h := newHarness(t, fakearm.Options{}, nil)
		h.srv.Inject(fakearm.Fault{Method: "PUT", PathContains: "/virtualMachines/", Status: 409})
		_, err := h.p.CreateInstance(t.Context(), spec("podvm-409"))
		if err == nil || !strings.Contains(err.Error(), "Conflict") {
			t.Fatalf("err = %v, want the conflict", err)
		}
		if got := h.srv.Count("PUT virtualMachines"); got != 1 {
			t.Errorf("VM PUT sent %d times, a 409 is not retried", got)
		}
		if got := h.srv.Count("DELETE networkInterfaces"); got != 1 {
			t.Errorf("NIC deleted %d times, want 1", got)
		}
		if left := h.srv.Resources(); len(left) != 0 {
			t.Errorf("left behind: %v", left)
		}
	})
	t.Run("nic", func(t *testing.T) {
		h := newHarness(t, fakearm.Options{}, nil)
		h.srv.Inject(fakearm.Fault{Method: "PUT", PathContains: "/networkInterfaces/", Status: 409})
		_, err := h.p.CreateInstance(t.Context(), spec("podvm-nic-409"))
		if err == nil || !strings.Contains(err.Error(), "creating network interface podvm-nic-409-net") {
			t.Fatalf("err = %v", err)
		}
		if n := h.srv.Count("PUT virtualMachines") + h.srv.Count("DELETE networkInterfaces"); n != 0 {
			t.Errorf("%d VM PUTs or NIC DELETEs after a refused NIC", n)
		}
	})
}

func TestCleanupFailureReturnsName(t *testing.T) {
	h := newHarness(t, fakearm.Options{}, nil)
	h.srv.Inject(fakearm.Fault{Method: "PUT", PathContains: "/virtualMachines/", Status: 400, Code: "InvalidParameter"})
	h.srv.Inject(fakearm.Fault{Method: "DELETE", PathContains: "/networkInterfaces/", Status: 409})
	inst, err := h.p.CreateInstance(t.Context(), spec("podvm-leak"))
	if err == nil || !strings.Contains(err.Error(), "cleaning up") {
		t.Fatalf("err = %v", err)
	}
	if inst.Name != "podvm-leak" || inst.ID != "" {
		t.Errorf("instance = %+v, want the name only", inst)
	}
	if err := h.p.DeleteInstance(t.Context(), inst); err != nil {
		t.Fatal(err)
	}
	if left := h.srv.Resources(); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestAcceptedThenFailedReturnsInstance(t *testing.T) {
	h := newHarness(t, fakearm.Options{}, nil)
	h.srv.Inject(fakearm.Fault{Method: "PUT", PathContains: "/virtualMachines/", Async: true, Code: "AllocationFailed"})
	inst, err := h.p.CreateInstance(t.Context(), spec("podvm-late"))
	if err == nil || !strings.Contains(err.Error(), "AllocationFailed") {
		t.Fatalf("err = %v", err)
	}
	if inst.ID != h.vmID("podvm-late") || inst.Name != "podvm-late" {
		t.Fatalf("instance = %+v, want ID and name to delete", inst)
	}
	if len(h.srv.Resources()) == 0 {
		t.Fatal("the failed VM should still exist")
	}
	if err := h.p.DeleteInstance(t.Context(), inst); err != nil {
		t.Fatal(err)
	}
	if left := h.srv.Resources(); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestNotFoundOnDeleteIsSuccess(t *testing.T) {
	h := newHarness(t, fakearm.Options{}, nil)
	inst, err := h.p.CreateInstance(t.Context(), spec("podvm-gone"))
	if err != nil {
		t.Fatal(err)
	}
	h.srv.Inject(fakearm.Fault{Method: "DELETE", Status: 404, Times: 3})
	if err := h.p.DeleteInstance(t.Context(), provider.Instance{ID: inst.ID}); err != nil {
		t.Fatalf("DeleteInstance with 404s: %v", err)
	}
	for _, k := range []string{"DELETE virtualMachines", "DELETE networkInterfaces", "DELETE disks"} {
		if got := h.srv.Count(k); got != 1 {
			t.Errorf("%s: %d requests, want 1", k, got)
		}
	}
	// Never created at all: ARM answers 204, also success.
	if err := h.p.DeleteInstance(t.Context(), provider.Instance{Name: "podvm-never"}); err != nil {
		t.Errorf("DeleteInstance of a missing VM: %v", err)
	}
}

func TestDeleteRefusesForeignID(t *testing.T) {
	h := newHarness(t, fakearm.Options{}, nil)
	for _, inst := range []provider.Instance{
		{ID: "/subscriptions/" + testSub + "/resourceGroups/other/providers/Microsoft.Compute/virtualMachines/x"},
		{ID: h.vmID("a"), Name: "b"},
		{ID: "not-an-id"},
		{},
	} {
		if err := h.p.DeleteInstance(t.Context(), inst); err == nil {
			t.Errorf("DeleteInstance(%+v) succeeded", inst)
		}
	}
	if n := h.srv.Total(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestUserDataLimit(t *testing.T) {
	h := newHarness(t, fakearm.Options{}, nil)
	limit := h.p.UserDataLimit()
	if limit != 48*1024 {
		t.Errorf("UserDataLimit = %d, want 48 KiB (64 KiB of base64)", limit)
	}
	sp := spec("podvm-big")
	sp.UserData = make([]byte, limit+1)
	_, err := h.p.CreateInstance(t.Context(), sp)
	if err == nil || !strings.Contains(err.Error(), "user data is") {
		t.Fatalf("err = %v, want user data refused", err)
	}
	if n := h.srv.Total(); n != 0 {
		t.Fatalf("%d requests sent before refusing", n)
	}
	// Exactly at the limit passes the fake's own 64 KiB check.
	sp.UserData = []byte(strings.Repeat("x", limit))
	inst, err := h.p.CreateInstance(t.Context(), sp)
	if err != nil {
		t.Fatalf("user data at the limit: %v", err)
	}
	if err := h.p.DeleteInstance(t.Context(), inst); err != nil {
		t.Fatal(err)
	}
}

func TestSpecRefusedBeforeRequests(t *testing.T) {
	h := newHarness(t, fakearm.Options{}, nil)
	for name, edit := range map[string]func(*provider.InstanceSpec){
		"bad name":         func(s *provider.InstanceSpec) { s.Name = "Pod_VM" },
		"trailing dash":    func(s *provider.InstanceSpec) { s.Name = "podvm-" },
		"too long":         func(s *provider.InstanceSpec) { s.Name = strings.Repeat("a", 64) },
		"size not allowed": func(s *provider.InstanceSpec) { s.InstanceType = "Standard_DC8as_v5" },
		"empty user data":  func(s *provider.InstanceSpec) { s.UserData = nil },
		"bad image":        func(s *provider.InstanceSpec) { s.Image = "ubuntu:latest" },
		"bad tag":          func(s *provider.InstanceSpec) { s.Tags = map[string]string{"a/b": "c"} },
	} {
		sp := spec("podvm-ok")
		edit(&sp)
		if _, err := h.p.CreateInstance(t.Context(), sp); err == nil {
			t.Errorf("%s: CreateInstance succeeded", name)
		}
	}
	if n := h.srv.Total(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestImageReference(t *testing.T) {
	const (
		community = "/CommunityGalleries/cococommunity-42d8/Images/peerpod-podvm/Versions/0.13.0"
		shared    = "/SharedGalleries/abcd-efgh/Images/podvm"
		managed   = "/subscriptions/" + testSub + "/resourceGroups/images/providers/Microsoft.Compute/images/podvm"
	)
	for _, tc := range []struct {
		name, env, override string
		want                func(*armcompute.ImageReference) *string
		wantID              string
	}{
		{"gallery version", testImage, "", func(r *armcompute.ImageReference) *string { return r.ID }, testImage},
		{"community gallery", community, "", func(r *armcompute.ImageReference) *string { return r.CommunityGalleryImageID }, community},
		{"shared gallery", shared, "", func(r *armcompute.ImageReference) *string { return r.SharedGalleryImageID }, shared},
		{"managed image annotation", community, managed, func(r *armcompute.ImageReference) *string { return r.ID }, managed},
		{"community annotation", testImage, community, func(r *armcompute.ImageReference) *string { return r.CommunityGalleryImageID }, community},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, fakearm.Options{}, func(env map[string]string) { env[KeyImageID] = tc.env })
			sp := spec("podvm-img")
			sp.Image = tc.override
			inst, err := h.p.CreateInstance(t.Context(), sp)
			if err != nil {
				t.Fatal(err)
			}
			vm, _ := h.srv.VM(inst.ID)
			ref := vm.Properties.StorageProfile.ImageReference
			if got := tc.want(ref); got == nil || *got != tc.wantID {
				t.Errorf("imageReference = %+v, want %s", ref, tc.wantID)
			}
		})
	}
}

func TestDisableCVM(t *testing.T) {
	h := newHarness(t, fakearm.Options{AllowNonConfidential: true}, func(env map[string]string) {
		env[KeyDisableCVM] = "TRUE"
		env[KeyInstanceSizes] = "Standard_D2s_v5"
	})
	sp := spec("podvm-plain")
	sp.InstanceType = "Standard_D2s_v5"
	inst, err := h.p.CreateInstance(t.Context(), sp)
	if err != nil {
		t.Fatal(err)
	}
	vm, _ := h.srv.VM(inst.ID)
	if vm.Properties.SecurityProfile != nil || vm.Properties.StorageProfile.OSDisk.ManagedDisk.SecurityProfile != nil {
		t.Errorf("DISABLECVM VM has a security profile")
	}
}

func TestThrowawayKeyAccepted(t *testing.T) {
	h := newHarness(t, fakearm.Options{}, nil)
	h.p.sshKey = ""
	inst, err := h.p.CreateInstance(t.Context(), spec("podvm-key"))
	if err != nil {
		t.Fatal(err)
	}
	vm, _ := h.srv.VM(inst.ID)
	key := *vm.Properties.OSProfile.LinuxConfiguration.SSH.PublicKeys[0].KeyData
	checkAuthorizedKey(t, key)
}

func TestInstanceTypes(t *testing.T) {
	h := newHarness(t, fakearm.Options{}, nil)
	got, err := h.p.InstanceTypes(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []provider.InstanceType{{Name: "Standard_DC2as_v5", VCPUs: 2, MemoryMiB: 8192}, {Name: "Standard_DC4as_v5", VCPUs: 4, MemoryMiB: 16384}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("InstanceTypes() = %v, want %v", got, want)
	}
	got, err = h.p.InstanceTypes(t.Context(), []string{"Standard_DC4as_v5"})
	if err != nil || len(got) != 1 || got[0].VCPUs != 4 {
		t.Errorf("InstanceTypes(DC4) = %v, %v", got, err)
	}
	if _, err := h.p.InstanceTypes(t.Context(), []string{"Standard_Nope"}); err == nil {
		t.Error("unknown size accepted")
	}

	// Allowed, but not offered in the region.
	h = newHarness(t, fakearm.Options{Sizes: fakearm.DefaultSizes()[:1]}, nil)
	if _, err := h.p.InstanceTypes(t.Context(), nil); err == nil || !strings.Contains(err.Error(), "Standard_DC4as_v5") {
		t.Errorf("err = %v, want Standard_DC4as_v5 not offered", err)
	}
}

func TestVerifyConfig(t *testing.T) {
	h := newHarness(t, fakearm.Options{}, nil)
	if err := h.p.VerifyConfig(t.Context()); err != nil {
		t.Errorf("VerifyConfig: %v", err)
	}
	if got := h.srv.Count("GET subnets"); got != 1 {
		t.Errorf("%d subnet reads", got)
	}

	missing := strings.Replace(testSubnet, "/pods", "/nope", 1)
	h = newHarness(t, fakearm.Options{}, func(env map[string]string) { env[KeySubnetID] = missing })
	err := h.p.VerifyConfig(t.Context())
	noSecret(t, err)
	if !errors.Is(err, provider.ErrInvalidConfig) {
		t.Errorf("missing subnet: err = %v, want ErrInvalidConfig", err)
	}

	h = newHarness(t, fakearm.Options{}, nil)
	h.srv.Inject(fakearm.Fault{Status: 503, Times: 100})
	if err := h.p.VerifyConfig(t.Context()); err == nil || errors.Is(err, provider.ErrInvalidConfig) {
		t.Errorf("outage: err = %v, want a retryable error", err)
	}
}

func TestConcurrentCreates(t *testing.T) {
	h := newHarness(t, fakearm.Options{}, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			inst, err := h.p.CreateInstance(t.Context(), spec(fmt.Sprintf("podvm-%d", i)))
			if err == nil {
				err = h.p.DeleteInstance(t.Context(), inst)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if left := h.srv.Resources(); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func BenchmarkCreateDelete(b *testing.B) {
	h := newHarness(b, fakearm.Options{PollsBeforeDone: -1}, nil)
	ctx := context.Background()
	sp := spec("podvm-bench")
	for b.Loop() {
		inst, err := h.p.CreateInstance(ctx, sp)
		if err != nil {
			b.Fatal(err)
		}
		if err := h.p.DeleteInstance(ctx, inst); err != nil {
			b.Fatal(err)
		}
	}
}
