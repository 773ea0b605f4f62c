// Package trustee generates the Trustee Key Broker Service (KBS) of the hub
// group for the Trustee operator: the KbsConfig custom resource and the
// ConfigMaps it names (the KBS configuration, the resource and attestation
// policies and the reference values), plus an ExternalSecret for every
// secret the pattern says to fetch from a secret store.
//
// The reference values include, for every init-data profile, the digests of
// the exact document the init-data generator renders (computed here with
// internal/profiles.Build, the same function), so the KBS accepts precisely the
// init-data the pattern ships. Secret values never appear in the output:
// Secrets are referenced by name.
//
// Everything syncs in wave waves.Trustee.
package trustee

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/objects"
	"github.com/cocogen/cocogen/internal/profiles"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
	"github.com/cocogen/cocogen/pkg/waves"
)

// Names of the ConfigMaps the KbsConfig refers to, and their keys.
const (
	KBSConfigMap          = "kbs-config"
	KBSConfigKey          = "kbs-config.toml"
	ResourcePolicyMap     = "resource-policy"
	ResourcePolicyKey     = "policy.rego"
	AttestationPolicyMap  = "attestation-policy"
	AttestationPolicyKey  = "default_cpu.rego"
	ReferenceValuesMap    = "rvps-reference-values"
	ReferenceValuesKey    = "reference-values.json"
	kbsConfigAPIVersion   = "confidentialcontainers.org/v1alpha1"
	externalSecretVersion = "external-secrets.io/v1"
)

// ReferenceValuesExpiry is when the reference values cocogen writes expire.
// RVPS requires an expiry; cocogen's values are replaced with every render,
// so they are given one far enough away never to matter.
const ReferenceValuesExpiry = "2100-01-01T00:00:00Z"

var (
	//go:embed rego/resource.rego
	resourcePolicy string
	//go:embed rego/attestation.rego
	attestationPolicy string
)

// ResourcePolicy is the KBS resource policy cocogen emits.
func ResourcePolicy() string { return resourcePolicy }

// AttestationPolicy is the attestation (EAR appraisal) policy cocogen emits.
func AttestationPolicy() string { return attestationPolicy }

// Name is the generator's name.
const Name = "trustee"

// Generator is the Trustee generator.
type Generator struct{}

// New returns the Trustee generator.
func New() *Generator { return &Generator{} }

// Name implements render.Generator.
func (*Generator) Name() string { return Name }

// Generate implements render.Generator.
func (*Generator) Generate(_ context.Context, in *render.Input, out *manifest.Set) error {
	p := in.Pattern
	hub := p.HubGroup()
	if hub == nil {
		return nil // Trustee runs outside the pattern, at spec.trustee.url
	}
	t := &p.Spec.Trustee
	b := &builder{p: p, hub: hub}
	rv, err := ReferenceValues(p)
	if err != nil {
		return err
	}
	warnUnmeasuredBoot(in, p)
	out.Add(
		b.configMap(KBSConfigMap, KBSConfigKey, KBSConfig(p), "spec.trustee"),
		b.configMap(ResourcePolicyMap, ResourcePolicyKey, resourcePolicy, "spec.trustee"),
		b.configMap(AttestationPolicyMap, AttestationPolicyKey, attestationPolicy, "spec.trustee"),
		b.configMap(ReferenceValuesMap, ReferenceValuesKey, rv, "spec.trustee.referenceValues"),
		b.kbsConfig(),
	)
	for _, s := range secretsOf(t) {
		if s.RemoteKey != "" {
			out.Add(b.externalSecret(s.TrusteeSecret, s.Name == t.TLSSecret.Name, s.path))
		}
	}
	return nil
}

// secretField is a Secret the KBS uses, with its field path.
type secretField struct {
	spec.TrusteeSecret
	path string
}

