package azure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v6"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v7"

	"github.com/cocogen/cocogen/internal/peerpod/provider"
)

// Name is the provider's name as CLOUD_PROVIDER spells it.
const Name = "azure"

// DefaultPollFrequency is how often a long-running ARM operation is polled
// when ARM sends no Retry-After. The SDK's own default, 30 s, adds up to
// half a minute to every pod start (a confidential VM takes about a
// minute); 5 s costs about a dozen reads per VM, far inside ARM's
// subscription read budget even with many pods starting at once.
const DefaultPollFrequency = 5 * time.Second

// cleanupTimeout bounds the NIC clean-up after a failed create, which runs
// even when the caller's context is already cancelled.
const cleanupTimeout = 2 * time.Minute

// Options are what New takes besides the configuration; the zero value
// talks to public Azure with the credential the configuration selects.
type Options struct {
	// Credential replaces the credential the configuration selects (tests
	// pass a static token; a daemon embedding its own identity logic may
	// pass another).
	Credential azcore.TokenCredential
	// ClientOptions configure every ARM client and the credential: cloud
	// endpoints (sovereign clouds, a fake), Transport (to trust a test
	// server's certificate), retries and logging.
	ClientOptions arm.ClientOptions
	// PollFrequency overrides DefaultPollFrequency. The SDK refuses less
	// than one second outside tests.
	PollFrequency time.Duration
	// Logger receives one line per VM created or deleted; nil discards.
	Logger *slog.Logger
	// SSHPublicKey is the authorized_keys line for the admin user. When
	// empty a throwaway RSA key is made whose private half is never kept.
	SSHPublicKey string
}

// Provider creates confidential VMs in Azure. It is safe for concurrent
// use.
type Provider struct {
	cfg     Config
	log     *slog.Logger
	poll    time.Duration
	sshKey  string
	vms     *armcompute.VirtualMachinesClient
	sizes   *armcompute.VirtualMachineSizesClient
	disks   *armcompute.DisksClient
	nics    *armnetwork.InterfacesClient
	subnets *armnetwork.SubnetsClient
	subnet  *arm.ResourceID
}

var _ provider.Provider = (*Provider)(nil)

// New returns a provider for cfg, which should come from ConfigFromEnv. It
// makes no request; VerifyConfig does.
func New(cfg Config, opts Options) (*Provider, error) {
	subnet, err := parseTyped(cfg.SubnetID, "Microsoft.Network/virtualNetworks/subnets")
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", provider.ErrInvalidConfig, KeySubnetID, err)
	}
	co := opts.ClientOptions
	if co.Telemetry.ApplicationID == "" {
		// Shows up in ARM's activity log, so an operator can tell
		// peerpodd's calls from others.
		co.Telemetry.ApplicationID = "peerpodd"
	}
	cred := opts.Credential
	if cred == nil {
		if cred, err = newCredential(cfg, co); err != nil {
			return nil, err
		}
	}
	p := &Provider{
		cfg:    cfg,
		log:    opts.Logger,
		poll:   opts.PollFrequency,
		sshKey: opts.SSHPublicKey,
		subnet: subnet,
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.poll <= 0 {
		p.poll = DefaultPollFrequency
	}
	if p.vms, err = armcompute.NewVirtualMachinesClient(cfg.SubscriptionID, cred, &co); err != nil {
		return nil, fmt.Errorf("creating virtual machines client: %w", err)
	}
	if p.sizes, err = armcompute.NewVirtualMachineSizesClient(cfg.SubscriptionID, cred, &co); err != nil {
		return nil, fmt.Errorf("creating virtual machine sizes client: %w", err)
	}
	if p.disks, err = armcompute.NewDisksClient(cfg.SubscriptionID, cred, &co); err != nil {
		return nil, fmt.Errorf("creating disks client: %w", err)
	}
	if p.nics, err = armnetwork.NewInterfacesClient(cfg.SubscriptionID, cred, &co); err != nil {
		return nil, fmt.Errorf("creating network interfaces client: %w", err)
	}
	// The subnet may live in another subscription (a shared hub vnet).
	if p.subnets, err = armnetwork.NewSubnetsClient(subnet.SubscriptionID, cred, &co); err != nil {
		return nil, fmt.Errorf("creating subnets client: %w", err)
	}
	return p, nil
}

