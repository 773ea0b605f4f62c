package kube

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// peerpod-ctrl's custom resource, as defined under
// src/peerpod-ctrl/api/v1alpha1 in cloud-api-adaptor v0.22.0 and installed
// by pkg/deploy/peerpodd/peerpods-crd.yaml.
const (
	// PeerPodAPIVersion is the PeerPod's group and version.
	PeerPodAPIVersion = "confidentialcontainers.org/v1alpha1"
	// PeerPodKind is the PeerPod's kind.
	PeerPodKind     = "PeerPod"
	peerPodResource = "peerpods"
)

// PeerPodFinalizer keeps a PeerPod, once its pod is gone, until the daemon
// has deleted the VM. If the daemon never does, peerpod-ctrl sees the
// deleted PeerPod still holding it, deletes the VM from spec.instanceID
// itself and removes the finalizer (ppFinalizer in
// src/cloud-api-adaptor/pkg/adaptor/k8sops/peerpod.go and
// src/peerpod-ctrl/controllers/peerpod_controller.go, v0.22.0).
const PeerPodFinalizer = "peer.pod/finalizer"

// peerPod is the PeerPod object, as much of it as the daemon writes.
type peerPod struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Metadata   objectMeta  `json:"metadata"`
	Spec       peerPodSpec `json:"spec"`
}

type objectMeta struct {
	Name              string           `json:"name"`
	Namespace         string           `json:"namespace,omitempty"`
	Finalizers        []string         `json:"finalizers,omitempty"`
	OwnerReferences   []ownerReference `json:"ownerReferences,omitempty"`
	DeletionTimestamp string           `json:"deletionTimestamp,omitempty"`
}

type ownerReference struct {
	APIVersion         string `json:"apiVersion"`
	Kind               string `json:"kind"`
	Name               string `json:"name"`
	UID                string `json:"uid"`
	Controller         *bool  `json:"controller,omitempty"`
	BlockOwnerDeletion *bool  `json:"blockOwnerDeletion,omitempty"`
}

type peerPodSpec struct {
	CloudProvider string `json:"cloudProvider,omitempty"`
	InstanceID    string `json:"instanceID,omitempty"`
}

// maxNameLength is a DNS subdomain's, the limit on a custom resource name.
const maxNameLength = 253

// PeerPodName is the name of the PeerPod of a pod's VM:
// "<pod>-resource-<hash>", the hash of the pod name and instance ID.
// cloud-api-adaptor v0.22.0 appends five random characters instead and
// remembers the name in memory only, so a restarted daemon could not
// release the PeerPods of the VMs it had created; a name derived from what
// the daemon persists anyway lets it find them again.
func PeerPodName(pod, instanceID string) string {
	sum := sha256.Sum256([]byte(pod + "\x00" + instanceID))
	suffix := "-resource-" + hex.EncodeToString(sum[:5])
	prefix := pod
	if len(prefix) > maxNameLength-len(suffix) {
		// A pod name is a DNS subdomain already; cutting it may leave a
		// label ending in '.' or '-', which the suffix's '-' must not follow.
		prefix = strings.TrimRight(prefix[:maxNameLength-len(suffix)], ".-")
	}
	return prefix + suffix
}

// CreatePeerPod records the VM instanceID, created by cloudProvider for a
// pod, as a PeerPod in the pod's namespace, controlled by the pod and held
// by PeerPodFinalizer, and returns its name (PeerPodName). When the pod is
// deleted, the garbage collector deletes the PeerPod; the finalizer keeps
// it until ReleasePeerPod says the VM is gone.
//
// This is OwnPeerPod of cloud-api-adaptor v0.22.0
// (src/cloud-api-adaptor/pkg/adaptor/k8sops/peerpod.go), made idempotent:
// when the PeerPod exists already (a daemon restarted mid-create, or a
// retry), it is reused if it records the same pod, instance and provider,
// and its finalizer is put back if released meanwhile; if it records
// something else, that is an error.
func (c *Client) CreatePeerPod(ctx context.Context, namespace, pod, instanceID, cloudProvider string) (string, error) {
	if err := required("namespace", namespace, "pod", pod, "instance ID", instanceID, "cloud provider", cloudProvider); err != nil {
		return "", fmt.Errorf("creating PeerPod: %w", err)
	}
	name := PeerPodName(pod, instanceID)
	if err := c.createPeerPod(ctx, namespace, pod, name, instanceID, cloudProvider); err != nil {
		return "", fmt.Errorf("creating PeerPod %s/%s for pod %s: %w", namespace, name, pod, err)
	}
	return name, nil
}

