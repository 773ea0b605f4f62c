package spec

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/cocogen/cocogen/internal/lazy"
	"github.com/cocogen/cocogen/pkg/release"
)

// validator collects every problem of a defaulted pattern; paths are later
// turned into lines by the loader.
type validator struct {
	errs ErrorList
}

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Validate checks a defaulted pattern and returns every problem found.
func (p *Pattern) Validate() ErrorList {
	v := &validator{}
	if p.APIVersion != APIVersion {
		v.add("apiVersion", "want %q, got %q", APIVersion, p.APIVersion)
	}
	if p.Kind != Kind {
		v.add("kind", "want %q, got %q", Kind, p.Kind)
	}
	v.dnsLabel("metadata.name", p.Metadata.Name)
	s := &p.Spec
	if _, ok := release.Get(s.Release); !ok {
		v.add("spec.release", "unknown release line %q (supported: %s)", s.Release, strings.Join(release.Names(), ", "))
	}
	v.repoURL("spec.source.repoURL", s.Source.RepoURL, true)
	v.relPath("spec.source.renderedPath", s.Source.RenderedPath)
	if s.ImageLock != "" {
		v.relPath("spec.imageLock", s.ImageLock)
	}
	v.dnsLabel("spec.argocd.namespace", s.ArgoCD.Namespace)
	for i, a := range s.SecretScan.Allow {
		path := fmt.Sprintf("spec.secretScan.allow[%d]", i)
		if a.Object == "" {
			v.add(path+".object", "required: the object's path in the rendered tree")
		}
		if a.Field == "" {
			v.add(path+".field", "required: the value's field path in the object, e.g. data.sample")
		}
		if strings.TrimSpace(a.Reason) == "" {
			v.add(path+".reason", "required: say why this value is no credential")
		}
	}
	if s.ArgoCD.Plugin != "" {
		v.dnsSubdomain("spec.argocd.plugin", s.ArgoCD.Plugin)
	}
	switch s.ArgoCD.Flavour {
	case FlavourOpenShiftGitOps:
	case FlavourArgoCD:
		for i := range s.ClusterGroups {
			if p.IsSpoke(&s.ClusterGroups[i]) {
				v.add("spec.argocd.flavour", "spokes are bootstrapped with OpenShift GitOps (cluster group %q): flavour %s is for patterns whose clusters all run upstream Argo CD already, without spokes", s.ClusterGroups[i].Name, FlavourArgoCD)
				break
			}
		}
	default:
		v.add("spec.argocd.flavour", "want %s or %s, got %q", FlavourOpenShiftGitOps, FlavourArgoCD, s.ArgoCD.Flavour)
	}
	if errs := validation.IsValidLabelValue(s.ArgoCD.Instance); len(errs) > 0 {
		v.add("spec.argocd.instance", "%s", strings.Join(errs, "; "))
	}
	if len(s.ClusterGroups) == 0 {
		v.add("spec.clusterGroups", "at least one cluster group is required")
	}
	groups := map[string]int{}
	hubs := []string{}
	for i := range s.ClusterGroups {
		g := &s.ClusterGroups[i]
		path := fmt.Sprintf("spec.clusterGroups[%d]", i)
		if j, dup := groups[g.Name]; dup && g.Name != "" {
			v.add(path+".name", "duplicate cluster group %q (also spec.clusterGroups[%d])", g.Name, j)
		}
		groups[g.Name] = i
		if g.HasRole(RoleHub) {
			hubs = append(hubs, path)
		}
		v.group(p, g, path)
	}
	if len(hubs) > 1 {
		v.add(hubs[1]+".roles", "only one cluster group may have role %q (also %s)", RoleHub, hubs[0])
	}
	// The sections that live in files of their own, called explicitly like
	// their defaults (Default) so that one reading shows every check.
	validateInitData(p, v)
	validateTrustee(p, v)
	validateACM(p, v)
	return v.errs
}

// reservedGroupNames are top-level directories of the rendered tree.
var reservedGroupNames = map[string]bool{"bootstrap": true, "apps": true}

