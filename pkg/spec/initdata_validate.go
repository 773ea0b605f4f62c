package spec

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cocogen/cocogen/internal/lazy"
	"github.com/cocogen/cocogen/pkg/secretscan"

	"github.com/cocogen/cocogen/pkg/initdata"
	"github.com/cocogen/cocogen/pkg/release"
)

// ReservedInitDataNames are [data] entries and ConfigMap keys cocogen writes
// itself; extraData may not use them.
var ReservedInitDataNames = map[string]bool{
	"aa.toml": true, "cdh.toml": true, "policy.rego": true,
	"INITDATA": true, "DIGEST": true, "ALGORITHM": true, "PCR8_HASH": true,
	"SNP_HOSTDATA": true, "TDX_MRCONFIGID": true, "version": true, "algorithm": true,
}

// extraDataNameRE is what a ConfigMap key (and a readable TOML key) may be.
var extraDataNameRE = lazy.Regexp(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func validateInitData(p *Pattern, v *validator) {
	names := map[string]int{}
	for i := range p.Spec.InitData.Profiles {
		prof := &p.Spec.InitData.Profiles[i]
		path := fmt.Sprintf("spec.initData.profiles[%d]", i)
		v.dnsLabel(path+".name", prof.Name)
		if j, dup := names[prof.Name]; dup && prof.Name != "" {
			v.add(path+".name", "duplicate init-data profile %q (also spec.initData.profiles[%d])", prof.Name, j)
		}
		names[prof.Name] = i
		v.initDataProfile(p, prof, path)
	}
	for _, ref := range p.confidentialApps() {
		c := ref.App.Confidential
		switch want := ref.Group.ConfidentialRuntimeClass(p.Line()); {
		case want == "":
			v.add(ref.Path()+".confidential", "cluster group %q runs no confidential runtime: on %s, confidential pods need peer pods (kataConfig.peerPods)", ref.Group.Name, ref.Group.Platform.Type)
		case c.RuntimeClassName != want:
			v.add(ref.Path()+".confidential.runtimeClassName", "cluster group %q provides runtime class %q for confidential pods, not %q (the sandboxed containers operator of release line %s creates it)", ref.Group.Name, want, c.RuntimeClassName, p.Line().Name)
		}
		v.confidentialSource(p, ref)
	}
}

// confidentialSource requires what cocogen can render and annotate itself:
// one git path in the pattern's own repository.
func (v *validator) confidentialSource(p *Pattern, ref AppRef) {
	const why = "; cocogen renders confidential applications itself to add their init-data, and only git-path sources can be rendered (the Argo CD plugin will lift this)"
	a := ref.App
	switch {
	case a.Source == nil:
		v.add(ref.Path()+".sources", "a confidential application cannot have multiple sources"+why)
	case a.Source.Chart != "":
		v.add(ref.Path()+".source.chart", "a confidential application cannot be a Helm chart"+why)
	case a.Source.RepoURL != p.Spec.Source.RepoURL:
		v.add(ref.Path()+".source.repoURL", "a confidential application must live in the pattern's repository (%s)%s", p.Spec.Source.RepoURL, why)
	}
}

func (p *Pattern) confidentialApps() []AppRef {
	var out []AppRef
	for gi := range p.Spec.ClusterGroups {
		g := &p.Spec.ClusterGroups[gi]
		for ai := range g.Applications {
			if g.Applications[ai].Confidential != nil {
				out = append(out, AppRef{Group: g, App: &g.Applications[ai], GroupIndex: gi, AppIndex: ai})
			}
		}
	}
	return out
}

// initDataOnLine checks a profile against what the release line's guest
// and verifier accept.
func (v *validator) initDataOnLine(p *Pattern, line *release.Line, prof *InitDataProfile, path string) {
	for _, tee := range p.ProfileTEEs(prof.Name) {
		allowed := line.InitData.Algorithms[tee]
		if slices.Contains(initdata.Algorithms, prof.Algorithm) && !slices.Contains(allowed, prof.Algorithm) {
			v.add(path+".algorithm", "profile %q runs on %s, which allow only %s: %s", prof.Name, release.TEETitle(tee), strings.Join(allowed, ", "), line.InitData.Why[tee])
		}
	}
	if prof.Annotations.LegacyName {
		v.add(path+".annotations.legacyName", "the kata runtime of release line %s reads init-data only from %s", line.Name, line.InitData.Annotation)
	}
}

func (v *validator) initDataProfile(p *Pattern, prof *InitDataProfile, path string) {
	if !slices.Contains(initdata.Algorithms, prof.Algorithm) {
		v.add(path+".algorithm", "unknown algorithm %q (want %s)", prof.Algorithm, strings.Join(initdata.Algorithms, ", "))
	}
	if pol := prof.Policy; pol.Profile != PolicyExecDeny && pol.Profile != PolicyWorkload && pol.Profile != PolicyStrictRenamed && pol.Profile != PolicyDebug {
		v.add(path+".policy.profile", "unknown policy profile %q (want %s, %s or %s)", pol.Profile, PolicyExecDeny, PolicyWorkload, PolicyDebug)
	}
	if line, ok := release.Get(p.Spec.Release); ok {
		v.initDataOnLine(p, line, prof, path)
	}
	for i, argv := range prof.Policy.AllowExec {
		ap := fmt.Sprintf("%s.policy.allowExec[%d]", path, i)
		if len(argv) == 0 || argv[0] == "" {
			v.add(ap, "an exec rule is the full argv, program first, e.g. [\"/bin/sh\", \"-c\", \"date\"]")
		}
		for j, arg := range argv {
			v.noSecret(fmt.Sprintf("%s[%d]", ap, j), arg, "")
			v.textValue(fmt.Sprintf("%s[%d]", ap, j), arg)
		}
	}

	// KBS: validate what the author wrote where they wrote it, and check
	// what ends up in the document (possibly inherited) for secrets.
	if prof.KBS.URL != "" {
		v.kbsURL(path+".kbs.url", prof.KBS.URL)
	}
	if prof.KBS.Certificate != "" {
		v.certificates(path+".kbs.certificate", prof.KBS.Certificate)
	}
	kbs := p.InitDataKBS(prof)
	if prof.KBS.URL == "" && kbs.URL != "" && kbs.URL == p.Spec.Trustee.URL {
		v.noSecret(path+".kbs.url", kbs.URL, "spec.trustee.url")
	}
	// An inherited certificate needs no check here: spec.trustee.certificate
	// accepts PEM certificates only, and reporting it once per profile
	// would bury the one real problem.
	if kbs.Certificate != "" && strings.HasPrefix(kbs.URL, "http://") {
		v.add(path+".kbs", "a KBS certificate pins TLS, but the KBS URL %q is plain http", kbs.URL)
	}
	if users := p.InitDataUsers(prof.Name); len(users) > 0 && prof.Name != "" && kbs.URL == "" {
		v.add(path+".kbs.url", "profile %q is used by %s but has no KBS URL: set this field or spec.trustee.url, or add a cluster group with role %q running Trustee", prof.Name, users[0].Path(), RoleHub)
	}

	v.kbsResourceURI(path+".imageSecurityPolicyURI", prof.ImageSecurityPolicyURI)
	v.kbsResourceURI(path+".registryCredentialsURI", prof.RegistryCredentialsURI)
	for i, c := range prof.ExtraCACertificates {
		v.certificates(fmt.Sprintf("%s.extraCACertificates[%d]", path, i), c)
	}
	for _, k := range sortedKeys(prof.ExtraData) {
		kp := joinPath(path+".extraData", k)
		switch {
		case ReservedInitDataNames[k]:
			v.add(kp, "%q is written by cocogen itself; reserved names: %s", k, strings.Join(sortedKeys(ReservedInitDataNames), ", "))
		case len(k) > 253 || !extraDataNameRE().MatchString(k):
			v.add(kp, "invalid name %q: want letters, digits, '.', '_' and '-' (it becomes a ConfigMap key)", k)
		case credentialNameRE().MatchString(k):
			v.add(kp, "%q is named like a credential; init-data is readable by the host (measured, not encrypted): store it in the KBS and reference it with a kbs:/// URI", k)
		default:
			v.noSecret(kp, prof.ExtraData[k], "")
			v.textValue(kp, prof.ExtraData[k])
		}
	}
	if prof.ConfigMap.Namespace != "" {
		v.dnsLabel(path+".configMap.namespace", prof.ConfigMap.Namespace)
	}
}

func (v *validator) kbsURL(path, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.add(path, "want the http:// or https:// URL of the KBS, got %q", raw)
		return
	}
	if u.User != nil {
		v.add(path, "credentials in the KBS URL would be written into init-data, which the host can read; the KBS authenticates pods by attestation")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		v.add(path, "the KBS URL takes no query or fragment, got %q", raw)
	}
}

