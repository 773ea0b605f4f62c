package peerpodd_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/cocogen/cocogen/internal/golden"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/deploy/peerpodd"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/schema"
)

// baseImage is the image of the committed base deploy/peerpodd/: the
// release tag Containerfile.peerpodd's header builds. Overlays pin their
// own (kustomize edit set image).
const baseImage = "ghcr.io/cocogen/peerpodd:v0.1.0"

func baseOptions() peerpodd.Options {
	o := peerpodd.DefaultOptions()
	o.Image = baseImage
	return o
}

func objects(t *testing.T, o peerpodd.Options) []manifest.Object {
	t.Helper()
	objs, err := peerpodd.Objects(o)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// TestGolden keeps deploy/peerpodd/ what `cocogen peerpodd manifests
// --image ghcr.io/cocogen/peerpodd:v0.1.0 -o deploy/peerpodd` writes
// (`make golden` rewrites it).
func TestGolden(t *testing.T) {
	set, err := peerpodd.Tree(objects(t, baseOptions()))
	if err != nil {
		t.Fatal(err)
	}
	golden.Tree(t, filepath.Join(testkit.Root(t), "deploy", "peerpodd"), set)
}

// typed holds every kind Objects emits, decoded.
type typed struct {
	ns   corev1.Namespace
	sa   corev1.ServiceAccount
	cr   rbacv1.ClusterRole
	crb  rbacv1.ClusterRoleBinding
	ds   appsv1.DaemonSet
	rc   nodev1.RuntimeClass
	crd  apiextensionsv1.CustomResourceDefinition
	kind []string
}

// decodeStrict decodes each object's file, as written, into its API type
// with unknown and duplicate fields refused, and checks it against the
// OpenAPI schemas cocogen's tests use (pkg/schema).
func decodeStrict(t *testing.T, objs []manifest.Object) typed {
	t.Helper()
	var out typed
	for _, o := range objs {
		data, err := manifest.MarshalFile(o)
		if err != nil {
			t.Fatal(err)
		}
		var into any
		switch o.Kind() {
		case "Namespace":
			into = &out.ns
		case "ServiceAccount":
			into = &out.sa
		case "ClusterRole":
			into = &out.cr
		case "ClusterRoleBinding":
			into = &out.crb
		case "DaemonSet":
			into = &out.ds
		case "RuntimeClass":
			into = &out.rc
		case "CustomResourceDefinition":
			into = &out.crd
		default:
			t.Fatalf("unexpected kind %s", o.Kind())
		}
		if err := sigsyaml.UnmarshalStrict(data, into); err != nil {
			t.Errorf("%s: %v", o.ID(), err)
		}
		if err := schema.Default().Validate(o.Content); err != nil {
			t.Errorf("%s: %v", o.ID(), err)
		}
		out.kind = append(out.kind, o.Kind())
	}
	return out
}

func TestObjectsDecodeStrictly(t *testing.T) {
	got := decodeStrict(t, objects(t, baseOptions()))
	// Canonical order: Namespace and CRD first, as kubectl apply needs.
	want := []string{"Namespace", "CustomResourceDefinition", "DaemonSet", "RuntimeClass", "ClusterRole", "ClusterRoleBinding", "ServiceAccount"}
	if diff := cmp.Diff(want, got.kind); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	if got.crd.Name != "peerpods.confidentialcontainers.org" || got.crd.Spec.Group != "confidentialcontainers.org" || got.crd.Spec.Scope != apiextensionsv1.NamespaceScoped {
		t.Errorf("CRD %s %s %s", got.crd.Name, got.crd.Spec.Group, got.crd.Spec.Scope)
	}
	if got.ns.Labels["pod-security.kubernetes.io/enforce"] != "privileged" {
		t.Errorf("namespace labels %v: the daemon needs the privileged level", got.ns.Labels)
	}
	if s := got.crb.Subjects; len(s) != 1 || s[0].Kind != "ServiceAccount" || s[0].Name != got.sa.Name || s[0].Namespace != got.sa.Namespace || got.crb.RoleRef.Name != got.cr.Name {
		t.Errorf("binding %+v does not bind the daemon's service account to its role", got.crb)
	}
}

// TestDaemonSetInvariants holds the DaemonSet to what the daemon needs
// and no more.
func TestDaemonSetInvariants(t *testing.T) {
	o := baseOptions()
	o.PeerPodsLimit = 7
	o.CloudProvider = "azure"
	got := decodeStrict(t, objects(t, o))
	ds := got.ds
	pod := ds.Spec.Template.Spec
	if ds.Namespace != peerpodd.DefaultNamespace || pod.ServiceAccountName != got.sa.Name || got.sa.Namespace != ds.Namespace {
		t.Errorf("DaemonSet %s/%s runs as %s, service account %s/%s", ds.Namespace, ds.Name, pod.ServiceAccountName, got.sa.Namespace, got.sa.Name)
	}
	if ds.Annotations[peerpodd.CloudProviderAnnotation] != "azure" {
		t.Errorf("annotations %v", ds.Annotations)
	}
	if !pod.HostNetwork || pod.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
		t.Errorf("hostNetwork %v, dnsPolicy %s", pod.HostNetwork, pod.DNSPolicy)
	}
	if pod.SecurityContext == nil || pod.SecurityContext.SeccompProfile == nil || pod.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context %+v: want the RuntimeDefault seccomp profile", pod.SecurityContext)
	}
	if diff := cmp.Diff(map[string]string{peerpodd.DefaultNodeSelectorKey: peerpodd.DefaultNodeSelectorValue}, pod.NodeSelector); diff != "" {
		t.Errorf("nodeSelector (-want +got):\n%s", diff)
	}
	if !selects(ds.Spec.Selector.MatchLabels, ds.Spec.Template.Labels) {
		t.Errorf("selector %v does not select the template's labels %v", ds.Spec.Selector.MatchLabels, ds.Spec.Template.Labels)
	}
	if len(pod.Containers) != 1 || len(pod.InitContainers) != 0 {
		t.Fatalf("want one container, got %d (+%d init)", len(pod.Containers), len(pod.InitContainers))
	}
	c := pod.Containers[0]
	if c.Image != baseImage || !slices.Equal(c.Command, []string{"/usr/local/bin/peerpodd"}) {
		t.Errorf("image %s, command %v", c.Image, c.Command)
	}

	sc := c.SecurityContext
	if sc == nil || sc.Capabilities == nil {
		t.Fatal("no security context with capabilities")
	}
	if !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("drop %v, want ALL", sc.Capabilities.Drop)
	}
	if add := slices.Sorted(slices.Values(sc.Capabilities.Add)); !slices.Equal(add, []corev1.Capability{"NET_ADMIN", "SYS_ADMIN"}) {
		t.Errorf("add %v, want exactly NET_ADMIN and SYS_ADMIN", add)
	}
	if sc.Privileged == nil || *sc.Privileged || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("security context %+v: want privileged false, readOnlyRootFilesystem true, allowPrivilegeEscalation false", sc)
	}

	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		if _, dup := env[e.Name]; dup {
			t.Errorf("env %s twice", e.Name)
		}
		env[e.Name] = e
	}
	if e := env["NODE_NAME"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
		t.Errorf("NODE_NAME %+v: want the downward API's spec.nodeName", e)
	}
	for name, want := range map[string]string{
		"REMOTE_HYPERVISOR_ENDPOINT": "/run/peerpod/hypervisor.sock",
		"PODS_DIR":                   "/run/peerpod/pods",
		"PROBE_PORT":                 "8000",
		"PEERPODS_LIMIT_PER_NODE":    "7",
	} {
		if env[name].Value != want {
			t.Errorf("%s=%q, want %q", name, env[name].Value, want)
		}
	}
	var cm, secret bool
	for _, src := range c.EnvFrom {
		cm = cm || src.ConfigMapRef != nil && src.ConfigMapRef.Name == "peer-pods-cm"
		secret = secret || src.SecretRef != nil && src.SecretRef.Name == "peer-pods-secret"
	}
	if !cm || !secret || len(c.EnvFrom) != 2 {
		t.Errorf("envFrom %+v: want peer-pods-cm and peer-pods-secret", c.EnvFrom)
	}

	for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe} {
		path := map[string]string{"startup": "/startup", "liveness": "/healthz"}[name]
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port != intstr.FromInt32(8000) {
			t.Errorf("%s probe %+v: want GET %s on port 8000", name, p, path)
		}
	}
	if p := c.StartupProbe; p != nil && p.PeriodSeconds*p.FailureThreshold < 300 {
		t.Errorf("startup probe gives the daemon %ds: restoring a node's pods takes minutes", p.PeriodSeconds*p.FailureThreshold)
	}
	if req := c.Resources.Requests; req.Cpu().IsZero() || req.Memory().IsZero() {
		t.Errorf("requests %v: want cpu and memory", req)
	}

	// Mounts: exactly the two host paths the daemon uses, the network
	// namespaces with HostToContainer propagation, and nothing else from
	// the host.
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	hostPaths := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		v, ok := volumes[m.Name]
		if !ok {
			t.Errorf("mount %s: no such volume", m.Name)
			continue
		}
		if v.HostPath != nil {
			if v.HostPath.Path != m.MountPath {
				t.Errorf("host path %s mounted at %s", v.HostPath.Path, m.MountPath)
			}
			hostPaths[v.HostPath.Path] = m
		}
	}
	if got := slices.Sorted(func(yield func(string) bool) {
		for p := range hostPaths {
			if !yield(p) {
				return
			}
		}
	}); !slices.Equal(got, []string{"/run/netns", "/run/peerpod"}) {
		t.Errorf("host paths %v, want /run/netns and /run/peerpod", got)
	}
	if m := hostPaths["/run/netns"]; m.MountPropagation == nil || *m.MountPropagation != corev1.MountPropagationHostToContainer {
		t.Errorf("/run/netns propagation %v, want HostToContainer", m.MountPropagation)
	}
	if m := hostPaths["/run/peerpod"]; m.MountPropagation != nil && *m.MountPropagation == corev1.MountPropagationBidirectional {
		t.Error("/run/peerpod must not propagate mounts back to the host")
	}
}

