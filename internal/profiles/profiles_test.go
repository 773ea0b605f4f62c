package profiles_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	toml "github.com/pelletier/go-toml/v2"

	"github.com/cocogen/cocogen/internal/profiles"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/initdata"
	"github.com/cocogen/cocogen/pkg/spec"
	"github.com/cocogen/cocogen/policies"
)

// testPattern has a hub and an Azure spoke whose application uses profile
// "default".
var testPattern = testkit.Pattern{Spec: `
trustee:
  url: https://kbs.example.com
initData:
  profiles:
    - name: default
      policy: {profile: exec-deny}
clusterGroups:
` + testkit.Indent(testkit.Group("hub", "hub", "{type: azure}", "")+
	testkit.Group("spoke", "workloads", "{type: azure}", testkit.App("hello", "apps/hello-openshift/confidential", "default")), 2)}.YAML()

// fullPattern sets every init-data field; cert is a PEM certificate.
func fullPattern(cert string) string {
	return testkit.Pattern{}.YAML() + `  initData:
    profiles:
      - name: full
        algorithm: sha512
        kbs:
          url: https://kbs.example.com:8443
          certificate: |
` + testkit.Indent(cert, 12) + `
        imageSecurityPolicyURI: kbs:///default/security-policy/strict
        registryCredentialsURI: kbs:///default/credential/pull
        extraCACertificates:
          - |
` + testkit.Indent(cert, 12) + `
          - |
` + testkit.Indent(cert, 12) + `
        policy:
          profile: exec-deny
          allowExec: [["/bin/date"], ["/bin/sh", "-c", "echo ok"]]
          allowLogs: false
          allowStdin: true
        extraData:
          z.conf: |
            has ''' quotes
          a.conf: |
            key = "value"
        configMap:
          namespace: coco
      - name: debug
        kbs:
          url: http://kbs.example.com:8080
        policy:
          profile: debug
        annotations:
          legacyPolicy: true
      - name: sha256
        algorithm: sha256
        kbs:
          url: http://kbs.example.com:8080
  clusterGroups:
` + testkit.Indent(testkit.Group("spoke", "workloads", "{type: baremetal, baremetal: {tee: tdx}}", testkit.App("hello", "apps/hello-openshift/confidential", "full")), 4) + "\n"
}

// ref is the named profile of p.
func ref(t testing.TB, p *spec.Pattern, name string) spec.ProfileRef {
	t.Helper()
	r, ok := p.ProfileRef(name)
	if !ok {
		t.Fatalf("no profile %q", name)
	}
	return r
}

