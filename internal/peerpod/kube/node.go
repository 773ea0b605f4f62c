package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// CapacityResource is the extended resource a node advertises, one unit
// per peer-pod VM it may run. Each peer pod requests one (in
// cloud-api-adaptor v0.22.0 its mutating webhook adds the request, see
// src/cloud-api-adaptor/docs/resource-management.md), so the scheduler
// stops placing peer pods on a node whose daemon has reached its limit.
const CapacityResource = "kata.peerpods.io/vm"

// patchOp is one RFC 6902 JSON patch operation.
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// pointerEscape escapes a JSON pointer reference token (RFC 6901): "~"
// first, so that the "~" of an escaped "/" is not escaped again.
func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// AdvertiseCapacity sets the node's capacity of CapacityResource to n,
// replacing what is there. The kubelet copies an extended resource's
// capacity to allocatable on its next status update.
//
// It is the JSON patch AdvertiseExtendedResources sends in
// cloud-api-adaptor v0.22.0 (src/cloud-api-adaptor/pkg/adaptor/k8sops/node.go):
// an "add" of /status/capacity/kata.peerpods.io~1vm, which replaces an
// existing value and needs the capacity map the kubelet always reports.
// Unlike there, a negative n is an error rather than a silent no-op: not
// advertising is the caller's decision.
func (c *Client) AdvertiseCapacity(ctx context.Context, node string, n int) error {
	if err := required("node", node); err != nil {
		return fmt.Errorf("advertising capacity: %w", err)
	}
	if n < 0 {
		return fmt.Errorf("advertising capacity on node %q: negative capacity %d", node, n)
	}
	patch, err := json.Marshal([]patchOp{{
		Op:    "add",
		Path:  "/status/capacity/" + pointerEscape(CapacityResource),
		Value: strconv.Itoa(n),
	}})
	if err != nil {
		return fmt.Errorf("advertising capacity on node %q: %w", node, err)
	}
	if err := c.do(ctx, "PATCH", nodeStatusPath(node), jsonPatch, patch, nil); err != nil {
		return fmt.Errorf("advertising capacity on node %q: %w", node, err)
	}
	return nil
}

// RemoveCapacity removes CapacityResource from the node's capacity, so that
// no peer pod is scheduled to it while its daemon is down. Removing what is
// not there succeeds.
//
// cloud-api-adaptor v0.22.0 (RemoveExtendedResources in k8sops/node.go)
// sends a JSON patch "remove", which RFC 6902 makes fail when the member is
// absent (a second shutdown, a node that never advertised); a merge patch
// setting the member to null removes it or does nothing.
func (c *Client) RemoveCapacity(ctx context.Context, node string) error {
	if err := required("node", node); err != nil {
		return fmt.Errorf("removing capacity: %w", err)
	}
	patch, err := json.Marshal(map[string]any{
		"status": map[string]any{"capacity": map[string]any{CapacityResource: nil}},
	})
	if err != nil {
		return fmt.Errorf("removing capacity from node %q: %w", node, err)
	}
	if err := c.do(ctx, "PATCH", nodeStatusPath(node), mergePatch, patch, nil); err != nil {
		return fmt.Errorf("removing capacity from node %q: %w", node, err)
	}
	return nil
}

func nodeStatusPath(node string) string {
	return "/api/v1/nodes/" + url.PathEscape(node) + "/status"
}
