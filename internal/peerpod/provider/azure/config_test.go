package azure

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/cocogen/cocogen/internal/peerpod/provider"
)

func TestConfigFromEnvDefaults(t *testing.T) {
	env := testEnv()
	delete(env, KeyInstanceSizes)
	delete(env, KeyTags)
	delete(env, KeyRootVolumeSize)
	env[KeyRegion] = "East US"
	c, err := ConfigFromEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	if c.InstanceSize != DefaultInstanceSize || c.SSHUsername != DefaultSSHUsername || c.Region != "eastus" ||
		c.RootVolumeSizeGB != 0 || c.DisableCVM || c.EnableSecureBoot || c.ClientSecret.Reveal() != testSecret {
		t.Errorf("config = %v", c)
	}
	if got := c.AllowedSizes(); len(got) != 1 || got[0] != DefaultInstanceSize {
		t.Errorf("AllowedSizes = %v", got)
	}
}

func TestConfigFromEnvParses(t *testing.T) {
	env := testEnv()
	env[KeyDisableCVM] = "1"
	env[KeyEnableSecureBoot] = "True"
	env[KeyInstanceSizes] = " Standard_DC2as_v5 , Standard_DC4as_v5"
	c, err := ConfigFromEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	if !c.DisableCVM || !c.EnableSecureBoot || c.RootVolumeSizeGB != 50 ||
		fmt.Sprint(c.InstanceSizes) != "[Standard_DC2as_v5 Standard_DC4as_v5]" ||
		fmt.Sprint(c.Tags) != "map[cost-center:42 owner:peerpods]" {
		t.Errorf("config = %v", c)
	}
}

func TestConfigWorkloadIdentity(t *testing.T) {
	env := testEnv()
	delete(env, KeyClientSecret)
	_, err := ConfigFromEnv(env)
	if err == nil || !strings.Contains(err.Error(), KeyFederatedTokenFile) {
		t.Fatalf("err = %v, want the token file required", err)
	}
	env[KeyFederatedTokenFile] = "/var/run/secrets/azure/tokens/azure-identity-token"
	c, err := ConfigFromEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	// New builds a workload identity credential without touching the
	// network or the file.
	if _, err := New(c, Options{}); err != nil {
		t.Errorf("New with workload identity: %v", err)
	}
}

func TestConfigErrorsNameEveryKey(t *testing.T) {
	env := map[string]string{
		KeySubscriptionID:   "not-a-guid",
		KeyClientSecret:     testSecret,
		KeyClientID:         "also-not-a-guid",
		KeyRegion:           "East US 2!",
		KeySubnetID:         "/subscriptions/" + testSub + "/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet",
		KeyNSGID:            "nsg",
		KeyImageID:          "Canonical:ubuntu:22_04:latest",
		KeyInstanceSize:     "Standard DC2",
		KeyInstanceSizes:    "Standard_DC2as_v5,,Standard_DC2as_v5",
		KeyTags:             "a=b,broken,Owner=x,owner=y",
		KeyRootVolumeSize:   "ten",
		KeyDisableCVM:       "yes",
		KeyEnableSecureBoot: "maybe",
		KeySSHUsername:      "root",
		KeyUsePublicIP:      "true",
	}
	_, err := ConfigFromEnv(env)
	if !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("err = %v, want ErrInvalidConfig", err)
	}
	noSecret(t, err)
	msg := err.Error()
	for _, k := range []string{
		KeySubscriptionID, KeyClientID, KeyTenantID, KeyRegion, KeyResourceGroup, KeySubnetID, KeyNSGID,
		KeyImageID, KeyInstanceSize, KeyInstanceSizes, KeyTags, KeyRootVolumeSize, KeyDisableCVM,
		KeyEnableSecureBoot, KeySSHUsername, KeyUsePublicIP,
	} {
		if !strings.Contains(msg, k+": ") {
			t.Errorf("error does not name %s:\n%s", k, msg)
		}
	}
	for _, want := range []string{`"broken" is not key=value`, `tag "owner" is set twice`, `"Standard_DC2as_v5" is listed twice`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}

	// A root volume out of range and a missing everything.
	_, err = ConfigFromEnv(map[string]string{KeyRootVolumeSize: "5000"})
	for _, k := range []string{KeySubscriptionID, KeyRegion, KeyResourceGroup, KeySubnetID, KeyImageID, KeyFederatedTokenFile, "5000 is outside"} {
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("err = %v, want %s", err, k)
		}
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	c, err := ConfigFromEnv(testEnv())
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "cfg", c, "secret", c.ClientSecret)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "secret", c.ClientSecret)
	js, _ := json.Marshal(c)
	for _, s := range []string{
		c.String(), fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%q %x %s", c.ClientSecret, c.ClientSecret, c.ClientSecret),
		string(js), logged.String(),
	} {
		if strings.Contains(s, testSecret) {
			t.Errorf("secret printed: %s", s)
		}
	}
	if !strings.Contains(c.String(), "clientSecret=set") {
		t.Errorf("String() = %s", c.String())
	}
}

// checkAuthorizedKey parses key with x/crypto/ssh, an independent
// implementation of the format.
func checkAuthorizedKey(t *testing.T, key string) {
	t.Helper()
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(key))
	if err != nil {
		t.Fatalf("throwaway key %q does not parse: %v", key, err)
	}
	if pub.Type() != ssh.KeyAlgoRSA {
		t.Errorf("key type %s", pub.Type())
	}
}

// TestConfigRefused: what stops the daemon (exit 2) and what it retries.
func TestConfigRefused(t *testing.T) {
	resp := func(code int) *http.Response { return &http.Response{StatusCode: code, Request: &http.Request{}} }
	for name, tc := range map[string]struct {
		err  error
		want bool
	}{
		"ARM 404":                 {&azcore.ResponseError{StatusCode: 404}, true},
		"ARM 403":                 {&azcore.ResponseError{StatusCode: 403}, true},
		"ARM 503":                 {&azcore.ResponseError{StatusCode: 503}, false},
		"Entra ID refuses":        {&azidentity.AuthenticationFailedError{RawResponse: resp(400)}, true},
		"Entra ID down":           {&azidentity.AuthenticationFailedError{RawResponse: resp(503)}, false},
		"no token file":           {azidentity.NewCredentialUnavailableError("no token file"), true},
		"connection refused":      {errors.New("dial tcp: connection refused"), false},
		"wrapped ARM 401 refusal": {fmt.Errorf("reading: %w", &azcore.ResponseError{StatusCode: 401}), true},
	} {
		if got := configRefused(tc.err); got != tc.want {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
}
