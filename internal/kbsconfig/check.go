package kbsconfig

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Check runs the checks the KBS makes when it starts, in its order
// (kbs/src/api_server.rs ApiServer::new and ::server, kbs/src/config.rs
// TlsConfig::validate, kbs/src/token, kbs/src/admin): a configuration that
// parses but fails one of them never serves a request.
func Check(c *Config) Problems {
	var ps Problems
	fail := func(path, format string, args ...any) {
		ps = append(ps, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	h := &c.HTTPServer
	if h.TLSMinVersion == "1.3" && h.TLSMaxVersion == "1.2" {
		fail("http_server.tls_min_version", "1.3 is greater than tls_max_version 1.2")
	}
	// Every storage type in use needs its [storage_backend.backends.<type>]
	// table (deps/key-value-storage).
	unified := "Memory"
	var backends Backends
	if sb := c.StorageBackend; sb != nil {
		if sb.StorageType != "" {
			unified = storageTypes[sb.StorageType]
		}
		if sb.Backends != nil {
			backends = *sb.Backends
		}
	}
	used := map[string]string{"storage_backend.storage_type": unified}
	if c.SessionStorageType != "" {
		used["session_storage_type"] = storageTypes[c.SessionStorageType]
	}
	if as := c.AttestationService; as != nil && as.Type == ASBuiltin {
		asType := unified
		if as.StorageType != "" {
			asType = storageTypes[as.StorageType]
			used["attestation_service.storage_type"] = asType
		}
		if r := as.RVPSConfig; r != nil && r.StorageType != "" {
			used["attestation_service.rvps_config.storage_type"] = storageTypes[r.StorageType]
		}
	}
	for _, path := range slices.Sorted(maps.Keys(used)) {
		typ := used[path]
		have := map[string]bool{"Memory": true, "LocalFs": backends.LocalFS != nil, "LocalJson": backends.LocalJSON != nil, "Postgres": backends.Postgres != nil, "Redis": backends.Redis != nil}
		if !have[typ] {
			fail(path, "storage type %s needs a [storage_backend.backends.%s] table", typ, backendTable(typ))
		}
	}
	// The attestation token verifier needs trust material (kbs/src/crypto/jwt.rs).
	t := c.AttestationToken
	if t == nil || (len(t.TrustedCertsPaths) == 0 && len(t.TrustedJWKSets) == 0 && !t.InsecureHeaderJWK) {
		fail("attestation_token", "no trusted_certs_paths, no trusted_jwk_sets and insecure_header_jwk false: the KBS cannot verify any token and does not start")
	}
	if a := c.Admin; a.AuthorizationMode == AdminAuthenticatedAuthorization {
		if a.Authentication == nil || a.Authentication.BearerJWT == nil || len(a.Authentication.BearerJWT.IdentityProviders) == 0 {
			fail("admin.authentication.bearer_jwt.identity_providers", "AuthenticatedAuthorization needs at least one identity provider")
		} else {
			for i, idp := range a.Authentication.BearerJWT.IdentityProviders {
				if idp.PublicKeyURI == "" && idp.JWKSetURI == "" {
					fail(fmt.Sprintf("admin.authentication.bearer_jwt.identity_providers[%d]", i), "set public_key_uri and/or jwk_set_uri")
				}
			}
		}
		if a.Authorization != nil && a.Authorization.RegexACL != nil {
			for i, acl := range a.Authorization.RegexACL.ACLs {
				path := fmt.Sprintf("admin.authorization.regex_acl.acls[%d].allowed_endpoints", i)
				if !strings.HasPrefix(acl.AllowedEndpoints, "^/kbs") || !strings.HasSuffix(acl.AllowedEndpoints, "$") {
					fail(path, "%q must start with ^/kbs and end with $", acl.AllowedEndpoints)
				} else if _, err := regexp.Compile(acl.AllowedEndpoints); err != nil {
					fail(path, "not a regular expression: %v", err)
				}
			}
		}
	}
	if !h.InsecureHTTP {
		if h.Certificate == "" {
			fail("http_server.certificate", "required when insecure_http is false (Missing certificate)")
		}
		if h.PrivateKey == "" {
			fail("http_server.private_key", "required when insecure_http is false (Missing private key)")
		}
	}
	return ps
}

// backendTable is the [storage_backend.backends] table of a storage type.
func backendTable(typ string) string {
	switch typ {
	case "LocalFs":
		return "local_fs"
	case "LocalJson":
		return "local_json"
	}
	return strings.ToLower(typ)
}
