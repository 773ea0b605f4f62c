// Package sandbox is the peer-pod daemon's record of each pod sandbox: a
// small state machine persisted atomically as <pods>/<id>/state.json, so
// that a daemon that restarts knows which VMs exist, which are still wanted
// and which were half made. The reference daemon (cloud-api-adaptor) keeps
// this only in memory; a restart there leaks VMs and breaks running pods.
package sandbox

import (
	"fmt"
	"net/netip"
	"regexp"

	"github.com/cocogen/cocogen/internal/peerpod/userdata"
)

// Phase is where a sandbox is in its life.
type Phase string

// The phases, in order. A sandbox only moves forward, except that a failed
// start goes from Starting to Stopping.
const (
	// Created: CreateVM accepted the sandbox; no VM was asked for yet.
	Created Phase = "created"
	// Starting: the VM was (or is being) asked for under InstanceName.
	// A daemon that restarts in this phase deletes it: the shim's StartVM
	// already failed.
	Starting Phase = "starting"
	// Running: the VM answered and the agent socket is served.
	Running Phase = "running"
	// Stopping: the VM is being deleted.
	Stopping Phase = "stopping"
	// Stopped: the VM is gone; the record is removed right after.
	Stopped Phase = "stopped"
)

var next = map[Phase][]Phase{
	Created:  {Starting, Stopping},
	Starting: {Running, Stopping},
	Running:  {Stopping},
	Stopping: {Stopping, Stopped},
}

// CanMove reports whether from → to is a legal transition.
func CanMove(from, to Phase) bool {
	for _, p := range next[from] {
		if p == to {
			return true
		}
	}
	return false
}

// Record is what is persisted of one sandbox. It holds no secret: the
// VM's user data (which carries its TLS key and pull credentials) is kept
// beside it in a file only the daemon can read.
type Record struct {
	// ID is the sandbox id the shim uses.
	ID    string `json:"id"`
	Phase Phase  `json:"phase"`

	PodName      string `json:"podName"`
	PodNamespace string `json:"podNamespace"`
	// NetNSPath is the pod's network namespace; when it is gone after a
	// restart, so is the sandbox.
	NetNSPath string `json:"netnsPath,omitempty"`

	// InstanceName is the VM's name, chosen at CreateVM and persisted
	// before the cloud is asked for the VM.
	InstanceName string `json:"instanceName"`
	InstanceType string `json:"instanceType"`
	Image        string `json:"image,omitempty"`
	// InstanceID and IPs are known once the VM exists.
	InstanceID string       `json:"instanceID,omitempty"`
	IPs        []netip.Addr `json:"ips,omitempty"`

	// AgentSocket is the unix socket the shim reaches the agent through.
	AgentSocket string `json:"agentSocket"`
	// PeerPod names the PeerPod object that guards the VM, if any.
	PeerPod string `json:"peerPod,omitempty"`
	// PodNetwork is the pod network tunnelled to the VM, if any.
	PodNetwork *userdata.PodNetwork `json:"podNetwork,omitempty"`
}

// idPattern is what a sandbox id may be: containerd and CRI-O use 64 hex
// digits; anything that could escape the pods directory is refused.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// ValidID reports whether id can name a sandbox directory.
func ValidID(id string) error {
	if !idPattern.MatchString(id) || id == "." || id == ".." {
		return fmt.Errorf("sandbox id %q: want letters, digits, '.', '_' or '-' (at most 128)", id)
	}
	return nil
}
