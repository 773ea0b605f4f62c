// Package kube is the peer-pod daemon's Kubernetes client: the handful of
// API calls peerpodd makes, over net/http and encoding/json.
//
// The daemon runs on every node, so it does not link client-go or the
// Kubernetes API types (a test keeps them out of the import graph); it
// needs three things from the cluster, the ones the Confidential
// Containers cloud-api-adaptor's k8sops package provides
// (src/cloud-api-adaptor/pkg/adaptor/k8sops/{node,peerpod}.go, v0.22.0):
//
//   - advertise the node's peer-pod capacity, the extended resource
//     kata.peerpods.io/vm the scheduler counts peer pods' requests of
//     against (AdvertiseCapacity, RemoveCapacity);
//   - the pod's image pull credentials, for the VM's auth.json
//     (PullSecretsAuth);
//   - a PeerPod object per VM, owned by the pod and held by a finalizer, so
//     that peerpod-ctrl deletes the VM if the daemon never does
//     (CreatePeerPod, ReleasePeerPod).
//
// In a pod:
//
//	cfg, err := kube.InClusterConfig()
//	if err != nil { ... }
//	c, err := kube.New(cfg)
//	if err != nil { ... }
//	err = c.AdvertiseCapacity(ctx, os.Getenv("NODE_NAME"), 10)
//
// The service account needs: get on pods, serviceaccounts and secrets;
// patch on nodes/status; create, get and patch on
// confidentialcontainers.org peerpods.
//
// Every call takes its deadline from ctx and is tried once: retrying is the
// caller's policy. The exceptions are not retries of a failure but part of
// getting one answer right: a request rejected with 401 is repeated once
// when the token file has been rotated meanwhile, and ReleasePeerPod
// repeats its read-and-patch when another client changed the finalizers in
// between.
package kube
