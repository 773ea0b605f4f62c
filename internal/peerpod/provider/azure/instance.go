package azure

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v6"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v7"

	"github.com/cocogen/cocogen/internal/peerpod/provider"
)

// nameRe is InstanceSpec.Name's contract, narrowed by Azure's VM name rule
// that a name must not end in a dash.
var nameRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// The NIC and OS disk are named from the VM, with CAA v0.22.0's suffixes
// (src/cloud-providers/azure/provider.go, CreateInstance), so that
// DeleteInstance can find them from the VM name alone and an operator
// sees the same names as under CAA.
func nicName(vm string) string  { return vm + "-net" }
func diskName(vm string) string { return vm + "-disk" }

// CreateInstance creates the pod VM: first its NIC in the configured subnet
// (so the address is known from the NIC), then the VM, waiting for both
// long-running operations. Everything checkable locally (name, size, image,
// user data size, tags) is checked before the first request.
//
// On failure: if the VM request was refused, the NIC is deleted again and
// the returned Instance is empty, unless that clean-up failed, in which
// case it carries the Name for DeleteInstance. If ARM accepted the VM (or
// might have: the request failed in transit), the Instance carries ID and
// Name and the caller must delete it.
func (p *Provider) CreateInstance(ctx context.Context, spec provider.InstanceSpec) (provider.Instance, error) {
	vm, err := p.vmParameters(spec)
	if err != nil {
		return provider.Instance{}, fmt.Errorf("creating instance %q: %w", spec.Name, err)
	}
	name := spec.Name
	p.log.InfoContext(ctx, "creating azure vm", "name", name, "size", spec.InstanceType)

	nic, err := p.createNIC(ctx, name, vm.Tags)
	if err != nil {
		return p.failEarly(ctx, name, fmt.Errorf("creating network interface %s: %w", nicName(name), err), !refused(err))
	}
	vm.Properties.NetworkProfile = &armcompute.NetworkProfile{
		NetworkInterfaces: []*armcompute.NetworkInterfaceReference{{
			ID: nic.ID,
			Properties: &armcompute.NetworkInterfaceReferenceProperties{
				Primary: to.Ptr(true),
				// Deleting the VM deletes the NIC with it, as CAA does.
				DeleteOption: to.Ptr(armcompute.DeleteOptionsDelete),
			},
		}},
	}

	inst := provider.Instance{ID: p.vmID(name), Name: name}
	poller, err := p.vms.BeginCreateOrUpdate(ctx, p.cfg.ResourceGroup, name, *vm, nil)
	if err != nil {
		err = fmt.Errorf("creating virtual machine %s: %w", name, err)
		if !refused(err) {
			// The request may have reached ARM: the caller deletes by
			// name, which also removes the NIC.
			return inst, err
		}
		return p.failEarly(ctx, name, err, true)
	}
	res, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: p.poll})
	if err != nil {
		return inst, fmt.Errorf("waiting for virtual machine %s: %w", name, err)
	}
	if res.ID != nil {
		inst.ID = *res.ID
	}

	inst.IPs = nicAddrs(nic)
	if len(inst.IPs) == 0 {
		// Dynamic allocation normally assigns the address with the NIC;
		// read it again in case ARM filled it in only now.
		got, err := p.nics.Get(ctx, p.cfg.ResourceGroup, nicName(name), nil)
		if err != nil {
			return inst, fmt.Errorf("reading network interface %s: %w", nicName(name), err)
		}
		inst.IPs = nicAddrs(&got.Interface)
	}
	if len(inst.IPs) == 0 {
		return inst, fmt.Errorf("network interface %s has no private address", nicName(name))
	}
	p.log.InfoContext(ctx, "created azure vm", "name", name, "ip", inst.IPs[0])
	return inst, nil
}

