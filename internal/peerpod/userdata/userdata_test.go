package userdata

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// podVMCloudConfig is what the pod VM decodes user data into
// (cloud-api-adaptor v0.22.0 src/cloud-api-adaptor/pkg/userdata/
// provision.go CloudConfig and WriteFile, decoded strictly).
type podVMCloudConfig struct {
	WriteFiles []struct {
		Path    string `yaml:"path"`
		Content string `yaml:"content"`
	} `yaml:"write_files"`
}

// podVMForwarderConfig mirrors the forwarder's Config (v0.22.0
// pkg/forwarder/forwarder.go), every field, so unknown fields fail.
type podVMForwarderConfig struct {
	PodNetwork    json.RawMessage `json:"pod-network"`
	PodNamespace  string          `json:"pod-namespace"`
	PodName       string          `json:"pod-name"`
	TLSServerKey  string          `json:"tls-server-key,omitempty"`
	TLSServerCert string          `json:"tls-server-cert,omitempty"`
	TLSClientCA   string          `json:"tls-client-ca,omitempty"`
	MinTLSVersion string          `json:"tls-min-version,omitempty"`
	CipherSuites  []string        `json:"tls-cipher-suites,omitempty"`
	PpPrivateKey  []byte          `json:"sc-pp-prv,omitempty"`
	WnPublicKey   []byte          `json:"sc-wn-pub,omitempty"`
}

func TestBuildIsWhatThePodVMReads(t *testing.T) {
	key := "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n"
	in := Input{
		Forwarder:    ForwarderConfig{PodNamespace: "confidential", PodName: "web-0", TLSServerKey: key, TLSServerCert: "cert\n", TLSClientCA: "ca\n"},
		InitData:     "H4sIAAAAAAAA/yrOz01VKEotzi8tSk4FBAAA//8=",
		AuthJSON:     []byte(`{"auths":{"quay.io":{"auth":"eDp5"}}}`),
		ScratchSpace: true,
	}
	data, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("#cloud-config\n")) {
		t.Errorf("no #cloud-config header:\n%s", data)
	}
	var cc podVMCloudConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cc); err != nil {
		t.Fatalf("the pod VM would refuse:\n%s\n%v", data, err)
	}
	got := map[string]string{}
	for _, f := range cc.WriteFiles {
		got[f.Path] = f.Content
	}
	if got[InitDataPath] != in.InitData || got[AuthFilePath] != string(in.AuthJSON) {
		t.Errorf("files: %q", got)
	}
	if _, ok := got[ScratchSpacePath]; !ok {
		t.Error("no scratch-space marker")
	}
	var fc podVMForwarderConfig
	jd := json.NewDecoder(strings.NewReader(got[ForwarderConfigPath]))
	jd.DisallowUnknownFields()
	if err := jd.Decode(&fc); err != nil {
		t.Fatal(err)
	}
	if fc.TLSServerKey != key || fc.PodName != "web-0" || fc.PodNamespace != "confidential" || string(fc.PodNetwork) != "null" {
		t.Errorf("apf.json: %+v", fc)
	}
	back, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := back.Forwarder(); err != nil || f != in.Forwarder {
		t.Errorf("round trip: %+v %v", f, err)
	}
}

func TestParseRefusesWhatThePodVMWouldDrop(t *testing.T) {
	for doc, want := range map[string]string{
		"write_files:\n- path: /etc/passwd\n  content: x\n":                    `does not accept path "/etc/passwd"`,
		"write_files:\n- path: /run/peerpod/apf.json\n  permissions: '0600'\n": "field permissions not found",
		"runcmd: [reboot]\n": "field runcmd not found",
	} {
		if _, err := Parse([]byte(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", doc, err, want)
		}
	}
}
