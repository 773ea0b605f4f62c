package policies

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Profile names a policy variant.
type Profile string

const (
	// ExecDeny is Options' zero value: an explicit decision for every
	// agent request, deny by default, exec refused unless allow-listed.
	// It is named for what it enforces: it does not bind the containers a
	// pod may create (see rego/exec-deny.rego's header).
	ExecDeny Profile = "exec-deny"
	// Workload is exec-deny bound to one pod spec: CreateContainerRequest
	// must match one of Options.Containers (see workload.go).
	Workload Profile = "workload"
	// Debug allows every request, including SetPolicyRequest and any exec.
	// It gives no confidentiality; callers should print a warning when
	// Profile.Permissive reports true.
	Debug Profile = "debug"
)

// Profiles returns the known profiles, Options' zero value first.
func Profiles() []Profile { return []Profile{ExecDeny, Workload, Debug} }

// Permissive reports whether the profile lets the host do anything in the
// guest. It is true for Debug; callers should warn the user.
func (p Profile) Permissive() bool { return p == Debug }

// Options selects a profile and sets its tunables. The zero value renders
// the exec-deny profile with logs allowed, stdin and exec refused.
type Options struct {
	// Profile to render; empty means ExecDeny.
	Profile Profile
	// AllowedExec lists the exact argv lists that ExecProcessRequest may
	// run (exec-deny profile). A request must equal one list in full: a
	// prefix or a superset of a listed argv is refused.
	AllowedExec [][]string
	// AllowLogs controls ReadStreamRequest (container stdout/stderr);
	// nil means true.
	AllowLogs *bool
	// AllowStdin controls WriteStreamRequest and CloseStdinRequest
	// (container stdin).
	AllowStdin bool
	// Containers are the containers the workload profile allows (see
	// Containers); required by it, refused by the others.
	Containers []Container
	// Probes are the workload's exec probes (see Probes), allowed with
	// their container's process only.
	Probes []Probe
}

//go:embed rego/exec-deny.rego
var execDenyRego string

//go:embed rego/workload-header.rego
var workloadHeader string

//go:embed rego/debug.rego
var debugRego string

// policyDataPrefix starts the last statement of every rendered policy. The
// rest of the text after it is the policy_data JSON object.
const policyDataPrefix = "policy_data := "