func (v *validator) group(p *Pattern, g *ClusterGroup, path string) {
	v.dnsLabel(path+".name", g.Name)
	if reservedGroupNames[g.Name] {
		v.add(path+".name", "%q is reserved for the rendered tree's own directories", g.Name)
	}
	if len(g.Roles) == 0 {
		v.add(path+".roles", "at least one role is required (want %s and/or %s)", RoleHub, RoleWorkloads)
	}
	seenRole := map[string]bool{}
	for i, r := range g.Roles {
		rp := fmt.Sprintf("%s.roles[%d]", path, i)
		if r != RoleHub && r != RoleWorkloads {
			v.add(rp, "unknown role %q (want %s, %s)", r, RoleHub, RoleWorkloads)
		}
		if seenRole[r] {
			v.add(rp, "duplicate role %q", r)
		}
		seenRole[r] = true
	}
	v.selector(path+".selector", &g.Selector)
	v.platform(path+".platform", &g.Platform)
	if g.PreparesNodes() && !slices.ContainsFunc(g.Operators, func(o Operator) bool { return o.Name == OperatorNFD }) {
		v.add(path+".platform.baremetal.prepareNodes", "node preparation needs the Node Feature Discovery operator: add {name: %s} to the group's operators", OperatorNFD)
	}
	if k := g.KataConfig; k != nil {
		v.dnsSubdomain(path+".kataConfig.name", k.Name)
		if g.Platform.Type == PlatformBareMetal && k.PeerPods != nil && *k.PeerPods {
			v.add(path+".kataConfig.peerPods", "peer pods need a cloud platform; bare metal runs kata VMs on the node itself")
		}
		v.labels(path+".kataConfig.nodeSelector", k.NodeSelector)
	}
	ops := map[string]int{}
	for i := range g.Operators {
		op := &g.Operators[i]
		op.validate(v, p.Line(), fmt.Sprintf("%s.operators[%d]", path, i))
		if j, dup := ops[op.Name]; dup {
			v.add(fmt.Sprintf("%s.operators[%d].name", path, i), "operator %q listed twice (also operators[%d])", op.Name, j)
		}
		ops[op.Name] = i
	}
	// OLM allows one OperatorGroup per namespace, so operators sharing a
	// namespace must agree on what it targets.
	targetsByNS := map[string]int{}
	for i := range g.Operators {
		op := &g.Operators[i]
		if j, ok := targetsByNS[op.Namespace]; ok && !slices.Equal(g.Operators[j].TargetNamespaces, op.TargetNamespaces) {
			v.add(fmt.Sprintf("%s.operators[%d].targetNamespaces", path, i), "operators[%d] shares namespace %q but targets %v, not %v: one OperatorGroup serves a namespace", j, op.Namespace, g.Operators[j].TargetNamespaces, op.TargetNamespaces)
		}
		if _, ok := targetsByNS[op.Namespace]; !ok {
			targetsByNS[op.Namespace] = i
		}
	}
	root := p.RootName(g)
	for i, ns := range g.Namespaces {
		v.dnsLabel(fmt.Sprintf("%s.namespaces[%d]", path, i), ns)
	}
	apps := map[string]int{}
	for i := range g.Applications {
		a := &g.Applications[i]
		ap := fmt.Sprintf("%s.applications[%d]", path, i)
		if j, dup := apps[a.Name]; dup {
			v.add(ap+".name", "duplicate application %q (also applications[%d])", a.Name, j)
		}
		apps[a.Name] = i
		if a.Name == root {
			v.add(ap+".name", "%q is the name of the group's root Application", a.Name)
		}
		if a.Project == root {
			v.add(ap+".project", "%q is the root Application's project; applications get their own", a.Project)
		}
		v.application(p, g, a, ap)
	}
}

var selectorOps = map[string]bool{"In": true, "NotIn": true, "Exists": true, "DoesNotExist": true}

