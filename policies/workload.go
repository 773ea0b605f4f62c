package policies

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/distribution/reference"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"

	"github.com/cocogen/cocogen/pkg/imagelock"
	"github.com/cocogen/cocogen/pkg/initdata"
)

// The per-workload policy: what the kata agent may create in one pod's
// sandbox, derived from the pod spec and the image lock, offline. Each
// expected container (the pause container first, then init containers and
// containers) becomes an entry of policy_data.containers, which
// rego/workload.rego compares CreateContainerRequest with.
//
// The conventions the runtime applies (containerd's default
// capabilities and environment, the pause process, the sysctls the
// runtime adds) are the Settings below; kata's genpolicy keeps the same
// facts in genpolicy-settings.json (kata 3.25.0
// src/tools/genpolicy/genpolicy-settings.json: common.default_caps,
// common.privileged_caps, pause_container, other_container.Linux.Sysctl,
// request_defaults.CreateContainerRequest.allow_env_regex).

// Pod is a pod (or pod template) to bind a policy to.
type Pod struct {
	// Name of the pod; GenerateName when the API server generates it
	// (a prefix). NamePattern, when set, is the regex (unanchored) of the
	// names a controller gives its pods, and wins over both.
	Name, GenerateName, NamePattern string
	// Namespace where it runs; empty (a manifest without one) allows
	// any. cocogen's rendered workloads always name theirs.
	Namespace string
	Labels    map[string]string
	Spec      map[string]any
	// ConfigMaps are the ConfigMaps of the render, by namespace/name, for
	// env values taken from them.
	ConfigMaps map[string]map[string]string
}

// Container is one expected container in policy_data.containers.
type Container struct {
	// Type is "sandbox" (the pause container) or "container".
	Type string `json:"type"`
	// Name is the container's name ("" for the pause container).
	Name string `json:"name"`
	// Annotations are the container's identity as the container runtime
	// writes it into the OCI spec: annotation key -> anchored regex its
	// value must match (container type and name, pod name and
	// namespace, image). The keys depend on the runtime (Settings.Runtime).
	Annotations map[string]string `json:"annotations"`
	Process     Process           `json:"process"`
	// Source is where the container comes from in the pod spec (for
	// explanations).
	Source string `json:"source"`
	// CgroupMountOptions are the options its /sys/fs/cgroup mount may
	// carry (null: not checked).
	CgroupMountOptions []string `json:"cgroup_mount_options"`
	// RootReadonly is the pod spec's readOnlyRootFilesystem (true for
	// the pause container, whose root both runtimes make read-only).
	RootReadonly bool `json:"root_readonly"`
	// ImageSources are the image names the host may ask the guest to
	// pull the container's root filesystem by (the source of its
	// image_guest_pull storage: "pause" for the pause container, which
	// the guest unpacks from its own image); GuestPullRequired refuses a
	// container without one, whose root filesystem the host would supply.
	ImageSources      []string `json:"image_sources"`
	GuestPullRequired bool     `json:"guest_pull_required"`
	// OCIVersions are the OCI spec versions the runtime writes (null:
	// not checked).
	OCIVersions []string `json:"oci_versions"`
	// Storages are the only storages, besides its image's, the agent may
	// set up for the container (null: not checked): the guest-local
	// directory or tmpfs of each emptyDir it mounts. The agent mounts
	// any storage the host lists, at its mount point, and skips a later
	// one at the same point (kata 3.25.0 src/agent/src/storage/mod.rs
	// add_storages), so an unlisted one could put the host's files under
	// a container's root or volume.
	Storages []Storage `json:"storages"`
	// GPUs is the number of passthrough GPUs its resource limits ask for
	// (nvidia.com/pgpu, as genpolicy reads them), 0 for the pause container.
	GPUs int `json:"gpus"`
	// Sysctls are the sysctls the container may be given.
	Sysctls map[string]string `json:"sysctls"`
	// MaskedPaths must all be masked in the container (it may mask
	// more); ReadonlyPaths must each be read-only or masked. Empty for
	// privileged containers and procMount Unmasked, which get none; null
	// leaves them unchecked.
	MaskedPaths   []string `json:"masked_paths"`
	ReadonlyPaths []string `json:"readonly_paths"`
	// Mounts are the only mounts the container may have, by destination,
	// each at most once; null leaves them unchecked.
	Mounts map[string]Mount `json:"mounts"`
	// DevicePaths are the only device paths, besides its passthrough
	// GPUs' VFIO devices, the container may get (the pod spec's
	// volumeDevices); null leaves devices other than VFIO unchecked.
	DevicePaths []string `json:"device_paths"`
}

// Storage is a storage the agent may set up for a container, as kata
// 3.25.0's shim describes an emptyDir (src/runtime/virtcontainers/
// kata_agent.go handleLocalStorage, handleEphemeralStorage).
type Storage struct {
	Driver string `json:"driver"`
	Source string `json:"source"`
	Fstype string `json:"fstype"`
	// MountPoint is an anchored regex.
	MountPoint string `json:"mount_point"`
	// Options are the options it may carry.
	Options []string `json:"options"`
}