// kbsResourceURI checks a KBS resource URI, kbs://[host]/<repository>/<type>/<tag>.
func (v *validator) kbsResourceURI(path, raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "kbs" {
		v.add(path, "want a KBS resource URI kbs:///<repository>/<type>/<tag> (e.g. kbs:///default/security-policy/test), got %q", raw)
		return
	}
	parts := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" || u.User != nil || u.Fragment != "" {
		v.add(path, "want a KBS resource URI kbs:///<repository>/<type>/<tag>, got %q", raw)
	}
}

// certificates checks PEM text that must hold only public certificates.
func (v *validator) certificates(path, text string) {
	if !v.noSecret(path, text, "") {
		return
	}
	rest := []byte(text)
	n := 0
	for {
		block, r := pem.Decode(rest)
		if block == nil {
			break
		}
		rest = r
		n++
		if block.Type != "CERTIFICATE" {
			v.add(path, "PEM block %d is %q: only CERTIFICATE blocks belong here", n, block.Type)
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			v.add(path, "PEM block %d: %v", n, err)
		}
	}
	switch {
	case n == 0:
		v.add(path, "want one or more PEM certificates (-----BEGIN CERTIFICATE-----)")
	case strings.TrimSpace(string(rest)) != "":
		v.add(path, "text after the last PEM certificate")
	}
}

