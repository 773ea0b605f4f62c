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
	"net/netip"
	"slices"

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

// PodNetwork is the forwarder's pod-network section (cloud-api-adaptor
// v0.22.0 src/cloud-api-adaptor/pkg/podnetwork/tunneler/tunneler.go
// Config), with the fields a VXLAN tunnel needs.
type PodNetwork struct {
	PodIP               netip.Prefix `json:"podip"`
	PodHwAddr           string       `json:"pod-hw-addr"`
	InterfaceName       string       `json:"interface"`
	WorkerNodeIP        netip.Prefix `json:"worker-node-ip"`
	TunnelType          string       `json:"tunnel-type"`
	Routes              []Route      `json:"routes"`
	MTU                 int          `json:"mtu"`
	Index               int          `json:"index"`
	VXLANPort           int          `json:"vxlan-port,omitempty"`
	VXLANID             int          `json:"vxlan-id,omitempty"`
	Dedicated           bool         `json:"dedicated"`
	ExternalNetViaPodVM bool         `json:"external-net-via-pod-vm"`
}

// Route is one route of the pod's network namespace.
type Route struct {
	Dst netip.Prefix `json:"dst,omitempty"`
	GW  netip.Addr   `json:"gw,omitempty"`
	Dev string       `json:"dev,omitempty"`
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
