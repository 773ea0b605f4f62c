package schema

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"
)

func mustYAML(t testing.TB, s string) map[string]any {
	t.Helper()
	js, err := yaml.YAMLToJSONStrict([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "valid", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// docs returns the objects of a fixture stream by kind.
func fixtureObject(t testing.TB, file, kind string) map[string]any {
	t.Helper()
	for _, doc := range strings.Split(string(readFixture(t, file)), "\n---\n") {
		m := mustYAML(t, doc)
		if m != nil && m["kind"] == kind {
			return m
		}
	}
	t.Fatalf("no %s in %s", kind, file)
	return nil
}

func TestValidFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "valid", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := ValidateYAMLStream(Default(), data); err != nil {
				t.Errorf("valid fixture rejected:\n%v", err)
			}
		})
	}
}

func TestValidKinds(t *testing.T) {
	// Every kind the brief names passes individually through Validate.
	cases := []struct{ file, kind string }{
		{"application.yaml", "Application"},
		{"appproject.yaml", "AppProject"},
		{"olm.yaml", "Subscription"},
		{"olm.yaml", "OperatorGroup"},
		{"kataconfig.yaml", "KataConfig"},
		{"policy.yaml", "Policy"},
		{"policy.yaml", "Placement"},
		{"policy.yaml", "PlacementBinding"},
		{"policy.yaml", "ManagedClusterSetBinding"},
		{"kbsconfig.yaml", "KbsConfig"},
		{"externalsecret.yaml", "ExternalSecret"},
		{"core.yaml", "Namespace"},
		{"core.yaml", "ConfigMap"},
		{"core.yaml", "Secret"},
		{"core.yaml", "RuntimeClass"},
		{"core.yaml", "DaemonSet"},
		{"core.yaml", "ClusterRole"},
	}
	v := Default()
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			obj := fixtureObject(t, c.file, c.kind)
			if !v.Known(obj["apiVersion"].(string), c.kind) {
				t.Errorf("Known(%v, %s) = false", obj["apiVersion"], c.kind)
			}
			if err := v.Validate(obj); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

// set walks path (dot separated, numeric segments index lists) in obj and
// sets the last element to val, creating maps as needed.
func set(t testing.TB, obj map[string]any, path string, val any) {
	t.Helper()
	segs := strings.Split(path, ".")
	var cur any = obj
	for i, s := range segs {
		last := i == len(segs)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[s] = val
				return
			}
			if _, ok := c[s]; !ok {
				c[s] = map[string]any{}
			}
			cur = c[s]
		case []any:
			var idx int
			for _, r := range s {
				idx = idx*10 + int(r-'0')
			}
			if last {
				c[idx] = val
				return
			}
			cur = c[idx]
		default:
			t.Fatalf("set %s: %T at %s", path, cur, s)
		}
	}
}

func del(obj map[string]any, path ...string) {
	m := obj
	for _, p := range path[:len(path)-1] {
		m = m[p].(map[string]any)
	}
	delete(m, path[len(path)-1])
}

