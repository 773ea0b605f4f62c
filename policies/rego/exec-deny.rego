# cocogen agent policy, profile "exec-deny".
#
# What it enforces: the host cannot run commands in the containers
# (ExecProcessRequest only for the exact argv lists in policy_data),
# cannot replace this policy (SetPolicyRequest), cannot write files into
# the guest except the pod's own configuration (CopyFileRequest paths),
# cannot route, address or ARP-map loopback, cannot write to containers'
# stdin unless allowed, cannot read their stdout/stderr when logs are
# refused, and cannot give a container hooks, the host's PID namespace or
# escape capabilities.
#
# What it does NOT check: which containers the pod creates. Image,
# command, arguments, environment, user, mounts and the other
# capabilities of a CreateContainerRequest are not compared with the pod
# spec, so a host that reuses this init-data can start a container of its
# own choosing in the confidential VM, and that container can ask the
# confidential data hub for the KBS resources the init-data's attestation
# releases. Bind workloads with a per-workload policy where that matters.
#
# The Kata agent inside the confidential VM asks this policy about every
# agent API request. The agent queries data.agent_policy.<MessageName> with
# the request, serialised to JSON, as input, and allows the request only
# if the result is true.
#
# Tunable values live in the policy_data object at the end of the file.
# Trustee reads that object as JSON for attestation claims, so it must
# stay the last statement. cocogen renders it.
#
# Deny by default: a request that is not listed here, or whose rule
# cannot be evaluated, is refused.

package agent_policy

# A no-op for OPA 1.x. Engines that still parse Rego v0 by default (for
# example regorus in some agent builds) need it to accept if/contains/in/every.
import rego.v1

# When true the agent allows requests the policy refuses. Never here.
default AllowRequestsFailingPolicy := false

# ---------------------------------------------------------------------------
# Requests allowed without further checks: sandbox/container lifecycle and
# read-only status calls. They let the host run the pod but give it no
# access to data inside the VM.
# ---------------------------------------------------------------------------

default DestroySandboxRequest := true

default GetOOMEventRequest := true

# The agent queries by protobuf message name: GuestDetailsRequest. The RPC is
# called GetGuestDetails, so that name is accepted as well.
default GuestDetailsRequest := true

default GetGuestDetailsRequest := true

# Brings hot-plugged vCPUs and memory online when the pod is resized.
default OnlineCPUMemRequest := true

default RemoveContainerRequest := true

# A removed container's state goes with it (the workload profile records
# containers; without the record an exec could name the id again).
RemoveContainerRequest := {"allowed": true, "ops": [{"op": "remove", "path": concat("", ["/pstate/", key])}]} if {
	key := container_state_key(object.get(input, "container_id", ""))
	data.pstate[key]
}

default RemoveStaleVirtiofsShareMountsRequest := true

default SignalProcessRequest := true

default StartContainerRequest := true

default StatsContainerRequest := true

default TtyWinResizeRequest := true

default WaitProcessRequest := true

# ---------------------------------------------------------------------------
# Requests that are always refused.
# ---------------------------------------------------------------------------

# The policy is part of init-data and measured. The host must not swap it.
default SetPolicyRequest := false

# Swap would page TEE memory out to a host-provided device.
default AddSwapRequest := false

default AddSwapPathRequest := false

# Diagnostics, metrics and firewall/network dumps leak state from inside the VM.
default GetDiagnosticDataRequest := false

default GetMetricsRequest := false

default GetIPTablesRequest := false

default ListInterfacesRequest := false

default ListRoutesRequest := false

# The host must not rewrite guest firewall rules.
default SetIPTablesRequest := false

# The host must not tune or probe guest memory management.
default MemAgentCompactConfig := false

default MemAgentMemcgConfig := false

default MemHotplugByProbeRequest := false

# The host must not pause containers, freeze their state, or change their
# cgroup limits after creation.
default PauseContainerRequest := false

default ResumeContainerRequest := false

default UpdateContainerRequest := false

# The host must not set the guest's entropy or clock.
default ReseedRandomDevRequest := false

default SetGuestDateTimeRequest := false

# Would mount host-chosen storages in a running sandbox.
default UpdateEphemeralMountsRequest := false

