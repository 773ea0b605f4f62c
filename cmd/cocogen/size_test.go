package main

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
)

// TestParseSizeIsQuantity holds parseSize to apimachinery's
// resource.Quantity, which the size flags used to parse with.
func TestParseSizeIsQuantity(t *testing.T) {
	for _, s := range []string{"0", "1", "512", "8Mi", "64Mi", "1Gi", "1.5Gi", "1k", "1K", "2M", "0.5Ki", "1.0001Ki", "3Ti", "7Ei", "9E", "+4Mi", "-1", "-2Mi", "", "Mi", "1.2.3", "abc", "1x", "1e3", "1m", "1/2", " 1"} {
		got, err := parseSize(s)
		q, qerr := resource.ParseQuantity(s)
		if qerr != nil || err != nil {
			// Where Quantity refuses, so does parseSize; parseSize may
			// also refuse forms no one writes for bytes (exponents,
			// milli-units).
			if qerr != nil && err == nil {
				t.Errorf("parseSize(%q) = %d, Quantity refuses it: %v", s, got, qerr)
			}
			continue
		}
		if want := q.Value(); got != want {
			t.Errorf("parseSize(%q) = %d, Quantity says %d", s, got, want)
		}
	}
}
