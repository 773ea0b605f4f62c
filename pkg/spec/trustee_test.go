package spec_test

import (
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/spec"
)

// hubSpoke is a valid hub-and-spoke pattern; trustee and acm are spliced in
// under spec, spoke under the spoke group.
func hubSpoke(trustee, acm, spoke string) string {
	return testkit.Pattern{Name: "coco"}.YAML() + trustee + acm + `
  initData:
    profiles:
      - name: default
  clusterGroups:
    - name: hub
      roles: [hub]
      selector:
        matchLabels: {local-cluster: "true"}
      platform: {type: azure}
    - name: spoke
      roles: [workloads]
      selector:
        matchLabels: {cluster: spoke}
      platform:
        type: azure
` + spoke + `
      applications:
        - name: hello
          namespace: hello
          source: {path: apps/hello}
          confidential: {initData: default}
`
}

const kbsURL = "  trustee:\n    url: https://kbs.apps.hub.example.com\n"

func TestTrusteeAndACMDefaults(t *testing.T) {
	p, err := spec.Parse("p.yaml", []byte(hubSpoke(kbsURL, "", "")), spec.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr := p.Spec.Trustee
	if tr.Namespace != "trustee-operator-system" || tr.KbsConfigName != "kbsconfig" || tr.ServiceType != "ClusterIP" ||
		tr.TLSSecret.Name != "kbs-tls" || tr.AdminSecret.Name != "kbs-auth-public-key" ||
		*tr.TokenDurationMinutes != 5 || tr.SecretStore.Kind != "ClusterSecretStore" {
		t.Errorf("trustee defaults: %+v", tr)
	}
	a := p.Spec.ACM
	if a.PolicyNamespace != "cocogen-policies" || a.ClusterSet != "global" || a.RemediationAction != "enforce" {
		t.Errorf("acm defaults: %+v", a)
	}
	spoke := &p.Spec.ClusterGroups[1]
	if !p.IsSpoke(spoke) || p.IsSpoke(&p.Spec.ClusterGroups[0]) {
		t.Error("IsSpoke")
	}
	// The one profile binds the application to its pod spec, so it has
	// no document of its own to be the spoke's peer-pods default.
	if prof := p.PeerPodsInitData(spoke); prof != nil {
		t.Errorf("peer-pods init-data %v", prof)
	}
	if got := p.PeerPodsPolicyName(spoke); got != "coco-spoke-peer-pods" {
		t.Errorf("policy name %q", got)
	}
	if ns := spoke.SandboxedContainersNamespace(); ns != "openshift-sandboxed-containers-operator" {
		t.Errorf("sandboxed containers namespace %q", ns)
	}
}

func TestTrusteeAndACMValidation(t *testing.T) {
	cert, key := certPEM(t)
	for _, tc := range []struct {
		name                string
		trustee, acm, spoke string
		want                []string // substrings, one per expected error
	}{
		{
			name: "spokes need the KBS URL",
			want: []string{`spec.trustee.url: cluster group "spoke" runs workloads on spoke clusters, which reach the hub's KBS only from outside the hub: set spec.trustee.ingressDomain`},
		},
		{
			name:    "URL must be the HTTPS base URL",
			trustee: "  trustee:\n    url: http://kbs.example.com/kbs/v0\n",
			want:    []string{`spec.trustee.url: want the KBS base URL, https://host[:port], got "http://kbs.example.com/kbs/v0"`},
		},
		{
			name:    "certificate, never a key",
			trustee: kbsURL + "    certificate: " + yamlBlock(cert+key, 6) + "\n",
			// Once, where it was written, not again per profile inheriting it.
			want: []string{`spec.trustee.certificate: want PEM certificates only, found a "PRIVATE KEY" block`},
		},
		{
			name:    "certificate must parse",
			trustee: kbsURL + "    certificate: not a certificate\n",
			want:    []string{`spec.trustee.certificate: want one or more PEM certificates`},
		},
		{
			name: "secrets and store",
			trustee: kbsURL + `    serviceType: Route
    tokenDurationMinutes: 0
    tlsSecret: {name: shared, remoteKey: a}
    adminSecret: {name: shared}
    secretStore: {kind: Vault}
    resources:
      - {name: Bad_Name}
`,
			want: []string{
				`spec.trustee.serviceType: want ClusterIP, NodePort or LoadBalancer, got "Route"`,
				`spec.trustee.tokenDurationMinutes: must be at least 1, got 0`,
				`spec.trustee.adminSecret.name: Secret "shared" is also spec.trustee.tlsSecret`,
				`spec.trustee.secretStore.kind: want ClusterSecretStore or SecretStore, got "Vault"`,
				`spec.trustee.secretStore.name: required: a secret has a remoteKey`,
				`spec.trustee.resources[0].name: "Bad_Name"`,
				`spec.trustee.resources[0]: Secret "Bad_Name" has no source: set remoteKey`,
				`spec.trustee.resources[0].profiles: name the init-data profiles whose pods may fetch Secret "Bad_Name" (have: default)`,
			},
		},
		{
			name: "secret sources",
			trustee: kbsURL + `    tlsSecret: {name: tls, remoteKey: a, source: existing}
    adminSecret: {name: admin, source: vault}
    secretStore: {name: vault-backend, existing: true}
    referenceValueExpiration: "2100-13-01"
    ingressDomain: "Apps_Hub"
    resources:
      - {name: generated, source: generate, profiles: [default, nosuch]}
      - {name: mine, source: existing, profiles: [default]}
`,
			want: []string{
				`spec.trustee.tlsSecret.source: set remoteKey (External Secrets copies the Secret from the store) or source, not both`,
				`spec.trustee.adminSecret.source: want generate or existing, got "vault"`,
				`spec.trustee.resources[0].source: "generate" makes only the KBS's own keys`,
				`spec.trustee.resources[0].profiles[1]: no init-data profile "nosuch" (have: default)`,
				`spec.trustee.referenceValueExpiration: want a date YYYY-MM-DD, got "2100-13-01"`,
				`spec.trustee.ingressDomain: "Apps_Hub"`,
			},
		},
		{
			name:    "a store named but not made",
			trustee: kbsURL + "    resources: [{name: r, remoteKey: a/b, profiles: [default]}]\n    secretStore: {name: vault-backend}\n",
			want:    []string{`spec.trustee.secretStore: store "vault-backend" is named but nothing makes it: describe it (vault) for cocogen to create it, or say existing: true`},
		},
		{
			name: "vault store",
			trustee: kbsURL + `    resources: [{name: r, remoteKey: a/b, profiles: [default]}]
    secretStore:
      name: vault-backend
      kind: SecretStore
      existing: true
      vault:
        server: http://vault.example.com
        version: v3
        auth: {serviceAccount: {name: Bad_SA}}
        caBundleConfigMap: {name: ca}
`,
			want: []string{
				`spec.trustee.secretStore.existing: a store cocogen creates (vault) does not exist already`,
				`spec.trustee.secretStore.kind: cocogen creates a Vault store as a ClusterSecretStore, not SecretStore`,
				`spec.trustee.secretStore.vault.server: want Vault's https URL, got "http://vault.example.com"`,
				`spec.trustee.secretStore.vault.version: want v1 or v2, got "v3"`,
				`spec.trustee.secretStore.vault.auth.role: required`,
				`spec.trustee.secretStore.vault.auth.serviceAccount.name: "Bad_SA"`,
				`spec.trustee.secretStore.vault.caBundleConfigMap.key: a key is required`,
				`spec.trustee.secretStore.vault.caBundleConfigMap.namespace: required`,
			},
		},
		{
			name: "reference values",
			trustee: kbsURL + `    referenceValues:
      init_data_pcr08: [abc]
      Azure-PCR11: [abc]
      azure_pcr12: []
      azure_pcr03: ["a\"b"]
`,
			want: []string{
				`spec.trustee.referenceValues.init_data_pcr08: "init_data_pcr08" is computed by cocogen`,
				`spec.trustee.referenceValues.Azure-PCR11: want a lower-case identifier`,
				`spec.trustee.referenceValues.azure_pcr12: list at least one accepted value`,
				`spec.trustee.referenceValues.azure_pcr03[0]: want a non-empty value without quotes`,
			},
		},
		{
			name:    "acm settings",
			trustee: kbsURL,
			acm:     "  acm:\n    policyNamespace: openshift-gitops\n    clusterSet: Bad_Set\n    remediationAction: fix\n",
			want: []string{
				`spec.acm.policyNamespace: "openshift-gitops" is a system namespace`,
				`spec.acm.clusterSet: "Bad_Set"`,
				`spec.acm.remediationAction: want enforce or inform, got "fix"`,
			},
		},
		{
			name:    "replicated policy names fit ACM's limit",
			trustee: kbsURL,
			acm:     "  acm:\n    policyNamespace: " + strings.Repeat("p", 50) + "\n",
			want:    []string{`spec.clusterGroups[0].name: ACM policy "coco-hub-peer-pods"`, `spec.clusterGroups[1].name: ACM policy "coco-spoke-peer-pods"`},
		},
		{
			name:    "peer pods settings written into templates",
			trustee: kbsURL,
			spoke:   "        azure:\n          region: West Europe\n          tags: {owner: \"{{ lookup }}\"}\n        peerPods: {initData: nope}\n",
			want: []string{
				`spec.clusterGroups[1].platform.peerPods.initData: no init-data profile "nope"`,
				`spec.clusterGroups[1].platform.azure.region: invalid region "West Europe"`,
				`spec.clusterGroups[1].platform.azure.tags.owner: tags may not contain '{{'`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := parseErrs(t, hubSpoke(tc.trustee, tc.acm, tc.spoke))
			if len(errs) != len(tc.want) {
				t.Errorf("got %d errors, want %d:\n  %s", len(errs), len(tc.want), strings.Join(errs, "\n  "))
			}
			for _, w := range tc.want {
				found := false
				for _, e := range errs {
					found = found || strings.Contains(e, w)
				}
				if !found {
					t.Errorf("missing error %q in:\n  %s", w, strings.Join(errs, "\n  "))
				}
			}
		})
	}
}

// TestNodePreparationNeedsNFD: explicit operators must include the Node
// Feature Discovery operator the node preparation configures, and roles
// only go with prepareNodes.
func TestNodePreparationNeedsNFD(t *testing.T) {
	doc := testkit.Pattern{}.YAML() + `  clusterGroups:
    - name: tdx
      roles: [workloads]
      selector: {matchLabels: {tee: tdx}}
      operators: [{name: sandboxed-containers-operator}]
      platform: {type: baremetal, baremetal: {tee: tdx, prepareNodes: true, machineConfigRoles: [Worker]}}
    - name: snp
      roles: [workloads]
      selector: {matchLabels: {tee: snp}}
      platform: {type: baremetal, baremetal: {tee: snp, machineConfigRoles: [worker]}}
`
	got := parseErrs(t, doc)
	want := []string{
		`spec.clusterGroups[0].platform.baremetal.machineConfigRoles[0]: "Worker"`,
		`spec.clusterGroups[0].platform.baremetal.prepareNodes: node preparation needs the Node Feature Discovery operator: add {name: nfd} to the group's operators`,
		`spec.clusterGroups[1].platform.baremetal.machineConfigRoles: MachineConfigs are rendered only with prepareNodes: true`,
	}
	if len(got) != len(want) {
		t.Fatalf("errors:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d: %s, want %s", i, got[i], want[i])
		}
	}
}

// TestSecretScanAllowNeedsAReason: an allowance names the object and field
// and says why; a repoURL with a password is refused without echoing it.
func TestSecretScanAllowNeedsAReason(t *testing.T) {
	doc := strings.Replace(testkit.Pattern{}.YAML(), "https://github.com/example/", "https://bot:hunter2@github.com/example/", 1) + `  secretScan:
    allow:
      - {field: data.x, reason: " "}
  clusterGroups:
    - name: edge
      roles: [workloads]
      selector: {matchLabels: {edge: "true"}}
      platform: {type: baremetal, baremetal: {tee: tdx}}
`
	got := strings.Join(parseErrs(t, doc), "\n")
	for _, want := range []string{
		"spec.secretScan.allow[0].object: required",
		"spec.secretScan.allow[0].reason: required",
		"spec.source.repoURL: https://bot:xxxxx@github.com/",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "hunter2") {
		t.Error("the password is echoed")
	}
}