# Volume management on guest paths. The agent queries by message name
# (VolumeStatsRequest); GetVolumeStatsRequest is the RPC-derived alias.
default VolumeStatsRequest := false

default GetVolumeStatsRequest := false

default ResizeVolumeRequest := false

# Tracing RPCs that older agents have.
default StartTracingRequest := false

default StopTracingRequest := false

# ---------------------------------------------------------------------------
# Requests decided by the rules below. Each one defaults to false.
# ---------------------------------------------------------------------------

default AddARPNeighborsRequest := false

default CloseStdinRequest := false

default CopyFileRequest := false

default CreateContainerRequest := false

default CreateSandboxRequest := false

default ExecProcessRequest := false

default ReadStreamRequest := false

default UpdateInterfaceRequest := false

default UpdateRoutesRequest := false

default WriteStreamRequest := false

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

# Treat an absent (null) repeated field as empty. Any other type fails.
as_list(x) := x if is_array(x)

as_list(x) := [] if is_null(x)

# True if s matches at least one regex in the list.
matches_any(regexes, s) if {
	some r in regexes
	regex.match(r, s)
}

# Path components that make a path non-canonical.
non_canonical_components := {"", ".", ".."}

# An absolute path with no empty, "." or ".." component. This blocks
# directory traversal; it also rejects "//" and a trailing "/".
canonical_absolute_path(p) if {
	startswith(p, "/")
	every c in split(trim_prefix(p, "/"), "/") {
		not c in non_canonical_components
	}
}

# A relative symlink target that cannot leave its directory tree:
# not empty, not absolute, and no empty, "." or ".." component.
contained_symlink_target(t) if {
	t != ""
	not startswith(t, "/")
	every c in split(t, "/") {
		not c in non_canonical_components
	}
}

# ---------------------------------------------------------------------------
# Sandbox
# ---------------------------------------------------------------------------

# CreateSandboxRequest refuses:
# - a shared PID namespace (sandbox_pidns): containers could ptrace or read
#   /proc of each other;
# - guest OCI hooks (guest_hook_path): host-chosen binaries run as root in the VM;
# - kernel modules: host-chosen code in the guest kernel;
# - storages other than the ones listed in policy_data (the /dev/shm tmpfs).
CreateSandboxRequest if {
	object.get(input, "sandbox_pidns", false) == false
	object.get(input, "guest_hook_path", "") == ""
	count(as_list(object.get(input, "kernel_modules", []))) == 0
	every s in as_list(object.get(input, "storages", [])) {
		sandbox_storage_allowed(s)
	}
}

sandbox_storage_allowed(s) if {
	some allowed in policy_data.create_sandbox.allowed_storages
	object.get(s, "driver", "") == allowed.driver
	object.get(s, "source", "") == allowed.source
	object.get(s, "fstype", "") == allowed.fstype
	object.get(s, "mount_point", "") == allowed.mount_point
	count(as_list(object.get(s, "driver_options", []))) == 0
	every o in as_list(object.get(s, "options", [])) {
		matches_any(allowed.option_regexes, o)
	}
}

# ---------------------------------------------------------------------------
# Containers
# ---------------------------------------------------------------------------

# CreateContainerRequest: only structural checks that need no image data.
# - no OCI hooks (the runtime strips them before calling the agent);
# - no shared mounts between containers, no string_user (a user name the
#   guest would resolve) and no shared PID namespace;
# - no capability from policy_data.create_container.forbidden_capabilities
#   in any capability set (these allow escaping into the VM).
CreateContainerRequest if {
	create_container_safe
	policy_data.create_container.bind_containers == false
}

# The workload profile also records which expected container the new
# container is (policy state, an RFC 6902 op the agent applies to its
# data), so that an exec is bound to the container it runs in.
CreateContainerRequest := {"allowed": true, "ops": array.concat(container_state_ops(object.get(input, "container_id", ""), i), netns_ops)} if {
	create_container_safe
	policy_data.create_container.bind_containers == true
	i := bound_container(input)
	netns_ops := network_namespace_ops(network_namespace(input.OCI))
}

