// Package instancetype picks the VM size of a peer pod: the pod's
// machine_type annotation wins, else the smallest allowed size that fits
// the vCPUs and memory the shim asks for, else the default. A size outside
// the allowed list is refused, whoever asks for it: the list is the
// cluster admin's cost and quota boundary.
package instancetype

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/peerpod/provider"
)

// Request is what a pod asks for (from its CreateVM annotations).
type Request struct {
	// MachineType is io.katacontainers.config.hypervisor.machine_type.
	MachineType string
	// VCPUs and MemoryMiB are default_vcpus and default_memory; zero means
	// not asked.
	VCPUs     int64
	MemoryMiB int64
}

// Selector chooses among the allowed types.
type Selector struct {
	allowed []provider.InstanceType
	def     string
}

// NewSelector checks that the default is allowed. allowed holds the
// described sizes (provider.InstanceTypes of AZURE_INSTANCE_SIZES & co.);
// when it is empty, only the default may be used.
func NewSelector(allowed []provider.InstanceType, def string) (*Selector, error) {
	if def == "" {
		return nil, fmt.Errorf("no default instance type")
	}
	s := &Selector{allowed: slices.Clone(allowed), def: def}
	if len(s.allowed) > 0 && !s.isAllowed(def) {
		return nil, fmt.Errorf("default instance type %q is not among the allowed ones (%s)", def, s.names())
	}
	// Smallest first: fewest vCPUs, then least memory, then name, so the
	// best fit is the first that fits and ties are decided the same way
	// on every node.
	slices.SortFunc(s.allowed, func(a, b provider.InstanceType) int {
		return cmp.Or(cmp.Compare(a.VCPUs, b.VCPUs), cmp.Compare(a.MemoryMiB, b.MemoryMiB), cmp.Compare(a.Name, b.Name))
	})
	return s, nil
}

func (s *Selector) isAllowed(name string) bool {
	if len(s.allowed) == 0 {
		return name == s.def
	}
	return slices.ContainsFunc(s.allowed, func(t provider.InstanceType) bool { return t.Name == name })
}

func (s *Selector) names() string {
	if len(s.allowed) == 0 {
		return s.def
	}
	var names []string
	for _, t := range s.allowed {
		names = append(names, t.Name)
	}
	return strings.Join(names, ", ")
}

// Select returns the type for a request.
func (s *Selector) Select(r Request) (string, error) {
	if r.MachineType != "" {
		if !s.isAllowed(r.MachineType) {
			return "", fmt.Errorf("instance type %q (annotation io.katacontainers.config.hypervisor.machine_type) is not allowed; allowed: %s", r.MachineType, s.names())
		}
		return r.MachineType, nil
	}
	if (r.VCPUs > 0 || r.MemoryMiB > 0) && len(s.allowed) > 0 {
		for _, t := range s.allowed {
			if t.VCPUs >= r.VCPUs && t.MemoryMiB >= r.MemoryMiB {
				return t.Name, nil
			}
		}
		largest := s.allowed[len(s.allowed)-1]
		return "", fmt.Errorf("no allowed instance type has %d vCPUs and %d MiB (largest: %s with %d vCPUs and %d MiB)", r.VCPUs, r.MemoryMiB, largest.Name, largest.VCPUs, largest.MemoryMiB)
	}
	return s.def, nil
}
