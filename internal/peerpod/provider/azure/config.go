package azure

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"

	"github.com/cocogen/cocogen/internal/peerpod/provider"
)

// The environment keys, spelled as the cloud-api-adaptor Azure provider
// reads them at v0.22.0 (src/cloud-providers/azure/manager.go, ParseCmd), so
// that an existing peer-pods-cm ConfigMap and peer-pods-secret Secret work
// unchanged. The one addition is KeyFederatedTokenFile, which CAA never reads
// itself: azidentity reads it from the process environment for workload
// identity (src/cloud-providers/azure/client.go at v0.22.0 passes nil
// options); peerpodd reads it from the same map so that the map is the whole
// configuration.
const (
	KeySubscriptionID     = "AZURE_SUBSCRIPTION_ID" // required
	KeyClientID           = "AZURE_CLIENT_ID"
	KeyClientSecret       = "AZURE_CLIENT_SECRET" // a secret: never printed
	KeyTenantID           = "AZURE_TENANT_ID"
	KeyFederatedTokenFile = "AZURE_FEDERATED_TOKEN_FILE" // azidentity's key, not CAA's
	KeyRegion             = "AZURE_REGION"               // required
	KeyResourceGroup      = "AZURE_RESOURCE_GROUP"       // required
	KeySubnetID           = "AZURE_SUBNET_ID"            // required
	KeyNSGID              = "AZURE_NSG_ID"
	KeyImageID            = "AZURE_IMAGE_ID" // required
	KeyInstanceSize       = "AZURE_INSTANCE_SIZE"
	KeyInstanceSizes      = "AZURE_INSTANCE_SIZES"
	KeyTags               = "TAGS"
	KeyRootVolumeSize     = "ROOT_VOLUME_SIZE"
	KeyDisableCVM         = "DISABLECVM"
	KeyEnableSecureBoot   = "ENABLE_SECURE_BOOT"
	KeySSHUsername        = "SSH_USERNAME"
	KeyUsePublicIP        = "USE_PUBLIC_IP"
)

// Defaults CAA v0.22.0 applies (src/cloud-providers/azure/manager.go).
const (
	// DefaultInstanceSize is the smallest AMD SEV-SNP confidential size,
	// CAA's default for AZURE_INSTANCE_SIZE.
	DefaultInstanceSize = "Standard_DC2as_v5"
	// DefaultSSHUsername is the VM's admin user. Azure requires one for a
	// Linux VM even though nobody ever logs in (see sshkey.go).
	DefaultSSHUsername = "peerpod"
)

// Azure limits checked before any request, so that a bad value fails at
// start-up with its key named rather than on every pod with an ARM error.
const (
	// maxOSDiskGB is the largest managed OS disk Azure creates (4 TiB less
	// one GiB).
	maxOSDiskGB = 4095
	// maxTags, maxTagName and maxTagValue are ARM's tag limits per resource.
	maxTags     = 50
	maxTagName  = 512
	maxTagValue = 256
)

// Secret is a string that never prints: fmt verbs, String, JSON, text and
// slog all see "[redacted]". Reveal returns the value for the one caller
// that needs it (the credential).
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String hides the value; see Secret.
func (s Secret) String() string { return redacted }

// GoString hides the value from %#v too.
func (s Secret) GoString() string { return redacted }

