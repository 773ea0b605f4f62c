# Attestation (EAR appraisal) policy rendered by cocogen.
#
# The attestation service has already verified the evidence cryptographically
# (vendor signature chains, the vTPM quote bound to the hardware report,
# nonces). This policy turns the verified claims into AR4SI trust claims by
# comparing them with the reference values (RVPS, data.reference):
#
#   hardware       2 = genuine TEE hardware          (97 = not recognised)
#   configuration  2 = the init-data the pattern ships, no debug mode
#                                                    (36 = unknown)
#   executables    3 = the boot chain (firmware, kernel, initrd, command
#                      line) matches reference measurements
#                                                    (33 = unknown)
#
# The init_data_* reference values are computed by cocogen from the rendered
# init-data documents; boot measurements come from the pattern
# (spec.trustee.referenceValues). Any claim left at its default makes the
# result "warning" or "contraindicated", for which the resource policy
# releases nothing.
package policy

import rego.v1

default hardware := 97

default configuration := 36

default executables := 33

# Reference values by name; an unknown name accepts nothing.
ref(name) := object.get(data.reference, name, [])

# has_ref holds when the reference values list name at all.
has_ref(name) if count(ref(name)) > 0

# debug_off holds unless a claim says the guest can be debugged. Claims are
# booleans or strings depending on the attestation service release.
debug_off(allowed) if sprintf("%v", [allowed]) == "false"

##### Azure confidential VMs: SNP or TDX behind a paravisor vTPM.
# Older attestation services name the claims azsnpvtpm and aztdxvtpm.

az_snp := object.get(input, "az-snp-vtpm", object.get(input, "azsnpvtpm", null))

az_tdx := object.get(input, "az-tdx-vtpm", object.get(input, "aztdxvtpm", null))

azure_tpm := az_snp.tpm if {
	az_snp != null
} else := az_tdx.tpm if {
	az_tdx != null
}

hardware := 2 if azure_tpm

# The kata agent extends PCR8 with the init-data digest.
configuration := 2 if {
	azure_tpm.pcr08 in ref("init_data_pcr08")
	az_debug_off
}

az_debug_off if az_snp == null

az_debug_off if debug_off(az_snp.policy_debug_allowed)

# PCR11 measures the pod VM image (UKI); PCR3, 9 and 12 are checked when the
# pattern lists reference values for them.
executables := 3 if {
	azure_tpm.pcr11 in ref("azure_pcr11")
	every pcr in ["pcr03", "pcr09", "pcr12"] {
		azure_pcr_ok(pcr)
	}
}

azure_pcr_ok(pcr) if not has_ref(concat("_", ["azure", pcr]))

azure_pcr_ok(pcr) if azure_tpm[pcr] in ref(concat("_", ["azure", pcr]))

##### Bare-metal AMD SEV-SNP

hardware := 2 if input.snp

# HOSTDATA carries the init-data digest; claims hold it hex or base64
# encoded depending on the release, and init_data_host_data lists both.
configuration := 2 if {
	object.get(input.snp, "init_data", object.get(input.snp, "host_data", "")) in ref("init_data_host_data")
	debug_off(input.snp.policy_debug_allowed)
}

executables := 3 if input.snp.measurement in ref("snp_launch_measurement")

##### Bare-metal Intel TDX

hardware := 2 if input.tdx

# MRCONFIGID carries the init-data digest.
configuration := 2 if {
	input.tdx.quote.body.mr_config_id in ref("init_data_mr_config_id")
	not tdx_debug
}

tdx_debug if input.tdx.td_attributes.debug == true

executables := 3 if {
	input.tdx.quote.body.mr_td in ref("tdx_mr_td")
	every rtmr in ["rtmr_1", "rtmr_2"] {
		tdx_rtmr_ok(rtmr)
	}
}

tdx_rtmr_ok(rtmr) if not has_ref(concat("_", ["tdx", rtmr]))

tdx_rtmr_ok(rtmr) if input.tdx.quote.body[rtmr] in ref(concat("_", ["tdx", rtmr]))
