package kbsconfig_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/golden"
	"github.com/cocogen/cocogen/internal/kbsconfig"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/release"
)

// imageOf is the KBS image of a release line.
func imageOf(line *release.Line) kbsconfig.Image {
	i := line.Trustee.KBSImage
	return kbsconfig.Image{Name: i.Name, AttestationServices: i.AttestationServices, Plugins: i.Plugins, ResourceBackends: i.ResourceBackends}
}

// TestKBSOwnSamples decodes the KBS's own sample and test configurations
// (fixtures/coco-release/kbs-configs) with each line's image: every one
// that targets the built-in attestation service parses; those for the gRPC
// attestation service or Intel Trust Authority are refused where the image
// does not compile them in, as the KBS refuses them.
func TestKBSOwnSamples(t *testing.T) {
	files := golden.Files(t, filepath.Join(testkit.Root(t), "fixtures/coco-release/kbs-configs/*.toml"), 15)
	builtin := 0
	for _, line := range release.All() {
		for _, file := range files {
			name := filepath.Base(file)
			t.Run(line.Name+"/"+name, func(t *testing.T) {
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				_, warnings, err := kbsconfig.Decode(data, imageOf(line))
				switch {
				case strings.Contains(name, "grpc") || strings.Contains(name, "tls-profile") || strings.Contains(name, "docker-compose"):
					if err == nil || !strings.Contains(err.Error(), `"coco_as_grpc" is not compiled into`) {
						t.Errorf("gRPC attestation service accepted: %v", err)
					}
				case strings.Contains(name, "intel") || strings.Contains(name, "ita-"):
					compiled := line.Name == release.OpenShift113
					if (err == nil) != compiled {
						t.Errorf("Intel Trust Authority on %s: err = %v, want compiled in = %v", line.Name, err, compiled)
					}
				default:
					builtin++
					if err != nil {
						t.Errorf("a built-in attestation service configuration is refused:\n%v", err)
					}
				}
				for _, w := range warnings {
					t.Logf("ignored by the KBS: %s", w)
				}
			})
		}
	}
	if builtin < 2*7 {
		t.Errorf("only %d built-in configurations checked", builtin)
	}
}

