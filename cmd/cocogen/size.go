package main

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"

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
	n, err := parseSize(s)
	if err != nil {
		return fmt.Errorf("want a size such as 8Mi or 1Gi: %v", err)
	}
	if n <= 0 {
		return fmt.Errorf("want a positive size, got %s", s)
	}
	*v.p = n
	return nil
}

// sizeSuffixes are the quantity suffixes a byte count takes: binary
// (Ki..Ei) and decimal (k..E), as in apimachinery's resource.Quantity.
var sizeSuffixes = []struct {
	suffix string
	factor int64
}{
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"Pi", 1 << 50}, {"Ei", 1 << 60},
	{"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}, {"E", 1e18},
}

// parseSize reads a byte count written as a Kubernetes quantity without
// linking apimachinery: a decimal number with an optional suffix,
// fractions rounded up to a whole byte as Quantity.Value does (the tests
// hold the two to the same answers).
func parseSize(s string) (int64, error) {
	num, factor := s, int64(1)
	for _, sf := range sizeSuffixes {
		if n, ok := strings.CutSuffix(s, sf.suffix); ok {
			num, factor = n, sf.factor
			break
		}
	}
	if num == "" || strings.ContainsAny(num, "eE/") || strings.Count(num, ".") > 1 {
		return 0, errors.New("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, errors.New("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
	}
	r.Mul(r, new(big.Rat).SetInt64(factor))
	q, rem := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if rem.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() {
		return math.MaxInt64, nil
	}
	return q.Int64(), nil
}

func (*sizeValue) Type() string { return "size" }
