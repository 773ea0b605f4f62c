package acm_test

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cocogen/cocogen/generators/acm"
	"github.com/cocogen/cocogen/internal/profiles"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/schema"
	"github.com/cocogen/cocogen/pkg/spec"
	"github.com/cocogen/cocogen/pkg/waves"
)

// The ARM IDs fixtures/openshift-azure/README.md lists for its cluster.
const (
	wantSubnetID = "/subscriptions/3d1e7c52-9a4b-4f6e-8c2d-5b7a1e0f4c98/resourceGroups/coco-network-rg/providers/Microsoft.Network/virtualNetworks/coco-7xk2p-vnet/subnets/coco-7xk2p-worker-subnet"
	wantNSGID    = "/subscriptions/3d1e7c52-9a4b-4f6e-8c2d-5b7a1e0f4c98/resourceGroups/coco-7xk2p-rg/providers/Microsoft.Network/networkSecurityGroups/coco-7xk2p-nsg"
)

// header is the start of every pattern here; the rest of spec follows it.
var header = testkit.Pattern{Name: "coco"}.YAML()

// simplePattern is one Azure cluster doing everything.
var simplePattern = header + `  trustee:
    url: https://kbs-trustee-operator-system.apps.coco.example.com
  initData:
    profiles:
      - name: default
        policy: {profile: exec-deny}
  clusterGroups:
    - name: simple
      roles: [hub, workloads]
      selector:
        matchLabels:
          local-cluster: "true"
      platform:
        type: azure
      applications:
        - name: hello
          namespace: hello
          source: {path: apps/hello-openshift/confidential}
          confidential: {initData: default}
`

// hubSpokePattern runs Trustee and ACM on a hub and workloads on Azure
// spokes.
var hubSpokePattern = header + `  trustee:
    url: https://kbs-trustee-operator-system.apps.hub.example.com
  initData:
    profiles:
      - name: default
        policy: {profile: exec-deny}
      - name: debug
        policy: {profile: debug}
  clusterGroups:
    - name: hub
      roles: [hub]
      selector:
        matchLabels: {cluster.open-cluster-management.io/clusterset: hub}
      platform: {type: azure}
    - name: spokes
      roles: [workloads]
      selector:
        matchLabels: {coco.example.com/role: workloads}
        matchExpressions:
          - {key: environment, operator: In, values: [prod, stage]}
      platform:
        type: azure
        azure:
          region: westeurope
          instanceSizes: [Standard_DC4as_v5, Standard_DC8as_v5]
          defaultInstanceSize: Standard_DC4as_v5
          tags: {owner: coco, env: prod}
        peerPods:
          rootVolumeSize: 30
          limitPerNode: 4
          initData: debug
      applications:
        - name: hello
          namespace: hello
          source: {path: apps/hello-openshift/confidential}
          confidential: {initData: default}
`

var load = testkit.Load

