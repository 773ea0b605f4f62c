package trustee

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/profiles"
	"github.com/cocogen/cocogen/pkg/release"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
)

var (
	//go:embed rego/resource.rego
	resourceRules string
	//go:embed rego/attestation.rego
	attestationPolicy string
)

// AttestationPolicy is the attestation policy (default_cpu) cocogen emits:
// rego/attestation.rego, whose header says what it checks and what not.
func AttestationPolicy() string { return attestationPolicy }

// resourceAccessPrefix starts the last statement of the resource policy;
// the rest is the JSON object it binds.
const resourceAccessPrefix = "resource_access := "

// ResourcePolicy is the KBS resource policy: rego/resource.rego followed
// by resource_access, which maps each resource Secret to the init_data
// values (in every TEE form) of the profiles that may fetch it.
func ResourcePolicy(p *spec.Pattern, trusted []*profiles.Profile) (string, error) {
	values := initDataValues(p, trusted)
	access := map[string][]string{}
	for _, r := range p.Spec.Trustee.Resources {
		list := []string{}
		for _, prof := range r.Profiles {
			list = append(list, values[prof]...)
		}
		slices.Sort(list)
		access[r.Name] = slices.Compact(list)
	}
	data, err := json.MarshalIndent(access, "", "  ")
	if err != nil {
		return "", err
	}
	return strings.TrimRight(resourceRules, "\n") + "\n\n" + resourceAccessPrefix + string(data) + "\n", nil
}

// workloadTEEs maps each TEE form the pattern's workloads run in to the
// names of the groups running in it.
func workloadTEEs(p *spec.Pattern) map[string][]string {
	tees := map[string][]string{}
	for i := range p.Spec.ClusterGroups {
		g := &p.Spec.ClusterGroups[i]
		if g.HasRole(spec.RoleWorkloads) && g.TEE() != "" {
			tees[g.TEE()] = append(tees[g.TEE()], g.Name)
		}
	}
	return tees
}

// requiredReferenceValues are the reference values the attestation policy
// needs to affirm the hardware and boot chain of each TEE
// (rego/attestation.rego; names as in Trustee's default policy).
var requiredReferenceValues = map[string][]string{
	release.TEESNP:       {"snp_launch_measurement", "snp_bootloader", "snp_microcode", "snp_snp_svn", "snp_tee_svn"},
	release.TEETDX:       {"mr_td", "rtmr_1", "rtmr_2", "xfam"},
	release.TEEAzureVTPM: {"snp_pcr11", "tcb_bootloader", "tcb_microcode", "tcb_snp", "tcb_tee"},
}

// warnUnaffirmable warns about every reference value the attestation
// policy needs for the pattern's TEEs and the pattern does not give: until
// it is set, no pod there attests as affirming and none gets a secret.
func warnUnaffirmable(in *render.Input, p *spec.Pattern) {
	tees := workloadTEEs(p)
	for _, tee := range slices.Sorted(maps.Keys(tees)) {
		var missing []string
		for _, name := range requiredReferenceValues[tee] {
			if len(p.Spec.Trustee.ReferenceValues[name]) == 0 {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			in.Warn("spec.trustee.referenceValues", "no %s: pods on %s (cluster groups %s) cannot attest as affirming and get no secrets until these are set", strings.Join(missing, ", "), release.TEETitle(tee), strings.Join(tees[tee], ", "))
		}
	}
}

// warnTrustDebug says, at every render, what trusting debug profiles
// gives up.
func warnTrustDebug(in *render.Input, p *spec.Pattern) {
	if !p.Spec.Trustee.TrustDebug {
		return
	}
	var debug []string
	for _, prof := range p.Spec.InitData.Profiles {
		if prof.Policy.Profile == spec.PolicyDebug {
			debug = append(debug, prof.Name)
		}
	}
	in.Warn("spec.trustee.trustDebug", "the KBS trusts the init-data of debug profiles (%s): their pods, which the host can exec into and inspect, attest as affirming and may receive secrets. NO CONFIDENTIALITY for those secrets", fmt.Sprint(debug))
}

// warnIndistinguishable warns when a resource is granted to a profile but
// not to another that renders the very same init-data document: the KBS
// sees only the document's digest, so it releases the resource to both.
func warnIndistinguishable(in *render.Input, p *spec.Pattern, trusted []*profiles.Profile) {
	for i, a := range trusted {
		for _, b := range trusted[i+1:] {
			if string(a.TOML) != string(b.TOML) {
				continue
			}
			for ri, r := range p.Spec.Trustee.Resources {
				if slices.Contains(r.Profiles, a.Name()) != slices.Contains(r.Profiles, b.Name()) {
					in.Warn(fmt.Sprintf("spec.trustee.resources[%d].profiles", ri), "profiles %q and %q render the same init-data document, which is all the KBS sees of a pod: Secret %q is released to the pods of both", a.Name(), b.Name(), r.Name)
				}
			}
		}
	}
}