# Every container of a sandbox joins the network namespace the first one
# joined (none counts as one): the first records it in the policy state.
network_namespace(oci) := object.get(nets[0], "Path", "") if {
	nets := [ns | some ns in as_list(object.get(oci, ["Linux", "Namespaces"], [])); ns.Type == "network"]
	count(nets) == 1
}

network_namespace(oci) := "" if {
	count([ns | some ns in as_list(object.get(oci, ["Linux", "Namespaces"], [])); ns.Type == "network"]) == 0
}

network_namespace_ops(path) := [{"op": "add", "path": "/pstate/network_namespace", "value": path}] if {
	is_null(object.get(data.pstate, "network_namespace", null))
}

network_namespace_ops(path) := [] if data.pstate.network_namespace == path

create_container_safe if {
	oci := object.get(input, "OCI", null)
	is_object(oci)
	no_oci_hooks(oci)
	count(as_list(object.get(input, "shared_mounts", []))) == 0
	is_null(object.get(input, "string_user", null))
	object.get(input, "sandbox_pidns", false) == false
	capabilities_allowed(object.get(oci, ["Process", "Capabilities"], null))
}

# ---------------------------------------------------------------------------
# Binding containers to the pod spec (the workload profile). With
# policy_data.create_container.bind_containers false (exec-deny) every
# container that passes the checks above is allowed; with true, the request
# must match one of policy_data.containers, which cocogen derived from the
# pod spec and the image lock: the pause container, then each container.
# ---------------------------------------------------------------------------

# The first expected container the request matches (two identical
# containers are one as far as the policy can tell).
bound_container(req) := min({i | some i, c in policy_data.containers; container_matches(c, req.OCI); devices_match(c, req); other_devices_allowed(c, req); root_matches(c, req); storages_allowed(c, req)})

# The storages besides the image's: only the container's emptyDirs'
# (guest-local directories, tmpfs), each at its own mount point. The agent
# mounts whatever storage the host lists and skips a later one at the
# same point (kata 3.25.0 src/agent/src/storage/mod.rs add_storages), so
# any other could put the host's files under the container's root or a
# volume.
storages_allowed(c, _) if is_null(object.get(c, "storages", null))

storages_allowed(c, req) if {
	not is_null(object.get(c, "storages", null))
	storages := as_list(object.get(req, "storages", []))
	count({p | some s in storages; p := object.get(s, "mount_point", "")}) == count(storages)
	every s in storages {
		storage_allowed(c.storages, s)
	}
}

# The image's, which root_matches checks.
storage_allowed(_, s) if object.get(s, "driver", "") == "image_guest_pull"

storage_allowed(rules, s) if {
	some rule in rules
	object.get(s, "driver", "") == rule.driver
	object.get(s, "source", "") == rule.source
	object.get(s, "fstype", "") == rule.fstype
	regex.match(rule.mount_point, object.get(s, "mount_point", ""))
	count(as_list(object.get(s, "driver_options", []))) == 0
	is_null(object.get(s, "fs_group", null))
	every o in as_list(object.get(s, "options", [])) {
		o in rule.options
	}
}

# The OCI version the runtime writes (genpolicy compares it too: kata
# 3.25.0 src/tools/genpolicy/rules.rego allow_create_container_input).
oci_version_ok(versions, _) if is_null(versions)

oci_version_ok(versions, v) if v in versions

# The root filesystem: read-only as the pod spec says, and the image the
# guest pulls for it (the source of the request's image_guest_pull
# storage, which the agent pulls: kata 3.25.0 src/agent/src/storage/
# image_pull_handler.rs) one of the container's image names, at the
# container's own rootfs path (kata_agent.go
# handleVirtualVolumeStorageObject), which is the OCI root. Without such
# a storage the host supplies the root filesystem: refused where the
# runtime pulls in the guest (guest_pull_required).
root_matches(c, req) if {
	object.get(req.OCI, ["Root", "Readonly"], false) == c.root_readonly
	pulls := [s | some s in as_list(object.get(req, "storages", [])); object.get(s, "driver", "") == "image_guest_pull"]
	image_pull_matches(c, req, pulls)
}

