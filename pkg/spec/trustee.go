package spec

import (
	"crypto/x509"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/cocogen/cocogen/internal/lazy"

	"encoding/pem"
	"fmt"
	"net/url"
	"strings"
)

// Trustee configures the Key Broker Service (KBS) that attests confidential
// pods and releases secrets to them. It runs on the group with role hub, or
// outside the pattern when URL is set and no group is a hub.
//
// Secret values are never part of the pattern: every secret is referenced
// by the name of a Secret in Namespace, which either exists already or is
// created by External Secrets from SecretStore (RemoteKey).
type Trustee struct {
	// Namespace the Trustee operator's KbsConfig and its ConfigMaps live in.
	Namespace string `json:"namespace,omitempty"`
	// URL is how confidential pods reach the KBS (e.g. the hub's route,
	// https://kbs-trustee-operator-system.apps.hub.example.com). Init-data
	// profiles default their KBS URL to it. Required when workloads run on
	// spoke clusters.
	URL string `json:"url,omitempty"`
	// Certificate is the PEM certificate (public) the KBS serves HTTPS with,
	// pinned in init-data so pods trust only this KBS.
	Certificate string `json:"certificate,omitempty"`

	// KbsConfigName names the KbsConfig; default "kbsconfig".
	KbsConfigName string `json:"kbsConfigName,omitempty"`
	// ServiceType of the kbs-service: ClusterIP (default, expose it with a
	// route), NodePort or LoadBalancer.
	ServiceType string `json:"serviceType,omitempty"`
	// IngressDomain is the hub cluster's ingress domain (e.g.
	// apps.hub.example.com). On release lines whose Trustee operator
	// creates the KBS Route itself, the default URL is that Route's host
	// in this domain.
	IngressDomain string `json:"ingressDomain,omitempty"`
	// TLSSecret holds tls.crt and tls.key, the certificate and key the KBS
	// serves HTTPS with (a kubernetes.io/tls Secret); default name
	// "kbs-tls". Its tls.crt is what Certificate pins.
	TLSSecret TrusteeSecret `json:"tlsSecret"`
	// AdminSecret holds publicKey, the Ed25519 public key (PEM) of the
	// KBS admin; default name "kbs-auth-public-key". The Trustee operator
	// needs it; the KBS uses it only with AdminAPI.
	AdminSecret TrusteeSecret `json:"adminSecret"`
	// AdminAPI turns on the KBS admin API for requests signed by the
	// admin key. Off by default: everything the KBS serves is in git
	// (policies, reference values) or in Secrets (resources).
	AdminAPI bool `json:"adminAPI,omitempty"`
	// TokenSigner holds the key (token.key, EC P-256 PEM) and certificate
	// (token.crt) the attestation service signs tokens with. The KBS trusts
	// only tokens chaining to that certificate; without it any token
	// carrying its own key in its header would verify. Default names
	// "kbs-attestation-key" and "kbs-attestation-cert".
	TokenSigner TokenSigner `json:"tokenSigner"`
	// TokenDurationMinutes is how long an attestation token is valid;
	// default 5.
	TokenDurationMinutes *int `json:"tokenDurationMinutes,omitempty"`
	// SecretStore is where secrets with a RemoteKey are read from.
	SecretStore SecretStoreRef `json:"secretStore"`
	// Resources are the Secrets the KBS releases to attested pods: key k of
	// Secret s is the resource kbs:///default/<s>/<k>.
	Resources []TrusteeResource `json:"resources,omitempty"`
	// ReferenceValues are trusted measurements the attestation policy
	// compares evidence with (name -> accepted values), e.g. snp_pcr11
	// for the Azure pod VM image. The init-data reference values are
	// computed by cocogen and must not be listed here (see
	// TrusteeReferenceValueNames).
	ReferenceValues map[string][]string `json:"referenceValues,omitempty"`
	// ReferenceValueExpiration is the expiration date (YYYY-MM-DD, UTC)
	// written on every reference value record; default
	// DefaultReferenceValueExpiration. It comes from the pattern, never
	// from the clock, so that output stays byte-identical.
	ReferenceValueExpiration string `json:"referenceValueExpiration,omitempty"`
	// TrustDebug lets the digests of init-data profiles with the debug
	// agent policy into the reference values, so that debug pods attest
	// and may receive secrets. It gives up confidentiality for those pods
	// and warns at every render.
	TrustDebug bool `json:"trustDebug,omitempty"`
}