func (c *Client) createPeerPod(ctx context.Context, namespace, pod, name, instanceID, cloudProvider string) error {
	p, err := c.getPod(ctx, namespace, pod)
	if err != nil {
		return err
	}
	yes := true
	want := peerPod{
		APIVersion: PeerPodAPIVersion,
		Kind:       PeerPodKind,
		Metadata: objectMeta{
			Name:       name,
			Namespace:  namespace,
			Finalizers: []string{PeerPodFinalizer},
			OwnerReferences: []ownerReference{{
				APIVersion: "v1",
				Kind:       "Pod",
				Name:       p.Metadata.Name,
				UID:        p.Metadata.UID,
				Controller: &yes,
				// Blocks a foreground deletion of the pod until the VM is
				// released, as CAA sets it.
				BlockOwnerDeletion: &yes,
			}},
		},
		Spec: peerPodSpec{CloudProvider: cloudProvider, InstanceID: instanceID},
	}
	body, err := json.Marshal(want)
	if err != nil {
		return err
	}
	err = c.do(ctx, "POST", peerPodsPath(namespace), "application/json", body, nil)
	if !isAlreadyExists(err) {
		return err
	}

	var have peerPod
	if err := c.do(ctx, "GET", peerPodPath(namespace, name), "", nil, &have); err != nil {
		return err
	}
	if have.Spec != want.Spec || !controlledBy(have.Metadata, p.Metadata.UID) {
		return fmt.Errorf("it exists already for another pod, instance or provider (instance %q, provider %q)", have.Spec.InstanceID, have.Spec.CloudProvider)
	}
	if slices.Contains(have.Metadata.Finalizers, PeerPodFinalizer) {
		return nil
	}
	// Released but not yet deleted: hold it again. "-" appends; a missing
	// list has to be added whole. The API server refuses a new finalizer
	// on an object being deleted, which is then the error.
	op := patchOp{Op: "add", Path: "/metadata/finalizers/-", Value: PeerPodFinalizer}
	if have.Metadata.Finalizers == nil {
		op = patchOp{Op: "add", Path: "/metadata/finalizers", Value: []string{PeerPodFinalizer}}
	}
	patch, err := json.Marshal([]patchOp{op})
	if err != nil {
		return err
	}
	return c.do(ctx, "PATCH", peerPodPath(namespace, name), jsonPatch, patch, nil)
}

// controlledBy reports whether the object's controller is the pod with uid.
func controlledBy(m objectMeta, uid string) bool {
	for _, r := range m.OwnerReferences {
		if r.Controller != nil && *r.Controller {
			return r.Kind == "Pod" && r.APIVersion == "v1" && r.UID == uid
		}
	}
	return false
}

// releaseAttempts bounds ReleasePeerPod's optimistic updates, which only
// repeat when another client changed the finalizers between the read and
// the patch.
const releaseAttempts = 3