// Mount is what a mount at one destination must be.
type Mount struct {
	// Type is the OCI mount type (bind, proc, tmpfs...).
	Type string `json:"type"`
	// Access is "ro" (the ro option), "rw" (a read-write rbind), or ""
	// (either).
	Access string `json:"access,omitempty"`
	// Propagation lists the propagation options the mount may carry
	// (rprivate, rslave, rshared...); nil leaves them unchecked.
	Propagation []string `json:"propagation"`
	// SourceRegex is what the mount's source must match ("" for the
	// runtime's kernel file systems, whose source is only a label): a
	// bind never names guest-internal data but its own (see
	// withSources).
	SourceRegex string `json:"source_regex,omitempty"`
	// EmptyDir marks a disk-backed emptyDir volume, which kata's shim
	// may also give as guest-local storage (type local) instead of a
	// bind: it does unless disable_guest_empty_dir, as on peer pods
	// (kata 3.25.0 src/runtime/pkg/katautils/create.go
	// SetEphemeralStorageType; configuration-remote.toml.in).
	EmptyDir bool `json:"empty_dir,omitempty"`
	// Source is where the pod spec asks for it (for explanations).
	Source string `json:"source,omitempty"`
}

// Process is the expected OCI process.
type Process struct {
	Args []string `json:"args"`
	// Env are exact NAME=value entries; EnvRegexes entries that may also
	// appear (values the policy cannot know: Secrets by name, service
	// links, the downward API's runtime values).
	Env            []string `json:"env"`
	EnvRegexes     []string `json:"env_regexes"`
	Cwd            string   `json:"cwd"`
	UID            uint32   `json:"uid"`
	GID            uint32   `json:"gid"`
	AdditionalGIDs []uint32 `json:"additional_gids"`
	// AnyUser leaves the user and groups unbound (a pause container whose
	// image the node chooses, when the pod sets no user).
	AnyUser bool `json:"any_user"`
	// Capabilities is the bounding, effective and permitted set.
	Capabilities    []string `json:"capabilities"`
	NoNewPrivileges bool     `json:"no_new_privileges"`
	Terminal        bool     `json:"terminal"`
}

// containerMounts are the mounts a container may have: the runtime's,
// the kubelet's /etc files, the termination log, the service account
// token unless the pod opts out, the image's volumes (containerd gives
// each a read-write bind), and each volumeMount at its path, read-only
// when the pod spec says so, with private propagation unless the pod
// spec asks for another (as genpolicy expects them: kata 3.25.0
// src/tools/genpolicy/src/mount_and_storage.rs).
func containerMounts(pod Pod, c map[string]any, im *imagelock.Image, s Settings, privileged bool) map[string]Mount {
	out := maps.Clone(s.RuntimeMounts)
	maps.Copy(out, s.ContainerMounts)
	if privileged {
		// Both runtimes give a privileged container /sys and its cgroups
		// read-write (cri-o v1.32.0 server/container_create_linux.go
		// addOCIBindMounts and clearReadOnly; containerd's CRI plugin
		// likewise).
		for dest, m := range out {
			if m.Access == "ro" {
				m.Access = ""
				out[dest] = m
			}
		}
	}
	emptyDirs := emptyDirMedia(pod)
	private := []string{"rprivate"}
	term, _ := c["terminationMessagePath"].(string)
	if term == "" {
		term = "/dev/termination-log"
	}
	out[term] = Mount{Type: "bind", Source: "the termination message (terminationMessagePath)"}
	if auto, ok := pod.Spec["automountServiceAccountToken"].(bool); !ok || auto {
		out["/var/run/secrets/kubernetes.io/serviceaccount"] = Mount{Type: "bind", Access: "ro", Propagation: private, Source: "the service account token (automountServiceAccountToken)"}
	}
	for _, v := range im.Config.Volumes {
		out[v] = Mount{Type: "bind", Access: "rw", Propagation: private, Source: "a volume of the image (VOLUME " + v + ")"}
	}
	for i, vm := range list(c["volumeMounts"]) {
		m, _ := vm.(map[string]any)
		path, _ := m["mountPath"].(string)
		if path == "" {
			continue
		}
		access := "rw"
		if ro, _ := m["readOnly"].(bool); ro {
			access = "ro"
		}
		prop := private
		switch m["mountPropagation"] {
		case "HostToContainer":
			prop = []string{"rprivate", "rslave"}
		case "Bidirectional":
			prop = []string{"rprivate", "rshared"}
		}
		name, _ := m["name"].(string)
		medium, emptyDir := emptyDirs[name]
		emptyDir = emptyDir && !subPath(m)
		mount := Mount{Type: "bind", Access: access, Propagation: prop, Source: fmt.Sprintf("volumeMounts[%d] (volume %s)", i, name), EmptyDir: emptyDir && medium != "Memory"}
		switch {
		case emptyDir && medium == "Memory":
			mount.SourceRegex = "^" + ephemeralPath(name) + "$"
		case emptyDir:
			mount.SourceRegex = "^(?:" + localPath(name) + "|" + blockStorageRegex + ")$"
		}
		out[path] = mount
	}
	withSources(out)
	return out
}

