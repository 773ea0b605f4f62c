package release

// Trustee is how a line's Trustee operator deploys the KBS: the ConfigMap
// keys and Secret mounts of a KbsConfig, and what the KBS it runs reads.
type Trustee struct {
	// KBSSource names the trustee source the line's KBS is built from.
	KBSSource string
	// KBSImage is what the line's KBS image compiles in: a variant it
	// lacks is an unknown variant to it.
	KBSImage KBSImage
	// RouteName is the Route the operator creates for the KBS itself
	// (openshift lines); cocogen must not emit one of that name. Empty
	// where the operator creates none.
	RouteName string

	// Keys of the ConfigMaps a KbsConfig names, and where the operator
	// mounts them in the KBS container (trustee-operator
	// internal/controller/common.go and kbsconfig_controller.go at the
	// line's tag).
	KBSConfigKey, KBSConfigPath                   string
	AttestationPolicyKey, AttestationPolicyPath   string
	ResourcePolicyKey, ResourcePolicyPath         string
	ReferenceValuesKey, ReferenceValuesPath       string
	StorageDir, LocalJSONDir, RepositoryNamespace string

	// Directories the operator mounts each Secret of a KbsConfig at (the
	// whole Secret: file names are the Secret's keys).
	HTTPSKeyDir, HTTPSCertDir, AuthSecretDir, TokenKeyDir, TokenCertDir string

	// ResourceURIPrefix is what a KBS resource's URI starts with: the
	// operator's secret-converter stores key k of Secret s of
	// kbsSecretResources as resource default/<s>/<k>.
	ResourceURIPrefix string

	// RVPS is the layout of the reference value store.
	RVPS RVPS
}

// KBSImage lists the variants a KBS image compiles in (canonical names).
type KBSImage struct {
	Name                string
	AttestationServices []string
	Plugins             []string
	ResourceBackends    []string
}

// RVPS is the layout of the reference value store the operator mounts from
// the reference values ConfigMap.
type RVPS struct {
	// RecordVersion is the version field of every record.
	RecordVersion string
	// TimeLayout is the Go layout of a record's expiration (the store's
	// parser takes exactly this form).
	TimeLayout string
	// Base64URL says the store decodes each record with the URL-safe
	// alphabet (padded); otherwise the standard one.
	Base64URL bool
}

// sharedTrustee is what both lines' Trustee operators do: openshift/
// trustee-operator v1.2.1 has the same api/, CRDs and controller wiring as
// upstream trustee-operator v0.21.0 (coco-release NOTES.md §2), and both
// KBS builds share trustee's config and storage code.
var sharedTrustee = Trustee{
	// trustee-operator v0.21.0 internal/controller/common.go: kbsDefaultConfigPath
	// "/etc" and the ConfigMap volume kbs-config at /etc/kbs-config; the KBS
	// runs with --config-file /etc/kbs-config/kbs-config.toml.
	KBSConfigKey:  "kbs-config.toml",
	KBSConfigPath: "/etc/kbs-config/kbs-config.toml",
	// common.go: attestationPolicyPath, defaultAttestationCpuPolicy.
	AttestationPolicyKey:  "default_cpu.rego",
	AttestationPolicyPath: "/opt/confidential-containers/storage/attestation_service_policy/default_cpu.rego",
	// common.go: kbsStoragePath, resourcePolicyFilename.
	ResourcePolicyKey:  "resource-policy.rego",
	ResourcePolicyPath: "/opt/confidential-containers/storage/kbs/resource-policy.rego",
	// common.go: rvpsReferenceValuesPath; the file is the LocalJson store
	// of namespace reference_value (trustee deps/key-value-storage/src/local_json).
	ReferenceValuesKey:  "reference_value",
	ReferenceValuesPath: "/opt/confidential-containers/storage/local_json/reference_value",
	// common.go: baseStoragePath; key-value-storage local_json default
	// file_dir_path.
	StorageDir:          "/opt/confidential-containers/storage",
	LocalJSONDir:        "/opt/confidential-containers/storage/local_json",
	RepositoryNamespace: "repository",
	// kbsconfig_controller.go: Secret volumes https-key, https-cert,
	// auth-secret, attestation-key, attestation-cert.
	HTTPSKeyDir:   "/etc/https-key",
	HTTPSCertDir:  "/etc/https-cert",
	AuthSecretDir: "/etc/auth-secret",
	TokenKeyDir:   "/etc/attestation-key",
	TokenCertDir:  "/etc/attestation-cert",
	// The secret-converter init container (operator image) flattens
	// /tmp/kbs-secrets/<s>/<k> to repository/default/<s>/<k>.
	ResourceURIPrefix: "kbs:///default/",
	RVPS: RVPS{
		// trustee rvps/src/reference_value.rs: ReferenceValue{version,
		// name, expiration, value}, version "0.1.0", expiration with
		// "%Y-%m-%dT%H:%M:%SZ".
		RecordVersion: "0.1.0",
		TimeLayout:    "2006-01-02T15:04:05Z",
		// deps/key-value-storage/src/local_json/mod.rs decodes with
		// base64 URL_SAFE (padded).
		Base64URL: true,
	},
}

// Attestation is what a line's attestation service shows the attestation
// policy (trustee attestation-service/src/ear_token/broker.rs,
// transform_claims).
type Attestation struct {
	// PolicyID is the attestation policy the KBS evaluates for CPU
	// evidence.
	PolicyID string
}