// secretsOf lists every Secret of the Trustee configuration.
func secretsOf(t *spec.Trustee) []secretField {
	out := []secretField{
		{t.TLSSecret, "spec.trustee.tlsSecret"},
		{t.AdminSecret, "spec.trustee.adminSecret"},
		{t.TokenSigner.KeySecret, "spec.trustee.tokenSigner.keySecret"},
		{t.TokenSigner.CertSecret, "spec.trustee.tokenSigner.certSecret"},
	}
	for i, r := range t.Resources {
		out = append(out, secretField{r, fmt.Sprintf("spec.trustee.resources[%d]", i)})
	}
	return out
}

type builder struct {
	p   *spec.Pattern
	hub *spec.ClusterGroup
}

// meta is the metadata of every Trustee object; custom marks the Trustee
// and External Secrets kinds, whose CRDs arrive with their operators in an
// earlier wave of the same sync.
func (b *builder) meta(name string, custom bool) map[string]any {
	return objects.Meta{Name: name, Namespace: b.p.Spec.Trustee.Namespace, Group: b.hub.Name, Wave: waves.Trustee, CustomResource: custom}.Build(b.p)
}

func (b *builder) configMap(name, key, value, field string) manifest.Object {
	return objects.New(b.hub.Dir(), "v1", "ConfigMap", b.meta(name, false), map[string]any{"data": map[string]any{key: value}}, manifest.Origin{Spec: field})
}

// kbsConfig is the Trustee operator's KbsConfig: an all-in-one KBS (with the
// built-in attestation service and RVPS) serving HTTPS.
func (b *builder) kbsConfig() manifest.Object {
	t := &b.p.Spec.Trustee
	s := map[string]any{
		"kbsDeploymentType":                 "AllInOneDeployment",
		"kbsConfigMapName":                  KBSConfigMap,
		"kbsAuthSecretName":                 t.AdminSecret.Name,
		"kbsAttestationKeySecretName":       t.TokenSigner.KeySecret.Name,
		"kbsAttestationCertSecretName":      t.TokenSigner.CertSecret.Name,
		"kbsHttpsCertSecretName":            t.TLSSecret.Name,
		"kbsHttpsKeySecretName":             t.TLSSecret.Name,
		"kbsResourcePolicyConfigMapName":    ResourcePolicyMap,
		"kbsAttestationPolicyConfigMapName": AttestationPolicyMap,
		"kbsRvpsRefValuesConfigMapName":     ReferenceValuesMap,
		"kbsServiceType":                    t.ServiceType,
	}
	if len(t.Resources) > 0 {
		var names []any
		for _, r := range t.Resources {
			names = append(names, r.Name)
		}
		s["kbsSecretResources"] = names
	}
	return objects.New(b.hub.Dir(), kbsConfigAPIVersion, "KbsConfig", b.meta(t.KbsConfigName, true), map[string]any{"spec": s}, manifest.Origin{Spec: "spec.trustee"})
}

// externalSecret has External Secrets create the Secret from the store:
// every property of the remote key becomes a key of the Secret.
func (b *builder) externalSecret(s spec.TrusteeSecret, tls bool, field string) manifest.Object {
	t := &b.p.Spec.Trustee
	target := map[string]any{"name": s.Name, "creationPolicy": "Owner"}
	if tls {
		target["template"] = map[string]any{"type": "kubernetes.io/tls"}
	}
	return objects.New(b.hub.Dir(), externalSecretVersion, "ExternalSecret", b.meta(s.Name, true), map[string]any{
		"spec": map[string]any{
			"refreshInterval": "1h",
			"secretStoreRef":  map[string]any{"name": t.SecretStore.Name, "kind": t.SecretStore.Kind},
			"target":          target,
			"dataFrom":        []any{map[string]any{"extract": map[string]any{"key": s.RemoteKey}}},
		},
	}, manifest.Origin{Spec: field})
}

// Paths inside the KBS container where the Trustee operator mounts what
// the KbsConfig names.
const (
	httpsKeyPath     = "/etc/https-key/tls.key"
	httpsCertPath    = "/etc/https-cert/tls.crt"
	authPublicKey    = "/etc/auth-secret/publicKey"
	tokenKeyPath     = "/etc/attestation-key/token.key"
	tokenCertPath    = "/etc/attestation-cert/token.crt"
	asWorkDir        = "/opt/confidential-containers/attestation-service"
	asPolicyDir      = "/opt/confidential-containers/attestation-service/policies"
	referenceValues  = "/opt/confidential-containers/rvps/reference-values/" + ReferenceValuesKey
	repositoryDir    = "/opt/confidential-containers/kbs/repository"
	resourcePolicyAt = "/opt/confidential-containers/opa/" + ResourcePolicyKey
)