func TestInvalid(t *testing.T) {
	v := Default()
	cases := []struct {
		name   string
		file   string
		kind   string
		mutate func(t *testing.T, obj map[string]any)
		want   []string // substrings of the error
	}{
		{
			name: "application unknown top-level field",
			file: "application.yaml", kind: "Application",
			mutate: func(t *testing.T, o map[string]any) { o["specc"] = map[string]any{} },
			want:   []string{"argoproj.io/v1alpha1 Application openshift-gitops/coco-operators: ", "specc: unknown field"},
		},
		{
			name: "application unknown nested field",
			file: "application.yaml", kind: "Application",
			mutate: func(t *testing.T, o map[string]any) { set(t, o, "spec.syncPolicy.automated.prunee", true) },
			want:   []string{"spec.syncPolicy.automated.prunee: unknown field"},
		},
		{
			name: "application unknown field in list item",
			file: "application.yaml", kind: "Application",
			mutate: func(t *testing.T, o map[string]any) { set(t, o, "spec.ignoreDifferences.0.jsonPointer", "/x") },
			want:   []string{"spec.ignoreDifferences[0].jsonPointer: unknown field"},
		},
		{
			name: "application unknown metadata field",
			file: "application.yaml", kind: "Application",
			mutate: func(t *testing.T, o map[string]any) { set(t, o, "metadata.label", map[string]any{"a": "b"}) },
			want:   []string{"metadata.label: unknown field"},
		},
		{
			name: "application wrong type",
			file: "application.yaml", kind: "Application",
			mutate: func(t *testing.T, o map[string]any) { set(t, o, "spec.syncPolicy.automated.prune", "yes") },
			want:   []string{`spec.syncPolicy.automated.prune: Invalid value: "string": spec.syncPolicy.automated.prune in body must be of type boolean`},
		},
		{
			name: "application missing required field",
			file: "application.yaml", kind: "Application",
			mutate: func(t *testing.T, o map[string]any) { del(o, "spec", "destination") },
			want:   []string{"spec.destination: Required value"},
		},
		{
			name: "all problems reported",
			file: "application.yaml", kind: "Application",
			mutate: func(t *testing.T, o map[string]any) {
				del(o, "spec", "project")
				set(t, o, "spec.syncPolicy.automated.prunee", true)
				set(t, o, "spec.source.helm.parameters.0.value", 2)
			},
			want: []string{"3 problems", "spec.project: Required value", "spec.syncPolicy.automated.prunee: unknown field", "spec.source.helm.parameters[0].value: Invalid value"},
		},
		{
			name: "subscription wrong type",
			file: "olm.yaml", kind: "Subscription",
			mutate: func(t *testing.T, o map[string]any) { set(t, o, "spec.config.env.0.value", 5) },
			want:   []string{"spec.config.env[0].value: Invalid value: \"integer\": spec.config.env[0].value in body must be of type string"},
		},
		{
			name: "externalsecret enum",
			file: "externalsecret.yaml", kind: "ExternalSecret",
			mutate: func(t *testing.T, o map[string]any) { set(t, o, "spec.target.creationPolicy", "Sometimes") },
			want:   []string{`spec.target.creationPolicy: Unsupported value: "Sometimes": supported values: "Owner"`},
		},
		{
			name: "namespaced CR without namespace",
			file: "kbsconfig.yaml", kind: "KbsConfig",
			mutate: func(t *testing.T, o map[string]any) { del(o, "metadata", "namespace") },
			want:   []string{"confidentialcontainers.org/v1alpha1 KbsConfig kbsconfig: metadata.namespace: Required value"},
		},
		{
			name: "cluster-scoped CR with namespace",
			file: "kataconfig.yaml", kind: "KataConfig",
			mutate: func(t *testing.T, o map[string]any) { set(t, o, "metadata.namespace", "default") },
			want:   []string{"metadata.namespace: Forbidden: not allowed on this type"},
		},
		{
			name: "CR without name",
			file: "kataconfig.yaml", kind: "KataConfig",
			mutate: func(t *testing.T, o map[string]any) { del(o, "metadata", "name") },
			want:   []string{"metadata.name: Required value"},
		},
		{
			name: "CR with invalid name",
			file: "kataconfig.yaml", kind: "KataConfig",
			mutate: func(t *testing.T, o map[string]any) { set(t, o, "metadata.name", "Example_KataConfig") },
			want:   []string{`metadata.name: Invalid value: "Example_KataConfig": a lowercase RFC 1123 subdomain`},
		},
		{
			name: "CR version not defined",
			file: "kataconfig.yaml", kind: "KataConfig",
			mutate: func(t *testing.T, o map[string]any) { o["apiVersion"] = "kataconfiguration.openshift.io/v2" },
			want:   []string{`apiVersion: version "v2" is not defined by CRD kataconfigs.kataconfiguration.openshift.io`},
		},
		{
			name: "CR version not served",
			file: "externalsecret.yaml", kind: "ExternalSecret",
			mutate: func(t *testing.T, o map[string]any) { o["apiVersion"] = "external-secrets.io/v1beta1" },
			want:   []string{`apiVersion: version "v1beta1" of CRD externalsecrets.external-secrets.io is not served`},
		},
		{
			name: "policy template unknown field",
			file: "policy.yaml", kind: "Policy",
			mutate: func(t *testing.T, o map[string]any) {
				set(t, o, "spec.policy-templates.0.objectDefinition.spec.remediationActionn", "enforce")
			},
			want: []string{"spec.policy-templates[0].objectDefinition.spec.remediationActionn: unknown field"},
		},
		{
			name: "policy template missing required",
			file: "policy.yaml", kind: "Policy",
			mutate: func(t *testing.T, o map[string]any) {
				del(o["spec"].(map[string]any)["policy-templates"].([]any)[0].(map[string]any)["objectDefinition"].(map[string]any), "spec")
			},
			want: []string{"spec.policy-templates[0].objectDefinition.spec: Required value"},
		},
		{
			name: "policy template unknown kind",
			file: "policy.yaml", kind: "Policy",
			mutate: func(t *testing.T, o map[string]any) {
				set(t, o, "spec.policy-templates.0.objectDefinition.kind", "FancyPolicy")
			},
			want: []string{"spec.policy-templates[0].objectDefinition: no schema for policy.open-cluster-management.io/v1 FancyPolicy"},
		},
		{
			name: "placementbinding missing subjects",
			file: "policy.yaml", kind: "PlacementBinding",
			mutate: func(t *testing.T, o map[string]any) { delete(o, "subjects") },
			want:   []string{"subjects: Required value"},
		},
		{
			name: "namespace unknown field",
			file: "core.yaml", kind: "Namespace",
			mutate: func(t *testing.T, o map[string]any) { set(t, o, "spec.finalizer", []any{"kubernetes"}) },
			want:   []string{"v1 Namespace trustee-operator-system: spec.finalizer: unknown field"},
		},
		{
			name: "namespace with namespace",
			file: "core.yaml", kind: "Namespace",
			mutate: func(t *testing.T, o map[string]any) { set(t, o, "metadata.namespace", "default") },
			want:   []string{"metadata.namespace: Forbidden: not allowed on this type"},
		},
		{
			name: "namespace name not a DNS label",
			file: "core.yaml", kind: "Namespace",
			mutate: func(t *testing.T, o map[string]any) { set(t, o, "metadata.name", "a.b") },
			want:   []string{`metadata.name: Invalid value: "a.b": must not contain dots`},
		},
		{
			name: "configmap unknown field and wrong type",
			file: "core.yaml", kind: "ConfigMap",
			mutate: func(t *testing.T, o map[string]any) {
				o["dat"] = map[string]any{}
				set(t, o, "data.count", 3)
				set(t, o, "metadata.labels", []any{"x"})
			},
			want: []string{"3 problems", "dat: unknown field", "data[count]: wrong type: expected string, got number 3", "metadata.labels: wrong type: expected object, got array"},
		},
		{
			name: "configmap without namespace",
			file: "core.yaml", kind: "ConfigMap",
			mutate: func(t *testing.T, o map[string]any) { del(o, "metadata", "namespace") },
			want:   []string{"metadata.namespace: Required value"},
		},
		{
			name: "secret bad base64",
			file: "core.yaml", kind: "Secret",
			mutate: func(t *testing.T, o map[string]any) { set(t, o, "data.publicKey", "not base64!") },
			want:   []string{"data[publicKey]: invalid base64 data"},
		},
		{
			name: "daemonset deep unknown field and bad quantity",
			file: "core.yaml", kind: "DaemonSet",
			mutate: func(t *testing.T, o map[string]any) {
				set(t, o, "spec.template.spec.containers.0.imagePullPolice", "Always")
				set(t, o, "spec.template.spec.containers.0.resources.limits.memory", "lots")
				set(t, o, "spec.template.spec.containers.0.ports.0.containerPort", "8080")
			},
			want: []string{
				"spec.template.spec.containers[0].imagePullPolice: unknown field",
				"spec.template.spec.containers[0].resources.limits[memory]: quantities must match the regular expression",
				`spec.template.spec.containers[0].ports[0].containerPort: wrong type: expected integer, got string "8080"`,
			},
		},
		{
			name: "clusterrole unknown field",
			file: "core.yaml", kind: "ClusterRole",
			mutate: func(t *testing.T, o map[string]any) { set(t, o, "rules.0.verb", []any{"get"}) },
			want:   []string{"rules[0].verb: unknown field"},
		},
		{
			name: "unknown kind",
			file: "core.yaml", kind: "ConfigMap",
			mutate: func(t *testing.T, o map[string]any) { o["kind"] = "ConfigMapp" },
			want:   []string{"no schema for v1 ConfigMapp"},
		},
		{
			name: "unknown group",
			file: "kataconfig.yaml", kind: "KataConfig",
			mutate: func(t *testing.T, o map[string]any) { o["apiVersion"] = "example.com/v1" },
			want:   []string{"no schema for example.com/v1 KataConfig"},
		},
		{
			name: "removed API version",
			file: "core.yaml", kind: "DaemonSet",
			mutate: func(t *testing.T, o map[string]any) { o["apiVersion"] = "extensions/v1beta1" },
			want:   []string{"no schema for extensions/v1beta1 DaemonSet: extensions/v1beta1 was removed in Kubernetes 1.16; use apps/v1 DaemonSet"},
		},
		{
			name: "list kind",
			file: "core.yaml", kind: "ConfigMap",
			mutate: func(t *testing.T, o map[string]any) { o["kind"] = "ConfigMapList" },
			want:   []string{"no schema for v1 ConfigMapList"},
		},
		{
			name: "missing apiVersion",
			file: "core.yaml", kind: "ConfigMap",
			mutate: func(t *testing.T, o map[string]any) { delete(o, "apiVersion") },
			want:   []string{"apiVersion: Required value"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obj := fixtureObject(t, c.file, c.kind)
			c.mutate(t, obj)
			err := v.Validate(obj)
			if err == nil {
				t.Fatalf("accepted")
			}
			var oe *ObjectError
			if !errors.As(err, &oe) {
				t.Fatalf("error is %T, want *ObjectError", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestDefaultsSatisfyRequired: like the apiserver, defaults are applied
// before validation, so a required field with a default may be omitted.
func TestDefaultsSatisfyRequired(t *testing.T) {
	obj := fixtureObject(t, "policy.yaml", "Policy")
	tmpl := obj["spec"].(map[string]any)["policy-templates"].([]any)[0].(map[string]any)["objectDefinition"].(map[string]any)
	del(tmpl, "spec", "remediationAction") // required, default "inform"
	if err := Default().Validate(obj); err != nil {
		t.Fatal(err)
	}
}

func TestNoSchemaIs(t *testing.T) {
	v := Default()
	err := v.Validate(map[string]any{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": map[string]any{"name": "w"}})
	if !errors.Is(err, ErrNoSchema) {
		t.Fatalf("want ErrNoSchema, got %v", err)
	}
	if want := "example.com/v1 Widget w: no schema for example.com/v1 Widget"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %q, want prefix %q", err, want)
	}
	if v.Known("example.com/v1", "Widget") {
		t.Error("Known(example.com/v1, Widget)")
	}
	err = v.Validate(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c", "namespace": "n"}, "bogus": 1})
	if err == nil || errors.Is(err, ErrNoSchema) {
		t.Errorf("unknown field error must not be ErrNoSchema: %v", err)
	}
}

func TestKnown(t *testing.T) {
	v := Default()
	for _, c := range []struct {
		apiVersion, kind string
		want             bool
	}{
		{"v1", "Namespace", true},
		{"v1", "Service", true},
		{"v1", "ServiceAccount", true},
		{"apps/v1", "Deployment", true},
		{"apps/v1", "StatefulSet", true},
		{"apps/v1", "ReplicaSet", true},
		{"batch/v1", "Job", true},
		{"batch/v1", "CronJob", true},
		{"rbac.authorization.k8s.io/v1", "RoleBinding", true},
		{"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", true},
		{"node.k8s.io/v1", "RuntimeClass", true},
		{"apiextensions.k8s.io/v1", "CustomResourceDefinition", true},
		{"policy/v1", "PodDisruptionBudget", true},
		{"networking.k8s.io/v1", "NetworkPolicy", true},
		{"argoproj.io/v1alpha1", "Application", true},
		{"operators.coreos.com/v1alpha2", "OperatorGroup", true},
		{"config.openshift.io/v1", "Infrastructure", true},
		{"external-secrets.io/v1", "ClusterSecretStore", true},
		{"external-secrets.io/v1beta1", "ClusterSecretStore", false}, // not served
		{"v1", "ConfigMapList", false},
		{"v1", "Status", false},
		{"v1", "List", false},
		{"extensions/v1beta1", "Deployment", false}, // removed
		{"batch/v1beta1", "CronJob", false},         // removed
		{"apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", false},
		{"admissionregistration.k8s.io/v1alpha1", "ValidatingAdmissionPolicy", false}, // alpha
		{"admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", true},
		{"", "Namespace", false},
		{"v1", "", false},
	} {
		if got := v.Known(c.apiVersion, c.kind); got != c.want {
			t.Errorf("Known(%q, %q) = %v, want %v", c.apiVersion, c.kind, got, c.want)
		}
	}
}

func TestValidateDoesNotModify(t *testing.T) {
	obj := fixtureObject(t, "application.yaml", "Application")
	set(t, obj, "spec.syncPolicy.automated.prunee", true)
	before, _ := yaml.Marshal(obj)
	_ = Default().Validate(obj)
	after, _ := yaml.Marshal(obj)
	if string(before) != string(after) {
		t.Errorf("Validate modified its input:\n%s\n---\n%s", before, after)
	}
}

func TestGoTypedInput(t *testing.T) {
	// Maps built in Go (not decoded) are accepted too.
	obj := map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata":   map[string]any{"name": "c", "namespace": "n", "labels": map[string]string{"a": "b"}},
		"data":       map[string]string{"k": "v"},
	}
	if err := Default().Validate(obj); err != nil {
		t.Fatal(err)
	}
	app := fixtureObject(t, "application.yaml", "Application")
	set(t, app, "spec.syncPolicy.retry.limit", 5) // Go int, not int64
	if err := Default().Validate(app); err != nil {
		t.Fatal(err)
	}
}

func TestCEL(t *testing.T) {
	// ClusterSecretStore has x-kubernetes-validations rules.
	base := `
apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata:
  name: vault-backend
spec:
  provider:
    vault:
      server: https://vault.example.com
      path: secret
      version: v2
      auth:
        kubernetes:
          mountPath: kubernetes
          role: eso
          serviceAccountRef:
            name: eso
            namespace: external-secrets
`
	v := Default()
	if err := v.Validate(mustYAML(t, base)); err != nil {
		t.Fatalf("valid ClusterSecretStore rejected: %v", err)
	}
	// Same store, violating "at most one of the fields in [caBundle
	// caProvider] may be set".
	css := mustYAML(t, base)
	set(t, css, "spec.provider", map[string]any{"openBao": map[string]any{"server": "https://bao.example.com"}})
	if err := v.Validate(css); err != nil {
		t.Fatalf("valid ClusterSecretStore rejected: %v", err)
	}
	set(t, css, "spec.provider.openBao.caBundle", "Zm9v")
	set(t, css, "spec.provider.openBao.caProvider", map[string]any{"type": "ConfigMap", "name": "ca", "key": "ca.crt", "namespace": "external-secrets"})
	err := v.Validate(css)
	if err == nil || !strings.Contains(err.Error(), "spec.provider.openBao: Invalid value: \"object\": at most one of the fields in [caBundle caProvider] may be set") {
		t.Errorf("CEL rule not enforced: %v", err)
	}

	infra := mustYAML(t, `
apiVersion: config.openshift.io/v1
kind: Infrastructure
metadata:
  name: cluster
spec:
  platformSpec:
    type: BareMetal
    baremetal:
      apiServerInternalIPs: ["192.168.1.10"]
      ingressIPs: ["192.168.1.11"]
`)
	if err := v.Validate(infra); err != nil {
		t.Fatalf("valid Infrastructure rejected: %v", err)
	}
	set(t, infra, "spec.platformSpec.baremetal.ingressIPs", []any{"192.168.1.300"})
	err = v.Validate(infra)
	if err == nil || !strings.Contains(err.Error(), "spec.platformSpec.baremetal.ingressIPs[0]: Invalid value: \"string\": value must be a valid IP address") {
		t.Errorf("CEL rule not enforced: %v", err)
	}

	// CEL rules are skipped (and that is said) when the schema already
	// failed, as in the apiserver.
	set(t, infra, "spec.platformSpec.baremetal.ingressIPs", []any{"192.168.1.1", "192.168.1.2", "::1"})
	err = v.Validate(infra)
	if err == nil || !strings.Contains(err.Error(), "Too many") || !strings.Contains(err.Error(), "CEL) rules were not checked") {
		t.Errorf("want schema error and CEL note: %v", err)
	}
}

func TestValidateYAMLStream(t *testing.T) {
	stream := `# leading comment
---
apiVersion: v1
kind: Namespace
metadata:
  name: ok
---
---
# only a comment
---
apiVersion: v1
kind: Namespace
metadata:
  name: bad
spec:
  finalizer: []
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: dup
  name: dup2
  namespace: x
---
- not
- a mapping
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
`
	err := ValidateYAMLStream(nil, []byte(stream))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, w := range []string{
		"document 5 (line 11): v1 Namespace bad: spec.finalizer: unknown field",
		"document 6 (line 18): invalid YAML",
		"document 7 (line 25): not a YAML mapping",
		"document 8 (line 28): example.com/v1 Widget w: no schema for example.com/v1 Widget",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%v", w, err)
		}
	}
	if n := strings.Count(err.Error(), "document "); n != 4 {
		t.Errorf("%d errors, want 4", n)
	}
	if strings.Contains(err.Error(), "document 2 ") {
		t.Errorf("valid document reported:\n%v", err)
	}
	if err := ValidateYAMLStream(nil, []byte("\n# nothing\n---\n")); err != nil {
		t.Errorf("empty stream: %v", err)
	}
}

func TestEmittedCRD(t *testing.T) {
	v := Default()
	data, err := crdFS.ReadFile("crds/confidentialcontainers.org_kbsconfigs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateYAMLStream(v, data); err != nil {
		t.Fatalf("CRD rejected: %v", err)
	}
	crd := mustYAML(t, string(data))
	set(t, crd, "metadata.name", "wrong.example.com")
	set(t, crd, "spec.scope", "Galaxy")
	err = v.Validate(crd)
	if err == nil {
		t.Fatal("invalid CRD accepted")
	}
	for _, w := range []string{`metadata.name: Invalid value: "wrong.example.com": must be spec.names.plural+"."+spec.group`, "spec.scope: Unsupported value"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%v", w, err)
		}
	}
}

// TestEmbeddedCRDsValid runs the apiserver's CRD validation on every
// embedded CRD: what the cluster accepted, this package must load.
func TestEmbeddedCRDsValid(t *testing.T) {
	files, _ := crdFS.ReadDir("crds")
	n := 0
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".yaml") {
			continue
		}
		n++
		data, _ := crdFS.ReadFile("crds/" + f.Name())
		crd, err := parseCRD(data)
		if err != nil {
			t.Errorf("%s: %v", f.Name(), err)
			continue
		}
		if want := crd.Spec.Group + "_" + crd.Spec.Names.Plural + ".yaml"; want != f.Name() {
			t.Errorf("%s: file name does not match CRD %s", f.Name(), crd.Name)
		}
		if errs := validateCRD(crd); len(errs) > 0 {
			t.Errorf("%s: %v", f.Name(), errs.ToAggregate())
		}
	}
	if n < 18 {
		t.Errorf("%d CRDs embedded, want at least 18", n)
	}
	// Every embedded CRD says where it comes from.
	readme, err := os.ReadFile("crds/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f.Name(), ".yaml") && !strings.Contains(string(readme), "`"+f.Name()+"`") {
			t.Errorf("crds/README.md does not say where %s comes from", f.Name())
		}
	}
}

func TestConcurrent(t *testing.T) {
	v, err := New()
	if err != nil {
		t.Fatal(err)
	}
	app := fixtureObject(t, "application.yaml", "Application")
	bad := fixtureObject(t, "application.yaml", "Application")
	set(t, bad, "spec.syncPolicy.automated.prunee", true)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				if err := v.Validate(app); err != nil {
					t.Error(err)
				}
				if err := v.Validate(bad); err == nil {
					t.Error("accepted")
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkValidateApplication(b *testing.B) {
	v := Default()
	obj := fixtureObject(b, "application.yaml", "Application")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := v.Validate(obj); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNew(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := New(); err != nil {
			b.Fatal(err)
		}
	}
}