func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return len(selector) > 0
}

// TestClusterRoleLeastPrivilege: exactly the daemon's API calls, every
// verb, resource and group named.
func TestClusterRoleLeastPrivilege(t *testing.T) {
	cr := decodeStrict(t, objects(t, baseOptions())).cr
	granted := map[string][]string{}
	for _, r := range cr.Rules {
		if len(r.NonResourceURLs) > 0 || len(r.ResourceNames) > 0 {
			t.Errorf("rule %+v", r)
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					if g == "*" || res == "*" || v == "*" {
						t.Errorf("wildcard in rule %+v", r)
					}
					key := g + "/" + res
					granted[key] = append(granted[key], v)
				}
			}
		}
	}
	for k := range granted {
		slices.Sort(granted[k])
	}
	want := map[string][]string{
		"/nodes/status":                       {"patch"},
		"/pods":                               {"get"},
		"/serviceaccounts":                    {"get"},
		"/secrets":                            {"get"},
		"confidentialcontainers.org/peerpods": {"create", "get", "list", "patch"},
	}
	if diff := cmp.Diff(want, granted); diff != "" {
		t.Errorf("grants (-want +got):\n%s", diff)
	}
}

func TestRuntimeClass(t *testing.T) {
	o := baseOptions()
	o.RuntimeClassName, o.Handler = "kata-remote-test", "kata-remote-h"
	o.NodeSelector = map[string]string{"pool": "peerpods", "example.com/cc": "enabled"}
	got := decodeStrict(t, objects(t, o))
	rc := got.rc
	if rc.Name != "kata-remote-test" || rc.Handler != "kata-remote-h" {
		t.Errorf("RuntimeClass %s handler %s", rc.Name, rc.Handler)
	}
	if rc.Overhead == nil || !rc.Overhead.PodFixed.Cpu().Equal(resource.MustParse("250m")) || !rc.Overhead.PodFixed.Memory().Equal(resource.MustParse("120Mi")) {
		t.Errorf("overhead %+v: want CAA's 250m CPU and 120Mi", rc.Overhead)
	}
	if rc.Scheduling == nil || !cmp.Equal(rc.Scheduling.NodeSelector, o.NodeSelector) || !cmp.Equal(got.ds.Spec.Template.Spec.NodeSelector, o.NodeSelector) {
		t.Errorf("the class must schedule where the daemon runs: class %+v, DaemonSet %v", rc.Scheduling, got.ds.Spec.Template.Spec.NodeSelector)
	}

	// No selector: every node runs the daemon, the class schedules
	// anywhere.
	o.NodeSelector = nil
	got = decodeStrict(t, objects(t, o))
	if got.rc.Scheduling != nil || got.ds.Spec.Template.Spec.NodeSelector != nil {
		t.Errorf("empty selector: class %+v, DaemonSet %v", got.rc.Scheduling, got.ds.Spec.Template.Spec.NodeSelector)
	}
}