// KBSConfig is the KBS configuration (kbs-config.toml): HTTPS only, the
// admin API authenticated by the admin public key, the built-in attestation
// service issuing EAR tokens appraised by the attestation policy against
// the RVPS reference values, and secrets served from the repository the
// operator fills with the KbsConfig's secret resources.
func KBSConfig(p *spec.Pattern) string {
	t := &p.Spec.Trustee
	var b strings.Builder
	fmt.Fprintf(&b, "# KBS configuration rendered by cocogen for pattern %q.\n", p.Metadata.Name)
	b.WriteString("[http_server]\n")
	b.WriteString("sockets = [\"0.0.0.0:8080\"]\n")
	b.WriteString("insecure_http = false\n")
	fmt.Fprintf(&b, "private_key = %q\n", httpsKeyPath)
	fmt.Fprintf(&b, "certificate = %q\n", httpsCertPath)
	b.WriteString("\n[admin]\n")
	b.WriteString("insecure_api = false\n")
	fmt.Fprintf(&b, "auth_public_key = %q\n", authPublicKey)
	b.WriteString("\n# Tokens are signed by the built-in attestation service with the key in\n")
	b.WriteString("# the token signer Secret; the KBS accepts only tokens whose header key\n")
	b.WriteString("# chains to its certificate, never a key a token brings along.\n")
	b.WriteString("[attestation_token]\n")
	fmt.Fprintf(&b, "trusted_certs_paths = [%q]\n", tokenCertPath)
	b.WriteString("attestation_token_type = \"CoCo\"\n")
	b.WriteString("\n[attestation_service]\n")
	b.WriteString("type = \"coco_as_builtin\"\n")
	fmt.Fprintf(&b, "work_dir = %q\n", asWorkDir)
	b.WriteString("policy_engine = \"opa\"\n")
	b.WriteString("\n[attestation_service.attestation_token_broker]\n")
	b.WriteString("type = \"Ear\"\n")
	fmt.Fprintf(&b, "policy_dir = %q\n", asPolicyDir)
	b.WriteString("\n[attestation_service.attestation_token_broker.signer]\n")
	fmt.Fprintf(&b, "key_path = %q\n", tokenKeyPath)
	fmt.Fprintf(&b, "cert_path = %q\n", tokenCertPath)
	b.WriteString("\n[attestation_service.attestation_token_config]\n")
	fmt.Fprintf(&b, "duration_min = %d\n", *t.TokenDurationMinutes)
	b.WriteString("\n[attestation_service.rvps_config]\n")
	b.WriteString("type = \"BuiltIn\"\n")
	b.WriteString("\n[attestation_service.rvps_config.storage]\n")
	b.WriteString("type = \"LocalJson\"\n")
	fmt.Fprintf(&b, "file_path = %q\n", referenceValues)
	b.WriteString("\n[[plugins]]\n")
	b.WriteString("name = \"resource\"\n")
	b.WriteString("type = \"LocalFs\"\n")
	fmt.Fprintf(&b, "dir_path = %q\n", repositoryDir)
	b.WriteString("\n[policy_engine]\n")
	fmt.Fprintf(&b, "policy_path = %q\n", resourcePolicyAt)
	return b.String()
}

// ReferenceValue is one RVPS reference value (the LocalJson storage format).
type ReferenceValue struct {
	Version   string      `json:"version"`
	Name      string      `json:"name"`
	Expired   string      `json:"expired"`
	HashValue []HashValue `json:"hash-value"`
}

// HashValue is one accepted value of a reference value.
type HashValue struct {
	Alg   string `json:"alg"`
	Value string `json:"value"`
}

