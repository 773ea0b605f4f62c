package cmp_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/schema"
)

// TestDeployManifests checks deploy/argocd-cmp: the plugin ConfigMap
// holds plugin.yaml byte for byte; the upstream patch, applied with
// kustomize to argo-cd v2.14.21's own repo-server Deployment
// (manifests/base/repo-server of the module), gives a Deployment the
// API's types accept whose sidecar mounts only volumes that exist; and the
// OpenShift GitOps ArgoCD resource passes its CRD and carries the very same
// sidecar.
func TestDeployManifests(t *testing.T) {
	root := testkit.Root(t)
	dir := filepath.Join(root, "deploy/argocd-cmp")
	plugin, err := os.ReadFile(filepath.Join(root, "plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	readStrict(t, filepath.Join(dir, "cocogen-plugin.yaml"), &cm)
	if cm.Data["plugin.yaml"] != string(plugin) {
		t.Error("cocogen-plugin.yaml does not hold plugin.yaml as it is")
	}

	// kustomize build of the upstream install with the patch.
	work := t.TempDir()
	upstream := filepath.Join(testkit.ModuleDir(t, "github.com/argoproj/argo-cd/v2"), "manifests/base/repo-server/argocd-repo-server-deployment.yaml")
	for src, dst := range map[string]string{
		upstream: "upstream/deployment.yaml",
		filepath.Join(dir, "cocogen-plugin.yaml"):    "cmp/cocogen-plugin.yaml",
		filepath.Join(dir, "repo-server-patch.yaml"): "cmp/repo-server-patch.yaml",
	} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		testkit.WriteFile(t, filepath.Join(work, dst), string(data))
	}
	testkit.WriteFile(t, filepath.Join(work, "kustomization.yaml"), "namespace: argocd\nresources: [upstream/deployment.yaml, cmp/cocogen-plugin.yaml]\npatches: [{path: cmp/repo-server-patch.yaml}]\n")
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), work)
	if err != nil {
		t.Fatal(err)
	}
	var sidecar corev1.Container
	for _, r := range m.Resources() {
		obj, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Default().Validate(obj); err != nil {
			t.Errorf("%s: %v", r.CurId(), err)
		}
		if r.GetKind() != "Deployment" {
			continue
		}
		var d struct {
			Spec struct {
				Template corev1.PodTemplateSpec `json:"template"`
			} `json:"spec"`
		}
		if err := sigsyaml.Unmarshal(must(r.AsYAML()), &d); err != nil {
			t.Fatal(err)
		}
		volumes := map[string]bool{}
		for _, v := range d.Spec.Template.Spec.Volumes {
			volumes[v.Name] = true
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			if c.Name != "cocogen" {
				continue
			}
			sidecar = c
			for _, vm := range c.VolumeMounts {
				if !volumes[vm.Name] {
					t.Errorf("the sidecar mounts volume %s, which the Deployment lacks", vm.Name)
				}
			}
		}
	}
	if sidecar.Name == "" {
		t.Fatal("no cocogen sidecar in the patched Deployment")
	}
	if sc := sidecar.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != 999 {
		t.Errorf("sidecar security context %+v", sidecar.SecurityContext)
	}

	// The OpenShift GitOps variant.
	data, err := os.ReadFile(filepath.Join(dir, "openshift-gitops-argocd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.ReadStream(data)
	if err != nil || len(objs) != 1 {
		t.Fatalf("openshift-gitops-argocd.yaml: %v", err)
	}
	if err := schema.Default().Validate(objs[0]); err != nil {
		t.Errorf("ArgoCD: %v", err)
	}
	var argo struct {
		Spec struct {
			Repo struct {
				SidecarContainers []corev1.Container `json:"sidecarContainers"`
				Volumes           []corev1.Volume    `json:"volumes"`
			} `json:"repo"`
		} `json:"spec"`
	}
	if err := sigsyaml.UnmarshalStrict(must(sigsyaml.Marshal(objs[0]["spec"].(map[string]any)["repo"])), &argo.Spec.Repo); err != nil {
		t.Fatal(err)
	}
	if len(argo.Spec.Repo.SidecarContainers) != 1 {
		t.Fatal("want one sidecar in the ArgoCD resource")
	}
	if diff := cmp.Diff(sidecar, argo.Spec.Repo.SidecarContainers[0]); diff != "" {
		t.Errorf("the ArgoCD resource's sidecar differs from the patch's (-patch +ArgoCD):\n%s", diff)
	}
}

func readStrict(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := sigsyaml.UnmarshalStrict(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
