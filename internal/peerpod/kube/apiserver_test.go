package kube_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/cocogen/cocogen/internal/kubetest"
	"github.com/cocogen/cocogen/internal/peerpod/kube"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/deploy/peerpodd"
)

var peerPods = schema.GroupVersionResource{Group: "confidentialcontainers.org", Version: "v1alpha1", Resource: "peerpods"}

// TestOnKubeAPIServer drives every method against a real kube-apiserver,
// as the daemon would run: with a service account token (read from a
// file) whose role grants only what the package documents, the PeerPod
// CRD peerpodd deploys, and objects made with client-go as a cluster would
// have them.
func TestOnKubeAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	root := testkit.Root(t)
	srv := kubetest.Start(t, root)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kubetest.InstallCRD(t, ctx, srv.Config, filepath.Join(root, "pkg", "deploy", "peerpodd", "peerpods-crd.yaml"))
	cs := kubernetes.NewForConfigOrDie(srv.Config)
	dyn := dynamic.NewForConfigOrDie(srv.Config)
	c := daemonClient(t, ctx, cs, srv.Config)

	t.Run("Capacity", func(t *testing.T) { testCapacity(t, ctx, cs, c) })
	t.Run("PeerPod", func(t *testing.T) { testPeerPod(t, ctx, cs, dyn, c) })
	t.Run("PullSecrets", func(t *testing.T) { testPullSecrets(t, ctx, cs, c) })
}