// Format hides the value from every fmt verb, %s, %v, %q and %x included.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalText hides the value from encoding/json and from text encoders.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue hides the value from log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// Config is the Azure provider's configuration, read by ConfigFromEnv.
type Config struct {
	SubscriptionID string
	// ClientID and TenantID identify the service principal or the workload
	// identity's app registration.
	ClientID string
	TenantID string
	// ClientSecret selects the client-secret credential when not empty;
	// without it peerpodd uses workload identity, as CAA does
	// (src/cloud-providers/azure/client.go, v0.22.0).
	ClientSecret Secret
	// FederatedTokenFile is the projected service-account token workload
	// identity exchanges for an Entra ID token.
	FederatedTokenFile string

	Region        string
	ResourceGroup string
	// SubnetID is the subnet the VMs' NICs join; it may sit in another
	// resource group or subscription than the VMs.
	SubnetID string
	// NSGID is the network security group put on every NIC; optional.
	NSGID string
	// ImageID is the pod VM image: a managed image or gallery image
	// (version) resource ID, or a /CommunityGalleries/... or
	// /SharedGalleries/... image ID.
	ImageID string
	// InstanceSize is used when a spec names no type.
	InstanceSize string
	// InstanceSizes are the sizes pods may use; when empty, InstanceSize
	// is the only one (CAA v0.22.0 provider.go updateInstanceSizeSpecList).
	InstanceSizes []string
	// Tags go on every resource created.
	Tags map[string]string
	// RootVolumeSizeGB sizes the OS disk; 0 keeps the image's size.
	RootVolumeSizeGB int
	// DisableCVM creates ordinary VMs. It exists for testing on hardware or
	// quota without confidential sizes: such a VM has no TEE and no
	// attestation can pass, so it protects nothing.
	DisableCVM bool
	// EnableSecureBoot turns on UEFI secure boot; CAA leaves it off by
	// default because the pod VM relies on measured boot instead.
	EnableSecureBoot bool
	// SSHUsername is the VM's admin user name.
	SSHUsername string
}

// AllowedSizes are the sizes pods may use: InstanceSizes, or InstanceSize
// alone when that list is empty.
func (c Config) AllowedSizes() []string {
	if len(c.InstanceSizes) > 0 {
		return slices.Clone(c.InstanceSizes)
	}
	return []string{c.InstanceSize}
}

// String describes the configuration for a start-up log line. The client
// secret is shown only as set or unset; client and tenant IDs are hidden
// as CAA hides them (types.go Redact, v0.22.0).
func (c Config) String() string {
	set := func(v string) string {
		if v == "" {
			return "unset"
		}
		return "set"
	}
	tags := make([]string, 0, len(c.Tags))
	for k, v := range c.Tags {
		tags = append(tags, k+"="+v)
	}
	sort.Strings(tags)
	return fmt.Sprintf("azure{subscription=%s region=%s resourceGroup=%s subnet=%s nsg=%s image=%s "+
		"size=%s sizes=%s tags=%s rootVolumeGB=%d disableCVM=%t secureBoot=%t sshUser=%s "+
		"clientID=%s tenantID=%s clientSecret=%s federatedTokenFile=%s}",
		c.SubscriptionID, c.Region, c.ResourceGroup, c.SubnetID, c.NSGID, c.ImageID,
		c.InstanceSize, strings.Join(c.InstanceSizes, ","), strings.Join(tags, ","),
		c.RootVolumeSizeGB, c.DisableCVM, c.EnableSecureBoot, c.SSHUsername,
		set(c.ClientID), set(c.TenantID), set(string(c.ClientSecret)), c.FederatedTokenFile)
}

var (
	guidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// sizeRe is the shape of every Azure VM size name (Standard_DC2as_v5).
	sizeRe = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	// regionRe is a region's programmatic name (eastus, westeurope).
	regionRe = regexp.MustCompile(`^[a-z0-9]+$`)
	// userRe is what Azure accepts as a Linux admin user name.
	userRe = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	// tagNameBad are the characters ARM refuses in tag names.
	tagNameBad = "<>%&\\?/"
)

// reservedUsers are admin names Azure refuses for Linux VMs.
var reservedUsers = map[string]bool{
	"administrator": true, "admin": true, "user": true, "user1": true, "test": true,
	"user2": true, "test1": true, "user3": true, "admin1": true, "1": true, "123": true,
	"a": true, "actuser": true, "adm": true, "admin2": true, "aspnet": true, "backup": true,
	"console": true, "david": true, "guest": true, "john": true, "owner": true, "root": true,
	"server": true, "sql": true, "support": true, "support_388945a0": true, "sys": true,
	"test2": true, "test3": true, "user4": true, "user5": true,
}