image_pull_matches(c, _, pulls) if {
	count(pulls) == 0
	c.guest_pull_required == false
}

image_pull_matches(c, req, pulls) if {
	count(pulls) == 1
	object.get(pulls[0], "fstype", "") == "overlay"
	object.get(pulls[0], "source", "") in c.image_sources
	rootfs := concat("", ["/run/kata-containers/", object.get(req, "container_id", ""), "/rootfs"])
	object.get(pulls[0], "mount_point", "") == rootfs
	object.get(req.OCI, ["Root", "Path"], "") == rootfs
}

# Passthrough GPUs (VFIO devices under policy_data.create_container.
# vfio_prefix): a container gets them only if its pod spec asks for them
# (c.gpus, from its resource limits), with one well-formed CDI annotation
# per GPU, and hot-plugged devices (if any, none when cold-plugged) one per
# GPU, distinct, each named by a CDI annotation. Other devices are not
# checked here.
devices_match(c, req) if {
	prefix := policy_data.create_container.vfio_prefix
	vfio := [p | some d in as_list(object.get(req, "devices", [])); p := object.get(d, "container_path", ""); startswith(p, prefix)]
	cdi := {k: v | some k, v in object.get(req.OCI, "Annotations", {}); startswith(k, "cdi.k8s.io/")}
	count(cdi) == c.gpus
	every k, v in cdi {
		regex.match(`^cdi\.k8s\.io/vfio[0-9]+$`, k)
		regex.match(`^nvidia\.com/gpu=[0-9]+$`, v)
	}
	count(vfio) in {0, c.gpus}
	count({p | some p in vfio}) == count(vfio)
	every p in vfio {
		object.get(cdi, concat("", ["cdi.k8s.io/vfio", trim_prefix(p, prefix)]), "") != ""
	}
}

# Devices other than passthrough GPUs: only those the pod spec's
# volumeDevices (and the runtime) give the container, in the agent's
# device list and in the OCI spec alike; the OCI spec may also carry the
# VFIO nodes of the GPUs the pod spec asks for. A host adding a guest block
# device (another container's storage, say) is refused.
other_devices_allowed(c, _) if is_null(object.get(c, "device_paths", null))

other_devices_allowed(c, req) if {
	not is_null(object.get(c, "device_paths", null))
	prefix := policy_data.create_container.vfio_prefix
	every d in as_list(object.get(req, "devices", [])) {
		device_path_allowed(c, prefix, object.get(d, "container_path", ""))
	}
	every d in as_list(object.get(req.OCI, ["Linux", "Devices"], [])) {
		device_path_allowed(c, prefix, object.get(d, "Path", ""))
	}
}

device_path_allowed(c, prefix, p) if {
	c.gpus > 0
	startswith(p, prefix)
}

device_path_allowed(c, _, p) if p in c.device_paths

# The state key of a container id; ids holding JSON-pointer syntax ("/",
# "~") have none, so their requests are refused.
container_state_key(id) := concat("", ["container_", id]) if regex.match("^[A-Za-z0-9_.-]+$", id)

container_state_ops(id, _) := [] if id == ""

container_state_ops(id, i) := [{"op": "add", "path": concat("", ["/pstate/", container_state_key(id)]), "value": i}] if id != ""

container_matches(c, oci) if {
	oci_version_ok(object.get(c, "oci_versions", null), object.get(oci, "Version", ""))
	ann := object.get(oci, "Annotations", {})
	every key, re in c.annotations {
		regex.match(re, object.get(ann, key, ""))
	}
	process_matches(c.process, object.get(oci, "Process", {}))
	every k, v in object.get(oci, ["Linux", "Sysctl"], {}) {
		c.sysctls[k] == v
	}
	every m in as_list(object.get(oci, "Mounts", [])) {
		cgroup_mount_allowed(c, m)
	}
	masked_paths_kept(c, oci)
	readonly_paths_kept(c, oci)
	mounts_allowed(c, oci)
}

# Mounts only at the destinations the pod spec, its image and the runtime
# give the container, each once, of the expected type, read-only where the
# pod spec says so, with the expected propagation (genpolicy compares
# mounts likewise: kata 3.25.0 src/tools/genpolicy/rules.rego
# allow_mount), from the source the shim gives it (mount_source_ok).
# Storages other than the image's are not compared.
mounts_allowed(c, _) if is_null(object.get(c, "mounts", null))

