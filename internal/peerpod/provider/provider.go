// Package provider is the seam between the peer-pod daemon and a cloud: one
// small interface that creates and deletes the confidential VM of a pod
// sandbox. The daemon owns everything around it (state, user data, instance
// type selection, the agent proxy); a provider only talks to its cloud.
package provider

import (
	"context"
	"errors"
	"net/netip"
)

// InstanceType is a VM size the provider offers, with what the daemon needs
// to pick the best fit for a pod's requested resources.
type InstanceType struct {
	Name      string
	VCPUs     int64
	MemoryMiB int64
}

// InstanceSpec is everything a provider needs to create one VM. The daemon
// has already chosen the instance type and rendered the user data.
type InstanceSpec struct {
	// Name is the VM's name, unique per sandbox and valid in every cloud
	// (lowercase letters, digits and dashes, at most 63 characters). It is
	// persisted before CreateInstance is called, so that a daemon that dies
	// mid-create can still find and delete the VM by name.
	Name string
	// InstanceType is one of the provider's allowed types.
	InstanceType string
	// Image overrides the provider's configured image when not empty
	// (the pod's io.katacontainers.config.hypervisor.image annotation).
	Image string
	// UserData is the cloud-config document the VM boots with.
	UserData []byte
	// Tags are added to the VM (sandbox id, pod, node), besides the tags
	// the provider is configured with.
	Tags map[string]string
}

// Instance is a VM a provider created.
type Instance struct {
	// ID is the provider's identifier (Azure: the VM's resource ID).
	ID string
	// Name is InstanceSpec.Name.
	Name string
	// IPs are the VM's private addresses, the first one is where the agent
	// protocol forwarder listens.
	IPs []netip.Addr
}

// Provider creates and deletes confidential VMs in one cloud.
//
// Implementations must be safe for concurrent use: the daemon calls them
// from many RPCs at once, bounded by its own concurrency cap and rate limit.
type Provider interface {
	// Name is the provider's name as CLOUD_PROVIDER spells it ("azure",
	// "local").
	Name() string
	// VerifyConfig checks the configuration against the cloud (credentials
	// work, subnet and image exist) once at start-up.
	VerifyConfig(ctx context.Context) error
	// InstanceTypes describes the named types (all the provider offers
	// when names is empty); an unknown name is an error.
	InstanceTypes(ctx context.Context, names []string) ([]InstanceType, error)
	// UserDataLimit is the largest user data, in bytes, the cloud accepts.
	UserDataLimit() int
	// CreateInstance creates the VM and returns once it has an address.
	// When it fails after the cloud accepted the VM, the returned Instance
	// carries what was created (at least Name) so the caller can delete it.
	CreateInstance(ctx context.Context, spec InstanceSpec) (Instance, error)
	// DeleteInstance deletes the VM and what was created with it (NIC,
	// disks). It is idempotent: a VM that does not exist is not an error.
	// ID may be empty when only the Name is known (a daemon that died
	// between asking for the VM and learning its ID).
	DeleteInstance(ctx context.Context, inst Instance) error
}

// ErrInvalidConfig marks a configuration a provider refuses; the daemon exits
// with status 2 on it rather than retrying.
var ErrInvalidConfig = errors.New("invalid provider configuration")