// TrusteeResource is a Secret the KBS releases to attested pods.
type TrusteeResource struct {
	// Name of the Secret.
	Name string `json:"name,omitempty"`
	// RemoteKey or Source say where the Secret comes from (see
	// TrusteeSecret); a resource needs one.
	RemoteKey string `json:"remoteKey,omitempty"`
	Source    string `json:"source,omitempty"`
	// Profiles are the init-data profiles whose pods may fetch it; pods
	// with other init-data get nothing.
	Profiles []string `json:"profiles,omitempty"`
}

// ResourcesOf names the KBS resources the pods of an init-data profile
// may fetch.
func (p *Pattern) ResourcesOf(profile string) []string {
	var out []string
	for _, r := range p.Spec.Trustee.Resources {
		if slices.Contains(r.Profiles, profile) {
			out = append(out, r.Name)
		}
	}
	return out
}

// Secret is the resource's Secret and where it comes from.
func (r *TrusteeResource) Secret() TrusteeSecret {
	return TrusteeSecret{Name: r.Name, RemoteKey: r.RemoteKey, Source: r.Source}
}

// TokenSigner names the Secrets with the attestation token signing key and
// its certificate.
type TokenSigner struct {
	KeySecret  TrusteeSecret `json:"keySecret"`
	CertSecret TrusteeSecret `json:"certSecret"`
}

// TrusteeSecret names a Secret in the Trustee namespace and where it comes
// from: nothing cocogen names may be left for someone to guess.
type TrusteeSecret struct {
	// Name of the Secret.
	Name string `json:"name,omitempty"`
	// RemoteKey, when set, is the key in spec.trustee.secretStore that an
	// ExternalSecret copies into the Secret (all its properties become the
	// Secret's keys).
	RemoteKey string `json:"remoteKey,omitempty"`
	// Source, when RemoteKey is not set: SourceGenerate (`cocogen secrets
	// init` makes it; the default for the KBS's own keys) or
	// SourceExisting (you create it, e.g. with cert-manager).
	Source string `json:"source,omitempty"`
}

// Where a Trustee Secret comes from.
const (
	// SourceExternal: an ExternalSecret copies it from the secret store
	// (set by RemoteKey).
	SourceExternal = "external"
	// SourceGenerate: `cocogen secrets init` generates it locally, never
	// into git.
	SourceGenerate = "generate"
	// SourceExisting: created by you outside cocogen.
	SourceExisting = "existing"
)

// SourceOf is where the Secret comes from ("" for none).
func (s *TrusteeSecret) SourceOf() string {
	if s.RemoteKey != "" {
		return SourceExternal
	}
	return s.Source
}

// SecretStoreRef names an External Secrets store.
type SecretStoreRef struct {
	// Name of the store; required when a secret has a RemoteKey.
	Name string `json:"name,omitempty"`
	// Kind is ClusterSecretStore (default) or SecretStore (in the Trustee
	// namespace).
	Kind string `json:"kind,omitempty"`
	// Vault makes cocogen create the store: a HashiCorp Vault with
	// Kubernetes auth, as the validated pattern runs it.
	Vault *VaultStore `json:"vault,omitempty"`
	// Existing says the store exists already (made outside the pattern).
	// A store a secret uses must be created (Vault) or existing.
	Existing bool `json:"existing,omitempty"`
}

// VaultStore is a HashiCorp Vault KV store External Secrets reads.
type VaultStore struct {
	// Server is Vault's https URL, e.g. https://vault-vault.apps.hub.example.com.
	Server string `json:"server"`
	// Path is the KV mount; default "secret".
	Path string `json:"path,omitempty"`
	// Version is the KV version, v1 or v2 (default).
	Version string `json:"version,omitempty"`
	// Auth is Kubernetes auth: Vault checks a service account token.
	Auth VaultKubernetesAuth `json:"auth"`
	// CABundleConfigMap names a ConfigMap key holding the CA Vault's
	// certificate chains to, when not a public one.
	CABundleConfigMap *ConfigMapKeyRef `json:"caBundleConfigMap,omitempty"`
}

