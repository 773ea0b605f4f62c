// Package userdata builds the cloud-config a peer-pod VM boots with, in the
// exact shape the pod VM's process-user-data reads it (cloud-api-adaptor
// v0.22.0 src/cloud-api-adaptor/pkg/userdata/provision.go): a YAML document
// whose only key is write_files, each entry only path and content — it is
// decoded strictly there, so owner, permissions or encoding would make the
// VM refuse the whole document — and only the paths it allows
// (pkg/paths/paths.go): the agent-protocol-forwarder config, init-data and
// pull credentials among them.
package userdata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Paths the pod VM accepts in write_files (cloud-api-adaptor v0.22.0
// src/cloud-api-adaptor/pkg/paths/paths.go and userdata/provision.go
// WriteFilesList); anything else it skips with a log line.
const (
	ForwarderConfigPath = "/run/peerpod/apf.json"
	InitDataPath        = "/run/peerpod/initdata"
	AuthFilePath        = "/run/peerpod/auth.json"
	ScratchSpacePath    = "/run/peerpod/scratch-space.marker"
)

var allowedPaths = []string{"/run/peerpod/aa.toml", "/run/peerpod/cdh.toml", ForwarderConfigPath, AuthFilePath, InitDataPath, ScratchSpacePath}

// ForwarderConfig is apf.json, the agent-protocol-forwarder's
// configuration (cloud-api-adaptor v0.22.0
// src/cloud-api-adaptor/pkg/forwarder/forwarder.go Config): where the pod
// lives, and the TLS material the forwarder serves the daemon with.
type ForwarderConfig struct {
	// PodNetwork is the pod's network as the forwarder recreates it in the
	// VM (tunneler.Config); nil when the daemon sets up no tunnel.
	PodNetwork   *PodNetwork `json:"pod-network"`
	PodNamespace string      `json:"pod-namespace"`
	PodName      string      `json:"pod-name"`

	// TLSServerKey and TLSServerCert are the forwarder's key pair, issued by
	// the daemon's CA for the VM's name; TLSClientCA is that CA, which the
	// forwarder requires the daemon's client certificate to chain to.
	TLSServerKey  string `json:"tls-server-key,omitempty"`
	TLSServerCert string `json:"tls-server-cert,omitempty"`
	TLSClientCA   string `json:"tls-client-ca,omitempty"`
}

// PodNetwork is the forwarder's pod-network section: field for field and
// tag for tag cloud-api-adaptor v0.22.0
// src/cloud-api-adaptor/pkg/podnetwork/tunneler/tunneler.go Config, which
// the VM's forwarder decodes and replays (pkg/podnetwork/podnode.go):
// the pod's address, MAC, MTU, routes and permanent neighbours go onto the
// VM's end of the tunnel, which the worker node's end reaches at
// WorkerNodeIP. Routes and Neighbors are null, not [], when empty, as there.
type PodNetwork struct {
	PodIP               netip.Prefix `json:"podip"`
	PodHwAddr           string       `json:"pod-hw-addr"`
	InterfaceName       string       `json:"interface"`
	WorkerNodeIP        netip.Prefix `json:"worker-node-ip"`
	TunnelType          string       `json:"tunnel-type"`
	Routes              []Route      `json:"routes"`
	Neighbors           []Neighbor   `json:"neighbors"`
	MTU                 int          `json:"mtu"`
	Index               int          `json:"index"`
	VXLANPort           int          `json:"vxlan-port,omitempty"`
	VXLANID             int          `json:"vxlan-id,omitempty"`
	Dedicated           bool         `json:"dedicated"`
	ExternalNetViaPodVM bool         `json:"external-net-via-pod-vm"`
}

// Route is one route of the pod's network namespace (tunneler.go Route at
// v0.22.0). A zero Dst or GW encodes as "" (omitempty does not apply to
// netip values in encoding/json), which the VM decodes back to the zero
// value; a zero Protocol or Scope is left out.
type Route struct {
	Dst      netip.Prefix  `json:"dst,omitempty"`
	GW       netip.Addr    `json:"gw,omitempty"`
	Dev      string        `json:"dev,omitempty"`
	Protocol RouteProtocol `json:"protocol,omitempty"`
	Scope    RouteScope    `json:"scope,omitempty"`
}

// Neighbor is one permanent ARP entry of the pod's network namespace
// (tunneler.go Neighbor at v0.22.0).
type Neighbor struct {
	IP           netip.Addr    `json:"ip,omitempty"`
	HardwareAddr string        `json:"hw-addr,omitempty"`
	Dev          string        `json:"dev,omitempty"`
	State        NeighborState `json:"state,omitempty"`
}

// RouteProtocol is a route's rtm_protocol. It encodes as its name, as
// cloud-api-adaptor v0.22.0 src/cloud-api-adaptor/pkg/util/netops/netops.go
// RouteProtocol does (netlink's RouteProtocol.String), and the VM decodes
// only the four names the worker side lists routes of (static, boot, dhcp,
// kernel); any other value is refused when encoding here rather than by
// the VM at boot.
type RouteProtocol int

// The route protocols the pod VM decodes (linux/rtnetlink.h RTPROT_*).
const (
	RouteProtocolKernel RouteProtocol = 2
	RouteProtocolBoot   RouteProtocol = 3
	RouteProtocolStatic RouteProtocol = 4
	RouteProtocolDHCP   RouteProtocol = 16
)

var routeProtocolNames = map[RouteProtocol]string{
	RouteProtocolKernel: "kernel",
	RouteProtocolBoot:   "boot",
	RouteProtocolStatic: "static",
	RouteProtocolDHCP:   "dhcp",
}

// String returns the protocol's name, or its number.
func (p RouteProtocol) String() string {
	if s, ok := routeProtocolNames[p]; ok {
		return s
	}
	return strconv.Itoa(int(p))
}

// MarshalJSON encodes the protocol's name.
func (p RouteProtocol) MarshalJSON() ([]byte, error) {
	return marshalName("route protocol", p, routeProtocolNames)
}

// UnmarshalJSON decodes a name the pod VM accepts.
func (p *RouteProtocol) UnmarshalJSON(data []byte) error {
	return unmarshalName("route protocol", data, routeProtocolNames, p)
}

// RouteScope is a route's rtm_scope, encoded as its name like netops.go
// RouteScope at v0.22.0 (netlink's Scope.String).
type RouteScope uint8

// The route scopes (linux/rtnetlink.h RT_SCOPE_*).
const (
	RouteScopeUniverse RouteScope = 0
	RouteScopeSite     RouteScope = 200
	RouteScopeLink     RouteScope = 253
	RouteScopeHost     RouteScope = 254
	RouteScopeNowhere  RouteScope = 255
)

var routeScopeNames = map[RouteScope]string{
	RouteScopeUniverse: "universe",
	RouteScopeSite:     "site",
	RouteScopeLink:     "link",
	RouteScopeHost:     "host",
	RouteScopeNowhere:  "nowhere",
}

// String returns the scope's name, or "unknown" as netlink does.
func (s RouteScope) String() string {
	if n, ok := routeScopeNames[s]; ok {
		return n
	}
	return "unknown"
}

// MarshalJSON encodes the scope's name.
func (s RouteScope) MarshalJSON() ([]byte, error) {
	return marshalName("route scope", s, routeScopeNames)
}

// UnmarshalJSON decodes a scope name.
func (s *RouteScope) UnmarshalJSON(data []byte) error {
	return unmarshalName("route scope", data, routeScopeNames, s)
}

// NeighborState is a neighbour entry's NUD state, encoded as its name
// like netops.go NeighborState at v0.22.0. The worker side only ever
// sends NeighborStatePermanent.
type NeighborState uint16

// The neighbour states (linux/neighbour.h NUD_*).
const (
	NeighborStateNone       NeighborState = 0x00
	NeighborStateIncomplete NeighborState = 0x01
	NeighborStateReachable  NeighborState = 0x02
	NeighborStateStale      NeighborState = 0x04
	NeighborStateDelay      NeighborState = 0x08
	NeighborStateProbe      NeighborState = 0x10
	NeighborStateFailed     NeighborState = 0x20
	NeighborStateNoARP      NeighborState = 0x40
	NeighborStatePermanent  NeighborState = 0x80
)

var neighborStateNames = map[NeighborState]string{
	NeighborStateNone:       "none",
	NeighborStateIncomplete: "incomplete",
	NeighborStateReachable:  "reachable",
	NeighborStateStale:      "stale",
	NeighborStateDelay:      "delay",
	NeighborStateProbe:      "probe",
	NeighborStateFailed:     "failed",
	NeighborStateNoARP:      "noarp",
	NeighborStatePermanent:  "permanent",
}

// String returns the state's name, or "unknown" as netops.go does.
func (s NeighborState) String() string {
	if n, ok := neighborStateNames[s]; ok {
		return n
	}
	return "unknown"
}

// MarshalJSON encodes the state's name.
func (s NeighborState) MarshalJSON() ([]byte, error) {
	return marshalName("neighbor state", s, neighborStateNames)
}

// UnmarshalJSON decodes a state name.
func (s *NeighborState) UnmarshalJSON(data []byte) error {
	return unmarshalName("neighbor state", data, neighborStateNames, s)
}

// marshalName refuses a value without a name: the VM would refuse the
// whole apf.json over it (netops.go unmarshalJSON), so it is better
// caught on the node.
func marshalName[T comparable](what string, v T, names map[T]string) ([]byte, error) {
	s, ok := names[v]
	if !ok {
		return nil, fmt.Errorf("encoding %s %v: the pod VM decodes only %s", what, v, strings.Join(sortedValues(names), ", "))
	}
	return json.Marshal(s)
}

func unmarshalName[T comparable](what string, data []byte, names map[T]string, dst *T) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("decoding %s: %w", what, err)
	}
	for v, n := range names {
		if n == s {
			*dst = v
			return nil
		}
	}
	return fmt.Errorf("decoding %s: unknown name %q", what, s)
}

