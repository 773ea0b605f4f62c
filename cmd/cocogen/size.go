package main

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/cocogen/cocogen/pkg/spec"
)

// sizeValue is a byte count flag written as a Kubernetes quantity (8Mi,
// 64Mi, 1Gi, or plain bytes).
type sizeValue struct{ p *int64 }

func newSizeValue(p *int64, def int64) *sizeValue {
	*p = def
	return &sizeValue{p}
}

func (v *sizeValue) String() string {
	if v.p == nil {
		return ""
	}
	return spec.ByteSize(*v.p)
}

func (v *sizeValue) Set(s string) error {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return fmt.Errorf("want a size such as 8Mi or 1Gi: %v", err)
	}
	if q.Sign() <= 0 {
		return fmt.Errorf("want a positive size, got %s", s)
	}
	*v.p = q.Value()
	return nil
}

func (*sizeValue) Type() string { return "size" }