// TestStrictWhereTheKBSIsStrict: unknown keys under [admin] are errors
// (deny_unknown_fields), elsewhere warnings (the KBS drops them); a
// missing required table, a wrong type and an unknown variant are errors.
func TestStrictWhereTheKBSIsStrict(t *testing.T) {
	image := imageOf(release.MustGet(release.Default))
	for _, tc := range []struct {
		name, doc string
		errs      []string
		warnings  []string
	}{
		{"legacy admin keys", "[http_server]\n[admin]\ninsecure_api = true\nauth_public_key = \"/k\"\n",
			[]string{"admin.authorization_mode: missing", "admin.auth_public_key: unknown field", "admin.insecure_api: unknown field"}, nil},
		{"extra key in DenyAll", "[http_server]\n[admin]\nauthorization_mode = \"DenyAll\"\nx = 1\n", []string{"admin.x: unknown field"}, nil},
		{"authenticated needs both tables", "[http_server]\n[admin]\nauthorization_mode = \"AuthenticatedAuthorization\"\n",
			[]string{"admin.authentication: missing", "admin.authorization: missing"}, nil},
		{"no admin", "[http_server]\n", []string{"admin: missing"}, nil},
		{"legacy tables ignored", "[http_server]\n[admin]\nauthorization_mode = \"DenyAll\"\n[policy_engine]\npolicy_path = \"/p\"\n[attestation_token]\ninsecure_key = true\n", nil,
			[]string{"attestation_token.insecure_key: ignored", "policy_engine: ignored"}},
		{"resource plugin needs a backend", "[http_server]\n[admin]\nauthorization_mode = \"DenyAll\"\n[[plugins]]\nname = \"resource\"\ntype = \"LocalFs\"\ndir_path = \"/x\"\n",
			[]string{"plugins[0].storage_backend_type: missing"}, []string{"plugins[0].dir_path: ignored", "plugins[0].type: ignored"}},
		{"attestation_service needs type", "[http_server]\n[admin]\nauthorization_mode = \"DenyAll\"\n[attestation_service]\ntimeout = 7\n",
			[]string{"attestation_service.type: missing"}, nil},
		{"strict types", "[http_server]\nsockets = \"0.0.0.0:8080\"\n[admin]\nauthorization_mode = \"DenyAll\"\n[attestation_service]\ntype = \"coco_as_builtin\"\n[attestation_service.attestation_token_broker]\nduration_min = \"5\"\n",
			[]string{"attestation_service.attestation_token_broker.duration_min: want an integer", "http_server.sockets: want an array"}, nil},
		{"storage spellings", "[http_server]\n[admin]\nauthorization_mode = \"DenyAll\"\n[storage_backend]\nstorage_type = \"localjson\"\n",
			[]string{`storage_backend.storage_type: unknown storage type "localjson"`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, warnings, err := kbsconfig.Decode([]byte(tc.doc), image)
			got := ""
			if err != nil {
				got = err.Error()
			}
			for _, want := range tc.errs {
				if !strings.Contains(got, want) {
					t.Errorf("errors lack %q:\n%s", want, got)
				}
			}
			if len(tc.errs) == 0 && err != nil {
				t.Errorf("unexpected errors:\n%v", err)
			}
			var ws []string
			for _, w := range warnings {
				ws = append(ws, w.String())
			}
			for _, want := range tc.warnings {
				if !strings.Contains(strings.Join(ws, "\n"), want) {
					t.Errorf("warnings lack %q: %v", want, ws)
				}
			}
		})
	}
}

// TestStartupChecks: the official sample config starts; configurations
// that parse but that the KBS would not start with are refused.
func TestStartupChecks(t *testing.T) {
	image := imageOf(release.MustGet(release.Default))
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(testkit.Root(t), "fixtures/coco-release/kbs-configs", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	cfg, _, err := kbsconfig.Decode(read("config-kbs-config.toml"), image)
	if err != nil {
		t.Fatal(err)
	}
	if ps := kbsconfig.Check(cfg); len(ps) > 0 {
		t.Errorf("kbs/config/kbs-config.toml would not start:\n%v", ps)
	}
	cfg, _, err = kbsconfig.Decode(read("test_data-configs-coco-as-builtin-2.toml"), image)
	if err != nil {
		t.Fatal(err)
	}
	if ps := kbsconfig.Check(cfg); !strings.Contains(ps.Error(), "attestation_token: no trusted_certs_paths") {
		t.Errorf("a KBS without token trust material starts: %v", ps)
	}
	doc := `[http_server]
insecure_http = false
[admin]
authorization_mode = "AuthenticatedAuthorization"
[admin.authentication.bearer_jwt]
identity_providers = [{issuer = "x"}]
[admin.authorization.regex_acl]
acls = [{role = "admin", allowed_endpoints = "/kbs/v0/.*"}]
[attestation_token]
insecure_header_jwk = true
[storage_backend]
storage_type = "LocalJson"
`
	cfg, _, err = kbsconfig.Decode([]byte(doc), image)
	if err != nil {
		t.Fatal(err)
	}
	got := kbsconfig.Check(cfg).Error()
	for _, want := range []string{
		"storage_backend.storage_type: storage type LocalJson needs a [storage_backend.backends.local_json] table",
		"identity_providers[0]: set public_key_uri and/or jwk_set_uri",
		`acls[0].allowed_endpoints: "/kbs/v0/.*" must start with ^/kbs and end with $`,
		"http_server.certificate: required",
		"http_server.private_key: required",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("checks lack %q:\n%s", want, got)
		}
	}
}
