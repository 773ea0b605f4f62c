# KBS resource policy rendered by cocogen.
#
# A resource (kbs:///<repository>/<name>/<key>) is released only to a
# requester whose attestation result (an EAR token from the built-in
# attestation service) appraises every attested environment as
# "affirming", that is, every trust claim of the attestation policy was
# met. "warning" and "contraindicated" results get nothing.
package policy

import rego.v1

default allow := false

allow if {
	count(input.submods) > 0
	every submod in input.submods {
		submod["ear.status"] == "affirming"
	}
}