// newCredential picks the credential as CAA v0.22.0 does
// (src/cloud-providers/azure/client.go): a client secret when one is set,
// workload identity otherwise. Both share the ARM client options, so a
// sovereign cloud's authority host and a custom transport apply to token
// requests too. azidentity's errors never include the secret.
func newCredential(cfg Config, co arm.ClientOptions) (azcore.TokenCredential, error) {
	if cfg.ClientSecret != "" {
		cred, err := azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret.Reveal(),
			&azidentity.ClientSecretCredentialOptions{ClientOptions: co.ClientOptions})
		if err != nil {
			return nil, fmt.Errorf("%w: creating client secret credential: %w", provider.ErrInvalidConfig, err)
		}
		return cred, nil
	}
	cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: co.ClientOptions,
		ClientID:      cfg.ClientID,
		TenantID:      cfg.TenantID,
		TokenFilePath: cfg.FederatedTokenFile,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: creating workload identity credential: %w", provider.ErrInvalidConfig, err)
	}
	return cred, nil
}

// Name returns "azure".
func (p *Provider) Name() string { return Name }

// Config returns the provider's configuration.
func (p *Provider) Config() Config { return p.cfg }

// UserDataLimit is the largest user data, before base64, Azure takes. Azure
// documents that userData "can't exceed 64 KB" and must be sent base64
// encoded (https://learn.microsoft.com/azure/virtual-machines/user-data);
// CAA v0.22.0 (src/cloud-providers/azure/provider.go, getVMParameters)
// applies the 64 KiB to the base64 text, the stricter reading, and so does
// peerpodd: 64 KiB of base64 carries 48 KiB of data.
func (p *Provider) UserDataLimit() int { return maxUserDataBase64 / 4 * 3 }

// maxUserDataBase64 is Azure's limit on the base64 userData property.
const maxUserDataBase64 = 64 * 1024

// VerifyConfig checks that the credential works and the subnet exists with
// one cheap read of the subnet. A refusal (bad credential, no access, no
// such subnet) wraps provider.ErrInvalidConfig; a network failure or an
// ARM outage does not, so the daemon may retry.
func (p *Provider) VerifyConfig(ctx context.Context) error {
	_, err := p.subnets.Get(ctx, p.subnet.ResourceGroupName, p.subnet.Parent.Name, p.subnet.Name, nil)
	if err == nil {
		return nil
	}
	if configRefused(err) {
		return fmt.Errorf("%w: reading subnet %s: %w", provider.ErrInvalidConfig, p.cfg.SubnetID, err)
	}
	return fmt.Errorf("reading subnet %s: %w", p.cfg.SubnetID, err)
}

// configRefused tells a configuration Azure refuses (worth exit 2: retrying
// will not help) from an outage: ARM's 400/401/403/404; Entra ID refusing
// the credential with a 4xx; a credential that cannot work at all (no
// token file: azidentity's credentialUnavailable, marked NonRetriable).
// Entra ID answering 5xx, or no answer, is an outage.
func configRefused(err error) bool {
	var respErr *azcore.ResponseError
	if errors.As(err, &respErr) {
		return slices.Contains([]int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound}, respErr.StatusCode)
	}
	var authErr *azidentity.AuthenticationFailedError
	if errors.As(err, &authErr) {
		return authErr.RawResponse == nil || authErr.RawResponse.StatusCode < http.StatusInternalServerError
	}
	var unavailable interface{ NonRetriable() }
	return errors.As(err, &unavailable)
}

// InstanceTypes describes the named VM sizes, or all allowed sizes when
// names is empty, from the region's size list (the list CAA v0.22.0 reads,
// provider.go updateInstanceSizeSpecList). A name that is not allowed by
// AZURE_INSTANCE_SIZES (or AZURE_INSTANCE_SIZE) or not offered in the region
// is an error, all such names in one.
func (p *Provider) InstanceTypes(ctx context.Context, names []string) ([]provider.InstanceType, error) {
	allowed := p.cfg.AllowedSizes()
	if len(names) == 0 {
		names = allowed
	}
	var errs []error
	for _, n := range names {
		if !slices.Contains(allowed, n) {
			errs = append(errs, fmt.Errorf("instance type %q is not among the allowed sizes %v", n, allowed))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	found := map[string]provider.InstanceType{}
	pager := p.sizes.NewListPager(p.cfg.Region, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing VM sizes in %s: %w", p.cfg.Region, err)
		}
		for _, s := range page.Value {
			if s == nil || s.Name == nil || !slices.Contains(names, *s.Name) {
				continue
			}
			it := provider.InstanceType{Name: *s.Name}
			if s.NumberOfCores != nil {
				it.VCPUs = int64(*s.NumberOfCores)
			}
			if s.MemoryInMB != nil {
				// ARM's "MB" here are MiB (Standard_DC2as_v5 reports 8192).
				it.MemoryMiB = int64(*s.MemoryInMB)
			}
			found[it.Name] = it
		}
	}
	out := make([]provider.InstanceType, 0, len(names))
	for _, n := range names {
		it, ok := found[n]
		if !ok {
			errs = append(errs, fmt.Errorf("instance type %q is not offered in %s", n, p.cfg.Region))
			continue
		}
		out = append(out, it)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
