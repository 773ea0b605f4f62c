package acm

import (
	"fmt"

	"github.com/cocogen/cocogen/pkg/initdata"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
)

// InitDataCopyKeys are the keys of a profile's init-data ConfigMap that are
// copied to spokes: the encoded document and its digests. The readable
// document entries stay on the hub; they are not needed on spokes and,
// being free text, could contain template delimiters the spoke's policy
// controller would try to evaluate.
var InitDataCopyKeys = []string{initdata.ConfigMapKey, "DIGEST", "ALGORITHM", "PCR8_HASH", "SNP_HOSTDATA", "TDX_MRCONFIGID"}

// initDataPolicy copies the init-data ConfigMaps a spoke group needs from
// the hub (where the init-data generator puts them) into the group's
// sandboxed containers operator namespace, which every workload cluster
// has. Hub templates resolve on the hub when ACM propagates the policy, so
// the replicated policy carries the values and spokes need no access to
// the hub. Nil for groups that are not spokes or need no init-data.
func (b *builder) initDataPolicy(g group) *manifest.Object {
	if !b.p.IsSpoke(g.ClusterGroup) {
		return nil
	}
	profiles := b.p.GroupInitDataProfiles(g.ClusterGroup)
	if len(profiles) == 0 {
		return nil
	}
	var objs []any
	sa := ""
	for _, prof := range profiles {
		hubNS := b.p.InitDataConfigMapNamespace(prof)
		name := spec.InitDataConfigMapName(prof.Name)
		if s := b.needHubTemplateAccess(hubNS); s != "" {
			sa = s
		}
		data := map[string]any{}
		for _, k := range InitDataCopyKeys {
			data[k] = fmt.Sprintf("{{hub fromConfigMap %q %q %q hub}}", hubNS, name, k)
		}
		objs = append(objs, map[string]any{
			"complianceType": "mustonlyhave",
			"objectDefinition": map[string]any{
				"apiVersion": "v1",
				"kind":       "ConfigMap",
				"metadata":   map[string]any{"name": name, "namespace": g.SandboxedContainersNamespace()},
				"data":       data,
			},
		})
	}
	name := b.p.InitDataPolicyName(g.ClusterGroup)
	pol := b.policy(name, g.path, initDataCompliance, nil,
		b.configurationPolicy(name, map[string]any{"object-templates": objs}))
	if sa != "" {
		spec := pol.Content["spec"].(map[string]any)
		spec["hubTemplateOptions"] = map[string]any{"serviceAccountName": sa}
	}
	return &pol
}

// initDataSource is where a group's clusters read init-data from:
// the hub's own ConfigMap on the hub, the copy on spokes.
func (b *builder) initDataSource(g *spec.ClusterGroup, prof *spec.InitDataProfile) (namespace, name string) {
	name = spec.InitDataConfigMapName(prof.Name)
	if b.p.IsSpoke(g) {
		return g.SandboxedContainersNamespace(), name
	}
	return b.p.InitDataConfigMapNamespace(prof), name
}
