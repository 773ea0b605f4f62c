package trustee

import (
	"path"

	"github.com/cocogen/cocogen/internal/kbsconfig"
	"github.com/cocogen/cocogen/pkg/release"
	"github.com/cocogen/cocogen/pkg/spec"
)

const (
	// adminRole is the role claim admin tokens carry (kbs-client's).
	adminRole = "admin"
	// kbsListenSocket is where the KBS listens in its pod; the operator's
	// Service targets port 8080.
	kbsListenSocket = "0.0.0.0:8080"
)

// KBSConfig is the KBS configuration for the pattern on its release line:
// exactly the tables and keys that line's KBS reads (package kbsconfig
// mirrors them), with the paths where its operator mounts the KbsConfig's
// ConfigMaps and Secrets.
//
//   - HTTPS only, with the key and certificate of spec.trustee.tlsSecret;
//   - the admin API off (DenyAll), or with spec.trustee.adminAPI open to
//     requests signed by the admin key;
//   - attestation tokens trusted only when signed by the token signer's
//     certificate (never a key a token carries in its header);
//   - the built-in attestation service with its reference values in the
//     operator-mounted store, tokens signed with the token signer key;
//   - resources, policies and sessions in the storage the operator mounts.
func KBSConfig(p *spec.Pattern, line *release.Line) *kbsconfig.Config {
	t, lt := &p.Spec.Trustee, &line.Trustee
	duration := int64(*t.TokenDurationMinutes)
	c := &kbsconfig.Config{
		HTTPServer: kbsconfig.HTTPServer{
			Sockets:     []string{kbsListenSocket},
			PrivateKey:  path.Join(lt.HTTPSKeyDir, spec.KBSTLSKey),
			Certificate: path.Join(lt.HTTPSCertDir, spec.KBSTLSCert),
		},
		Admin: kbsconfig.Admin{AuthorizationMode: kbsconfig.AdminDenyAll},
		AttestationToken: &kbsconfig.AttestationToken{
			TrustedCertsPaths: []string{path.Join(lt.TokenCertDir, spec.KBSTokenCert)},
		},
		AttestationService: &kbsconfig.AttestationService{
			Type: kbsconfig.ASBuiltin,
			// The reference values are the file the operator mounts from
			// the reference values ConfigMap: the LocalJson store.
			RVPSConfig: &kbsconfig.RVPSConfig{Type: "BuiltIn", StorageType: "LocalJson"},
			AttestationTokenBroker: &kbsconfig.EARTokenBroker{
				DurationMin: &duration,
				Signer: &kbsconfig.TokenSigner{
					KeyPath:  path.Join(lt.TokenKeyDir, spec.KBSTokenKey),
					CertPath: path.Join(lt.TokenCertDir, spec.KBSTokenCert),
				},
			},
			VerifierConfig: verifierConfig(p),
		},
		// The policies and resources are files the operator mounts below
		// StorageDir (namespaces kbs, attestation_service_policy,
		// repository); the reference values are the LocalJson file.
		StorageBackend: &kbsconfig.StorageBackend{
			StorageType: "LocalFs",
			Backends: &kbsconfig.Backends{
				LocalFS:   &kbsconfig.LocalFS{DirPath: lt.StorageDir},
				LocalJSON: &kbsconfig.LocalJSON{FileDirPath: lt.LocalJSONDir},
			},
		},
		Plugins: []kbsconfig.Plugin{{Name: kbsconfig.PluginResource, StorageBackendType: "kvstorage"}},
	}
	if t.AdminAPI {
		c.Admin = kbsconfig.Admin{
			AuthorizationMode: kbsconfig.AdminAuthenticatedAuthorization,
			Authentication: &kbsconfig.AdminAuthentication{BearerJWT: &kbsconfig.BearerJWT{
				IdentityProviders: []kbsconfig.IdentityProvider{{PublicKeyURI: path.Join(lt.AuthSecretDir, spec.KBSAdminPublicKey)}},
			}},
			Authorization: &kbsconfig.AdminAuthorization{RegexACL: &kbsconfig.RegexACL{
				ACLs: []kbsconfig.ACLRule{{Role: adminRole, AllowedEndpoints: "^/kbs/v0/.+$"}},
			}},
		}
	}
	return c
}

// verifierConfig names the collateral services the TEEs of the pattern's
// workloads need: AMD's KDS for SNP VCEK certificates, Intel's PCS for TDX
// collateral. Both are the verifiers' own defaults, written out so that a
// reviewer sees where the KBS goes; nil when no bare-metal group needs
// them (Azure vTPM evidence carries its certificates).
func verifierConfig(p *spec.Pattern) *kbsconfig.VerifierConfig {
	var v kbsconfig.VerifierConfig
	tees := workloadTEEs(p)
	if tees[release.TEESNP] != nil {
		v.SNPVerifier = &kbsconfig.SNPVerifier{VCEKSources: []kbsconfig.VCEKSource{{Type: "KDS"}}}
	}
	if tees[release.TEETDX] != nil {
		v.DCAPVerifier = &kbsconfig.DCAPVerifier{CollateralService: intelPCS}
	}
	if v.SNPVerifier == nil && v.DCAPVerifier == nil {
		return nil
	}
	return &v
}

// intelPCS is the default collateral service of trustee's DCAP verifier
// (deps/verifier/src/intel_dcap/mod.rs).
const intelPCS = "https://api.trustedservices.intel.com/sgx/certification/v4/"

// kbsImage is the line's KBS image as the mirror takes it.
func kbsImage(line *release.Line) kbsconfig.Image {
	i := line.Trustee.KBSImage
	return kbsconfig.Image{Name: i.Name, AttestationServices: i.AttestationServices, Plugins: i.Plugins, ResourceBackends: i.ResourceBackends}
}
