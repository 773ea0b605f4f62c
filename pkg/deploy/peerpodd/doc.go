// Package peerpodd builds the manifests that deploy peerpodd, cocogen's
// peer-pod daemon (the kata remote hypervisor of the kata-remote runtime
// class), on clusters where no operator deploys one: managed Kubernetes
// such as AKS or EKS. On cocogen's release lines (OpenShift sandboxed
// containers) the operator runs its own daemon, so the pattern render never
// calls this package; `cocogen peerpodd manifests` does, and
// deploy/peerpodd/ is its output for the default options and the image
// ghcr.io/cocogen/peerpodd:v0.1.0 (kept in sync by TestGolden, `make
// golden`).
//
// Objects returns the objects for Options; Tree lays them out as a
// kustomize base (one file per object and a kustomization.yaml) and
// WriteStream writes them as one YAML stream. Both are deterministic: the
// objects are in pkg/manifest's canonical order and written by its
// canonical YAML writer.
//
//	opts := peerpodd.DefaultOptions()
//	opts.Image = "ghcr.io/cocogen/peerpodd@sha256:..."
//	objs, err := peerpodd.Objects(opts) // an *InvalidOptionsError lists every problem
//	if err != nil { ... }
//	err = peerpodd.WriteStream(os.Stdout, objs)
//
// The package builds object content as plain maps, like the generators:
// Kubernetes' API types stay out of the cocogen binary (internal/depcheck)
// and in the tests, which decode every object into them strictly and send
// them to a real kube-apiserver.
package peerpodd