// Where kata 3.25.0's shim puts what a container mounts, in the guest
// (src/runtime/virtcontainers/kata_agent.go, fs_share_linux.go):
//   - a file or directory the host has (hosts, resolv.conf, the token,
//     ConfigMap and Secret volumes...) is copied or shared to
//     <shared>/[passthrough/][watchable/]<container id>-<16 chars>-<base
//     name of the destination> (ShareFile; genpolicy-settings.json
//     common.sfprefix reads the 16 chars as [a-z0-9]);
//   - /dev/shm is the sandbox's shm (handleShm);
//   - a memory emptyDir is <sandbox>/ephemeral/<volume>
//     (handleEphemeralStorage), a disk emptyDir <shared>/<sandbox id>/
//     rootfs/local/<volume> (handleLocalStorage), or, in kata's block
//     modes, a sandbox storage named by its device (genpolicy's cases).
const (
	ephemeralDir      = "/run/kata-containers/sandbox/ephemeral/"
	shmSource         = "/run/kata-containers/sandbox/shm"
	copiedRegex       = "^/run/kata-containers/shared/containers/(?:passthrough/)?(?:watchable/)?[^/]+-[a-z0-9]{16}-"
	localDirRegex     = "/run/kata-containers/shared/containers/[0-9a-f]{64}/rootfs/local/"
	blockStorageRegex = "/run/kata-containers/sandbox/storage/[A-Za-z0-9+/]+=*"
)

// emptyDirStorages are the storages of the emptyDirs a container mounts
// (without subPath): a guest-local directory (mode=0777) for a disk one,
// a tmpfs for a memory one, named after the volume, with the pod's
// fsGroup as fsgid when it sets one (the shim passes the host
// directory's group).
func emptyDirStorages(pod Pod, c map[string]any, podSC map[string]any) []Storage {
	fsgid := []string{}
	if g, ok := intField(podSC, "fsGroup"); ok {
		fsgid = []string{fmt.Sprintf("fsgid=%d", g)}
	}
	media := emptyDirMedia(pod)
	out := []Storage{}
	seen := map[string]bool{}
	for _, vm := range list(c["volumeMounts"]) {
		m, _ := vm.(map[string]any)
		name, _ := m["name"].(string)
		medium, ok := media[name]
		if !ok || seen[name] || subPath(m) {
			continue
		}
		seen[name] = true
		if medium == "Memory" {
			out = append(out, Storage{Driver: "ephemeral", Source: "tmpfs", Fstype: "tmpfs",
				MountPoint: "^" + ephemeralPath(name) + "$", Options: fsgid})
		} else {
			out = append(out, Storage{Driver: "local", Source: "local", Fstype: "local",
				MountPoint: "^" + localPath(name) + "$", Options: append([]string{"mode=0777"}, fsgid...)})
		}
	}
	return out
}

// emptyDirMedia maps the pod's emptyDir volumes to their medium ("" on
// disk, "Memory").
func emptyDirMedia(pod Pod) map[string]string {
	media := map[string]string{}
	for _, v := range list(pod.Spec["volumes"]) {
		vm, _ := v.(map[string]any)
		if ed, present := vm["emptyDir"]; present {
			edm, _ := ed.(map[string]any) // emptyDir: {} or null
			name, _ := vm["name"].(string)
			media[name], _ = edm["medium"].(string)
		}
	}
	return media
}

// subPath reports a volumeMount of part of its volume: the kubelet binds
// the subpath from its own directory, which the shim copies like any
// file, not as the emptyDir (kata 3.25.0 mount.go isEmptyDir looks at
// the source's parent).
func subPath(volumeMount map[string]any) bool {
	return volumeMount["subPath"] != nil || volumeMount["subPathExpr"] != nil
}

// ephemeralPath and localPath are regexes of where a memory and a disk
// emptyDir volume are in the guest.
func ephemeralPath(volume string) string { return regexp.QuoteMeta(ephemeralDir + volume) }

func localPath(volume string) string { return localDirRegex + regexp.QuoteMeta(volume) }

// withSources sets the source each bind mount must have unless it has
// one: the sandbox's shm at /dev/shm, else the host's copy of what the
// destination names. So a bind never brings guest-internal data (another
// volume's storage, another container's root) to a container.
func withSources(mounts map[string]Mount) {
	for dest, m := range mounts {
		if m.Type != "bind" || m.SourceRegex != "" {
			continue
		}
		if dest == "/dev/shm" {
			m.SourceRegex = "^" + regexp.QuoteMeta(shmSource) + "$"
		} else {
			m.SourceRegex = copiedRegex + regexp.QuoteMeta(path.Base(dest)) + "$"
		}
		mounts[dest] = m
	}
}

