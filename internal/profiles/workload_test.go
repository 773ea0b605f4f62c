package profiles_test

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cocogen/cocogen/internal/profiles"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/imagelock"
	"github.com/cocogen/cocogen/pkg/spec"
)

// TestWorkloadImagesOfAzureSimple: the images of the bundled example's
// confidential workloads, and not of the kata or standard ones that run
// the same image.
func TestWorkloadImagesOfAzureSimple(t *testing.T) {
	p := testkit.LoadFile(t, filepath.Join(testkit.Root(t), "fixtures", "azure-simple", "pattern.yaml"))
	got, err := profiles.WorkloadImages(p, testkit.Repo(t), spec.DefaultMaxInputBytes)
	if err != nil {
		t.Fatal(err)
	}
	want := []imagelock.Use{
		{Reference: "quay.io/openshift/origin-hello-openshift:4.16", Where: "Deployment/hello-openshift-confidential/hello-openshift containers hello-openshift"},
		{Reference: "registry.access.redhat.com/ubi9/ubi-minimal:9.5", Where: "Pod/kbs-access/kbs-access containers app"},
		{Reference: "registry.access.redhat.com/ubi9/ubi-minimal:9.5", Where: "Pod/kbs-access/kbs-access initContainers fetch-secret"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("images (-want +got):\n%s", diff)
	}
	if refs := imagelock.References(got); len(refs) != 2 {
		t.Errorf("References = %v, want the two distinct images", refs)
	}
}
