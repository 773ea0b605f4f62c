package policies

import (
	"fmt"
	"maps"
	"slices"
)

// This file describes the kata agent API requests as the agent hands them to
// its policy engine, so that tests can build complete inputs.
//
// The agent serialises each protobuf request with serde: every field is
// present, with its proto3 default when unset (an empty string, an empty
// list, false, 0), an unset sub-message is null, and field names are the
// proto names (a field named "type" becomes "type_"). The genpolicy test
// cases omit fields; fillDefaults adds them back the same way, from the
// per-request schemas below (agent.proto and types.proto). The agent adds
// two derived fields to CopyFileRequest, file_type and symlink_target,
// which default to "" here. Fields not in a schema are kept as they are.

// msg is the schema of a message: field name -> default value, or a nested
// msg, rep or opaque.
type msg map[string]any

// rep is a repeated message field: absent -> [], elements filled by the msg.
type rep struct{ of msg }

// opaque is a message (or optional scalar) field kept as it is: absent -> null.
type opaque struct{}

var (
	stringUserMsg = msg{"uid": "", "gid": "", "additionalGids": []any{}}
	userMsg       = msg{"UID": 0, "GID": 0, "AdditionalGids": []any{}, "Username": ""}
	processMsg    = msg{
		"Terminal": false, "ConsoleSize": opaque{}, "User": userMsg, "Args": []any{},
		"Env": []any{}, "Cwd": "", "Capabilities": opaque{}, "Rlimits": []any{},
		"NoNewPrivileges": false, "ApparmorProfile": "", "OOMScoreAdj": 0, "SelinuxLabel": "",
	}
	storageMsg = msg{
		"driver": "", "driver_options": []any{}, "source": "", "fstype": "",
		"options": []any{}, "mount_point": "", "fs_group": msg{"group_id": 0, "group_change_policy": 0},
	}
	deviceMsg      = msg{"id": "", "type_": "", "vm_path": "", "container_path": "", "options": []any{}}
	sharedMountMsg = msg{"name": "", "src_ctr": "", "src_path": "", "dst_ctr": "", "dst_path": ""}
	ipAddressMsg   = msg{"family": 0, "address": "", "mask": ""}
	interfaceMsg   = msg{
		"device": "", "name": "", "IPAddresses": rep{ipAddressMsg}, "mtu": 0,
		"hwAddr": "", "pciPath": "", "type_": "", "raw_flags": 0,
	}
	routeMsg        = msg{"dest": "", "gateway": "", "device": "", "source": "", "scope": 0, "family": 0}
	arpNeighborMsg  = msg{"toIPAddress": ipAddressMsg, "device": "", "lladdr": "", "state": 0, "flags": 0}
	kernelModuleMsg = msg{"name": "", "parameters": []any{}}
	containerMsg    = msg{"container_id": ""}
	execMsg         = msg{"container_id": "", "exec_id": ""}
	ports           = msg{"stdin_port": 0, "stdout_port": 0, "stderr_port": 0}
	guestDetailsMsg = msg{"mem_block_size": false, "mem_hotplug_probe": false}
	volumeStatsMsg  = msg{"volume_guest_path": ""}
)

