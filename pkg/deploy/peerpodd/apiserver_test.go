package peerpodd_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/cocogen/cocogen/internal/kubetest"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/deploy/peerpodd"
	"github.com/cocogen/cocogen/pkg/manifest"
)

// TestOnKubeAPIServer sends every object to a real kube-apiserver: a
// server-side dry-run create with strict field validation (its decoding,
// defaulting, validation and admission judge it), then a real create in
// canonical order. On the created objects it checks what the manifests
// mean: the service account may make exactly the daemon's API calls; the
// DaemonSet's pod passes the namespace's Pod Security level, and would
// not pass baseline; a pod of the runtime class gets its overhead and is
// scheduled on the daemon's nodes.
func TestOnKubeAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	srv := kubetest.Start(t, testkit.Root(t))
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(srv.Config)
	dyn := dynamic.NewForConfigOrDie(srv.Config)
	disc := memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(srv.Config))
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(disc)

	o := baseOptions()
	o.CloudProvider = "azure"
	objs := objects(t, o)
	for _, obj := range objs {
		if err := create(ctx, dyn, mapper, obj, true); err != nil {
			t.Errorf("%s: dry run rejected: %v", obj.ID(), err)
			continue
		}
		if err := create(ctx, dyn, mapper, obj, false); err != nil {
			t.Fatalf("%s: create: %v", obj.ID(), err)
		}
		if obj.Kind() == "CustomResourceDefinition" {
			waitEstablished(t, ctx, srv, obj.Name())
			disc.Invalidate()
			mapper.Reset()
		}
	}

	t.Run("rbac", func(t *testing.T) {
		user := "system:serviceaccount:" + o.Namespace + ":" + peerpodd.Name
		for _, c := range []struct {
			verb, group, resource, sub, ns string
			allowed                        bool
		}{
			{"get", "", "nodes", "", "", false},
			{"get", "", "nodes", "status", "", false},
			{"patch", "", "nodes", "status", "", true},
			{"get", "", "pods", "", "team-a", true},
			{"get", "", "serviceaccounts", "", "team-b", true},
			{"get", "", "secrets", "", "team-c", true},
			{"create", "confidentialcontainers.org", "peerpods", "", "team-a", true},
			{"get", "confidentialcontainers.org", "peerpods", "", "team-a", true},
			{"patch", "confidentialcontainers.org", "peerpods", "", "team-a", true},
			{"list", "confidentialcontainers.org", "peerpods", "", "", true},
			// What CAA v0.22.0 grants or a daemon might wish for, refused.
			{"list", "", "secrets", "", "team-c", false},
			{"watch", "", "secrets", "", "", false},
			{"list", "", "pods", "", "", false},
			{"list", "", "nodes", "", "", false},
			{"patch", "", "nodes", "", "", false},
			{"update", "", "nodes", "status", "", false},
			{"delete", "", "pods", "", "team-a", false},
			{"create", "", "secrets", "", o.Namespace, false},
			{"create", "", "configmaps", "", o.Namespace, false},
			{"update", "confidentialcontainers.org", "peerpods", "", "team-a", false},
			{"delete", "confidentialcontainers.org", "peerpods", "", "team-a", false},
			{"create", "", "pods", "", "team-a", false},
			{"create", "", "serviceaccounts", "token", o.Namespace, false},
		} {
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User: user, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + o.Namespace, "system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: c.verb, Group: c.group, Resource: c.resource, Subresource: c.sub, Namespace: c.ns, Name: "x"},
			}}
			got, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status.Allowed != c.allowed {
				t.Errorf("%s %s/%s/%s in %q: allowed %v, want %v", c.verb, c.group, c.resource, c.sub, c.ns, got.Status.Allowed, c.allowed)
			}
		}
	})

	t.Run("daemon pod", func(t *testing.T) {
		ds, err := cs.AppsV1().DaemonSets(o.Namespace).Get(ctx, peerpodd.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "peerpodd-", Labels: ds.Spec.Template.Labels},
			Spec:       *ds.Spec.Template.Spec.DeepCopy(),
		}
		pod.Spec.NodeName = "node-1"
		if _, err := cs.CoreV1().Pods(o.Namespace).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
			t.Errorf("the DaemonSet's pod, in its namespace: %v", err)
		}
		// The namespace's label matters: at baseline the pod is refused.
		baseline := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "baseline", Labels: map[string]string{"pod-security.kubernetes.io/enforce": "baseline"}}}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, baseline, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CoreV1().ServiceAccounts("baseline").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: peerpodd.Name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CoreV1().Pods("baseline").Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err == nil {
			t.Error("the DaemonSet's pod was admitted at the baseline level: the test of the namespace label proves nothing")
		}
	})

	t.Run("runtime class", func(t *testing.T) {
		if _, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		class := o.RuntimeClassName
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "confidential"},
			Spec:       corev1.PodSpec{RuntimeClassName: &class, Containers: []corev1.Container{{Name: "c", Image: "registry.example/app:v1"}}},
		}
		got, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			t.Fatal(err)
		}
		if got.Spec.Overhead.Cpu().String() != "250m" || got.Spec.Overhead.Memory().String() != "120Mi" {
			t.Errorf("overhead %v", got.Spec.Overhead)
		}
		if got.Spec.NodeSelector[peerpodd.DefaultNodeSelectorKey] != peerpodd.DefaultNodeSelectorValue {
			t.Errorf("nodeSelector %v: the class must send its pods to the daemon's nodes", got.Spec.NodeSelector)
		}
	})
}