// textValue rejects what a TOML document cannot carry.
func (v *validator) textValue(path, s string) {
	if !utf8.ValidString(s) {
		v.add(path, "not valid UTF-8")
	} else if strings.ContainsRune(s, 0) {
		v.add(path, "contains a NUL character")
	}
}

// noSecret reports a secret in s, a value that would be written into
// init-data or the agent policy. Init-data travels in a pod annotation the
// host (and anyone who can read the pod) sees in clear; only its digest is
// protected, by the TEE measurement. So a value belongs there only if it
// is public. from names the field the value was inherited from, if any.
func (v *validator) noSecret(path, s, from string) bool {
	reason := SecretReason(s)
	if reason == "" {
		return true
	}
	if from != "" {
		reason += " (inherited from " + from + ")"
	}
	v.add(path, "%s; init-data is readable by the host (measured, not encrypted), so secrets are released by the KBS after attestation: store it as a KBS resource and reference it with a kbs:/// URI", reason)
	return false
}

var (
	// Template expressions expand after cocogen hashed the document; the
	// secret-reading ones would put a Secret's value into it.
	secretTemplateRE = lazy.Regexp(`(?s)\{\{.*\b(fromSecret|copySecretData|lookup|getSecret|protect)\b`)
	templateRE       = lazy.Regexp(`\{\{|\$\{\{`)
	// argocd-vault-plugin placeholders substitute secret values at sync.
	avpRE            = lazy.Regexp(`<(path|secret|vault):[^>]*>`)
	secretRefRE      = lazy.Regexp(`\b(secretKeyRef|secretRef|secretName|valueFrom)\s*:`)
	secretManifestRE = lazy.Regexp(`(?m)^\s*"?kind"?\s*:\s*"?Secret"?\s*,?\s*$`)
	dockerAuthRE     = lazy.Regexp(`"auths"\s*:|"auth"\s*:\s*"[A-Za-z0-9+/=]{8,}"`)
	assignmentRE     = lazy.Regexp(`(?i)(?:^|[^A-Za-z0-9_])(password|passwd|pwd|secret|client[_-]?secret|secret[_-]?(?:access[_-]?)?key|api[_-]?key|access[_-]?key|account[_-]?key|auth[_-]?token|access[_-]?token|bearer[_-]?token|refresh[_-]?token|token)["']?\s*[:=]\s*["']?([^\s"',;}]*)`)
	authHeaderRE     = lazy.Regexp(`(?i)\bauthorization\s*[:=]\s*["']?(bearer|basic)\s+\S`)
	credentialNameRE = lazy.Regexp(`(?i)(secret|passw|token|credential|private|\.key$|id_rsa|id_ecdsa|id_ed25519|dockerconfig|auth\.json|kubeconfig|\.p12$|\.pfx$|\.jks$|\.keytab$)`)
)

// SecretReason says why s looks like (or would pull in) secret material,
// or returns "" when it does not. It errs on the side of refusing: a false
// positive costs a rename, a false negative publishes a credential.
func SecretReason(s string) string {
	if m, ok := secretscan.Find(s); ok {
		return "holds " + m.Reason
	}
	switch {
	case secretTemplateRE().MatchString(s):
		return "holds a template expression that reads a Secret; it would put the Secret's value into init-data"
	case templateRE().MatchString(s):
		return "holds a template expression ({{ ... }}); it would expand after cocogen computed the digest (and could pull in a Secret's value)"
	case avpRE().MatchString(s):
		return "holds an argocd-vault-plugin placeholder, which substitutes a secret value at sync time"
	case secretManifestRE().MatchString(s):
		return "holds a Kubernetes Secret manifest"
	case secretRefRE().MatchString(s):
		return "references a Kubernetes Secret, which nothing in the guest can resolve"
	case dockerAuthRE().MatchString(s):
		return "holds container registry credentials (auths); use registryCredentialsURI"
	case authHeaderRE().MatchString(s):
		return "holds an Authorization header"
	}
	for _, m := range assignmentRE().FindAllStringSubmatch(s, -1) {
		if val := strings.ToLower(m[2]); !harmlessValue(val) {
			return fmt.Sprintf("assigns a value to %q", m[1])
		}
	}
	return ""
}

func harmlessValue(val string) bool {
	switch val {
	case "", "true", "false", "null", "none", "[]", "{}", "=":
		return true
	}
	return strings.HasPrefix(val, "kbs://") || strings.HasPrefix(val, "file://") || strings.HasPrefix(val, "/")
}
