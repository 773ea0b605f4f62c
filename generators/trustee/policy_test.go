package trustee_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/types"

	"github.com/cocogen/cocogen/generators/trustee"
	"github.com/cocogen/cocogen/internal/profiles"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/release"
	"github.com/cocogen/cocogen/pkg/spec"
)

// evalAttestation evaluates data.policy.trust_claims as the attestation
// service does: the claims document as input and the builtin
// query_reference_value reading the rendered reference value store (null
// for a name it lacks).
func evalAttestation(t *testing.T, input map[string]any, rvs map[string]trustee.ReferenceValue) map[string]int {
	t.Helper()
	qrv := rego.Function1(&rego.Function{
		Name: "query_reference_value",
		Decl: types.NewFunction(types.Args(types.S), types.A),
	}, func(_ rego.BuiltinContext, name *ast.Term) (*ast.Term, error) {
		rv, ok := rvs[string(name.Value.(ast.String))]
		if !ok {
			return ast.NullTerm(), nil
		}
		v, err := ast.InterfaceToValue(rv.Value)
		if err != nil {
			return nil, err
		}
		return ast.NewTerm(v), nil
	})
	rs, err := rego.New(rego.Query("data.policy.trust_claims"), rego.Module("default_cpu.rego", trustee.AttestationPolicy()), rego.Input(input), qrv).Eval(context.Background())
	if err != nil {
		t.Fatalf("evaluating the attestation policy: %v", err)
	}
	if len(rs) != 1 {
		t.Fatalf("no trust_claims: %v", rs)
	}
	out := map[string]int{}
	for k, v := range rs[0].Expressions[0].Value.(map[string]any) {
		n, err := v.(json.Number).Int64()
		if err != nil {
			t.Fatalf("%s = %v", k, v)
		}
		out[k] = int(n)
	}
	return out
}

// earStatus is how the attestation service derives ear.status from the
// trust vector: the worst tier of all claims (AR4SI; ear crate
// TrustClaim::tier).
func earStatus(claims map[string]int) string {
	tiers := []string{"none", "affirming", "warning", "contraindicated"}
	worst := 0
	for _, v := range claims {
		tier := 3
		switch {
		case v >= -1 && v <= 1:
			tier = 0
		case (v >= 2 && v <= 31) || (v >= -32 && v <= -2):
			tier = 1
		case (v >= 32 && v <= 95) || (v >= -96 && v <= -33):
			tier = 2
		}
		worst = max(worst, tier)
	}
	return tiers[worst]
}

// Claims as the attestation service's verifiers shape them
// (trustee deps/verifier) after transform_claims moved init_data out.

func snpClaims(initData string) map[string]any {
	return map[string]any{
		"init_data": initData,
		"snp": map[string]any{
			"measurement":             "0b06bca8126298fd9fade4d3aeba7bc9555b11013102138fe1f646a09fcf8aaded2d008066d12f8eb73dfb2a9d08ef8d",
			"policy_debug_allowed":    false,
			"policy_migrate_ma":       false,
			"policy_smt_allowed":      true,
			"reported_tcb_bootloader": 3, "reported_tcb_microcode": 115, "reported_tcb_snp": 8, "reported_tcb_tee": 0,
		},
	}
}

func tdxClaims(initData string) map[string]any {
	return map[string]any{
		"init_data": initData,
		"tdx": map[string]any{
			"quote": map[string]any{
				"header": map[string]any{"tee_type": "81000000", "vendor_id": "939a7233f79c4ca9940a0db3957f0607"},
				"body": map[string]any{
					"mr_td":        "a6c9a329848900230bc81678b81d0d64ae88e20be8f73c848da7e2bd025558ef38b5319096e6d78633a3f2a3a804f729",
					"rtmr_1":       "b1",
					"rtmr_2":       "b2",
					"xfam":         "e718060000000000",
					"mr_config_id": initData,
				},
			},
			"td_attributes":                map[string]any{"debug": false},
			"tcb_status":                   "UpToDate",
			"collateral_expiration_status": "0",
		},
	}
}

