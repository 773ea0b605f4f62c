package spec

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"regexp"
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
	// TLSSecret holds tls.crt and tls.key, the certificate and key the KBS
	// serves HTTPS with (a kubernetes.io/tls Secret); default name
	// "kbs-tls". Its tls.crt is what Certificate pins.
	TLSSecret TrusteeSecret `json:"tlsSecret"`
	// AdminSecret holds publicKey, the Ed25519 public key (PEM) whose
	// private half signs requests to the KBS admin API; default name
	// "kbs-auth-public-key".
	AdminSecret TrusteeSecret `json:"adminSecret"`
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
	Resources []TrusteeSecret `json:"resources,omitempty"`
	// ReferenceValues are trusted measurements the attestation policy
	// compares evidence with (name -> accepted values), e.g. azure_pcr11
	// for the pod VM image. The init-data reference values are computed by
	// cocogen and must not be listed here (see TrusteeReferenceValueNames).
	ReferenceValues map[string][]string `json:"referenceValues,omitempty"`
}

// TokenSigner names the Secrets with the attestation token signing key and
// its certificate.
type TokenSigner struct {
	KeySecret  TrusteeSecret `json:"keySecret"`
	CertSecret TrusteeSecret `json:"certSecret"`
}

// TrusteeSecret names a Secret in the Trustee namespace.
type TrusteeSecret struct {
	// Name of the Secret.
	Name string `json:"name,omitempty"`
	// RemoteKey, when set, is the key in spec.trustee.secretStore that an
	// ExternalSecret copies into the Secret (all its properties become the
	// Secret's keys). Without it the Secret must already exist.
	RemoteKey string `json:"remoteKey,omitempty"`
}

// SecretStoreRef names an External Secrets store.
type SecretStoreRef struct {
	// Name of the store; required when a secret has a RemoteKey.
	Name string `json:"name,omitempty"`
	// Kind is ClusterSecretStore (default) or SecretStore (in the Trustee
	// namespace).
	Kind string `json:"kind,omitempty"`
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
)

// TrusteeReferenceValueNames are the reference values cocogen computes from
// the init-data profiles at render time (see generators/trustee).
var TrusteeReferenceValueNames = []string{"init_data", "init_data_pcr08", "init_data_mr_config_id", "init_data_host_data"}

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
}

var (
	serviceTypes       = map[string]bool{"ClusterIP": true, "NodePort": true, "LoadBalancer": true}
	secretStoreKinds   = map[string]bool{"ClusterSecretStore": true, "SecretStore": true}
	referenceValueName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
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
	check := func(path string, s *TrusteeSecret) {
		v.dnsSubdomain(path+".name", s.Name)
		if s.RemoteKey != "" {
			usesStore = true
		}
		if prev, dup := seen[s.Name]; dup && s.Name != "" {
			v.add(path+".name", "Secret %q is also %s: the TLS key, the admin key and each resource need Secrets of their own", s.Name, prev)
			return
		}
		seen[s.Name] = path
	}
	check("spec.trustee.tlsSecret", &t.TLSSecret)
	check("spec.trustee.adminSecret", &t.AdminSecret)
	check("spec.trustee.tokenSigner.keySecret", &t.TokenSigner.KeySecret)
	check("spec.trustee.tokenSigner.certSecret", &t.TokenSigner.CertSecret)
	for i := range t.Resources {
		check(fmt.Sprintf("spec.trustee.resources[%d]", i), &t.Resources[i])
	}
	if usesStore {
		if t.SecretStore.Name == "" {
			v.add("spec.trustee.secretStore.name", "required: a secret has a remoteKey, which External Secrets reads from this store")
		} else {
			v.dnsSubdomain("spec.trustee.secretStore.name", t.SecretStore.Name)
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
		case !referenceValueName.MatchString(name):
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
		for _, prof := range p.GroupInitDataProfiles(g) {
			if prof.KBS.URL == "" && p.Spec.Trustee.URL == "" {
				v.add("spec.trustee.url", "cluster group %q runs workloads on spoke clusters, which reach the hub's KBS only from outside the hub: set spec.trustee.url to the KBS route (or spec.initData.profiles[%s].kbs.url)",
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
