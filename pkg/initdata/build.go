package initdata

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/cocogen/cocogen/pkg/spec"
	"github.com/cocogen/cocogen/policies"
)

// Pod annotations the kata runtime reads.
const (
	// AnnotationInitData carries base64(gzip(init-data)).
	AnnotationInitData = "io.katacontainers.config.hypervisor.cc_init_data"
	// AnnotationInitDataLegacy is the name kata used before the init-data
	// annotation moved under hypervisor (spec: annotations.legacyName).
	AnnotationInitDataLegacy = "io.katacontainers.config.runtime.cc_init_data"
	// AnnotationPolicy carries base64(policy.rego) for runtimes that take
	// the agent policy from its own annotation (annotations.legacyPolicy).
	AnnotationPolicy = "io.katacontainers.config.agent.policy"
)

// AnnotationKeys are every annotation through which init-data or an agent
// policy reaches a pod; a workload that already sets one conflicts with
// the profile.
var AnnotationKeys = []string{AnnotationInitData, AnnotationInitDataLegacy, AnnotationPolicy}

// CDHSocket is where the confidential data hub listens in the guest.
const CDHSocket = "unix:///run/confidential-containers/cdh.sock"

// Rendered is one init-data document and every encoding of it.
type Rendered struct {
	Profile   string
	Algorithm string // sha256|sha384|sha512
	// TOML is the exact document; everything below is computed over it.
	TOML []byte
	// Policy is the policy.rego text inside.
	Policy string
	// Annotation is base64(gzip(TOML)), standard encoding, deterministic
	// gzip (no name, no mtime, fixed level, fixed OS byte).
	Annotation string
	// Digest is <Algorithm>(TOML).
	Digest []byte
	// PCR8 is sha256(32 zero bytes || sha256(TOML)) (Azure vTPM).
	PCR8 []byte
	// Document is TOML parsed.
	Document *Document
	// Annotations are what Build's profile puts on a pod: the init-data
	// annotation under its current or legacy name and, with legacyPolicy,
	// the policy annotation.
	Annotations map[string]string
	// ConfigMapName and ConfigMapNamespace place the profile's ConfigMap
	// (set by Build).
	ConfigMapName      string
	ConfigMapNamespace string
}

// HostData is the SNP HOSTDATA: the digest truncated or zero-padded at the
// end to 32 bytes.
func (r *Rendered) HostData() [32]byte { return HostDataOf(r.Digest) }

// MRConfigID is the TDX MRCONFIGID: the digest truncated or zero-padded at
// the end to 48 bytes.
func (r *Rendered) MRConfigID() [48]byte { return MRConfigIDOf(r.Digest) }

// FromTOML parses a document and computes its encodings and digests. The
// result has no profile, pod annotations or ConfigMap placement.
func FromTOML(data []byte) (*Rendered, error) {
	doc, err := Parse(data)
	if err != nil {
		return nil, err
	}
	ann, err := Encode(data)
	if err != nil {
		return nil, err
	}
	digest, err := Digest(doc.Algorithm, data)
	if err != nil {
		return nil, err
	}
	return &Rendered{
		Algorithm:  doc.Algorithm,
		TOML:       append([]byte(nil), data...),
		Policy:     doc.Data[DataPolicy],
		Annotation: ann,
		Digest:     digest,
		PCR8:       PCR8(data),
		Document:   doc,
	}, nil
}

// ConfigMapName is the name of a profile's ConfigMap.
func ConfigMapName(profile string) string { return "initdata-" + profile }

// Build renders the named profile of a validated pattern. It is pure and
// deterministic: the same pattern gives the same bytes, so every generator
// (init-data, Trustee reference values, ACM copies) agrees on the digest.
// Input problems (no KBS URL, an annotation above MaxAnnotationSize) are
// *spec.FieldError values.
func Build(p *spec.Pattern, profile string) (*Rendered, error) {
	idx := -1
	for i := range p.Spec.InitData.Profiles {
		if p.Spec.InitData.Profiles[i].Name == profile {
			idx = i
			break
		}
	}
	if idx < 0 {
		return nil, &spec.FieldError{Path: "spec.initData.profiles", Msg: fmt.Sprintf("no init-data profile %q", profile)}
	}
	prof := &p.Spec.InitData.Profiles[idx]
	path := fmt.Sprintf("spec.initData.profiles[%d]", idx)
	kbs := p.InitDataKBS(prof)
	if kbs.URL == "" {
		return nil, &spec.FieldError{Path: path + ".kbs.url", Msg: fmt.Sprintf("profile %q has no KBS URL: set it or spec.trustee.url", profile)}
	}
	rego, err := policies.Render(PolicyOptions(prof))
	if err != nil {
		return nil, &spec.FieldError{Path: path + ".policy", Msg: err.Error()}
	}
	doc := &Document{
		Version:   Version,
		Algorithm: prof.Algorithm,
		Data: map[string]string{
			DataAA:     AAConfig(kbs),
			DataCDH:    CDHConfig(kbs, prof),
			DataPolicy: rego,
		},
	}
	for k, v := range prof.ExtraData {
		doc.Data[k] = v
	}
	data, err := doc.Marshal()
	if err != nil {
		return nil, &spec.FieldError{Path: path, Msg: err.Error()}
	}
	r, err := FromTOML(data)
	if err != nil {
		// Marshal output that Parse rejects is a bug, not bad input.
		return nil, fmt.Errorf("init-data profile %q: %w", profile, err)
	}
	if n := len(r.Annotation); n > MaxAnnotationSize {
		return nil, &spec.FieldError{Path: path, Msg: fmt.Sprintf("init-data annotation is %d bytes, above the Kubernetes limit of %d for all annotations of an object; shrink extraData or the policy", n, MaxAnnotationSize)}
	}
	r.Profile = profile
	key := AnnotationInitData
	if prof.Annotations.LegacyName {
		key = AnnotationInitDataLegacy
	}
	r.Annotations = map[string]string{key: r.Annotation}
	if prof.Annotations.LegacyPolicy {
		r.Annotations[AnnotationPolicy] = base64.StdEncoding.EncodeToString([]byte(r.Policy))
	}
	r.ConfigMapName = ConfigMapName(profile)
	r.ConfigMapNamespace = p.InitDataConfigMapNamespace(prof)
	return r, nil
}

