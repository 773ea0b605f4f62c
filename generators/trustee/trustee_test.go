package trustee_test

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"path"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	toml "github.com/pelletier/go-toml/v2"

	"github.com/cocogen/cocogen/generators/trustee"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/schema"
	"github.com/cocogen/cocogen/pkg/spec"
	"github.com/cocogen/cocogen/pkg/waves"
)

// pattern has a hub, Azure peer-pod spokes and bare-metal SNP and TDX
// groups, three init-data profiles with different algorithms, and secrets
// both fetched by External Secrets and pre-existing.
const pattern = `apiVersion: cocogen.dev/v1alpha1
kind: Pattern
metadata:
  name: coco
spec:
  source:
    repoURL: https://github.com/example/coco.git
  trustee:
    url: https://kbs-trustee-operator-system.apps.hub.example.com
    serviceType: LoadBalancer
    tokenDurationMinutes: 3
    tlsSecret: {name: kbs-https, remoteKey: hub/kbs/https}
    secretStore: {name: vault-backend}
    resources:
      - {name: kbsres1, remoteKey: hub/kbs/kbsres1}
      - {name: security-policy}
    referenceValues:
      azure_pcr11: ["25f988b8b92a8394ee6c2413fe7bde77929ec143151df0a582f52d6c7ccba94c"]
      snp_launch_measurement: ["Cwa8qBJimP2freTTrrpvAZVbEQEyAhPY4fZGgSn9z4qtt0CAGmcS+Otz96qQZ92k"]
      tdx_mr_td: ["a6c9a329848900230bc81678b81d0d64ae88e20be8f73c848da7e2bd025558ef38b5319096e6d78633a3f2a3a804f729"]
  initData:
    profiles:
      - name: default
      - name: strict256
        algorithm: sha256
      - name: wide
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
        - name: hello
          namespace: hello
          source: {path: apps/hello-openshift/confidential}
          confidential: {initData: default}
    - name: snp
      roles: [workloads]
      selector: {matchLabels: {tee: snp}}
      platform: {type: baremetal, baremetal: {tee: snp}}
      applications:
        - name: hello
          namespace: hello
          source: {path: apps/hello-openshift/confidential}
          confidential: {initData: strict256}
    - name: tdx
      roles: [workloads]
      selector: {matchLabels: {tee: tdx}}
      platform: {type: baremetal, baremetal: {tee: tdx}}
      applications:
        - name: hello
          namespace: hello
          source: {path: apps/hello-openshift/confidential}
          confidential: {initData: wide}
`

var (
	load      = testkit.Load
	renderAll = testkit.Render
	find      = testkit.Find
)

