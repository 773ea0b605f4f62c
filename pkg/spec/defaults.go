package spec

// All defaults of a Pattern are applied here, in one place, after decoding
// and before validation; README.md documents the same table.

import (
	"slices"

	"github.com/cocogen/cocogen/pkg/release"
)

// Role names of a cluster group.
const (
	// RoleHub runs ACM, Trustee/KBS and the Argo CD that bootstraps spokes.
	RoleHub = "hub"
	// RoleWorkloads runs confidential workloads (the sandboxed containers
	// operator and, on clouds, peer pods).
	RoleWorkloads = "workloads"
)

// Default values, named so that generators and documentation agree.
const (
	DefaultTargetRevision  = "main"
	DefaultRenderedPath    = "rendered"
	DefaultArgoCDNamespace = "openshift-gitops"
	// DefaultAzureInstanceSize is the smallest AMD SEV-SNP confidential VM
	// size, the one the peer-pods documentation starts from.
	DefaultAzureInstanceSize = "Standard_DC2as_v5"
	DefaultAWSInstanceSize   = "m6a.large"
	DefaultIBMInstanceSize   = "bx3dc-2x10"
	DefaultKataConfigName    = "default-kata-config"
	DefaultPeerPodsLimit     = 10
	DefaultProxyTimeout      = "5m"
	// DefaultVXLANPort is 9000, not the cloud-api-adaptor's 4789: 4789 is
	// the well-known VXLAN port OpenShift's own overlays use, while the
	// OpenShift installer already opens 9000-9999 between nodes (the
	// validated pattern's peer-pods-cm uses 9000 too).
	DefaultVXLANPort = 9000
)

// DefaultAzureInstanceSizes are the DCasv5 (SEV-SNP) sizes offered when a
// group lists none.
var DefaultAzureInstanceSizes = []string{"Standard_DC2as_v5", "Standard_DC4as_v5", "Standard_DC8as_v5"}

// Preset operator names (OLM package names); each release line pins their
// subscriptions (release.Line.Operators).
const (
	OperatorSandboxedContainers = release.OperatorSandboxedContainers
	OperatorTrustee             = release.OperatorTrustee
	OperatorACM                 = release.OperatorACM
	OperatorExternalSecrets     = release.OperatorExternalSecrets
	OperatorNFD                 = release.OperatorNFD
)

// Line is the pattern's release line; for a pattern whose spec.release
// names no line (validation reports it), the default line, so that
// defaults and checks can still run.
func (p *Pattern) Line() *release.Line {
	if l, ok := release.Get(p.Spec.Release); ok {
		return l
	}
	return release.MustGet(release.Default)
}

// Default fills every omitted field with its documented default. It never
// overrides a value the author set.
func (p *Pattern) Default() {
	s := &p.Spec
	setString(&s.Release, release.Default)
	setString(&s.Source.TargetRevision, DefaultTargetRevision)
	setString(&s.Source.RenderedPath, DefaultRenderedPath)
	setString(&s.ArgoCD.Namespace, DefaultArgoCDNamespace)
	setString(&s.ArgoCD.Instance, p.Metadata.Name)
	setString(&s.ArgoCD.Flavour, FlavourOpenShiftGitOps)
	if s.ArgoCD.HealthCustomization == nil {
		s.ArgoCD.HealthCustomization = ptr(true)
	}
	for i := range s.ClusterGroups {
		s.ClusterGroups[i].defaultGroup(p)
	}
	s.InitData.defaultInitData(p)
	s.Trustee.defaultTrustee()
	s.ACM.defaultACM()
}