func (v *validator) selector(path string, s *LabelSelector) {
	if len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0 {
		v.add(path, "a selector is required: ACM places the group's policies and applications on clusters by label")
	}
	v.labels(path+".matchLabels", s.MatchLabels)
	for i, e := range s.MatchExpressions {
		ep := fmt.Sprintf("%s.matchExpressions[%d]", path, i)
		for _, msg := range validation.IsQualifiedName(e.Key) {
			v.add(ep+".key", "%s", msg)
		}
		if !selectorOps[e.Operator] {
			v.add(ep+".operator", "unknown operator %q (want In, NotIn, Exists, DoesNotExist)", e.Operator)
		}
		hasValues := e.Operator == "In" || e.Operator == "NotIn"
		if hasValues && len(e.Values) == 0 {
			v.add(ep+".values", "operator %s needs at least one value", e.Operator)
		}
		if !hasValues && len(e.Values) > 0 && selectorOps[e.Operator] {
			v.add(ep+".values", "operator %s takes no values", e.Operator)
		}
	}
}

func (v *validator) labels(path string, m map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		for _, msg := range validation.IsQualifiedName(k) {
			v.add(joinPath(path, k), "invalid label key: %s", msg)
		}
		for _, msg := range validation.IsValidLabelValue(m[k]) {
			v.add(joinPath(path, k), "invalid label value: %s", msg)
		}
	}
}

// ibmIDRE is an IBM Cloud VPC resource id (e.g. r006-8f3a...,
// 0717-..., or a 32-hex resource group id).
var ibmIDRE = lazy.Regexp(`^[a-z0-9][a-z0-9-]{2,62}$`)

var platformTypes = []string{PlatformAzure, PlatformAWS, PlatformIBMCloud, PlatformBareMetal}

func (v *validator) platform(path string, pl *Platform) {
	known := false
	for _, t := range platformTypes {
		known = known || pl.Type == t
	}
	if !known {
		if pl.Type == "" {
			v.add(path+".type", "platform type is required (want %s)", strings.Join(platformTypes, ", "))
		} else {
			v.add(path+".type", "unknown platform %q (want %s)", pl.Type, strings.Join(platformTypes, ", "))
		}
		return
	}
	blocks := map[string]bool{PlatformAzure: pl.Azure != nil, PlatformAWS: pl.AWS != nil, PlatformIBMCloud: pl.IBMCloud != nil, PlatformBareMetal: pl.BareMetal != nil}
	for _, t := range platformTypes {
		if blocks[t] && t != pl.Type {
			v.add(path+"."+t, "settings for %s on a %s platform", t, pl.Type)
		}
	}
	switch pl.Type {
	case PlatformAzure:
		v.instanceSizes(path+".azure", pl.Azure.InstanceSizes, pl.Azure.DefaultInstanceSize)
		v.configMapRef(path+".azure.cloudConfig", pl.Azure.CloudConfig)
		if pl.Azure.Credentials != nil {
			v.secretRef(path+".azure.credentials", pl.Azure.Credentials)
		}
		v.tags(path+".azure.tags", pl.Azure.Tags)
	case PlatformAWS:
		v.instanceSizes(path+".aws", pl.AWS.InstanceSizes, pl.AWS.DefaultInstanceSize)
		if pl.AWS.Credentials != nil {
			v.secretRef(path+".aws.credentials", pl.AWS.Credentials)
		}
		v.tags(path+".aws.tags", pl.AWS.Tags)
	case PlatformIBMCloud:
		v.instanceSizes(path+".ibmcloud", pl.IBMCloud.InstanceSizes, pl.IBMCloud.DefaultInstanceSize)
		v.secretRef(path+".ibmcloud.credentials", pl.IBMCloud.Credentials)
		v.tags(path+".ibmcloud.tags", pl.IBMCloud.Tags)
		ibm := pl.IBMCloud
		for _, id := range []struct{ field, value string }{{"vpcID", ibm.VPCID}, {"subnetID", ibm.SubnetID}, {"resourceGroupID", ibm.ResourceGroupID}} {
			if id.value == "" {
				v.add(path+".ibmcloud."+id.field, "required: the cluster's objects name IBM Cloud resources only by name, and peer pods need the id")
			} else if !ibmIDRE().MatchString(id.value) {
				v.add(path+".ibmcloud."+id.field, "%q is not an IBM Cloud resource id", id.value)
			}
		}
		for i, id := range ibm.SecurityGroupIDs {
			if !ibmIDRE().MatchString(id) {
				v.add(fmt.Sprintf("%s.ibmcloud.securityGroupIDs[%d]", path, i), "%q is not an IBM Cloud resource id", id)
			}
		}
	case PlatformBareMetal:
		if pl.BareMetal == nil {
			v.add(path+".baremetal", "bare metal needs its TEE: baremetal.tee is %s or %s", TEETDX, TEESNP)
		} else if pl.BareMetal.TEE != TEETDX && pl.BareMetal.TEE != TEESNP {
			v.add(path+".baremetal.tee", "unknown TEE %q (want %s, %s)", pl.BareMetal.TEE, TEETDX, TEESNP)
		}
		if pl.PeerPods != nil {
			v.add(path+".peerPods", "peer pods need a cloud platform")
		}
		if bm := pl.BareMetal; bm != nil {
			if !bm.PrepareNodes && bm.MachineConfigRoles != nil {
				v.add(path+".baremetal.machineConfigRoles", "MachineConfigs are rendered only with prepareNodes: true")
			}
			for i, role := range bm.MachineConfigRoles {
				v.dnsLabel(fmt.Sprintf("%s.baremetal.machineConfigRoles[%d]", path, i), role)
			}
		}
		return
	}
	pp := pl.PeerPods
	if *pp.LimitPerNode < 1 {
		v.add(path+".peerPods.limitPerNode", "must be at least 1, got %d", *pp.LimitPerNode)
	}
	if d, err := time.ParseDuration(pp.ProxyTimeout); err != nil || d <= 0 {
		v.add(path+".peerPods.proxyTimeout", "want a positive duration such as 5m, got %q", pp.ProxyTimeout)
	}
	if *pp.VXLANPort < 1 || *pp.VXLANPort > 65535 {
		v.add(path+".peerPods.vxlanPort", "port %d out of range 1-65535", *pp.VXLANPort)
	}
	if pp.RootVolumeSize != nil && *pp.RootVolumeSize < 1 {
		v.add(path+".peerPods.rootVolumeSize", "must be at least 1 (GiB), got %d", *pp.RootVolumeSize)
	}
}

