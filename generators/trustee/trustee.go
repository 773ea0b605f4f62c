// Package trustee generates the Trustee Key Broker Service (KBS) of the hub
// group for the Trustee operator of the pattern's release line: the
// KbsConfig custom resource and the ConfigMaps it names (the KBS
// configuration, the attestation and resource policies and the reference
// value store), the Route pods reach it by, and an ExternalSecret for every
// Secret the pattern fetches from a secret store.
//
// Every format follows the line's Trustee (package release): the KBS
// configuration is built from a strict mirror of the KBS's own types
// (internal/kbsconfig) and checked against it before it is emitted; the
// reference values hold, for every trusted init-data profile, its digest in
// the form each TEE reports it, computed with internal/profiles.Build from
// the same bytes the init-data generator renders. Secret values never
// appear: Secrets are referenced by name.
//
// Everything syncs in wave waves.Trustee.
package trustee

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/cocogen/cocogen/internal/kbsconfig"
	"github.com/cocogen/cocogen/internal/objects"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/release"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
	"github.com/cocogen/cocogen/pkg/waves"
)

// Names of the ConfigMaps the KbsConfig refers to; their keys and mount
// paths are the release line's (release.Trustee).
const (
	KBSConfigMap          = "kbs-config"
	ResourcePolicyMap     = "resource-policy"
	AttestationPolicyMap  = "attestation-policy"
	ReferenceValuesMap    = "rvps-reference-values"
	kbsConfigAPIVersion   = "confidentialcontainers.org/v1alpha1"
	externalSecretVersion = "external-secrets.io/v1"
	routeAPIVersion       = "route.openshift.io/v1"
	// kbsService and kbsPort are the Service the operator creates for a
	// KbsConfig (trustee-operator internal/controller/kbsconfig_controller.go
	// newKbsService: kbs-service, port kbs-port 8080).
	kbsService = "kbs-service"
	kbsPort    = "kbs-port"
)

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
	line := release.MustGet(p.Spec.Release)
	t, lt := &p.Spec.Trustee, &line.Trustee
	b := &builder{p: p, hub: hub}
	trusted, err := trustedProfiles(p, in.Repo, in.MaxFileBytes)
	if err != nil {
		return err
	}
	cfg, err := renderKBSConfig(p, line)
	if err != nil {
		return err
	}
	rv, err := referenceValues(p, line, trusted)
	if err != nil {
		return err
	}
	rp, err := ResourcePolicy(p, trusted)
	if err != nil {
		return err
	}
	warnUnaffirmable(in, p)
	warnTrustDebug(in, p)
	warnIndistinguishable(in, p, trusted)
	out.Add(
		b.configMap(KBSConfigMap, lt.KBSConfigKey, cfg, "spec.trustee"),
		b.configMap(ResourcePolicyMap, lt.ResourcePolicyKey, rp, "spec.trustee.resources"),
		b.configMap(AttestationPolicyMap, lt.AttestationPolicyKey, attestationPolicy, "spec.trustee"),
		b.configMap(ReferenceValuesMap, lt.ReferenceValuesKey, rv, "spec.trustee.referenceValues"),
		b.kbsConfig(),
	)
	if route, ok := b.route(); ok {
		out.Add(route)
	}
	out.Add(b.secretStore()...)
	var generated []string
	for _, s := range secretsOf(t) {
		switch s.SourceOf() {
		case spec.SourceExternal:
			out.Add(b.externalSecret(s.TrusteeSecret, s.Name == t.TLSSecret.Name, s.path))
		case spec.SourceGenerate:
			generated = append(generated, s.Name)
		}
	}
	if len(generated) > 0 {
		in.Note("spec.trustee", "the KBS needs Secrets %s in namespace %s before it starts: make them once with `cocogen secrets init -f <pattern> -o <dir outside the repository>` and apply them to the hub", strings.Join(generated, ", "), t.Namespace)
	}
	return nil
}

// renderKBSConfig renders kbs-config.toml and holds it to the line's KBS:
// a configuration the mirror refuses, or that would not start, is a bug in
// cocogen, never shipped.
func renderKBSConfig(p *spec.Pattern, line *release.Line) (string, error) {
	data, err := kbsconfig.Marshal(KBSConfig(p, line), []string{
		fmt.Sprintf("KBS configuration rendered by cocogen for pattern %q, release line %s", p.Metadata.Name, line.Name),
		fmt.Sprintf("(KBS from %s). HTTPS only; admin API %s; tokens trusted only when", line.Trustee.KBSSource, map[bool]string{true: "open to the admin key", false: "off"}[p.Spec.Trustee.AdminAPI]),
		"signed by the token signer's certificate; policies and reference values are",
		"the files the Trustee operator mounts from this pattern's ConfigMaps.",
	})
	if err != nil {
		return "", fmt.Errorf("encoding kbs-config.toml: %w", err)
	}
	cfg, ignored, err := kbsconfig.Decode(data, kbsImage(line))
	if err == nil && len(ignored) > 0 {
		err = fmt.Errorf("keys the KBS ignores: %v", ignored)
	}
	if err == nil {
		if ps := kbsconfig.Check(cfg); len(ps) > 0 {
			err = ps
		}
	}
	if err != nil {
		return "", fmt.Errorf("kbs-config.toml would not work with the KBS of %s:\n%w", line.Name, err)
	}
	return string(data), nil
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
		out = append(out, secretField{r.Secret(), fmt.Sprintf("spec.trustee.resources[%d]", i)})
	}
	return out
}

type builder struct {
	p   *spec.Pattern
	hub *spec.ClusterGroup
}

// meta is the metadata of every Trustee object; custom marks the Trustee,
// Route and External Secrets kinds, whose CRDs arrive with their operators
// in an earlier wave of the same sync.
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

// route exposes the KBS outside the hub through the OpenShift router,
// passing TLS through to the KBS (which serves the certificate init-data
// pins). It is emitted for a ClusterIP service reached on port 443: the
// host is the default one in spec.trustee.ingressDomain, or the host of
// spec.trustee.url (a custom host: the Argo CD controller then needs
// permission for routes/custom-host).
func (b *builder) route() (manifest.Object, bool) {
	t := &b.p.Spec.Trustee
	if t.ServiceType != "ClusterIP" {
		return manifest.Object{}, false
	}
	var host string
	if t.URL != "" {
		u, err := url.Parse(t.URL)
		if err != nil || (u.Port() != "" && u.Port() != "443") {
			return manifest.Object{}, false // reached some other way
		}
		if h := u.Hostname(); h != b.p.KBSRouteHost() {
			host = h
		}
		if net.ParseIP(host) != nil {
			return manifest.Object{}, false
		}
	}
	rs := map[string]any{
		"to":   map[string]any{"kind": "Service", "name": kbsService, "weight": int64(100)},
		"port": map[string]any{"targetPort": kbsPort},
		"tls":  map[string]any{"termination": "passthrough", "insecureEdgeTerminationPolicy": "None"},
	}
	if host != "" {
		rs["host"] = host
	}
	return objects.New(b.hub.Dir(), routeAPIVersion, "Route", b.meta(spec.KBSRouteName, true), map[string]any{"spec": rs}, manifest.Origin{Spec: "spec.trustee"}), true
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

var _ render.Generator = (*Generator)(nil)
