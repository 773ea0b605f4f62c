package spec

import (
	"fmt"
	"slices"

	"github.com/cocogen/cocogen/pkg/initdata"
	"github.com/cocogen/cocogen/pkg/release"
)

// InitData holds the init-data profiles that confidential applications refer
// to by name.
type InitData struct {
	Profiles []InitDataProfile `json:"profiles,omitempty"`
}

// InitDataProfile describes one init-data document: what the attestation
// agent (aa.toml), the confidential data hub (cdh.toml) and the kata agent
// policy (policy.rego) of a confidential pod are configured with.
//
// Init-data is measured, not encrypted: the host reads it in the pod's
// annotation, so it may hold URLs, public certificates and kbs:/// resource
// URIs, never a secret value. Secrets are released by the KBS after
// attestation and referenced here by URI.
type InitDataProfile struct {
	// Name is what applications' confidential.initData refers to; it names
	// the rendered files (initdata/<name>.toml) and the ConfigMap.
	Name string `json:"name"`
	// Algorithm hashes the document: sha256, sha384 or sha512. Default
	// sha384 (DefaultInitDataAlgorithm).
	Algorithm string `json:"algorithm,omitempty"`
	// KBS is the Key Broker Service the pod attests to; each field defaults
	// to spec.trustee's (see Pattern.InitDataKBS).
	KBS InitDataKBS `json:"kbs"`
	// ImageSecurityPolicyURI is the kbs:/// URI of the containers-policy.json
	// the CDH enforces on image pulls (signature verification).
	ImageSecurityPolicyURI string `json:"imageSecurityPolicyURI,omitempty"`
	// RegistryCredentialsURI is the kbs:/// URI of the registry auth file
	// (auth.json) the CDH pulls private images with.
	RegistryCredentialsURI string `json:"registryCredentialsURI,omitempty"`
	// ExtraCACertificates are PEM CA certificates (public) the CDH trusts
	// for registries and proxies in addition to the system roots.
	ExtraCACertificates []string `json:"extraCACertificates,omitempty"`
	// Policy selects and tunes the kata agent policy (policy.rego).
	Policy AgentPolicy `json:"policy"`
	// ExtraData are additional [data] entries of the document (file name ->
	// content), for guest components cocogen does not model. The names
	// cocogen writes itself are reserved.
	ExtraData map[string]string `json:"extraData,omitempty"`
	// ConfigMap says where the profile's ConfigMap (encoded init-data,
	// digests and readable sources) is created.
	ConfigMap InitDataConfigMap `json:"configMap"`
	// Annotations chooses the pod annotations the init-data is delivered
	// with.
	Annotations InitDataAnnotations `json:"annotations"`
}

// InitDataKBS is how a confidential pod reaches the KBS.
type InitDataKBS struct {
	// URL of the KBS, e.g. https://kbs-trustee-operator-system.apps.hub.example.com.
	URL string `json:"url,omitempty"`
	// Certificate is the PEM certificate (public) the KBS serves TLS with;
	// the attestation agent and CDH trust only it.
	Certificate string `json:"certificate,omitempty"`
}

// Agent policy profiles (rendered by package policies).
const (
	// PolicyExecDeny denies every agent request not explicitly allowed,
	// exec included; it does not bind the containers a pod creates.
	PolicyExecDeny = "exec-deny"
	// PolicyWorkload binds each confidential workload to its pod spec:
	// every workload gets its own init-data, whose agent policy lets the
	// kata agent create only the containers the pod spec declares, from
	// the images of the image lock (spec.imageLock).
	PolicyWorkload = "workload"
	// PolicyStrictRenamed is exec-deny's former name, still accepted with
	// a warning at every render: it promised more than the policy checks.
	PolicyStrictRenamed = "strict"
	// PolicyDebug allows everything, including exec and policy
	// replacement; it gives no confidentiality.
	PolicyDebug = "debug"
)