func sortedValues[T comparable](m map[T]string) []string {
	return slices.Sorted(maps.Values(m))
}

// File is one write_files entry.
type File struct {
	Path    string `yaml:"path"`
	Content string `yaml:"content"`
}

// CloudConfig is the user-data document.
type CloudConfig struct {
	WriteFiles []File `yaml:"write_files"`
}

// Input is what goes into a VM's user data.
type Input struct {
	Forwarder ForwarderConfig
	// InitData is the encoded init-data (gzip then base64, as the pod
	// annotation carries it), or empty.
	InitData string
	// AuthJSON is the pod's image pull credentials, or nil.
	AuthJSON []byte
	// ScratchSpace asks the VM for an encrypted scratch disk.
	ScratchSpace bool
}

// Build renders the cloud-config document.
func Build(in Input) ([]byte, error) {
	apf, err := json.MarshalIndent(in.Forwarder, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", ForwarderConfigPath, err)
	}
	cc := CloudConfig{WriteFiles: []File{{Path: ForwarderConfigPath, Content: string(apf) + "\n"}}}
	if len(in.AuthJSON) > 0 {
		cc.WriteFiles = append(cc.WriteFiles, File{Path: AuthFilePath, Content: string(in.AuthJSON)})
	}
	if in.InitData != "" {
		cc.WriteFiles = append(cc.WriteFiles, File{Path: InitDataPath, Content: in.InitData})
	}
	if in.ScratchSpace {
		cc.WriteFiles = append(cc.WriteFiles, File{Path: ScratchSpacePath})
	}
	var buf bytes.Buffer
	buf.WriteString("#cloud-config\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(cc); err != nil {
		return nil, fmt.Errorf("encoding cloud-config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding cloud-config: %w", err)
	}
	return buf.Bytes(), nil
}

