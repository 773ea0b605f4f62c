package release_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/pkg/release"
)

// TestTable keeps every line complete: each pins every operator cocogen
// installs, every catalog its subscriptions need, and how its guest and
// verifier take init-data on every TEE.
func TestTable(t *testing.T) {
	names := release.Names()
	if names[0] != release.Default || len(names) < 2 {
		t.Fatalf("names %v: want the default first and at least two lines", names)
	}
	for _, line := range release.All() {
		t.Run(line.Name, func(t *testing.T) {
			if line.Summary == "" || line.Trustee.KBSSource == "" || line.Trustee.KBSImage.Name == "" {
				t.Error("summary, KBS source or image missing")
			}
			for _, op := range []string{release.OperatorSandboxedContainers, release.OperatorTrustee, release.OperatorACM, release.OperatorExternalSecrets, release.OperatorGitOps} {
				sub, ok := line.Operators[op]
				if !ok || sub.Package != op || sub.Channel == "" || sub.Namespace == "" || sub.Source == "" || sub.SourceNamespace == "" {
					t.Errorf("operator %s: %+v", op, sub)
				}
				if sub.Source != "redhat-operators" {
					if c, ok := line.Catalogs[sub.Source]; !ok || c.Image == "" || c.Namespace != sub.SourceNamespace {
						t.Errorf("operator %s comes from catalog %s, which the line does not define", op, sub.Source)
					}
				}
			}
			for _, tee := range []string{release.TEEAzureVTPM, release.TEESNP, release.TEETDX} {
				algs := line.InitData.Algorithms[tee]
				if len(algs) == 0 || (len(algs) < 3 && line.InitData.Why[tee] == "") {
					t.Errorf("%s: algorithms %v without a reason for the restriction", tee, algs)
				}
			}
			if !slices.Contains(line.Trustee.KBSImage.AttestationServices, "coco_as_builtin") {
				t.Error("the KBS image lacks the built-in attestation service cocogen configures")
			}
			if !strings.HasPrefix(line.Trustee.ReferenceValuesPath, line.Trustee.LocalJSONDir+"/") {
				t.Errorf("reference values %s are not in the LocalJson store %s", line.Trustee.ReferenceValuesPath, line.Trustee.LocalJSONDir)
			}
		})
	}
	if _, ok := release.Get("openshift-1.9"); ok {
		t.Error("an unknown line was found")
	}
}