// ConfigFromEnv reads the configuration from env (the daemon passes its
// environment, which Kubernetes fills from peer-pods-cm and
// peer-pods-secret). Every missing required key and every value that does
// not parse is reported, all in one error wrapping
// provider.ErrInvalidConfig; no error ever contains the client secret.
//
// An empty value counts as unset, as in CAA. Unlike CAA, which reads a
// boolean that is not "1"/"true" as false and drops an integer or TAGS value
// that does not parse, such values are errors here: a typo must not
// silently turn confidential computing or a tag off.
func ConfigFromEnv(env map[string]string) (Config, error) {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, a...)...))
	}
	required := func(key string) string {
		v := strings.TrimSpace(env[key])
		if v == "" {
			bad(key, "is required")
		}
		return v
	}
	optional := func(key, def string) string {
		if v := strings.TrimSpace(env[key]); v != "" {
			return v
		}
		return def
	}
	boolean := func(key string) bool {
		v := strings.TrimSpace(env[key])
		if v == "" {
			return false
		}
		b, err := strconv.ParseBool(strings.ToLower(v))
		if err != nil {
			bad(key, "%q is not a boolean (true, false, 1 or 0)", v)
		}
		return b
	}

	c := Config{
		SubscriptionID:     required(KeySubscriptionID),
		ClientID:           optional(KeyClientID, ""),
		TenantID:           optional(KeyTenantID, ""),
		ClientSecret:       Secret(env[KeyClientSecret]), // verbatim: a secret may end in spaces
		FederatedTokenFile: optional(KeyFederatedTokenFile, ""),
		Region:             required(KeyRegion),
		ResourceGroup:      required(KeyResourceGroup),
		SubnetID:           required(KeySubnetID),
		NSGID:              optional(KeyNSGID, ""),
		ImageID:            required(KeyImageID),
		InstanceSize:       optional(KeyInstanceSize, DefaultInstanceSize),
		SSHUsername:        optional(KeySSHUsername, DefaultSSHUsername),
		DisableCVM:         boolean(KeyDisableCVM),
		EnableSecureBoot:   boolean(KeyEnableSecureBoot),
	}

	if c.SubscriptionID != "" && !guidRe.MatchString(c.SubscriptionID) {
		bad(KeySubscriptionID, "%q is not a GUID", c.SubscriptionID)
	}
	// Client and tenant IDs are hidden in errors as in String: CAA treats
	// them as secrets (manager.go, v0.22.0).
	if c.ClientID != "" && !guidRe.MatchString(c.ClientID) {
		bad(KeyClientID, "is not a GUID")
	}
	if c.ClientSecret != "" {
		if c.ClientID == "" {
			bad(KeyClientID, "is required with %s", KeyClientSecret)
		}
		if c.TenantID == "" {
			bad(KeyTenantID, "is required with %s", KeyClientSecret)
		}
	} else {
		// Workload identity: what the azure-workload-identity webhook
		// injects into the pod.
		for _, k := range []struct{ key, val string }{
			{KeyClientID, c.ClientID}, {KeyTenantID, c.TenantID}, {KeyFederatedTokenFile, c.FederatedTokenFile},
		} {
			if k.val == "" {
				bad(k.key, "is required for workload identity (no %s is set)", KeyClientSecret)
			}
		}
	}
	if c.Region != "" {
		// ARM accepts a display name ("East US") for its programmatic one
		// ("eastus"); normalise so the VM sizes URL and the fake agree.
		orig := c.Region
		c.Region = strings.ToLower(strings.ReplaceAll(c.Region, " ", ""))
		if !regionRe.MatchString(c.Region) {
			bad(KeyRegion, "%q is not a region name such as eastus", orig)
		}
	}
	if c.SubnetID != "" {
		if _, err := parseTyped(c.SubnetID, "Microsoft.Network/virtualNetworks/subnets"); err != nil {
			bad(KeySubnetID, "%v", err)
		}
	}
	if c.NSGID != "" {
		if _, err := parseTyped(c.NSGID, "Microsoft.Network/networkSecurityGroups"); err != nil {
			bad(KeyNSGID, "%v", err)
		}
	}
	if c.ImageID != "" {
		if _, err := imageReference(c.ImageID); err != nil {
			bad(KeyImageID, "%v", err)
		}
	}
	if !sizeRe.MatchString(c.InstanceSize) {
		bad(KeyInstanceSize, "%q is not a VM size name", c.InstanceSize)
	}
	if v := strings.TrimSpace(env[KeyInstanceSizes]); v != "" {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			switch {
			case !sizeRe.MatchString(s):
				bad(KeyInstanceSizes, "%q is not a VM size name", s)
			case slices.Contains(c.InstanceSizes, s):
				bad(KeyInstanceSizes, "%q is listed twice", s)
			default:
				c.InstanceSizes = append(c.InstanceSizes, s)
			}
		}
	}
	if v := strings.TrimSpace(env[KeyTags]); v != "" {
		tags, tagErrs := parseTags(v)
		for _, e := range tagErrs {
			bad(KeyTags, "%v", e)
		}
		c.Tags = tags
	}
	if v := strings.TrimSpace(env[KeyRootVolumeSize]); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			bad(KeyRootVolumeSize, "%q is not a whole number of GB", v)
		case n < 0 || n > maxOSDiskGB:
			bad(KeyRootVolumeSize, "%d is outside 0..%d GB", n, maxOSDiskGB)
		default:
			c.RootVolumeSizeGB = n
		}
	}
	if !userRe.MatchString(c.SSHUsername) || reservedUsers[c.SSHUsername] {
		bad(KeySSHUsername, "%q is not a user name Azure accepts", c.SSHUsername)
	}
	if boolean(KeyUsePublicIP) {
		// The daemon reaches the agent on the private address; a public IP
		// would expose the pod VM for no gain, so it is refused rather
		// than silently ignored.
		bad(KeyUsePublicIP, "public addresses are not supported by peerpodd")
	}

	if len(errs) > 0 {
		return Config{}, fmt.Errorf("%w:\n%w", provider.ErrInvalidConfig, errors.Join(errs...))
	}
	return c, nil
}

