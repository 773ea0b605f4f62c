package spec

import "github.com/cocogen/cocogen/internal/argoapp"

// APIVersion and Kind identify a cocogen pattern document.
const (
	APIVersion = "cocogen.dev/v1alpha1"
	Kind       = "Pattern"
)

// Pattern is the one declarative document cocogen renders everything from.
// Its shape follows Kubernetes conventions so that it reads like the objects
// it produces and so that kustomize can carry it as a KRM function config.
type Pattern struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Metadata   Metadata    `json:"metadata"`
	Spec       PatternSpec `json:"spec"`

	source *source // set by Parse; see Locate
}

// Metadata names the pattern. Only the fields cocogen uses are accepted.
type Metadata struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// PatternSpec is the body of a Pattern.
type PatternSpec struct {
	// Release is the release line the pattern targets (package release):
	// it decides operator versions and every format the rendered
	// configuration follows. Default release.Default.
	Release string `json:"release,omitempty"`
	// Source is the git repository the pattern (and its rendered tree) lives in.
	Source GitSource `json:"source"`
	// ArgoCD says which Argo CD instance owns the rendered Applications.
	ArgoCD ArgoCD `json:"argocd"`
	// ClusterGroups are sets of clusters that receive the same configuration.
	ClusterGroups []ClusterGroup `json:"clusterGroups"`
	// InitData holds the init-data profiles confidential applications refer to.
	InitData InitData `json:"initData"`
	// Trustee configures the Key Broker Service run by the group with
	// trustee.enabled (or reached at an external URL).
	Trustee Trustee `json:"trustee"`
	// ACM configures the Advanced Cluster Management policies the hub
	// group delivers per-cluster configuration with (see acm.go).
	ACM ACM `json:"acm"`
	// SecretScan tunes the scan of the rendered output for credentials.
	SecretScan SecretScan `json:"secretScan,omitempty"`
	// ImageLock is the image lock (written by `cocogen images lock`) that
	// workload agent policies are generated from, a repository path.
	// Default: images.lock.yaml beside the pattern.
	ImageLock string `json:"imageLock,omitempty"`
}

// SecretScan tunes the credential scan of everything cocogen renders: a
// value that looks like a credential (a PEM private key, a URL with a
// password, a token) is an input error, since the output goes to git.
type SecretScan struct {
	// Allow lists values that only look like credentials. Each match it
	// allows is reported as a warning at every render.
	Allow []SecretScanAllow `json:"allow,omitempty"`
}

// SecretScanAllow allows one field of one rendered object.
type SecretScanAllow struct {
	// Object is the object's path in the rendered tree, e.g.
	// apps/simple/web/ConfigMap/web/settings.yaml.
	Object string `json:"object"`
	// Field is the value's path in the object, e.g. data.sample.
	Field string `json:"field"`
	// Reason says why it is no credential; required.
	Reason string `json:"reason"`
}

// GitSource is where the pattern's repository lives.
type GitSource struct {
	RepoURL        string `json:"repoURL"`
	TargetRevision string `json:"targetRevision"`
	// RenderedPath is the directory, relative to the repository root, that
	// holds the output of `cocogen render -o`: each root Application points
	// at RenderedPath/<cluster-group>.
	RenderedPath string `json:"renderedPath"`
}

// ArgoCD identifies the Argo CD instance that syncs the pattern.
type ArgoCD struct {
	// Namespace Argo CD runs in (openshift-gitops on OpenShift).
	Namespace string `json:"namespace"`
	// Instance is the value of the app.kubernetes.io/instance-style tracking
	// label applied to every Application, so several patterns can share one
	// Argo CD.
	Instance string `json:"instance"`
	// Flavour is the Argo CD the clusters run: openshift-gitops (default:
	// the OpenShift GitOps operator, whose ArgoCD resource carries health
	// checks) or argocd (upstream Argo CD configured through argocd-cm).
	Flavour string `json:"flavour,omitempty"`
	// Plugin, when set, names the config-management plugin (cocogen's
	// plugin.yaml registers "cocogen") the root and confidential
	// Applications render through, at sync time, from the pattern itself:
	// the rendered tree then needs no commit (the bootstrap directory
	// still does, once).
	Plugin string `json:"plugin,omitempty"`
	// HealthCustomization emits the Lua health checks sync waves gate on
	// (child Applications, MultiClusterHub, KataConfig, KbsConfig).
	HealthCustomization *bool `json:"healthCustomization,omitempty"`
}

