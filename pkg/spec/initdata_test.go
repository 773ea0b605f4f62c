package spec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/spec"
)

// initDataPattern is a valid pattern with no hub; profiles is spliced in
// under spec.initData and trustee under spec.
func initDataPattern(profiles, trustee string) string {
	return testkit.Pattern{}.YAML() + trustee + `
  initData:
    profiles:
` + profiles + `
  clusterGroups:
    - name: spoke
      roles: [workloads]
      selector:
        matchLabels: {cluster: spoke}
      platform: {type: azure}
      applications:
        - name: hello
          namespace: hello
          source: {path: apps/hello}
          confidential: {initData: default}
`
}

func parseErrs(t *testing.T, doc string) []string {
	t.Helper()
	_, err := spec.Parse("p.yaml", []byte(doc), spec.LoadOptions{})
	if err == nil {
		return nil
	}
	var l spec.ErrorList
	if !errors.As(err, &l) {
		t.Fatalf("error %v is not an ErrorList", err)
	}
	var out []string
	for _, e := range l {
		out = append(out, e.Path+": "+e.Msg)
	}
	return out
}

func certPEM(t *testing.T) (cert, key string) {
	t.Helper()
	return testkit.Certificate(t, "kbs")
}

func yamlBlock(s string, indent int) string {
	return "|\n" + testkit.Indent(s, indent)
}

