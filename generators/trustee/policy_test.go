package trustee_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/cocogen/cocogen/generators/trustee"
	"github.com/cocogen/cocogen/internal/profiles"
)

// evalPolicy evaluates data.policy of a module, as the attestation service
// and the KBS do, and returns its document.
func evalPolicy(t *testing.T, module string, input any, data map[string]any) map[string]any {
	t.Helper()
	opts := []func(*rego.Rego){
		rego.Query("data.policy"),
		rego.Module("policy.rego", module),
		rego.Input(input),
	}
	if data != nil {
		opts = append(opts, rego.Data(data))
	}
	rs, err := rego.New(opts...).Eval(context.Background())
	if err != nil {
		t.Fatalf("evaluating policy: %v", err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		t.Fatalf("no result: %v", rs)
	}
	return rs[0].Expressions[0].Value.(map[string]any)
}

func TestResourcePolicy(t *testing.T) {
	for _, c := range []struct {
		name  string
		input map[string]any
		allow bool
	}{
		{"affirming", map[string]any{"submods": map[string]any{"cpu0": map[string]any{"ear.status": "affirming"}}}, true},
		{"all affirming", map[string]any{"submods": map[string]any{
			"cpu0": map[string]any{"ear.status": "affirming"}, "gpu0": map[string]any{"ear.status": "affirming"}}}, true},
		{"one warning", map[string]any{"submods": map[string]any{
			"cpu0": map[string]any{"ear.status": "affirming"}, "gpu0": map[string]any{"ear.status": "warning"}}}, false},
		{"contraindicated", map[string]any{"submods": map[string]any{"cpu": map[string]any{"ear.status": "contraindicated"}}}, false},
		{"no appraisal", map[string]any{"submods": map[string]any{}}, false},
		{"not an EAR token", map[string]any{"tee": "sample"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := evalPolicy(t, trustee.ResourcePolicy(), c.input, nil)["allow"]; got != c.allow {
				t.Errorf("allow = %v, want %v", got, c.allow)
			}
		})
	}
}

// referenceData is data.reference as the attestation service builds it
// from reference-values.json: name -> accepted values.
func referenceData(t *testing.T, rvJSON string) map[string]any {
	t.Helper()
	var rvs []trustee.ReferenceValue
	if err := json.Unmarshal([]byte(rvJSON), &rvs); err != nil {
		t.Fatal(err)
	}
	ref := map[string]any{}
	for _, rv := range rvs {
		var vals []any
		for _, hv := range rv.HashValue {
			vals = append(vals, hv.Value)
		}
		ref[rv.Name] = vals
	}
	return map[string]any{"reference": ref}
}

func TestAttestationPolicy(t *testing.T) {
	p := load(t, pattern)
	rv, err := trustee.ReferenceValues(p)
	if err != nil {
		t.Fatal(err)
	}
	ref := referenceData(t, rv)
	builds := map[string]*profiles.Profile{}
	for _, ref := range p.InitDataProfiles() {
		r, err := profiles.Build(p, ref)
		if err != nil {
			t.Fatal(err)
		}
		builds[r.Name()] = r
	}
	pcr11 := p.Spec.Trustee.ReferenceValues["azure_pcr11"][0]
	hexOf := func(b []byte) string { return encodeHex(b) }
	pcr8 := hexOf(builds["default"].PCR8)
	hd := builds["strict256"].HostData()
	mr := builds["wide"].MRConfigID()

	type claims struct{ hardware, configuration, executables int }
	affirmed := claims{2, 2, 3}
	for _, c := range []struct {
		name  string
		input map[string]any
		want  claims
	}{
		{"azure snp", map[string]any{"az-snp-vtpm": map[string]any{
			"policy_debug_allowed": "false",
			"tpm":                  map[string]any{"pcr08": pcr8, "pcr11": pcr11},
		}}, affirmed},
		{"azure snp, older claim name and boolean claims", map[string]any{"azsnpvtpm": map[string]any{
			"policy_debug_allowed": false,
			"tpm":                  map[string]any{"pcr08": pcr8, "pcr11": pcr11},
		}}, affirmed},
		{"azure tdx", map[string]any{"az-tdx-vtpm": map[string]any{
			"tpm": map[string]any{"pcr08": pcr8, "pcr11": pcr11},
		}}, affirmed},
		{"azure, init-data the pattern does not ship", map[string]any{"az-snp-vtpm": map[string]any{
			"policy_debug_allowed": "false",
			"tpm":                  map[string]any{"pcr08": hexOf(make([]byte, 32)), "pcr11": pcr11},
		}}, claims{2, 36, 3}},
		{"azure, debug allowed", map[string]any{"az-snp-vtpm": map[string]any{
			"policy_debug_allowed": "true",
			"tpm":                  map[string]any{"pcr08": pcr8, "pcr11": pcr11},
		}}, claims{2, 36, 3}},
		{"azure, unknown image", map[string]any{"az-snp-vtpm": map[string]any{
			"policy_debug_allowed": "false",
			"tpm":                  map[string]any{"pcr08": pcr8, "pcr11": hexOf(make([]byte, 32))},
		}}, claims{2, 2, 33}},
		{"snp, host data base64", map[string]any{"snp": map[string]any{
			"policy_debug_allowed": "false",
			"init_data":            base64Of(hd[:]),
			"measurement":          p.Spec.Trustee.ReferenceValues["snp_launch_measurement"][0],
		}}, affirmed},
		{"snp, host data hex", map[string]any{"snp": map[string]any{
			"policy_debug_allowed": false,
			"host_data":            hexOf(hd[:]),
			"measurement":          p.Spec.Trustee.ReferenceValues["snp_launch_measurement"][0],
		}}, affirmed},
		{"tdx", map[string]any{"tdx": map[string]any{
			"td_attributes": map[string]any{"debug": false},
			"quote": map[string]any{"body": map[string]any{
				"mr_config_id": hexOf(mr[:]),
				"mr_td":        p.Spec.Trustee.ReferenceValues["tdx_mr_td"][0],
			}},
		}}, affirmed},
		{"tdx, debug", map[string]any{"tdx": map[string]any{
			"td_attributes": map[string]any{"debug": true},
			"quote": map[string]any{"body": map[string]any{
				"mr_config_id": hexOf(mr[:]),
				"mr_td":        p.Spec.Trustee.ReferenceValues["tdx_mr_td"][0],
			}},
		}}, claims{2, 36, 3}},
		{"tdx with another profile's digest", map[string]any{"tdx": map[string]any{
			"quote": map[string]any{"body": map[string]any{
				"mr_config_id": hexOf(builds["default"].Digest),
				"mr_td":        p.Spec.Trustee.ReferenceValues["tdx_mr_td"][0],
			}},
		}}, claims{2, 36, 3}},
		{"sample attester", map[string]any{"sample": map[string]any{"svn": "1"}}, claims{97, 36, 33}},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := evalPolicy(t, trustee.AttestationPolicy(), c.input, ref)
			got := claims{toInt(t, doc["hardware"]), toInt(t, doc["configuration"]), toInt(t, doc["executables"])}
			if got != c.want {
				t.Errorf("trust claims %+v, want %+v", got, c.want)
			}
		})
	}
	t.Run("no reference values", func(t *testing.T) {
		doc := evalPolicy(t, trustee.AttestationPolicy(), map[string]any{"az-snp-vtpm": map[string]any{
			"tpm": map[string]any{"pcr08": pcr8, "pcr11": pcr11}}}, map[string]any{})
		if got := (claims{toInt(t, doc["hardware"]), toInt(t, doc["configuration"]), toInt(t, doc["executables"])}); got != (claims{2, 36, 33}) {
			t.Errorf("trust claims %+v", got)
		}
	})
}

func toInt(t *testing.T, v any) int {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("want a number, got %T %v", v, v)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatal(err)
	}
	return int(i)
}

func encodeHex(b []byte) string { return hex.EncodeToString(b) }

func base64Of(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