func azureClaims(pcr8 string) map[string]any {
	return map[string]any{
		"init_data": pcr8,
		"az-snp-vtpm": map[string]any{
			"measurement":             base64.StdEncoding.EncodeToString(make([]byte, 48)),
			"policy_debug_allowed":    "false",
			"policy_migrate_ma":       "false",
			"reported_tcb_bootloader": "3", "reported_tcb_microcode": "115", "reported_tcb_snp": "8", "reported_tcb_tee": "0",
			"tpm": map[string]any{"pcr08": pcr8, "pcr11": "25f988b8b92a8394ee6c2413fe7bde77929ec143151df0a582f52d6c7ccba94c"},
		},
	}
}

// forms are a profile's init-data as each TEE reports it.
type forms struct{ pcr8, hostData, mrConfigID string }

func formsOf(t *testing.T, p *spec.Pattern, name string) forms {
	t.Helper()
	ref, _ := p.ProfileRef(name)
	r, err := profiles.Build(p, ref)
	if err != nil {
		t.Fatal(err)
	}
	hd, mr := r.HostData(), r.MRConfigID()
	return forms{hexOf(r.PCR8), hexOf(hd[:]), hexOf(mr[:])}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// flip changes one hex digit.
func flip(s string) string {
	if s[0] == '0' {
		return "1" + s[1:]
	}
	return "0" + s[1:]
}

// TestAttestationPolicy evaluates the rendered attestation policy with OPA
// on claims shaped as the pinned attestation service shapes them: a pod's
// own init-data affirms; one changed byte, the init-data of a profile the
// pattern does not run in that TEE, and a debug profile's do not.
func TestAttestationPolicy(t *testing.T) {
	for line, p := range onLines(t, pattern) {
		rv, err := trustee.ReferenceValues(p, line)
		if err != nil {
			t.Fatal(err)
		}
		rvs, err := trustee.DecodeReferenceValues(rv, line)
		if err != nil {
			t.Fatal(err)
		}
		def, debug, s256, wide := formsOf(t, p, "default"), formsOf(t, p, "debugging"), formsOf(t, p, "strict256"), formsOf(t, p, "wide")
		for _, tc := range []struct {
			name   string
			input  map[string]any
			status string
		}{
			{"azure own", azureClaims(def.pcr8), "affirming"},
			{"azure changed byte", azureClaims(flip(def.pcr8)), "contraindicated"},
			{"azure debug profile", azureClaims(debug.pcr8), "contraindicated"},
			{"azure profile of another TEE", azureClaims(s256.pcr8), "contraindicated"},
			{"snp own", snpClaims(s256.hostData), "affirming"},
			{"snp changed byte", snpClaims(flip(s256.hostData)), "contraindicated"},
			{"snp profile of another TEE", snpClaims(def.hostData), "contraindicated"},
			{"tdx own", tdxClaims(wide.mrConfigID), "affirming"},
			{"tdx changed byte", tdxClaims(flip(wide.mrConfigID)), "contraindicated"},
			{"tdx profile of another TEE", tdxClaims(s256.mrConfigID), "contraindicated"},
			{"unknown TEE", map[string]any{"init_data": def.pcr8, "sample": map[string]any{}}, "contraindicated"},
		} {
			t.Run(line.Name+"/"+tc.name, func(t *testing.T) {
				claims := evalAttestation(t, tc.input, rvs)
				if got := earStatus(claims); got != tc.status {
					t.Errorf("ear.status %s, want %s (trust vector %v)", got, tc.status, claims)
				}
			})
		}
		t.Run(line.Name+"/claims are honest", func(t *testing.T) {
			// A debuggable guest with the right init-data is not a known
			// configuration; an unknown TCB is not recognised hardware.
			in := snpClaims(s256.hostData)
			in["snp"].(map[string]any)["policy_debug_allowed"] = true
			in["snp"].(map[string]any)["reported_tcb_microcode"] = 114
			claims := evalAttestation(t, in, rvs)
			if claims["configuration"] != 36 || claims["hardware"] != 97 || claims["executables"] != 3 {
				t.Errorf("trust vector %v", claims)
			}
		})
	}
}

// evalResource evaluates the KBS resource policy as the KBS does: the EAR
// token's claims as input, the request in data.
func evalResource(t *testing.T, module string, token map[string]any, path ...string) bool {
	t.Helper()
	segments := make([]any, len(path))
	for i, s := range path {
		segments[i] = s
	}
	rs, err := rego.New(rego.Query("data.policy.allow"), rego.Module("resource-policy.rego", module), rego.Input(token),
		rego.Data(map[string]any{"plugin": "resource", "resource-path": segments, "query": map[string]any{}})).Eval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(rs) == 1 && rs[0].Expressions[0].Value == true
}

// token is an EAR token's claims for one CPU with the given init_data.
func token(status, initData string) map[string]any {
	return map[string]any{"submods": map[string]any{"cpu0": map[string]any{
		"ear.status":                      status,
		"ear.veraison.annotated-evidence": map[string]any{"init_data": initData},
	}}}
}

// TestResourcePolicy: a resource goes only to affirming pods with the
// init-data of a profile it lists.
func TestResourcePolicy(t *testing.T) {
	p := testkit.Load(t, pattern)
	line := release.MustGet(p.Spec.Release)
	set, _ := generate(t, p)
	module := data(t, testkit.Find(t, set, "ConfigMap", "trustee-operator-system", trustee.ResourcePolicyMap), line.Trustee.ResourcePolicyKey)
	if !strings.Contains(module, "What this policy does NOT check") {
		t.Error("the resource policy does not say what it does not check")
	}
	def, s256, wide, debug := formsOf(t, p, "default"), formsOf(t, p, "strict256"), formsOf(t, p, "wide"), formsOf(t, p, "debugging")
	for _, tc := range []struct {
		name  string
		token map[string]any
		path  []string
		allow bool
	}{
		{"default gets its resource", token("affirming", def.pcr8), []string{"default", "kbsres1", "key1"}, true},
		{"default does not get another's", token("affirming", def.pcr8), []string{"default", "bare-metal-key", "k"}, false},
		{"snp profile gets its resource", token("affirming", s256.hostData), []string{"default", "bare-metal-key", "k"}, true},
		{"tdx profile gets the same resource", token("affirming", wide.mrConfigID), []string{"default", "bare-metal-key", "k"}, true},
		{"snp profile does not get default's", token("affirming", s256.hostData), []string{"default", "kbsres1", "key1"}, false},
		{"debug profile gets nothing", token("affirming", debug.pcr8), []string{"default", "kbsres1", "key1"}, false},
		{"contraindicated gets nothing", token("contraindicated", def.pcr8), []string{"default", "kbsres1", "key1"}, false},
		{"warning gets nothing", token("warning", def.pcr8), []string{"default", "kbsres1", "key1"}, false},
		{"other repository", token("affirming", def.pcr8), []string{"other", "kbsres1", "key1"}, false},
		{"unlisted resource", token("affirming", def.pcr8), []string{"default", "nosuch", "key1"}, false},
		{"no appraisal", map[string]any{"submods": map[string]any{}}, []string{"default", "kbsres1", "key1"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := evalResource(t, module, tc.token, tc.path...); got != tc.allow {
				t.Errorf("allow = %v, want %v", got, tc.allow)
			}
		})
	}
	// Another plugin is denied.
	rs, err := rego.New(rego.Query("data.policy.allow"), rego.Module("p.rego", module), rego.Input(token("affirming", def.pcr8)),
		rego.Data(map[string]any{"plugin": "sample", "resource-path": []any{"default", "kbsres1", "key1"}})).Eval(context.Background())
	if err != nil || len(rs) != 1 || rs[0].Expressions[0].Value != false {
		t.Errorf("sample plugin: %v %v", rs, err)
	}
}
