# KBS resource policy rendered by cocogen.
#
# A resource kbs:///<repository>/<secret>/<key> is released only when
#   - the requester's attestation result (the EAR token of the built-in
#     attestation service) appraises every attested environment as
#     "affirming": every trust claim of the attestation policy was met;
#   - the secret is listed below for the requester's init-data, in the form
#     its TEE reports it (SNP HOSTDATA, TDX MRCONFIGID, Azure vTPM PCR8):
#     each secret names the init-data profiles that may fetch it in the
#     pattern (spec.trustee.resources[].profiles).
# Everything else is denied, including other plugins and repositories.
#
# What this policy does NOT check: which container in the pod asks (every
# process that can reach the pod's confidential data hub can fetch what
# the pod's init-data may), and anything the attestation policy does not
# appraise.
package policy

import rego.v1

default allow := false

allow if {
	data.plugin == "resource"
	count(data["resource-path"]) == 3
	data["resource-path"][0] == "default"
	count(input.submods) > 0
	every submod in input.submods {
		submod["ear.status"] == "affirming"
	}
	init_data := input.submods.cpu0["ear.veraison.annotated-evidence"].init_data
	init_data in object.get(resource_access, data["resource-path"][1], [])
}
