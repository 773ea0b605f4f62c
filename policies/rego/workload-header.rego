# cocogen agent policy, profile "workload": bound to one pod spec.
#
# What it enforces: everything exec-deny does (no commands run in the
# containers except the pod's probes and allow-listed argv lists, no
# policy replacement, no files written into the guest except the pod's
# configuration, no loopback networking, stdin and logs as configured),
# and, for CreateContainerRequest, that the container is one the pod spec
# declares: the pause container or a named container of the pod, in the
# pod's namespace (read from the annotations the node's container runtime
# writes: CRI-O's io.kubernetes.cri-o.* on OpenShift, containerd's
# io.kubernetes.cri.* elsewhere), with the image (pinned by the image
# lock; the image the guest pulls for its root filesystem, which is what
# runs, is one of the locked image's names, and the root is the
# container's own, read-only where the pod spec says so; on CRI-O, which
# pulls in the guest on both lines, a root filesystem the host supplies
# is refused; CRI-O may name the image by its locked tag, which a
# registry could move after locking: an image signature policy catches
# that), arguments, environment, working directory, user and groups,
# capabilities, privilege escalation, terminal and sysctls cocogen derived
# from the pod spec and the image (policy_data.containers). Each created
# container is recorded in the agent's policy state (data.pstate, by
# container id), so an exec runs only a probe's argv in the container the
# probe belongs to, and a removed container's record goes with it; every
# container joins the network namespace the first one joined; passthrough
# GPUs (VFIO devices and their CDI annotations) only as many as the pod
# spec's resource limits ask for; the cgroup mount only with the options
# the runtime settings list; /proc and /sys paths the kubelet
# masks or makes read-only stay so, unless the pod spec makes the
# container privileged or asks for procMount Unmasked (CRI-O's pause
# container: not checked); mounts only at the destinations the runtime,
# the pod spec's volumeMounts, the service account token, the termination
# log and the image's volumes give the container (on CRI-O also its own
# /run/.containerenv, /run/secrets, /etc/passwd and /etc/group), each
# once, of the expected type (a disk-backed emptyDir also as kata's
# guest-local storage), from its own source (a bind from the host's copy
# of what its destination names, the sandbox's shm, or its own emptyDir
# volume: never another volume's storage, another container's root or
# other guest-internal data), read-only where the pod spec says so, with
# private propagation unless the pod spec asks for another; devices only the pod
# spec's volumeDevices besides its GPUs' VFIO devices (containerd; on
# CRI-O devices other than VFIO are not checked).
#
# The request's OCI version must be one the node's runtime writes.
#
# What it does NOT check yet: with containerd, the storages other than
# the image's (in kata's block modes, which device backs which emptyDir).
# On CRI-O only the container's emptyDirs' storages are allowed besides
# its image's. Refused on CRI-O (fail closed): an image the node also
# knows under another tag or repository (CRI-O then names that one to the
# guest), binds the shim does not copy (host /proc, /sys or device
# paths), and, as the runtime's mounts are known from its sources: a
# FIPS node's crypto-policy mounts (the host would pick the containers'
# crypto policy), systemd-mode containers' tmpfs mounts, image volumes
# with image_volumes = "bind".
# Environment values the pod spec cannot know (Secret values, service
# links, resource quantities) are matched by name or form, never by value.
#