mounts_allowed(c, oci) if {
	not is_null(object.get(c, "mounts", null))
	mounts := as_list(object.get(oci, "Mounts", []))
	count({d | some m in mounts; d := object.get(m, "destination", "")}) == count(mounts)
	every m in mounts {
		mount_allowed(c.mounts, m)
	}
}

mount_allowed(rules, m) if {
	rule := rules[object.get(m, "destination", "")]
	mount_type_ok(rule, object.get(m, "type_", ""))
	mount_source_ok(object.get(rule, "source_regex", ""), object.get(m, "source", ""))
	opts := as_list(object.get(m, "options", []))
	mount_access_ok(object.get(rule, "access", ""), opts)
	mount_propagation_ok(object.get(rule, "propagation", null), opts)
}

mount_type_ok(rule, type_) if type_ == rule.type

# A disk-backed emptyDir may come as kata's guest-local storage.
mount_type_ok(rule, "local") if object.get(rule, "empty_dir", false) == true

# A bind's source: the host's copy of what its destination names, the
# sandbox's shm, or its own emptyDir volume; never guest-internal data of
# another volume or container.
mount_source_ok(re, _) if re == ""

mount_source_ok(re, source) if {
	re != ""
	regex.match(re, source)
}

mount_access_ok(access, _) if access == ""

mount_access_ok("ro", opts) if "ro" in opts

mount_access_ok("rw", opts) if {
	not "ro" in opts
	"rbind" in opts
}

propagation_options := {"rprivate", "private", "rslave", "slave", "rshared", "shared"}

mount_propagation_ok(allowed, _) if is_null(allowed)

mount_propagation_ok(allowed, opts) if {
	not is_null(allowed)
	every o in opts {
		mount_propagation_option_ok(allowed, o)
	}
}

mount_propagation_option_ok(_, o) if not o in propagation_options

mount_propagation_option_ok(allowed, o) if o in allowed

# Every path the container must have masked is masked (the runtime may
# mask more); every read-only path is read-only or masked, as genpolicy's
# rules compare them (kata 3.25.0 src/tools/genpolicy/rules.rego
# allow_masked_paths, allow_readonly_paths).
masked_paths_kept(c, _) if is_null(object.get(c, "masked_paths", null))

masked_paths_kept(c, oci) if {
	not is_null(object.get(c, "masked_paths", null))
	masked := as_list(object.get(oci, ["Linux", "MaskedPaths"], []))
	every p in c.masked_paths {
		p in masked
	}
}

readonly_paths_kept(c, _) if is_null(object.get(c, "readonly_paths", null))

readonly_paths_kept(c, oci) if {
	not is_null(object.get(c, "readonly_paths", null))
	hidden := array.concat(as_list(object.get(oci, ["Linux", "ReadonlyPaths"], [])), as_list(object.get(oci, ["Linux", "MaskedPaths"], [])))
	every p in c.readonly_paths {
		p in hidden
	}
}

cgroup_mount_allowed(_, m) if object.get(m, "destination", "") != "/sys/fs/cgroup"

cgroup_mount_allowed(c, _) if is_null(c.cgroup_mount_options)

cgroup_mount_allowed(c, m) if {
	object.get(m, "destination", "") == "/sys/fs/cgroup"
	is_array(c.cgroup_mount_options)
	every o in as_list(object.get(m, "options", [])) {
		o in c.cgroup_mount_options
	}
}

process_matches(p, proc) if {
	object.get(proc, "Args", []) == p.args
	object.get(proc, "Cwd", "") == p.cwd
	user_matches(p, object.get(proc, "User", {}))
	object.get(proc, "NoNewPrivileges", false) == p.no_new_privileges
	object.get(proc, "Terminal", false) == p.terminal
	every e in as_list(object.get(proc, "Env", [])) {
		env_allowed(p, e)
	}
	capabilities_match(p.capabilities, object.get(proc, "Capabilities", {}))
}