func TestBuild(t *testing.T) {
	p := testkit.Load(t, testPattern)
	r, err := profiles.Build(p, ref(t, p, "default"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := initdata.Parse(r.TOML)
	if err != nil {
		t.Fatal(err)
	}
	// Used on Azure: sha256, the only algorithm its vTPM binding takes.
	if d.Algorithm != "sha256" || r.Algorithm != "sha256" {
		t.Errorf("algorithm %q, want sha256 for Azure", d.Algorithm)
	}
	if got := d.DataNames(); !cmp.Equal(got, []string{"aa.toml", "cdh.toml", "policy.rego"}) {
		t.Errorf("data entries %v", got)
	}
	if d.Data["policy.rego"] != r.Policy {
		t.Error("Policy differs from the document's policy.rego")
	}
	want, _ := policies.Render(policies.Options{Profile: policies.ExecDeny})
	if r.Policy != want {
		t.Error("policy is not the exec-deny profile's")
	}
	dec, err := initdata.Decode(r.Annotation)
	if err != nil || !bytes.Equal(dec, r.TOML) {
		t.Fatalf("annotation does not decode to the TOML: %v", err)
	}
	dg, _ := initdata.Digest("sha256", r.TOML)
	if !bytes.Equal(dg, r.Digest) {
		t.Error("digest is not sha256(TOML)")
	}
	if got := r.Annotations; !cmp.Equal(got, map[string]string{initdata.AnnotationInitData: r.Annotation}) {
		t.Errorf("annotations %v", got)
	}
	if r.ConfigMapName != "initdata-default" || r.ConfigMapNamespace != "trustee-operator-system" {
		t.Errorf("ConfigMap %s/%s", r.ConfigMapNamespace, r.ConfigMapName)
	}
	for _, name := range []string{"aa.toml", "cdh.toml"} {
		var m map[string]any
		if err := toml.Unmarshal([]byte(d.Data[name]), &m); err != nil {
			t.Errorf("%s is not TOML: %v", name, err)
		}
	}
	// Pure: a second build gives the same bytes.
	r2, err := profiles.Build(p, ref(t, p, "default"))
	if err != nil || r2.Annotation != r.Annotation || !bytes.Equal(r2.TOML, r.TOML) {
		t.Error("Build is not deterministic")
	}
}

func TestBuildFull(t *testing.T) {
	cert, _ := testkit.Certificate(t, "kbs.example.com")
	p := testkit.Load(t, fullPattern(cert))
	r, err := profiles.Build(p, ref(t, p, "full"))
	if err != nil {
		t.Fatal(err)
	}
	d := r.Document
	var aa struct {
		TokenConfigs struct {
			CocoAS *struct{ URL string } `toml:"coco_as"`
			KBS    struct {
				URL  string
				Cert string
			} `toml:"kbs"`
		} `toml:"token_configs"`
	}
	if err := toml.Unmarshal([]byte(d.Data["aa.toml"]), &aa); err != nil {
		t.Fatalf("aa.toml: %v\n%s", err, d.Data["aa.toml"])
	}
	if aa.TokenConfigs.KBS.URL != "https://kbs.example.com:8443" || aa.TokenConfigs.CocoAS != nil || aa.TokenConfigs.KBS.Cert != cert {
		t.Errorf("aa.toml: %+v", aa)
	}
	var cdh struct {
		Socket      string
		Credentials []any
		KBC         struct {
			Name    string
			URL     string
			KBSCert string `toml:"kbs_cert"`
		} `toml:"kbc"`
		Image struct {
			Policy      string   `toml:"image_security_policy_uri"`
			Credentials string   `toml:"authenticated_registry_credentials_uri"`
			ExtraRoots  []string `toml:"extra_root_certificates"`
		} `toml:"image"`
	}
	if err := toml.Unmarshal([]byte(d.Data["cdh.toml"]), &cdh); err != nil {
		t.Fatalf("cdh.toml: %v\n%s", err, d.Data["cdh.toml"])
	}
	if cdh.Socket != initdata.CDHSocket || cdh.KBC.Name != "cc_kbc" || cdh.KBC.URL != "https://kbs.example.com:8443" || cdh.KBC.KBSCert != cert ||
		cdh.Image.Policy != "kbs:///default/security-policy/strict" || cdh.Image.Credentials != "kbs:///default/credential/pull" ||
		!cmp.Equal(cdh.Image.ExtraRoots, []string{cert, cert}) || cdh.Credentials == nil {
		t.Errorf("cdh.toml: %+v", cdh)
	}
	if d.Algorithm != "sha512" || len(r.Digest) != 64 {
		t.Errorf("algorithm %s, digest %d bytes", d.Algorithm, len(r.Digest))
	}
	if got := d.DataNames(); !cmp.Equal(got, []string{"aa.toml", "cdh.toml", "policy.rego", "a.conf", "z.conf"}) {
		t.Errorf("data order %v", got)
	}
	if d.Data["z.conf"] != "has ''' quotes\n" {
		t.Errorf("z.conf = %q", d.Data["z.conf"])
	}
	if len(r.Annotations) != 1 || r.Annotations[initdata.AnnotationInitData] != r.Annotation {
		t.Errorf("annotations %v", r.Annotations)
	}
	dbg, err := profiles.Build(p, ref(t, p, "debug"))
	if err != nil {
		t.Fatal(err)
	}
	if pol, err := base64.StdEncoding.DecodeString(dbg.Annotations[initdata.AnnotationPolicy]); err != nil || string(pol) != dbg.Policy {
		t.Errorf("legacyPolicy annotation does not decode to the policy: %v", err)
	}
	if r.ConfigMapNamespace != "coco" {
		t.Errorf("namespace %q", r.ConfigMapNamespace)
	}
	if !strings.Contains(r.Policy, `"/bin/date"`) || !strings.Contains(r.Policy, `"allow_stdin": true`) {
		t.Error("policy options not passed through")
	}
	cm := r.ConfigMapData()
	for _, k := range []string{"INITDATA", "DIGEST", "ALGORITHM", "PCR8_HASH", "SNP_HOSTDATA", "TDX_MRCONFIGID", "version", "algorithm", "aa.toml", "cdh.toml", "policy.rego", "a.conf", "z.conf"} {
		if cm[k] == "" {
			t.Errorf("ConfigMap data lacks %s", k)
		}
	}
	if cm["DIGEST"] != hex.EncodeToString(r.Digest) || cm["INITDATA"] != r.Annotation {
		t.Error("ConfigMap digest or INITDATA wrong")
	}
}

// TestPoliciesCompile compiles every policy Build can emit with OPA and
// parses its policy_data as JSON.
func TestPoliciesCompile(t *testing.T) {
	cert, _ := testkit.Certificate(t, "kbs.example.com")
	p := testkit.Load(t, fullPattern(cert))
	for _, prof := range p.Spec.InitData.Profiles {
		t.Run(prof.Name, func(t *testing.T) {
			r, err := profiles.Build(p, ref(t, p, prof.Name))
			if err != nil {
				t.Fatal(err)
			}
			CompilePolicy(t, r.Policy)
		})
	}
}

// CompilePolicy fails t unless rego compiles and ends with a JSON
// policy_data object.
func CompilePolicy(t *testing.T, text string) {
	t.Helper()
	_, err := rego.New(rego.Query("data.agent_policy"), rego.Module("policy.rego", text)).PrepareForEval(context.Background())
	if err != nil {
		t.Fatalf("policy does not compile: %v", err)
	}
	i := strings.LastIndex(text, policyDataPrefix)
	if i < 0 {
		t.Fatal("no policy_data")
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(text[i+len(policyDataPrefix):]), &data); err != nil {
		t.Fatalf("policy_data is not a JSON object: %v", err)
	}
}

func TestBuildTooLarge(t *testing.T) {
	p := testkit.Load(t, testPattern)
	// Hex of random bytes compresses to about half; base64 adds a third.
	var b strings.Builder
	seed := sha256.Sum256([]byte("x"))
	for b.Len() < 2*initdata.MaxAnnotationSize {
		seed = sha256.Sum256(seed[:])
		b.WriteString(hex.EncodeToString(seed[:]) + "\n")
	}
	p.Spec.InitData.Profiles[0].ExtraData = map[string]string{"big.txt": b.String()}
	_, err := profiles.Build(p, ref(t, p, "default"))
	var fe *spec.FieldError
	if !errors.As(err, &fe) || !strings.Contains(fe.Msg, "above the Kubernetes limit") {
		t.Fatalf("err = %v, want a FieldError about the size limit", err)
	}
}

// policyDataPrefix starts the last statement of a rendered policy.
const policyDataPrefix = "policy_data := "

// TestLegacyPolicyIsPinned: with the legacy policy annotation, the agent
// starts with the init-data's policy, which allows the shim's
// SetPolicyRequest of the annotation's policy and no other; once
// installed, that policy allows none.
func TestLegacyPolicyIsPinned(t *testing.T) {
	doc := strings.Replace(testPattern, "        policy: {profile: exec-deny}\n", "        policy: {profile: exec-deny}\n        annotations: {legacyPolicy: true}\n", 1)
	p := testkit.Load(t, doc)
	r, err := profiles.Build(p, ref(t, p, "default"))
	if err != nil {
		t.Fatal(err)
	}
	annotation, err := base64.StdEncoding.DecodeString(r.Annotations[initdata.AnnotationPolicy])
	if err != nil {
		t.Fatal(err)
	}
	if string(annotation) == r.Policy || !strings.Contains(r.Policy, "pinned_policy := ") {
		t.Fatal("the init-data's policy does not pin the annotation's")
	}
	setPolicy := func(policy, text string) bool {
		t.Helper()
		// The agent's data: an empty policy state (kata 3.25.0
		// src/agent/policy/src/policy.rs).
		q, err := rego.New(rego.Query("data.agent_policy.SetPolicyRequest"), rego.Module("policy.rego", policy),
			rego.Store(inmem.NewFromObject(map[string]any{"pstate": map[string]any{}})),
			rego.Input(map[string]any{"policy": text})).PrepareForEval(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		rs, err := q.Eval(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		allowed, _ := rs[0].Expressions[0].Value.(bool)
		return allowed
	}
	if !setPolicy(r.Policy, string(annotation)) {
		t.Error("the init-data's policy refuses the annotation's")
	}
	if setPolicy(r.Policy, string(annotation)+"\n# more") || setPolicy(string(annotation), string(annotation)) {
		t.Error("another replacement is allowed")
	}
}