// Settings are the runtime conventions the policy data is derived with
// (settings/settings.json, with a drop-in per container runtime; see
// settings/README.md for their sources).
type Settings struct {
	// Runtime is the node's container runtime, which decides the
	// annotations a container's identity is read from: RuntimeContainerd
	// or RuntimeCRIO.
	Runtime string `json:"runtime"`
	// DefaultNamespace is a pod's namespace when its manifest names none.
	DefaultNamespace string `json:"default_namespace"`
	// DefaultCaps and PrivilegedCaps are a container's capabilities
	// without and with securityContext.privileged.
	DefaultCaps    []string `json:"default_caps"`
	PrivilegedCaps []string `json:"privileged_caps"`
	// DefaultEnv is the environment of an image config without Env.
	DefaultEnv []string `json:"default_env"`
	// Pause is the pause container's process.
	Pause PauseSettings `json:"pause"`
	// RuntimeSysctls are the sysctls the runtime gives every container.
	RuntimeSysctls map[string]string `json:"runtime_sysctls"`
	// CgroupMountOptions are the options the /sys/fs/cgroup mount may
	// carry; nil leaves them unchecked.
	CgroupMountOptions []string `json:"cgroup_mount_options"`
	// EnvRegexes are environment entries the runtime may add to any
	// container (service links, HOSTNAME).
	EnvRegexes []string `json:"env_regexes"`
	// GuestPullRequired: every container's root filesystem must be an
	// image the guest pulls (an image_guest_pull storage), as on peer
	// pods, which share no filesystem with the host.
	GuestPullRequired bool `json:"guest_pull_required"`
	// StoragesChecked: a container's storages other than its image's
	// must be those of its emptyDirs (as on peer pods, where the shim
	// creates no other).
	StoragesChecked bool `json:"storages_checked"`
	// OCIVersions are the OCI runtime spec versions the node's runtime
	// writes (its vendored runtime-spec; a list when the release line's
	// platforms ship several runtime releases); nil leaves them unchecked.
	OCIVersions []string `json:"oci_versions"`
	// RuntimeMounts are the mounts the runtime gives every container,
	// the pause container included; ContainerMounts those it adds to the
	// others (the kubelet's /etc files). Volumes, the service account
	// token, the termination log and image volumes come from the pod spec
	// and the image. nil RuntimeMounts leaves mounts unchecked.
	RuntimeMounts   map[string]Mount `json:"runtime_mounts"`
	ContainerMounts map[string]Mount `json:"container_mounts"`
	// RuntimeDevices are the device paths the runtime gives every
	// container on top of the pod spec's volumeDevices; nil leaves
	// devices other than VFIO unchecked.
	RuntimeDevices []string `json:"runtime_devices"`
	// MaskedPaths and ReadonlyPaths are the paths a container's /proc and
	// /sys hide or make read-only unless it is privileged or asks for
	// procMount Unmasked: the kubelet's defaults (kubernetes v1.31.2
	// pkg/securitycontext/util.go) as far as kata's genpolicy records
	// them (genpolicy-settings.json pause_container.Linux; the kubelet
	// adds /sys/devices/virtual/powercap, which a request may carry on
	// top). nil leaves them unchecked.
	MaskedPaths   []string `json:"masked_paths"`
	ReadonlyPaths []string `json:"readonly_paths"`
}

// PauseSettings are the pause container's process.
type PauseSettings struct {
	Args    []string `json:"args"`
	UID     uint32   `json:"uid"`
	GID     uint32   `json:"gid"`
	AnyUser bool     `json:"any_user"`
	// MaskedPaths and ReadonlyPaths of the pause container (nil:
	// unchecked).
	MaskedPaths   []string `json:"masked_paths"`
	ReadonlyPaths []string `json:"readonly_paths"`
}

// Container runtimes (release.Cluster.ContainerRuntime).
const (
	RuntimeContainerd = "containerd"
	RuntimeCRIO       = "cri-o"
)

//go:embed settings/settings.json
var baseSettings []byte

//go:embed settings/cri-o.json
var crioDropIn []byte

// crioSettings is the base with the CRI-O drop-in applied, once: every
// workload of a render asks for it.
var crioSettings = sync.OnceValue(func() []byte {
	patch, err := jsonpatch.DecodePatch(crioDropIn)
	if err != nil {
		panic(fmt.Sprintf("policies: settings/cri-o.json: %v", err)) // embedded, tested
	}
	doc, err := patch.Apply(baseSettings)
	if err != nil {
		panic(fmt.Sprintf("policies: settings/cri-o.json: %v", err))
	}
	return doc
})

// DefaultSettings are containerd's and kubelet's conventions.
func DefaultSettings() Settings { return SettingsFor(RuntimeContainerd) }

// SettingsFor are the conventions of a container runtime: the base
// settings with the runtime's drop-in applied.
func SettingsFor(runtime string) Settings {
	doc := baseSettings
	if runtime == RuntimeCRIO {
		doc = crioSettings()
	}
	// Decoded on every call, so that no caller shares another's slices.
	var raw struct {
		Settings
		Placeholders map[string]string `json:"placeholders"`
	}
	// Strict: a key in the wrong place is a fact silently not applied.
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		panic(fmt.Sprintf("policies: settings: %v", err)) // embedded, tested
	}
	s := raw.Settings
	for i, re := range s.EnvRegexes {
		for name, value := range raw.Placeholders {
			re = strings.ReplaceAll(re, "$("+name+")", value)
		}
		s.EnvRegexes[i] = re
	}
	return s
}

// identity is what names a container: its type and name, the pod's name
// (a regex body, for generated names) and namespace ("" for any), and
// for a container the image reference as the pod spec (rendered) writes
// it and as the runtime names it.
type identity struct {
	ctype, name, podRegex, namespace, image, imageName string
}