func TestInitDataDefaults(t *testing.T) {
	p, err := spec.Parse("p.yaml", []byte(initDataPattern("      - name: default", "  trustee:\n    url: https://kbs.example.com")), spec.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	prof := p.Spec.InitData.Profile("default")
	// Used on Azure (the pattern's one group): sha256; used by a
	// confidential application: bound to its pod spec.
	if prof.Algorithm != "sha256" || prof.Policy.Profile != "workload" || prof.Policy.AllowLogs == nil || !*prof.Policy.AllowLogs {
		t.Errorf("defaults not applied: %+v", prof)
	}
	for platform, want := range map[string]string{
		"{type: baremetal, baremetal: {tee: tdx}}": "sha384",
		"{type: baremetal, baremetal: {tee: snp}}": "sha384",
		"{type: aws}": "sha384",
	} {
		doc := strings.Replace(initDataPattern("      - name: default", "  trustee:\n    url: https://kbs.example.com"), "platform: {type: azure}", "platform: "+platform, 1)
		q, err := spec.Parse("p.yaml", []byte(doc), spec.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := q.Spec.InitData.Profile("default").Algorithm; got != want {
			t.Errorf("%s: algorithm %s, want %s", platform, got, want)
		}
	}
	if k := p.InitDataKBS(prof); k.URL != "https://kbs.example.com" {
		t.Errorf("KBS URL %q, want spec.trustee.url", k.URL)
	}
	if ns := p.InitDataConfigMapNamespace(prof); ns != "openshift-sandboxed-containers-operator" {
		t.Errorf("namespace without a hub = %q", ns)
	}
	if users := p.InitDataUsers("default"); len(users) != 1 || users[0].Path() != "spec.clusterGroups[0].applications[0]" {
		t.Errorf("users %v", users)
	}
}

// TestDefaultPolicyProfile: a profile confidential applications use binds
// them to their pod specs unless the author says otherwise; one that is a
// peer-pods default (pods cocogen never sees) or unused gets exec-deny.
func TestDefaultPolicyProfile(t *testing.T) {
	trustee := "  trustee:\n    url: https://kbs.example.com"
	for _, tc := range []struct {
		name, profiles, platform string
		want                     map[string]string
		peerPodsDefault          string
	}{
		{
			name:     "used by an application",
			profiles: "      - name: default",
			want:     map[string]string{"default": "workload"},
		},
		{
			name:     "explicit exec-deny stays",
			profiles: "      - name: default\n        policy: {profile: exec-deny}",
			want:     map[string]string{"default": "exec-deny"},
			// The application's own profile is the group's default.
			peerPodsDefault: "default",
		},
		{
			name:     "unused",
			profiles: "      - name: default\n      - name: other",
			want:     map[string]string{"default": "workload", "other": "exec-deny"},
			// Not the application's (it has one init-data per workload):
			// the pattern's first profile that has a document.
			peerPodsDefault: "other",
		},
		{
			name:            "the peer-pods default",
			profiles:        "      - name: default",
			platform:        "platform: {type: azure, peerPods: {initData: default}}",
			want:            map[string]string{"default": "exec-deny"},
			peerPodsDefault: "default",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := initDataPattern(tc.profiles, trustee)
			if tc.platform != "" {
				doc = strings.Replace(doc, "platform: {type: azure}", tc.platform, 1)
			}
			p, err := spec.Parse("p.yaml", []byte(doc), spec.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tc.want {
				if got := p.Spec.InitData.Profile(name).Policy.Profile; got != want {
					t.Errorf("profile %s: policy %s, want %s", name, got, want)
				}
			}
			got := ""
			if prof := p.PeerPodsInitData(&p.Spec.ClusterGroups[0]); prof != nil {
				got = prof.Name
			}
			if got != tc.peerPodsDefault {
				t.Errorf("peer-pods default %q, want %q", got, tc.peerPodsDefault)
			}
		})
	}
}

func TestInitDataValidation(t *testing.T) {
	cert, key := certPEM(t)
	trustee := "  trustee:\n    url: https://kbs.example.com"
	for _, tc := range []struct {
		name     string
		profiles string
		trustee  string
		want     []string // substrings, one per expected error, any order
	}{
		{
			name:     "no KBS URL without hub",
			profiles: "      - name: default",
			want:     []string{`spec.initData.profiles[0].kbs.url: profile "default" is used by spec.clusterGroups[0].applications[0] but has no KBS URL`},
		},
		{
			name:     "bad fields all reported",
			profiles: "      - name: default\n        algorithm: md5\n        policy: {profile: yolo, allowExec: [[], [\"\"]]}\n        imageSecurityPolicyURI: https://x/y\n        registryCredentialsURI: kbs:///only/two\n        configMap: {namespace: Bad_NS}",
			trustee:  trustee,
			want: []string{
				`spec.initData.profiles[0].algorithm: unknown algorithm "md5"`,
				`spec.initData.profiles[0].configMap.namespace: "Bad_NS"`,
				`spec.initData.profiles[0].imageSecurityPolicyURI: want a KBS resource URI`,
				`spec.initData.profiles[0].policy.allowExec[0]: an exec rule is the full argv`,
				`spec.initData.profiles[0].policy.allowExec[1]: an exec rule is the full argv`,
				`spec.initData.profiles[0].policy.profile: unknown policy profile "yolo"`,
				`spec.initData.profiles[0].registryCredentialsURI: want a KBS resource URI`,
			},
		},
		{
			name:     "duplicate profile",
			profiles: "      - name: default\n      - name: default",
			trustee:  trustee,
			want:     []string{`spec.initData.profiles[1].name: duplicate init-data profile "default"`},
		},
		{
			name:     "KBS URL with password",
			profiles: "      - name: default\n        kbs: {url: \"https://admin:hunter2@kbs.example.com\"}",
			want:     []string{`spec.initData.profiles[0].kbs.url: credentials in the KBS URL`},
		},
		{
			name:     "private key as certificate",
			profiles: "      - name: default\n        kbs:\n          certificate: " + yamlBlock(cert+key, 12),
			trustee:  trustee,
			want:     []string{`spec.initData.profiles[0].kbs.certificate: holds a PEM private key`},
		},
		{
			name:     "private key inherited from trustee",
			profiles: "      - name: default",
			trustee:  trustee + "\n    certificate: " + yamlBlock(key, 6),
			// Reported once, where it was written.
			want: []string{`spec.trustee.certificate: want PEM certificates only, found a "PRIVATE KEY" block`},
		},
		{
			name:     "certificate pinned on http",
			profiles: "      - name: default\n        kbs:\n          url: http://kbs.example.com\n          certificate: " + yamlBlock(cert, 12),
			want:     []string{`spec.initData.profiles[0].kbs: a KBS certificate pins TLS`},
		},
		{
			name:     "garbage CA",
			profiles: "      - name: default\n        extraCACertificates: [\"not a cert\"]",
			trustee:  trustee,
			want:     []string{`spec.initData.profiles[0].extraCACertificates[0]: want one or more PEM certificates`},
		},
		{
			name: "secrets in extraData",
			profiles: "      - name: default\n        extraData:\n" +
				"          aa.toml: x\n" +
				"          registry-auth.json: '{\"auths\": {\"quay.io\": {\"auth\": \"dXNlcjpwYXNzd29yZA==\"}}}'\n" +
				"          acm.conf: 'key = {{hub fromSecret \"ns\" \"s\" \"k\" hub}}'\n" +
				"          avp.conf: 'key = <path:secret/data/app#key>'\n" +
				"          app.conf: 'password = s3cr3t'\n" +
				"          env.conf: 'valueFrom: {secretKeyRef: {name: s, key: k}}'\n" +
				"          tls.key: x\n" +
				"          gh.conf: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'\n" +
				"          ok.conf: 'secret = \"kbs:///default/app/key\"'\n" +
				"          \"bad name\": x\n" +
				"          tmpl.conf: 'x = {{ .Values.x }}'",
			trustee: trustee,
			want: []string{
				`extraData["bad name"]: invalid name`,
				`extraData["aa.toml"]: "aa.toml" is written by cocogen itself`,
				`extraData["acm.conf"]: holds a template expression that reads a Secret`,
				`extraData["app.conf"]: assigns a value to "password"`,
				`extraData["avp.conf"]: holds an argocd-vault-plugin placeholder`,
				`extraData["env.conf"]: references a Kubernetes Secret`,
				`extraData["gh.conf"]: holds a GitHub token`,
				`extraData["registry-auth.json"]: "registry-auth.json" is named like a credential`,
				`extraData["tls.key"]: "tls.key" is named like a credential`,
				`extraData["tmpl.conf"]: holds a template expression ({{ ... }})`,
			},
		},
		{
			name:     "secret in exec argv",
			profiles: "      - name: default\n        policy:\n          allowExec: [[\"curl\", \"-H\", \"Authorization: Bearer abc.def\"]]",
			trustee:  trustee,
			want:     []string{`spec.initData.profiles[0].policy.allowExec[0][2]: holds an Authorization header`},
		},
		{
			name:     "valid full profile",
			profiles: "      - name: default\n        algorithm: sha256\n        kbs:\n          url: https://kbs.example.com\n          certificate: " + yamlBlock(cert, 12) + "\n        extraCACertificates:\n          - " + yamlBlock(cert+cert, 12) + "\n        imageSecurityPolicyURI: kbs:///default/security-policy/test\n        registryCredentialsURI: kbs:///default/credential/test\n        policy: {profile: debug, allowExec: [[\"/bin/date\"]], allowLogs: false, allowStdin: true}\n        extraData: {app.conf: \"mode = strict\\n\"}\n        configMap: {namespace: coco}\n        annotations: {legacyPolicy: true, override: true}",
		},
		{
			name:     "Azure needs sha256",
			profiles: "      - name: default\n        algorithm: sha384",
			trustee:  trustee,
			want:     []string{`spec.initData.profiles[0].algorithm: profile "default" runs on Azure confidential VMs (vTPM), which allow only sha256: on Azure the attestation agent extends the vTPM's PCR8`},
		},
		{
			// The legacy policy annotation is fine: the init-data's
			// policy pins it (policies.PinSetPolicy).
			name:     "legacy name the line does not read",
			profiles: "      - name: default\n        policy: {profile: exec-deny}\n        annotations: {legacyName: true, legacyPolicy: true}",
			trustee:  trustee,
			want: []string{
				`spec.initData.profiles[0].annotations.legacyName: the kata runtime of release line openshift-1.13 reads init-data only from io.katacontainers.config.hypervisor.cc_init_data`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := parseErrs(t, initDataPattern(tc.profiles, tc.trustee))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for _, w := range tc.want {
				found := false
				for _, g := range got {
					found = found || strings.Contains(g, w)
				}
				if !found {
					t.Errorf("no error contains %q; got:\n%s", w, strings.Join(got, "\n"))
				}
			}
		})
	}
}

// TestConfidentialRuntimeClass: a confidential application runs in the
// class the group's sandboxed containers operator creates, and naming
// another one is an error.
func TestConfidentialRuntimeClass(t *testing.T) {
	base := initDataPattern("      - name: default", "  trustee:\n    url: https://kbs.example.com")
	for _, tc := range []struct{ name, from, to, want string }{
		{"other class", "confidential: {initData: default}", "confidential: {initData: default, runtimeClassName: runc}",
			`confidential.runtimeClassName: cluster group "spoke" provides runtime class "kata-remote" for confidential pods, not "runc"`},
		{"peer pods class on bare metal", "platform: {type: azure}", "platform: {type: baremetal, baremetal: {tee: tdx}}\n      kataConfig: {}",
			`provides runtime class "kata-cc" for confidential pods, not "kata-remote"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(base, tc.from, tc.to, 1)
			if tc.name != "other class" {
				doc = strings.Replace(doc, "confidential: {initData: default}", "confidential: {initData: default, runtimeClassName: kata-remote}", 1)
			}
			got := parseErrs(t, doc)
			if len(got) != 1 || !strings.Contains(got[0], tc.want) {
				t.Errorf("errors %v, want one containing %q", got, tc.want)
			}
		})
	}
}

func TestSecretReason(t *testing.T) {
	for s, secret := range map[string]bool{
		"-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----": true,
		"-----BEGIN OPENSSH PRIVATE KEY-----":                                 true,
		"AKIAABCDEFGHIJKLMNOP":                                                true,
		"https://user:pass@example.com/x":                                     true,
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc":                true,
		"apiVersion: v1\nkind: Secret\n":                                      true,
		"token: abcd":                                                         true,
		"https://kbs.example.com":                                             false,
		"[token_configs]\n[token_configs.kbs]\nurl = \"x\"":                   false,
		"secret_name = \"foo\"":                                               false,
		"password = \"\"":                                                     false,
		"-----BEGIN CERTIFICATE-----":                                         false,
		"/bin/sh":                                                             false,
	} {
		if got := spec.SecretReason(s) != ""; got != secret {
			t.Errorf("SecretReason(%q) = %q, want secret=%v", s, spec.SecretReason(s), secret)
		}
	}
}