// AgentPolicy selects the kata agent policy of a profile.
type AgentPolicy struct {
	// Profile is workload, exec-deny or debug ("strict" is exec-deny's
	// former name). Default (see defaultPolicyProfile): workload for a
	// profile confidential applications use, exec-deny for one that is a
	// peer-pods default (platform.peerPods.initData) or that no
	// application uses.
	Profile string `json:"profile,omitempty"`
	// AllowExec lists the exact argv lists `kubectl exec` may run
	// (exec-deny).
	AllowExec [][]string `json:"allowExec,omitempty"`
	// AllowLogs lets the host read containers' stdout/stderr. Default:
	// false for a profile whose pods may fetch KBS resources
	// (spec.trustee.resources[].profiles), since a container that prints
	// a secret would hand it to the host; true otherwise. Allowing logs
	// to such a profile warns at every render.
	AllowLogs *bool `json:"allowLogs,omitempty"`
	// AllowStdin lets the host write to containers' stdin.
	AllowStdin bool `json:"allowStdin,omitempty"`
}

// InitDataConfigMap places a profile's ConfigMap.
type InitDataConfigMap struct {
	// Namespace of the ConfigMap. Default (see Pattern.InitDataConfigMapNamespace):
	// spec.trustee.namespace when a group has role hub, where Trustee and the
	// ACM policies that copy init-data to spokes read it; otherwise the
	// sandboxed containers operator's namespace on the workload clusters,
	// which every workloads group has.
	Namespace string `json:"namespace,omitempty"`
}

// InitDataAnnotations chooses how init-data is put on pods.
type InitDataAnnotations struct {
	// LegacyName emits io.katacontainers.config.runtime.cc_init_data
	// instead of the release line's annotation. No supported line's kata
	// reads it, so validation refuses it; it remains for lines that will.
	LegacyName bool `json:"legacyName,omitempty"`
	// LegacyPolicy also emits io.katacontainers.config.agent.policy (the
	// base64 Rego). The kata shim sends it as a SetPolicyRequest; the
	// init-data's policy then enforces the same rules and allows that one
	// replacement, byte for byte (policies.PinSetPolicy), since the
	// annotation is not measured. Debug allows any.
	LegacyPolicy bool `json:"legacyPolicy,omitempty"`
	// Override replaces init-data or policy annotations the application's
	// own manifests already carry; without it such a conflict is an error.
	Override bool `json:"override,omitempty"`
}

// DefaultInitDataAlgorithm is sha384 where the TEEs allow it: its 48-byte
// digest fills TDX MRCONFIGID exactly, and on SNP (32-byte HOSTDATA) it is
// truncated like any longer digest. Profiles used on Azure default to
// sha256, the only algorithm its vTPM binding takes (see defaultAlgorithm).
const DefaultInitDataAlgorithm = initdata.SHA384

func (d *InitData) defaultInitData(p *Pattern) {
	line, ok := release.Get(p.Spec.Release)
	if !ok {
		line = release.MustGet(release.Default) // validation reports the name
	}
	// Policy profiles first: which profile is a group's peer-pods
	// default, and so where a profile attests, depends on them.
	for i := range d.Profiles {
		setString(&d.Profiles[i].Policy.Profile, p.defaultPolicyProfile(d.Profiles[i].Name))
	}
	for i := range d.Profiles {
		prof := &d.Profiles[i]
		setString(&prof.Algorithm, defaultAlgorithm(line, p.ProfileTEEs(prof.Name)))
		if prof.Policy.AllowLogs == nil {
			prof.Policy.AllowLogs = ptr(len(p.ResourcesOf(prof.Name)) == 0)
		}
	}
}

// groupUsesProfile reports whether the group's pods use the named
// profile: through a confidential application, or as the peer-pods
// default.
func (p *Pattern) groupUsesProfile(g *ClusterGroup, profile string) bool {
	for i := range g.Applications {
		if c := g.Applications[i].Confidential; c != nil && c.InitData == profile {
			return true
		}
	}
	if g.PeerPods() && g.Platform.Type != PlatformBareMetal {
		if prof := p.PeerPodsInitData(g); prof != nil && prof.Name == profile {
			return true
		}
	}
	return false
}

