package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cocogen/cocogen/pkg/deploy/peerpodd"
	"github.com/cocogen/cocogen/pkg/manifest"
)

const peerpoddImage = "ghcr.io/cocogen/peerpodd@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestPeerpoddManifests: the command is the package's output for the
// options its flags make, on stdout or as a kustomize base.
func TestPeerpoddManifests(t *testing.T) {
	opts := peerpodd.DefaultOptions()
	opts.Image = peerpoddImage
	opts.Namespace = "pp"
	opts.PeerPodsLimit = 3
	opts.NodeSelector = map[string]string{"pool": "cc"}
	objs, err := peerpodd.Objects(opts)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"peerpodd", "manifests", "--image", peerpoddImage, "--namespace", "pp", "--peer-pods-limit", "3", "--node-selector", "pool=cc"}

	code, stdout, stderr := cli(t, "", args...)
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var want bytes.Buffer
	if err := peerpodd.WriteStream(&want, objs); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.String(), stdout); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}

	dir := filepath.Join(t.TempDir(), "base")
	for range 2 { // the second run replaces what the first wrote
		if code, stdout, stderr := cli(t, "", append(args, "-o", dir)...); code != exitOK || stdout != "" {
			t.Fatalf("-o: exit %d, stdout %q: %s", code, stdout, stderr)
		}
	}
	got, err := manifest.ReadTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	set, err := peerpodd.Tree(objs)
	if err != nil {
		t.Fatal(err)
	}
	wantTree, err := manifest.Tree(set)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantTree, got); diff != "" {
		t.Errorf("-o tree (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, manifest.MarkerFile)); err != nil {
		t.Errorf("no marker: %v", err)
	}

	// A file cocogen did not write: refused (exit 2), untouched.
	foreign := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(foreign, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := cli(t, "", append(args, "-o", dir)...); code != exitInvalid || !strings.Contains(stderr, "notes.txt") {
		t.Errorf("foreign file: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("the refused run removed notes.txt: %v", err)
	}
}

// TestPeerpoddManifestsInvalidFlags: exit 2, every problem named by its
// flag, nothing written.
func TestPeerpoddManifestsInvalidFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := cli(t, "", "peerpodd", "manifests", "-o", dir,
		"--image", "ghcr.io/cocogen/peerpodd:latest", "--namespace", "Bad_NS", "--peer-pods-limit", "0",
		"--node-selector", "bad key=x", "--runtime-class", "UPPER", "--handler", "a.b", "--cloud-provider", "Az")
	if code != exitInvalid {
		t.Fatalf("exit %d, want %d: %s", code, exitInvalid, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout %q", stdout)
	}
	for _, flag := range []string{"--image", "--namespace", "--peer-pods-limit", "--node-selector", "--runtime-class", "--handler", "--cloud-provider"} {
		if !strings.Contains(stderr, "\n  "+flag+": ") {
			t.Errorf("stderr does not name %s:\n%s", flag, stderr)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s was created", dir)
	}

	for _, args := range [][]string{
		{"peerpodd", "manifests"}, // --image is required
		{"peerpodd", "manifests", "--image", peerpoddImage, "--peer-pods-limit", "many"},
		{"peerpodd", "manifests", "--image", peerpoddImage, "extra"},
		{"peerpodd", "frobnicate"},
	} {
		if code, _, stderr := cli(t, "", args...); code != exitInvalid {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitInvalid, stderr)
		}
	}
}
