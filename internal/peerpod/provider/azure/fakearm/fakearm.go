// Package fakearm is a test aid: an in-memory fake of the part of Azure
// Resource Manager the peerpodd Azure provider uses, served over real TLS on
// loopback by httptest, so that tests exercise the Azure SDK's whole
// pipeline (bearer token, retries, long-running operation polling) rather
// than a mock.
//
// It implements network interfaces (PUT, GET, DELETE), virtual machines
// (PUT and DELETE as long-running operations polled through an
// Azure-AsyncOperation URL, GET), managed disks (GET, DELETE), subnets (GET,
// seeded with AddSubnet) and the per-region VM size list. Request bodies are
// decoded into the SDK's model types and checked the way ARM would refuse
// them, plus the confidential-VM rules peerpodd depends on, so that a wrong
// body fails a test instead of a deployment. Faults (throttling, conflicts,
// server errors, not found, an operation that fails after being accepted)
// are injected with Inject; Count tells how many requests of a kind
// arrived, which is how tests see the SDK's retries.
//
// It is not a general ARM emulator and it is not meant for production.
package fakearm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v6"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v7"
)

// Token is the bearer token the fake accepts; Credential hands it out.
const Token = "fakearm-token"

// audience is ARM's token audience in public Azure; any value works as long
// as the SDK has one.
const audience = "https://management.azure.com"

// Credential is an azcore.TokenCredential that returns Token without any
// identity endpoint.
type Credential struct{}

// GetToken returns Token, valid for an hour.
func (Credential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: Token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// Options configure a Server.
type Options struct {
	// AllowNonConfidential accepts VMs without a ConfidentialVM security
	// profile. Off by default so that a provider that forgot the profile
	// fails; tests of DISABLECVM turn it on.
	AllowNonConfidential bool
	// PollsBeforeDone is how many times an operation answers InProgress
	// before it finishes; 0 means 1, negative means none.
	PollsBeforeDone int
	// Sizes is the VM size list of every region; nil means DefaultSizes.
	Sizes []*armcompute.VirtualMachineSize
}

// DefaultSizes are the sizes a Server offers unless Options.Sizes says
// otherwise: a few confidential sizes and one ordinary one.
func DefaultSizes() []*armcompute.VirtualMachineSize {
	size := func(name string, cores, mem int32) *armcompute.VirtualMachineSize {
		return &armcompute.VirtualMachineSize{
			Name: to.Ptr(name), NumberOfCores: to.Ptr(cores), MemoryInMB: to.Ptr(mem),
			MaxDataDiskCount: to.Ptr(cores * 2), OSDiskSizeInMB: to.Ptr(int32(1047552)), ResourceDiskSizeInMB: to.Ptr(int32(0)),
		}
	}
	return []*armcompute.VirtualMachineSize{
		size("Standard_DC2as_v5", 2, 8192),
		size("Standard_DC4as_v5", 4, 16384),
		size("Standard_DC8as_v5", 8, 32768),
		size("Standard_DC2es_v5", 2, 8192),
		size("Standard_EC4as_v5", 4, 32768),
		size("Standard_D2s_v5", 2, 8192),
	}
}

// Fault makes the server answer matching requests with an error instead
// of serving them.
type Fault struct {
	// Method matches the HTTP method; empty matches any.
	Method string
	// PathContains matches a substring of the URL path, ignoring case
	// ("virtualMachines/", "networkInterfaces/vm1-net"); empty matches any.
	PathContains string
	// Status is the HTTP status to answer: 429, 409, 500, 404...
	Status int
	// Code is the ARM error code in the body; empty picks one from Status.
	Code string
	// RetryAfter, in seconds, is sent as Retry-After when positive.
	RetryAfter int
	// Times is how many matching requests the fault answers; 0 means 1.
	Times int
	// Async serves the request normally, but the long-running operation
	// it starts ends Failed with Code (a VM accepted, then failing to
	// provision). Status is ignored.
	Async bool
}

// Request is one request the server received, as Requests lists them.
type Request struct {
	Method string
	Path   string
	Kind   string
	Status int
}

// Server is the fake ARM. Its methods are safe for concurrent use.
type Server struct {
	srv  *httptest.Server
	opts Options

	mu      sync.Mutex
	subnets map[string]*subnet
	nics    map[string]*armnetwork.Interface
	vms     map[string]*armcompute.VirtualMachine
	disks   map[string]*armcompute.Disk
	ops     map[string]*operation
	faults  []*Fault
	counts  map[string]int
	log     []Request
}

type subnet struct {
	id     string
	prefix netip.Prefix
	used   map[netip.Addr]bool
}

// operation is a long-running operation's state, as the
// Azure-AsyncOperation URL reports it.
type operation struct {
	polls  int
	fail   string // error code when it ends Failed
	finish func(failed bool)
	status string
}

// New starts a Server; Close stops it.
func New(opts Options) *Server {
	if opts.PollsBeforeDone == 0 {
		opts.PollsBeforeDone = 1
	}
	if opts.Sizes == nil {
		opts.Sizes = DefaultSizes()
	}
	s := &Server{
		opts:    opts,
		subnets: map[string]*subnet{},
		nics:    map[string]*armnetwork.Interface{},
		vms:     map[string]*armcompute.VirtualMachine{},
		disks:   map[string]*armcompute.Disk{},
		ops:     map[string]*operation{},
		counts:  map[string]int{},
	}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// URL is the server's base URL, the ARM endpoint.
func (s *Server) URL() string { return s.srv.URL }

// Client is an HTTP client that trusts the server's certificate.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// ClientOptions point the Azure SDK at the server: its URL as the ARM
// endpoint and a transport trusting its certificate. Retry settings are
// left to the caller.
func (s *Server) ClientOptions() arm.ClientOptions {
	return arm.ClientOptions{ClientOptions: policy.ClientOptions{
		Cloud: cloud.Configuration{
			ActiveDirectoryAuthorityHost: s.srv.URL + "/",
			Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Endpoint: s.srv.URL, Audience: audience},
			},
		},
		Transport: s.srv.Client(),
	}}
}