func testCapacity(t *testing.T, ctx context.Context, cs kubernetes.Interface, c *kube.Client) {
	// A node as the kubelet registers it, with its capacity reported.
	_, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "worker-0"},
		Status: corev1.NodeStatus{Capacity: corev1.ResourceList{
			corev1.ResourceCPU:  resource.MustParse("4"),
			corev1.ResourcePods: resource.MustParse("110"),
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	capacity := func() corev1.ResourceList {
		t.Helper()
		n, err := cs.CoreV1().Nodes().Get(ctx, "worker-0", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return n.Status.Capacity
	}
	for _, n := range []int{10, 3, 0} {
		if err := c.AdvertiseCapacity(ctx, "worker-0", n); err != nil {
			t.Fatal(err)
		}
		got := capacity()
		if q, ok := got[kube.CapacityResource]; !ok || q.Value() != int64(n) {
			t.Fatalf("after advertising %d: capacity %v", n, got)
		}
		if q := got[corev1.ResourceCPU]; q.Value() != 4 {
			t.Fatalf("advertising %d changed the CPU capacity: %v", n, got)
		}
	}
	for range 2 { // the second removal finds nothing to remove
		if err := c.RemoveCapacity(ctx, "worker-0"); err != nil {
			t.Fatal(err)
		}
		got := capacity()
		if _, ok := got[kube.CapacityResource]; ok || len(got) != 2 {
			t.Fatalf("after removing: capacity %v", got)
		}
	}
	if err := c.AdvertiseCapacity(ctx, "worker-9", 1); !kube.IsNotFound(err) {
		t.Fatalf("missing node: got %v, want a 404", err)
	} else if want := `advertising capacity on node "worker-9": PATCH /api/v1/nodes/worker-9/status: 404 NotFound: nodes "worker-9" not found`; err.Error() != want {
		t.Fatalf("got %q, want %q", err, want)
	}
	if err := c.AdvertiseCapacity(ctx, "worker-0", -1); err == nil {
		t.Fatal("negative capacity accepted")
	}
}

func testPeerPod(t *testing.T, ctx context.Context, cs kubernetes.Interface, dyn dynamic.Interface, c *kube.Client) {
	const ns = "apps"
	makeNamespace(t, ctx, cs, ns)
	pod := makePod(t, ctx, cs, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}})
	pps := dyn.Resource(peerPods).Namespace(ns)
	get := func(name string) *unstructured.Unstructured {
		t.Helper()
		pp, err := pps.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return pp
	}

	name, err := c.CreatePeerPod(ctx, ns, "web", "i-0123456789", "azure")
	if err != nil {
		t.Fatal(err)
	}
	if name != kube.PeerPodName("web", "i-0123456789") {
		t.Fatalf("name %q, want PeerPodName's", name)
	}
	pp := get(name)
	if got := pp.GetFinalizers(); !slices.Equal(got, []string{kube.PeerPodFinalizer}) {
		t.Errorf("finalizers %q", got)
	}
	refs := pp.GetOwnerReferences()
	if len(refs) != 1 || refs[0].APIVersion != "v1" || refs[0].Kind != "Pod" || refs[0].Name != "web" || refs[0].UID != pod.UID ||
		refs[0].Controller == nil || !*refs[0].Controller || refs[0].BlockOwnerDeletion == nil || !*refs[0].BlockOwnerDeletion {
		t.Errorf("owner references %+v, want the pod %s as blocking controller", refs, pod.UID)
	}
	spec, _, _ := unstructured.NestedStringMap(pp.Object, "spec")
	if spec["instanceID"] != "i-0123456789" || spec["cloudProvider"] != "azure" {
		t.Errorf("spec %v", spec)
	}

	listed, err := c.ListPeerPods(ctx)
	if err != nil {
		t.Fatalf("listing PeerPods with the deployed role: %v", err)
	}
	want := kube.PeerPodRef{Namespace: ns, Name: name, InstanceID: "i-0123456789", CloudProvider: "azure", Held: true}
	if !slices.Contains(listed, want) {
		t.Errorf("PeerPods listed: %+v, want %+v among them", listed, want)
	}

	// A restarted daemon creating it again finds it.
	if again, err := c.CreatePeerPod(ctx, ns, "web", "i-0123456789", "azure"); err != nil || again != name {
		t.Fatalf("second create: %q, %v", again, err)
	}
	// The name's PeerPod recording something else is not reused.
	if _, err := c.CreatePeerPod(ctx, ns, "web", "i-0123456789", "aws"); err == nil || !strings.Contains(err.Error(), "exists already for another pod") {
		t.Fatalf("mismatching create: got %v", err)
	}
	if _, err := c.CreatePeerPod(ctx, ns, "gone", "i-1", "azure"); !kube.IsNotFound(err) {
		t.Fatalf("PeerPod of a missing pod: got %v, want a 404", err)
	}

	// Another controller's finalizer, after ours, survives the release.
	pp = get(name)
	pp.SetFinalizers(append(pp.GetFinalizers(), "example.com/keep"))
	if _, err := pps.Update(ctx, pp, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // released twice: the second has nothing to do
		if err := c.ReleasePeerPod(ctx, ns, name); err != nil {
			t.Fatal(err)
		}
		if got := get(name).GetFinalizers(); !slices.Equal(got, []string{"example.com/keep"}) {
			t.Fatalf("after release: finalizers %q", got)
		}
	}
	// Created again before it was deleted: held again.
	if _, err := c.CreatePeerPod(ctx, ns, "web", "i-0123456789", "azure"); err != nil {
		t.Fatal(err)
	}
	if got := get(name).GetFinalizers(); !slices.Equal(got, []string{"example.com/keep", kube.PeerPodFinalizer}) {
		t.Fatalf("after re-create: finalizers %q", got)
	}

	// ReleasePeerPod repeats its read when the finalizer it tested has moved
	// between read and patch, which the API server answers with 422.
	_, err = pps.Patch(ctx, name, types.JSONPatchType, []byte(`[{"op":"test","path":"/metadata/finalizers/0","value":"`+kube.PeerPodFinalizer+`"}]`), metav1.PatchOptions{})
	if !apierrors.IsInvalid(err) {
		t.Fatalf("failed test operation: got %v, want 422", err)
	}

	// Deleted while held: it stays, terminating, until released.
	pp = get(name)
	pp.SetFinalizers([]string{kube.PeerPodFinalizer})
	if _, err := pps.Update(ctx, pp, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := pps.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if get(name).GetDeletionTimestamp() == nil {
		t.Fatal("no deletion timestamp")
	}
	if err := c.ReleasePeerPod(ctx, ns, name); err != nil {
		t.Fatal(err)
	}
	if _, err := pps.Get(ctx, name, metav1.GetOptions{}); err == nil {
		t.Fatal("released PeerPod still there")
	}
	// Gone is released.
	if err := c.ReleasePeerPod(ctx, ns, name); err != nil {
		t.Fatalf("releasing a missing PeerPod: %v", err)
	}
}

func testPullSecrets(t *testing.T, ctx context.Context, cs kubernetes.Interface, c *kube.Client) {
	const ns = "pulls"
	makeNamespace(t, ctx, cs, ns)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	secrets := []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Name: "json"}, Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{
			corev1.DockerConfigJsonKey: []byte(`{"auths":{"a.example":{"auth":"` + b64("a:pod") + `"},"b.example":{"username":"bu","password":"bp"}}}`),
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: "cfg"}, Type: corev1.SecretTypeDockercfg, Data: map[string][]byte{
			corev1.DockerConfigKey: []byte(`{"c.example":{"username":"cu","password":"cp","email":"c@example.com"},"a.example":{"auth":"` + b64("a:second") + `"}}`),
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: "sa-json"}, Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{
			corev1.DockerConfigJsonKey: []byte(`{"auths":{"a.example":{"auth":"` + b64("a:sa") + `"},"d.example":{"auth":"` + b64("d:sa") + `"},"e.example":{"email":"no@credentials"}}}`),
		}},
		// The kubelet reads pull secrets by type: this key in an Opaque
		// secret is not one.
		{ObjectMeta: metav1.ObjectMeta{Name: "opaque"}, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{
			corev1.DockerConfigJsonKey: []byte(`{"auths":{"f.example":{"auth":"` + b64("f:f") + `"}}}`),
		}},
	}
	for _, s := range secrets {
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, sa := range []*corev1.ServiceAccount{
		{ObjectMeta: metav1.ObjectMeta{Name: "builder"}, ImagePullSecrets: []corev1.LocalObjectReference{{Name: "sa-json"}, {Name: "sa-missing"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "temporary"}},
	} {
		if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	refs := func(names ...string) []corev1.LocalObjectReference {
		var r []corev1.LocalObjectReference
		for _, n := range names {
			r = append(r, corev1.LocalObjectReference{Name: n})
		}
		return r
	}
	makePod(t, ctx, cs, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "both", Namespace: ns},
		Spec: corev1.PodSpec{ServiceAccountName: "builder", ImagePullSecrets: refs("json", "missing", "cfg", "opaque")}})
	// The service account admission plugin copies the account's secrets
	// into a pod that names none.
	makePod(t, ctx, cs, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "account-only", Namespace: ns},
		Spec: corev1.PodSpec{ServiceAccountName: "builder"}})
	makePod(t, ctx, cs, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "none", Namespace: ns}})
	makePod(t, ctx, cs, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "orphan", Namespace: ns},
		Spec: corev1.PodSpec{ServiceAccountName: "temporary", ImagePullSecrets: refs("cfg")}})
	if err := cs.CoreV1().ServiceAccounts(ns).Delete(ctx, "temporary", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	for pod, want := range map[string]string{
		// The pod's secrets in order, then the account's; the first to
		// name a registry wins; auth is made from username and password.
		"both": `{"auths":{"a.example":{"auth":"` + b64("a:pod") + `"},"b.example":{"auth":"` + b64("bu:bp") + `"},` +
			`"c.example":{"auth":"` + b64("cu:cp") + `"},"d.example":{"auth":"` + b64("d:sa") + `"}}}`,
		"account-only": `{"auths":{"a.example":{"auth":"` + b64("a:sa") + `"},"d.example":{"auth":"` + b64("d:sa") + `"}}}`,
		"none":         ``,
		"orphan":       `{"auths":{"a.example":{"auth":"` + b64("a:second") + `"},"c.example":{"auth":"` + b64("cu:cp") + `"}}}`,
	} {
		got, err := c.PullSecretsAuth(ctx, ns, pod)
		if err != nil {
			t.Errorf("%s: %v", pod, err)
			continue
		}
		if string(got) != want {
			t.Errorf("%s: got\n%s\nwant\n%s", pod, got, want)
		}
		if want == "" && got != nil {
			t.Errorf("%s: want nil, got %q", pod, got)
		}
	}
	if _, err := c.PullSecretsAuth(ctx, ns, "missing"); !kube.IsNotFound(err) {
		t.Errorf("missing pod: got %v, want a 404", err)
	}
}

