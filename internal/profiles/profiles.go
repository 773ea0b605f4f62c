// Package profiles builds the init-data document of each init-data profile
// of a pattern: aa.toml, cdh.toml and the kata agent policy, in the exact
// bytes every generator digests. The init-data generator publishes the
// document and the Trustee generator trusts its digests; both call Build,
// which is pure, so they agree without sharing state.
package profiles

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/cocogen/cocogen/pkg/initdata"
	"github.com/cocogen/cocogen/pkg/spec"
	"github.com/cocogen/cocogen/policies"
)

// Profile is one profile's document with every encoding of it and where
// cocogen puts it.
type Profile struct {
	// Ref is the profile in the pattern.
	Ref spec.ProfileRef
	*initdata.Encoded
	// Annotations are what the profile puts on a pod: the init-data
	// annotation under its current or legacy name and, with legacyPolicy,
	// the policy annotation.
	Annotations map[string]string
	// ConfigMapName and ConfigMapNamespace place the profile's ConfigMap.
	ConfigMapName      string
	ConfigMapNamespace string
	// Workload is the workload (Kind/namespace/name) a workload
	// profile's document is bound to; empty for other profiles.
	Workload string
}

// Name is the profile's name.
func (p *Profile) Name() string { return p.Ref.Profile.Name }

// Build renders a validated pattern's profile. It is pure and
// deterministic: the same pattern gives the same bytes, so every generator
// (init-data, Trustee reference values) agrees on the digest. Input
// problems (no KBS URL, an annotation above initdata.MaxAnnotationSize) are
// *spec.FieldError values.
func Build(p *spec.Pattern, ref spec.ProfileRef) (*Profile, error) {
	if ref.Profile.Policy.Profile == spec.PolicyWorkload {
		return nil, fmt.Errorf("init-data profile %q binds workloads: build each with BuildWorkload", ref.Profile.Name)
	}
	return build(p, ref, PolicyOptions(ref.Profile))
}

func build(p *spec.Pattern, ref spec.ProfileRef, opts policies.Options) (*Profile, error) {
	prof, path := ref.Profile, ref.Path()
	kbs := p.InitDataKBS(prof)
	if kbs.URL == "" {
		return nil, &spec.FieldError{Path: path + ".kbs.url", Msg: fmt.Sprintf("profile %q has no KBS URL: set it or spec.trustee.url", prof.Name)}
	}
	rego, err := policies.Render(opts)
	if err != nil {
		return nil, &spec.FieldError{Path: path + ".policy", Msg: err.Error()}
	}
	// With the legacy policy annotation the init-data's policy pins it:
	// the shim sends it as a SetPolicyRequest, which only debug allows
	// otherwise (policies.PinSetPolicy).
	initRego := rego
	if prof.Annotations.LegacyPolicy && opts.Profile != policies.Debug {
		if initRego, err = policies.PinSetPolicy(rego); err != nil {
			return nil, fmt.Errorf("init-data profile %q: %w", prof.Name, err)
		}
	}
	doc := &initdata.Document{
		Version:   initdata.Version,
		Algorithm: prof.Algorithm,
		Data: map[string]string{
			initdata.DataAA:     AAConfig(kbs),
			initdata.DataCDH:    CDHConfig(kbs, prof),
			initdata.DataPolicy: initRego,
		},
	}
	for k, v := range prof.ExtraData {
		doc.Data[k] = v
	}
	data, err := doc.Marshal()
	if err != nil {
		return nil, &spec.FieldError{Path: path, Msg: err.Error()}
	}
	enc, err := initdata.FromTOML(data)
	if err != nil {
		// Marshal output that Parse rejects is a bug, not bad input.
		return nil, fmt.Errorf("init-data profile %q: %w", prof.Name, err)
	}
	if n := len(enc.Annotation); n > initdata.MaxAnnotationSize {
		return nil, &spec.FieldError{Path: path, Msg: fmt.Sprintf("init-data annotation is %d bytes, above the Kubernetes limit of %d for all annotations of an object; shrink extraData or the policy", n, initdata.MaxAnnotationSize)}
	}
	// The annotation the line's kata runtime reads.
	key := p.Line().InitData.Annotation
	if prof.Annotations.LegacyName {
		key = initdata.AnnotationInitDataLegacy
	}
	annotations := map[string]string{key: enc.Annotation}
	if prof.Annotations.LegacyPolicy {
		annotations[initdata.AnnotationPolicy] = base64.StdEncoding.EncodeToString([]byte(rego))
		if n := len(enc.Annotation) + len(annotations[initdata.AnnotationPolicy]); n > initdata.MaxAnnotationSize {
			return nil, &spec.FieldError{Path: path + ".annotations.legacyPolicy", Msg: fmt.Sprintf("the init-data and policy annotations are %d bytes together, above the Kubernetes limit of %d for all annotations of an object; drop legacyPolicy (the init-data carries the policy)", n, initdata.MaxAnnotationSize)}
		}
	}
	return &Profile{
		Ref:                ref,
		Encoded:            enc,
		Annotations:        annotations,
		ConfigMapName:      spec.InitDataConfigMapName(prof.Name),
		ConfigMapNamespace: p.InitDataConfigMapNamespace(prof),
	}, nil
}

