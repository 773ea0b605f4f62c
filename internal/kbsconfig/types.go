// Package kbsconfig mirrors the configuration file of Trustee's KBS
// (kbs-config.toml) as the pinned KBS parses it: the same tables and keys,
// the same tagged unions and their accepted spellings, the same required
// tables, the same tables where unknown keys are errors (the admin subtree,
// deny_unknown_fields) and those where the KBS silently ignores them
// (reported here as warnings), the variants each image compiles in, and
// the checks the KBS makes when it starts.
//
// The Trustee generator renders kbs-config.toml from these types, and tests
// decode every rendered file and the KBS's own sample configurations with
// Decode, so a key the KBS would not read cannot pass.
//
// Source: confidential-containers/trustee kbs/src/config.rs and the structs
// it reaches, byte-identical at v0.21.0, b2442c2 (what trustee-operator
// v0.21.0 deploys) and openshift/trustee v1.2.0 (upstream 90a72d5 plus
// downstream patches that change no configuration type).
package kbsconfig

// Config is KbsConfig (kbs/src/config.rs): exactly these seven keys.
// http_server and admin are required tables.
type Config struct {
	// SessionStorageType overrides the storage type of protocol sessions.
	// A top-level scalar: written before the first table.
	SessionStorageType string `toml:"session_storage_type,omitempty"`
	// HTTPServer is [http_server] (required, may be empty).
	HTTPServer HTTPServer `toml:"http_server" kbs:"required"`
	// Admin is [admin] (required).
	Admin Admin `toml:"admin" kbs:"required,deny"`
	// AttestationToken is [attestation_token]: how the KBS verifies the
	// attestation tokens its resource requests carry.
	AttestationToken *AttestationToken `toml:"attestation_token,omitempty"`
	// AttestationService is [attestation_service]; when present, its type
	// is required.
	AttestationService *AttestationService `toml:"attestation_service,omitempty"`
	// StorageBackend is [storage_backend], the unified key-value storage.
	StorageBackend *StorageBackend `toml:"storage_backend,omitempty"`
	// Plugins is [[plugins]].
	Plugins []Plugin `toml:"plugins,omitempty"`
}

// HTTPServer is HttpServerConfig with its TlsConfig flattened in
// (kbs/src/config.rs).
type HTTPServer struct {
	// Sockets are IP:port strings (host names are refused); default
	// ["127.0.0.1:8080"].
	Sockets []string `toml:"sockets,omitempty"`
	// InsecureHTTP serves plain HTTP; false needs Certificate and
	// PrivateKey.
	InsecureHTTP bool `toml:"insecure_http"`
	// PayloadRequestSize is in MB; default 2.
	PayloadRequestSize *int64 `toml:"payload_request_size,omitempty"`
	// WorkerCount defaults to the number of CPUs.
	WorkerCount *int64 `toml:"worker_count,omitempty"`
	// PrivateKey and Certificate are PEM file paths.
	PrivateKey  string `toml:"private_key,omitempty"`
	Certificate string `toml:"certificate,omitempty"`
	// TLSProfile is old, intermediate (default), modern or custom.
	TLSProfile string `toml:"tls_profile,omitempty" kbs:"enum=old|intermediate|modern|custom"`
	// TLSMinVersion and TLSMaxVersion are "1.2" or "1.3".
	TLSMinVersion string `toml:"tls_min_version,omitempty" kbs:"enum=1.2|1.3"`
	TLSMaxVersion string `toml:"tls_max_version,omitempty" kbs:"enum=1.2|1.3"`
	// TLSCiphers and TLSGroups are OpenSSL colon lists.
	TLSCiphers string `toml:"tls_ciphers,omitempty"`
	TLSGroups  string `toml:"tls_groups,omitempty"`
}

// Admin modes (AdminConfig's tag authorization_mode, kbs/src/admin/mod.rs).
const (
	AdminDenyAll                    = "DenyAll"
	AdminInsecureAllowAll           = "InsecureAllowAll"
	AdminAuthenticatedAuthorization = "AuthenticatedAuthorization"
)