// daemonClient is a kube.Client as peerpodd's would be: a service account
// bound to the least role the package documents, its token in a file.
func daemonClient(t *testing.T, ctx context.Context, cs kubernetes.Interface, admin *rest.Config) *kube.Client {
	t.Helper()
	const ns, sa = "peerpodd-system", "peerpodd"
	makeNamespace(t, ctx, cs, ns)
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The ClusterRole cocogen deploys the daemon with, so that the
	// client's calls and the manifests cannot drift apart.
	role := deployedClusterRole(t)
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "peerpodd"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "peerpodd"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: ns, Name: sa}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(tr.Status.Token), 0o600); err != nil {
		t.Fatal(err)
	}
	waitAllowed(t, ctx, cs, "system:serviceaccount:"+ns+":"+sa)
	c, err := kube.New(kube.Config{Host: admin.Host, TokenFile: tokenFile, CAData: admin.CAData})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitAllowed waits for the RBAC authorizer's cache to see the binding.
func waitAllowed(t *testing.T, ctx context.Context, cs kubernetes.Interface, user string) {
	t.Helper()
	for {
		r, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:               user,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Group: "confidentialcontainers.org", Resource: "peerpods", Verb: "patch", Namespace: "any"},
		}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status.Allowed {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never allowed: %s", user, r.Status.Reason)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// installCRD creates a CRD from its file and waits until it is served.

// makeNamespace creates a namespace and its default service account, which
// the controller manager (not running here) would make.
func makeNamespace(t *testing.T, ctx context.Context, cs kubernetes.Interface, name string) {
	t.Helper()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ServiceAccounts(name).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// makePod creates the pod with one container.
func makePod(t *testing.T, ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	pod.Spec.Containers = []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}
	created, err := cs.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return created
}

func ptr[T any](v T) *T { return &v }

// deployedClusterRole is the ClusterRole of pkg/deploy/peerpodd's
// manifests.
func deployedClusterRole(t *testing.T) *rbacv1.ClusterRole {
	t.Helper()
	opts := peerpodd.DefaultOptions()
	opts.Image = "registry.example/peerpodd@sha256:" + strings.Repeat("0", 64)
	objs, err := peerpodd.Objects(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.Content["kind"] != "ClusterRole" {
			continue
		}
		data, err := json.Marshal(o.Content)
		if err != nil {
			t.Fatal(err)
		}
		role := &rbacv1.ClusterRole{}
		if err := json.Unmarshal(data, role); err != nil {
			t.Fatal(err)
		}
		return role
	}
	t.Fatal("the manifests have no ClusterRole")
	return nil
}
