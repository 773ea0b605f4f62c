# Attestation policy (default_cpu) rendered by cocogen for the built-in
# attestation service of Trustee.
#
# The attestation service has verified the evidence cryptographically
# before this runs (vendor signature chains, the vTPM quote bound to the
# hardware report, the nonce). This policy turns the verified claims into
# AR4SI trust claims, comparing them with reference values through
# query_reference_value(name). The result is "affirming" only when every
# claim below is in the affirming range (2-31); the resource policy releases
# nothing otherwise.
#
#   configuration  2  the pod's init-data is one the pattern ships (its
#                     digest in the form the TEE reports it: SNP HOSTDATA,
#                     TDX MRCONFIGID, Azure vTPM PCR8) and the TEE is not
#                     debuggable
#                  96 the init-data is one the pattern does not ship (or a
#                     debug profile's, unless the pattern trusts them)
#                  36 otherwise: not known to be safe
#   hardware       2  the TCB (firmware and microcode versions, TDX TCB
#                     status) is one the reference values list
#                  97 otherwise
#   executables    3  the boot chain (launch measurement, vTPM PCR11,
#                     TDX MRTD and RTMRs) matches reference measurements
#                  33 otherwise
#
# What this policy does NOT check: the workload itself (images, commands:
# that is the kata agent policy inside the init-data), and anything for TEEs
# other than SNP, TDX and Azure SNP/TDX vTPMs (their evidence gets the
# defaults, never "affirming"). Reference value names for TEE measurements
# are those of Trustee's default policy, so values published for it apply
# here; the init_data_* values are computed by cocogen from the rendered
# init-data documents.
package policy

import rego.v1

default configuration := 36

default hardware := 97

default executables := 33

# Claims this policy makes no assertion about.
default file_system := 0

default instance_identity := 0

default runtime_opaque := 0

default storage_opaque := 0

default sourced_data := 0

trust_claims := {
	"configuration": configuration,
	"executables": executables,
	"file-system": file_system,
	"hardware": hardware,
	"instance-identity": instance_identity,
	"runtime-opaque": runtime_opaque,
	"sourced-data": sourced_data,
	"storage-opaque": storage_opaque,
}

# listed(value, name) holds when the reference value name lists value. A
# missing reference value lists nothing.
listed(value, name) if {
	values := query_reference_value(name)
	is_array(values)
	value in values
}

# The init-data reference value for the TEE that produced the evidence:
# the attestation service puts the TEE's init-data field, hex encoded, at
# input.init_data.
init_data_reference := "init_data_host_data" if input.snp

else := "init_data_mr_config_id" if input.tdx

else := "init_data_pcr08" if input["az-snp-vtpm"]

else := "init_data_pcr08" if input["az-tdx-vtpm"]

init_data_shipped if listed(input.init_data, init_data_reference)

configuration := 96 if not init_data_shipped

else := 2 if {
	input.snp
	input.snp.policy_debug_allowed == false
	input.snp.policy_migrate_ma == false
}

else := 2 if {
	input.tdx
	input.tdx.td_attributes.debug == false
	listed(input.tdx.quote.body.xfam, "xfam")
}

else := 2 if {
	# Azure reports the SNP policy as strings.
	input["az-snp-vtpm"].policy_debug_allowed == "false"
	input["az-snp-vtpm"].policy_migrate_ma == "false"
}

else := 2 if {
	input["az-tdx-vtpm"].td_attributes.debug == false
	listed(input["az-tdx-vtpm"].quote.body.xfam, "xfam")
}

##### AMD SEV-SNP

hardware := 2 if {
	listed(input.snp.reported_tcb_bootloader, "snp_bootloader")
	listed(input.snp.reported_tcb_microcode, "snp_microcode")
	listed(input.snp.reported_tcb_snp, "snp_snp_svn")
	listed(input.snp.reported_tcb_tee, "snp_tee_svn")
}

executables := 3 if listed(input.snp.measurement, "snp_launch_measurement")

##### Intel TDX

hardware := 2 if tdx_platform_ok(input.tdx)

executables := 3 if {
	listed(input.tdx.quote.body.mr_td, "mr_td")
	listed(input.tdx.quote.body.rtmr_1, "rtmr_1")
	listed(input.tdx.quote.body.rtmr_2, "rtmr_2")
}

# tdx_platform_ok: an Intel-signed TDX quote whose TCB is up to date and
# whose collateral has not expired.
tdx_platform_ok(tdx) if {
	tdx.quote.header.tee_type == "81000000"
	tdx.quote.header.vendor_id == "939a7233f79c4ca9940a0db3957f0607"
	tdx.tcb_status == "UpToDate"
	tdx.collateral_expiration_status == "0"
}

##### Azure confidential VMs (SNP or TDX behind a vTPM paravisor)

hardware := 2 if {
	az := input["az-snp-vtpm"]
	listed(az.reported_tcb_bootloader, "tcb_bootloader")
	listed(az.reported_tcb_microcode, "tcb_microcode")
	listed(az.reported_tcb_snp, "tcb_snp")
	listed(az.reported_tcb_tee, "tcb_tee")
}

hardware := 2 if tdx_platform_ok(input["az-tdx-vtpm"])

# PCR11 measures the pod VM image (its unified kernel image).
executables := 3 if listed(input["az-snp-vtpm"].tpm.pcr11, "snp_pcr11")

executables := 3 if {
	listed(input["az-tdx-vtpm"].quote.body.mr_td, "mr_td")
	listed(input["az-tdx-vtpm"].tpm.pcr11, "tdx_pcr11")
}