// Admin is AdminConfig, internally tagged by authorization_mode, with
// deny_unknown_fields: every key but the variant's is an error.
type Admin struct {
	AuthorizationMode string `toml:"authorization_mode" kbs:"tag,required,enum=DenyAll|InsecureAllowAll|AuthenticatedAuthorization"`
	// Authentication and Authorization belong to AuthenticatedAuthorization
	// only, which requires both.
	Authentication *AdminAuthentication `toml:"authentication,omitempty" kbs:"variant=AuthenticatedAuthorization,required"`
	Authorization  *AdminAuthorization  `toml:"authorization,omitempty" kbs:"variant=AuthenticatedAuthorization,required"`
}

// AdminAuthentication is AuthenticationType: exactly one key, bearer_jwt.
type AdminAuthentication struct {
	BearerJWT *BearerJWT `toml:"bearer_jwt" kbs:"required"`
}

// BearerJWT is BearerJwtConfig.
type BearerJWT struct {
	IdentityProviders []IdentityProvider `toml:"identity_providers"`
}

// IdentityProvider is IssuerConfig: who may sign admin tokens.
type IdentityProvider struct {
	Issuer   string `toml:"issuer,omitempty"`
	Audience string `toml:"audience,omitempty"`
	// PublicKeyURI is a PEM public key: https://, file:// or a path.
	PublicKeyURI string `toml:"public_key_uri,omitempty"`
	// JWKSetURI is a JWKS source.
	JWKSetURI string `toml:"jwk_set_uri,omitempty"`
}

// AdminAuthorization is AuthorizerType: exactly one key, regex_acl.
type AdminAuthorization struct {
	RegexACL *RegexACL `toml:"regex_acl" kbs:"required"`
}

// RegexACL is RegexAclConfig; an empty list denies everything.
type RegexACL struct {
	ACLs []ACLRule `toml:"acls"`
}

// ACLRule is AdminAclRule: the endpoints a token's role may use.
type ACLRule struct {
	Role string `toml:"role" kbs:"required"`
	// AllowedEndpoints is a regex that must start with ^/kbs and end
	// with $.
	AllowedEndpoints string `toml:"allowed_endpoints"`
}

// AttestationToken is AttestationTokenVerifierConfig (kbs/src/token/mod.rs).
type AttestationToken struct {
	ExtraTEEKeyPaths  []string `toml:"extra_teekey_paths,omitempty"`
	TrustedCertsPaths []string `toml:"trusted_certs_paths,omitempty"`
	TrustedJWKSets    []string `toml:"trusted_jwk_sets,omitempty"`
	// InsecureHeaderJWK trusts whatever key a token carries in its header.
	InsecureHeaderJWK bool `toml:"insecure_header_jwk"`
}

// Attestation service types (AttestationServiceConfig's tag, with aliases;
// kbs/src/attestation/config.rs).
const (
	ASBuiltin = "coco_as_builtin"
	ASGrpc    = "coco_as_grpc"
	ASIntelTA = "intel_ta"
)

// AttestationService is AttestationConfig: timeout plus the flattened,
// internally tagged AttestationServiceConfig. Its keys are those of every
// variant; Decode allows only the chosen variant's.
type AttestationService struct {
	Type string `toml:"type" kbs:"tag,required,alias=CoCoASBuiltIn:coco_as_builtin|coco_as_builtin:coco_as_builtin|CoCoASGrpc:coco_as_grpc|coco_as_grpc:coco_as_grpc|IntelTA:intel_ta|intel_ta:intel_ta"`
	// Timeout is the attestation session's lifetime in minutes; default 5.
	Timeout *int64 `toml:"timeout,omitempty" kbs:"variant=*"`

	// coco_as_builtin (kbs/src/attestation/coco/builtin.rs Config).
	RVPSConfig             *RVPSConfig     `toml:"rvps_config,omitempty" kbs:"variant=coco_as_builtin"`
	AttestationTokenBroker *EARTokenBroker `toml:"attestation_token_broker,omitempty" kbs:"variant=coco_as_builtin"`
	VerifierConfig         *VerifierConfig `toml:"verifier_config,omitempty" kbs:"variant=coco_as_builtin"`
	StorageType            string          `toml:"storage_type,omitempty" kbs:"variant=coco_as_builtin,storage"`
	ASAddr                 string          `toml:"as_addr,omitempty" kbs:"variant=coco_as_grpc"`
	PoolSize               *int64          `toml:"pool_size,omitempty" kbs:"variant=coco_as_grpc"`
	BaseURL                string          `toml:"base_url,omitempty" kbs:"variant=intel_ta,required"`
	APIKey                 string          `toml:"api_key,omitempty" kbs:"variant=intel_ta,required"`
	CertsFile              string          `toml:"certs_file,omitempty" kbs:"variant=intel_ta,required"`
	AllowUnmatchedPolicy   *bool           `toml:"allow_unmatched_policy,omitempty" kbs:"variant=intel_ta"`
	PolicyIDs              []string        `toml:"policy_ids,omitempty" kbs:"variant=intel_ta"`
}