// Argo CD flavours.
const (
	FlavourOpenShiftGitOps = "openshift-gitops"
	FlavourArgoCD          = "argocd"
)

// ClusterGroup is a set of clusters selected by labels sharing one
// configuration.
type ClusterGroup struct {
	Name string `json:"name"`
	// Roles: "hub" runs Trustee/KBS and ACM, "workloads" runs confidential
	// workloads. One cluster doing both lists both.
	Roles []string `json:"roles"`
	// Selector chooses the managed clusters of the group by their labels.
	Selector LabelSelector `json:"selector"`
	// Platform is the infrastructure the group's clusters run on.
	Platform Platform `json:"platform"`
	// Operators are OLM operators to install on the group.
	Operators []Operator `json:"operators,omitempty"`
	// KataConfig configures the sandboxed containers operator's KataConfig.
	KataConfig *KataConfig `json:"kataConfig,omitempty"`
	// Namespaces are extra namespaces to create (applications' namespaces
	// are created automatically).
	Namespaces []string `json:"namespaces,omitempty"`
	// Applications are the Argo CD child applications of the group.
	Applications []Application `json:"applications,omitempty"`
}

// LabelSelector mirrors metav1.LabelSelector.
type LabelSelector struct {
	MatchLabels      map[string]string          `json:"matchLabels,omitempty"`
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// LabelSelectorRequirement mirrors metav1.LabelSelectorRequirement.
type LabelSelectorRequirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
}

// Platform kinds.
const (
	PlatformAzure     = "azure"
	PlatformAWS       = "aws"
	PlatformIBMCloud  = "ibmcloud"
	PlatformBareMetal = "baremetal"
)

// Platform describes the infrastructure of a cluster group.
type Platform struct {
	// Type is one of azure, aws, ibmcloud, baremetal.
	Type      string             `json:"type"`
	Azure     *AzurePlatform     `json:"azure,omitempty"`
	AWS       *AWSPlatform       `json:"aws,omitempty"`
	IBMCloud  *IBMCloudPlatform  `json:"ibmcloud,omitempty"`
	BareMetal *BareMetalPlatform `json:"baremetal,omitempty"`
	// PeerPods holds the settings common to all peer-pod platforms.
	PeerPods *PeerPods `json:"peerPods,omitempty"`
}

// AzurePlatform holds Azure peer-pod settings. Network placement (subnet,
// NSG, resource group) is read in-cluster by ACM templates, never written
// here.
type AzurePlatform struct {
	// Region overrides the region read from the cluster's cloud.conf.
	Region string `json:"region,omitempty"`
	// InstanceSizes are the VM sizes pods may request.
	InstanceSizes []string `json:"instanceSizes,omitempty"`
	// DefaultInstanceSize is used when a pod requests none.
	DefaultInstanceSize string `json:"defaultInstanceSize,omitempty"`
	// CloudConfig is where the cluster's Azure cloud.conf is read from.
	CloudConfig *ConfigMapKeyRef `json:"cloudConfig,omitempty"`
	// Credentials is the Secret with azure_client_id & co.
	Credentials *SecretRef `json:"credentials,omitempty"`
	// Tags are added to every peer-pod VM.
	Tags map[string]string `json:"tags,omitempty"`
}

