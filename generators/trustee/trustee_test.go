package trustee_test

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cocogen/cocogen/generators/trustee"
	"github.com/cocogen/cocogen/internal/kbsconfig"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/release"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/schema"
	"github.com/cocogen/cocogen/pkg/spec"
)

// pattern has a hub, Azure peer-pod spokes and bare-metal SNP and TDX
// groups, init-data profiles with each algorithm and a debug one, and
// resources for some profiles only.
var pattern = testkit.Pattern{Name: "coco", Spec: `
  trustee:
    ingressDomain: apps.hub.example.com
    serviceType: ClusterIP
    tokenDurationMinutes: 3
    tlsSecret: {name: kbs-https, remoteKey: hub/kbs/https}
    secretStore:
      name: vault-backend
      vault:
        server: https://vault-vault.apps.hub.example.com
        auth: {mountPath: hub, role: hub-role}
        caBundleConfigMap: {namespace: openshift-config-managed, name: default-ingress-cert, key: ca-bundle.crt}
    resources:
      - {name: kbsres1, remoteKey: hub/kbs/kbsres1, profiles: [default]}
      - {name: bare-metal-key, source: existing, profiles: [strict256, wide]}
    referenceValues:
      snp_pcr11: ["25f988b8b92a8394ee6c2413fe7bde77929ec143151df0a582f52d6c7ccba94c"]
      tcb_bootloader: ["3"]
      tcb_microcode: ["115"]
      tcb_snp: ["8"]
      tcb_tee: ["0"]
      snp_launch_measurement: ["0b06bca8126298fd9fade4d3aeba7bc9555b11013102138fe1f646a09fcf8aaded2d008066d12f8eb73dfb2a9d08ef8d"]
      snp_bootloader: ["3"]
      snp_microcode: ["115"]
      snp_snp_svn: ["8"]
      snp_tee_svn: ["0"]
      mr_td: ["a6c9a329848900230bc81678b81d0d64ae88e20be8f73c848da7e2bd025558ef38b5319096e6d78633a3f2a3a804f729"]
      rtmr_1: ["b1"]
      rtmr_2: ["b2"]
      xfam: ["e718060000000000"]
  initData:
    profiles:
      - name: default
        policy: {profile: exec-deny}
      - name: debugging
        policy: {profile: debug}
      - name: strict256
        algorithm: sha256
        policy: {profile: exec-deny, allowStdin: true}
      - name: wide
        policy: {profile: exec-deny}
        algorithm: sha512
  clusterGroups:
    - name: hub
      roles: [hub]
      selector: {matchLabels: {local-cluster: "true"}}
      platform: {type: azure}
    - name: azure
      roles: [workloads]
      selector: {matchLabels: {cloud: azure}}
      platform: {type: azure}
      applications:
        - {name: hello, namespace: hello, source: {path: apps/hello-openshift/confidential}, confidential: {initData: default}}
        - {name: debug, namespace: debug, source: {path: apps/hello-openshift/confidential}, confidential: {initData: debugging}}
    - name: snp
      roles: [workloads]
      selector: {matchLabels: {tee: snp}}
      platform: {type: baremetal, baremetal: {tee: snp}}
      applications:
        - {name: hello, namespace: hello, source: {path: apps/hello-openshift/confidential}, confidential: {initData: strict256}}
    - name: tdx
      roles: [workloads]
      selector: {matchLabels: {tee: tdx}}
      platform: {type: baremetal, baremetal: {tee: tdx}}
      applications:
        - {name: hello, namespace: hello, source: {path: apps/hello-openshift/confidential}, confidential: {initData: wide}}
`}.YAML()

// onLines loads doc once per release line.
func onLines(t *testing.T, doc string) map[*release.Line]*spec.Pattern {
	t.Helper()
	out := map[*release.Line]*spec.Pattern{}
	for _, line := range release.All() {
		p, err := spec.Parse("pattern.yaml", []byte(doc), spec.LoadOptions{Release: line.Name})
		if err != nil {
			t.Fatalf("%s:\n%v", line.Name, err)
		}
		out[line] = p
	}
	return out
}