// failEarly handles a failure before ARM accepted the VM: when a NIC may
// exist it is deleted, so that a refused create leaves nothing behind.
// The clean-up runs even if ctx is cancelled (often the reason for the
// failure), within cleanupTimeout.
func (p *Provider) failEarly(ctx context.Context, name string, cause error, nicMayExist bool) (provider.Instance, error) {
	if !nicMayExist {
		return provider.Instance{}, cause
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := p.deleteNIC(cctx, name); err != nil {
		return provider.Instance{Name: name}, errors.Join(cause, fmt.Errorf("cleaning up: %w", err))
	}
	return provider.Instance{}, cause
}

// createNIC creates (or, on a retried create, updates) the VM's NIC.
func (p *Provider) createNIC(ctx context.Context, name string, tags map[string]*string) (*armnetwork.Interface, error) {
	props := &armnetwork.InterfacePropertiesFormat{
		IPConfigurations: []*armnetwork.InterfaceIPConfiguration{{
			Name: to.Ptr("ipconfig1"),
			Properties: &armnetwork.InterfaceIPConfigurationPropertiesFormat{
				Primary:                   to.Ptr(true),
				PrivateIPAllocationMethod: to.Ptr(armnetwork.IPAllocationMethodDynamic),
				Subnet:                    &armnetwork.Subnet{ID: to.Ptr(p.cfg.SubnetID)},
			},
		}},
	}
	if p.cfg.NSGID != "" {
		props.NetworkSecurityGroup = &armnetwork.SecurityGroup{ID: to.Ptr(p.cfg.NSGID)}
	}
	poller, err := p.nics.BeginCreateOrUpdate(ctx, p.cfg.ResourceGroup, nicName(name), armnetwork.Interface{
		Location:   to.Ptr(p.cfg.Region),
		Tags:       tags,
		Properties: props,
	}, nil)
	if err != nil {
		return nil, err
	}
	res, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: p.poll})
	if err != nil {
		// Accepted, then failed: not a refusal, so failEarly cleans up.
		return nil, fmt.Errorf("waiting: %w", asNotRefused(err))
	}
	if res.ID == nil {
		res.ID = to.Ptr(p.nicID(name))
	}
	return &res.Interface, nil
}