// AWSPlatform holds AWS peer-pod settings.
type AWSPlatform struct {
	Region              string            `json:"region,omitempty"`
	InstanceSizes       []string          `json:"instanceSizes,omitempty"`
	DefaultInstanceSize string            `json:"defaultInstanceSize,omitempty"`
	Credentials         *SecretRef        `json:"credentials,omitempty"`
	Tags                map[string]string `json:"tags,omitempty"`
}

// IBMCloudPlatform holds IBM Cloud (VPC) peer-pod settings. The cluster's
// own objects name the VPC, subnet, security groups and resource group
// only by name (the worker MachineSet's provider spec), and the
// cloud-api-adaptor needs their ids, so they are given here.
type IBMCloudPlatform struct {
	Region string `json:"region,omitempty"`
	Zone   string `json:"zone,omitempty"`
	// VPCID, SubnetID, SecurityGroupIDs and ResourceGroupID place pod VMs
	// in the cluster's VPC (IBMCLOUD_VPC_ID, IBMCLOUD_VPC_SUBNET_ID,
	// IBMCLOUD_SECURITY_GROUP_IDS, IBMCLOUD_RESOURCE_GROUP_ID).
	VPCID               string            `json:"vpcID,omitempty"`
	SubnetID            string            `json:"subnetID,omitempty"`
	SecurityGroupIDs    []string          `json:"securityGroupIDs,omitempty"`
	ResourceGroupID     string            `json:"resourceGroupID,omitempty"`
	InstanceSizes       []string          `json:"instanceSizes,omitempty"`
	DefaultInstanceSize string            `json:"defaultInstanceSize,omitempty"`
	Credentials         *SecretRef        `json:"credentials,omitempty"`
	Tags                map[string]string `json:"tags,omitempty"`
}

// BareMetal TEE kinds.
const (
	TEETDX = "tdx"
	TEESNP = "snp"
)

// BareMetalPlatform describes TEE-capable bare-metal nodes (no peer pods).
type BareMetalPlatform struct {
	// TEE is tdx or snp.
	TEE string `json:"tee"`
	// PrepareNodes has cocogen prepare the nodes for TEE pods: the Node
	// Feature Discovery operator with a rule that labels the TEE nodes and
	// publishes their TEE key capacity (which the operator's runtime class
	// selects and requests), and MachineConfigs with the kernel arguments
	// and the vsock-loopback module. The firmware must have the TEE on.
	// MachineConfigs reboot the nodes of their pool.
	PrepareNodes bool `json:"prepareNodes,omitempty"`
	// MachineConfigRoles are the pools the MachineConfigs apply to;
	// default [worker].
	MachineConfigRoles []string `json:"machineConfigRoles,omitempty"`
}

// PeerPods are settings of the peer-pod daemon common to all clouds.
type PeerPods struct {
	LimitPerNode   *int   `json:"limitPerNode,omitempty"`
	ProxyTimeout   string `json:"proxyTimeout,omitempty"`
	VXLANPort      *int   `json:"vxlanPort,omitempty"`
	DisableCVM     *bool  `json:"disableCVM,omitempty"`
	RootVolumeSize *int   `json:"rootVolumeSize,omitempty"`
	// InitData names the init-data profile put in peer-pods-cm as the
	// default for pods without their own; see Pattern.PeerPodsInitData.
	InitData string `json:"initData,omitempty"`
}

// ConfigMapKeyRef names one key of a ConfigMap.
type ConfigMapKeyRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Key       string `json:"key"`
}

// SecretRef names a Secret; values are only ever referenced, never inlined.
type SecretRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// Operator is an OLM operator installed through a Subscription. Well-known
// operators (see Presets) need only their name; every field overrides the
// preset.
type Operator struct {
	// Name is the OLM package name, or a preset name.
	Name string `json:"name"`
	// Namespace the operator is installed into.
	Namespace           string `json:"namespace,omitempty"`
	Channel             string `json:"channel,omitempty"`
	Source              string `json:"source,omitempty"`
	SourceNamespace     string `json:"sourceNamespace,omitempty"`
	StartingCSV         string `json:"startingCSV,omitempty"`
	InstallPlanApproval string `json:"installPlanApproval,omitempty"`
	// TargetNamespaces of the OperatorGroup; empty means all namespaces.
	TargetNamespaces []string `json:"targetNamespaces,omitempty"`
	// SyncWave overrides the operator's default sync wave.
	SyncWave *int `json:"syncWave,omitempty"`
}

