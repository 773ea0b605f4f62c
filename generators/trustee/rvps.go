package trustee

import (
	"io/fs"

	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	appsrepo "github.com/cocogen/cocogen/internal/apps"
	"github.com/cocogen/cocogen/pkg/imagelock"

	"github.com/cocogen/cocogen/internal/profiles"
	"github.com/cocogen/cocogen/pkg/release"
	"github.com/cocogen/cocogen/pkg/spec"
)

// ReferenceValue is one RVPS record as the line's store holds it (trustee
// rvps/src/reference_value.rs: version, name, expiration, value).
type ReferenceValue struct {
	Version    string `json:"version"`
	Name       string `json:"name"`
	Expiration string `json:"expiration"`
	Value      any    `json:"value"`
}

// numericReferenceValues are the reference values whose claims the bare
// metal SNP verifier reports as numbers (trustee deps/verifier/src/snp:
// reported_tcb_*); the attestation policy's `in` needs the same type.
// Every other claim is a string (Azure reports its SNP fields as strings).
var numericReferenceValues = map[string]bool{
	"snp_bootloader": true, "snp_microcode": true, "snp_snp_svn": true, "snp_tee_svn": true,
}

// initDataForms are the forms in which each TEE reports a pod's init-data
// to the attestation policy (input.init_data, lowercase hex), and the
// reference value cocogen lists them under.
var initDataForms = map[string]struct {
	name string
	form func(*profiles.Profile) string
}{
	// az-snp-vtpm and az-tdx-vtpm report PCR8.
	release.TEEAzureVTPM: {"init_data_pcr08", func(r *profiles.Profile) string { return hex.EncodeToString(r.PCR8) }},
	// snp reports HOSTDATA: the digest fitted to 32 bytes.
	release.TEESNP: {"init_data_host_data", func(r *profiles.Profile) string { hd := r.HostData(); return hex.EncodeToString(hd[:]) }},
	// tdx reports MRCONFIGID: the digest fitted to 48 bytes.
	release.TEETDX: {"init_data_mr_config_id", func(r *profiles.Profile) string { mr := r.MRConfigID(); return hex.EncodeToString(mr[:]) }},
}

// trustedProfiles builds every profile whose pods the KBS may affirm: all
// but debug ones, unless the pattern trusts those too. A workload profile
// contributes the document of each of its workloads, read from the
// repository as the init-data generator reads them (which reports any
// problem with them; here a workload that fails is left out).
func trustedProfiles(p *spec.Pattern, repo fs.FS, limit int64) ([]*profiles.Profile, error) {
	var out []*profiles.Profile
	var lock *imagelock.Lock
	apps := appsrepo.NewRepo(repo, limit)
	for _, ref := range p.InitDataProfiles() {
		if ref.Profile.Policy.Profile == spec.PolicyDebug && !p.Spec.Trustee.TrustDebug {
			continue
		}
		if ref.Profile.Policy.Profile == spec.PolicyWorkload {
			if lock == nil {
				l, err := profiles.LoadLock(p, repo, limit)
				if err != nil {
					continue // reported by the init-data generator
				}
				lock = l
			}
			for _, u := range p.InitDataUsers(ref.Profile.Name) {
				objs, err := apps.Load(u.Path()+".source.path", u.App.Source.Path)
				if err != nil {
					continue // reported by the init-data generator
				}
				for _, w := range profiles.Workloads(u.App, objs) {
					if doc, err := profiles.BuildWorkload(p, ref, lock, w); err == nil {
						out = append(out, doc)
					}
				}
			}
			continue
		}
		r, err := profiles.Build(p, ref)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// initDataValues maps each trusted profile's name to the init_data values
// its pods report, in every TEE the pattern runs it in.
func initDataValues(p *spec.Pattern, trusted []*profiles.Profile) map[string][]string {
	out := map[string][]string{}
	for _, r := range trusted {
		for _, tee := range p.ProfileTEEs(r.Name()) {
			out[r.Name()] = append(out[r.Name()], initDataForms[tee].form(r))
		}
	}
	return out
}

// ReferenceValues renders the reference value store in the line's layout:
// a JSON object mapping each name to the base64 of its record, with the
// alphabet the store decodes. Records hold lists, which the attestation
// policy tests membership in:
//
//	init_data_pcr08         Azure vTPM PCR8 of each trusted profile used on Azure
//	init_data_host_data     SNP HOSTDATA of each trusted profile used on SNP
//	init_data_mr_config_id  TDX MRCONFIGID of each trusted profile used on TDX
//	<name>                  spec.trustee.referenceValues (boot measurements, TCB)
func ReferenceValues(p *spec.Pattern, line *release.Line) (string, error) {
	trusted, err := trustedProfiles(p, nil, 0)
	if err != nil {
		return "", err
	}
	return referenceValues(p, line, trusted)
}

func referenceValues(p *spec.Pattern, line *release.Line, trusted []*profiles.Profile) (string, error) {
	values := map[string][]any{}
	for _, r := range trusted {
		for _, tee := range p.ProfileTEEs(r.Name()) {
			f := initDataForms[tee]
			if v := f.form(r); !slices.Contains(values[f.name], any(v)) {
				values[f.name] = append(values[f.name], v)
			}
		}
	}
	for name, vals := range p.Spec.Trustee.ReferenceValues {
		for _, v := range vals {
			values[name] = append(values[name], referenceValue(name, v))
		}
	}
	expiry, err := time.Parse(time.DateOnly, p.Spec.Trustee.ReferenceValueExpiration)
	if err != nil {
		return "", fmt.Errorf("reference value expiration: %w", err) // validated
	}
	rv := line.Trustee.RVPS
	enc := base64.StdEncoding
	if rv.Base64URL {
		enc = base64.URLEncoding
	}
	store := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(values)) {
		record, err := json.Marshal(ReferenceValue{
			Version:    rv.RecordVersion,
			Name:       name,
			Expiration: expiry.UTC().Format(rv.TimeLayout),
			Value:      values[name],
		})
		if err != nil {
			return "", err
		}
		store[name] = enc.EncodeToString(record)
	}
	out, err := json.MarshalIndent(store, "", "  ")
	if err != nil {
		return "", err
	}
	return string(out) + "\n", nil
}

// referenceValue is a pattern reference value as its claim's type.
func referenceValue(name, v string) any {
	if numericReferenceValues[name] {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return v
}

// DecodeReferenceValues reads a store rendered by ReferenceValues back into
// its records, with the line's alphabet: what the RVPS sees.
func DecodeReferenceValues(store string, line *release.Line) (map[string]ReferenceValue, error) {
	var raw map[string]string
	if err := json.Unmarshal([]byte(store), &raw); err != nil {
		return nil, err
	}
	enc := base64.StdEncoding
	if line.Trustee.RVPS.Base64URL {
		enc = base64.URLEncoding
	}
	out := map[string]ReferenceValue{}
	for name, b64 := range raw {
		data, err := enc.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		var rv ReferenceValue
		if err := json.Unmarshal(data, &rv); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if _, err := time.Parse(line.Trustee.RVPS.TimeLayout, rv.Expiration); err != nil {
			return nil, fmt.Errorf("%s: expiration: %w", name, err)
		}
		out[name] = rv
	}
	return out, nil
}