env_allowed(p, e) if e in p.env

user_matches(p, _) if p.any_user == true

# Protobuf's JSON leaves zero values out: an absent id is 0.
user_matches(p, user) if {
	p.any_user == false
	object.get(user, "UID", 0) == p.uid
	object.get(user, "GID", 0) == p.gid
	sort(as_list(object.get(user, "AdditionalGids", []))) == p.additional_gids
}

env_allowed(p, e) if matches_any(p.env_regexes, e)

capabilities_match(want, caps) if {
	is_object(caps)
	every set in ["Bounding", "Effective", "Permitted"] {
		sort(as_list(object.get(caps, set, []))) == sort(want)
	}
	count(as_list(object.get(caps, "Inheritable", []))) == 0
	count(as_list(object.get(caps, "Ambient", []))) == 0
}

no_oci_hooks(oci) if is_null(object.get(oci, "Hooks", null))

no_oci_hooks(oci) if {
	hooks := oci.Hooks
	is_object(hooks)
	every _, hook_list in hooks {
		count(as_list(hook_list)) == 0
	}
}

capabilities_allowed(caps) if is_null(caps)

capabilities_allowed(caps) if {
	is_object(caps)
	every _, cap_set in caps {
		every c in as_list(cap_set) {
			not c in policy_data.create_container.forbidden_capabilities
		}
	}
}

# ExecProcessRequest (kubectl exec): allowed only if the full argv is
# exactly one of the lists in policy_data.exec_process.allowed_commands.
# A prefix, a superset or a reordering of a listed argv is refused.
ExecProcessRequest if {
	args := object.get(input, ["process", "Args"], null)
	is_array(args)
	count(args) > 0
	args in policy_data.exec_process.allowed_commands
}

# A probe of the workload: its exact argv, run as its container's process
# (same user, groups, working directory and environment), with no
# terminal, capabilities, security labels or user name.
ExecProcessRequest if {
	policy_data.create_container.bind_containers == true
	proc := object.get(input, "process", {})
	some probe in policy_data.exec_process.probes
	object.get(proc, "Args", []) == probe.args
	# In the container the probe belongs to, as recorded at its creation.
	data.pstate[container_state_key(object.get(input, "container_id", ""))] == probe.container
	exec_matches(policy_data.containers[probe.container].process, proc)
	is_null(object.get(input, "string_user", null))
}

exec_matches(p, proc) if {
	object.get(proc, "Terminal", false) == false
	no_capabilities(object.get(proc, "Capabilities", null))
	object.get(proc, "Cwd", "") == p.cwd
	object.get(proc, "NoNewPrivileges", false) == p.no_new_privileges
	object.get(proc, "SelinuxLabel", "") == ""
	object.get(proc, "ApparmorProfile", "") == ""
	user := object.get(proc, "User", {})
	object.get(user, "UID", 0) == p.uid
	object.get(user, "GID", 0) == p.gid
	sort(as_list(object.get(user, "AdditionalGids", []))) == p.additional_gids
	every e in as_list(object.get(proc, "Env", [])) {
		env_allowed(p, e)
	}
}

no_capabilities(caps) if is_null(caps)

no_capabilities(caps) if {
	is_object(caps)
	every _, set in caps {
		count(as_list(set)) == 0
	}
}

# ---------------------------------------------------------------------------
# Container I/O
# ---------------------------------------------------------------------------

# Container stdout/stderr, which carry the logs.
ReadStreamRequest if policy_data.streams.allow_logs == true

# Container stdin. Refused by default: the host could type into an
# interactive process.
WriteStreamRequest if policy_data.streams.allow_stdin == true

CloseStdinRequest if policy_data.streams.allow_stdin == true

# ---------------------------------------------------------------------------
# CopyFile
# ---------------------------------------------------------------------------