// vmParameters checks spec and builds the VM body, without its network
// profile (the NIC does not exist yet). The shape follows CAA v0.22.0
// (src/cloud-providers/azure/provider.go, getVMParameters): ConfidentialVM
// with vTPM, secure boot per configuration, a Premium_LRS OS disk whose VM
// guest state is encrypted (VMGuestStateOnly), disks and NIC deleted with
// the VM, boot diagnostics on, and the cloud-config as userData.
func (p *Provider) vmParameters(spec provider.InstanceSpec) (*armcompute.VirtualMachine, error) {
	var errs []error
	if !nameRe.MatchString(spec.Name) {
		errs = append(errs, fmt.Errorf("name %q is not 1-63 lowercase letters, digits and dashes, starting and ending with a letter or digit", spec.Name))
	}
	size := spec.InstanceType
	if size == "" {
		size = p.cfg.InstanceSize
	}
	if allowed := p.cfg.AllowedSizes(); !slices.Contains(allowed, size) {
		errs = append(errs, fmt.Errorf("instance type %q is not among the allowed sizes %v", size, allowed))
	}
	imageID := p.cfg.ImageID
	if spec.Image != "" {
		imageID = spec.Image
	}
	img, err := imageReference(imageID)
	if err != nil {
		errs = append(errs, fmt.Errorf("image: %w", err))
	}
	if len(spec.UserData) == 0 {
		// The pod VM learns everything (agent config, init-data) from it.
		errs = append(errs, errors.New("user data is empty"))
	}
	userData := base64.StdEncoding.EncodeToString(spec.UserData)
	if len(userData) > maxUserDataBase64 {
		errs = append(errs, fmt.Errorf("user data is %d bytes, Azure takes at most %d (%d once base64 encoded)",
			len(spec.UserData), p.UserDataLimit(), maxUserDataBase64))
	}
	tags := mergeTags(p.cfg.Tags, spec.Tags)
	if err := checkTags(tags); err != nil {
		errs = append(errs, fmt.Errorf("tags: %w", err))
	}
	key := p.sshKey
	if key == "" && len(errs) == 0 {
		if key, err = throwaway(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	disk := &armcompute.OSDisk{
		Name:         to.Ptr(diskName(spec.Name)),
		CreateOption: to.Ptr(armcompute.DiskCreateOptionTypesFromImage),
		Caching:      to.Ptr(armcompute.CachingTypesReadWrite),
		DeleteOption: to.Ptr(armcompute.DiskDeleteOptionTypesDelete),
		ManagedDisk: &armcompute.ManagedDiskParameters{
			StorageAccountType: to.Ptr(armcompute.StorageAccountTypesPremiumLRS),
		},
	}
	if p.cfg.RootVolumeSizeGB > 0 {
		disk.DiskSizeGB = to.Ptr(int32(p.cfg.RootVolumeSizeGB)) //nolint:gosec // at most maxOSDiskGB
	}
	var security *armcompute.SecurityProfile
	if !p.cfg.DisableCVM {
		// VMGuestStateOnly, as CAA v0.22.0 sets: the vTPM state is
		// encrypted with a key bound to the TEE. DiskWithVMGuestState would
		// also encrypt the OS disk, which holds only the public pod VM
		// image; secrets reach the VM after attestation, not via the disk.
		disk.ManagedDisk.SecurityProfile = &armcompute.VMDiskSecurityProfile{
			SecurityEncryptionType: to.Ptr(armcompute.SecurityEncryptionTypesVMGuestStateOnly),
		}
		security = &armcompute.SecurityProfile{
			SecurityType: to.Ptr(armcompute.SecurityTypesConfidentialVM),
			UefiSettings: &armcompute.UefiSettings{
				SecureBootEnabled: to.Ptr(p.cfg.EnableSecureBoot),
				VTpmEnabled:       to.Ptr(true),
			},
		}
	}
	user := p.cfg.SSHUsername
	return &armcompute.VirtualMachine{
		Location: to.Ptr(p.cfg.Region),
		Tags:     tagPtrs(tags),
		Properties: &armcompute.VirtualMachineProperties{
			HardwareProfile: &armcompute.HardwareProfile{VMSize: to.Ptr(armcompute.VirtualMachineSizeTypes(size))},
			StorageProfile:  &armcompute.StorageProfile{ImageReference: img, OSDisk: disk},
			OSProfile: &armcompute.OSProfile{
				ComputerName:  to.Ptr(spec.Name),
				AdminUsername: to.Ptr(user),
				LinuxConfiguration: &armcompute.LinuxConfiguration{
					DisablePasswordAuthentication: to.Ptr(true),
					SSH: &armcompute.SSHConfiguration{PublicKeys: []*armcompute.SSHPublicKey{{
						Path:    to.Ptr("/home/" + user + "/.ssh/authorized_keys"),
						KeyData: to.Ptr(key),
					}}},
				},
			},
			SecurityProfile: security,
			// Serial console output in managed storage: the only way to see
			// why a pod VM did not boot.
			DiagnosticsProfile: &armcompute.DiagnosticsProfile{
				BootDiagnostics: &armcompute.BootDiagnostics{Enabled: to.Ptr(true)},
			},
			UserData: to.Ptr(userData),
		},
	}, nil
}

// imageReference turns an image ID into the reference ARM wants: community
// and shared gallery IDs have their own fields (CAA v0.22.0 provider.go
// recognises /CommunityGalleries/; /SharedGalleries/ is peerpodd's
// addition), anything else must be the resource ID of a managed image, a
// gallery image (its latest version) or a gallery image version.
func imageReference(id string) (*armcompute.ImageReference, error) {
	parts := strings.Split(id, "/")
	gallery := func(kind string) bool {
		// /<kind>/<gallery>/Images/<image>[/Versions/<version>]
		return len(parts) >= 5 && parts[0] == "" && strings.EqualFold(parts[1], kind) &&
			strings.EqualFold(parts[3], "Images") && parts[2] != "" && parts[4] != "" &&
			(len(parts) == 5 || len(parts) == 7 && strings.EqualFold(parts[5], "Versions") && parts[6] != "")
	}
	switch {
	case gallery("CommunityGalleries"):
		return &armcompute.ImageReference{CommunityGalleryImageID: to.Ptr(id)}, nil
	case gallery("SharedGalleries"):
		return &armcompute.ImageReference{SharedGalleryImageID: to.Ptr(id)}, nil
	}
	for _, typ := range []string{
		"Microsoft.Compute/images",
		"Microsoft.Compute/galleries/images",
		"Microsoft.Compute/galleries/images/versions",
	} {
		if _, err := parseTyped(id, typ); err == nil {
			return &armcompute.ImageReference{ID: to.Ptr(id)}, nil
		}
	}
	return nil, fmt.Errorf("%q is neither a /CommunityGalleries/ or /SharedGalleries/ image ID nor the resource ID of an image or gallery image (version)", id)
}

// mergeTags is the configured tags plus the spec's, a spec tag replacing a
// configured one whose name differs only in case (ARM would take the two
// as one).
func mergeTags(cfg, spec map[string]string) map[string]string {
	m := make(map[string]string, len(cfg)+len(spec))
	for k, v := range cfg {
		m[k] = v
	}
	for k, v := range spec {
		if old, ok := lookupFold(m, k); ok {
			delete(m, old)
		}
		m[k] = v
	}
	return m
}

// tagPtrs is tags in the SDK's shape.
func tagPtrs(tags map[string]string) map[string]*string {
	out := make(map[string]*string, len(tags))
	for k, v := range tags {
		out[k] = to.Ptr(v)
	}
	return out
}

// nicAddrs are the NIC's private addresses, primary configuration first.
func nicAddrs(nic *armnetwork.Interface) []netip.Addr {
	if nic == nil || nic.Properties == nil {
		return nil
	}
	var primary, rest []netip.Addr
	for _, c := range nic.Properties.IPConfigurations {
		if c == nil || c.Properties == nil || c.Properties.PrivateIPAddress == nil {
			continue
		}
		a, err := netip.ParseAddr(*c.Properties.PrivateIPAddress)
		if err != nil || a.IsUnspecified() {
			continue
		}
		if c.Properties.Primary != nil && *c.Properties.Primary {
			primary = append(primary, a)
		} else {
			rest = append(rest, a)
		}
	}
	return append(primary, rest...)
}

// DeleteInstance deletes the VM, then its NIC and OS disk. The VM is
// created with both set to be deleted along with it, so the two later
// deletes normally find nothing; they are there for a create that died
// between the NIC and the VM, or a VM that never got its disk. Not found is
// success at every step. Only inst.Name is needed; an ID alone works too.
func (p *Provider) DeleteInstance(ctx context.Context, inst provider.Instance) error {
	name, err := p.instanceName(inst)
	if err != nil {
		return fmt.Errorf("deleting instance: %w", err)
	}
	p.log.InfoContext(ctx, "deleting azure vm", "name", name)
	if err := p.deleteVM(ctx, name); err != nil {
		// The NIC and disk are still attached; deleting them would fail.
		return fmt.Errorf("deleting virtual machine %s: %w", name, err)
	}
	var errs []error
	if err := p.deleteNIC(ctx, name); err != nil {
		errs = append(errs, err)
	}
	if err := p.deleteDisk(ctx, name); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("deleting instance %s: %w", name, errors.Join(errs...))
	}
	p.log.InfoContext(ctx, "deleted azure vm", "name", name)
	return nil
}

// instanceName finds the VM name from inst, refusing an ID outside the
// configured subscription and resource group: peerpodd deletes only what
// it creates.
func (p *Provider) instanceName(inst provider.Instance) (string, error) {
	if inst.ID == "" {
		if inst.Name == "" {
			return "", errors.New("instance has neither ID nor name")
		}
		return inst.Name, nil
	}
	rid, err := parseTyped(inst.ID, "Microsoft.Compute/virtualMachines")
	if err != nil {
		return "", err
	}
	if !strings.EqualFold(rid.SubscriptionID, p.cfg.SubscriptionID) || !strings.EqualFold(rid.ResourceGroupName, p.cfg.ResourceGroup) {
		return "", fmt.Errorf("%s is outside resource group %s of subscription %s", inst.ID, p.cfg.ResourceGroup, p.cfg.SubscriptionID)
	}
	if inst.Name != "" && !strings.EqualFold(inst.Name, rid.Name) {
		return "", fmt.Errorf("name %q does not match ID %s", inst.Name, inst.ID)
	}
	return rid.Name, nil
}

func (p *Provider) deleteVM(ctx context.Context, name string) error {
	poller, err := p.vms.BeginDelete(ctx, p.cfg.ResourceGroup, name, nil)
	if err == nil {
		_, err = poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: p.poll})
	}
	return ignoreNotFound(err)
}