// generate runs the ACM generator alone and schema-checks its output.
func generate(t *testing.T, p *spec.Pattern) (*manifest.Set, []string) {
	t.Helper()
	set, in, err := testkit.Generate(t, acm.New(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Check(); err != nil {
		t.Fatal(err)
	}
	for _, o := range set.Objects {
		if err := schema.Default().Validate(o.Content); err != nil {
			t.Errorf("%s: %v", o.ID(), err)
		}
	}
	var warnings []string
	for _, f := range in.Findings() {
		warnings = append(warnings, f.Message)
	}
	return set, warnings
}

func mustGenerate(t *testing.T, doc string) *manifest.Set {
	t.Helper()
	set, _ := generate(t, load(t, doc))
	return set
}

func find(t *testing.T, set *manifest.Set, kind, name string) manifest.Object {
	t.Helper()
	return testkit.Find(t, set, kind, "", name)
}

// policyTemplate returns the ConfigurationPolicy of a Policy by name.
func policyTemplate(t *testing.T, pol manifest.Object, name string) map[string]any {
	t.Helper()
	for _, pt := range pol.Content["spec"].(map[string]any)["policy-templates"].([]any) {
		def := pt.(map[string]any)["objectDefinition"].(map[string]any)
		if def["metadata"].(map[string]any)["name"] == name {
			return def
		}
	}
	t.Fatalf("policy %s has no template %q", pol.Name(), name)
	return nil
}

// initDataConfigMap is the ConfigMap the init-data generator emits for a
// profile, built from the same library.
func initDataConfigMap(t *testing.T, p *spec.Pattern, profile string) (*profiles.Profile, map[string]any) {
	t.Helper()
	r, err := profiles.Build(p, profileRef(t, p, profile))
	if err != nil {
		t.Fatal(err)
	}
	return r, configMap(r.ConfigMapNamespace, r.ConfigMapName, r.ConfigMapData())
}

func only(t *testing.T, ots []objectTemplate) objectTemplate {
	t.Helper()
	if len(ots) != 1 {
		t.Fatalf("want one object template, got %d: %+v", len(ots), ots)
	}
	return ots[0]
}

func TestAzurePeerPodsConfigMap(t *testing.T) {
	p := load(t, simplePattern)
	set, warnings := generate(t, p)
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
	pol := find(t, set, "Policy", "coco-simple-peer-pods")
	cp := policyTemplate(t, pol, "coco-simple-peer-pods-cm")
	r, initCM := initDataConfigMap(t, p, "default")
	if r.ConfigMapNamespace != "trustee-operator-system" {
		t.Fatalf("init-data ConfigMap namespace %q: the hub group reads it from Trustee's namespace", r.ConfigMapNamespace)
	}

	want := map[string]string{
		"AZURE_INSTANCE_SIZE":     "Standard_DC2as_v5",
		"AZURE_INSTANCE_SIZES":    "Standard_DC2as_v5,Standard_DC4as_v5,Standard_DC8as_v5",
		"AZURE_NSG_ID":            wantNSGID,
		"AZURE_REGION":            "eastus",
		"AZURE_RESOURCE_GROUP":    "coco-7xk2p-rg",
		"AZURE_SUBNET_ID":         wantSubnetID,
		"CLOUD_PROVIDER":          "azure",
		"DISABLECVM":              "false",
		"INITDATA":                r.Annotation,
		"PEERPODS_LIMIT_PER_NODE": "10",
		"PROXY_TIMEOUT":           "5m",
		"VXLAN_PORT":              "9000",
	}
	t.Run("new cluster gets no AZURE_IMAGE_ID", func(t *testing.T) {
		ot := only(t, evaluate(t, fixtureCluster(t).with(initCM), cp))
		checkPeerPodsCM(t, ot, "openshift-sandboxed-containers-operator", want)
	})
	t.Run("built image ID is kept", func(t *testing.T) {
		existing := configMap("openshift-sandboxed-containers-operator", "peer-pods-cm", map[string]string{
			"AZURE_IMAGE_ID": "/subscriptions/3d1e7c52-9a4b-4f6e-8c2d-5b7a1e0f4c98/resourceGroups/coco-7xk2p-rg/providers/Microsoft.Compute/galleries/PodVMGallery/images/podvm-image/versions/0.0.1",
			"CLOUD_PROVIDER": "libvirt", // drift the policy corrects
			"STALE_KEY":      "removed by mustonlyhave",
		})
		ot := only(t, evaluate(t, fixtureCluster(t).with(initCM, existing), cp))
		withImage := map[string]string{"AZURE_IMAGE_ID": existing["data"].(map[string]any)["AZURE_IMAGE_ID"].(string)}
		for k, v := range want {
			withImage[k] = v
		}
		checkPeerPodsCM(t, ot, "openshift-sandboxed-containers-operator", withImage)
	})
	t.Run("an empty image ID is not kept", func(t *testing.T) {
		existing := configMap("openshift-sandboxed-containers-operator", "peer-pods-cm", map[string]string{"AZURE_IMAGE_ID": ""})
		ot := only(t, evaluate(t, fixtureCluster(t).with(initCM, existing), cp))
		checkPeerPodsCM(t, ot, "openshift-sandboxed-containers-operator", want)
	})
}

func checkPeerPodsCM(t *testing.T, ot objectTemplate, ns string, want map[string]string) {
	t.Helper()
	if ot.ComplianceType != "mustonlyhave" {
		t.Errorf("complianceType %q, want mustonlyhave", ot.ComplianceType)
	}
	def := ot.ObjectDefinition
	md := def["metadata"].(map[string]any)
	if def["kind"] != "ConfigMap" || md["name"] != "peer-pods-cm" || md["namespace"] != ns {
		t.Errorf("object %v %v/%v, want ConfigMap %s/peer-pods-cm", def["kind"], md["namespace"], md["name"], ns)
	}
	if diff := cmp.Diff(want, stringMap(t, def["data"])); diff != "" {
		t.Errorf("peer-pods-cm data (-want +got):\n%s", diff)
	}
	if err := schema.Default().Validate(def); err != nil {
		t.Errorf("resolved peer-pods-cm: %v", err)
	}
}

func TestAzurePeerPodsSecret(t *testing.T) {
	if names := policyTemplateNames(find(t, mustGenerate(t, simplePattern), "Policy", "coco-simple-peer-pods")); slices.Contains(names, "coco-simple-peer-pods-secret") {
		t.Errorf("the operator mints peer-pods-secret on Azure, yet the policy writes it: %v", names)
	}
	p := load(t, strings.Replace(simplePattern, "        type: azure\n", "        type: azure\n        azure:\n          credentials: {namespace: openshift-cloud-controller-manager, name: azure-cloud-credentials}\n", 1))
	set, _ := generate(t, p)
	cp := policyTemplate(t, find(t, set, "Policy", "coco-simple-peer-pods"), "coco-simple-peer-pods-secret")
	if raw := mustJSON(t, cp); strings.Contains(raw, "not-a-real-secret-value") {
		t.Fatal("credentials rendered into the policy")
	}
	ot := only(t, evaluate(t, fixtureCluster(t), cp))
	def := ot.ObjectDefinition
	if def["kind"] != "Secret" || def["metadata"].(map[string]any)["name"] != "peer-pods-secret" {
		t.Fatalf("want Secret peer-pods-secret, got %v", def)
	}
	got := map[string]string{}
	for k, v := range stringMap(t, def["data"]) {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			t.Fatalf("%s: data is not base64: %v", k, err)
		}
		got[k] = string(b)
	}
	want := map[string]string{
		"AZURE_CLIENT_ID":       "6c1f0a2b-3d4e-4f50-8a9b-0c1d2e3f4a5b",
		"AZURE_CLIENT_SECRET":   "not-a-real-secret-value",
		"AZURE_TENANT_ID":       "8f0c2d8e-5b1a-4c3e-9d7f-2a6b4e1c9f30",
		"AZURE_SUBSCRIPTION_ID": "3d1e7c52-9a4b-4f6e-8c2d-5b7a1e0f4c98",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("peer-pods-secret (-want +got):\n%s", diff)
	}
	if ot.ComplianceType != "mustonlyhave" || ot.RecordDiff != "None" {
		t.Errorf("complianceType %q recordDiff %q, want mustonlyhave and None", ot.ComplianceType, ot.RecordDiff)
	}
	if err := schema.Default().Validate(def); err != nil {
		t.Errorf("resolved peer-pods-secret: %v", err)
	}
}

// TestAzureCloudProviderConfig reads the alternative source of cloud.conf,
// openshift-config/cloud-provider-config (key config).
func TestAzureCloudProviderConfig(t *testing.T) {
	doc := strings.Replace(simplePattern, "      platform:\n        type: azure\n", `      platform:
        type: azure
        azure:
          cloudConfig: {namespace: openshift-config, name: cloud-provider-config, key: config}
`, 1)
	p := load(t, doc)
	set, _ := generate(t, p)
	cp := policyTemplate(t, find(t, set, "Policy", "coco-simple-peer-pods"), "coco-simple-peer-pods-cm")
	_, initCM := initDataConfigMap(t, p, "default")
	var conf string
	var rest cluster
	for _, o := range fixtureCluster(t) {
		if o["kind"] == "ConfigMap" { // only the alternative source holds cloud.conf
			conf = o["data"].(map[string]any)["cloud.conf"].(string)
			continue
		}
		rest = append(rest, o)
	}
	rest = rest.with(initCM, configMap("openshift-config", "cloud-provider-config", map[string]string{"config": conf}))
	ot := only(t, evaluate(t, rest, cp))
	data := stringMap(t, ot.ObjectDefinition["data"])
	if data["AZURE_SUBNET_ID"] != wantSubnetID || data["AZURE_NSG_ID"] != wantNSGID {
		t.Errorf("subnet %q, NSG %q", data["AZURE_SUBNET_ID"], data["AZURE_NSG_ID"])
	}
}

// TestHubToSpoke follows init-data from the hub to a spoke: the hub's
// ConfigMap, the copy policy's hub templates resolved for a spoke, the copy
// on the spoke, and the spoke's peer-pods-cm reading it.
func TestHubToSpoke(t *testing.T) {
	p := load(t, hubSpokePattern)
	set, _ := generate(t, p)

	copyPol := find(t, set, "Policy", "coco-spokes-init-data")
	peerPods := find(t, set, "Policy", "coco-spokes-peer-pods")
	if got := copyPol.Dir; got != "hub" {
		t.Errorf("ACM objects belong to the hub group's directory, got %q", got)
	}
	// The hub namespace of init-data is Trustee's, not the policy
	// namespace, so hub templates need a service account allowed to read it.
	opts, _ := copyPol.Content["spec"].(map[string]any)["hubTemplateOptions"].(map[string]any)
	if opts["serviceAccountName"] != "coco-hub-templates" {
		t.Fatalf("hubTemplateOptions %v", opts)
	}
	find(t, set, "ServiceAccount", "coco-hub-templates")
	role := find(t, set, "Role", "coco-hub-templates")
	if role.Namespace() != "trustee-operator-system" {
		t.Errorf("Role in %q, want trustee-operator-system", role.Namespace())
	}
	find(t, set, "RoleBinding", "coco-hub-templates")

	deps := peerPods.Content["spec"].(map[string]any)["dependencies"].([]any)
	if diff := cmp.Diff([]any{map[string]any{
		"apiVersion": "policy.open-cluster-management.io/v1", "kind": "Policy",
		"name": "coco-spokes-init-data", "namespace": "cocogen-policies", "compliance": "Compliant",
	}}, deps); diff != "" {
		t.Errorf("peer-pods policy dependencies (-want +got):\n%s", diff)
	}

	defaultRendered, defaultCM := initDataConfigMap(t, p, "default")
	debugRendered, debugCM := initDataConfigMap(t, p, "debug")
	hub := cluster{defaultCM, debugCM,
		// a same-named ConfigMap elsewhere must not be what is copied
		configMap("cocogen-policies", "initdata-default", map[string]string{"INITDATA": "wrong"})}

	cp := policyTemplate(t, copyPol, "coco-spokes-init-data")
	replicated := propagate(t, hub, cp, "spoke-1", "")
	if s := mustJSON(t, replicated); strings.Contains(s, "{{") {
		t.Fatalf("templates left after hub resolution: %s", s)
	}
	spoke := fixtureCluster(t)
	copies := evaluate(t, spoke, replicated)
	if len(copies) != 2 {
		t.Fatalf("want the two profiles the spokes use copied, got %d", len(copies))
	}
	for i, r := range []*profiles.Profile{defaultRendered, debugRendered} {
		ot := copies[i]
		md := ot.ObjectDefinition["metadata"].(map[string]any)
		if md["name"] != r.ConfigMapName || md["namespace"] != "openshift-sandboxed-containers-operator" {
			t.Errorf("copy %d is %v/%v", i, md["namespace"], md["name"])
		}
		want := map[string]string{}
		for _, k := range acm.InitDataCopyKeys {
			want[k] = r.ConfigMapData()[k]
		}
		if diff := cmp.Diff(want, stringMap(t, ot.ObjectDefinition["data"])); diff != "" {
			t.Errorf("copy of %s (-want +got):\n%s", r.Name(), diff)
		}
		if err := schema.Default().Validate(ot.ObjectDefinition); err != nil {
			t.Error(err)
		}
		spoke = spoke.with(ot.ObjectDefinition)
	}

	// peer-pods-cm has no hub templates; on the spoke it reads the copy
	// of the profile named by platform.peerPods.initData.
	ppcm := propagate(t, hub, policyTemplate(t, peerPods, "coco-spokes-peer-pods-cm"), "spoke-1", "cocogen-policies")
	ot := only(t, evaluate(t, spoke, ppcm))
	checkPeerPodsCM(t, ot, "openshift-sandboxed-containers-operator", map[string]string{
		"AZURE_INSTANCE_SIZE":     "Standard_DC4as_v5",
		"AZURE_INSTANCE_SIZES":    "Standard_DC4as_v5,Standard_DC8as_v5",
		"AZURE_NSG_ID":            wantNSGID,
		"AZURE_REGION":            "westeurope", // the pattern overrides cloud.conf
		"AZURE_RESOURCE_GROUP":    "coco-7xk2p-rg",
		"AZURE_SUBNET_ID":         wantSubnetID,
		"CLOUD_PROVIDER":          "azure",
		"DISABLECVM":              "false",
		"INITDATA":                debugRendered.Annotation,
		"PEERPODS_LIMIT_PER_NODE": "4",
		"PROXY_TIMEOUT":           "5m",
		"ROOT_VOLUME_SIZE":        "30",
		"TAGS":                    "env=prod,owner=coco",
		"VXLAN_PORT":              "9000",
	})

	// The KBS URL reaches the spokes inside the init-data document.
	for _, r := range []*profiles.Profile{defaultRendered, debugRendered} {
		if !strings.Contains(string(r.TOML), "https://kbs-trustee-operator-system.apps.hub.example.com") {
			t.Errorf("profile %s: KBS URL missing from init-data", r.Name())
		}
	}

	placement := find(t, set, "Placement", "coco-spokes")
	wantSel := map[string]any{
		"matchLabels": map[string]any{"coco.example.com/role": "workloads"},
		"matchExpressions": []any{map[string]any{
			"key": "environment", "operator": "In", "values": []any{"prod", "stage"},
		}},
	}
	gotSel := placement.Content["spec"].(map[string]any)["predicates"].([]any)[0].(map[string]any)["requiredClusterSelector"].(map[string]any)["labelSelector"]
	if diff := cmp.Diff(wantSel, gotSel); diff != "" {
		t.Errorf("placement selector (-want +got):\n%s", diff)
	}
	binding := find(t, set, "PlacementBinding", "coco-spokes")
	if diff := cmp.Diff([]any{
		map[string]any{"apiGroup": "policy.open-cluster-management.io", "kind": "Policy", "name": "coco-spokes-gitops"},
		map[string]any{"apiGroup": "policy.open-cluster-management.io", "kind": "Policy", "name": "coco-spokes-bootstrap"},
		map[string]any{"apiGroup": "policy.open-cluster-management.io", "kind": "Policy", "name": "coco-spokes-init-data"},
		map[string]any{"apiGroup": "policy.open-cluster-management.io", "kind": "Policy", "name": "coco-spokes-peer-pods"},
	}, binding.Content["subjects"]); diff != "" {
		t.Errorf("binding subjects (-want +got):\n%s", diff)
	}
	// The hub group itself runs no workloads: no policies for it.
	for _, o := range set.Objects {
		if k := o.Kind(); (k == "Policy" || k == "Placement" || k == "PlacementBinding") && strings.HasPrefix(o.Name(), "coco-hub") {
			t.Errorf("unexpected %s for the hub group", o.ID())
		}
	}
}

// TestHubTemplatesInPolicyNamespace: when init-data lives in the policy
// namespace, hub templates read it without a service account, under the
// propagator's default restriction to that namespace.
func TestHubTemplatesInPolicyNamespace(t *testing.T) {
	doc := strings.Replace(hubSpokePattern, "      - name: default\n", "      - name: default\n        configMap: {namespace: cocogen-policies}\n", 1)
	doc = strings.Replace(doc, "        policy: {profile: debug}\n", "        policy: {profile: debug}\n        configMap: {namespace: cocogen-policies}\n", 1)
	p := load(t, doc)
	set, _ := generate(t, p)
	copyPol := find(t, set, "Policy", "coco-spokes-init-data")
	if _, ok := copyPol.Content["spec"].(map[string]any)["hubTemplateOptions"]; ok {
		t.Error("hubTemplateOptions set although init-data is in the policy namespace")
	}
	for _, o := range set.Objects {
		if o.Kind() == "ServiceAccount" || o.Kind() == "Role" || o.Kind() == "RoleBinding" {
			t.Errorf("unexpected %s", o.ID())
		}
	}
	r, cm := initDataConfigMap(t, p, "default")
	_, cm2 := initDataConfigMap(t, p, "debug")
	replicated := propagate(t, cluster{cm, cm2}, policyTemplate(t, copyPol, "coco-spokes-init-data"), "spoke-2", "cocogen-policies")
	ots := evaluate(t, nil, replicated)
	if got := stringMap(t, ots[0].ObjectDefinition["data"])["INITDATA"]; got != r.Annotation {
		t.Errorf("INITDATA %q, want the hub's", got)
	}
}

func TestPolicyShape(t *testing.T) {
	p := load(t, hubSpokePattern)
	set, _ := generate(t, p)
	kinds := map[string]int{}
	for _, o := range set.Objects {
		kinds[o.Kind()]++
		if o.Dir != "hub" {
			t.Errorf("%s in %q, want the hub group's directory", o.ID(), o.Dir)
		}
		ann := o.Content["metadata"].(map[string]any)["annotations"].(map[string]any)
		if ann[waves.Annotation] != waves.String(waves.Policies) {
			t.Errorf("%s: sync wave %v", o.ID(), ann[waves.Annotation])
		}
		if err := schema.Default().Validate(o.Content); err != nil {
			t.Errorf("%s: %v", o.ID(), err)
		}
		if o.Kind() != "Policy" {
			continue
		}
		s := o.Content["spec"].(map[string]any)
		if s["copyPolicyMetadata"] != false || s["remediationAction"] != "enforce" || s["disabled"] != false {
			t.Errorf("%s: spec %v", o.ID(), s)
		}
		for _, k := range []string{"standards", "categories", "controls"} {
			if ann["policy.open-cluster-management.io/"+k] == "" {
				t.Errorf("%s: no %s annotation", o.ID(), k)
			}
		}
		for _, pt := range s["policy-templates"].([]any) {
			def := pt.(map[string]any)["objectDefinition"].(map[string]any)
			cs := def["spec"].(map[string]any)
			if cs["remediationAction"] != "enforce" {
				t.Errorf("%s: template remediation %v", o.ID(), cs["remediationAction"])
			}
			ots, _ := cs["object-templates"].([]any)
			// Bootstrap objects are shared with the spoke's Argo CD and
			// OLM, which add fields of their own: musthave. Everything
			// else cocogen owns outright: mustonlyhave.
			owned := "mustonlyhave"
			if strings.HasSuffix(o.Name(), "-gitops") || strings.HasSuffix(o.Name(), "-bootstrap") {
				owned = "musthave"
			}
			for _, ot := range ots {
				if ct := ot.(map[string]any)["complianceType"]; ct != owned {
					t.Errorf("%s: complianceType %v", o.ID(), ct)
				}
			}
		}
	}
	want := map[string]int{"Policy": 4, "Placement": 1, "PlacementBinding": 1, "ManagedClusterSetBinding": 1,
		"ServiceAccount": 1, "Role": 1, "RoleBinding": 1}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	mcsb := find(t, set, "ManagedClusterSetBinding", "global")
	if mcsb.Namespace() != "cocogen-policies" || mcsb.Content["spec"].(map[string]any)["clusterSet"] != "global" {
		t.Errorf("ManagedClusterSetBinding %v", mcsb.Content)
	}
}

func TestConfigurableACM(t *testing.T) {
	doc := strings.Replace(simplePattern, "  trustee:\n", "  acm:\n    policyNamespace: coco-gov\n    clusterSet: confidential\n    remediationAction: inform\n  trustee:\n", 1)
	set, _ := generate(t, load(t, doc))
	pol := find(t, set, "Policy", "coco-simple-peer-pods")
	if pol.Namespace() != "coco-gov" || pol.Content["spec"].(map[string]any)["remediationAction"] != "inform" {
		t.Errorf("policy %s: %v", pol.ID(), pol.Content["spec"].(map[string]any)["remediationAction"])
	}
	b := find(t, set, "ManagedClusterSetBinding", "confidential")
	if b.Namespace() != "coco-gov" {
		t.Errorf("binding in %s", b.Namespace())
	}
	pl := find(t, set, "Placement", "coco-simple")
	if diff := cmp.Diff([]any{"confidential"}, pl.Content["spec"].(map[string]any)["clusterSets"]); diff != "" {
		t.Error(diff)
	}
}

// The ids fixtures/openshift-aws and fixtures/openshift-ibmcloud list for
// their clusters.
const (
	wantAWSSubnet     = "subnet-0a1b2c3d4e5f60718"
	ibmVPC            = "r006-4f1c7a2e-9b3d-4e5f-8a6b-7c8d9e0f1a2b"
	ibmSubnet         = "0717-2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"
	ibmSecurityGroup  = "r006-8e9f0a1b-2c3d-4e5f-9a0b-1c2d3e4f5a6b"
	ibmResourceGroup  = "5c2a9d3e8f1b4c7a9e0d2f6b8a1c3e5d"
	ibmPlatformFields = "        ibmcloud:\n          vpcID: " + ibmVPC + "\n          subnetID: " + ibmSubnet +
		"\n          securityGroupIDs: [" + ibmSecurityGroup + "]\n          resourceGroupID: " + ibmResourceGroup + "\n"
)

func TestAWSPeerPods(t *testing.T) {
	doc := strings.Replace(simplePattern, "        type: azure\n", "        type: aws\n", 1)
	p := load(t, doc)
	set, _ := generate(t, p)
	pol := find(t, set, "Policy", "coco-simple-peer-pods")
	cp := policyTemplate(t, pol, "coco-simple-peer-pods-cm")
	r, initCM := initDataConfigMap(t, p, "default")
	ami := configMap("openshift-sandboxed-containers-operator", "peer-pods-cm", map[string]string{"PODVM_AMI_ID": "ami-0123456789abcdef0"})
	want := map[string]string{
		"AWS_REGION":              "us-east-2",
		"AWS_SUBNET_ID":           wantAWSSubnet,
		"CLOUD_PROVIDER":          "aws",
		"DISABLECVM":              "false",
		"INITDATA":                r.Annotation,
		"PEERPODS_LIMIT_PER_NODE": "10",
		"PODVM_AMI_ID":            "ami-0123456789abcdef0",
		"PODVM_INSTANCE_TYPE":     "m6a.large",
		"PODVM_INSTANCE_TYPES":    "m6a.large",
		"PROXY_TIMEOUT":           "5m",
		"VXLAN_PORT":              "9000",
	}
	t.Run("subnet by id, security groups by filter", func(t *testing.T) {
		ot := only(t, evaluate(t, loadCluster(t, awsCluster).with(initCM, ami), cp))
		checkPeerPodsCM(t, ot, "openshift-sandboxed-containers-operator", want)
	})
	t.Run("security groups all by id", func(t *testing.T) {
		c := loadCluster(t, awsCluster).with(initCM, ami)
		for _, o := range c {
			if o["kind"] == "MachineSet" {
				spec := o["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["providerSpec"].(map[string]any)["value"].(map[string]any)
				spec["securityGroups"] = []any{map[string]any{"id": "sg-0aaa"}, map[string]any{"id": "sg-0bbb"}}
			}
		}
		ot := only(t, evaluate(t, c, cp))
		withSGs := maps.Clone(want)
		withSGs["AWS_SG_IDS"] = "sg-0aaa,sg-0bbb"
		checkPeerPodsCM(t, ot, "openshift-sandboxed-containers-operator", withSGs)
	})
	t.Run("subnet by filter keeps an administrator's value", func(t *testing.T) {
		c := loadCluster(t, awsCluster).with(initCM, configMap("openshift-sandboxed-containers-operator", "peer-pods-cm",
			map[string]string{"PODVM_AMI_ID": "ami-0123456789abcdef0", "AWS_SUBNET_ID": "subnet-0admin"}))
		for _, o := range c {
			if o["kind"] == "MachineSet" {
				spec := o["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["providerSpec"].(map[string]any)["value"].(map[string]any)
				spec["subnet"] = map[string]any{"filters": []any{map[string]any{"name": "tag:Name", "values": []any{"coco-private"}}}}
			}
		}
		ot := only(t, evaluate(t, c, cp))
		admin := maps.Clone(want)
		admin["AWS_SUBNET_ID"] = "subnet-0admin"
		checkPeerPodsCM(t, ot, "openshift-sandboxed-containers-operator", admin)
	})
	if got := policyTemplateNames(pol); slices.Contains(got, "coco-simple-peer-pods-secret") {
		t.Errorf("the operator mints peer-pods-secret on AWS, yet the policy writes it: %v", got)
	}
}

// TestAWSCopiedCredentials: credentials named in the pattern are copied.
func TestAWSCopiedCredentials(t *testing.T) {
	doc := strings.Replace(simplePattern, "        type: azure\n", "        type: aws\n        aws:\n          credentials: {namespace: openshift-cloud-controller-manager, name: aws-cloud-credentials}\n", 1)
	set, _ := generate(t, load(t, doc))
	pol := find(t, set, "Policy", "coco-simple-peer-pods")
	sec := only(t, evaluate(t, loadCluster(t, awsCluster), policyTemplate(t, pol, "coco-simple-peer-pods-secret")))
	if diff := cmp.Diff(map[string]string{
		"AWS_ACCESS_KEY_ID":     base64.StdEncoding.EncodeToString([]byte("AKIAIOSFODNN7EXAMPLE")),
		"AWS_SECRET_ACCESS_KEY": base64.StdEncoding.EncodeToString([]byte("not-a-real-secret-value")),
	}, stringMap(t, sec.ObjectDefinition["data"])); diff != "" {
		t.Error(diff)
	}
}

func TestIBMCloudPeerPods(t *testing.T) {
	doc := strings.Replace(simplePattern, "        type: azure\n", "        type: ibmcloud\n"+ibmPlatformFields, 1)
	p := load(t, doc)
	set, _ := generate(t, p)
	pol := find(t, set, "Policy", "coco-simple-peer-pods")
	r, initCM := initDataConfigMap(t, p, "default")
	existing := configMap("openshift-sandboxed-containers-operator", "peer-pods-cm", map[string]string{
		"IBMCLOUD_VPC_ID": "r006-stale", "IBMCLOUD_PODVM_IMAGE_ID": "r006-image"})
	ot := only(t, evaluate(t, loadCluster(t, ibmCloudCluster).with(initCM, existing), policyTemplate(t, pol, "coco-simple-peer-pods-cm")))
	checkPeerPodsCM(t, ot, "openshift-sandboxed-containers-operator", map[string]string{
		"CLOUD_PROVIDER":                       "ibmcloud",
		"DISABLECVM":                           "false",
		"IBMCLOUD_PODVM_IMAGE_ID":              "r006-image",
		"IBMCLOUD_PODVM_INSTANCE_PROFILE_LIST": "bx3dc-2x10",
		"IBMCLOUD_PODVM_INSTANCE_PROFILE_NAME": "bx3dc-2x10",
		"IBMCLOUD_RESOURCE_GROUP_ID":           ibmResourceGroup,
		"IBMCLOUD_SECURITY_GROUP_IDS":          ibmSecurityGroup,
		"IBMCLOUD_VPC_ENDPOINT":                "https://us-south.iaas.cloud.ibm.com/v1",
		"IBMCLOUD_VPC_ID":                      ibmVPC,
		"IBMCLOUD_VPC_SUBNET_ID":               ibmSubnet,
		"IBMCLOUD_ZONE":                        "us-south-1",
		"INITDATA":                             r.Annotation,
		"PEERPODS_LIMIT_PER_NODE":              "10",
		"PROXY_TIMEOUT":                        "5m",
		"VXLAN_PORT":                           "9000",
	})
	// The operator mints nothing on IBM Cloud: the API key is copied.
	sec := only(t, evaluate(t, loadCluster(t, ibmCloudCluster), policyTemplate(t, pol, "coco-simple-peer-pods-secret")))
	if diff := cmp.Diff(map[string]string{
		"IBMCLOUD_API_KEY": base64.StdEncoding.EncodeToString([]byte("not-a-real-api-key")),
	}, stringMap(t, sec.ObjectDefinition["data"])); diff != "" {
		t.Error(diff)
	}
}

func policyTemplateNames(pol manifest.Object) []string {
	var out []string
	for _, pt := range pol.Content["spec"].(map[string]any)["policy-templates"].([]any) {
		out = append(out, pt.(map[string]any)["objectDefinition"].(map[string]any)["metadata"].(map[string]any)["name"].(string))
	}
	return out
}

func TestNoPeerPodsOnBareMetal(t *testing.T) {
	doc := strings.Replace(simplePattern, "        type: azure\n", "        type: baremetal\n        baremetal: {tee: tdx}\n", 1)
	set, _ := generate(t, load(t, doc))
	for _, o := range set.Objects {
		if o.Kind() == "Policy" {
			t.Errorf("bare metal needs no peer-pods policy, got %s", o.ID())
		}
	}
	if len(set.Objects) != 0 {
		t.Errorf("objects without any policy: %d", len(set.Objects))
	}
}

func TestNoHub(t *testing.T) {
	doc := strings.Replace(simplePattern, "roles: [hub, workloads]", "roles: [workloads]", 1)
	set, warnings := generate(t, load(t, doc))
	if len(set.Objects) != 0 {
		t.Errorf("ACM objects without a hub: %d", len(set.Objects))
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "peer-pods-cm") {
		t.Errorf("warnings %v", warnings)
	}
}

// TestCopyKeysExist keeps InitDataCopyKeys in step with the init-data
// ConfigMap.
func TestCopyKeysExist(t *testing.T) {
	p := load(t, simplePattern)
	r, err := profiles.Build(p, profileRef(t, p, "default"))
	if err != nil {
		t.Fatal(err)
	}
	data := r.ConfigMapData()
	for _, k := range acm.InitDataCopyKeys {
		if _, ok := data[k]; !ok {
			t.Errorf("init-data ConfigMap has no key %s", k)
		}
	}
}

func profileRef(t *testing.T, p *spec.Pattern, name string) spec.ProfileRef {
	t.Helper()
	ref, ok := p.ProfileRef(name)
	if !ok {
		t.Fatalf("no profile %q", name)
	}
	return ref
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRenderedHubToSpoke runs the whole pipeline and follows init-data from
// the ConfigMaps the init-data generator puts in the hub's directory to the
// spokes' peer-pods-cm.
func TestRenderedHubToSpoke(t *testing.T) {
	p := load(t, hubSpokePattern)
	res := testkit.Render(t, p)
	var hub cluster
	var copyPol, peerPods manifest.Object
	for _, o := range res.Set.Objects {
		switch {
		case o.Dir == "hub" && o.Kind() == "ConfigMap" && strings.HasPrefix(o.Name(), "initdata-"):
			hub = append(hub, o.Content)
		case o.Kind() == "Policy" && o.Name() == "coco-spokes-init-data":
			copyPol = o
		case o.Kind() == "Policy" && o.Name() == "coco-spokes-peer-pods":
			peerPods = o
		}
		if o.Group() == "policy.open-cluster-management.io" || o.Group() == "cluster.open-cluster-management.io" {
			if o.Dir != "hub" {
				t.Errorf("%s in %s, want the hub group's directory", o.ID(), o.Dir)
			}
		}
	}
	if len(hub) != 2 || copyPol.Content == nil || peerPods.Content == nil {
		t.Fatalf("render lacks init-data ConfigMaps (%d) or policies", len(hub))
	}
	spoke := fixtureCluster(t)
	for _, ot := range evaluate(t, spoke, propagate(t, hub, policyTemplate(t, copyPol, "coco-spokes-init-data"), "spoke-eu-1", "")) {
		spoke = spoke.with(ot.ObjectDefinition)
	}
	ot := only(t, evaluate(t, spoke, policyTemplate(t, peerPods, "coco-spokes-peer-pods-cm")))
	data := stringMap(t, ot.ObjectDefinition["data"])
	var want string
	for _, cm := range hub {
		if cm["metadata"].(map[string]any)["name"] == "initdata-debug" {
			want = cm["data"].(map[string]any)["INITDATA"].(string)
		}
	}
	if want == "" || data["INITDATA"] != want {
		t.Errorf("spoke INITDATA %q, want the hub's initdata-debug %q", data["INITDATA"], want)
	}
	if data["AZURE_SUBNET_ID"] != wantSubnetID || data["AZURE_NSG_ID"] != wantNSGID {
		t.Errorf("subnet %q NSG %q", data["AZURE_SUBNET_ID"], data["AZURE_NSG_ID"])
	}
}
