package render_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cocogen/cocogen/generators"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
)

// secretPattern renders a Helm parameter and, when app is set, a
// confidential application's ConfigMap.
const secretPattern = `apiVersion: cocogen.dev/v1alpha1
kind: Pattern
metadata: {name: scan}
spec:
  source: {repoURL: "https://github.com/example/scan.git"}
  trustee: {url: "https://kbs.example.com"}
  initData: {profiles: [{name: default, policy: {profile: exec-deny}}]}
  clusterGroups:
    - name: edge
      roles: [workloads]
      selector: {matchLabels: {edge: "true"}}
      platform: {type: azure}
      applications:
        - name: chart
          namespace: chart
          source:
            repoURL: https://charts.example.com
            chart: web
            targetRevision: 1.0.0
            helm:
              parameters:
                token: "AKIAIOSFODNN7EXAMPLE"
        - name: app
          namespace: app
          source: {path: app}
          confidential: {initData: default}
`

var secretRepo = fstest.MapFS{
	"app/pod.yaml":    {Data: []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i}]\n")},
	"app/config.yaml": {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  url: https://bot:s3cr3t@git.example.com/x.git\n")},
}

func runScan(t *testing.T, doc string) (*render.Result, error) {
	t.Helper()
	return render.Run(context.Background(), render.Request{Path: "pattern.yaml", Data: []byte(doc), Repo: secretRepo, Generators: generators.All()})
}

// TestSecretScan: credentials anywhere in the output are input errors at
// their source, never quoting the value; an allowance lets one through
// with a warning, and an allowance that matches nothing is warned about.
func TestSecretScan(t *testing.T) {
	_, err := runScan(t, secretPattern)
	var errs spec.ErrorList
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("want two located errors, got %v", err)
	}
	got := errs.Error()
	for _, want := range []string{
		`app/config.yaml:5: spec.clusterGroups[0].applications[1]: apps/edge/app/ConfigMap/app/c.yaml data.url holds a URL with a password`,
		`pattern.yaml:14: spec.clusterGroups[0].applications[0]: edge/Application/openshift-gitops/chart.yaml spec.source.helm.parameters[0].value holds an AWS access key id`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "s3cr3t") || strings.Contains(got, "AKIAIOSFODNN7EXAMPLE") {
		t.Error("an error quotes the credential")
	}

	allowed := secretPattern + `  secretScan:
    allow:
      - {object: edge/Application/openshift-gitops/chart.yaml, field: "spec.source.helm.parameters[0].value", reason: the chart's documented example key}
      - {object: apps/edge/app/ConfigMap/app/c.yaml, field: data.url, reason: a public mirror's sample credentials}
      - {object: edge/Namespace/app.yaml, field: metadata.name, reason: stale}
`
	res, err := runScan(t, allowed)
	if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	for _, f := range res.Findings {
		warnings = append(warnings, f.String())
	}
	all := strings.Join(warnings, "\n")
	for _, want := range []string{"as allowed: the chart's documented example key", "as allowed: a public mirror's sample credentials", "allows edge/Namespace/app.yaml metadata.name, which holds nothing"} {
		if !testkit.HasFinding(res.Findings, want) {
			t.Errorf("findings lack %q:\n%s", want, all)
		}
	}
}
