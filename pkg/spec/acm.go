package spec

import (
	"fmt"

	"github.com/cocogen/cocogen/internal/lazy"
	"github.com/cocogen/cocogen/pkg/release"

	"strings"
)

// ACM configures the Red Hat Advanced Cluster Management objects cocogen
// puts in the hub group's directory: Policies (with their
// ConfigurationPolicies), Placements, PlacementBindings and the
// ManagedClusterSetBinding the placements need. ACM runs on the hub, so a
// pattern without a hub group gets none of them.
type ACM struct {
	// PolicyNamespace on the hub holds the policies and placements; default
	// DefaultPolicyNamespace. It must not be a managed cluster's namespace.
	PolicyNamespace string `json:"policyNamespace,omitempty"`
	// ClusterSet is the ManagedClusterSet placements choose clusters from;
	// default DefaultClusterSet ("global", which holds every cluster).
	ClusterSet string `json:"clusterSet,omitempty"`
	// RemediationAction of every policy: enforce (default) or inform.
	RemediationAction string `json:"remediationAction,omitempty"`
}

// ACM defaults.
const (
	// DefaultPolicyNamespace keeps cocogen's policies apart from others on
	// the hub.
	DefaultPolicyNamespace = "cocogen-policies"
	// DefaultClusterSet is the set ACM creates with every managed cluster
	// in it, so a label selector alone decides placement.
	DefaultClusterSet = "global"
	// RemediationEnforce makes ACM create and correct the objects.
	RemediationEnforce = "enforce"
	// RemediationInform only reports drift.
	RemediationInform = "inform"
)

// maxReplicatedPolicyName is ACM's limit on "<namespace>.<policy name>",
// the name of the policy replicated into each managed cluster's namespace
// (a label value on the hub).
const maxReplicatedPolicyName = 63

func (a *ACM) defaultACM() {
	setString(&a.PolicyNamespace, DefaultPolicyNamespace)
	setString(&a.ClusterSet, DefaultClusterSet)
	setString(&a.RemediationAction, RemediationEnforce)
}

// tagTemplateRE finds template delimiters, which would be evaluated by the
// ACM template engine once a value is written into a policy.
var tagTemplateRE = lazy.Regexp(`\{\{|\}\}`)