// Render returns the full Rego text of the policy for opts. The text ends
// with the statement `policy_data := {...}` whose value is a JSON object
// (keys sorted, two-space indent; a string too long for regorus 0.9's
// lines written as a concat of pieces, see lines.go) followed by a
// newline. The same options
// always give the same bytes: AllowedExec is sorted and deduplicated.
func Render(opts Options) (string, error) {
	profile := opts.Profile
	if profile == "" {
		profile = ExecDeny
	}
	var rules string
	switch profile {
	case ExecDeny:
		rules = execDenyRego
	case Workload:
		if len(opts.Containers) == 0 {
			return "", fmt.Errorf("policies: the workload profile needs the pod's containers")
		}
		// The workload profile is exec-deny's rules under its own
		// header, saying what it binds.
		_, body, _ := strings.Cut(execDenyRego, "\npackage agent_policy\n")
		rules = workloadHeader + "\npackage agent_policy\n" + body
	case Debug:
		rules = debugRego
	default:
		return "", fmt.Errorf("policies: unknown profile %q (known: %s)", opts.Profile, profileList())
	}
	allowedExec, err := normalizeExec(opts.AllowedExec)
	if err != nil {
		return "", err
	}
	allowLogs := true
	if opts.AllowLogs != nil {
		allowLogs = *opts.AllowLogs
	}

	if profile != Workload && len(opts.Containers) > 0 {
		return "", fmt.Errorf("policies: profile %s binds no containers; use %s", profile, Workload)
	}
	data := policyData(profile, allowedExec, allowLogs, opts.AllowStdin)
	// exec-deny and debug list no containers (and bind none); the key is
	// there so that the rules type-check against one shape of data.
	data["containers"] = []Container{}
	probes := opts.Probes
	if probes == nil {
		probes = []Probe{}
	}
	data["exec_process"].(map[string]any)["probes"] = probes
	if profile == Workload {
		data["containers"] = opts.Containers
		data["create_container"].(map[string]any)["bind_containers"] = true
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(data); err != nil { // Encode appends the final newline.
		return "", fmt.Errorf("policies: encoding policy_data: %w", err)
	}
	dataText, err := splitLongStrings(buf.String())
	if err != nil {
		return "", err
	}
	return strings.TrimRight(rules, "\n") + "\n\n" + policyDataPrefix + dataText, nil
}

func profileList() string {
	names := make([]string, 0, len(Profiles()))
	for _, p := range Profiles() {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}

// normalizeExec validates the argv lists and returns a sorted, deduplicated
// copy, never nil (so it renders as [] rather than null).
func normalizeExec(in [][]string) ([][]string, error) {
	out := make([][]string, 0, len(in))
	for i, argv := range in {
		if len(argv) == 0 {
			return nil, fmt.Errorf("policies: AllowedExec[%d] is an empty argv; list the full command, e.g. [\"/bin/sh\", \"-c\", \"date\"]", i)
		}
		out = append(out, slices.Clone(argv))
	}
	slices.SortFunc(out, slices.Compare)
	return slices.CompactFunc(out, slices.Equal), nil
}

// Loopback addresses the host must not route from, assign or map:
// 127.0.0.0/8, ::1 in any zero-compressed spelling, and IPv4-mapped 127/8.
var loopbackRegexes = []string{
	`^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$`,
	`^[0:]*:0{0,3}1$`,
	`^[0:]*:[fF]{4}:127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$`,
}

// policyData builds the policy_data object. Maps encode with sorted keys,
// so the JSON is stable. Each entry is read by the matching rule in
// rego/exec-deny.rego; the debug rules ignore everything but are given the
// same data so attestation claims have one shape.
func policyData(profile Profile, allowedExec [][]string, allowLogs, allowStdin bool) map[string]any {
	return map[string]any{
		"profile": string(profile),
		// AddARPNeighborsRequest.
		"add_arp_neighbors": map[string]any{
			"forbidden_devices":         []string{"lo"},
			"forbidden_address_regexes": loopbackRegexes,
			// NUD_REACHABLE (2), NUD_PERMANENT (128).
			"allowed_states": []int{2, 128},
			// NTF_PROXY (8) | NTF_ROUTER (128).
			"allowed_flags": 8 | 128,
		},
		// CopyFileRequest: where the runtime puts files it copies for
		// container mounts when no shared filesystem is used:
		// <shared dir>[/passthrough]/[watchable/]<64-hex container id>-<16 hex>-<name>.
		"copy_file": map[string]any{
			"path_prefix_regexes": []string{
				`^/run/kata-containers/shared/containers/(?:passthrough/)?(?:watchable/)?[0-9a-f]{64}-[0-9a-f]{16}-`,
			},
			// The entry directly after the prefix.
			"top_level_file_types": []string{"Directory", "Regular"},
			// Entries inside a copied directory (ConfigMap/Secret trees).
			"nested_file_types": []string{"Directory", "Regular", "Symlink"},
		},
		// CreateContainerRequest: capabilities that let a container escape
		// into the VM or read other containers' memory.
		"create_container": map[string]any{
			"bind_containers": false,
			// Where VFIO passthrough devices appear in a container (kata
			// 3.25.0 genpolicy-settings.json devices.vfio.device_path).
			"vfio_prefix": "/dev/vfio/devices/vfio",
			"forbidden_capabilities": []string{
				"CAP_BPF",
				"CAP_DAC_READ_SEARCH",
				"CAP_MAC_ADMIN",
				"CAP_MAC_OVERRIDE",
				"CAP_PERFMON",
				"CAP_SYSLOG",
				"CAP_SYS_ADMIN",
				"CAP_SYS_BOOT",
				"CAP_SYS_MODULE",
				"CAP_SYS_PTRACE",
				"CAP_SYS_RAWIO",
			},
		},
		// CreateSandboxRequest: the only storage the runtime passes is the
		// pod's /dev/shm tmpfs.
		"create_sandbox": map[string]any{
			"allowed_storages": []map[string]any{{
				"driver":      "ephemeral",
				"source":      "shm",
				"fstype":      "tmpfs",
				"mount_point": "/run/kata-containers/sandbox/shm",
				"option_regexes": []string{
					"^noexec$", "^nosuid$", "^nodev$", "^mode=1777$", "^size=[0-9]+$",
				},
			}},
		},
		// ExecProcessRequest: exact argv lists.
		"exec_process": map[string]any{
			"allowed_commands": allowedExec,
		},
		// ReadStreamRequest (logs), WriteStreamRequest and CloseStdinRequest (stdin).
		"streams": map[string]any{
			"allow_logs":  allowLogs,
			"allow_stdin": allowStdin,
		},
		// UpdateInterfaceRequest.
		"update_interface": map[string]any{
			"forbidden_names":           []string{"lo"},
			"forbidden_hw_addrs":        []string{"00:00:00:00:00:00"},
			"forbidden_address_regexes": loopbackRegexes,
			// IFF_NOARP (128).
			"allowed_raw_flags": 128,
		},
		// UpdateRoutesRequest.
		"update_routes": map[string]any{
			"forbidden_devices":        []string{"lo"},
			"forbidden_source_regexes": loopbackRegexes,
		},
	}
}