// TestOutputIsDeterministic: the same options give the same bytes
// (maps of several keys included), and the stream holds the base's files.
func TestOutputIsDeterministic(t *testing.T) {
	o := baseOptions()
	o.NodeSelector = map[string]string{"a": "1", "b": "2", "c": "3", "d": "4"}
	var first bytes.Buffer
	if err := peerpodd.WriteStream(&first, objects(t, o)); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		var again bytes.Buffer
		if err := peerpodd.WriteStream(&again, objects(t, o)); err != nil {
			t.Fatal(err)
		}
		if again.String() != first.String() {
			t.Fatal("two streams of the same options differ")
		}
	}
	docs, err := manifest.ReadStream(first.Bytes())
	if err != nil || len(docs) != 7 {
		t.Fatalf("stream: %d documents, %v", len(docs), err)
	}
	set, err := peerpodd.Tree(objects(t, o))
	if err != nil {
		t.Fatal(err)
	}
	const header = "# cocogen: pkg/deploy/peerpodd (cocogen peerpodd manifests)\n"
	for _, f := range set.Files {
		if !strings.HasPrefix(string(f.Data), header) {
			t.Errorf("%s lacks the provenance header", f.Path)
		}
	}
	for _, o := range set.Objects {
		data, err := set.FileData(o)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), header) {
			t.Errorf("%s lacks the provenance header", o.TreePath())
		}
		if !strings.Contains(first.String(), "# Source: "+o.TreePath()+"\n"+string(data)) {
			t.Errorf("the stream lacks %s as the base has it", o.TreePath())
		}
	}
}