// PolicyOptions maps a profile's policy settings onto package policies.
func PolicyOptions(prof *spec.InitDataProfile) policies.Options {
	profile := policies.Profile(prof.Policy.Profile)
	switch prof.Policy.Profile {
	case spec.PolicyStrictRenamed:
		profile = policies.ExecDeny
	case spec.PolicyWorkload:
		profile = policies.Workload
	}
	return policies.Options{
		Profile:     profile,
		AllowedExec: prof.Policy.AllowExec,
		AllowLogs:   prof.Policy.AllowLogs,
		AllowStdin:  prof.Policy.AllowStdin,
	}
}

// ConfigMapData is the data of the profile's ConfigMap: the annotation
// value (INITDATA), its digests in hex, and the readable document entries.
// SHA256 is there whatever the profile's algorithm: it is what `sha256sum`
// of the decoded annotation prints, and what Azure's PCR8 is built from.
func (p *Profile) ConfigMapData() map[string]string {
	hd, mr := p.HostData(), p.MRConfigID()
	sha := sha256.Sum256(p.TOML)
	m := map[string]string{
		initdata.ConfigMapKey: p.Annotation,
		"DIGEST":              hex.EncodeToString(p.Digest),
		"SHA256":              hex.EncodeToString(sha[:]),
		"ALGORITHM":           p.Algorithm,
		"PCR8_HASH":           hex.EncodeToString(p.PCR8),
		"SNP_HOSTDATA":        hex.EncodeToString(hd[:]),
		"TDX_MRCONFIGID":      hex.EncodeToString(mr[:]),
		"version":             p.Document.Version,
		"algorithm":           p.Algorithm,
	}
	for k, v := range p.Document.Data {
		m[k] = v
	}
	return m
}

// AAConfig is the attestation agent's configuration (aa.toml): the KBS it
// gets attestation tokens from, trusting only the KBS certificate when one
// is set. guest-components attestation-agent/src/config (v0.17.0 and
// v0.21.0): [token_configs.kbs] url, cert. No [token_configs.coco_as]: that
// is a standalone attestation service's RESTful API, not a KBS, and the
// confidential data hub asks only for the kbs token.
func AAConfig(kbs spec.InitDataKBS) string {
	var b strings.Builder
	b.WriteString("[token_configs]\n")
	b.WriteString("[token_configs.kbs]\n")
	fmt.Fprintf(&b, "url = %s\n", initdata.QuoteBasic(kbs.URL))
	if kbs.Certificate != "" {
		fmt.Fprintf(&b, "cert = %s\n", pemString(kbs.Certificate))
	}
	return b.String()
}

// CDHConfig is the confidential data hub's configuration (cdh.toml): the
// KBS it fetches resources from (cc_kbc) and, in [image], where image
// pulls get their security policy, registry credentials and extra CAs
// (guest-components confidential-data-hub/hub/src/config.rs and image-rs
// src/config.rs, same keys at v0.17.0 and v0.21.0).
// Only kbs:/// URIs and public certificates appear; validation refuses
// anything that looks like a secret.
func CDHConfig(kbs spec.InitDataKBS, prof *spec.InitDataProfile) string {
	var b strings.Builder
	fmt.Fprintf(&b, "socket = %s\n", initdata.QuoteBasic(initdata.CDHSocket))
	b.WriteString("credentials = []\n")
	b.WriteString("\n[kbc]\n")
	b.WriteString("name = \"cc_kbc\"\n")
	fmt.Fprintf(&b, "url = %s\n", initdata.QuoteBasic(kbs.URL))
	if kbs.Certificate != "" {
		fmt.Fprintf(&b, "kbs_cert = %s\n", pemString(kbs.Certificate))
	}
	if prof.ImageSecurityPolicyURI == "" && prof.RegistryCredentialsURI == "" && len(prof.ExtraCACertificates) == 0 {
		return b.String()
	}
	b.WriteString("\n[image]\n")
	if u := prof.ImageSecurityPolicyURI; u != "" {
		fmt.Fprintf(&b, "image_security_policy_uri = %s\n", initdata.QuoteBasic(u))
	}
	if u := prof.RegistryCredentialsURI; u != "" {
		fmt.Fprintf(&b, "authenticated_registry_credentials_uri = %s\n", initdata.QuoteBasic(u))
	}
	if certs := prof.ExtraCACertificates; len(certs) > 0 {
		quoted := make([]string, len(certs))
		for i, c := range certs {
			quoted[i] = pemString(c)
		}
		fmt.Fprintf(&b, "extra_root_certificates = [%s]\n", strings.Join(quoted, ", "))
	}
	return b.String()
}

// pemString re-encodes PEM blocks canonically (64-column base64, one
// trailing newline) and quotes them as a TOML multi-line basic string,
// which the enclosing init-data literal string can hold. Text that is not
// PEM (validation refuses it) is kept as is.
func pemString(text string) string {
	var out []byte
	rest := []byte(text)
	for {
		block, r := pem.Decode(rest)
		if block == nil {
			break
		}
		out = append(out, pem.EncodeToMemory(block)...)
		rest = r
	}
	s := string(out)
	if s == "" {
		s = strings.TrimSpace(text) + "\n"
	}
	return initdata.QuoteMultiline(s)
}