// KataConfig configures the sandboxed containers operator.
type KataConfig struct {
	// Name of the KataConfig object.
	Name string `json:"name,omitempty"`
	// PeerPods enables the remote hypervisor; defaults to true on clouds and
	// is forbidden on bare metal.
	PeerPods *bool `json:"peerPods,omitempty"`
	// NodeSelector limits which nodes get the kata runtime.
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
}

// Application is one Argo CD child application.
type Application struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// Project is the AppProject; defaults to the cluster group's project.
	Project string `json:"project,omitempty"`
	// Source and Sources are exclusive; Sources makes a multi-source app.
	Source  *AppSource  `json:"source,omitempty"`
	Sources []AppSource `json:"sources,omitempty"`
	// SyncWave orders the application among its siblings.
	SyncWave *int `json:"syncWave,omitempty"`
	// SyncPolicy defaults to automated prune+selfHeal with retry.
	SyncPolicy        *SyncPolicy        `json:"syncPolicy,omitempty"`
	IgnoreDifferences []IgnoreDifference `json:"ignoreDifferences,omitempty"`
	// Confidential marks the application's workloads as confidential pods.
	Confidential *Confidential `json:"confidential,omitempty"`
}

// AppSource is where an application's manifests come from: a git path or a
// Helm chart.
type AppSource struct {
	// RepoURL defaults to the pattern's repository for git paths.
	RepoURL        string `json:"repoURL,omitempty"`
	TargetRevision string `json:"targetRevision,omitempty"`
	Path           string `json:"path,omitempty"`
	Chart          string `json:"chart,omitempty"`
	// Ref names this source so others can use $ref/... value files.
	Ref  string      `json:"ref,omitempty"`
	Helm *HelmSource `json:"helm,omitempty"`
}

// HelmSource are Helm parameters of a source.
type HelmSource struct {
	ReleaseName string            `json:"releaseName,omitempty"`
	ValueFiles  []string          `json:"valueFiles,omitempty"`
	Parameters  map[string]string `json:"parameters,omitempty"`
	Values      map[string]any    `json:"values,omitempty"`
}

// SyncPolicy mirrors the Argo CD sync policy.
type SyncPolicy struct {
	// Automated nil means the default (prune and selfHeal on); set
	// manual: true for a manual sync.
	Manual      bool     `json:"manual,omitempty"`
	Prune       *bool    `json:"prune,omitempty"`
	SelfHeal    *bool    `json:"selfHeal,omitempty"`
	SyncOptions []string `json:"syncOptions,omitempty"`
	Retry       *Retry   `json:"retry,omitempty"`
}

// Retry mirrors Argo CD's retry strategy.
type Retry struct {
	Limit       *int64 `json:"limit,omitempty"`
	Duration    string `json:"duration,omitempty"`
	Factor      *int64 `json:"factor,omitempty"`
	MaxDuration string `json:"maxDuration,omitempty"`
}

// IgnoreDifference is Argo CD's ResourceIgnoreDifferences (its fields as
// cocogen writes them, internal/argoapp), copied into the Application.
type IgnoreDifference = argoapp.ResourceIgnoreDifferences

// Confidential says how an application's pods run confidentially.
type Confidential struct {
	// InitData names the init-data profile (spec.initData.profiles[].name).
	InitData string `json:"initData"`
	// RuntimeClassName is the kata runtime class of its pods.
	RuntimeClassName string `json:"runtimeClassName,omitempty"`
}