// parseTags reads TAGS: comma-separated key=value pairs, as CAA's
// KeyValueFlag does (src/cloud-providers/types.go, v0.22.0), each key and
// value trimmed.
func parseTags(s string) (map[string]string, []error) {
	tags := map[string]string{}
	var errs []error
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			errs = append(errs, fmt.Errorf("%q is not key=value", strings.TrimSpace(pair)))
			continue
		}
		if _, dup := lookupFold(tags, k); dup {
			errs = append(errs, fmt.Errorf("tag %q is set twice (Azure tag names ignore case)", k))
			continue
		}
		tags[k] = v
	}
	if err := checkTags(tags); err != nil {
		errs = append(errs, err)
	}
	// The daemon adds its own tags to every VM (sandbox, pod, node): TAGS
	// that fill ARM's limit would pass here and fail every create.
	if len(tags) > maxTags-reservedTags {
		errs = append(errs, fmt.Errorf("%d tags: at most %d, since peerpodd adds %d of its own to every VM", len(tags), maxTags-reservedTags, reservedTags))
	}
	return tags, errs
}

// reservedTags is how many tags the daemon adds to each VM.
const reservedTags = 3

// checkTags applies ARM's tag limits.
func checkTags(tags map[string]string) error {
	var errs []error
	if len(tags) > maxTags {
		errs = append(errs, fmt.Errorf("%d tags, Azure allows %d", len(tags), maxTags))
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(k) > maxTagName || strings.ContainsAny(k, tagNameBad) {
			errs = append(errs, fmt.Errorf("tag name %q is longer than %d or contains one of %s", k, maxTagName, tagNameBad))
		}
		if len(tags[k]) > maxTagValue {
			errs = append(errs, fmt.Errorf("tag %q: value is longer than %d", k, maxTagValue))
		}
	}
	return errors.Join(errs...)
}

// lookupFold finds key in m ignoring case, the way ARM compares tag names.
func lookupFold(m map[string]string, key string) (string, bool) {
	for k := range m {
		if strings.EqualFold(k, key) {
			return k, true
		}
	}
	return "", false
}

// parseTyped parses an ARM resource ID and checks its type, so that a
// vnet ID given as a subnet ID fails at start-up.
func parseTyped(id, typ string) (*arm.ResourceID, error) {
	rid, err := arm.ParseResourceID(id)
	if err != nil {
		return nil, fmt.Errorf("%q is not an Azure resource ID", id)
	}
	if !strings.EqualFold(rid.ResourceType.String(), typ) || rid.SubscriptionID == "" || rid.ResourceGroupName == "" {
		return nil, fmt.Errorf("%q is not a %s resource ID", id, typ)
	}
	return rid, nil
}