// VaultKubernetesAuth is Vault's Kubernetes auth method.
type VaultKubernetesAuth struct {
	// MountPath of the auth method; default "kubernetes".
	MountPath string `json:"mountPath,omitempty"`
	// Role is the Vault role the service account is bound to.
	Role string `json:"role"`
	// ServiceAccount whose token External Secrets presents; cocogen
	// creates it. Default: kbs-secret-reader in the Trustee namespace.
	ServiceAccount SecretRef `json:"serviceAccount,omitempty"`
}

// Trustee defaults.
const (
	DefaultTrusteeNamespace     = "trustee-operator-system"
	DefaultKbsConfigName        = "kbsconfig"
	DefaultKBSServiceType       = "ClusterIP"
	DefaultKBSTLSSecret         = "kbs-tls"
	DefaultKBSAdminSecret       = "kbs-auth-public-key"
	DefaultTokenKeySecret       = "kbs-attestation-key"
	DefaultTokenCertSecret      = "kbs-attestation-cert"
	DefaultTokenDurationMinutes = 5
	DefaultSecretStoreKind      = "ClusterSecretStore"
	DefaultVaultServiceAccount  = "kbs-secret-reader"
	// DefaultReferenceValueExpiration is far away on purpose: the store is
	// replaced by every sync of the pattern, which is what bounds a
	// value's life; expiry must never take a pattern's KBS down.
	DefaultReferenceValueExpiration = "2100-01-01"
)

// TrusteeReferenceValueNames are the reference values cocogen computes from
// the init-data profiles at render time (see generators/trustee), one per
// form a TEE reports the init-data digest in.
var TrusteeReferenceValueNames = []string{"init_data_pcr08", "init_data_mr_config_id", "init_data_host_data"}

func (t *Trustee) defaultTrustee() {
	setString(&t.Namespace, DefaultTrusteeNamespace)
	setString(&t.KbsConfigName, DefaultKbsConfigName)
	setString(&t.ServiceType, DefaultKBSServiceType)
	setString(&t.TLSSecret.Name, DefaultKBSTLSSecret)
	setString(&t.AdminSecret.Name, DefaultKBSAdminSecret)
	setString(&t.TokenSigner.KeySecret.Name, DefaultTokenKeySecret)
	setString(&t.TokenSigner.CertSecret.Name, DefaultTokenCertSecret)
	if t.TokenDurationMinutes == nil {
		t.TokenDurationMinutes = ptr(DefaultTokenDurationMinutes)
	}
	setString(&t.SecretStore.Kind, DefaultSecretStoreKind)
	if v := t.SecretStore.Vault; v != nil {
		setString(&v.Path, "secret")
		setString(&v.Version, "v2")
		setString(&v.Auth.MountPath, "kubernetes")
		setString(&v.Auth.ServiceAccount.Namespace, t.Namespace)
		setString(&v.Auth.ServiceAccount.Name, DefaultVaultServiceAccount)
	}
	setString(&t.ReferenceValueExpiration, DefaultReferenceValueExpiration)
	// The KBS's own keys can be generated; a resource's value cannot.
	for _, s := range []*TrusteeSecret{&t.TLSSecret, &t.AdminSecret, &t.TokenSigner.KeySecret, &t.TokenSigner.CertSecret} {
		if s.RemoteKey == "" {
			setString(&s.Source, SourceGenerate)
		}
	}
}

var (
	serviceTypes       = map[string]bool{"ClusterIP": true, "NodePort": true, "LoadBalancer": true}
	secretStoreKinds   = map[string]bool{"ClusterSecretStore": true, "SecretStore": true}
	referenceValueName = lazy.Regexp(`^[a-z][a-z0-9_]*$`)
)