// annotations are the identity's annotation checks for the runtime:
//   - containerd (pkg/cri annotations, as kata's genpolicy reads them):
//     io.kubernetes.cri.container-type, .container-name, .sandbox-name,
//     .sandbox-namespace, .image-name (name@digest, tag dropped);
//   - CRI-O (cri-o v1.32.0 internal/factory/container/container.go and
//     server/sandbox_run_linux.go, pkg/annotations): io.kubernetes.cri-o.
//     ContainerType; for the pause container KubeName (the pod) and
//     Namespace; for a container Name, "k8s_<container>_<pod>_<namespace>
//     _<uid>_<attempt>" (SetNameAndID), and Image, the image the pod spec
//     names (kubelet's UserSpecifiedImage); SandboxName,
//     "k8s_<pod>_<namespace>_<uid>_<attempt>" (lib/sandbox/builder.go),
//     on both.
func (id identity) annotations(runtime string) map[string]string {
	exact := func(s string) string { return "^" + regexp.QuoteMeta(s) + "$" }
	ns := regexp.QuoteMeta(id.namespace)
	if id.namespace == "" {
		ns = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
	}
	m := map[string]string{}
	switch runtime {
	case RuntimeCRIO:
		const uidAttempt = "_[0-9a-f-]+_[0-9]+$"
		m["io.kubernetes.cri-o.ContainerType"] = exact(id.ctype)
		m["io.kubernetes.cri-o.SandboxName"] = "^k8s_" + id.podRegex + "_" + ns + uidAttempt
		if id.ctype == "sandbox" {
			m["io.kubernetes.cri-o.KubeName"] = "^" + id.podRegex + "$"
			if id.namespace != "" {
				m["io.kubernetes.cri-o.Namespace"] = exact(id.namespace)
			}
		} else {
			m["io.kubernetes.cri-o.Name"] = "^k8s_" + regexp.QuoteMeta(id.name) + "_" + id.podRegex + "_" + ns + uidAttempt
			m["io.kubernetes.cri-o.Image"] = exact(id.image)
		}
	default:
		m["io.kubernetes.cri.container-type"] = exact(id.ctype)
		m["io.kubernetes.cri.sandbox-name"] = "^" + id.podRegex + "$"
		if id.namespace != "" {
			m["io.kubernetes.cri.sandbox-namespace"] = exact(id.namespace)
		}
		if id.ctype == "container" {
			m["io.kubernetes.cri.container-name"] = exact(id.name)
			m["io.kubernetes.cri.image-name"] = exact(id.imageName)
		}
	}
	return m
}

// generatedNameChars are the characters the API server appends to a
// generated name (k8s.io/apimachinery util/rand; genpolicy src/yaml.rs
// GENERATE_NAME_SUFFIX_REGEX at kata 3.25.0 takes any number of them).
const generatedNameChars = "[bcdfghjklmnpqrstvwxz2456789]+"

// Probe is an exec probe: the argv the kubelet runs, and the index in
// Containers' result of the container it runs in.
type Probe struct {
	Args      []string `json:"args"`
	Container int      `json:"container"`
}

// Probes are the exec probes of a pod's containers: the only commands the
// kubelet runs in them, each bound to its container's process.
func Probes(pod Pod) []Probe {
	var out []Probe
	i := 0
	for _, field := range []string{"initContainers", "containers"} {
		for _, c := range list(pod.Spec[field]) {
			i++ // Containers puts the pause container first
			cm, _ := c.(map[string]any)
			for _, probe := range []string{"livenessProbe", "readinessProbe", "startupProbe"} {
				p, _ := cm[probe].(map[string]any)
				exec, _ := p["exec"].(map[string]any)
				if argv := stringList(exec["command"]); len(argv) > 0 {
					out = append(out, Probe{Args: argv, Container: i})
				}
			}
		}
	}
	return out
}

