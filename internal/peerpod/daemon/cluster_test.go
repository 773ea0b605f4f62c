package daemon_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/cocogen/cocogen/internal/kubetest"
	"github.com/cocogen/cocogen/internal/peerpod/daemon"
	"github.com/cocogen/cocogen/internal/peerpod/hypervisor"
	"github.com/cocogen/cocogen/internal/peerpod/kube"
	"github.com/cocogen/cocogen/internal/peerpod/local"
	"github.com/cocogen/cocogen/internal/peerpod/userdata"
	"github.com/cocogen/cocogen/internal/testkit"
)

// TestOnACluster runs a sandbox with the daemon connected to a real
// kube-apiserver: the VM is guarded by a PeerPod (finalizer, owned by the
// pod) while it runs, gets the pod's pull credentials in its user data,
// and the finalizer is released once the VM is deleted.
func TestOnACluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	root := testkit.Root(t)
	srv := kubetest.Start(t, root)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kubetest.InstallCRD(t, ctx, srv.Config, filepath.Join(root, "pkg", "deploy", "peerpodd", "peerpods-crd.yaml"))
	cs := kubernetes.NewForConfigOrDie(srv.Config)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "confidential"}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ServiceAccounts("confidential").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Secrets("confidential").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "pull"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"registry.example":{"auth":"dTpw"}}}`)},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod, err := cs.CoreV1().Pods("confidential").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-0"},
		Spec: corev1.PodSpec{
			ImagePullSecrets: []corev1.LocalObjectReference{{Name: "pull"}},
			Containers:       []corev1.Container{{Name: "web", Image: "registry.example/web@sha256:" + strings.Repeat("a", 64)}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kc, err := kube.New(kube.Config{Host: srv.Config.Host, Token: srv.Config.BearerToken, CAData: srv.Config.CAData})
	if err != nil {
		t.Fatal(err)
	}

	n := newNodeWith(t, local.Options{}, nil, daemon.WithCluster(kc))
	shim := n.shim()
	if _, err := shim.CreateVM(ctx, createRequest("k8s1", "web-0")); err != nil {
		t.Fatal(err)
	}
	if _, err := shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: "k8s1"}); err != nil {
		t.Fatal(err)
	}
	vm := n.cloud.VM(daemon.InstanceName("web-0", "k8s1"))
	cc, err := userdata.Parse(vm.Spec.UserData)
	if err != nil {
		t.Fatal(err)
	}
	if auth, _ := cc.File(userdata.AuthFilePath); !strings.Contains(auth, `"registry.example"`) {
		t.Errorf("the VM did not get the pod's pull credentials: %q", auth)
	}
	peerPods := dynamic.NewForConfigOrDie(srv.Config).Resource(schema.GroupVersionResource{Group: "confidentialcontainers.org", Version: "v1alpha1", Resource: "peerpods"}).Namespace("confidential")
	list, err := peerPods.List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("PeerPods: %v %v", list, err)
	}
	pp := list.Items[0]
	if id, _, _ := unstructuredString(pp.Object, "spec", "instanceID"); id != vm.Instance.ID {
		t.Errorf("PeerPod instanceID %q, want %q", id, vm.Instance.ID)
	}
	if fins := pp.GetFinalizers(); len(fins) != 1 {
		t.Errorf("finalizers %v", fins)
	}
	if owners := pp.GetOwnerReferences(); len(owners) != 1 || owners[0].UID != pod.UID {
		t.Errorf("owners %v", owners)
	}
	if _, err := shim.StopVM(ctx, &hypervisor.StopVMRequest{Id: "k8s1"}); err != nil {
		t.Fatal(err)
	}
	got, err := peerPods.Get(ctx, pp.GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fins := got.GetFinalizers(); len(fins) != 0 {
		t.Errorf("finalizers after StopVM: %v", fins)
	}
	if len(n.cloud.Instances()) != 0 {
		t.Errorf("VMs left: %v", n.cloud.Instances())
	}

	// A VM whose daemon lost its record (a node that rebooted): once its
	// pod is gone and its PeerPod is being deleted, a daemon deletes the
	// VM and releases the PeerPod, which then goes.
	if _, err := shim.CreateVM(ctx, createRequest("k8s2", "web-0")); err != nil {
		t.Fatal(err)
	}
	if _, err := shim.StartVM(ctx, &hypervisor.StartVMRequest{Id: "k8s2"}); err != nil {
		t.Fatal(err)
	}
	n.kill()
	if err := os.RemoveAll(n.cfg.PodsDir); err != nil {
		t.Fatal(err)
	}
	list, err = peerPods.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var lost string
	for _, item := range list.Items {
		if len(item.GetFinalizers()) == 1 {
			lost = item.GetName()
		}
	}
	if lost == "" || len(n.cloud.Instances()) != 1 {
		t.Fatalf("no held PeerPod (%v) or VM (%v) to lose", list.Items, n.cloud.Instances())
	}
	if err := peerPods.Delete(ctx, lost, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	n.cfg.ReconcileInterval = 20 * time.Millisecond
	n.start()
	deadline := time.Now().Add(10 * time.Second)
	for len(n.cloud.Instances()) != 0 || !gone(ctx, peerPods, lost) {
		if time.Now().After(deadline) {
			t.Fatalf("the lost VM %v or its PeerPod %s is still there", n.cloud.Instances(), lost)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func gone(ctx context.Context, r dynamic.ResourceInterface, name string) bool {
	_, err := r.Get(ctx, name, metav1.GetOptions{})
	return apierrors.IsNotFound(err)
}

func unstructuredString(obj map[string]any, fields ...string) (string, bool, error) {
	var cur any = obj
	for _, f := range fields {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false, nil
		}
		cur = m[f]
	}
	s, ok := cur.(string)
	return s, ok, nil
}