func validateTrustee(p *Pattern, v *validator) {
	t := &p.Spec.Trustee
	v.dnsLabel("spec.trustee.namespace", t.Namespace)
	v.dnsSubdomain("spec.trustee.kbsConfigName", t.KbsConfigName)
	if !serviceTypes[t.ServiceType] {
		v.add("spec.trustee.serviceType", "want ClusterIP, NodePort or LoadBalancer, got %q", t.ServiceType)
	}
	if t.URL != "" {
		u, err := url.Parse(t.URL)
		if err != nil || u.Host == "" || u.Scheme != "https" || (u.Path != "" && u.Path != "/") {
			v.add("spec.trustee.url", "want the KBS base URL, https://host[:port], got %q (the KBS cocogen configures serves HTTPS only)", t.URL)
		}
	}
	if t.Certificate != "" {
		if msg := checkCertificatePEM(t.Certificate); msg != "" {
			v.add("spec.trustee.certificate", "%s", msg)
		}
	}
	if *t.TokenDurationMinutes < 1 {
		v.add("spec.trustee.tokenDurationMinutes", "must be at least 1, got %d", *t.TokenDurationMinutes)
	}
	if !secretStoreKinds[t.SecretStore.Kind] {
		v.add("spec.trustee.secretStore.kind", "want ClusterSecretStore or SecretStore, got %q", t.SecretStore.Kind)
	}
	usesStore := false
	seen := map[string]string{}
	check := func(path string, s TrusteeSecret, resource bool) {
		v.dnsSubdomain(path+".name", s.Name)
		switch {
		case s.RemoteKey != "" && s.Source != "":
			v.add(path+".source", "set remoteKey (External Secrets copies the Secret from the store) or source, not both")
		case s.RemoteKey != "":
			usesStore = true
		case s.Source == "" && resource:
			v.add(path, "Secret %q has no source: set remoteKey (External Secrets copies it from spec.trustee.secretStore) or source: %s (you create it)", s.Name, SourceExisting)
		case s.Source == SourceGenerate && resource:
			v.add(path+".source", "%q makes only the KBS's own keys (`cocogen secrets init`); a resource's value comes from remoteKey or source: %s", SourceGenerate, SourceExisting)
		case s.Source != SourceGenerate && s.Source != SourceExisting:
			v.add(path+".source", "want %s or %s, got %q", SourceGenerate, SourceExisting, s.Source)
		}
		if prev, dup := seen[s.Name]; dup && s.Name != "" {
			v.add(path+".name", "Secret %q is also %s: the TLS key, the admin key and each resource need Secrets of their own", s.Name, prev)
			return
		}
		seen[s.Name] = path
	}
	check("spec.trustee.tlsSecret", t.TLSSecret, false)
	check("spec.trustee.adminSecret", t.AdminSecret, false)
	check("spec.trustee.tokenSigner.keySecret", t.TokenSigner.KeySecret, false)
	check("spec.trustee.tokenSigner.certSecret", t.TokenSigner.CertSecret, false)
	for i := range t.Resources {
		r := &t.Resources[i]
		path := fmt.Sprintf("spec.trustee.resources[%d]", i)
		check(path, r.Secret(), true)
		if len(r.Profiles) == 0 {
			v.add(path+".profiles", "name the init-data profiles whose pods may fetch Secret %q (have: %s)", r.Name, strings.Join(p.Spec.InitData.profileNames(), ", "))
		}
		for j, name := range r.Profiles {
			if p.Spec.InitData.Profile(name) == nil {
				v.add(fmt.Sprintf("%s.profiles[%d]", path, j), "no init-data profile %q (have: %s)", name, strings.Join(p.Spec.InitData.profileNames(), ", "))
			}
		}
	}
	if _, err := time.Parse(time.DateOnly, t.ReferenceValueExpiration); err != nil {
		v.add("spec.trustee.referenceValueExpiration", "want a date YYYY-MM-DD, got %q", t.ReferenceValueExpiration)
	}
	if d := t.IngressDomain; d != "" {
		for _, msg := range validation.IsDNS1123Subdomain(d) {
			v.add("spec.trustee.ingressDomain", "%q: %s", d, msg)
		}
	}
	if usesStore {
		switch st := &t.SecretStore; {
		case st.Name == "":
			v.add("spec.trustee.secretStore.name", "required: a secret has a remoteKey, which External Secrets reads from this store")
		case st.Vault == nil && !st.Existing:
			v.dnsSubdomain("spec.trustee.secretStore.name", st.Name)
			v.add("spec.trustee.secretStore", "store %q is named but nothing makes it: describe it (vault) for cocogen to create it, or say existing: true", st.Name)
		default:
			v.dnsSubdomain("spec.trustee.secretStore.name", st.Name)
		}
	}
	if vs := t.SecretStore.Vault; vs != nil {
		const path = "spec.trustee.secretStore.vault"
		if t.SecretStore.Existing {
			v.add("spec.trustee.secretStore.existing", "a store cocogen creates (vault) does not exist already")
		}
		if t.SecretStore.Kind != DefaultSecretStoreKind {
			v.add("spec.trustee.secretStore.kind", "cocogen creates a Vault store as a %s, not %s", DefaultSecretStoreKind, t.SecretStore.Kind)
		}
		if u, err := url.Parse(vs.Server); err != nil || u.Scheme != "https" || u.Host == "" {
			v.add(path+".server", "want Vault's https URL, got %q", vs.Server)
		}
		if vs.Version != "v1" && vs.Version != "v2" {
			v.add(path+".version", "want v1 or v2, got %q", vs.Version)
		}
		if vs.Auth.Role == "" {
			v.add(path+".auth.role", "required: the Vault role External Secrets logs in as")
		}
		v.secretRef(path+".auth.serviceAccount", &vs.Auth.ServiceAccount)
		if r := vs.CABundleConfigMap; r != nil {
			v.configMapRef(path+".caBundleConfigMap", r)
		}
	}
	reserved := map[string]bool{}
	for _, n := range TrusteeReferenceValueNames {
		reserved[n] = true
	}
	for _, name := range sortedKeys(t.ReferenceValues) {
		path := joinPath("spec.trustee.referenceValues", name)
		switch {
		case reserved[name]:
			v.add(path, "%q is computed by cocogen from the init-data profiles", name)
		case !referenceValueName().MatchString(name):
			v.add(path, "want a lower-case identifier such as azure_pcr11")
		case len(t.ReferenceValues[name]) == 0:
			v.add(path, "list at least one accepted value")
		}
		for i, val := range t.ReferenceValues[name] {
			if strings.TrimSpace(val) == "" || strings.ContainsAny(val, "\"\\\n") {
				v.add(fmt.Sprintf("%s[%d]", path, i), "want a non-empty value without quotes, backslashes or newlines")
			}
		}
	}
	validateSpokeKBS(p, v)
}

