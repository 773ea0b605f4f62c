package main

import (
	"bytes"
	"io"
	"io/fs"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/imagelock"
)

// exampleRepo copies the bundled example into a repository of its own,
// its workloads' images moved to host.
func exampleRepo(t *testing.T, host string) string {
	t.Helper()
	root := testkit.Root(t)
	repo := t.TempDir()
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	pattern, err := os.ReadFile(filepath.Join(root, "fixtures", "azure-simple", "pattern.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	testkit.WriteFile(t, filepath.Join(repo, "pattern.yaml"), string(pattern))
	err = fs.WalkDir(os.DirFS(root), "apps", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			return err
		}
		text := strings.NewReplacer("quay.io/openshift/", host+"/openshift/", "registry.access.redhat.com/ubi9/", host+"/ubi9/").Replace(string(data))
		testkit.WriteFile(t, filepath.Join(repo, p), text)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

func TestImagesLock(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	repo := exampleRepo(t, u.Host)
	pattern := filepath.Join(repo, "pattern.yaml")
	lockFile := filepath.Join(repo, imagelock.DefaultFile)

	// Only one of the two images exists: nothing is written, both are named.
	hello, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	hello, err = mutate.Config(hello, v1.Config{User: "1001", Cmd: []string{"/usr/bin/hello-openshift"}})
	if err != nil {
		t.Fatal(err)
	}
	pushImage(t, u.Host+"/openshift/origin-hello-openshift:4.16", hello)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"images", "lock", "-f", pattern}, nil, &stdout, &stderr); code != exitInvalid {
		t.Fatalf("exit %d with an image missing, want %d: %s", code, exitInvalid, stderr.String())
	}
	if !strings.Contains(stderr.String(), u.Host+"/ubi9/ubi-minimal:9.5") || !strings.Contains(stderr.String(), "nothing written") {
		t.Errorf("the error does not name the missing image:\n%s", stderr.String())
	}
	if _, err := os.Stat(lockFile); !os.IsNotExist(err) {
		t.Fatalf("a lock was written although an image failed: %v", err)
	}

	ubi, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	pushImage(t, u.Host+"/ubi9/ubi-minimal:9.5", ubi)
	stderr.Reset()
	if code := run([]string{"images", "lock", "-f", pattern}, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	data, err := os.ReadFile(lockFile)
	if err != nil {
		t.Fatal(err)
	}
	lock, err := imagelock.Parse(lockFile, data)
	if err != nil {
		t.Fatal(err)
	}
	helloDigest, _ := hello.Digest()
	ubiDigest, _ := ubi.Digest()
	im, ok := lock.Find(u.Host + "/openshift/origin-hello-openshift:4.16")
	if !ok || im.Digest != helloDigest.String() || im.Config.User != "1001" {
		t.Errorf("hello-openshift locked as %+v", im)
	}
	if im, ok := lock.Find(u.Host + "/ubi9/ubi-minimal:9.5"); !ok || im.Digest != ubiDigest.String() {
		t.Errorf("ubi-minimal locked as %+v", im)
	}
	if len(lock.Images) != 2 || !strings.Contains(stderr.String(), "locked 2 images of 3 confidential containers") {
		t.Errorf("%d images locked; said %q", len(lock.Images), stderr.String())
	}

	// The lock is what a workload profile renders from: the workloads'
	// images are pinned to it and each gets its own policy. The example
	// opts out with exec-deny because it has no lock; without that line
	// its profile is a workload profile, the default.
	data, _ = os.ReadFile(pattern)
	bound := strings.Replace(string(data), "        policy: {profile: exec-deny}\n", "", 1)
	if bound == string(data) {
		t.Fatal("cannot bind the example's default profile")
	}
	testkit.WriteFile(t, pattern, bound)
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"render", "-f", pattern}, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("render with the lock: exit %d: %s", code, stderr.String())
	}
	for _, pinned := range []string{u.Host + "/ubi9/ubi-minimal:9.5@" + ubiDigest.String(), u.Host + "/openshift/origin-hello-openshift:4.16@" + helloDigest.String()} {
		if !strings.Contains(stdout.String(), pinned) {
			t.Errorf("the render does not pin %s", pinned)
		}
	}
}

func pushImage(t *testing.T, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
}