// defaultPolicyProfile binds workloads to their pod specs unless nothing
// can be bound: a confidential application's pods get the workload policy
// (the strongest the agent can enforce: only the containers its pod spec
// declares), while a profile named as a group's peer-pods default covers
// pods cocogen never sees, so it gets exec-deny, as does a profile no
// application uses. Secure by default: a pattern without an image lock is
// told how to make one, or to write exec-deny, which says what it does
// not check.
func (p *Pattern) defaultPolicyProfile(profile string) string {
	for i := range p.Spec.ClusterGroups {
		if pp := p.Spec.ClusterGroups[i].Platform.PeerPods; pp != nil && pp.InitData == profile {
			return PolicyExecDeny
		}
	}
	if len(p.InitDataUsers(profile)) == 0 {
		return PolicyExecDeny
	}
	return PolicyWorkload
}

// defaultAlgorithm is the first of sha384, sha256, sha512 that every TEE
// the profile runs in allows on the line: sha384 (TDX MRCONFIGID's size)
// unless a TEE allows less, as Azure's vTPM does (sha256 only).
func defaultAlgorithm(line *release.Line, tees []string) string {
	for _, alg := range []string{initdata.SHA384, initdata.SHA256, initdata.SHA512} {
		ok := true
		for _, tee := range tees {
			ok = ok && slices.Contains(line.InitData.Algorithms[tee], alg)
		}
		if ok {
			return alg
		}
	}
	return DefaultInitDataAlgorithm
}

// TEE is the form in which the group's TEE reports init-data
// (release.TEE*), or "" when its pods get no hardware-bound init-data
// cocogen knows of (AWS and IBM Cloud peer pods, groups without kata).
func (g *ClusterGroup) TEE() string {
	switch g.Platform.Type {
	case PlatformAzure:
		if g.PeerPods() {
			return release.TEEAzureVTPM
		}
	case PlatformBareMetal:
		if g.Platform.BareMetal != nil {
			return g.Platform.BareMetal.TEE
		}
	}
	return ""
}

// ProfileTEEs returns the TEE forms of the workloads groups whose pods use
// the named profile (through an application or as the peer-pods default),
// sorted, without duplicates.
func (p *Pattern) ProfileTEEs(profile string) []string {
	var tees []string
	for i := range p.Spec.ClusterGroups {
		g := &p.Spec.ClusterGroups[i]
		if !g.HasRole(RoleWorkloads) || g.TEE() == "" {
			continue
		}
		// Not GroupInitDataProfiles: it leaves out workload profiles,
		// whose documents travel on the workloads but attest in the same
		// TEE (a workload profile on Azure must get sha256 too).
		uses := p.groupUsesProfile(g, profile)
		if uses && !slices.Contains(tees, g.TEE()) {
			tees = append(tees, g.TEE())
		}
	}
	slices.Sort(tees)
	return tees
}

// DefaultKBSPort is the port of the Trustee operator's kbs-service.
const DefaultKBSPort = 8080

// InitDataKBS returns the KBS a profile's pods attest to: the profile's own
// url and certificate, each defaulting to spec.trustee's (see KBSURL).
// Validation guarantees a URL for every profile a confidential application
// uses.
func (p *Pattern) InitDataKBS(prof *InitDataProfile) InitDataKBS {
	k := prof.KBS
	setString(&k.URL, p.KBSURL())
	setString(&k.Certificate, p.Spec.Trustee.Certificate)
	return k
}

