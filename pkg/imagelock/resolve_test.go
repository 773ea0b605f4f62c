package imagelock_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/cocogen/cocogen/pkg/imagelock"
)

// layer is a layer holding the given files (path -> content; an empty
// content with a .wh. name is a whiteout).
func layer(t *testing.T, files map[string]string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range sortedKeys(files) {
		if err := tw.WriteHeader(&tar.Header{Name: p, Mode: 0o644, Size: int64(len(files[p])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[p])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func sortedKeys(m map[string]string) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

func image(t *testing.T, cfg v1.Config, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.Config(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// registryHost starts go-containerregistry's registry on loopback.
func registryHost(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func push(t *testing.T, ref string, img v1.Image) v1.Hash {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var opts = imagelock.Options{Keychain: authn.NewMultiKeychain()}

const passwd = "root:x:0:0:root:/root:/bin/bash\napp:x:1001:1002:App:/home/app:/sbin/nologin\n"
const group = "root:x:0:\napp:x:1002:\nwheel:x:10:app,root\n"

func TestResolve(t *testing.T) {
	host := registryHost(t)
	app := image(t, v1.Config{
		User: "app", Env: []string{"PATH=/usr/bin", "A=1"}, Entrypoint: []string{"/bin/app"}, Cmd: []string{"--serve"},
		WorkingDir: "/srv", Volumes: map[string]struct{}{"/data": {}, "/cache": {}},
	},
		layer(t, map[string]string{"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n", "bin/app": "x"}),
		layer(t, map[string]string{"etc/passwd": passwd, "etc/group": group}),
	)
	appDigest := push(t, host+"/team/app:1.0", app)

	// A later layer deleting /etc/group hides the one below.
	deleted := image(t, v1.Config{},
		layer(t, map[string]string{"etc/passwd": passwd, "etc/group": group}),
		layer(t, map[string]string{"etc/.wh.group": ""}),
	)
	deletedDigest := push(t, host+"/team/nogroup:1", deleted)

	// A multi-platform index: the lock takes the amd64 image.
	amd := image(t, v1.Config{Cmd: []string{"amd64"}}, layer(t, map[string]string{"a": "1"}))
	arm := image(t, v1.Config{Cmd: []string{"arm64"}}, layer(t, map[string]string{"a": "2"}))
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
	)
	r, _ := name.ParseReference(host + "/team/multi:2")
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	amdDigest, _ := amd.Digest()

	refs := []string{host + "/team/nogroup:1", host + "/team/app:1.0", host + "/team/multi:2", host + "/team/app:1.0"}
	lock, err := imagelock.Resolve(context.Background(), refs, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := &imagelock.Lock{APIVersion: imagelock.APIVersion, Kind: imagelock.Kind, Platform: "linux/amd64", Images: []imagelock.Image{
		{
			Reference: host + "/team/app:1.0", Digest: appDigest.String(),
			Config: imagelock.Config{User: "app", Env: []string{"PATH=/usr/bin", "A=1"}, Entrypoint: []string{"/bin/app"}, Cmd: []string{"--serve"}, WorkingDir: "/srv", Volumes: []string{"/cache", "/data"}},
			Users:  []imagelock.User{{Name: "root", UID: 0, GID: 0}, {Name: "app", UID: 1001, GID: 1002}},
			Groups: []imagelock.Group{{Name: "root", GID: 0}, {Name: "app", GID: 1002}, {Name: "wheel", GID: 10, Members: []string{"app", "root"}}},
		},
		{Reference: host + "/team/multi:2", Digest: amdDigest.String(), Config: imagelock.Config{Cmd: []string{"amd64"}, NoEnv: true}},
		{
			Reference: host + "/team/nogroup:1", Digest: deletedDigest.String(), Config: imagelock.Config{NoEnv: true},
			Users: []imagelock.User{{Name: "root", UID: 0, GID: 0}, {Name: "app", UID: 1001, GID: 1002}},
		},
	}}
	if diff := cmp.Diff(want, lock); diff != "" {
		t.Errorf("lock (-want +got):\n%s", diff)
	}

	// The file reads back as written, and writes the same bytes again.
	data, err := lock.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := imagelock.Parse("images.lock.yaml", data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if diff := cmp.Diff(lock, back); diff != "" {
		t.Errorf("round trip (-wrote +read):\n%s", diff)
	}
	again, _ := back.Marshal()
	if !bytes.Equal(data, again) {
		t.Errorf("not canonical:\n%s\n---\n%s", data, again)
	}
	if im, ok := back.Find(host + "/team/multi:2"); !ok || im.Digest != amdDigest.String() {
		t.Errorf("Find: %v %v", im, ok)
	}
}

func TestResolveErrorsNameEveryImage(t *testing.T) {
	host := registryHost(t)
	push(t, host+"/ok:1", image(t, v1.Config{}, layer(t, map[string]string{"a": "b"})))
	bad := image(t, v1.Config{}, layer(t, map[string]string{"etc/passwd": "root:x:0:0\n"}))
	push(t, host+"/badpasswd:1", bad)
	_, err := imagelock.Resolve(context.Background(), []string{host + "/ok:1", host + "/missing:1", host + "/badpasswd:1", "Not A Reference"}, opts)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{host + "/missing:1:", host + "/badpasswd:1: /etc/passwd: line 1: 4 fields, want 7", "Not A Reference:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), host+"/ok:1:") {
		t.Errorf("error names an image that resolved:\n%v", err)
	}
}

func TestParseRefusesWhatItDidNotWrite(t *testing.T) {
	digest := "sha256:" + strings.Repeat("a", 64)
	for name, tc := range map[string]struct{ text, want string }{
		"unknown field": {"apiVersion: cocogen.dev/v1alpha1\nkind: ImageLock\nplatform: linux/amd64\nimages:\n- reference: a\n  digest: " + digest + "\n  config: {}\n  extra: 1\n", "line 8: field extra not found"},
		"kind":          {"apiVersion: v1\nkind: ConfigMap\n", "want a cocogen.dev/v1alpha1 ImageLock"},
		"digest":        {"apiVersion: cocogen.dev/v1alpha1\nkind: ImageLock\nimages:\n- reference: a\n  digest: latest\n  config: {}\n", `images[0].digest: "latest" is not a sha256 digest`},
		"order": {"apiVersion: cocogen.dev/v1alpha1\nkind: ImageLock\nimages:\n- reference: b\n  digest: " + digest + "\n  config: {}\n- reference: a\n  digest: " + digest + "\n  config: {}\n",
			`images[1].reference: "a" is out of order or repeated`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := imagelock.Parse("images.lock.yaml", []byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "images.lock.yaml") {
				t.Errorf("Parse: %v, want an error with %q and the file", err, tc.want)
			}
		})
	}
}