// Containers derives the expected containers of a pod: the pause
// container, then the init containers and containers in order. Every
// image must be in the lock; an error names the ones that are not.
func Containers(pod Pod, lock *imagelock.Lock, s Settings) ([]Container, error) {
	podRegex := regexp.QuoteMeta(pod.Name)
	switch {
	case pod.NamePattern != "":
		podRegex = pod.NamePattern
	case pod.Name == "" && pod.GenerateName != "":
		podRegex = regexp.QuoteMeta(pod.GenerateName) + generatedNameChars
	}
	base := Container{CgroupMountOptions: s.CgroupMountOptions, GuestPullRequired: s.GuestPullRequired, OCIVersions: s.OCIVersions}
	podSC, _ := pod.Spec["securityContext"].(map[string]any)
	sysctls := map[string]string{}
	for k, v := range s.RuntimeSysctls {
		sysctls[k] = v
	}
	for _, sc := range list(podSC["sysctls"]) {
		m, _ := sc.(map[string]any)
		name, _ := m["name"].(string)
		sysctls[name] = scalarString(m["value"])
	}

	pause := base
	pause.Type = "sandbox"
	pause.Annotations = identity{ctype: "sandbox", podRegex: podRegex, namespace: pod.Namespace}.annotations(s.Runtime)
	pause.Source = "the pause container (spec.securityContext, the runtime's defaults)"
	pause.Sysctls = sysctls
	pause.MaskedPaths, pause.ReadonlyPaths = s.Pause.MaskedPaths, s.Pause.ReadonlyPaths
	if s.RuntimeMounts != nil {
		pause.Mounts = maps.Clone(s.RuntimeMounts)
		withSources(pause.Mounts)
	}
	if s.RuntimeDevices != nil {
		pause.DevicePaths = slices.Clone(s.RuntimeDevices)
	}
	uid, gid := s.Pause.UID, s.Pause.GID
	_, userSet := intField(podSC, "runAsUser")
	if v, ok := intField(podSC, "runAsUser"); ok {
		uid = v
	}
	if v, ok := intField(podSC, "runAsGroup"); ok {
		gid = v
	}
	pause.RootReadonly = true
	if s.StoragesChecked {
		pause.Storages = []Storage{}
	}
	// kata 3.25.0 src/runtime/virtcontainers/kata_agent.go
	// handleImageGuestPullBlockVolume: the pause container's image is
	// "pause", which the agent unpacks from the guest's own.
	pause.ImageSources = []string{"pause"}
	pause.Process = Process{Args: s.Pause.Args, Env: s.DefaultEnv, Cwd: "/", UID: uid, GID: gid,
		AdditionalGIDs: additional(gid, podSC), Capabilities: s.DefaultCaps, NoNewPrivileges: true, EnvRegexes: []string{},
		AnyUser: s.Pause.AnyUser && !userSet}
	out := []Container{pause}

	var missing []string
	for _, field := range []string{"initContainers", "containers"} {
		for i, c := range list(pod.Spec[field]) {
			cm, _ := c.(map[string]any)
			image, _ := cm["image"].(string)
			locked, ok := lock.Find(image)
			if !ok {
				missing = append(missing, image)
				continue
			}
			ctr, err := container(base, pod, cm, locked, podSC, sysctls, s)
			if err != nil {
				return nil, err
			}
			ctr.Annotations = identity{ctype: "container", name: ctr.Name, podRegex: podRegex, namespace: pod.Namespace,
				image: pinnedReference(locked), imageName: imageName(locked)}.annotations(s.Runtime)
			ctr.ImageSources = guestPullSources(locked, s.Runtime)
			ctr.Source = fmt.Sprintf("spec.%s[%d] (%s, image %s)", field, i, ctr.Name, image)
			out = append(out, ctr)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("images not in the image lock (run cocogen images lock): %s", strings.Join(slices.Compact(slices.Sorted(slices.Values(missing))), ", "))
	}
	return out, nil
}

func container(base Container, pod Pod, c map[string]any, im *imagelock.Image, podSC map[string]any, sysctls map[string]string, s Settings) (Container, error) {
	out := base
	out.Type = "container"
	out.Name, _ = c["name"].(string)
	out.Sysctls = sysctls
	sc, _ := c["securityContext"].(map[string]any)

	// Kubernetes' rule (and genpolicy's): command replaces the
	// entrypoint and drops the image's cmd; args replace cmd.
	command, args := stringList(c["command"]), stringList(c["args"])
	var argv []string
	switch {
	case c["command"] != nil:
		argv = append(command, args...)
	case c["args"] != nil:
		argv = append(slices.Clone(im.Config.Entrypoint), args...)
	default:
		argv = append(slices.Clone(im.Config.Entrypoint), im.Config.Cmd...)
	}

	env, regexes, err := environment(pod, c, im, s)
	if err != nil {
		return Container{}, fmt.Errorf("container %s: %w", out.Name, err)
	}

	uid, gid, groups := user(im, podSC, sc)
	caps := s.DefaultCaps
	out.MaskedPaths, out.ReadonlyPaths = s.MaskedPaths, s.ReadonlyPaths
	privileged, _ := sc["privileged"].(bool)
	if privileged {
		caps = s.PrivilegedCaps
	}
	// Privileged containers and procMount Unmasked get no masked or
	// read-only paths (kubernetes pkg/securitycontext/util.go
	// ConvertToRuntimeMaskedPaths; cri-o v1.32.0
	// internal/factory/container/container.go, containerd's CRI plugin
	// likewise for privileged).
	if pm, _ := sc["procMount"].(string); (privileged || pm == "Unmasked") && s.MaskedPaths != nil {
		out.MaskedPaths, out.ReadonlyPaths = []string{}, []string{}
	}
	caps = adjustCaps(caps, sc)
	cwd := im.Config.WorkingDir
	if w, _ := c["workingDir"].(string); w != "" {
		cwd = w
	}
	if cwd == "" {
		cwd = "/"
	}
	nnp := false
	if v, ok := sc["allowPrivilegeEscalation"].(bool); ok && !v {
		nnp = true
	}
	resources, _ := c["resources"].(map[string]any)
	limits, _ := resources["limits"].(map[string]any)
	if n, ok := toUint(limits["nvidia.com/pgpu"]); ok {
		out.GPUs = int(n)
	}
	if s.RuntimeMounts != nil {
		out.Mounts = containerMounts(pod, c, im, s, privileged)
	}
	if s.StoragesChecked {
		out.Storages = emptyDirStorages(pod, c, podSC)
	}
	if privileged && out.CgroupMountOptions != nil {
		// ...and their cgroup mount rw, rslave on CRI-O.
		out.CgroupMountOptions = append(slices.Clone(out.CgroupMountOptions), "rw", "rslave")
	}
	if s.RuntimeDevices != nil {
		out.DevicePaths = slices.Clone(s.RuntimeDevices)
		for _, vd := range list(c["volumeDevices"]) {
			m, _ := vd.(map[string]any)
			if p, _ := m["devicePath"].(string); p != "" {
				out.DevicePaths = append(out.DevicePaths, p)
			}
		}
	}
	out.RootReadonly, _ = sc["readOnlyRootFilesystem"].(bool)
	tty, _ := c["tty"].(bool)
	out.Process = Process{Args: argv, Env: env, EnvRegexes: regexes, Cwd: cwd, UID: uid, GID: gid, AdditionalGIDs: groups,
		Capabilities: caps, NoNewPrivileges: nnp, Terminal: tty}
	return out, nil
}

// pinnedReference is the image as cocogen renders it in the pod spec:
// the reference, with the locked digest appended unless it has one.
func pinnedReference(im *imagelock.Image) string {
	if strings.Contains(im.Reference, "@") {
		return im.Reference
	}
	return im.Reference + "@" + im.Digest
}

// imageName is the image name annotation the runtime sets for the image
// pinned to its locked digest (cocogen writes workloads' images as
// reference@digest): containerd names such an image name@digest, without
// the tag (as kata's test requests for digest references show).
func imageName(im *imagelock.Image) string {
	name, digest, pinned := strings.Cut(im.Reference, "@")
	if !pinned {
		digest = im.Digest
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	return name + "@" + digest
}

// guestPullSources are the names the node's runtime gives the guest to
// pull the locked image by: kata 3.25.0's shim takes the image_guest_pull
// storage's source from the runtime's annotation
// (src/runtime/virtcontainers/kata_agent.go handleImageGuestPullBlockVolume):
//   - containerd: io.kubernetes.cri.image-name, name@digest (imageName);
//   - CRI-O: io.kubernetes.cri-o.ImageName, "some name" of the image in
//     the node's storage, normalized (cri-o v1.32.0 internal/storage/
//     image.go parseImageNames): a tag name when the node knows one for
//     that image, else a digest name. So the locked tag is allowed as
//     well as the digest: the host cannot make the guest pull another
//     repository or tag, but a tag the registry moves after locking is
//     not caught here (an image signature policy catches it).
func guestPullSources(im *imagelock.Image, runtime string) []string {
	if runtime != RuntimeCRIO {
		return []string{imageName(im)}
	}
	named, err := reference.ParseNormalizedNamed(im.Reference)
	if err != nil {
		return []string{imageName(im)} // the lock's references are validated; unreachable
	}
	repo := reference.TrimNamed(named).String()
	_, digest, _ := strings.Cut(pinnedReference(im), "@")
	out := []string{repo + "@" + digest}
	if tagged, ok := named.(reference.Tagged); ok {
		out = append(out, repo+":"+tagged.Tag())
	}
	return out
}

// environment is the container's expected environment: the image's (or
// the default), overridden by the pod spec's entries by name. Values the
// policy cannot know exactly become regexes.
func environment(pod Pod, c map[string]any, im *imagelock.Image, s Settings) ([]string, []string, error) {
	env := slices.Clone(im.Config.Env)
	if im.Config.NoEnv {
		env = slices.Clone(s.DefaultEnv)
	}
	regexes := slices.Clone(s.EnvRegexes)
	set := func(name, value string) {
		for i, e := range env {
			if strings.HasPrefix(e, name+"=") {
				env[i] = name + "=" + value
				return
			}
		}
		env = append(env, name+"="+value)
	}
	for _, e := range list(c["env"]) {
		m, _ := e.(map[string]any)
		name, _ := m["name"].(string)
		if v, ok := m["value"]; ok {
			set(name, scalarString(v))
			continue
		}
		from, _ := m["valueFrom"].(map[string]any)
		switch {
		case from["fieldRef"] != nil:
			ref, _ := from["fieldRef"].(map[string]any)
			path, _ := ref["fieldPath"].(string)
			if v, ok := fieldValue(pod, path); ok {
				set(name, v)
			} else {
				regexes = append(regexes, "^"+regexp.QuoteMeta(name)+"=.*$")
			}
		case from["configMapKeyRef"] != nil:
			ref, _ := from["configMapKeyRef"].(map[string]any)
			cmName, _ := ref["name"].(string)
			key, _ := ref["key"].(string)
			ns := pod.Namespace
			if ns == "" {
				ns = s.DefaultNamespace
			}
			if v, ok := pod.ConfigMaps[ns+"/"+cmName][key]; ok {
				set(name, v)
			} else {
				return nil, nil, fmt.Errorf("env %s: ConfigMap %s/%s key %s is not in the render, so its value cannot be bound", name, ns, cmName, key)
			}
		default:
			// A Secret's value (or a resource quantity): matched by name
			// only, never baked into the policy.
			regexes = append(regexes, "^"+regexp.QuoteMeta(name)+"=.*$")
		}
	}
	return env, regexes, nil
}

// fieldValue resolves the downward API fields known before the pod runs.
func fieldValue(pod Pod, path string) (string, bool) {
	switch {
	case path == "metadata.name" && pod.Name != "":
		return pod.Name, true
	case path == "metadata.namespace":
		return pod.Namespace, pod.Namespace != ""
	case strings.HasPrefix(path, "metadata.labels['") && strings.HasSuffix(path, "']"):
		v, ok := pod.Labels[strings.TrimSuffix(strings.TrimPrefix(path, "metadata.labels['"), "']")]
		return v, ok
	}
	return "", false
}

// user is the container's uid, gid and additional gids, as containerd
// derives them (pkg/oci WithUser, WithAdditionalGIDs; genpolicy src/pod.rs
// and registry.rs at kata 3.25.0): the uid is the image user's (a number,
// or a name looked up in the image's /etc/passwd; the group part of
// "user:group" is not used, as in genpolicy), replaced by runAsUser; the
// gid is the uid's /etc/passwd group (else 0), replaced by runAsGroup; the
// additional gids are the gid, the /etc/group groups listing the user,
// fsGroup and supplementalGroups.
func user(im *imagelock.Image, podSC, sc map[string]any) (uint32, uint32, []uint32) {
	var uid, gid uint32
	if u := im.Config.User; u != "" {
		name, _, _ := strings.Cut(u, ":")
		if n, err := strconv.ParseUint(name, 10, 32); err == nil {
			uid = uint32(n)
		} else {
			for _, rec := range im.Users {
				if rec.Name == name {
					uid = rec.UID
				}
			}
		}
	}
	for _, m := range []map[string]any{podSC, sc} {
		if v, ok := intField(m, "runAsUser"); ok {
			uid = v
		}
	}
	userName := ""
	for _, rec := range im.Users {
		if rec.UID == uid {
			gid, userName = rec.GID, rec.Name
			break
		}
	}
	for _, m := range []map[string]any{podSC, sc} {
		if v, ok := intField(m, "runAsGroup"); ok {
			gid = v
		}
	}
	gids := additional(gid, podSC)
	if userName != "" {
		for _, g := range im.Groups {
			if slices.Contains(g.Members, userName) {
				gids = append(gids, g.GID)
			}
		}
		slices.Sort(gids)
		gids = slices.Compact(gids)
	}
	return uid, gid, gids
}

// additional is the additional gids: the primary gid, fsGroup and
// supplementalGroups, sorted and distinct.
func additional(gid uint32, podSC map[string]any) []uint32 {
	out := []uint32{gid}
	if v, ok := intField(podSC, "fsGroup"); ok {
		out = append(out, v)
	}
	for _, g := range list(podSC["supplementalGroups"]) {
		if n, ok := toUint(g); ok {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func adjustCaps(caps []string, sc map[string]any) []string {
	c, _ := sc["capabilities"].(map[string]any)
	out := slices.Clone(caps)
	for _, d := range stringList(c["drop"]) {
		if d == "ALL" {
			out = nil
			break
		}
		out = slices.DeleteFunc(out, func(x string) bool { return x == "CAP_"+d || x == d })
	}
	for _, a := range stringList(c["add"]) {
		if !strings.HasPrefix(a, "CAP_") {
			a = "CAP_" + a
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func intField(m map[string]any, k string) (uint32, bool) {
	if m == nil {
		return 0, false
	}
	return toUint(m[k])
}

func toUint(v any) (uint32, bool) {
	switch x := v.(type) {
	case int:
		return uint32(x), x >= 0
	case int64:
		return uint32(x), x >= 0
	case float64:
		return uint32(x), x >= 0
	case fmt.Stringer:
		n, err := strconv.ParseUint(x.String(), 10, 32)
		return uint32(n), err == nil
	case string:
		n, err := strconv.ParseUint(x, 10, 32)
		return uint32(n), err == nil
	}
	return 0, false
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

// PodFromObject is the pod a workload object runs: a Pod itself, or the
// pod template of a Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
// CronJob or ReplicationController, whose pods get generated names.
// configMaps are the render's ConfigMaps by namespace/name.
func PodFromObject(obj map[string]any, configMaps map[string]map[string]string) (Pod, bool) {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	path, ok := initdata.PodTemplatePath(apiVersion, kind)
	if !ok {
		return Pod{}, false
	}
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	ns, _ := meta["namespace"].(string)
	tmpl := obj
	for _, k := range path {
		tmpl, _ = tmpl[k].(map[string]any)
	}
	tmeta, _ := tmpl["metadata"].(map[string]any)
	pod := Pod{Namespace: ns, ConfigMaps: configMaps, Labels: map[string]string{}}
	pod.Spec, _ = tmpl["spec"].(map[string]any)
	labels, _ := tmeta["labels"].(map[string]any)
	for k, v := range labels {
		pod.Labels[k], _ = v.(string)
	}
	switch kind {
	case "Pod":
		pod.Name = name
		pod.GenerateName, _ = meta["generateName"].(string)
	case "Deployment", "DeploymentConfig":
		// <name>-<pod-template-hash>-<suffix> (the ReplicaSet's name is
		// <name>-<hash>).
		pod.NamePattern = regexp.QuoteMeta(name+"-") + generatedNameChars + "-" + generatedNameChars
	case "CronJob":
		// <name>-<scheduled time>-<suffix>.
		pod.NamePattern = regexp.QuoteMeta(name+"-") + "[0-9]+-" + generatedNameChars
	case "StatefulSet":
		pod.NamePattern = regexp.QuoteMeta(name+"-") + "[0-9]+"
	default:
		pod.NamePattern = regexp.QuoteMeta(name+"-") + generatedNameChars
	}
	return pod, true
}
