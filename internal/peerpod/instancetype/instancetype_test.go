package instancetype

import (
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/peerpod/provider"
)

var sizes = []provider.InstanceType{
	{Name: "Standard_DC8as_v5", VCPUs: 8, MemoryMiB: 32768},
	{Name: "Standard_DC2as_v5", VCPUs: 2, MemoryMiB: 8192},
	{Name: "Standard_DC4as_v5", VCPUs: 4, MemoryMiB: 16384},
	{Name: "Standard_EC4as_v5", VCPUs: 4, MemoryMiB: 32768},
}

func TestSelect(t *testing.T) {
	s, err := NewSelector(sizes, "Standard_DC2as_v5")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		req  Request
		want string
		err  string
	}{
		{req: Request{}, want: "Standard_DC2as_v5"},
		{req: Request{MachineType: "Standard_DC8as_v5", VCPUs: 1}, want: "Standard_DC8as_v5"},
		{req: Request{VCPUs: 3}, want: "Standard_DC4as_v5"},
		{req: Request{VCPUs: 3, MemoryMiB: 20000}, want: "Standard_EC4as_v5"},
		{req: Request{MemoryMiB: 8192}, want: "Standard_DC2as_v5"},
		{req: Request{VCPUs: 16}, err: "no allowed instance type has 16 vCPUs and 0 MiB (largest: Standard_DC8as_v5"},
		{req: Request{MachineType: "Standard_D96as_v5"}, err: `instance type "Standard_D96as_v5" (annotation io.katacontainers.config.hypervisor.machine_type) is not allowed; allowed: Standard_DC2as_v5, Standard_DC4as_v5, Standard_EC4as_v5, Standard_DC8as_v5`},
	} {
		got, err := s.Select(tc.req)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: error %v, want %q", tc.req, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%+v: %q, %v; want %q", tc.req, got, err, tc.want)
		}
	}
}

func TestDefaultOnly(t *testing.T) {
	s, err := NewSelector(nil, "m")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Select(Request{VCPUs: 64}); got != "m" || err != nil {
		t.Errorf("%q %v", got, err)
	}
	if _, err := s.Select(Request{MachineType: "n"}); err == nil {
		t.Error("a type other than the only allowed default was accepted")
	}
}

func TestDefaultMustBeAllowed(t *testing.T) {
	if _, err := NewSelector(sizes, "Standard_B1s"); err == nil || !strings.Contains(err.Error(), `default instance type "Standard_B1s" is not among the allowed ones`) {
		t.Errorf("%v", err)
	}
	if _, err := NewSelector(sizes, ""); err == nil {
		t.Error("empty default accepted")
	}
}