// TestValidateReportsEveryProblem: one call names every bad option.
func TestValidateReportsEveryProblem(t *testing.T) {
	_, err := peerpodd.Objects(peerpodd.Options{
		Namespace:        "Not_A_Namespace",
		Image:            "ghcr.io/cocogen/peerpodd:latest",
		PeerPodsLimit:    0,
		NodeSelector:     map[string]string{"bad key!": "ok", "ok": "bad value!"},
		RuntimeClassName: "",
		Handler:          "Bad.Handler",
		CloudProvider:    "Azure Cloud",

		AzureWorkloadIdentityClientID: "not-a-guid",
	})
	var invalid *peerpodd.InvalidOptionsError
	if !errors.As(err, &invalid) {
		t.Fatalf("want *InvalidOptionsError, got %v", err)
	}
	var got []string
	for _, p := range invalid.Problems {
		got = append(got, p.Option)
	}
	want := []string{"namespace", "image", "peer-pods-limit", "node-selector", "node-selector", "runtime-class", "handler", "cloud-provider", "azure-workload-identity-client-id"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s\n%v", diff, err)
	}
	if !strings.Contains(err.Error(), "runtime-class: required") || !strings.Contains(err.Error(), "latest moves") {
		t.Errorf("message:\n%v", err)
	}
}

func TestImagePolicy(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for image, ok := range map[string]bool{
		"ghcr.io/cocogen/peerpodd:v0.1.0":              true,
		"ghcr.io/cocogen/peerpodd@" + digest:           true,
		"ghcr.io/cocogen/peerpodd:v0.1.0@" + digest:    true,
		"localhost:5000/peerpodd:dev-1":                true,
		"":                                             false,
		"ghcr.io/cocogen/peerpodd":                     false, // no tag: latest by default
		"ghcr.io/cocogen/peerpodd:latest":              false,
		"peerpodd:v0.1.0":                              false, // short name: the node's search registries decide
		"ghcr.io/cocogen/peerpodd@sha256:short":        false,
		"https://ghcr.io/cocogen/peerpodd:v0.1.0":      false,
		"ghcr.io/cocogen/peerpodd:v0.1.0 --privileged": false,
	} {
		o := baseOptions()
		o.Image = image
		err := o.Validate()
		if (err == nil) != ok {
			t.Errorf("%q: accepted %v, want %v (%v)", image, err == nil, ok, err)
		}
	}
}

// TestAzureWorkloadIdentity: the client ID annotates the ServiceAccount
// and the daemon's pods opt in to the webhook that injects the identity.
func TestAzureWorkloadIdentity(t *testing.T) {
	o := peerpodd.DefaultOptions()
	o.Image = "ghcr.io/cocogen/peerpodd@sha256:" + strings.Repeat("a", 64)
	o.AzureWorkloadIdentityClientID = "11111111-2222-3333-4444-555555555555"
	objs, err := peerpodd.Objects(o)
	if err != nil {
		t.Fatal(err)
	}
	got := decodeStrict(t, objs)
	if got.sa.Annotations["azure.workload.identity/client-id"] != o.AzureWorkloadIdentityClientID {
		t.Errorf("ServiceAccount annotations %v", got.sa.Annotations)
	}
	if got.ds.Spec.Template.Labels["azure.workload.identity/use"] != "true" {
		t.Errorf("pod labels %v", got.ds.Spec.Template.Labels)
	}
	// Without it, neither.
	o.AzureWorkloadIdentityClientID = ""
	objs, _ = peerpodd.Objects(o)
	got = decodeStrict(t, objs)
	if len(got.sa.Annotations) != 0 || got.ds.Spec.Template.Labels["azure.workload.identity/use"] != "" {
		t.Errorf("workload identity without a client ID: %v %v", got.sa.Annotations, got.ds.Spec.Template.Labels)
	}
}