// create sends one object as a create with strict field validation, as a
// dry run or for real.
func create(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, o manifest.Object, dryRun bool) error {
	gv, err := schema.ParseGroupVersion(o.APIVersion())
	if err != nil {
		return err
	}
	m, err := mapper.RESTMapping(gv.WithKind(o.Kind()).GroupKind(), gv.Version)
	if err != nil {
		return fmt.Errorf("the API server does not serve it: %w", err)
	}
	obj := &unstructured.Unstructured{Object: manifest.DeepCopy(o.Content)}
	var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ri = dyn.Resource(m.Resource).Namespace(o.Namespace())
	} else if o.Namespace() != "" {
		return fmt.Errorf("cluster-scoped, yet has namespace %q", o.Namespace())
	}
	opts := metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	_, err = ri.Create(ctx, obj, opts)
	return err
}

func waitEstablished(t *testing.T, ctx context.Context, srv *kubetest.Server, name string) {
	t.Helper()
	client := apiextensionsclient.NewForConfigOrDie(srv.Config).ApiextensionsV1().CustomResourceDefinitions()
	deadline := time.Now().Add(time.Minute)
	for {
		crd, err := client.Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			for _, c := range crd.Status.Conditions {
				if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("CRD %s not established: %v", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestKustomizeBuild: the committed base builds with kustomize into
// exactly the objects, and an overlay pins the image the documented way.
func TestKustomizeBuild(t *testing.T) {
	base := filepath.Join(testkit.Root(t), "deploy", "peerpodd")
	work := t.TempDir()
	const pinned = "registry.example/peerpodd@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	rel, err := filepath.Rel(work, base)
	if err != nil {
		t.Fatal(err)
	}
	testkit.WriteFile(t, filepath.Join(work, "kustomization.yaml"), "resources: ["+rel+"]\nimages:\n- name: ghcr.io/cocogen/peerpodd\n  newName: registry.example/peerpodd\n  digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n")
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	for dir, image := range map[string]string{base: baseImage, work: pinned} {
		m, err := k.Run(filesys.MakeFsOnDisk(), dir)
		if err != nil {
			t.Fatalf("kustomize build %s: %v", dir, err)
		}
		want := map[string]bool{}
		for _, o := range objects(t, baseOptions()) {
			want[o.ID()] = true
		}
		for _, r := range m.Resources() {
			id := r.GetApiVersion() + " " + r.GetKind() + " "
			if ns := r.GetNamespace(); ns != "" {
				id += ns + "/"
			}
			id += r.GetName()
			if !want[id] {
				t.Errorf("%s: unexpected %s", dir, id)
			}
			delete(want, id)
			if r.GetKind() != "DaemonSet" {
				continue
			}
			data, err := r.AsYAML()
			if err != nil {
				t.Fatal(err)
			}
			var ds struct {
				Spec struct {
					Template corev1.PodTemplateSpec `json:"template"`
				} `json:"spec"`
			}
			if err := sigsyaml.Unmarshal(data, &ds); err != nil {
				t.Fatal(err)
			}
			if got := ds.Spec.Template.Spec.Containers[0].Image; got != image {
				t.Errorf("%s: image %s, want %s", dir, got, image)
			}
		}
		for id := range want {
			t.Errorf("%s: missing %s", dir, id)
		}
	}
}
