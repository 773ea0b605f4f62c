package fakearm

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v6"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v7"
)

// ARM's limits the fake enforces.
const (
	maxUserDataBase64 = 64 * 1024 // https://learn.microsoft.com/azure/virtual-machines/user-data
	maxTags           = 50
	maxOSDiskGB       = 4095
)

// confidentialSizeRe matches the AMD SEV-SNP (DCas/ECas, DCads/ECads) and
// Intel TDX (DCes/ECes, DCeds/ECeds) confidential VM sizes.
var confidentialSizeRe = regexp.MustCompile(`^Standard_[DE]C\d+[a-z]*[ae][a-z]*_v\d+$`)

// decodeStrict decodes a request body into an SDK model and refuses fields
// the model does not know. The SDK's generated UnmarshalJSON silently drops
// unknown keys, so json.Decoder.DisallowUnknownFields cannot see them;
// instead the decoded value is encoded again and every key of the original
// that did not survive the round trip is an unknown field.
func decodeStrict(body []byte, v any) *armError {
	if len(body) == 0 {
		return errorf(http.StatusBadRequest, "InvalidRequestContent", "the request body is empty")
	}
	var raw any
	if err := json.Unmarshal(body, &raw); err != nil {
		return errorf(http.StatusBadRequest, "InvalidRequestContent", "the request body is not JSON: %v", err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errorf(http.StatusBadRequest, "InvalidRequestContent", "the request body does not decode: %v", err)
	}
	again, err := json.Marshal(v)
	if err != nil {
		return errorf(http.StatusInternalServerError, "InternalServerError", "re-encoding: %v", err)
	}
	var back any
	if err := json.Unmarshal(again, &back); err != nil {
		return errorf(http.StatusInternalServerError, "InternalServerError", "re-decoding: %v", err)
	}
	var unknown []string
	diffKeys("", raw, back, &unknown)
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return errorf(http.StatusBadRequest, "InvalidRequestContent", "unknown fields: %s", strings.Join(unknown, ", "))
	}
	return nil
}

// diffKeys lists the object keys in a (with non-null values) missing from b.
func diffKeys(path string, a, b any, out *[]string) {
	switch av := a.(type) {
	case map[string]any:
		bv, _ := b.(map[string]any)
		for k, v := range av {
			if v == nil {
				continue
			}
			w, ok := bv[k]
			if !ok {
				*out = append(*out, path+"."+k)
				continue
			}
			diffKeys(path+"."+k, v, w, out)
		}
	case []any:
		bv, _ := b.([]any)
		for i, v := range av {
			if i < len(bv) {
				diffKeys(path+"[]", v, bv[i], out)
			}
		}
	}
}

// problems collects validation failures into one 400.
type problems []string

func (p *problems) add(cond bool, msg string) {
	if cond {
		*p = append(*p, msg)
	}
}

func (p problems) err(code string) *armError {
	if len(p) == 0 {
		return nil
	}
	return errorf(http.StatusBadRequest, code, "%s", strings.Join(p, "; "))
}

func empty(s *string) bool { return s == nil || *s == "" }

// checkTags applies ARM's tag limits.
func checkTags(p *problems, tags map[string]*string) {
	p.add(len(tags) > maxTags, "more than 50 tags")
	for k, v := range tags {
		p.add(k == "" || len(k) > 512 || strings.ContainsAny(k, `<>%&\?/`), "invalid tag name "+k)
		p.add(v != nil && len(*v) > 256, "tag "+k+": value longer than 256")
	}
}

