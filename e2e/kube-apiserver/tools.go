//go:build tools

// Package tools pins the real kube-apiserver the dry-run test sends every
// fixture's output to: k8s.io/kubernetes at the release matching the
// k8s.io/api cocogen builds against (v0.31.2 → v1.31.2). Build it with
// ./build.sh.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