// ReleasePeerPod removes PeerPodFinalizer from a PeerPod, once the daemon
// has deleted its VM, so that the PeerPod can go. A PeerPod that does not
// exist, or does not hold the finalizer, is released already.
//
// cloud-api-adaptor v0.22.0 (ReleasePeerPod in
// src/cloud-api-adaptor/pkg/adaptor/k8sops/peerpod.go) removes the whole
// /metadata/finalizers list, dropping other controllers' finalizers with
// its own, and fails on a PeerPod already gone. This removes only its own
// entry: a JSON patch that tests the entry at the index it was read at and
// removes it, so a concurrent change to the list makes the patch fail
// (422) rather than remove the wrong entry, and the read is repeated.
func (c *Client) ReleasePeerPod(ctx context.Context, namespace, name string) error {
	if err := required("namespace", namespace, "name", name); err != nil {
		return fmt.Errorf("releasing PeerPod: %w", err)
	}
	var err error
	for range releaseAttempts {
		var done bool
		done, err = c.releasePeerPod(ctx, namespace, name)
		if done || !hasCode(err, http.StatusUnprocessableEntity) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("releasing PeerPod %s/%s: %w", namespace, name, err)
	}
	return nil
}

// releasePeerPod makes one attempt; done says the finalizer is gone.
func (c *Client) releasePeerPod(ctx context.Context, namespace, name string) (done bool, err error) {
	var have peerPod
	err = c.do(ctx, "GET", peerPodPath(namespace, name), "", nil, &have)
	if IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	i := slices.Index(have.Metadata.Finalizers, PeerPodFinalizer)
	if i < 0 {
		return true, nil
	}
	at := fmt.Sprintf("/metadata/finalizers/%d", i)
	patch, err := json.Marshal([]patchOp{
		{Op: "test", Path: at, Value: PeerPodFinalizer},
		{Op: "remove", Path: at},
	})
	if err != nil {
		return false, err
	}
	err = c.do(ctx, "PATCH", peerPodPath(namespace, name), jsonPatch, patch, nil)
	if IsNotFound(err) {
		return true, nil
	}
	return err == nil, err
}

func peerPodsPath(namespace string) string {
	return "/apis/" + PeerPodAPIVersion + "/namespaces/" + url.PathEscape(namespace) + "/" + peerPodResource
}

func peerPodPath(namespace, name string) string {
	return peerPodsPath(namespace) + "/" + url.PathEscape(name)
}

// PeerPodName is the name CreatePeerPod gives the PeerPod of the pod's VM
// (the package function, as a method for the daemon's Cluster interface).
func (c *Client) PeerPodName(pod, instanceID string) string { return PeerPodName(pod, instanceID) }

// PeerPodRef is a PeerPod as the daemon's cleaner needs it.
type PeerPodRef struct {
	Namespace, Name string
	InstanceID      string
	CloudProvider   string
	// Deleting: the PeerPod is being deleted (its pod is gone) and waits
	// for its finalizer.
	Deleting bool
	// Held: it carries the daemon's finalizer.
	Held bool
}

// ListPeerPods lists every PeerPod of the cluster. peerpod-ctrl
// (cloud-api-adaptor v0.22.0 src/peerpod-ctrl) watches them to delete the
// VM of a PeerPod being deleted whose daemon never released it; peerpodd
// does the same from this list, so no controller has to be deployed.
func (c *Client) ListPeerPods(ctx context.Context) ([]PeerPodRef, error) {
	var list struct {
		Items []peerPod `json:"items"`
	}
	path := "/apis/" + PeerPodAPIVersion + "/" + peerPodResource
	if err := c.do(ctx, http.MethodGet, path, "", nil, &list); err != nil {
		return nil, fmt.Errorf("listing PeerPods: %w", err)
	}
	out := make([]PeerPodRef, 0, len(list.Items))
	for _, p := range list.Items {
		out = append(out, PeerPodRef{
			Namespace: p.Metadata.Namespace, Name: p.Metadata.Name,
			InstanceID: p.Spec.InstanceID, CloudProvider: p.Spec.CloudProvider,
			Deleting: p.Metadata.DeletionTimestamp != "",
			Held:     slices.Contains(p.Metadata.Finalizers, PeerPodFinalizer),
		})
	}
	return out, nil
}