# When there is no shared filesystem the runtime uses CopyFileRequest to copy
# what a container mounts from the host into the guest: /etc/resolv.conf,
# /etc/hostname, /etc/hosts, the termination log, and (under "watchable/")
# service-account tokens, ConfigMap and Secret volumes, which it copies again
# when they change. Each copy is named
#   <shared dir>/[watchable/]<container id>-<16 hex chars>-<name>
# and for directory volumes the tree below <name> is copied entry by entry.
#
# Rules:
# - the path is absolute and canonical (no "..", "." or empty component);
# - it starts with one of policy_data.copy_file.path_prefix_regexes;
# - the file type is allowed at its depth: at the top level (the entry
#   directly after the prefix) a regular file or a directory; below it also
#   a symlink (ConfigMap/Secret volumes use "..data" style symlinks). A symlink
#   as the top-level entry could redirect the whole mount and is refused;
# - a symlink target is relative and has no ".." component, so it stays
#   inside the copied tree.
CopyFileRequest if {
	path := object.get(input, "path", "")
	file_type := object.get(input, "file_type", "")
	canonical_absolute_path(path)
	some prefix in policy_data.copy_file.path_prefix_regexes
	copy_placement_allowed(prefix, path, file_type)
	copy_symlink_target_allowed(file_type, object.get(input, "symlink_target", ""))
}

copy_placement_allowed(prefix, path, file_type) if {
	file_type in policy_data.copy_file.top_level_file_types
	regex.match(concat("", [prefix, `[^/]+$`]), path)
}

copy_placement_allowed(prefix, path, file_type) if {
	file_type in policy_data.copy_file.nested_file_types
	regex.match(concat("", [prefix, `[^/]+/.+$`]), path)
}

copy_symlink_target_allowed(file_type, _) if file_type != "Symlink"

copy_symlink_target_allowed("Symlink", target) if contained_symlink_target(target)

# ---------------------------------------------------------------------------
# Networking
# ---------------------------------------------------------------------------

# UpdateRoutesRequest: no route through a forbidden device (loopback) and no
# forbidden (loopback) source address, so that the host cannot redirect
# traffic meant for localhost services.
UpdateRoutesRequest if {
	every route in as_list(object.get(input, ["routes", "Routes"], [])) {
		route_allowed(route)
	}
}

route_allowed(route) if {
	not object.get(route, "device", "") in policy_data.update_routes.forbidden_devices
	not matches_any(policy_data.update_routes.forbidden_source_regexes, object.get(route, "source", ""))
}

# UpdateInterfaceRequest: the interface must not be renamed to (or be) a
# forbidden name such as "lo", must not take a forbidden MAC address,
# must set no flag outside policy_data.update_interface.allowed_raw_flags
# (IFF_NOARP only), and must not be given a loopback address.
UpdateInterfaceRequest if {
	iface := object.get(input, "interface", null)
	is_object(iface)
	rules := policy_data.update_interface
	not object.get(iface, "name", "") in rules.forbidden_names
	not object.get(iface, "device", "") in rules.forbidden_names
	not lower(object.get(iface, "hwAddr", "")) in rules.forbidden_hw_addrs
	flags := object.get(iface, "raw_flags", 0)
	bits.and(flags, rules.allowed_raw_flags) == flags
	every addr in as_list(object.get(iface, "IPAddresses", [])) {
		not matches_any(rules.forbidden_address_regexes, object.get(addr, "address", ""))
	}
}

# AddARPNeighborsRequest: no entry on a forbidden device, none for a
# forbidden (loopback) address, only the allowed neighbour states
# (NUD_REACHABLE, NUD_PERMANENT), and no flag outside allowed_flags
# (NTF_PROXY, NTF_ROUTER).
AddARPNeighborsRequest if {
	every neighbor in as_list(object.get(input, ["neighbors", "ARPNeighbors"], [])) {
		arp_neighbor_allowed(neighbor)
	}
}

arp_neighbor_allowed(neighbor) if {
	rules := policy_data.add_arp_neighbors
	not object.get(neighbor, "device", "") in rules.forbidden_devices
	not matches_any(rules.forbidden_address_regexes, object.get(neighbor, ["toIPAddress", "address"], ""))
	object.get(neighbor, "state", 0) in rules.allowed_states
	flags := object.get(neighbor, "flags", 0)
	bits.and(flags, rules.allowed_flags) == flags
}

# ---------------------------------------------------------------------------
# Policy data (rendered by cocogen; must stay last)
# ---------------------------------------------------------------------------
