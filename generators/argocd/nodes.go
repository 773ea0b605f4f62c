package argocd

import (
	"encoding/base64"
	"fmt"

	"github.com/cocogen/cocogen/internal/objects"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
	"github.com/cocogen/cocogen/pkg/waves"
)

// teeNodeFeatures is what a bare-metal TEE node must show for the
// sandboxed containers operator's confidential runtime class: the label its
// node selector uses and the extended resource its overhead requests (one
// TD key or one SEV-ES ASID per pod). The feature names are those Node
// Feature Discovery's cpu source publishes (kubernetes-sigs/
// node-feature-discovery source/cpu/security_amd64.go: tdx.enabled,
// tdx.total_keys, sev.snp.enabled, sev.encrypted_state_ids); the labels and
// resources are those the operator's kata-cc class selects and requests.
var teeNodeFeatures = map[string]struct {
	label, resource, attribute, enabled, cpuid string
}{
	spec.TEETDX: {"intel.feature.node.kubernetes.io/tdx", "tdx.intel.com/keys", "@cpu.security.tdx.total_keys", "tdx.enabled", "VMX"},
	spec.TEESNP: {"amd.feature.node.kubernetes.io/snp", "sev-snp.amd.com/esids", "@cpu.security.sev.encrypted_state_ids", "sev.snp.enabled", "SVM"},
}

// kernelArguments are the host kernel's arguments per TEE: KVM's TDX
// support is off unless kvm_intel.tdx=1; nohibernate as the validated
// pattern sets on both (validatedpatterns coco-pattern v3.1.0
// charts/all/baremetal/templates/vsock-mco.yaml, which also loads
// vsock-loopback).
var kernelArguments = map[string][]any{
	spec.TEETDX: {"nohibernate", "kvm_intel.tdx=1"},
	spec.TEESNP: {"nohibernate"},
}

// nodePreparation prepares a bare-metal group's nodes for TEE pods when the
// pattern asks for it (platform.baremetal.prepareNodes): the Node Feature
// Discovery instance and a rule for the group's TEE, and per pool a
// MachineConfig with the kernel arguments and the vsock-loopback module.
// They sync before the KataConfig.
func nodePreparation(p *spec.Pattern, g group) []manifest.Object {
	if !g.PreparesNodes() {
		return nil
	}
	bm := g.Platform.BareMetal
	origin := g.origin(".platform.baremetal.prepareNodes")
	ns := nfdNamespace(g)
	f := teeNodeFeatures[bm.TEE]
	out := []manifest.Object{
		// The operator runs no operand without its instance; the operand
		// image defaults to the operator's (NODE_FEATURE_DISCOVERY_IMAGE).
		objects.New(g.Dir(), "nfd.openshift.io/v1", "NodeFeatureDiscovery",
			objects.Meta{Name: "nfd-instance", Namespace: ns, Group: g.Name, Wave: waves.OperatorInstances, CustomResource: true}.Build(p),
			map[string]any{"spec": map[string]any{}}, origin),
		objects.New(g.Dir(), "nfd.openshift.io/v1alpha1", "NodeFeatureRule",
			objects.Meta{Name: "cocogen-" + bm.TEE, Namespace: ns, Group: g.Name, Wave: waves.Policies, CustomResource: true}.Build(p),
			map[string]any{"spec": map[string]any{"rules": []any{map[string]any{
				"name":              "cocogen." + bm.TEE,
				"labels":            map[string]any{f.label: "true"},
				"extendedResources": map[string]any{f.resource: f.attribute},
				"matchFeatures": []any{
					map[string]any{"feature": "cpu.cpuid", "matchExpressions": map[string]any{f.cpuid: map[string]any{"op": "Exists"}}},
					map[string]any{"feature": "cpu.security", "matchExpressions": map[string]any{f.enabled: map[string]any{"op": "Exists"}}},
				},
			}}}}, origin),
	}
	vsock := "data:text/plain;charset=utf-8;base64," + base64.StdEncoding.EncodeToString([]byte("vsock-loopback\n"))
	for i, role := range bm.MachineConfigRoles {
		meta := objects.Meta{Name: fmt.Sprintf("99-cocogen-%s-%s", bm.TEE, role), Group: g.Name, Wave: waves.Policies, CustomResource: true}.Build(p)
		labels, _ := meta["labels"].(map[string]any)
		if labels == nil {
			labels = map[string]any{}
			meta["labels"] = labels
		}
		labels["machineconfiguration.openshift.io/role"] = role
		out = append(out, objects.New(g.Dir(), "machineconfiguration.openshift.io/v1", "MachineConfig", meta, map[string]any{"spec": map[string]any{
			"kernelArguments": kernelArguments[bm.TEE],
			"config": map[string]any{
				"ignition": map[string]any{"version": "3.2.0"},
				"storage": map[string]any{"files": []any{map[string]any{
					"path":     "/etc/modules-load.d/vsock.conf",
					"mode":     int64(0o644),
					"contents": map[string]any{"source": vsock},
				}}},
			},
		}}, g.origin(fmt.Sprintf(".platform.baremetal.machineConfigRoles[%d]", i))))
	}
	return out
}

// nfdNamespace is where the group's Node Feature Discovery operator runs.
func nfdNamespace(g group) string {
	for _, op := range g.Operators {
		if op.Name == spec.OperatorNFD {
			return op.Namespace
		}
	}
	return "openshift-nfd"
}