func (g *ClusterGroup) defaultGroup(p *Pattern) {
	g.Platform.defaultPlatform(p.Line())
	if g.Operators == nil {
		// Omitted operators means "what the roles need"; an explicit empty
		// list means none.
		if g.HasRole(RoleHub) {
			g.Operators = append(g.Operators, Operator{Name: OperatorACM}, Operator{Name: OperatorTrustee}, Operator{Name: OperatorExternalSecrets})
		}
		if g.HasRole(RoleWorkloads) {
			g.Operators = append(g.Operators, Operator{Name: OperatorSandboxedContainers})
		}
		if g.PreparesNodes() {
			g.Operators = append(g.Operators, Operator{Name: OperatorNFD})
		}
	}
	for i := range g.Operators {
		g.Operators[i].applyPreset(p.Line())
	}
	if g.KataConfig == nil && g.HasRole(RoleWorkloads) {
		g.KataConfig = &KataConfig{}
	}
	if k := g.KataConfig; k != nil {
		setString(&k.Name, DefaultKataConfigName)
		if k.PeerPods == nil {
			k.PeerPods = ptr(g.Platform.Type != PlatformBareMetal)
		}
	}
	for i := range g.Applications {
		a := &g.Applications[i]
		setString(&a.Project, g.Name)
		for _, src := range a.allSources() {
			if src.Chart == "" {
				setString(&src.RepoURL, p.Spec.Source.RepoURL)
				setString(&src.TargetRevision, p.Spec.Source.TargetRevision)
			}
		}
		if a.SyncPolicy == nil {
			a.SyncPolicy = &SyncPolicy{}
		}
		sp := a.SyncPolicy
		if !sp.Manual {
			if sp.Prune == nil {
				sp.Prune = ptr(true)
			}
			if sp.SelfHeal == nil {
				sp.SelfHeal = ptr(true)
			}
		}
		if sp.Retry == nil {
			sp.Retry = &Retry{}
		}
		if sp.Retry.Limit == nil {
			sp.Retry.Limit = ptr(int64(5))
		}
		setString(&sp.Retry.Duration, "5s")
		if sp.Retry.Factor == nil {
			sp.Retry.Factor = ptr(int64(2))
		}
		setString(&sp.Retry.MaxDuration, "3m")
		if c := a.Confidential; c != nil {
			setString(&c.RuntimeClassName, g.ConfidentialRuntimeClass(p.Line()))
		}
	}
}

// cloudControllerCredentials are the Secrets in
// openshift-cloud-controller-manager the cloud credential operator fills
// for the cloud controller manager, per platform.
var cloudControllerCredentials = map[string]string{
	PlatformAzure:    "azure-cloud-credentials",
	PlatformAWS:      "aws-cloud-credentials",
	PlatformIBMCloud: "ibm-cloud-credentials",
}

// credentials returns where the cloud platform's credentials reference
// lives.
func (pl *Platform) credentials() **SecretRef {
	switch pl.Type {
	case PlatformAzure:
		return &pl.Azure.Credentials
	case PlatformAWS:
		return &pl.AWS.Credentials
	default:
		return &pl.IBMCloud.Credentials
	}
}

func (pl *Platform) defaultPlatform(line *release.Line) {
	switch pl.Type {
	case PlatformAzure:
		if pl.Azure == nil {
			pl.Azure = &AzurePlatform{}
		}
		az := pl.Azure
		if az.InstanceSizes == nil {
			az.InstanceSizes = append([]string(nil), DefaultAzureInstanceSizes...)
		}
		setString(&az.DefaultInstanceSize, DefaultAzureInstanceSize)
		if az.CloudConfig == nil {
			az.CloudConfig = &ConfigMapKeyRef{Namespace: "openshift-cloud-controller-manager", Name: "cloud-conf", Key: "cloud.conf"}
		}
	case PlatformAWS:
		if pl.AWS == nil {
			pl.AWS = &AWSPlatform{}
		}
		setString(&pl.AWS.DefaultInstanceSize, DefaultAWSInstanceSize)
		if pl.AWS.InstanceSizes == nil {
			pl.AWS.InstanceSizes = []string{pl.AWS.DefaultInstanceSize}
		}
	case PlatformIBMCloud:
		if pl.IBMCloud == nil {
			pl.IBMCloud = &IBMCloudPlatform{}
		}
		setString(&pl.IBMCloud.DefaultInstanceSize, DefaultIBMInstanceSize)
		if pl.IBMCloud.InstanceSizes == nil {
			pl.IBMCloud.InstanceSizes = []string{pl.IBMCloud.DefaultInstanceSize}
		}
	case PlatformBareMetal:
		if bm := pl.BareMetal; bm != nil && bm.PrepareNodes && bm.MachineConfigRoles == nil {
			bm.MachineConfigRoles = []string{"worker"}
		}
		return
	default:
		return
	}
	// Where the line's operator mints peer-pods-secret itself (a
	// CredentialsRequest scoped to what peer pods need), cocogen leaves it
	// alone; elsewhere it copies the cloud controller's credentials, the
	// only ones a cluster is sure to hold.
	if creds := pl.credentials(); *creds == nil && !slices.Contains(line.Cluster.MintedCredentials, pl.Type) {
		*creds = &SecretRef{Namespace: "openshift-cloud-controller-manager", Name: cloudControllerCredentials[pl.Type]}
	}
	if pl.PeerPods == nil {
		pl.PeerPods = &PeerPods{}
	}
	pp := pl.PeerPods
	if pp.LimitPerNode == nil {
		pp.LimitPerNode = ptr(DefaultPeerPodsLimit)
	}
	setString(&pp.ProxyTimeout, DefaultProxyTimeout)
	if pp.VXLANPort == nil {
		pp.VXLANPort = ptr(DefaultVXLANPort)
	}
	if pp.DisableCVM == nil {
		pp.DisableCVM = ptr(false)
	}
}

