package initdata_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/cocogen/cocogen/generators/argocd"
	gen "github.com/cocogen/cocogen/generators/initdata"
	"github.com/cocogen/cocogen/internal/profiles"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/initdata"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
	"github.com/cocogen/cocogen/policies"
)

const podSpec = `
    containers:
      - name: c
        image: quay.io/openshift/origin-hello-openshift`

// workloadsRepo holds one application with every workload kind.
func workloadsRepo() fstest.MapFS {
	tmpl := func(rc string) string {
		s := "    metadata:\n      labels: {app: x}\n    spec:\n"
		if rc != "" {
			s += "      runtimeClassName: " + rc + "\n"
		}
		return s + "      containers:\n        - name: c\n          image: quay.io/openshift/origin-hello-openshift\n"
	}
	return fstest.MapFS{
		"apps/all/pod.yaml": {Data: []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: pod\nspec:" + podSpec + "\n")},
		"apps/all/deploy.yaml": {Data: []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: deploy\nspec:\n  template:\n" + tmpl("") +
			"---\n# a comment-only document\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc\nspec:\n  ports: [{port: 8080}]\n")},
		"apps/all/sts.yaml":            {Data: []byte("apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: sts\nspec:\n  template:\n" + tmpl("kata-remote"))},
		"apps/all/ds.yaml":             {Data: []byte("apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: ds\nspec:\n  template:\n" + tmpl(""))},
		"apps/all/rs.yaml":             {Data: []byte("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: rs\nspec:\n  template:\n" + tmpl("kata-remote"))},
		"apps/all/job.yaml":            {Data: []byte("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: job\nspec:\n  template:\n" + tmpl(""))},
		"apps/all/cron.yml":            {Data: []byte("apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: cron\nspec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n" + indent(tmpl(""), 4))},
		"apps/all/sub/rc.json":         {Data: []byte(`{"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "rc"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}}`)},
		"apps/all/plain.yaml":          {Data: []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: plain\nspec:\n  template:\n" + tmpl("kata"))},
		"apps/wrong/runc.yaml":         {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: runc\nspec:\n  template:\n" + tmpl("runc"))},
		"apps/wrong/tdx.json":          {Data: []byte("{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"tdx\"},\n \"spec\": {\"runtimeClassName\": \"kata-cc\", \"containers\": [{\"name\": \"c\", \"image\": \"i\"}]}}")},
		"apps/all/rbac.yaml":           {Data: []byte("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader}\nrules: []\n")},
		"apps/all/list.yaml":           {Data: []byte("apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: cm}\n    data: {a: '1'}\n")},
		"apps/all/README.md":           {Data: []byte("not a manifest")},
		"apps/all/.hidden/x.yaml":      {Data: []byte("not: [valid")},
		"apps/base/deploy.yaml":        {Data: []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n" + tmpl(""))},
		"apps/base/kustomization.yaml": {Data: []byte("resources: [deploy.yaml]\n")},
		"apps/kust/kustomization.yaml": {Data: []byte("resources: [../base]\nnamePrefix: prod-\nlabels: [{pairs: {env: prod}}]\n")},
		"apps/conflict/pod.yaml":       {Data: []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: mine\n  annotations:\n    io.katacontainers.config.hypervisor.cc_init_data: H4sIAAAA\nspec:" + podSpec + "\n")},
		"apps/legacy/pod.yaml":         {Data: []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: mine\n  annotations:\n    io.katacontainers.config.agent.policy: cGFja2FnZQ==\n    keep: me\nspec:" + podSpec + "\n")},
	}
}

func indent(s string, n int) string { return testkit.Indent(s, n) + "\n" }

// execDeny is a profile named default with the exec-deny policy, whose
// one document these tests read (a profile applications use is a
// workload profile by default, with a document per workload).
const execDeny = "      - name: default\n        policy: {profile: exec-deny}"

func pattern(t *testing.T, profiles, groups string) *spec.Pattern {
	t.Helper()
	return testkit.Load(t, patternDoc(profiles, groups))
}

func patternDoc(profiles, groups string) string {
	return testkit.Pattern{Spec: `
  trustee:
    url: https://kbs.example.com
  initData:
    profiles:
` + profiles + `
  clusterGroups:
` + groups}.YAML()
}

// group is a clusterGroups entry on Azure, at the indentation patternDoc
// splices it in.
func group(name, roles, apps string) string {
	return testkit.Indent(testkit.Group(name, roles, "{type: azure}", apps), 4) + "\n"
}

// app is a confidential applications entry (group indents it).
func app(name, path, profile string) string { return testkit.App(name, path, profile) }

func generate(t *testing.T, p *spec.Pattern, repo fstest.MapFS) (*manifest.Set, *render.Input, error) {
	t.Helper()
	return testkit.Generate(t, gen.New(), p, repo)
}

func find(set *manifest.Set, dir, kind, name string) map[string]any {
	for _, o := range set.Objects {
		if o.Dir == dir && o.Kind() == kind && o.Name() == name {
			return o.Content
		}
	}
	return nil
}

var get = testkit.Get

// build is the named profile of p, as the generator builds it.
func build(t *testing.T, p *spec.Pattern, name string) *profiles.Profile {
	t.Helper()
	ref, ok := p.ProfileRef(name)
	if !ok {
		t.Fatalf("no profile %q", name)
	}
	r, err := profiles.Build(p, ref)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestInjectAllWorkloadKinds(t *testing.T) {
	p := pattern(t, execDeny, group("spoke", "workloads", app("all", "apps/all", "default")))
	set, ctx, err := generate(t, p, workloadsRepo())
	if err != nil {
		t.Fatal(err)
	}
	r := build(t, p, "default")
	dir := "apps/spoke/all"
	for _, tc := range []struct {
		kind, name, rc string
		tmpl           []string
	}{
		{"Pod", "pod", "kata-remote", nil},
		{"Deployment", "deploy", "kata-remote", []string{"spec", "template"}},
		{"StatefulSet", "sts", "kata-remote", []string{"spec", "template"}},
		{"DaemonSet", "ds", "kata-remote", []string{"spec", "template"}},
		{"ReplicaSet", "rs", "kata-remote", []string{"spec", "template"}},
		{"Job", "job", "kata-remote", []string{"spec", "template"}},
		{"CronJob", "cron", "kata-remote", []string{"spec", "jobTemplate", "spec", "template"}},
		{"ReplicationController", "rc", "kata-remote", []string{"spec", "template"}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			o := find(set, dir, tc.kind, tc.name)
			if o == nil {
				t.Fatalf("%s/%s not in %s", tc.kind, tc.name, dir)
			}
			tmpl := o
			if tc.tmpl != nil {
				tmpl, _ = get(o, tc.tmpl...).(map[string]any)
			}
			if got := get(tmpl, "metadata", "annotations", initdata.AnnotationInitData); got != r.Annotation {
				t.Errorf("init-data annotation = %.40v, want the profile's", got)
			}
			if got := get(tmpl, "spec", "runtimeClassName"); got != tc.rc {
				t.Errorf("runtimeClassName = %v, want %s", got, tc.rc)
			}
		})
	}
	if o := find(set, dir, "Deployment", "plain"); o == nil || get(o, "spec", "template", "metadata", "annotations") != nil {
		t.Error("a plain kata Deployment was changed")
	}
	if o := find(set, dir, "Service", "svc"); o == nil || get(o, "metadata", "annotations") != nil {
		t.Error("Service missing or changed")
	}
	if find(set, dir, "ConfigMap", "cm") == nil {
		t.Error("List items not expanded")
	}
	if n := len(set.Objects); n != 13 { // 12 app objects + the profile's ConfigMap
		t.Errorf("%d objects, want 13", n)
	}
	if ns := get(find(set, dir, "Service", "svc"), "metadata", "namespace"); ns != "all" {
		t.Errorf("namespaced object got namespace %v, want the application's", ns)
	}
	if ns := get(find(set, dir, "ClusterRole", "reader"), "metadata", "namespace"); ns != nil {
		t.Errorf("cluster-scoped object got namespace %v", ns)
	}
	if !hasWarning(ctx, `Deployment all/plain runs with runtimeClassName "kata", in a kata VM without a TEE`) {
		t.Errorf("no warning about the plain kata workload: %q", ctx.Findings())
	}
}

// TestWorkloadRuntimeClassIsCocogens: a workload naming a class its group
// does not provide is an input error at its file and line.
func TestWorkloadRuntimeClassIsCocogens(t *testing.T) {
	p := pattern(t, execDeny, group("spoke", "workloads", app("wrong", "apps/wrong", "default")))
	_, _, err := generate(t, p, workloadsRepo())
	var errs spec.ErrorList
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("want two located errors, got %v", err)
	}
	for i, want := range []string{
		`apps/wrong/runc.yaml:14: spec.template.spec.runtimeClassName: apps/v1 Deployment wrong/runc names runtimeClassName "runc", which cluster group "spoke" does not provide: leave runtimeClassName out, cocogen sets the group's confidential class "kata-remote"`,
		`apps/wrong/tdx.json:2: spec.runtimeClassName: v1 Pod wrong/tdx names runtimeClassName "kata-cc"`,
	} {
		if got := errs.Sorted()[i].Error(); !strings.HasPrefix(got, want) {
			t.Errorf("error %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func hasWarning(in *render.Input, sub string) bool { return testkit.HasFinding(in.Findings(), sub) }

func TestProfileOutputs(t *testing.T) {
	// No hub: files and ConfigMap go to each workloads group using the profile.
	p := pattern(t, execDeny+"\n      - name: unused",
		group("a", "workloads", app("x", "apps/kust", "default"))+group("b", "workloads", app("y", "apps/kust", "default")))
	set, ctx, err := generate(t, p, workloadsRepo())
	if err != nil {
		t.Fatal(err)
	}
	r := build(t, p, "default")
	for _, g := range []string{"a", "b"} {
		files := map[string][]byte{}
		for _, f := range set.Files {
			files[f.Path] = f.Data
		}
		if string(files[g+"/initdata/default.toml"]) != string(r.TOML) || string(files[g+"/initdata/default.rego"]) != r.Policy {
			t.Errorf("group %s lacks the readable files", g)
		}
		cm := find(set, g, "ConfigMap", "initdata-default")
		if cm == nil {
			t.Fatalf("group %s has no ConfigMap", g)
		}
		if ns := get(cm, "metadata", "namespace"); ns != "openshift-sandboxed-containers-operator" {
			t.Errorf("ConfigMap namespace %v", ns)
		}
		if get(cm, "data", "INITDATA") != r.Annotation || get(cm, "data", "DIGEST") != hex.EncodeToString(r.Digest) ||
			get(cm, "data", "ALGORITHM") != "sha256" || get(cm, "data", "PCR8_HASH") != hex.EncodeToString(r.PCR8) ||
			get(cm, "data", "policy.rego") != r.Policy {
			t.Errorf("ConfigMap data wrong: %v", get(cm, "data"))
		}
		if get(cm, "metadata", "annotations", "argocd.argoproj.io/sync-wave") != "-5" {
			t.Error("ConfigMap sync wave")
		}
	}
	// Kustomize built ../base with the prefix and label.
	web := find(set, "apps/a/x", "Deployment", "prod-web")
	if web == nil || get(web, "metadata", "labels", "env") != "prod" ||
		get(web, "spec", "template", "metadata", "annotations", initdata.AnnotationInitData) != r.Annotation {
		t.Errorf("kustomized Deployment wrong: %v", web)
	}
	if !hasWarning(ctx, `profile "unused" is not used`) {
		t.Errorf("warnings %q", ctx.Findings())
	}
}

func TestHubPublishesProfiles(t *testing.T) {
	p := pattern(t, "      - name: default\n        policy: {profile: debug}\n      - name: spare",
		group("hub", "hub", "")+group("spoke", "workloads", app("x", "apps/all", "default")))
	set, ctx, err := generate(t, p, workloadsRepo())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"default", "spare"} {
		cm := find(set, "hub", "ConfigMap", "initdata-"+name)
		if cm == nil || get(cm, "metadata", "namespace") != "trustee-operator-system" {
			t.Errorf("hub lacks ConfigMap initdata-%s in the Trustee namespace", name)
		}
	}
	if find(set, "spoke", "ConfigMap", "initdata-default") != nil {
		t.Error("a spoke got the ConfigMap although a hub exists")
	}
	if !hasWarning(ctx, "DEBUG agent policy") || !hasWarning(ctx, "NO CONFIDENTIALITY") {
		t.Errorf("no loud debug warning: %q", ctx.Findings())
	}
}

func TestAnnotationConflicts(t *testing.T) {
	repo := workloadsRepo()
	p := pattern(t, execDeny, group("spoke", "workloads", app("c", "apps/conflict", "default")))
	_, _, err := generate(t, p, repo)
	var l spec.ErrorList
	if !errors.As(err, &l) || len(l) != 1 {
		t.Fatalf("err = %v, want one input error", err)
	}
	want := "apps/conflict/pod.yaml: v1 Pod c/mine: the pod already has annotation io.katacontainers.config.hypervisor.cc_init_data; cocogen sets init-data from profile \"default\" (set annotations.override: true"
	if !strings.HasPrefix(l[0].Error(), want) {
		t.Errorf("error:\n %s\nwant prefix\n %s", l[0], want)
	}
	if !spec.IsInvalid(fmt.Errorf("initdata: %w", err)) {
		t.Error("conflict is not an input error")
	}
	// A legacy policy annotation conflicts too.
	p = pattern(t, execDeny, group("spoke", "workloads", app("c", "apps/legacy", "default")))
	if _, _, err := generate(t, p, repo); err == nil || !strings.Contains(err.Error(), "io.katacontainers.config.agent.policy") {
		t.Errorf("legacy policy annotation: err = %v", err)
	}
	// With override the user's annotations are replaced, others kept. (A
	// policy annotation takes a profile whose policy allows
	// SetPolicyRequest: debug.)
	p = pattern(t, "      - name: default\n        policy: {profile: debug}\n        annotations: {override: true, legacyPolicy: true}",
		group("spoke", "workloads", app("c", "apps/legacy", "default")+app("d", "apps/conflict", "default")))
	set, _, err := generate(t, p, repo)
	if err != nil {
		t.Fatal(err)
	}
	r := build(t, p, "default")
	for _, dir := range []string{"apps/spoke/c", "apps/spoke/d"} {
		ann, _ := get(find(set, dir, "Pod", "mine"), "metadata", "annotations").(map[string]any)
		if ann[initdata.AnnotationInitData] != r.Annotation || ann[initdata.AnnotationInitDataLegacy] != nil {
			t.Errorf("%s: init-data annotations %v", dir, ann)
		}
		if pol, _ := base64.StdEncoding.DecodeString(fmt.Sprint(ann[initdata.AnnotationPolicy])); string(pol) != r.Policy {
			t.Errorf("%s: policy annotation not replaced", dir)
		}
		if dir == "apps/spoke/c" && ann["keep"] != "me" {
			t.Errorf("%s: unrelated annotation lost", dir)
		}
	}
}

// TestUnsupportedSources: what cocogen cannot render is a pattern error,
// located by line when the pattern loads; a path missing from the
// repository is found when the generator reads it.
func TestUnsupportedSources(t *testing.T) {
	groups := group("spoke", "workloads", `        - name: chart
          namespace: chart
          source: {chart: hello, repoURL: https://charts.example.com, targetRevision: 1.0.0}
          confidential: {initData: default}
        - name: multi
          namespace: multi
          sources:
            - {path: apps/all}
            - {repoURL: https://github.com/example/demo.git, ref: values}
          confidential: {initData: default}
        - name: other
          namespace: other
          source: {path: apps/all, repoURL: https://github.com/example/other.git}
          confidential: {initData: default}
`)
	_, err := spec.Parse("pattern.yaml", []byte(patternDoc("      - name: default", groups)), spec.LoadOptions{})
	if err == nil || !spec.IsInvalid(err) {
		t.Fatalf("err = %v", err)
	}
	got := err.Error()
	for _, want := range []string{
		"pattern.yaml:22: spec.clusterGroups[0].applications[0].source.chart: a confidential application cannot be a Helm chart; cocogen renders confidential applications itself to add their init-data, and only git-path sources can be rendered (the Argo CD plugin will lift this)",
		"pattern.yaml:26: spec.clusterGroups[0].applications[1].sources: a confidential application cannot have multiple sources",
		"pattern.yaml:32: spec.clusterGroups[0].applications[2].source.repoURL: a confidential application must live in the pattern's repository",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing error %q in:\n%s", want, got)
		}
	}

	p := pattern(t, execDeny, group("spoke", "workloads", `        - name: missing
          namespace: missing
          source: {path: apps/nope}
          confidential: {initData: default}
`))
	_, _, err = generate(t, p, workloadsRepo())
	var l spec.ErrorList
	if !errors.As(err, &l) || !strings.Contains(l.Error(), "spec.clusterGroups[0].applications[0].source.path: apps/nope: no such directory in the repository") {
		t.Errorf("err = %v", err)
	}
}

func TestBadManifests(t *testing.T) {
	repo := fstest.MapFS{
		"apps/bad/a.yaml": {Data: []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i}]\n")},
		"apps/bad/b.yaml": {Data: []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i}]\n")},
		"apps/bad/c.yaml": {Data: []byte("just: [broken")},
		"apps/bad/d.yaml": {Data: []byte("kind: Thing\n")},
	}
	p := pattern(t, execDeny, group("spoke", "workloads", app("bad", "apps/bad", "default")))
	_, _, err := generate(t, p, repo)
	if err == nil {
		t.Fatal("no error")
	}
	if !strings.Contains(err.Error(), "apps/bad/c.yaml: document 1:") {
		t.Errorf("YAML error not located: %v", err)
	}
	repo["apps/bad/c.yaml"] = &fstest.MapFile{Data: []byte("---\n")}
	_, _, err = generate(t, p, repo)
	for _, want := range []string{"apps/bad/b.yaml: v1 Pod bad/p is also defined in apps/bad/a.yaml", "apps/bad/d.yaml: not a Kubernetes object"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}

func TestAnnotationSizeLimits(t *testing.T) {
	// Random hex: gzip halves it, base64 adds a third.
	big := func(n int) string {
		var b strings.Builder
		x := uint64(88172645463325252)
		for b.Len() < n {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			fmt.Fprintf(&b, "%016x\n", x)
		}
		return b.String()
	}
	groups := group("spoke", "workloads", app("all", "apps/all", "default"))
	p := pattern(t, execDeny+"\n        extraData: {big.txt: \""+strings.ReplaceAll(big(120<<10), "\n", `\n`)+"\"}", groups)
	_, ctx, err := generate(t, p, workloadsRepo())
	if err != nil {
		t.Fatal(err)
	}
	if !hasWarning(ctx, "annotation is") {
		t.Errorf("no size warning: %q", ctx.Findings())
	}
	p = pattern(t, execDeny+"\n        extraData: {big.txt: \""+strings.ReplaceAll(big(600<<10), "\n", `\n`)+"\"}", groups)
	_, _, err = generate(t, p, workloadsRepo())
	if err == nil || !spec.IsInvalid(err) || !strings.Contains(err.Error(), "above the Kubernetes limit") {
		t.Errorf("err = %v, want an input error about the limit", err)
	}
}

// TestEmittedPoliciesCompile compiles every policy the generator emits
// (both profiles, with options) with OPA.
func TestEmittedPoliciesCompile(t *testing.T) {
	p := pattern(t, execDeny+`
      - name: debug
        policy: {profile: debug}
      - name: tuned
        policy: {profile: exec-deny, allowExec: [["/bin/date"], ["/bin/sh", "-c", "echo '''"]], allowLogs: false, allowStdin: true}`,
		group("hub", "hub", "")+group("spoke", "workloads", app("all", "apps/all", "default")))
	set, _, err := generate(t, p, workloadsRepo())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range set.Files {
		if !strings.HasSuffix(f.Path, ".rego") {
			continue
		}
		n++
		if _, err := rego.New(rego.Query("data.agent_policy"), rego.Module(f.Path, string(f.Data))).PrepareForEval(context.Background()); err != nil {
			t.Errorf("%s does not compile: %v", f.Path, err)
		}
		text := string(f.Data)
		i := strings.LastIndex(text, "policy_data := ")
		var data map[string]any
		if i < 0 || json.Unmarshal([]byte(text[i+len("policy_data := "):]), &data) != nil {
			t.Errorf("%s: policy_data is not a JSON object", f.Path)
		}
		// The TOML next to it holds the same policy.
		for _, g := range set.Files {
			if g.Path == strings.TrimSuffix(f.Path, ".rego")+".toml" {
				doc, err := initdata.Parse(g.Data)
				if err != nil || doc.Data["policy.rego"] != text {
					t.Errorf("%s: TOML does not hold the same policy (%v)", g.Path, err)
				}
			}
		}
	}
	if n != 3 {
		t.Errorf("%d policies emitted, want 3", n)
	}
}

// TestRenderWithArgoCD renders with the App-of-Apps generator too: no
// collisions, and the confidential Application points at our directory.
func TestRenderWithArgoCD(t *testing.T) {
	p := pattern(t, execDeny, group("hub", "hub", "")+group("spoke", "workloads", app("all", "apps/all", "default")))
	res := testkit.RenderWith(t, p, workloadsRepo(), argocd.New(), gen.New())
	var appPath any
	for _, o := range res.Set.Objects {
		if o.Kind() == "Application" && o.Name() == "all" {
			appPath = get(o.Content, "spec", "source", "path")
		}
	}
	if appPath != "rendered/apps/spoke/all" {
		t.Errorf("child Application path %v", appPath)
	}
	a := testkit.RenderWith(t, p, workloadsRepo(), argocd.New(), gen.New())
	ta, _ := manifest.Tree(a.Set)
	tb, _ := manifest.Tree(res.Set)
	if fmt.Sprint(ta) != fmt.Sprint(tb) {
		t.Error("two renders differ")
	}
}

// TestHonestPolicyNames: "strict", exec-deny's former name, still renders
// exec-deny, with a warning saying what it does not check; profiles
// whose pods may fetch KBS resources refuse logs unless allowed, which
// warns.
func TestHonestPolicyNames(t *testing.T) {
	doc := testkit.Pattern{Spec: `
  trustee:
    url: https://kbs.example.com
    resources:
      - {name: db-password, source: existing, profiles: [fetching, chatty]}
  initData:
    profiles:
      - name: renamed
        policy: {profile: strict}
      - name: fetching
        policy: {profile: exec-deny}
      - name: chatty
        policy: {profile: exec-deny, allowLogs: true}
      - name: quiet
        policy: {profile: exec-deny}
  clusterGroups:
` + group("a", "workloads", app("w", "apps/kust", "renamed")+app("x", "apps/kust", "fetching")+app("y", "apps/kust", "chatty")+app("z", "apps/kust", "quiet"))}.YAML()
	p := testkit.Load(t, doc)
	_, in, err := generate(t, p, workloadsRepo())
	if err != nil {
		t.Fatal(err)
	}
	if !hasWarning(in, `policy profile "strict" is now called "exec-deny"`) {
		t.Errorf("no warning about the renamed profile: %q", in.Findings())
	}
	if !hasWarning(in, `init-data profile "chatty" lets the host read its containers' logs (kubectl logs) while its pods may fetch KBS resources (db-password)`) {
		t.Errorf("no warning about logs of a fetching profile: %q", in.Findings())
	}
	for _, f := range in.Findings() {
		if strings.Contains(f.Message, `"fetching"`) || strings.Contains(f.Message, `"quiet"`) {
			t.Errorf("warning about a profile with safe defaults: %s", f.Message)
		}
	}
	logs := func(name string) any {
		var data map[string]any
		text := build(t, p, name).Policy
		if err := json.Unmarshal([]byte(text[strings.LastIndex(text, "policy_data := ")+len("policy_data := "):]), &data); err != nil {
			t.Fatal(err)
		}
		if data["profile"] != "exec-deny" {
			t.Errorf("profile %s renders policy %v, want exec-deny", name, data["profile"])
		}
		return get(data, "streams", "allow_logs")
	}
	for name, want := range map[string]bool{"renamed": true, "fetching": false, "chatty": true, "quiet": true} {
		if got := logs(name); got != want {
			t.Errorf("profile %s: logs allowed %v, want %v", name, got, want)
		}
	}
}

// TestWorkloadProfileNeedsTheLock: a workload profile without the image
// lock, or with an image missing from it, is an input error that names
// what to run; with the lock each workload gets its own document and its
// images pinned.
func TestWorkloadProfileNeedsTheLock(t *testing.T) {
	doc := patternDoc("      - name: bound\n        policy: {profile: workload}", group("a", "workloads", app("x", "apps/all", "bound")))
	p := testkit.Load(t, doc)
	repo := workloadsRepo()
	_, _, err := generate(t, p, repo)
	if err == nil || !strings.Contains(err.Error(), "spec.imageLock: no image lock at images.lock.yaml, and init-data profile \"bound\" binds each confidential workload to its pod spec and locked images (the default for profiles applications use): run `cocogen images lock -f pattern.yaml`") {
		t.Fatalf("without a lock: %v", err)
	}
	repo["images.lock.yaml"] = &fstest.MapFile{Data: []byte("apiVersion: cocogen.dev/v1alpha1\nkind: ImageLock\nplatform: linux/amd64\nimages:\n" +
		"- reference: quay.io/openshift/origin-hello-openshift\n  digest: sha256:" + strings.Repeat("ab", 32) + "\n  config: {entrypoint: [/hello]}\n")}
	_, _, err = generate(t, p, repo)
	if err == nil || !strings.Contains(err.Error(), "images not in the image lock (run cocogen images lock): i") || !strings.Contains(err.Error(), "apps/all/sub/rc.json") {
		t.Fatalf("with an image missing from the lock: %v", err)
	}
	repo["images.lock.yaml"].Data = []byte(strings.Replace(string(repo["images.lock.yaml"].Data), "images:\n", "images:\n- reference: i\n  digest: sha256:"+strings.Repeat("cd", 32)+"\n  config: {}\n", 1))
	set, _, err := generate(t, p, repo)
	if err != nil {
		t.Fatal(err)
	}
	annotations := map[string]bool{}
	for _, name := range []string{"pod", "deploy", "sts", "rc"} {
		var obj map[string]any
		for _, o := range set.Objects {
			if o.Dir == "apps/a/x" && o.Name() == name {
				obj = o.Content
			}
		}
		if obj == nil {
			t.Fatalf("no workload %s", name)
		}
		ann, _ := initdata.Find([]map[string]any{obj})[0], 0
		annotations[ann.Value] = true
		if !strings.Contains(fmt.Sprint(obj), "@sha256:") {
			t.Errorf("%s: images not pinned: %v", name, obj)
		}
	}
	if len(annotations) != 4 {
		t.Errorf("%d distinct init-data values for 4 workloads, want one each", len(annotations))
	}
	files := 0
	for _, f := range set.Files {
		if strings.HasPrefix(f.Path, "a/initdata/bound/x/") {
			files++
		}
	}
	if files == 0 {
		t.Error("no readable workload documents under a/initdata/bound/x/")
	}
}

// TestWorkloadLegacyPolicy: a workload profile with the legacy policy
// annotation gives each workload the annotation with its own policy,
// which its init-data's policy pins (the only SetPolicyRequest it
// allows).
func TestWorkloadLegacyPolicy(t *testing.T) {
	doc := patternDoc("      - name: bound\n        annotations: {legacyPolicy: true}", group("a", "workloads", app("x", "apps/conflict", "bound")))
	p := testkit.Load(t, doc)
	repo := workloadsRepo()
	repo["images.lock.yaml"] = &fstest.MapFile{Data: []byte("apiVersion: cocogen.dev/v1alpha1\nkind: ImageLock\nplatform: linux/amd64\nimages:\n" +
		"- reference: quay.io/openshift/origin-hello-openshift\n  digest: sha256:" + strings.Repeat("ab", 32) + "\n  config: {entrypoint: [/hello]}\n")}
	// The conflict app carries its own init-data annotation: override it.
	p.Spec.InitData.Profiles[0].Annotations.Override = true
	set, _, err := generate(t, p, repo)
	if err != nil {
		t.Fatal(err)
	}
	obj := find(set, "apps/a/x", "Pod", "mine")
	if obj == nil {
		t.Fatal("no workload")
	}
	meta := obj["metadata"].(map[string]any)["annotations"].(map[string]any)
	replacement, err := base64.StdEncoding.DecodeString(meta[initdata.AnnotationPolicy].(string))
	if err != nil {
		t.Fatal(err)
	}
	ann := initdata.Find([]map[string]any{obj})[0]
	toml, err := initdata.Decode(ann.Value)
	if err != nil {
		t.Fatal(err)
	}
	d, err := initdata.Parse(toml)
	if err != nil {
		t.Fatal(err)
	}
	initPolicy := d.Data[initdata.DataPolicy]
	if !strings.Contains(string(replacement), `"bind_containers": true`) || !strings.Contains(initPolicy, "pinned_policy := ") {
		t.Fatalf("annotation: a workload policy %v; init-data pins it %v", strings.Contains(string(replacement), `"bind_containers": true`), strings.Contains(initPolicy, "pinned_policy := "))
	}
	e, err := policies.Explain(initPolicy, "SetPolicyRequest", map[string]any{"policy": string(replacement)})
	if err != nil || !e.Allowed {
		t.Errorf("the init-data's policy refuses the annotation's: %+v, %v", e, err)
	}
}