// regionRE accepts cloud region and zone names (eastus, us-east-1, us-south-1).
var regionRE = lazy.Regexp(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

func validateACM(p *Pattern, v *validator) {
	a := &p.Spec.ACM
	v.dnsLabel("spec.acm.policyNamespace", a.PolicyNamespace)
	if strings.HasPrefix(a.PolicyNamespace, "openshift-") || strings.HasPrefix(a.PolicyNamespace, "kube-") || a.PolicyNamespace == "open-cluster-management" {
		v.add("spec.acm.policyNamespace", "%q is a system namespace; policies belong in a namespace of their own", a.PolicyNamespace)
	}
	v.dnsLabel("spec.acm.clusterSet", a.ClusterSet)
	if a.RemediationAction != RemediationEnforce && a.RemediationAction != RemediationInform {
		v.add("spec.acm.remediationAction", "want %s or %s, got %q", RemediationEnforce, RemediationInform, a.RemediationAction)
	}
	if p.HubGroup() == nil {
		return
	}
	for i := range p.Spec.ClusterGroups {
		g := &p.Spec.ClusterGroups[i]
		path := fmt.Sprintf("spec.clusterGroups[%d]", i)
		for _, name := range []string{p.PeerPodsPolicyName(g), p.InitDataPolicyName(g)} {
			if n := len(a.PolicyNamespace) + 1 + len(name); n > maxReplicatedPolicyName {
				v.add(path+".name", "ACM policy %q in namespace %q: %q is %d characters, over ACM's limit of %d; shorten metadata.name, the group name or spec.acm.policyNamespace",
					name, a.PolicyNamespace, a.PolicyNamespace+"."+name, n, maxReplicatedPolicyName)
				break
			}
		}
		pl := &g.Platform
		if pl.PeerPods != nil && pl.PeerPods.InitData != "" && p.Spec.InitData.Profile(pl.PeerPods.InitData) == nil {
			v.add(path+".platform.peerPods.initData", "no init-data profile %q (have: %s)", pl.PeerPods.InitData, strings.Join(p.Spec.InitData.profileNames(), ", "))
		} else if pl.PeerPods != nil && pl.PeerPods.InitData != "" && p.Spec.InitData.Profile(pl.PeerPods.InitData).Policy.Profile == PolicyWorkload {
			v.add(path+".platform.peerPods.initData", "init-data profile %q binds each workload to its own pod spec, so it cannot be the default of pods without init-data: name an exec-deny profile", pl.PeerPods.InitData)
		}
		var region string
		var tags map[string]string
		switch {
		case pl.Azure != nil:
			region, tags = pl.Azure.Region, pl.Azure.Tags
		case pl.AWS != nil:
			region, tags = pl.AWS.Region, pl.AWS.Tags
		case pl.IBMCloud != nil:
			region, tags = pl.IBMCloud.Region, pl.IBMCloud.Tags
			if z := pl.IBMCloud.Zone; z != "" && !regionRE().MatchString(z) {
				v.add(path+".platform.ibmcloud.zone", "invalid zone %q", z)
			}
		}
		if region != "" && !regionRE().MatchString(region) {
			v.add(path+".platform."+pl.Type+".region", "invalid region %q", region)
		}
		for _, k := range sortedKeys(tags) {
			if tagTemplateRE().MatchString(k) || tagTemplateRE().MatchString(tags[k]) || strings.ContainsAny(k+tags[k], "'\n") {
				v.add(joinPath(path+".platform."+pl.Type+".tags", k), "tags may not contain '{{', '}}', quotes or newlines: they are written into ACM templates")
			}
		}
	}
}

// SandboxedContainersNamespace is the namespace of the group's sandboxed
// containers operator (where peer-pods-cm and peer-pods-secret live): its
// operators entry's, else the preset's.
func (g *ClusterGroup) SandboxedContainersNamespace() string {
	for _, op := range g.Operators {
		if op.Name == OperatorSandboxedContainers && op.Namespace != "" {
			return op.Namespace
		}
	}
	// Every line installs the operator in the same namespace.
	return release.MustGet(release.Default).Operators[OperatorSandboxedContainers].Namespace
}

// PeerPodsInitData returns the init-data profile whose document goes into
// the group's peer-pods-cm (INITDATA, the default for pods without their
// own annotation): platform.peerPods.initData, else the profile of the
// group's first confidential application, else the pattern's first
// profile; nil when the pattern has none.
func (p *Pattern) PeerPodsInitData(g *ClusterGroup) *InitDataProfile {
	if pp := g.Platform.PeerPods; pp != nil && pp.InitData != "" {
		return p.Spec.InitData.Profile(pp.InitData)
	}
	// A workload profile has no document of its own (each workload has
	// one), so it cannot be the default.
	for i := range g.Applications {
		if c := g.Applications[i].Confidential; c != nil {
			if prof := p.Spec.InitData.Profile(c.InitData); prof != nil && prof.Policy.Profile != PolicyWorkload {
				return prof
			}
		}
	}
	for i := range p.Spec.InitData.Profiles {
		if p.Spec.InitData.Profiles[i].Policy.Profile != PolicyWorkload {
			return &p.Spec.InitData.Profiles[i]
		}
	}
	return nil
}

// GroupInitDataProfiles returns the profiles the group's clusters need, in
// spec order: those of its confidential applications and, for peer pods,
// PeerPodsInitData.
func (p *Pattern) GroupInitDataProfiles(g *ClusterGroup) []*InitDataProfile {
	var out []*InitDataProfile
	for i := range p.Spec.InitData.Profiles {
		prof := &p.Spec.InitData.Profiles[i]
		// A workload profile's documents travel on the workloads.
		if prof.Policy.Profile != PolicyWorkload && p.groupUsesProfile(g, prof.Name) {
			out = append(out, prof)
		}
	}
	return out
}
