package render_test

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/generators/trustee"
	"github.com/cocogen/cocogen/internal/kbsconfig"
	"github.com/cocogen/cocogen/pkg/initdata"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/release"
)

// trusteeConfigMap returns a Trustee ConfigMap's one value from a golden
// tree, or "" when the fixture has no hub.
func trusteeConfigMap(t *testing.T, tree map[string]string, name, key string) string {
	t.Helper()
	for path, content := range tree {
		if strings.HasSuffix(path, "/ConfigMap/trustee-operator-system/"+name+".yaml") && !strings.HasPrefix(path, "bootstrap/") {
			objs, err := manifest.ReadStream([]byte(content))
			if err != nil || len(objs) != 1 {
				t.Fatalf("%s: %v", path, err)
			}
			v, _ := objs[0]["data"].(map[string]any)[key].(string)
			return v
		}
	}
	return ""
}

// TestGoldenKBSConfigs decodes the kbs-config.toml of every golden tree
// with the strict mirror of its line's KBS: nothing refused, nothing the
// KBS would ignore, and it would start.
func TestGoldenKBSConfigs(t *testing.T) {
	checked := 0
	for _, v := range variants(t) {
		t.Run(v.Name(), func(t *testing.T) {
			line := release.MustGet(v.line)
			tree, err := manifest.ReadTree(v.expected())
			if err != nil {
				t.Fatal(err)
			}
			data := trusteeConfigMap(t, tree, trustee.KBSConfigMap, line.Trustee.KBSConfigKey)
			if data == "" {
				return
			}
			checked++
			i := line.Trustee.KBSImage
			cfg, ignored, err := kbsconfig.Decode([]byte(data), kbsconfig.Image{Name: i.Name, AttestationServices: i.AttestationServices, Plugins: i.Plugins, ResourceBackends: i.ResourceBackends})
			if err != nil {
				t.Fatalf("the KBS of %s refuses it:\n%v", line.Name, err)
			}
			if len(ignored) > 0 {
				t.Errorf("keys the KBS ignores: %v", ignored)
			}
			if ps := kbsconfig.Check(cfg); len(ps) > 0 {
				t.Errorf("the KBS would not start:\n%v", ps)
			}
		})
	}
	if checked == 0 {
		t.Fatal("no fixture has a KBS")
	}
}

// TestGoldenReferenceValues decodes every golden tree's reference value
// store in its line's layout and finds, for every init-data document of
// the tree (recomputed from the TOML file itself), the form each TEE the
// document's workloads run in reports; debug profiles' are absent.
func TestGoldenReferenceValues(t *testing.T) {
	checked := 0
	for _, v := range variants(t) {
		t.Run(v.Name(), func(t *testing.T) {
			line := release.MustGet(v.line)
			res := renderVariant(t, v)
			tree, err := manifest.ReadTree(v.expected())
			if err != nil {
				t.Fatal(err)
			}
			store := trusteeConfigMap(t, tree, trustee.ReferenceValuesMap, line.Trustee.ReferenceValuesKey)
			if store == "" {
				return
			}
			rvs, err := trustee.DecodeReferenceValues(store, line)
			if err != nil {
				t.Fatal(err)
			}
			values := func(name string) []any { l, _ := rvs[name].Value.([]any); return l }
			p := res.Pattern
			for path, doc := range tree {
				if !strings.Contains(path, "/initdata/") || !strings.HasSuffix(path, ".toml") {
					continue
				}
				// <group>/initdata/<profile>.toml, or a workload profile's
				// <group>/initdata/<profile>/<app>/<workload>.toml.
				_, rest, _ := strings.Cut(path, "/initdata/")
				name, _, _ := strings.Cut(strings.TrimSuffix(rest, ".toml"), "/")
				ref, ok := p.ProfileRef(name)
				if !ok {
					t.Fatalf("%s: no profile %q", path, name)
				}
				parsed, err := initdata.Parse([]byte(doc))
				if err != nil {
					t.Fatal(err)
				}
				digest, _ := initdata.Digest(parsed.Algorithm, []byte(doc))
				inner := sha256.Sum256([]byte(doc))
				pcr8 := sha256.Sum256(append(make([]byte, 32), inner[:]...))
				debug := ref.Profile.Policy.Profile == "debug" && !p.Spec.Trustee.TrustDebug
				for _, tee := range p.ProfileTEEs(name) {
					var rv, want string
					switch tee {
					case release.TEEAzureVTPM:
						rv, want = "init_data_pcr08", hex.EncodeToString(pcr8[:])
					case release.TEESNP:
						hd := initdata.HostDataOf(digest)
						rv, want = "init_data_host_data", hex.EncodeToString(hd[:])
					case release.TEETDX:
						mr := initdata.MRConfigIDOf(digest)
						rv, want = "init_data_mr_config_id", hex.EncodeToString(mr[:])
					}
					checked++
					if got := slices.Contains(values(rv), any(want)); got == debug {
						t.Errorf("%s on %s: %s listed = %v, want %v", name, tee, rv, got, !debug)
					}
				}
			}
		})
	}
	if checked == 0 {
		t.Fatal("no init-data document checked")
	}
}