func merge(ms ...msg) msg {
	out := msg{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

// requestSchemas has one entry per request name the agent can ask the
// policy about: every message of the current AgentService, plus
// GetGuestDetailsRequest and GetVolumeStatsRequest (RPC-derived aliases of
// GuestDetailsRequest and VolumeStatsRequest) and the tracing requests of
// older agents.
var requestSchemas = map[string]msg{
	"AddARPNeighborsRequest": {"neighbors": msg{"ARPNeighbors": rep{arpNeighborMsg}}},
	"AddSwapPathRequest":     {"path": ""},
	"AddSwapRequest":         {"PCIPath": []any{}},
	"CloseStdinRequest":      execMsg,
	"CopyFileRequest": {
		"path": "", "file_size": 0, "file_mode": 0, "dir_mode": 0, "uid": 0, "gid": 0,
		"offset": 0, "data": []any{}, "file_type": "", "symlink_target": "",
	},
	"CreateContainerRequest": merge(ports, msg{
		"container_id": "", "exec_id": "", "string_user": stringUserMsg,
		"devices": rep{deviceMsg}, "storages": rep{storageMsg}, "OCI": opaque{},
		"sandbox_pidns": false, "shared_mounts": rep{sharedMountMsg},
	}),
	"CreateSandboxRequest": {
		"hostname": "", "dns": []any{}, "storages": rep{storageMsg}, "sandbox_pidns": false,
		"sandbox_id": "", "guest_hook_path": "", "kernel_modules": rep{kernelModuleMsg},
	},
	"DestroySandboxRequest": {},
	"ExecProcessRequest": merge(ports, msg{
		"container_id": "", "exec_id": "", "string_user": stringUserMsg, "process": processMsg,
	}),
	"GetDiagnosticDataRequest": {},
	"GetGuestDetailsRequest":   guestDetailsMsg,
	"GetIPTablesRequest":       {"is_ipv6": false},
	"GetMetricsRequest":        {},
	"GetOOMEventRequest":       {},
	"GetVolumeStatsRequest":    volumeStatsMsg,
	"GuestDetailsRequest":      guestDetailsMsg,
	"ListInterfacesRequest":    {},
	"ListRoutesRequest":        {},
	"MemAgentCompactConfig": {
		"disabled": opaque{}, "period_secs": opaque{}, "period_psi_percent_limit": opaque{},
		"compact_psi_percent_limit": opaque{}, "compact_sec_max": opaque{},
		"compact_order": opaque{}, "compact_threshold": opaque{}, "compact_force_times": opaque{},
	},
	"MemAgentMemcgConfig": {
		"disabled": opaque{}, "swap": opaque{}, "swappiness_max": opaque{}, "period_secs": opaque{},
		"period_psi_percent_limit": opaque{}, "eviction_psi_percent_limit": opaque{},
		"eviction_run_aging_count_min": opaque{},
	},
	"MemHotplugByProbeRequest":              {"memHotplugProbeAddr": []any{}},
	"OnlineCPUMemRequest":                   {"wait": false, "nb_cpus": 0, "cpu_only": false},
	"PauseContainerRequest":                 containerMsg,
	"ReadStreamRequest":                     merge(execMsg, msg{"len": 0}),
	"RemoveContainerRequest":                {"container_id": "", "timeout": 0},
	"RemoveStaleVirtiofsShareMountsRequest": {},
	"ReseedRandomDevRequest":                {"data": []any{}},
	"ResizeVolumeRequest":                   {"volume_guest_path": "", "size": 0},
	"ResumeContainerRequest":                containerMsg,
	"SetGuestDateTimeRequest":               {"Sec": 0, "Usec": 0},
	"SetIPTablesRequest":                    {"is_ipv6": false, "data": []any{}},
	"SetPolicyRequest":                      {"policy": ""},
	"SignalProcessRequest":                  merge(execMsg, msg{"signal": 0}),
	"StartContainerRequest":                 containerMsg,
	"StartTracingRequest":                   {},
	"StatsContainerRequest":                 containerMsg,
	"StopTracingRequest":                    {},
	"TtyWinResizeRequest":                   merge(execMsg, msg{"row": 0, "column": 0}),
	"UpdateContainerRequest":                {"container_id": "", "resources": opaque{}},
	"UpdateEphemeralMountsRequest":          {"storages": rep{storageMsg}},
	"UpdateInterfaceRequest":                {"interface": interfaceMsg},
	"UpdateRoutesRequest":                   {"routes": msg{"Routes": rep{routeMsg}}},
	"VolumeStatsRequest":                    volumeStatsMsg,
	"WaitProcessRequest":                    execMsg,
	"WriteStreamRequest":                    merge(execMsg, msg{"data": []any{}}),
}

// agentRequests returns every request name, sorted.
func agentRequests() []string {
	return slices.Sorted(maps.Keys(requestSchemas))
}

// fillDefaults returns a copy of req with the absent fields of the named
// request set to what the agent would send.
func fillDefaults(kind string, req map[string]any) (map[string]any, error) {
	schema, ok := requestSchemas[kind]
	if !ok {
		return nil, fmt.Errorf("unknown request kind %q", kind)
	}
	return fillMsg(schema, req), nil
}

func fillMsg(schema msg, in map[string]any) map[string]any {
	out := maps.Clone(in)
	if out == nil {
		out = map[string]any{}
	}
	for name, def := range schema {
		v, present := in[name]
		switch d := def.(type) {
		case msg:
			if m, ok := v.(map[string]any); ok {
				out[name] = fillMsg(d, m)
			} else if !present {
				out[name] = nil
			}
		case rep:
			if list, ok := v.([]any); ok {
				filled := make([]any, len(list))
				for i, e := range list {
					if m, ok := e.(map[string]any); ok {
						filled[i] = fillMsg(d.of, m)
					} else {
						filled[i] = e
					}
				}
				out[name] = filled
			} else if !present || v == nil {
				out[name] = []any{}
			}
		case opaque:
			if !present {
				out[name] = nil
			}
		case []any:
			if !present || v == nil {
				out[name] = []any{}
			}
		default:
			if !present {
				out[name] = d
			}
		}
	}
	return out
}
