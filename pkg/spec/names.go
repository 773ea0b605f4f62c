package spec

// Names of what cocogen renders, derived from the pattern. They live here,
// in one file, because several generators (and validation, which checks
// their lengths) must agree on them; a generator names its own objects
// itself only when no other part of cocogen refers to them.

// RootName is the name of the group's root Application and of the
// AppProject it runs in.
func (p *Pattern) RootName(g *ClusterGroup) string {
	return p.Metadata.Name + "-" + g.Name
}

// Dir is the group's directory in the rendered tree; its root Application
// syncs RenderedPath/Dir.
func (g *ClusterGroup) Dir() string { return g.Name }

// BootstrapDir holds what is applied by hand (or by ACM on spokes) to start
// the group: its root Application and that application's AppProject.
func (g *ClusterGroup) BootstrapDir() string { return "bootstrap/" + g.Name }

// AppDir holds the rendered manifests of a confidential application, which
// cocogen annotates with init-data; the child Application syncs it.
func (g *ClusterGroup) AppDir(app *Application) string {
	return "apps/" + g.Name + "/" + app.Name
}

// InitDataConfigMapName names the ConfigMap holding a profile's encoded
// init-data and digests, on the hub and in its copies on spokes.
func InitDataConfigMapName(profile string) string { return "initdata-" + profile }

// PolicyNamespace returns the hub namespace of cocogen's ACM objects.
func (p *Pattern) PolicyNamespace() string { return p.Spec.ACM.PolicyNamespace }

// PlacementName names the Placement (and PlacementBinding) that selects
// the group's clusters.
func (p *Pattern) PlacementName(g *ClusterGroup) string { return p.RootName(g) }

// PeerPodsPolicyName names the policy that writes the group's peer-pods-cm
// and peer-pods-secret.
func (p *Pattern) PeerPodsPolicyName(g *ClusterGroup) string { return p.RootName(g) + "-peer-pods" }

// InitDataPolicyName names the policy that copies init-data ConfigMaps
// from the hub to the group's (spoke) clusters.
func (p *Pattern) InitDataPolicyName(g *ClusterGroup) string { return p.RootName(g) + "-init-data" }

// GitOpsPolicyName names the policy that installs OpenShift GitOps on the
// group's (spoke) clusters.
func (p *Pattern) GitOpsPolicyName(g *ClusterGroup) string { return p.RootName(g) + "-gitops" }

// BootstrapPolicyName names the policy that creates the group's root
// AppProject and Application on its (spoke) clusters.
func (p *Pattern) BootstrapPolicyName(g *ClusterGroup) string { return p.RootName(g) + "-bootstrap" }

// HubTemplateServiceAccount is the hub service account ACM hub templates
// run as when they read ConfigMaps outside the policy namespace.
func (p *Pattern) HubTemplateServiceAccount() string { return p.Metadata.Name + "-hub-templates" }

// IsSpoke reports whether the group's clusters are workload clusters other
// than the hub: the pattern has a hub group and g is a workloads group
// without role hub. Spokes are bootstrapped from the hub through ACM, reach
// Trustee through spec.trustee.url and get init-data from the hub. This is
// the one spoke predicate: every generator and check asks it.
func (p *Pattern) IsSpoke(g *ClusterGroup) bool {
	return p.HubGroup() != nil && !g.HasRole(RoleHub) && g.HasRole(RoleWorkloads)
}

// KBSRouteName is the Route cocogen creates for the KBS. The Red Hat
// Trustee operator names the Route its TrusteeConfig controller creates
// kbs-route; cocogen renders a KbsConfig, not a TrusteeConfig, so it
// creates its own, named apart from that one.
const KBSRouteName = "kbs"

// KBSRouteHost is the host OpenShift gives the KBS Route in the hub's
// ingress domain (<route>-<namespace>.<domain>), or "" when the pattern
// does not say the domain.
func (p *Pattern) KBSRouteHost() string {
	if p.Spec.Trustee.IngressDomain == "" {
		return ""
	}
	return KBSRouteName + "-" + p.Spec.Trustee.Namespace + "." + p.Spec.Trustee.IngressDomain
}

// Keys of the KBS's Secrets. The Trustee operator mounts each Secret whole
// in a directory of its own, so these are the file names the KBS
// configuration points at; the TLS Secret is a kubernetes.io/tls one, so
// that cert-manager or `oc create secret tls` can make it too.
const (
	KBSTLSKey         = "tls.key"
	KBSTLSCert        = "tls.crt"
	KBSAdminPublicKey = "publicKey"
	KBSTokenKey       = "token.key"
	KBSTokenCert      = "token.crt"
)
