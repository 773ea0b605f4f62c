#!/usr/bin/env bash
# Builds the real kube-apiserver pinned in go.mod into $1 (default
# ../../bin/kube-apiserver). The dry-run test in pkg/render finds it there
# (or through $KUBE_APISERVER) and skips, saying so, when it is absent.
set -euo pipefail
cd "$(dirname "$0")"
out="${1:-../../bin/kube-apiserver}"
export GOTOOLCHAIN=local
# Pure Go, no cgo: the same binary on every machine.
CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags "-s -w" -o "$out" k8s.io/kubernetes/cmd/kube-apiserver
echo "built $out"
