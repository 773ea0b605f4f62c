package acm_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cocogen/cocogen/generators/acm"
	"github.com/cocogen/cocogen/generators/argocd"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/render"
)

// TestSpokeBootstrap renders the hub-spoke example and checks that each
// spoke group's bootstrap Policy creates on the spoke exactly the objects
// rendered into bootstrap/<group> (root AppProject and Application, and the
// OpenShift GitOps ArgoCD resource carrying the health checks), and that it
// waits for the GitOps operator policy.
func TestSpokeBootstrap(t *testing.T) {
	p := testkit.LoadFile(t, filepath.Join(testkit.Root(t), "fixtures/hub-spoke/pattern.yaml"))
	res := testkit.Render(t, p)
	for _, group := range []string{"spoke-azure", "spoke-aws"} {
		t.Run(group, func(t *testing.T) {
			var want []any
			var kinds []string
			for _, o := range res.Set.Objects {
				if o.Dir == "bootstrap/"+group {
					want = append(want, o.Content)
					kinds = append(kinds, o.Kind())
				}
			}
			slices.Sort(kinds)
			if !slices.Equal(kinds, []string{"AppProject", "Application", "ArgoCD"}) {
				t.Fatalf("bootstrap/%s holds %v, want the root AppProject and Application and the ArgoCD health checks", group, kinds)
			}
			pol := find(t, res.Set, "Policy", "coco-"+group+"-bootstrap")
			deps := pol.Content["spec"].(map[string]any)["dependencies"].([]any)
			if name := deps[0].(map[string]any)["name"]; name != "coco-"+group+"-gitops" {
				t.Errorf("bootstrap waits for %v", name)
			}
			tmpl := policyTemplate(t, pol, "coco-"+group+"-bootstrap")
			var got []any
			for _, ot := range tmpl["spec"].(map[string]any)["object-templates"].([]any) {
				if ct := ot.(map[string]any)["complianceType"]; ct != "musthave" {
					t.Errorf("complianceType %v, want musthave (merge into what Argo CD and its operator own)", ct)
				}
				got = append(got, ot.(map[string]any)["objectDefinition"])
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("bootstrap objects differ from bootstrap/%s (-want +got):\n%s", group, diff)
			}
			gitops := policyTemplate(t, find(t, res.Set, "Policy", "coco-"+group+"-gitops"), "coco-"+group+"-gitops")
			sub := gitops["spec"].(map[string]any)["object-templates"].([]any)[2].(map[string]any)["objectDefinition"].(map[string]any)
			if sub["kind"] != "Subscription" || sub["spec"].(map[string]any)["name"] != "openshift-gitops-operator" {
				t.Errorf("gitops policy installs %v", sub)
			}
		})
	}
	// The hub bootstraps itself by hand: no policy for it.
	for _, o := range res.Set.Objects {
		if o.Kind() == "Policy" && o.Name() == "coco-hub-bootstrap" {
			t.Error("bootstrap policy for the hub group")
		}
	}
}

// TestBootstrapOrderIsDeclared pins that acm's bootstrap policies see the
// objects argocd derives in its own Finalize whatever the generators' list
// order (acm declares it finalizes after argocd), and that rendering acm
// without argocd fails before any work instead of shipping an empty
// bootstrap policy.
func TestBootstrapOrderIsDeclared(t *testing.T) {
	p := testkit.LoadFile(t, filepath.Join(testkit.Root(t), "fixtures/hub-spoke/pattern.yaml"))
	first := testkit.RenderWith(t, p, nil, acm.New(), argocd.New())
	second := testkit.RenderWith(t, p, nil, argocd.New(), acm.New())
	a, _ := manifest.Tree(first.Set)
	b, _ := manifest.Tree(second.Set)
	if diff := cmp.Diff(b, a); diff != "" {
		t.Errorf("output depends on the generators' list order:\n%s", diff)
	}
	_, _, err := render.Render(context.Background(), p, nil, []render.Generator{acm.New()})
	if err == nil || !strings.Contains(err.Error(), `acm finalizes after "argocd", which is not among the generators`) {
		t.Errorf("acm alone: %v", err)
	}
}