// Parse decodes user data as strictly as the pod VM does, and also refuses
// paths the VM would skip: a file it ignores is a configuration the daemon
// meant to deliver and did not.
func Parse(data []byte) (CloudConfig, error) {
	var cc CloudConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cc); err != nil {
		return CloudConfig{}, fmt.Errorf("decoding cloud-config: %w", err)
	}
	var errs []error
	for i, f := range cc.WriteFiles {
		if !slices.Contains(allowedPaths, f.Path) {
			errs = append(errs, fmt.Errorf("write_files[%d]: the pod VM does not accept path %q", i, f.Path))
		}
	}
	return cc, errors.Join(errs...)
}

// File returns the content of the entry with path, and whether there is one.
func (cc CloudConfig) File(path string) (string, bool) {
	for _, f := range cc.WriteFiles {
		if f.Path == path {
			return f.Content, true
		}
	}
	return "", false
}

// Forwarder decodes apf.json.
func (cc CloudConfig) Forwarder() (ForwarderConfig, error) {
	content, ok := cc.File(ForwarderConfigPath)
	if !ok {
		return ForwarderConfig{}, fmt.Errorf("no %s in the user data", ForwarderConfigPath)
	}
	var fc ForwarderConfig
	dec := json.NewDecoder(bytes.NewReader([]byte(content)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return ForwarderConfig{}, fmt.Errorf("decoding %s: %w", ForwarderConfigPath, err)
	}
	return fc, nil
}