// ReferenceValues renders reference-values.json: the pattern's own
// reference values and the values the init-data documents yield in each
// TEE. init_data lists every profile's digest; the TEE-specific values list
// only the profiles of the workload groups running in that TEE, so a
// document is accepted only where the pattern ships it:
//
//	init_data               the digest (profile algorithm), hex
//	init_data_pcr08         Azure vTPM PCR8, hex           (Azure groups)
//	init_data_host_data     SNP HOSTDATA, hex and base64   (bare-metal SNP)
//	init_data_mr_config_id  TDX MRCONFIGID, hex            (bare-metal TDX)
func ReferenceValues(p *spec.Pattern) (string, error) {
	values := map[string][]HashValue{}
	tees := workloadTEEs(p)
	for _, ref := range p.InitDataProfiles() {
		prof := ref.Profile
		r, err := profiles.Build(p, ref)
		if err != nil {
			return "", err
		}
		add := func(name, alg string, v string) {
			values[name] = append(values[name], HashValue{Alg: alg, Value: v})
		}
		add("init_data", r.Algorithm, hex.EncodeToString(r.Digest))
		if tees[spec.PlatformAzure][prof.Name] {
			add("init_data_pcr08", "sha256", hex.EncodeToString(r.PCR8))
		}
		if tees[spec.TEESNP][prof.Name] {
			hd := r.HostData()
			add("init_data_host_data", r.Algorithm, hex.EncodeToString(hd[:]))
			add("init_data_host_data", r.Algorithm, base64.StdEncoding.EncodeToString(hd[:]))
		}
		if tees[spec.TEETDX][prof.Name] {
			mr := r.MRConfigID()
			add("init_data_mr_config_id", r.Algorithm, hex.EncodeToString(mr[:]))
		}
	}
	for name, vals := range p.Spec.Trustee.ReferenceValues {
		for _, v := range vals {
			// RVPS requires an algorithm; for measurements given by the
			// pattern it is informational.
			values[name] = append(values[name], HashValue{Alg: "sha256", Value: v})
		}
	}
	list := make([]ReferenceValue, 0, len(values))
	for _, n := range slices.Sorted(maps.Keys(values)) {
		list = append(list, ReferenceValue{Version: "0.1.0", Name: n, Expired: ReferenceValuesExpiry, HashValue: values[n]})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(list); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// workloadTEEs maps each TEE confidential pods of the pattern run in (azure
// for Azure peer pods behind a vTPM, snp and tdx for bare metal) to the
// init-data profiles its groups use.
func workloadTEEs(p *spec.Pattern) map[string]map[string]bool {
	tees := map[string]map[string]bool{}
	for i := range p.Spec.ClusterGroups {
		g := &p.Spec.ClusterGroups[i]
		if !g.HasRole(spec.RoleWorkloads) {
			continue
		}
		var tee string
		switch g.Platform.Type {
		case spec.PlatformAzure:
			tee = spec.PlatformAzure
		case spec.PlatformBareMetal:
			tee = g.Platform.BareMetal.TEE
		default:
			continue
		}
		if tees[tee] == nil {
			tees[tee] = map[string]bool{}
		}
		for _, prof := range p.GroupInitDataProfiles(g) {
			tees[tee][prof.Name] = true
		}
	}
	return tees
}

// bootReferences are the reference values the attestation policy needs to
// affirm the boot chain ("executables") on each TEE.
var bootReferences = map[string]string{
	spec.PlatformAzure: "azure_pcr11",
	spec.TEESNP:        "snp_launch_measurement",
	spec.TEETDX:        "tdx_mr_td",
}

func warnUnmeasuredBoot(in *render.Input, p *spec.Pattern) {
	tees := workloadTEEs(p)
	for _, tee := range []string{spec.PlatformAzure, spec.TEESNP, spec.TEETDX} {
		name := bootReferences[tee]
		if tees[tee] != nil && len(p.Spec.Trustee.ReferenceValues[name]) == 0 {
			in.Warn("spec.trustee.referenceValues", "no %s: the KBS cannot affirm the boot chain of %s pods and will release no secrets to them until it is set", name, tee)
		}
	}
}

var _ render.Generator = (*Generator)(nil)
