package policies

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Mismatch is why a CreateContainerRequest does not match an expected
// container: the request field, what it holds and what the policy wants.
type Mismatch struct {
	Field    string
	Got      any
	Expected any
}

func (m Mismatch) String() string {
	return fmt.Sprintf("%s: the request has %s, the policy expects %s", m.Field, show(m.Got), show(m.Expected))
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// ExplainCreateContainer compares a CreateContainerRequest (as the agent
// hands it to the policy) with the expected container it is meant to be
// (the one whose identity annotations it matches best) and returns the
// first difference, in the order rego/exec-deny.rego's container_matches
// checks them; ok is false when the request matches.
func ExplainCreateContainer(containers []Container, req map[string]any) (Mismatch, bool) {
	m, _, differs := explainCreate(containers, req)
	return m, differs
}

// explainCreate also returns the expected container compared with.
func explainCreate(containers []Container, req map[string]any) (Mismatch, *Container, bool) {
	oci, _ := req["OCI"].(map[string]any)
	ann, _ := oci["Annotations"].(map[string]any)
	var best *Container
	bestMisses := -1
	for i := range containers {
		// The container type decides first (a pause container is never
		// meant for a container request), then the fewest differences.
		misses := 0
		for key, re := range containers[i].Annotations {
			if v, _ := ann[key].(string); !regexp.MustCompile(re).MatchString(v) {
				misses++
				if re == "^sandbox$" || re == "^container$" {
					misses += 100
				}
			}
		}
		if bestMisses < 0 || misses < bestMisses {
			best, bestMisses = &containers[i], misses
		}
	}
	if best == nil {
		return Mismatch{Field: "OCI.Annotations", Got: ann, Expected: "a container of the pod"}, nil, true
	}
	m, differs := explainContainer(best, oci)
	if !differs {
		m, differs = explainDevices(best, req)
	}
	if !differs {
		m, differs = explainRoot(best, req)
	}
	if !differs {
		m, differs = explainStorages(best, req)
	}
	return m, best, differs
}

// explainRoot mirrors root_matches: the root's read-only flag and the
// image the guest pulls for it.
func explainRoot(c *Container, req map[string]any) (Mismatch, bool) {
	oci, _ := req["OCI"].(map[string]any)
	root, _ := oci["Root"].(map[string]any)
	if ro, _ := root["Readonly"].(bool); ro != c.RootReadonly {
		return Mismatch{"OCI.Root.Readonly", ro, fmt.Sprintf("%v (readOnlyRootFilesystem)", c.RootReadonly)}, true
	}
	var pulls []map[string]any
	for _, st := range list(req["storages"]) {
		if sm, _ := st.(map[string]any); sm["driver"] == "image_guest_pull" {
			pulls = append(pulls, sm)
		}
	}
	id, _ := req["container_id"].(string)
	rootfs := "/run/kata-containers/" + id + "/rootfs"
	switch {
	case len(pulls) == 0 && c.GuestPullRequired:
		return Mismatch{"storages", "no image_guest_pull storage (the host would supply the root filesystem)", "the image pulled in the guest, one of " + show(c.ImageSources)}, true
	case len(pulls) == 0:
		return Mismatch{}, false
	case len(pulls) > 1:
		return Mismatch{"storages", fmt.Sprintf("%d image_guest_pull storages", len(pulls)), "one"}, true
	}
	p := pulls[0]
	switch {
	case p["fstype"] != "overlay":
		return Mismatch{"storages[image_guest_pull].fstype", p["fstype"], "overlay"}, true
	case !slices.Contains(c.ImageSources, fmt.Sprint(p["source"])):
		return Mismatch{"storages[image_guest_pull].source", p["source"], "the image the guest pulls, one of " + show(c.ImageSources)}, true
	case p["mount_point"] != rootfs:
		return Mismatch{"storages[image_guest_pull].mount_point", p["mount_point"], rootfs + " (the container's own root)"}, true
	case root["Path"] != rootfs:
		return Mismatch{"OCI.Root.Path", root["Path"], rootfs + " (where the guest pulled the container's image)"}, true
	}
	return Mismatch{}, false
}

// explainStorages mirrors storages_allowed.
func explainStorages(c *Container, req map[string]any) (Mismatch, bool) {
	if c.Storages == nil {
		return Mismatch{}, false
	}
	points := map[string]bool{}
	for i, st := range list(req["storages"]) {
		sm, _ := st.(map[string]any)
		field := fmt.Sprintf("storages[%d]", i)
		point, _ := sm["mount_point"].(string)
		if points[point] {
			return Mismatch{field + ".mount_point", point, "a mount point no other storage of the request has"}, true
		}
		points[point] = true
		if sm["driver"] == "image_guest_pull" {
			continue
		}
		if !slices.ContainsFunc(c.Storages, func(r Storage) bool { return storageMatches(r, sm) }) {
			want := "the image's, or the guest-local directory or tmpfs of one of the container's emptyDirs"
			if len(c.Storages) == 0 {
				want = "only the image's (the container mounts no emptyDir)"
			}
			return Mismatch{field, sm, want}, true
		}
	}
	return Mismatch{}, false
}

func storageMatches(r Storage, s map[string]any) bool {
	point, _ := s["mount_point"].(string)
	if s["driver"] != r.Driver || s["source"] != r.Source || s["fstype"] != r.Fstype || !regexp.MustCompile(r.MountPoint).MatchString(point) ||
		len(list(s["driver_options"])) > 0 || s["fs_group"] != nil {
		return false
	}
	for _, o := range stringList(s["options"]) {
		if !slices.Contains(r.Options, o) {
			return false
		}
	}
	return true
}

// vfioPrefix is where passthrough devices appear (policy_data.
// create_container.vfio_prefix).
const vfioPrefix = "/dev/vfio/devices/vfio"

var (
	cdiKey   = regexp.MustCompile(`^cdi\.k8s\.io/vfio[0-9]+$`)
	cdiValue = regexp.MustCompile(`^nvidia\.com/gpu=[0-9]+$`)
)

// explainDevices mirrors devices_match: the CDI annotations and VFIO
// devices of the container's GPUs.
func explainDevices(c *Container, req map[string]any) (Mismatch, bool) {
	oci, _ := req["OCI"].(map[string]any)
	ann, _ := oci["Annotations"].(map[string]any)
	cdi := map[string]string{}
	for k, v := range ann {
		if strings.HasPrefix(k, "cdi.k8s.io/") {
			cdi[k], _ = v.(string)
		}
	}
	if len(cdi) != c.GPUs {
		return Mismatch{"OCI.Annotations[cdi.k8s.io/*]", len(cdi), fmt.Sprintf("%d CDI annotations, one per GPU the pod spec asks for", c.GPUs)}, true
	}
	for _, k := range slices.Sorted(maps.Keys(cdi)) {
		if !cdiKey.MatchString(k) || !cdiValue.MatchString(cdi[k]) {
			return Mismatch{"OCI.Annotations[" + k + "]", cdi[k], "cdi.k8s.io/vfio<n>: nvidia.com/gpu=<n>"}, true
		}
	}
	var vfio []string
	for _, d := range list(req["devices"]) {
		dm, _ := d.(map[string]any)
		if p, _ := dm["container_path"].(string); strings.HasPrefix(p, vfioPrefix) {
			vfio = append(vfio, p)
		}
	}
	distinct := slices.Compact(slices.Sorted(slices.Values(vfio)))
	if len(vfio) != 0 && len(vfio) != c.GPUs || len(distinct) != len(vfio) {
		return Mismatch{"devices", vfio, fmt.Sprintf("none (cold-plugged) or %d distinct VFIO devices", c.GPUs)}, true
	}
	for _, p := range vfio {
		if cdi["cdi.k8s.io/vfio"+strings.TrimPrefix(p, vfioPrefix)] == "" {
			return Mismatch{"devices", p, "a device named by a CDI annotation"}, true
		}
	}
	if c.DevicePaths == nil {
		return Mismatch{}, false
	}
	allowed := func(p string) bool {
		return c.GPUs > 0 && strings.HasPrefix(p, vfioPrefix) || slices.Contains(c.DevicePaths, p)
	}
	want := "only the pod spec's volumeDevices " + show(c.DevicePaths)
	if c.GPUs > 0 {
		want += " and VFIO devices"
	}
	for i, d := range list(req["devices"]) {
		dm, _ := d.(map[string]any)
		if p, _ := dm["container_path"].(string); !allowed(p) {
			return Mismatch{fmt.Sprintf("devices[%d].container_path", i), p, want}, true
		}
	}
	linux, _ := oci["Linux"].(map[string]any)
	for i, d := range list(linux["Devices"]) {
		dm, _ := d.(map[string]any)
		if p, _ := dm["Path"].(string); !allowed(p) {
			return Mismatch{fmt.Sprintf("OCI.Linux.Devices[%d].Path", i), p, want}, true
		}
	}
	return Mismatch{}, false
}

func explainContainer(c *Container, oci map[string]any) (Mismatch, bool) {
	if v, _ := oci["Version"].(string); c.OCIVersions != nil && !slices.Contains(c.OCIVersions, v) {
		return Mismatch{"OCI.Version", v, "one of " + show(c.OCIVersions) + " (the OCI versions the node's container runtime writes)"}, true
	}
	ann, _ := oci["Annotations"].(map[string]any)
	for _, key := range slices.Sorted(maps.Keys(c.Annotations)) {
		if v, _ := ann[key].(string); !regexp.MustCompile(c.Annotations[key]).MatchString(v) {
			return Mismatch{"OCI.Annotations[" + key + "]", v, "a value matching " + c.Annotations[key]}, true
		}
	}
	proc, _ := oci["Process"].(map[string]any)
	p := c.Process
	if args := stringList(proc["Args"]); !slices.Equal(args, p.Args) {
		return Mismatch{"OCI.Process.Args", args, p.Args}, true
	}
	if cwd, _ := proc["Cwd"].(string); cwd != p.Cwd {
		return Mismatch{"OCI.Process.Cwd", cwd, p.Cwd}, true
	}
	user, _ := proc["User"].(map[string]any)
	if p.AnyUser {
		user = map[string]any{"UID": float64(p.UID), "GID": float64(p.GID), "AdditionalGids": anyList(p.AdditionalGIDs)}
	}
	if n := number(user["UID"]); n != float64(p.UID) {
		return Mismatch{"OCI.Process.User.UID", n, p.UID}, true
	}
	if n := number(user["GID"]); n != float64(p.GID) {
		return Mismatch{"OCI.Process.User.GID", n, p.GID}, true
	}
	var gids []float64
	for _, g := range list(user["AdditionalGids"]) {
		gids = append(gids, number(g))
	}
	slices.Sort(gids)
	want := make([]float64, len(p.AdditionalGIDs))
	for i, g := range p.AdditionalGIDs {
		want[i] = float64(g)
	}
	if !slices.Equal(gids, want) {
		return Mismatch{"OCI.Process.User.AdditionalGids", gids, p.AdditionalGIDs}, true
	}
	if b, _ := proc["NoNewPrivileges"].(bool); b != p.NoNewPrivileges {
		return Mismatch{"OCI.Process.NoNewPrivileges", b, p.NoNewPrivileges}, true
	}
	if b, _ := proc["Terminal"].(bool); b != p.Terminal {
		return Mismatch{"OCI.Process.Terminal", b, p.Terminal}, true
	}
	for i, e := range stringList(proc["Env"]) {
		if slices.Contains(p.Env, e) || slices.ContainsFunc(p.EnvRegexes, func(r string) bool { return regexp.MustCompile(r).MatchString(e) }) {
			continue
		}
		return Mismatch{fmt.Sprintf("OCI.Process.Env[%d]", i), e, "one of " + show(p.Env) + " or a match of the allowed patterns"}, true
	}
	caps, _ := proc["Capabilities"].(map[string]any)
	wantCaps := slices.Sorted(slices.Values(p.Capabilities))
	for _, set := range []string{"Bounding", "Effective", "Permitted"} {
		got := slices.Sorted(slices.Values(stringList(caps[set])))
		if !slices.Equal(got, wantCaps) {
			return Mismatch{"OCI.Process.Capabilities." + set, got, wantCaps}, true
		}
	}
	for _, set := range []string{"Inheritable", "Ambient"} {
		if got := stringList(caps[set]); len(got) > 0 {
			return Mismatch{"OCI.Process.Capabilities." + set, got, []string{}}, true
		}
	}
	linux, _ := oci["Linux"].(map[string]any)
	sysctls, _ := linux["Sysctl"].(map[string]any)
	for _, k := range slices.Sorted(maps.Keys(sysctls)) {
		if v, _ := sysctls[k].(string); c.Sysctls[k] != v {
			return Mismatch{"OCI.Linux.Sysctl[" + k + "]", v, c.Sysctls[k]}, true
		}
	}
	masked := stringList(linux["MaskedPaths"])
	for _, p := range c.MaskedPaths {
		if !slices.Contains(masked, p) {
			return Mismatch{"OCI.Linux.MaskedPaths", masked, "to include " + p}, true
		}
	}
	hidden := append(stringList(linux["ReadonlyPaths"]), masked...)
	for _, p := range c.ReadonlyPaths {
		if !slices.Contains(hidden, p) {
			return Mismatch{"OCI.Linux.ReadonlyPaths", stringList(linux["ReadonlyPaths"]), "to include " + p + " (or mask it)"}, true
		}
	}
	if m, differs := explainMounts(c, oci); differs {
		return m, true
	}
	if c.CgroupMountOptions != nil {
		for i, m := range list(oci["Mounts"]) {
			mm, _ := m.(map[string]any)
			if mm["destination"] != "/sys/fs/cgroup" {
				continue
			}
			for _, o := range stringList(mm["options"]) {
				if !slices.Contains(c.CgroupMountOptions, o) {
					return Mismatch{fmt.Sprintf("OCI.Mounts[%d].options (/sys/fs/cgroup)", i), o, "one of " + show(c.CgroupMountOptions)}, true
				}
			}
		}
	}
	return Mismatch{}, false
}

func stringList(v any) []string {
	var out []string
	for _, e := range list(v) {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

func number(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case json.Number:
		f, _ := x.Float64()
		return f
	case int:
		return float64(x)
	}
	return 0
}

// Explanation is cocogen's reading of a request against a workload
// policy's data.
type Explanation struct {
	// Kind is the request's kind.
	Kind string
	// Allowed is the decision the policy data implies for the checks
	// Explain compares (the agent decides with the whole policy).
	Allowed bool
	// Mismatch is the first difference of a denied request.
	Mismatch *Mismatch
	// Container is the expected container the request was compared with
	// (its source in the pod spec).
	Container string
}

// PolicyData extracts policy_data from a rendered policy: the JSON object
// after its last "policy_data := ".
func PolicyData(policy string) (map[string]any, error) {
	i := strings.LastIndex(policy, "\n"+policyDataPrefix)
	if i < 0 {
		return nil, fmt.Errorf("not a cocogen agent policy: no policy_data statement")
	}
	text, err := joinLongStrings(policy[i+1+len(policyDataPrefix):])
	if err != nil {
		return nil, err
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(text), &data); err != nil {
		return nil, fmt.Errorf("policy_data is not JSON: %w", err)
	}
	return data, nil
}

// Explain reads one request against a policy and says whether its data
// allows it and, if not, the first field that differs, with the expected
// value. It sees no sandbox state: an exec is compared with the probe of
// the same argv, whose container (Container) the exec's container id must
// be. An Explainer reading the agent's log follows the state.
func Explain(policy, kind string, req map[string]any) (Explanation, error) {
	x, err := NewExplainer(policy)
	if err != nil {
		return Explanation{}, err
	}
	return x.Explain(kind, req)
}

// Explainer explains the requests of one sandbox in order, keeping the
// sandbox state the rules keep (which container id was created as which
// container of the pod), so an exec is explained against its own
// container, and one in a container the policy never let be created says
// so.
type Explainer struct {
	data       map[string]any
	containers []Container
	exec       struct {
		Allowed [][]string `json:"allowed_commands"`
		Probes  []Probe    `json:"probes"`
	}
	// created maps container ids to containers, once Track is on.
	created map[string]int
	// pinned is the replacement the policy pins (PinSetPolicy), if any.
	pinned    string
	hasPinned bool
	// defaults are the policy's `default Kind := bool` decisions; ruled
	// the requests it decides with a rule (explain_host.go).
	defaults, ruled map[string]bool
}

// NewExplainer reads a policy's data.
func NewExplainer(policy string) (*Explainer, error) {
	data, err := PolicyData(policy)
	if err != nil {
		return nil, err
	}
	x := &Explainer{data: data}
	x.pinned, x.hasPinned = pinnedPolicy(policy)
	x.defaults, x.ruled = policyDecisions(policy)
	raw, _ := json.Marshal(data["containers"])
	if err := json.Unmarshal(raw, &x.containers); err != nil {
		return nil, fmt.Errorf("policy_data.containers: %w", err)
	}
	raw, _ = json.Marshal(data["exec_process"])
	if err := json.Unmarshal(raw, &x.exec); err != nil {
		return nil, fmt.Errorf("policy_data.exec_process: %w", err)
	}
	return x, nil
}

// Track makes the Explainer follow the sandbox state from the requests it
// explains (the agent's log of one sandbox, from its start).
func (x *Explainer) Track() { x.created = map[string]int{} }

// Explain explains one request (and, tracking, records what it changes).
func (x *Explainer) Explain(kind string, req map[string]any) (Explanation, error) {
	if kind == "RemoveContainerRequest" && x.created != nil {
		id, _ := req["container_id"].(string)
		delete(x.created, id)
	}
	if e, ok := x.explainByDefault(kind); ok {
		return e, nil
	}
	if e, ok := explainStreams(x.data, kind); ok {
		return e, nil
	}
	if e, ok := x.explainHost(kind, req); ok {
		return e, nil
	}
	out := Explanation{Kind: kind}
	if kind == "ExecProcessRequest" && len(x.containers) == 0 {
		// exec-deny: only the allow-listed argv vectors.
		proc, _ := req["process"].(map[string]any)
		args := stringList(proc["Args"])
		out.Allowed = len(args) > 0 && x.allowedCommand(args)
		if !out.Allowed {
			out.Mismatch = &Mismatch{Field: "process.Args", Got: args, Expected: fmt.Sprintf("an allowed command %s (the init-data profile's policy.allowExec)", show(x.exec.Allowed))}
		}
		return out, nil
	}
	if len(x.containers) == 0 {
		return Explanation{}, fmt.Errorf("the policy binds no containers (profile %v): a %s is explained only against a workload policy", x.data["profile"], kind)
	}
	switch kind {
	case "CreateContainerRequest":
		m, c, differs := explainCreate(x.containers, req)
		out.Allowed = !differs
		if differs {
			out.Mismatch = &m
		}
		if c != nil {
			out.Container = c.Source
			if out.Allowed && x.created != nil {
				id, _ := req["container_id"].(string)
				for i := range x.containers {
					if &x.containers[i] == c {
						x.created[id] = i
					}
				}
			}
		}
	case "ExecProcessRequest":
		proc, _ := req["process"].(map[string]any)
		args := stringList(proc["Args"])
		if x.allowedCommand(args) {
			out.Allowed = true
			return out, nil
		}
		id, _ := req["container_id"].(string)
		created, known := x.created[id]
		if x.created != nil && !known {
			out.Mismatch = &Mismatch{Field: "container_id", Got: id, Expected: "a container this policy let be created (its CreateContainerRequest was refused above, or is not in the log)"}
			return out, nil
		}
		var probes [][]string
		for _, p := range x.exec.Probes {
			if x.created != nil && p.Container != created {
				continue // a probe of another container
			}
			probes = append(probes, p.Args)
			if slices.Equal(p.Args, args) && p.Container < len(x.containers) {
				out.Container = x.containers[p.Container].Source
				m, differs := explainExec(x.containers[p.Container].Process, proc)
				out.Allowed = !differs && req["string_user"] == nil
				if differs {
					out.Mismatch = &m
				}
				return out, nil
			}
		}
		where := ""
		if x.created != nil {
			out.Container = x.containers[created].Source
			where = " of this container"
		}
		out.Mismatch = &Mismatch{Field: "process.Args", Got: args, Expected: fmt.Sprintf("a probe's argv%s %s or an allowed command %s", where, show(probes), show(x.exec.Allowed))}
	default:
		return Explanation{}, fmt.Errorf("the policy decides %s with a rule policy explain does not know", kind)
	}
	return out, nil
}

// allowedCommand reports an argv of the allow-list
// (policy_data.exec_process.allowed_commands).
func (x *Explainer) allowedCommand(args []string) bool {
	return slices.ContainsFunc(x.exec.Allowed, func(a []string) bool { return slices.Equal(a, args) })
}

// explainExec compares an exec's process with its container's, as
// rego/exec-deny.rego's exec_matches does.
func explainExec(p Process, proc map[string]any) (Mismatch, bool) {
	if b, _ := proc["Terminal"].(bool); b {
		return Mismatch{"process.Terminal", true, false}, true
	}
	if caps, _ := proc["Capabilities"].(map[string]any); caps != nil {
		for _, set := range []string{"Ambient", "Bounding", "Effective", "Inheritable", "Permitted"} {
			if l := stringList(caps[set]); len(l) > 0 {
				return Mismatch{"process.Capabilities." + set, l, []string{}}, true
			}
		}
	}
	if cwd, _ := proc["Cwd"].(string); cwd != p.Cwd {
		return Mismatch{"process.Cwd", cwd, p.Cwd}, true
	}
	if b, _ := proc["NoNewPrivileges"].(bool); b != p.NoNewPrivileges {
		return Mismatch{"process.NoNewPrivileges", b, p.NoNewPrivileges}, true
	}
	for _, f := range []string{"SelinuxLabel", "ApparmorProfile"} {
		if s, _ := proc[f].(string); s != "" {
			return Mismatch{"process." + f, s, ""}, true
		}
	}
	user, _ := proc["User"].(map[string]any)
	if n := number(user["UID"]); n != float64(p.UID) {
		return Mismatch{"process.User.UID", n, p.UID}, true
	}
	if n := number(user["GID"]); n != float64(p.GID) {
		return Mismatch{"process.User.GID", n, p.GID}, true
	}
	for i, e := range stringList(proc["Env"]) {
		if slices.Contains(p.Env, e) || slices.ContainsFunc(p.EnvRegexes, func(r string) bool { return regexp.MustCompile(r).MatchString(e) }) {
			continue
		}
		return Mismatch{fmt.Sprintf("process.Env[%d]", i), e, "one of " + show(p.Env) + " or a match of the allowed patterns"}, true
	}
	return Mismatch{}, false
}

func anyList(gids []uint32) []any {
	out := make([]any, len(gids))
	for i, g := range gids {
		out[i] = float64(g)
	}
	return out
}

// propagationOptions are the mount options that set propagation.
var propagationOptions = []string{"rprivate", "private", "rslave", "slave", "rshared", "shared"}

// explainMounts finds the first mount the rules refuse (mounts_allowed).
func explainMounts(c *Container, oci map[string]any) (Mismatch, bool) {
	if c.Mounts == nil {
		return Mismatch{}, false
	}
	seen := map[string]bool{}
	for i, m := range list(oci["Mounts"]) {
		mm, _ := m.(map[string]any)
		dest, _ := mm["destination"].(string)
		field := fmt.Sprintf("OCI.Mounts[%d] (%s)", i, dest)
		if seen[dest] {
			return Mismatch{field, "a second mount at " + dest, "each destination once"}, true
		}
		seen[dest] = true
		rule, ok := c.Mounts[dest]
		if !ok {
			return Mismatch{field, dest, "one of " + show(slices.Sorted(maps.Keys(c.Mounts)))}, true
		}
		if typ, _ := mm["type_"].(string); typ != rule.Type && (!rule.EmptyDir || typ != "local") {
			want := rule.Type
			if rule.EmptyDir {
				want += " or local (an emptyDir)"
			}
			return Mismatch{field + ".type_", typ, want}, true
		}
		if src, _ := mm["source"].(string); rule.SourceRegex != "" && !regexp.MustCompile(rule.SourceRegex).MatchString(src) {
			return Mismatch{field + ".source", src, "a source matching " + rule.SourceRegex + " (the host's copy of what the destination names, the sandbox's shm, or the mount's own emptyDir)"}, true
		}
		opts := stringList(mm["options"])
		from := ""
		if rule.Source != "" {
			from = ", from " + rule.Source
		}
		switch {
		case rule.Access == "ro" && !slices.Contains(opts, "ro"):
			return Mismatch{field + ".options", opts, "ro (read-only" + from + ")"}, true
		case rule.Access == "rw" && (slices.Contains(opts, "ro") || !slices.Contains(opts, "rbind")):
			return Mismatch{field + ".options", opts, "rbind, not ro (read-write" + from + ")"}, true
		}
		if rule.Propagation != nil {
			for _, o := range opts {
				if slices.Contains(propagationOptions, o) && !slices.Contains(rule.Propagation, o) {
					return Mismatch{field + ".options", o, "propagation " + strings.Join(rule.Propagation, " or ") + from}, true
				}
			}
		}
	}
	return Mismatch{}, false
}

// ExplainedKinds are the requests `policy explain` prints from an agent's
// log whatever their decision (the containers, execs and streams of the
// pod); any other request is printed only when denied.
var ExplainedKinds = []string{"CreateContainerRequest", "ExecProcessRequest", "ReadStreamRequest", "WriteStreamRequest", "CloseStdinRequest"}

// explainStreams decides the stream requests of any profile: container
// logs (ReadStreamRequest, what kubectl logs reads) and stdin
// (WriteStreamRequest, CloseStdinRequest), as the rules do from
// policy_data.streams, and names the init-data profile option that
// changes the decision.
func explainStreams(data map[string]any, kind string) (Explanation, bool) {
	streams, _ := data["streams"].(map[string]any)
	var key, what, option string
	switch kind {
	case "ReadStreamRequest":
		key, what, option = "allow_logs", "a container's stdout/stderr (kubectl logs)", "policy.allowLogs: true (off by default for profiles whose pods fetch KBS resources, whose secrets a log could leak; allowing it warns at every render)"
	case "WriteStreamRequest", "CloseStdinRequest":
		key, what, option = "allow_stdin", "writing to a container's stdin (kubectl attach/exec -i)", "policy.allowStdin: true"
	default:
		return Explanation{}, false
	}
	out := Explanation{Kind: kind}
	if allowed, _ := streams[key].(bool); allowed {
		out.Allowed = true
		return out, true
	}
	out.Mismatch = &Mismatch{Field: kind, Got: what, Expected: "refused by this policy; the init-data profile option " + option + " allows it"}
	return out, true
}