func (p *Provider) deleteNIC(ctx context.Context, name string) error {
	poller, err := p.nics.BeginDelete(ctx, p.cfg.ResourceGroup, nicName(name), nil)
	if err == nil {
		_, err = poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: p.poll})
	}
	if err = ignoreNotFound(err); err != nil {
		return fmt.Errorf("deleting network interface %s: %w", nicName(name), err)
	}
	return nil
}

func (p *Provider) deleteDisk(ctx context.Context, name string) error {
	poller, err := p.disks.BeginDelete(ctx, p.cfg.ResourceGroup, diskName(name), nil)
	if err == nil {
		_, err = poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: p.poll})
	}
	if err = ignoreNotFound(err); err != nil {
		return fmt.Errorf("deleting disk %s: %w", diskName(name), err)
	}
	return nil
}

func (p *Provider) vmID(name string) string {
	return "/subscriptions/" + p.cfg.SubscriptionID + "/resourceGroups/" + p.cfg.ResourceGroup +
		"/providers/Microsoft.Compute/virtualMachines/" + name
}

func (p *Provider) nicID(name string) string {
	return "/subscriptions/" + p.cfg.SubscriptionID + "/resourceGroups/" + p.cfg.ResourceGroup +
		"/providers/Microsoft.Network/networkInterfaces/" + nicName(name)
}

// ignoreNotFound makes deleting what is already gone a success.
func ignoreNotFound(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
		return nil
	}
	return err
}

// refused reports whether ARM answered a request with an error status, so
// the request certainly created nothing; a transport failure or a
// cancelled context leaves that open.
func refused(err error) bool {
	var re *azcore.ResponseError
	var nr notRefused
	return errors.As(err, &re) && !errors.As(err, &nr)
}

// notRefused marks an error from polling an accepted operation: it may
// carry ARM's status, yet the resource was created.
type notRefused struct{ error }

func (e notRefused) Unwrap() error { return e.error }

func asNotRefused(err error) error { return notRefused{err} }