var instanceSizeRE = lazy.Regexp(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func (v *validator) instanceSizes(path string, sizes []string, def string) {
	if len(sizes) == 0 {
		v.add(path+".instanceSizes", "at least one instance size is required")
	}
	found := false
	for i, s := range sizes {
		if !instanceSizeRE().MatchString(s) {
			v.add(fmt.Sprintf("%s.instanceSizes[%d]", path, i), "invalid instance size %q", s)
		}
		found = found || s == def
	}
	if !found && len(sizes) > 0 {
		v.add(path+".defaultInstanceSize", "%q is not one of instanceSizes (%s)", def, strings.Join(sizes, ", "))
	}
}

func (v *validator) tags(path string, tags map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		if k == "" || strings.ContainsAny(k, ",=") || strings.ContainsAny(tags[k], ",=") {
			v.add(joinPath(path, k), "tag keys and values may not be empty or contain ',' or '='")
		}
	}
}

func (v *validator) configMapRef(path string, r *ConfigMapKeyRef) {
	v.dnsLabel(path+".namespace", r.Namespace)
	v.dnsSubdomain(path+".name", r.Name)
	if r.Key == "" {
		v.add(path+".key", "a key is required")
	}
}

func (v *validator) secretRef(path string, r *SecretRef) {
	v.dnsLabel(path+".namespace", r.Namespace)
	v.dnsSubdomain(path+".name", r.Name)
}

var installPlanApprovals = map[string]bool{"Automatic": true, "Manual": true}

func (o *Operator) validate(v *validator, line *release.Line, path string) {
	v.dnsSubdomain(path+".name", o.Name)
	_, preset := line.Operators[o.Name]
	for _, field := range []struct{ name, val string }{{"namespace", o.Namespace}, {"channel", o.Channel}, {"source", o.Source}} {
		if field.val == "" && !preset {
			v.add(path+"."+field.name, "required for operator %q, which has no preset on release line %s (presets: %s)", o.Name, line.Name, strings.Join(slices.Sorted(maps.Keys(line.Operators)), ", "))
		}
	}
	if o.Namespace != "" {
		v.dnsLabel(path+".namespace", o.Namespace)
	}
	if !installPlanApprovals[o.InstallPlanApproval] {
		v.add(path+".installPlanApproval", "want Automatic or Manual, got %q", o.InstallPlanApproval)
	}
	for i, ns := range o.TargetNamespaces {
		v.dnsLabel(fmt.Sprintf("%s.targetNamespaces[%d]", path, i), ns)
	}
}