// KBSURL is the hub KBS's URL for pods: spec.trustee.url, else the KBS
// Route's host in spec.trustee.ingressDomain, else the in-cluster service
// (reachable only from pods on the hub itself); "" without a hub.
func (p *Pattern) KBSURL() string {
	switch {
	case p.Spec.Trustee.URL != "":
		return p.Spec.Trustee.URL
	case p.HubGroup() == nil:
		return ""
	case p.KBSRouteHost() != "":
		return "https://" + p.KBSRouteHost()
	}
	return p.InClusterKBSURL()
}

// InClusterKBSURL is the URL of the Trustee operator's KBS service inside
// the hub cluster. The KBS cocogen configures serves HTTPS only, so the
// certificate in spec.trustee.tlsSecret must name this service
// (kbs-service.<namespace>.svc.cluster.local) for pods to reach it.
func (p *Pattern) InClusterKBSURL() string {
	return fmt.Sprintf("https://kbs-service.%s.svc.cluster.local:%d", p.Spec.Trustee.Namespace, DefaultKBSPort)
}

// InitDataConfigMapNamespace returns the namespace of the profile's
// ConfigMap: its own, else the Trustee namespace when a hub group exists,
// else the sandboxed containers operator's namespace.
func (p *Pattern) InitDataConfigMapNamespace(prof *InitDataProfile) string {
	if prof.ConfigMap.Namespace != "" {
		return prof.ConfigMap.Namespace
	}
	if p.HubGroup() != nil {
		return p.Spec.Trustee.Namespace
	}
	return p.Line().Operators[OperatorSandboxedContainers].Namespace
}

// HubGroup returns the cluster group with role hub, or nil.
func (p *Pattern) HubGroup() *ClusterGroup {
	for i := range p.Spec.ClusterGroups {
		if p.Spec.ClusterGroups[i].HasRole(RoleHub) {
			return &p.Spec.ClusterGroups[i]
		}
	}
	return nil
}

// InitDataUsers returns the confidential applications that use the named
// profile, with their groups, in spec order.
func (p *Pattern) InitDataUsers(profile string) []AppRef {
	var out []AppRef
	for gi := range p.Spec.ClusterGroups {
		g := &p.Spec.ClusterGroups[gi]
		for ai := range g.Applications {
			a := &g.Applications[ai]
			if a.Confidential != nil && a.Confidential.InitData == profile {
				out = append(out, AppRef{Group: g, App: a, GroupIndex: gi, AppIndex: ai})
			}
		}
	}
	return out
}

// ProfileRef locates an init-data profile in the pattern.
type ProfileRef struct {
	Profile *InitDataProfile
	Index   int
}

// Path is the profile's field path, e.g. spec.initData.profiles[0].
func (r ProfileRef) Path() string { return fmt.Sprintf("spec.initData.profiles[%d]", r.Index) }

// InitDataProfiles returns every init-data profile, in spec order.
func (p *Pattern) InitDataProfiles() []ProfileRef {
	out := make([]ProfileRef, len(p.Spec.InitData.Profiles))
	for i := range p.Spec.InitData.Profiles {
		out[i] = ProfileRef{Profile: &p.Spec.InitData.Profiles[i], Index: i}
	}
	return out
}

// ProfileRef locates the named init-data profile.
func (p *Pattern) ProfileRef(name string) (ProfileRef, bool) {
	for i := range p.Spec.InitData.Profiles {
		if p.Spec.InitData.Profiles[i].Name == name {
			return ProfileRef{Profile: &p.Spec.InitData.Profiles[i], Index: i}, true
		}
	}
	return ProfileRef{}, false
}

// AppRef locates an application in the pattern.
type AppRef struct {
	Group      *ClusterGroup
	App        *Application
	GroupIndex int
	AppIndex   int
}

// Path is the application's field path, e.g. spec.clusterGroups[1].applications[0].
func (r AppRef) Path() string {
	return fmt.Sprintf("spec.clusterGroups[%d].applications[%d]", r.GroupIndex, r.AppIndex)
}

// DefaultImageLock is the image lock's name beside the pattern.
const DefaultImageLock = "images.lock.yaml"