func (s *Server) validateNIC(id string, nic *armnetwork.Interface) *armError {
	var p problems
	p.add(empty(nic.Location), "location is required")
	p.add(len(resourceName(id)) > 80, "a NIC name has at most 80 characters")
	checkTags(&p, nic.Tags)
	if nic.Properties == nil || len(nic.Properties.IPConfigurations) == 0 {
		p.add(true, "properties.ipConfigurations is required")
		return p.err("InvalidRequestFormat")
	}
	for _, c := range nic.Properties.IPConfigurations {
		if c == nil || empty(c.Name) || c.Properties == nil || c.Properties.Subnet == nil || empty(c.Properties.Subnet.ID) {
			p.add(true, "every IP configuration needs a name and a subnet id")
			continue
		}
		_, ok := s.subnets[key(*c.Properties.Subnet.ID)]
		p.add(!ok, "subnet "+*c.Properties.Subnet.ID+" not found")
	}
	if nsg := nic.Properties.NetworkSecurityGroup; nsg != nil {
		rid, err := arm.ParseResourceID(deref(nsg.ID))
		p.add(err != nil || !strings.EqualFold(rid.ResourceType.String(), "Microsoft.Network/networkSecurityGroups"),
			"networkSecurityGroup.id is not a network security group ID")
	}
	return p.err("InvalidResourceReference")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (s *Server) validateVM(id string, vm *armcompute.VirtualMachine) *armError {
	var p problems
	name := resourceName(id)
	p.add(len(name) > 64 || strings.HasSuffix(name, "-") || strings.HasSuffix(name, "."), "invalid VM name "+name)
	p.add(empty(vm.Location), "location is required")
	checkTags(&p, vm.Tags)
	pr := vm.Properties
	if pr == nil || pr.HardwareProfile == nil || pr.StorageProfile == nil || pr.StorageProfile.OSDisk == nil ||
		pr.OSProfile == nil || pr.NetworkProfile == nil {
		p.add(true, "properties with hardwareProfile, storageProfile.osDisk, osProfile and networkProfile are required")
		return p.err("InvalidParameter")
	}

	size := ""
	if pr.HardwareProfile.VMSize != nil {
		size = string(*pr.HardwareProfile.VMSize)
	}
	known := false
	for _, sz := range s.opts.Sizes {
		known = known || strings.EqualFold(deref(sz.Name), size)
	}
	p.add(!known, "vmSize "+size+" is not offered")

	img := pr.StorageProfile.ImageReference
	refs := 0
	if img != nil {
		for _, set := range []bool{!empty(img.ID), !empty(img.CommunityGalleryImageID), !empty(img.SharedGalleryImageID), !empty(img.Publisher)} {
			if set {
				refs++
			}
		}
	}
	p.add(refs != 1, "storageProfile.imageReference needs exactly one of id, communityGalleryImageId, sharedGalleryImageId, publisher")
	if img != nil && !empty(img.ID) {
		_, err := arm.ParseResourceID(*img.ID)
		p.add(err != nil, "imageReference.id is not a resource ID")
	}
	if img != nil && !empty(img.CommunityGalleryImageID) {
		p.add(!strings.HasPrefix(strings.ToLower(*img.CommunityGalleryImageID), "/communitygalleries/"), "communityGalleryImageId must start with /CommunityGalleries/")
	}

	osDisk := pr.StorageProfile.OSDisk
	p.add(osDisk.CreateOption == nil || *osDisk.CreateOption != armcompute.DiskCreateOptionTypesFromImage, "osDisk.createOption must be FromImage")
	p.add(osDisk.ManagedDisk == nil, "osDisk.managedDisk is required")
	p.add(osDisk.DiskSizeGB != nil && (*osDisk.DiskSizeGB < 1 || *osDisk.DiskSizeGB > maxOSDiskGB), "osDisk.diskSizeGB out of range")

	op := pr.OSProfile
	p.add(empty(op.ComputerName) || empty(op.AdminUsername), "osProfile.computerName and adminUsername are required")
	lc := op.LinuxConfiguration
	if lc == nil || lc.DisablePasswordAuthentication == nil || !*lc.DisablePasswordAuthentication {
		p.add(true, "password authentication must be disabled")
	} else if lc.SSH == nil || len(lc.SSH.PublicKeys) == 0 {
		p.add(true, "an SSH public key is required when password authentication is disabled")
	} else {
		for _, k := range lc.SSH.PublicKeys {
			p.add(!strings.HasPrefix(deref(k.KeyData), "ssh-rsa ") && !strings.HasPrefix(deref(k.KeyData), "ssh-ed25519 "), "ssh keyData is not an OpenSSH public key")
			p.add(deref(k.Path) != "/home/"+deref(op.AdminUsername)+"/.ssh/authorized_keys", "ssh key path is not the admin user's authorized_keys")
		}
	}
	p.add(!empty(op.AdminPassword), "no admin password is expected")

	nics := pr.NetworkProfile.NetworkInterfaces
	p.add(len(nics) == 0, "networkProfile.networkInterfaces is required")
	for _, ref := range nics {
		if ref == nil || empty(ref.ID) {
			p.add(true, "network interface reference without id")
			continue
		}
		nic, ok := s.nics[key(*ref.ID)]
		if !ok {
			p.add(true, "network interface "+*ref.ID+" not found")
			continue
		}
		if vmRef := nic.Properties.VirtualMachine; vmRef != nil && !strings.EqualFold(deref(vmRef.ID), id) {
			p.add(true, "network interface "+*ref.ID+" is in use by "+deref(vmRef.ID))
		}
		p.add(!strings.EqualFold(location(nic.Location), location(vm.Location)), "network interface "+*ref.ID+" is in another region")
	}

	if empty(pr.UserData) {
		p.add(true, "userData is required (peer pod VMs boot from it)")
	} else {
		_, err := base64.StdEncoding.DecodeString(*pr.UserData)
		p.add(err != nil, "userData is not base64")
		p.add(len(*pr.UserData) > maxUserDataBase64, "userData exceeds 64 KB")
	}

	sp := pr.SecurityProfile
	switch {
	case sp != nil && sp.SecurityType != nil && *sp.SecurityType == armcompute.SecurityTypesConfidentialVM:
		p.add(sp.UefiSettings == nil || sp.UefiSettings.VTpmEnabled == nil || !*sp.UefiSettings.VTpmEnabled,
			"a confidential VM needs uefiSettings.vTpmEnabled")
		p.add(osDisk.ManagedDisk == nil || osDisk.ManagedDisk.SecurityProfile == nil || osDisk.ManagedDisk.SecurityProfile.SecurityEncryptionType == nil,
			"a confidential VM needs osDisk.managedDisk.securityProfile.securityEncryptionType")
		p.add(!confidentialSizeRe.MatchString(size), "vmSize "+size+" is not a confidential VM size")
	case !s.opts.AllowNonConfidential:
		p.add(true, "securityProfile.securityType ConfidentialVM is required (fakearm Options.AllowNonConfidential is off)")
	default:
		p.add(osDisk.ManagedDisk != nil && osDisk.ManagedDisk.SecurityProfile != nil, "a disk security profile needs a confidential VM")
	}
	return p.err("InvalidParameter")
}