func (v *validator) application(p *Pattern, g *ClusterGroup, a *Application, path string) {
	v.dnsLabel(path+".name", a.Name)
	v.dnsLabel(path+".namespace", a.Namespace)
	v.dnsLabel(path+".project", a.Project)
	switch {
	case a.Source == nil && len(a.Sources) == 0:
		v.add(path, "an application needs source or sources")
	case a.Source != nil && len(a.Sources) > 0:
		v.add(path+".sources", "source and sources are exclusive")
	case a.Source != nil:
		v.source(path+".source", a.Source, false)
	default:
		refs := map[string]bool{}
		for i := range a.Sources {
			if r := a.Sources[i].Ref; r != "" {
				if refs[r] {
					v.add(fmt.Sprintf("%s.sources[%d].ref", path, i), "duplicate ref %q", r)
				}
				refs[r] = true
			}
		}
		for i := range a.Sources {
			sp := fmt.Sprintf("%s.sources[%d]", path, i)
			v.source(sp, &a.Sources[i], true)
			if h := a.Sources[i].Helm; h != nil {
				for j, vf := range h.ValueFiles {
					if ref, ok := strings.CutPrefix(vf, "$"); ok {
						name, _, _ := strings.Cut(ref, "/")
						if !refs[name] {
							v.add(fmt.Sprintf("%s.helm.valueFiles[%d]", sp, j), "no source has ref %q", name)
						}
					}
				}
			}
		}
	}
	if sp := a.SyncPolicy; sp != nil {
		if sp.Manual && (sp.Prune != nil || sp.SelfHeal != nil) {
			v.add(path+".syncPolicy", "prune and selfHeal apply to automated sync only; drop them or manual")
		}
		for i, o := range sp.SyncOptions {
			if k, val, ok := strings.Cut(o, "="); !ok || k == "" || val == "" {
				v.add(fmt.Sprintf("%s.syncPolicy.syncOptions[%d]", path, i), "want Key=Value (e.g. CreateNamespace=true), got %q", o)
			}
		}
		if r := sp.Retry; r != nil {
			if *r.Limit < -1 {
				v.add(path+".syncPolicy.retry.limit", "want -1 (unlimited) or more, got %d", *r.Limit)
			}
			if *r.Factor < 1 {
				v.add(path+".syncPolicy.retry.factor", "want 1 or more, got %d", *r.Factor)
			}
			for field, d := range map[string]string{"duration": r.Duration, "maxDuration": r.MaxDuration} {
				if _, err := time.ParseDuration(d); err != nil {
					v.add(path+".syncPolicy.retry."+field, "want a duration such as 5s or 3m, got %q", d)
				}
			}
		}
	}
	for i, d := range a.IgnoreDifferences {
		dp := fmt.Sprintf("%s.ignoreDifferences[%d]", path, i)
		if d.Kind == "" {
			v.add(dp+".kind", "kind is required")
		}
		if len(d.JSONPointers)+len(d.JQPathExpressions)+len(d.ManagedFieldsManagers) == 0 {
			v.add(dp, "name what to ignore: jsonPointers, jqPathExpressions or managedFieldsManagers")
		}
		for j, ptr := range d.JSONPointers {
			if !strings.HasPrefix(ptr, "/") {
				v.add(fmt.Sprintf("%s.jsonPointers[%d]", dp, j), "a JSON pointer starts with '/', got %q", ptr)
			}
		}
	}
	if c := a.Confidential; c != nil {
		if !g.HasRole(RoleWorkloads) {
			v.add(path+".confidential", "confidential applications run on groups with role %q", RoleWorkloads)
		}
		if c.InitData == "" {
			v.add(path+".confidential.initData", "name an init-data profile (spec.initData.profiles[].name)")
		} else if p.Spec.InitData.Profile(c.InitData) == nil {
			v.add(path+".confidential.initData", "no init-data profile %q (have: %s)", c.InitData, strings.Join(p.Spec.InitData.profileNames(), ", "))
		}
		v.dnsSubdomain(path+".confidential.runtimeClassName", c.RuntimeClassName)
	}
}