// AddSubnet creates a subnet NICs can join, handing out addresses from
// prefix (a CIDR such as 10.0.0.0/24) the way Azure does: the first four
// and the last are reserved.
func (s *Server) AddSubnet(id, prefix string) error {
	p, err := netip.ParsePrefix(prefix)
	if err != nil {
		return fmt.Errorf("parsing subnet prefix: %w", err)
	}
	if _, err := arm.ParseResourceID(id); err != nil {
		return fmt.Errorf("parsing subnet id: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subnets[key(id)] = &subnet{id: id, prefix: p.Masked(), used: map[netip.Addr]bool{}}
	return nil
}

// Inject adds a fault; faults match in the order they were added.
func (s *Server) Inject(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// Count is how many requests of kind arrived, faulted ones included. A
// kind is the method and the resource type's last segment: "PUT
// virtualMachines", "GET operations", "DELETE networkInterfaces", "GET
// vmSizes", "GET subnets", "DELETE disks".
func (s *Server) Count(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[kind]
}

// Counts returns a copy of all counters.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		m[k] = v
	}
	return m
}

// Total is the number of requests received.
func (s *Server) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.log)
}

// Requests lists the requests received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// VM returns a copy of the stored VM with resource ID id, userData
// included.
func (s *Server) VM(id string) (armcompute.VirtualMachine, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	vm, ok := s.vms[key(id)]
	if !ok {
		return armcompute.VirtualMachine{}, false
	}
	var out armcompute.VirtualMachine
	clone(vm, &out)
	return out, true
}

// NIC returns a copy of the stored NIC with resource ID id.
func (s *Server) NIC(id string) (armnetwork.Interface, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	nic, ok := s.nics[key(id)]
	if !ok {
		return armnetwork.Interface{}, false
	}
	var out armnetwork.Interface
	clone(nic, &out)
	return out, true
}

// Resources lists the IDs of every NIC, VM and disk stored, sorted; a test
// asserts it is empty to prove nothing was left behind.
func (s *Server) Resources() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, n := range s.nics {
		ids = append(ids, *n.ID)
	}
	for _, v := range s.vms {
		ids = append(ids, *v.ID)
	}
	for _, d := range s.disks {
		ids = append(ids, *d.ID)
	}
	sort.Strings(ids)
	return ids
}

// key is how resources are stored: ARM IDs compare without case.
func key(id string) string { return strings.ToLower(id) }

// clone deep-copies an SDK model through its JSON form, which is how the
// SDK itself sees it.
func clone(in, out any) {
	b, err := json.Marshal(in)
	if err != nil {
		panic(fmt.Sprintf("fakearm: marshalling %T: %v", in, err))
	}
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("fakearm: unmarshalling %T: %v", out, err))
	}
}

// newID is a random operation ID.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