// RVPSConfig is RvpsConfig (attestation-service/src/rvps/mod.rs),
// internally tagged by type: BuiltIn or GrpcRemote.
type RVPSConfig struct {
	Type string `toml:"type" kbs:"tag,required,enum=BuiltIn|GrpcRemote"`
	// BuiltIn: the store's storage type (else the AS's, else the
	// unified one).
	StorageType string    `toml:"storage_type,omitempty" kbs:"variant=BuiltIn,storage"`
	Extractors  *struct{} `toml:"extractors,omitempty" kbs:"variant=BuiltIn,opaque"`
	// GrpcRemote: the RVPS address.
	Address string `toml:"address,omitempty" kbs:"variant=GrpcRemote"`
}

// EARTokenBroker is EarTokenConfiguration
// (attestation-service/src/ear_token/mod.rs).
type EARTokenBroker struct {
	// DurationMin is the attestation token's lifetime; default 5.
	DurationMin   *int64 `toml:"duration_min,omitempty"`
	IssuerName    string `toml:"issuer_name,omitempty"`
	DeveloperName string `toml:"developer_name,omitempty"`
	BuildName     string `toml:"build_name,omitempty"`
	ProfileName   string `toml:"profile_name,omitempty"`
	VerboseToken  *bool  `toml:"verbose_token,omitempty"`
	// Signer signs tokens; without it the key is ephemeral.
	Signer *TokenSigner `toml:"signer,omitempty"`
}

// TokenSigner is TokenSignerConfig.
type TokenSigner struct {
	// KeyPath is a PEM EC P-256 private key.
	KeyPath string `toml:"key_path" kbs:"required"`
	CertURL string `toml:"cert_url,omitempty"`
	// CertPath is the PEM certificate chain put in tokens' x5c; the KBS
	// checks it against attestation_token.trusted_certs_paths.
	CertPath string `toml:"cert_path,omitempty"`
}

// VerifierConfig is deps/verifier's VerifierConfig.
type VerifierConfig struct {
	SNPVerifier    *SNPVerifier    `toml:"snp_verifier,omitempty"`
	DCAPVerifier   *DCAPVerifier   `toml:"dcap_verifier,omitempty"`
	NvidiaVerifier *NvidiaVerifier `toml:"nvidia_verifier,omitempty"`
	TPMVerifier    *struct{}       `toml:"tpm_verifier,omitempty" kbs:"opaque"`
}

// SNPVerifier is SnpVerifierConfig: where VCEK certificates come from.
type SNPVerifier struct {
	VCEKSources []VCEKSource `toml:"vcek_sources,omitempty"`
}

// VCEKSource is internally tagged by type: OfflineStore or KDS.
type VCEKSource struct {
	Type    string `toml:"type" kbs:"tag,required,enum=OfflineStore|KDS"`
	Path    string `toml:"path,omitempty" kbs:"variant=OfflineStore"`
	BaseURL string `toml:"base_url,omitempty" kbs:"variant=KDS"`
}

// DCAPVerifier is QcnlConfig: the Intel collateral service for TDX.
type DCAPVerifier struct {
	CollateralService string `toml:"collateral_service" kbs:"required"`
	UseSecureCert     *bool  `toml:"use_secure_cert,omitempty"`
	TCBUpdateType     string `toml:"tcb_update_type,omitempty" kbs:"enum=early|standard"`
}