func (v *validator) source(path string, s *AppSource, multi bool) {
	v.repoURL(path+".repoURL", s.RepoURL, false)
	switch {
	case s.Path != "" && s.Chart != "":
		v.add(path, "path and chart are exclusive")
	case s.Path == "" && s.Chart == "" && !(multi && s.Ref != ""):
		v.add(path, "a source needs a git path or a Helm chart")
	case s.Path != "":
		v.relPath(path+".path", s.Path)
	case s.Chart != "":
		if s.RepoURL == "" {
			v.add(path+".repoURL", "a Helm chart needs its repository URL")
		}
		if s.TargetRevision == "" {
			v.add(path+".targetRevision", "pin the chart version: GitOps output must not float")
		}
	}
	if s.Ref != "" && !multi {
		v.add(path+".ref", "ref is only meaningful in sources (multi-source applications)")
	}
	if h := s.Helm; h != nil {
		for i, vf := range h.ValueFiles {
			if strings.HasPrefix(vf, "$") && !multi {
				v.add(fmt.Sprintf("%s.helm.valueFiles[%d]", path, i), "$ref value files need sources with a ref")
			}
		}
	}
}

func (v *validator) repoURL(path, raw string, required bool) {
	if raw == "" {
		if required {
			v.add(path, "a repository URL is required")
		}
		return
	}
	if strings.HasPrefix(raw, "git@") && strings.Contains(raw, ":") {
		return // scp-like SSH syntax
	}
	u, err := url.Parse(raw)
	if err == nil && u.User != nil {
		if _, hasPassword := u.User.Password(); hasPassword {
			// Never echo it: the message goes to logs.
			v.add(path, "%s holds a password, which would be written into the rendered Applications in git: give Argo CD the credentials in a repository Secret instead", u.Redacted())
			return
		}
	}
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "ssh" && u.Scheme != "oci") {
		shown := raw
		if err == nil {
			shown = u.Redacted()
		}
		v.add(path, "want an https://, ssh://, oci:// or git@host: URL, got %q", shown)
	}
}

func (v *validator) relPath(path, p string) {
	if p == "" {
		v.add(path, "a path is required")
		return
	}
	if strings.HasPrefix(p, "/") || p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "/../") {
		v.add(path, "want a path relative to the repository root, inside it; got %q", p)
	}
}

// dnsLabel requires a Kubernetes name of at most 63 characters
// (namespaces, most object names).
func (v *validator) dnsLabel(path, s string) {
	v.name(path, s, validation.IsDNS1123Label, "lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters")
}

// dnsSubdomain requires a Kubernetes name of at most 253 characters that
// may contain dots.
func (v *validator) dnsSubdomain(path, s string) {
	v.name(path, s, validation.IsDNS1123Subdomain, "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters")
}

// name checks a Kubernetes name, and says in words what a valid one is
// (rather than the validation library's regular expression).
func (v *validator) name(path, s string, check func(string) []string, valid string) {
	if s == "" {
		v.add(path, "required")
		return
	}
	if len(check(s)) > 0 {
		v.add(path, "%q is not a valid name: %s", s, valid)
	}
}

// Profile returns the init-data profile with the given name, or nil.
func (d *InitData) Profile(name string) *InitDataProfile {
	for i := range d.Profiles {
		if d.Profiles[i].Name == name {
			return &d.Profiles[i]
		}
	}
	return nil
}

func (d *InitData) profileNames() []string {
	names := make([]string, len(d.Profiles))
	for i, p := range d.Profiles {
		names[i] = p.Name
	}
	if len(names) == 0 {
		return []string{"none"}
	}
	return names
}

// sortedKeys lists a map's keys in order, so problems are reported in a
// stable order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