// generate runs the Trustee generator alone and returns its warnings.
func generate(t *testing.T, p *spec.Pattern) (*manifest.Set, []render.Finding) {
	t.Helper()
	set, in, err := testkit.Generate(t, trustee.New(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	var warnings []render.Finding
	for _, f := range in.Findings() {
		if f.Severity == render.Warning {
			warnings = append(warnings, f)
		}
	}
	return set, warnings
}

func data(t *testing.T, o manifest.Object, key string) string {
	t.Helper()
	s, ok := testkit.Get(o.Content, "data", key).(string)
	if !ok {
		t.Fatalf("%s has no data key %s", o.ID(), key)
	}
	return s
}

func imageOf(line *release.Line) kbsconfig.Image {
	i := line.Trustee.KBSImage
	return kbsconfig.Image{Name: i.Name, AttestationServices: i.AttestationServices, Plugins: i.Plugins, ResourceBackends: i.ResourceBackends}
}

// TestKBSConfigFollowsTheLine decodes the rendered kbs-config.toml with
// the strict mirror of each line's KBS and checks that every path in it is
// where that line's operator mounts the file.
func TestKBSConfigFollowsTheLine(t *testing.T) {
	for line, p := range onLines(t, pattern) {
		t.Run(line.Name, func(t *testing.T) {
			set, _ := generate(t, p)
			cm := testkit.Find(t, set, "ConfigMap", "trustee-operator-system", trustee.KBSConfigMap)
			cfg, ignored, err := kbsconfig.Decode([]byte(data(t, cm, line.Trustee.KBSConfigKey)), imageOf(line))
			if err != nil || len(ignored) > 0 {
				t.Fatalf("the line's KBS refuses or ignores: %v %v", err, ignored)
			}
			if ps := kbsconfig.Check(cfg); len(ps) > 0 {
				t.Fatalf("the KBS would not start: %v", ps)
			}
			lt := line.Trustee
			h := cfg.HTTPServer
			if h.InsecureHTTP || h.PrivateKey != lt.HTTPSKeyDir+"/tls.key" || h.Certificate != lt.HTTPSCertDir+"/tls.crt" {
				t.Errorf("KBS must serve HTTPS with the TLS Secret: %+v", h)
			}
			if cfg.Admin.AuthorizationMode != kbsconfig.AdminDenyAll {
				t.Errorf("admin API open by default: %+v", cfg.Admin)
			}
			// Tokens verify only against the signer's certificate.
			tok := cfg.AttestationToken
			if tok.InsecureHeaderJWK || !slices.Equal(tok.TrustedCertsPaths, []string{lt.TokenCertDir + "/token.crt"}) {
				t.Errorf("attestation_token %+v", tok)
			}
			as := cfg.AttestationService
			if as.Type != kbsconfig.ASBuiltin || *as.AttestationTokenBroker.DurationMin != 3 ||
				as.AttestationTokenBroker.Signer.KeyPath != lt.TokenKeyDir+"/token.key" || as.AttestationTokenBroker.Signer.CertPath != lt.TokenCertDir+"/token.crt" {
				t.Errorf("attestation service %+v", as)
			}
			// The KBS finds the files the operator mounts: the reference
			// values as the LocalJson store, policies and resources below
			// the LocalFs storage directory.
			sb := cfg.StorageBackend
			if as.RVPSConfig.StorageType != "LocalJson" || sb.Backends.LocalJSON.FileDirPath+"/reference_value" != lt.ReferenceValuesPath {
				t.Errorf("RVPS store is not %s: %+v %+v", lt.ReferenceValuesPath, as.RVPSConfig, sb.Backends.LocalJSON)
			}
			if sb.StorageType != "LocalFs" || sb.Backends.LocalFS.DirPath+"/kbs/"+lt.ResourcePolicyKey != lt.ResourcePolicyPath ||
				sb.Backends.LocalFS.DirPath+"/attestation_service_policy/"+lt.AttestationPolicyKey != lt.AttestationPolicyPath {
				t.Errorf("policies are not read where the operator mounts them: %+v", sb)
			}
			if len(cfg.Plugins) != 1 || cfg.Plugins[0].StorageBackendType != "kvstorage" {
				t.Errorf("plugins %+v", cfg.Plugins)
			}
			if v := as.VerifierConfig; v == nil || v.SNPVerifier == nil || v.DCAPVerifier == nil {
				t.Errorf("no verifier settings for the SNP and TDX groups: %+v", v)
			}
		})
	}
	// With the admin API on, requests signed by the admin key may use it.
	p := testkit.Load(t, strings.Replace(pattern, "    serviceType: ClusterIP\n", "    serviceType: ClusterIP\n    adminAPI: true\n", 1))
	cfg := trustee.KBSConfig(p, release.MustGet(p.Spec.Release))
	if cfg.Admin.AuthorizationMode != kbsconfig.AdminAuthenticatedAuthorization || cfg.Admin.Authentication.BearerJWT.IdentityProviders[0].PublicKeyURI != "/etc/auth-secret/publicKey" {
		t.Errorf("admin API %+v", cfg.Admin)
	}
	if ps := kbsconfig.Check(cfg); len(ps) > 0 {
		t.Errorf("admin API configuration would not start: %v", ps)
	}
}

// TestReferenceValuesMatchRenderedDocuments recomputes, from the init-data
// documents in the rendered tree, what each TEE reports (Azure PCR8, SNP
// HOSTDATA, TDX MRCONFIGID) and requires exactly those in the reference
// value store, decoded in the line's layout; the debug profile's digest is
// never there unless the pattern trusts debug profiles.
func TestReferenceValuesMatchRenderedDocuments(t *testing.T) {
	for line, p := range onLines(t, pattern) {
		t.Run(line.Name, func(t *testing.T) {
			res := testkit.Render(t, p)
			docs := map[string][]byte{}
			for _, f := range res.Set.Files {
				if strings.HasPrefix(f.Path, "hub/initdata/") && strings.HasSuffix(f.Path, ".toml") {
					docs[strings.TrimSuffix(strings.TrimPrefix(f.Path, "hub/initdata/"), ".toml")] = f.Data
				}
			}
			digest := func(name string, h func() hash.Hash) []byte { x := h(); x.Write(docs[name]); return x.Sum(nil) }
			fit := func(d []byte, n int) []byte { out := make([]byte, n); copy(out, d); return out }
			pcr8 := func(name string) string {
				d := digest(name, sha256.New)
				return hex.EncodeToString(func() []byte { x := sha256.New(); x.Write(make([]byte, 32)); x.Write(d); return x.Sum(nil) }())
			}
			want := map[string][]any{
				"init_data_pcr08":        {pcr8("default")},
				"init_data_host_data":    {hex.EncodeToString(fit(digest("strict256", sha256.New), 32))},
				"init_data_mr_config_id": {hex.EncodeToString(fit(digest("wide", sha512.New), 48))},
			}
			cm := testkit.Find(t, res.Set, "ConfigMap", "trustee-operator-system", trustee.ReferenceValuesMap)
			rvs, err := trustee.DecodeReferenceValues(data(t, cm, line.Trustee.ReferenceValuesKey), line)
			if err != nil {
				t.Fatal(err)
			}
			for name, values := range want {
				rv := rvs[name]
				if rv.Name != name || rv.Version != "0.1.0" || rv.Expiration != "2100-01-01T00:00:00Z" {
					t.Errorf("%s: record %+v", name, rv)
				}
				if diff := cmp.Diff(values, rv.Value); diff != "" {
					t.Errorf("%s (-recomputed +rendered):\n%s", name, diff)
				}
			}
			if got := rvs["snp_bootloader"].Value; !cmp.Equal(got, []any{float64(3)}) {
				t.Errorf("snp_bootloader = %#v, want the number the SNP verifier reports", got)
			}
			if got := rvs["tcb_bootloader"].Value; !cmp.Equal(got, []any{"3"}) {
				t.Errorf("tcb_bootloader = %#v, want the string Azure reports", got)
			}
			if len(docs["debugging"]) == 0 || slices.Contains(rvs["init_data_pcr08"].Value.([]any), any(pcr8("debugging"))) {
				t.Error("the debug profile's PCR8 is a reference value")
			}
		})
	}
	trusting := testkit.Load(t, strings.Replace(pattern, "    serviceType: ClusterIP\n", "    serviceType: ClusterIP\n    trustDebug: true\n", 1))
	rv, err := trustee.ReferenceValues(trusting, release.MustGet(trusting.Spec.Release))
	if err != nil {
		t.Fatal(err)
	}
	rvs, _ := trustee.DecodeReferenceValues(rv, release.MustGet(trusting.Spec.Release))
	if n := len(rvs["init_data_pcr08"].Value.([]any)); n != 2 {
		t.Errorf("trustDebug: %d PCR8 values, want the default and the debug profile's", n)
	}
	if _, findings := generate(t, trusting); !testkit.HasFinding(findings, "NO CONFIDENTIALITY") {
		t.Errorf("trustDebug does not warn: %v", findings)
	}
}

func TestTrusteeObjects(t *testing.T) {
	set, findings := generate(t, testkit.Load(t, pattern))
	if err := set.Check(); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range set.Objects {
		ids = append(ids, o.ID())
		if o.Dir != "hub" || (o.Namespace() != "trustee-operator-system" && o.Kind() != "ClusterSecretStore") {
			t.Errorf("%s in %s", o.ID(), o.Dir)
		}
		if err := schema.Default().Validate(o.Content); err != nil {
			t.Errorf("%s: %v", o.ID(), err)
		}
		if o.Kind() == "Secret" {
			t.Errorf("secret inlined: %s", o.ID())
		}
	}
	slices.Sort(ids)
	if diff := cmp.Diff([]string{
		"confidentialcontainers.org/v1alpha1 KbsConfig trustee-operator-system/kbsconfig",
		"external-secrets.io/v1 ClusterSecretStore vault-backend",
		"external-secrets.io/v1 ExternalSecret trustee-operator-system/kbs-https",
		"external-secrets.io/v1 ExternalSecret trustee-operator-system/kbsres1",
		"route.openshift.io/v1 Route trustee-operator-system/kbs",
		"v1 ConfigMap trustee-operator-system/attestation-policy",
		"v1 ConfigMap trustee-operator-system/kbs-config",
		"v1 ConfigMap trustee-operator-system/resource-policy",
		"v1 ConfigMap trustee-operator-system/rvps-reference-values",
		"v1 ServiceAccount trustee-operator-system/kbs-secret-reader",
	}, ids); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	kc := testkit.Find(t, set, "KbsConfig", "trustee-operator-system", "kbsconfig")
	if diff := cmp.Diff(map[string]any{
		"kbsDeploymentType":                 "AllInOneDeployment",
		"kbsConfigMapName":                  "kbs-config",
		"kbsAuthSecretName":                 "kbs-auth-public-key",
		"kbsAttestationKeySecretName":       "kbs-attestation-key",
		"kbsAttestationCertSecretName":      "kbs-attestation-cert",
		"kbsHttpsCertSecretName":            "kbs-https",
		"kbsHttpsKeySecretName":             "kbs-https",
		"kbsResourcePolicyConfigMapName":    "resource-policy",
		"kbsAttestationPolicyConfigMapName": "attestation-policy",
		"kbsRvpsRefValuesConfigMapName":     "rvps-reference-values",
		"kbsSecretResources":                []any{"kbsres1", "bare-metal-key"},
		"kbsServiceType":                    "ClusterIP",
	}, kc.Content["spec"]); diff != "" {
		t.Errorf("KbsConfig spec (-want +got):\n%s", diff)
	}
	// The Red Hat operator's TrusteeConfig controller creates a Route of
	// its own name; cocogen's is another.
	if line := release.MustGet(release.Default); line.Trustee.RouteName == "" || line.Trustee.RouteName == spec.KBSRouteName {
		t.Errorf("cocogen's KBS Route %q collides with the operator's %q", spec.KBSRouteName, line.Trustee.RouteName)
	}
	store := testkit.Find(t, set, "ClusterSecretStore", "", "vault-backend")
	if diff := cmp.Diff(map[string]any{
		"server": "https://vault-vault.apps.hub.example.com", "path": "secret", "version": "v2",
		"auth": map[string]any{"kubernetes": map[string]any{
			"mountPath": "hub", "role": "hub-role",
			"serviceAccountRef": map[string]any{"name": "kbs-secret-reader", "namespace": "trustee-operator-system"},
		}},
		"caProvider": map[string]any{"type": "ConfigMap", "namespace": "openshift-config-managed", "name": "default-ingress-cert", "key": "ca-bundle.crt"},
	}, testkit.Get(store.Content, "spec", "provider", "vault")); diff != "" {
		t.Errorf("vault store (-want +got):\n%s", diff)
	}
	for _, o := range []manifest.Object{store, testkit.Find(t, set, "ServiceAccount", "trustee-operator-system", "kbs-secret-reader")} {
		if w := testkit.Get(o.Content, "metadata", "annotations", "argocd.argoproj.io/sync-wave"); w != "-12" {
			t.Errorf("%s: wave %v, want the secret stores' -12", o.ID(), w)
		}
	}
	es := testkit.Find(t, set, "ExternalSecret", "trustee-operator-system", "kbs-https")
	if got := testkit.Get(es.Content, "spec", "target", "template", "type"); got != "kubernetes.io/tls" {
		t.Errorf("TLS ExternalSecret makes a %v Secret", got)
	}
	if len(findings) != 0 {
		t.Errorf("warnings with every reference value set: %v", findings)
	}
}

// TestRoute: the KBS Route passes TLS through to kbs-service; its host is
// OpenShift's default in the ingress domain, or the URL's host.
func TestRoute(t *testing.T) {
	base := strings.Replace(pattern, "    ingressDomain: apps.hub.example.com\n", "", 1)
	for _, tc := range []struct {
		name, trustee string
		host          any
		emitted       bool
	}{
		{"ingress domain", "    ingressDomain: apps.hub.example.com\n", nil, true},
		{"url on the default host", "    ingressDomain: apps.hub.example.com\n    url: https://kbs-trustee-operator-system.apps.hub.example.com\n", nil, true},
		{"custom host", "    url: https://kbs.example.com\n", "kbs.example.com", true},
		{"other port", "    url: https://kbs.example.com:8443\n", nil, false},
		{"load balancer", "    url: https://kbs.example.com\n    serviceType: LoadBalancer\n", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(base, "    serviceType: ClusterIP\n", tc.trustee, 1)
			set, _ := generate(t, testkit.Load(t, doc))
			var route *manifest.Object
			for i, o := range set.Objects {
				if o.Kind() == "Route" {
					route = &set.Objects[i]
				}
			}
			if (route != nil) != tc.emitted {
				t.Fatalf("route emitted = %v, want %v", route != nil, tc.emitted)
			}
			if route == nil {
				return
			}
			if got := testkit.Get(route.Content, "spec", "host"); got != tc.host {
				t.Errorf("host %v, want %v", got, tc.host)
			}
			if testkit.Get(route.Content, "spec", "tls", "termination") != "passthrough" || testkit.Get(route.Content, "spec", "to", "name") != "kbs-service" {
				t.Errorf("route spec %v", route.Content["spec"])
			}
		})
	}
}

func TestNoHubNoTrustee(t *testing.T) {
	doc := strings.Replace(pattern, "      roles: [hub]\n", "      roles: [workloads]\n", 1)
	doc = strings.Replace(doc, "    ingressDomain: apps.hub.example.com\n", "    url: https://kbs.example.com\n", 1)
	set, _ := generate(t, testkit.Load(t, doc))
	if len(set.Objects) != 0 {
		t.Errorf("Trustee objects without a hub group: %d", len(set.Objects))
	}
}

// TestUnaffirmableWarns: every reference value the attestation policy
// needs and the pattern lacks is named, per TEE.
func TestUnaffirmableWarns(t *testing.T) {
	doc := strings.Replace(pattern, "      snp_pcr11:", "      other_pcr11:", 1)
	doc = strings.Replace(doc, "      xfam:", "      other_xfam:", 1)
	_, findings := generate(t, testkit.Load(t, doc))
	var got []string
	for _, f := range findings {
		if f.Field != "spec.trustee.referenceValues" {
			t.Errorf("finding about %s", f.Field)
		}
		got = append(got, f.Message)
	}
	if len(got) != 2 || !strings.Contains(got[0], "no snp_pcr11: pods on Azure") || !strings.Contains(got[1], "no xfam: pods on Intel TDX") {
		t.Errorf("findings %q", got)
	}
}

// TestIndistinguishableProfilesWarn: two profiles with the same document
// cannot be told apart by the KBS; granting a resource to one is granting
// it to both, and the render says so.
func TestIndistinguishableProfilesWarn(t *testing.T) {
	doc := strings.Replace(pattern, "        policy: {profile: exec-deny, allowStdin: true}\n", "        policy: {profile: exec-deny}\n", 1)
	_, findings := generate(t, testkit.Load(t, doc))
	if !testkit.HasFinding(findings, `profiles "default" and "strict256" render the same init-data document`) {
		t.Errorf("findings %v", findings)
	}
}