// applyPreset fills an operator entry from the line's subscription of that
// name; any field the author set wins.
func (o *Operator) applyPreset(line *release.Line) {
	preset, ok := line.Operators[o.Name]
	if !ok {
		setString(&o.SourceNamespace, "openshift-marketplace")
		setString(&o.InstallPlanApproval, "Automatic")
		return
	}
	setString(&o.Namespace, preset.Namespace)
	setString(&o.Channel, preset.Channel)
	setString(&o.Source, preset.Source)
	setString(&o.SourceNamespace, preset.SourceNamespace)
	setString(&o.StartingCSV, preset.StartingCSV)
	setString(&o.InstallPlanApproval, preset.InstallPlanApproval)
	if o.TargetNamespaces == nil {
		o.TargetNamespaces = append([]string(nil), preset.TargetNamespaces...)
	}
}

// HasRole reports whether the group has the given role.
func (g *ClusterGroup) HasRole(role string) bool {
	for _, r := range g.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// PeerPods reports whether the group's confidential pods run as peer-pod VMs.
func (g *ClusterGroup) PeerPods() bool {
	return g.KataConfig != nil && g.KataConfig.PeerPods != nil && *g.KataConfig.PeerPods
}

// ConfidentialRuntimeClass is the runtime class the line's sandboxed
// containers operator creates for the group's confidential pods:
// kata-remote for peer pods, kata-cc on bare-metal TEE nodes; "" where it
// creates none (a cloud group without peer pods).
func (g *ClusterGroup) ConfidentialRuntimeClass(line *release.Line) string {
	switch {
	case g.Platform.Type == PlatformBareMetal:
		return line.Cluster.BareMetalRuntimeClass
	case g.PeerPods():
		return line.Cluster.PeerPodsRuntimeClass
	}
	return ""
}

// PreparesNodes reports whether cocogen prepares the group's bare-metal
// nodes for TEE pods.
func (g *ClusterGroup) PreparesNodes() bool {
	return g.Platform.Type == PlatformBareMetal && g.Platform.BareMetal != nil && g.Platform.BareMetal.PrepareNodes
}

// RuntimeClasses are the runtime classes the line's sandboxed containers
// operator creates on the group's clusters: kata with any KataConfig, and
// the confidential class.
func (g *ClusterGroup) RuntimeClasses(line *release.Line) []string {
	var out []string
	if g.KataConfig != nil {
		out = append(out, line.Cluster.KataRuntimeClass)
	}
	if c := g.ConfidentialRuntimeClass(line); c != "" {
		out = append(out, c)
	}
	return out
}

// allSources returns pointers to every source of the application, single
// or multi.
func (a *Application) allSources() []*AppSource {
	if a.Source != nil {
		return []*AppSource{a.Source}
	}
	out := make([]*AppSource, len(a.Sources))
	for i := range a.Sources {
		out[i] = &a.Sources[i]
	}
	return out
}

func setString(s *string, def string) {
	if *s == "" {
		*s = def
	}
}

func ptr[T any](v T) *T { return &v }