// validateSpokeKBS makes sure every init-data profile that reaches a spoke
// names a KBS URL spokes can use: without spec.trustee.url (or the
// profile's own), init-data would point at the hub's in-cluster service,
// which no spoke can reach.
func validateSpokeKBS(p *Pattern, v *validator) {
	for i := range p.Spec.ClusterGroups {
		g := &p.Spec.ClusterGroups[i]
		if !p.IsSpoke(g) {
			continue
		}
		for j := range p.Spec.InitData.Profiles {
			// Every profile the group's pods use, workload profiles
			// included: their per-workload documents name the KBS too.
			prof := &p.Spec.InitData.Profiles[j]
			if !p.groupUsesProfile(g, prof.Name) {
				continue
			}
			if prof.KBS.URL == "" && p.Spec.Trustee.URL == "" && p.Spec.Trustee.IngressDomain == "" {
				v.add("spec.trustee.url", "cluster group %q runs workloads on spoke clusters, which reach the hub's KBS only from outside the hub: set spec.trustee.ingressDomain (the hub's apps domain, where cocogen's KBS Route is) or spec.trustee.url (or spec.initData.profiles[%s].kbs.url)",
					g.Name, prof.Name)
			}
		}
	}
}

func checkCertificatePEM(s string) string {
	rest := []byte(s)
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Sprintf("want PEM certificates only, found a %q block (never put a private key in the pattern)", block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Sprintf("certificate %d: %v", n+1, err)
		}
		n++
	}
	if n == 0 || strings.TrimSpace(string(rest)) != "" {
		return "want one or more PEM certificates (-----BEGIN CERTIFICATE-----)"
	}
	return ""
}