// PolicyOptions maps a profile's policy settings onto package policies.
func PolicyOptions(prof *spec.InitDataProfile) policies.Options {
	return policies.Options{
		Profile:     policies.Profile(prof.Policy.Profile),
		AllowedExec: prof.Policy.AllowExec,
		AllowLogs:   prof.Policy.AllowLogs,
		AllowStdin:  prof.Policy.AllowStdin,
	}
}

// ConfigMapData is the data of the profile's ConfigMap: the annotation
// value (INITDATA), its digests in hex, and the readable document entries.
// SHA256 is there whatever the profile's algorithm: it is what `sha256sum`
// of the decoded annotation prints, and what Azure's PCR8 is built from.
func (r *Rendered) ConfigMapData() map[string]string {
	hd, mr := r.HostData(), r.MRConfigID()
	sha := sha256.Sum256(r.TOML)
	m := map[string]string{
		"INITDATA":       r.Annotation,
		"DIGEST":         hex.EncodeToString(r.Digest),
		"SHA256":         hex.EncodeToString(sha[:]),
		"ALGORITHM":      r.Algorithm,
		"PCR8_HASH":      hex.EncodeToString(r.PCR8),
		"SNP_HOSTDATA":   hex.EncodeToString(hd[:]),
		"TDX_MRCONFIGID": hex.EncodeToString(mr[:]),
		"version":        r.Document.Version,
		"algorithm":      r.Algorithm,
	}
	for k, v := range r.Document.Data {
		m[k] = v
	}
	return m
}

// AAConfig is the attestation agent's configuration (aa.toml): where to
// get attestation tokens from, trusting only the KBS certificate when one
// is set.
func AAConfig(kbs spec.InitDataKBS) string {
	var b strings.Builder
	b.WriteString("[token_configs]\n")
	b.WriteString("[token_configs.coco_as]\n")
	fmt.Fprintf(&b, "url = %s\n", basicString(kbs.URL))
	b.WriteString("\n[token_configs.kbs]\n")
	fmt.Fprintf(&b, "url = %s\n", basicString(kbs.URL))
	if kbs.Certificate != "" {
		fmt.Fprintf(&b, "cert = %s\n", pemString(kbs.Certificate))
	}
	return b.String()
}

// CDHConfig is the confidential data hub's configuration (cdh.toml): the
// KBS it fetches resources from (cc_kbc) and, in [image], where image
// pulls get their security policy, registry credentials and extra CAs.
// Only kbs:/// URIs and public certificates appear; validation refuses
// anything that looks like a secret.
func CDHConfig(kbs spec.InitDataKBS, prof *spec.InitDataProfile) string {
	var b strings.Builder
	fmt.Fprintf(&b, "socket = %s\n", basicString(CDHSocket))
	b.WriteString("credentials = []\n")
	b.WriteString("\n[kbc]\n")
	b.WriteString("name = \"cc_kbc\"\n")
	fmt.Fprintf(&b, "url = %s\n", basicString(kbs.URL))
	if kbs.Certificate != "" {
		fmt.Fprintf(&b, "kbs_cert = %s\n", pemString(kbs.Certificate))
	}
	if prof.ImageSecurityPolicyURI == "" && prof.RegistryCredentialsURI == "" && len(prof.ExtraCACertificates) == 0 {
		return b.String()
	}
	b.WriteString("\n[image]\n")
	if u := prof.ImageSecurityPolicyURI; u != "" {
		fmt.Fprintf(&b, "image_security_policy_uri = %s\n", basicString(u))
	}
	if u := prof.RegistryCredentialsURI; u != "" {
		fmt.Fprintf(&b, "authenticated_registry_credentials_uri = %s\n", basicString(u))
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
// which the enclosing init-data literal string (between triple single quotes) can hold. Text
// that is not PEM (validation refuses it) is kept as is.
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
	return multilineBasic(s)
}

// multilineBasic quotes s as a """...""" TOML string, escaping what must be.
func multilineBasic(s string) string { return quoteTOML(s, true) }
