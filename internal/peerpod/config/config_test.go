package config

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c, err := Parse(nil, map[string]string{"CLOUD_PROVIDER": "azure"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Socket != DefaultSocket || c.Daemon.PodsDir != DefaultPodsDir || c.Daemon.ForwarderPort != 15150 ||
		c.Daemon.ProxyTimeout != 5*time.Minute || c.Daemon.LimitPerNode != 10 || c.ProbeAddress != "127.0.0.1:8000" {
		t.Errorf("%+v", c)
	}
}

func TestFlagsOverrideTheEnvironment(t *testing.T) {
	c, err := Parse([]string{"--forwarder-port", "16000", "--proxy-timeout", "3"}, map[string]string{"CLOUD_PROVIDER": "local", "FORWARDER_PORT": "15999", "PROXY_TIMEOUT": "1m"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// A bare number is minutes, as the reference daemon's help says.
	if c.Daemon.ForwarderPort != 16000 || c.Daemon.ProxyTimeout != 3*time.Minute {
		t.Errorf("%+v", c.Daemon)
	}
}

func TestEveryProblemAtOnce(t *testing.T) {
	_, err := Parse([]string{"extra"}, map[string]string{
		"CLOUD_PROVIDER": "gcp", "FORWARDER_PORT": "0", "PROBE_PORT": "x", "PEERPODS_LIMIT_PER_NODE": "-1",
		"PROXY_TIMEOUT": "-5m", "ENABLE_SCRATCH_SPACE": "maybe", "INITDATA": "%%%", "PEERPODD_CREATE_BURST": "0",
	}, io.Discard)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, key := range []string{"unexpected arguments", "CLOUD_PROVIDER", "FORWARDER_PORT", "PROBE_PORT", "PEERPODS_LIMIT_PER_NODE", "PROXY_TIMEOUT", "ENABLE_SCRATCH_SPACE", "INITDATA", "PEERPODD_CREATE_BURST"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("the error does not name %s:\n%v", key, err)
		}
	}
}

func TestInertKeysWarn(t *testing.T) {
	c, err := Parse(nil, map[string]string{"CLOUD_PROVIDER": "local", "TLS_SKIP_VERIFY": "true"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "TLS_SKIP_VERIFY is set but has no effect: the agent channel is always verified") {
		t.Errorf("%q", c.Warnings)
	}
}