// generate runs the Trustee generator alone.
func generate(t *testing.T, p *spec.Pattern) (*manifest.Set, []render.Finding) {
	t.Helper()
	set, in, err := testkit.Generate(t, trustee.New(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return set, in.Findings()
}

func data(t *testing.T, o manifest.Object, key string) string {
	t.Helper()
	s, ok := o.Content["data"].(map[string]any)[key].(string)
	if !ok {
		t.Fatalf("%s has no data key %s", o.ID(), key)
	}
	return s
}

// TestReferenceValuesMatchRenderedDocuments recomputes, from the init-data
// documents in the render (and independently of pkg/initdata), every value
// the TEEs measure, and requires the reference values to be exactly those.
func TestReferenceValuesMatchRenderedDocuments(t *testing.T) {
	res := renderAll(t, load(t, pattern))
	want := map[string][]string{}
	docs := 0
	for _, f := range res.Set.Files {
		if path.Dir(f.Path) != "hub/initdata" || path.Ext(f.Path) != ".toml" {
			continue
		}
		docs++
		var doc struct {
			Algorithm string `toml:"algorithm"`
		}
		if err := toml.Unmarshal(f.Data, &doc); err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		h := map[string]func() hash.Hash{"sha256": sha256.New, "sha384": sha512.New384, "sha512": sha512.New}[doc.Algorithm]
		if h == nil {
			t.Fatalf("%s: algorithm %q", f.Path, doc.Algorithm)
		}
		d := sum(h(), f.Data)
		inner := sha256.Sum256(f.Data)
		pcr8 := sum(sha256.New(), append(make([]byte, 32), inner[:]...))
		hostData := fit(d, 32)
		want["init_data"] = append(want["init_data"], doc.Algorithm+":"+hex.EncodeToString(d))
		// Each TEE accepts the documents of the groups running in it.
		switch strings.TrimSuffix(path.Base(f.Path), ".toml") {
		case "default": // group azure
			want["init_data_pcr08"] = append(want["init_data_pcr08"], "sha256:"+hex.EncodeToString(pcr8))
		case "strict256": // group snp
			want["init_data_host_data"] = append(want["init_data_host_data"],
				doc.Algorithm+":"+hex.EncodeToString(hostData), doc.Algorithm+":"+base64.StdEncoding.EncodeToString(hostData))
		case "wide": // group tdx
			want["init_data_mr_config_id"] = append(want["init_data_mr_config_id"], doc.Algorithm+":"+hex.EncodeToString(fit(d, 48)))
		default:
			t.Fatalf("unexpected document %s", f.Path)
		}
	}
	if docs != 3 {
		t.Fatalf("want the 3 init-data documents in hub/initdata, found %d", docs)
	}
	for _, name := range []string{"azure_pcr11", "snp_launch_measurement", "tdx_mr_td"} {
		for _, v := range load(t, pattern).Spec.Trustee.ReferenceValues[name] {
			want[name] = append(want[name], "sha256:"+v)
		}
	}

	cm := find(t, res.Set, "ConfigMap", "trustee-operator-system", "rvps-reference-values")
	var rvs []trustee.ReferenceValue
	dec := json.NewDecoder(strings.NewReader(data(t, cm, "reference-values.json")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rvs); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, rv := range rvs {
		if rv.Version != "0.1.0" || rv.Expired != trustee.ReferenceValuesExpiry {
			t.Errorf("%s: version %q expired %q", rv.Name, rv.Version, rv.Expired)
		}
		if _, dup := got[rv.Name]; dup {
			t.Errorf("reference value %s listed twice", rv.Name)
		}
		for _, hv := range rv.HashValue {
			got[rv.Name] = append(got[rv.Name], hv.Alg+":"+hv.Value)
		}
	}
	for _, m := range []map[string][]string{want, got} {
		for _, v := range m {
			sort.Strings(v)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reference values (-recomputed +rendered):\n%s", diff)
	}

	// The same digests are what the ConfigMaps the pods' init-data and the
	// spokes' copies come from carry.
	for _, o := range res.Set.Objects {
		if o.Kind() == "ConfigMap" && strings.HasPrefix(o.Name(), "initdata-") {
			if d := data(t, o, "DIGEST"); !contains(got["init_data"], data(t, o, "ALGORITHM")+":"+d) {
				t.Errorf("%s: digest %s is not a reference value", o.ID(), d)
			}
			if d := data(t, o, "PCR8_HASH"); o.Name() == "initdata-default" && !contains(got["init_data_pcr08"], "sha256:"+d) {
				t.Errorf("%s: PCR8 %s is not a reference value", o.ID(), d)
			}
		}
	}
}

// TestOnlyMeasuredTEEs: reference values exist only for the TEEs the
// pattern's workloads run in.
func TestOnlyMeasuredTEEs(t *testing.T) {
	doc := pattern[:strings.Index(pattern, "    - name: snp\n")]
	rv, err := trustee.ReferenceValues(load(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{`"init_data_host_data"`, `"init_data_mr_config_id"`} {
		if strings.Contains(rv, absent) {
			t.Errorf("%s without a bare-metal group", absent)
		}
	}
	if !strings.Contains(rv, `"init_data_pcr08"`) {
		t.Error("no PCR8 for Azure")
	}
}

func TestTrusteeObjects(t *testing.T) {
	p := load(t, pattern)
	set, findings := generate(t, p)
	if err := set.Check(); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range set.Objects {
		ids = append(ids, o.ID())
		if o.Dir != "hub" || o.Namespace() != "trustee-operator-system" {
			t.Errorf("%s in %s", o.ID(), o.Dir)
		}
		if w := o.Content["metadata"].(map[string]any)["annotations"].(map[string]any)[waves.Annotation]; w != waves.String(waves.Trustee) {
			t.Errorf("%s: wave %v", o.ID(), w)
		}
		if err := schema.Default().Validate(o.Content); err != nil {
			t.Errorf("%s: %v", o.ID(), err)
		}
	}
	wantIDs := []string{
		"confidentialcontainers.org/v1alpha1 KbsConfig trustee-operator-system/kbsconfig",
		"external-secrets.io/v1 ExternalSecret trustee-operator-system/kbs-https",
		"external-secrets.io/v1 ExternalSecret trustee-operator-system/kbsres1",
		"v1 ConfigMap trustee-operator-system/attestation-policy",
		"v1 ConfigMap trustee-operator-system/kbs-config",
		"v1 ConfigMap trustee-operator-system/resource-policy",
		"v1 ConfigMap trustee-operator-system/rvps-reference-values",
	}
	sort.Strings(ids)
	if diff := cmp.Diff(wantIDs, ids); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}

	kc := find(t, set, "KbsConfig", "trustee-operator-system", "kbsconfig")
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
		"kbsSecretResources":                []any{"kbsres1", "security-policy"},
		"kbsServiceType":                    "LoadBalancer",
	}, kc.Content["spec"]); diff != "" {
		t.Errorf("KbsConfig spec (-want +got):\n%s", diff)
	}
	es := find(t, set, "ExternalSecret", "trustee-operator-system", "kbs-https")
	if diff := cmp.Diff(map[string]any{
		"refreshInterval": "1h",
		"secretStoreRef":  map[string]any{"name": "vault-backend", "kind": "ClusterSecretStore"},
		"target":          map[string]any{"name": "kbs-https", "creationPolicy": "Owner", "template": map[string]any{"type": "kubernetes.io/tls"}},
		"dataFrom":        []any{map[string]any{"extract": map[string]any{"key": "hub/kbs/https"}}},
	}, es.Content["spec"]); diff != "" {
		t.Errorf("ExternalSecret spec (-want +got):\n%s", diff)
	}
	for _, o := range set.Objects {
		if o.Kind() == "Secret" {
			t.Errorf("secret inlined: %s", o.ID())
		}
	}
	if len(findings) != 0 {
		t.Errorf("warnings with every boot reference value set: %v", findings)
	}
}

func TestKBSConfig(t *testing.T) {
	p := load(t, pattern)
	var cfg struct {
		HTTPServer struct {
			Sockets      []string `toml:"sockets"`
			InsecureHTTP bool     `toml:"insecure_http"`
			PrivateKey   string   `toml:"private_key"`
			Certificate  string   `toml:"certificate"`
		} `toml:"http_server"`
		Admin struct {
			InsecureAPI   bool   `toml:"insecure_api"`
			AuthPublicKey string `toml:"auth_public_key"`
		} `toml:"admin"`
		AttestationToken   map[string]any `toml:"attestation_token"`
		AttestationService struct {
			Type         string         `toml:"type"`
			WorkDir      string         `toml:"work_dir"`
			PolicyEngine string         `toml:"policy_engine"`
			Broker       map[string]any `toml:"attestation_token_broker"`
			TokenConfig  struct {
				DurationMin int `toml:"duration_min"`
			} `toml:"attestation_token_config"`
			RVPS struct {
				Type    string            `toml:"type"`
				Storage map[string]string `toml:"storage"`
			} `toml:"rvps_config"`
		} `toml:"attestation_service"`
		Plugins      []map[string]string `toml:"plugins"`
		PolicyEngine map[string]string   `toml:"policy_engine"`
	}
	dec := toml.NewDecoder(strings.NewReader(trustee.KBSConfig(p)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPServer.InsecureHTTP || cfg.HTTPServer.PrivateKey == "" || cfg.HTTPServer.Certificate == "" {
		t.Errorf("KBS must serve HTTPS only: %+v", cfg.HTTPServer)
	}
	if cfg.Admin.InsecureAPI || cfg.Admin.AuthPublicKey != "/etc/auth-secret/publicKey" {
		t.Errorf("admin API must require the admin key: %+v", cfg.Admin)
	}
	// Tokens verify only against the signer's certificate: a token that
	// brings its own key in its header must not be trusted.
	if got := cfg.AttestationToken["trusted_certs_paths"]; !reflect.DeepEqual(got, []any{"/etc/attestation-cert/token.crt"}) {
		t.Errorf("attestation_token.trusted_certs_paths = %v", got)
	}
	for _, insecure := range []string{"insecure_key", "insecure_header_jwk"} {
		if v, set := cfg.AttestationToken[insecure]; set && v != false {
			t.Errorf("attestation_token.%s = %v", insecure, v)
		}
	}
	signer, _ := cfg.AttestationService.Broker["signer"].(map[string]any)
	if signer["key_path"] != "/etc/attestation-key/token.key" || signer["cert_path"] != "/etc/attestation-cert/token.crt" {
		t.Errorf("token signer %v", signer)
	}
	if cfg.AttestationService.Broker["type"] != "Ear" || cfg.AttestationService.TokenConfig.DurationMin != 3 {
		t.Errorf("attestation service %+v", cfg.AttestationService)
	}
	if got := cfg.AttestationService.RVPS.Storage["file_path"]; path.Base(got) != trustee.ReferenceValuesKey {
		t.Errorf("RVPS reads %s", got)
	}
	if got := cfg.PolicyEngine["policy_path"]; path.Base(got) != trustee.ResourcePolicyKey {
		t.Errorf("resource policy at %s", got)
	}
}

func TestNoHubNoTrustee(t *testing.T) {
	doc := strings.Replace(pattern, "      roles: [hub]\n", "      roles: [workloads]\n", 1)
	set, _ := generate(t, load(t, doc))
	if len(set.Objects) != 0 {
		t.Errorf("Trustee objects without a hub group: %d", len(set.Objects))
	}
}

func TestUnmeasuredBootWarns(t *testing.T) {
	doc := strings.Replace(pattern, "      azure_pcr11:", "      other_pcr11:", 1)
	_, findings := generate(t, load(t, doc))
	if len(findings) != 1 || !strings.Contains(findings[0].Message, "azure_pcr11") || findings[0].Field != "spec.trustee.referenceValues" {
		t.Errorf("findings %v", findings)
	}
}

func sum(h hash.Hash, data []byte) []byte {
	h.Write(data)
	return h.Sum(nil)
}

// fit truncates or zero-pads a digest to a TEE register's size.
func fit(d []byte, n int) []byte {
	out := make([]byte, n)
	copy(out, d)
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