// NvidiaVerifier is NvidiaVerifierConfig with its internally tagged type.
type NvidiaVerifier struct {
	Type        string `toml:"type" kbs:"tag,required,alias=Local:Local|local:Local|Remote:Remote|remote:Remote"`
	VerifierURL string `toml:"verifier_url,omitempty" kbs:"variant=Remote"`
}

// Storage types (KeyValueStorageType, deps/key-value-storage), with the
// snake-case aliases the KBS also accepts.
var storageTypes = map[string]string{
	"Memory": "Memory", "memory": "Memory",
	"LocalJson": "LocalJson", "local_json": "LocalJson",
	"LocalFs": "LocalFs", "local_fs": "LocalFs",
	"Postgres": "Postgres", "postgres": "Postgres",
	"Redis": "Redis", "redis": "Redis",
}

// StorageBackend is StorageBackendConfig.
type StorageBackend struct {
	// StorageType defaults to Memory.
	StorageType string    `toml:"storage_type,omitempty" kbs:"storage"`
	Backends    *Backends `toml:"backends,omitempty"`
}

// Backends holds each storage type's parameters; a type in use needs its
// table, even empty.
type Backends struct {
	LocalFS   *LocalFS   `toml:"local_fs,omitempty"`
	LocalJSON *LocalJSON `toml:"local_json,omitempty"`
	Postgres  *Postgres  `toml:"postgres,omitempty"`
	Redis     *Redis     `toml:"redis,omitempty"`
}

// LocalFS stores each namespace in a directory below DirPath.
type LocalFS struct {
	DirPath string `toml:"dir_path,omitempty"`
}

// LocalJSON stores each namespace in one JSON file in FileDirPath.
type LocalJSON struct {
	FileDirPath string `toml:"file_dir_path,omitempty"`
}

// Postgres is the PostgreSQL backend.
type Postgres struct {
	DB       string `toml:"db,omitempty"`
	Username string `toml:"username,omitempty"`
	Password string `toml:"password,omitempty"`
	Port     *int64 `toml:"port,omitempty"`
	Host     string `toml:"host,omitempty"`
}

// Redis is the Redis backend.
type Redis struct {
	URL string `toml:"url,omitempty"`
}

// Plugin names (PluginsConfig's tag, kbs/src/plugins/plugin_manager.rs).
const (
	PluginResource = "resource"
	PluginSample   = "sample"
)

// Plugin is PluginsConfig, internally tagged by name; the resource plugin
// is itself tagged by storage_backend_type.
type Plugin struct {
	Name string `toml:"name" kbs:"tag,required,alias=Sample:sample|sample:sample|ResourceStorage:resource|resource:resource|NebulaCaPlugin:nebula-ca|nebula-ca:nebula-ca|Pkcs11:pkcs11|pkcs11:pkcs11|ExternalPlugin:external|external:external"`
	// sample
	Item string `toml:"item,omitempty" kbs:"variant=sample,required"`
	// resource (RepositoryConfig, kbs/src/plugins/implementations/resource/backend.rs)
	StorageBackendType string   `toml:"storage_backend_type,omitempty" kbs:"variant=resource,required,subtag=KvStorage:kvstorage|kvstorage:kvstorage|Vault:vault|vault:vault|Aliyun:aliyun|aliyun:aliyun|Aws:aws|aws:aws|Gcp:gcp|gcp:gcp"`
	VaultURL           string   `toml:"vault_url,omitempty" kbs:"variant=resource,subvariant=vault,required"`
	Token              string   `toml:"token,omitempty" kbs:"variant=resource,subvariant=vault,required"`
	MountPath          string   `toml:"mount_path,omitempty" kbs:"variant=resource,subvariant=vault"`
	VerifySSL          *bool    `toml:"verify_ssl,omitempty" kbs:"variant=resource,subvariant=vault"`
	CACerts            []string `toml:"ca_certs,omitempty" kbs:"variant=resource,subvariant=vault"`
}
