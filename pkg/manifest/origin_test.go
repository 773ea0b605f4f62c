package manifest

import "testing"

func TestOriginComment(t *testing.T) {
	for _, tc := range []struct {
		o    Origin
		want string
	}{
		{Origin{}, ""},
		{Origin{Generator: "acm", Spec: "spec.clusterGroups[1]"}, "# cocogen: generators/acm from spec.clusterGroups[1]\n"},
		{Origin{Generator: "argocd", Spec: "spec.x", File: "apps/a.yaml"}, "# cocogen: generators/argocd from spec.x (apps/a.yaml)\n"},
		{Origin{Tool: "pkg/deploy/peerpodd (cocogen peerpodd manifests)"}, "# cocogen: pkg/deploy/peerpodd (cocogen peerpodd manifests)\n"},
		{Origin{Tool: "t", File: "upstream@1 crd.yaml"}, "# cocogen: t\n# From upstream@1 crd.yaml, unchanged.\n"},
	} {
		if got := tc.o.Comment(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.o, got, tc.want)
		}
	}
	if got := (Object{Content: map[string]any{"kind": "Namespace", "metadata": map[string]any{"name": "n"}}}).TreePath(); got != "Namespace/n.yaml" {
		t.Errorf("tree path without a directory: %q", got)
	}
}
