// Package imagelock is the image lock: the digest and configuration of
// every image a pattern's confidential workloads run, resolved once from
// the registries (`cocogen images lock`) and committed as
// images.lock.yaml, so that generating agent policies never touches the
// network and a tag that moves changes the repository, not the cluster.
//
// What is kept per image is what kata's genpolicy reads from a registry
// (src/tools/genpolicy/src/registry.rs, kata 3.25.0): the image config's
// User, Env, Entrypoint, Cmd, WorkingDir, Tty and Volumes, and the users
// and groups of the image's final /etc/passwd and /etc/group, which name
// the uid, gid and additional gids a user name stands for.
package imagelock

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/cocogen/cocogen/pkg/manifest"
)

// APIVersion and Kind head a lock file.
const (
	APIVersion = "cocogen.dev/v1alpha1"
	Kind       = "ImageLock"
	// DefaultFile is the lock's name beside the pattern.
	DefaultFile = "images.lock.yaml"
	// DefaultPlatform is what peer-pod VMs run (Azure, AWS and IBM Cloud
	// confidential instances are x86-64).
	DefaultPlatform = "linux/amd64"
)

// Lock is a lock file.
type Lock struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	// Platform is the OS/architecture the digests were chosen for.
	Platform string  `yaml:"platform"`
	Images   []Image `yaml:"images"`
}

// Image is one locked image.
type Image struct {
	// Reference is the image as the workloads write it.
	Reference string `yaml:"reference"`
	// Digest is the platform's image manifest (sha256:...), what a pull
	// by digest fetches.
	Digest string `yaml:"digest"`
	Config Config `yaml:"config"`
	// Users and Groups are the image's /etc/passwd and /etc/group, after
	// every layer (empty when the image has none).
	Users  []User  `yaml:"users,omitempty"`
	Groups []Group `yaml:"groups,omitempty"`
}

// Config is the part of the OCI image config a container's process comes
// from.
type Config struct {
	User       string   `yaml:"user,omitempty"`
	Env        []string `yaml:"env,omitempty"`
	Entrypoint []string `yaml:"entrypoint,omitempty"`
	Cmd        []string `yaml:"cmd,omitempty"`
	WorkingDir string   `yaml:"workingDir,omitempty"`
	Tty        bool     `yaml:"tty,omitempty"`
	// Volumes are the image's declared volume paths, sorted.
	Volumes []string `yaml:"volumes,omitempty"`
	// NoEnv records an image config without Env at all, which runtimes
	// fill with a default PATH (genpolicy: containerd's default unix env),
	// as opposed to an empty one.
	NoEnv bool `yaml:"noEnv,omitempty"`
}

// User is an /etc/passwd record.
type User struct {
	Name string `yaml:"name"`
	UID  uint32 `yaml:"uid"`
	GID  uint32 `yaml:"gid"`
}

// Group is an /etc/group record.
type Group struct {
	Name    string   `yaml:"name"`
	GID     uint32   `yaml:"gid"`
	Members []string `yaml:"members,omitempty"`
}

// Find returns the locked image for a reference as a workload writes it.
func (l *Lock) Find(ref string) (*Image, bool) {
	i, ok := slices.BinarySearchFunc(l.Images, ref, func(im Image, r string) int { return strings.Compare(im.Reference, r) })
	if !ok {
		return nil, false
	}
	return &l.Images[i], true
}

// header opens every lock file.
const header = `# The images cocogen's confidential workloads run, resolved by
# "cocogen images lock" (rerun it after changing an image or to take a
# moved tag). Commit this file: agent policies are generated from it,
# offline, and pin each image to its digest.
`

// Marshal writes the lock canonically: images sorted by reference, keys
// sorted, one way to write each lock.
func (l *Lock) Marshal() ([]byte, error) {
	images := slices.Clone(l.Images)
	slices.SortFunc(images, func(a, b Image) int { return strings.Compare(a.Reference, b.Reference) })
	list := make([]any, len(images))
	for i, im := range images {
		list[i] = im.content()
	}
	platform := l.Platform
	if platform == "" {
		platform = DefaultPlatform
	}
	out, err := manifest.Marshal(manifest.Object{Content: map[string]any{
		"apiVersion": APIVersion,
		"kind":       Kind,
		"platform":   platform,
		"images":     list,
	}})
	if err != nil {
		return nil, err
	}
	return append([]byte(header), out...), nil
}

func (im Image) content() map[string]any {
	cfg := map[string]any{}
	set := func(k string, v []string) {
		if len(v) > 0 {
			cfg[k] = manifest.StringList(v)
		}
	}
	if im.Config.User != "" {
		cfg["user"] = im.Config.User
	}
	set("env", im.Config.Env)
	set("entrypoint", im.Config.Entrypoint)
	set("cmd", im.Config.Cmd)
	set("volumes", im.Config.Volumes)
	if im.Config.WorkingDir != "" {
		cfg["workingDir"] = im.Config.WorkingDir
	}
	if im.Config.Tty {
		cfg["tty"] = true
	}
	if im.Config.NoEnv {
		cfg["noEnv"] = true
	}
	m := map[string]any{"reference": im.Reference, "digest": im.Digest, "config": cfg}
	if len(im.Users) > 0 {
		users := make([]any, len(im.Users))
		for i, u := range im.Users {
			users[i] = map[string]any{"name": u.Name, "uid": int64(u.UID), "gid": int64(u.GID)}
		}
		m["users"] = users
	}
	if len(im.Groups) > 0 {
		groups := make([]any, len(im.Groups))
		for i, g := range im.Groups {
			e := map[string]any{"name": g.Name, "gid": int64(g.GID)}
			if len(g.Members) > 0 {
				e["members"] = manifest.StringList(g.Members)
			}
			groups[i] = e
		}
		m["groups"] = groups
	}
	return m
}

// Parse reads a lock file strictly: unknown fields, a wrong kind, an
// unsorted or repeated reference or a malformed digest is an error naming
// the file and line.
func Parse(file string, data []byte) (*Lock, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var l Lock
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var errs []error
	if l.APIVersion != APIVersion || l.Kind != Kind {
		errs = append(errs, fmt.Errorf("%s: a %s %s, want a %s %s", file, l.APIVersion, l.Kind, APIVersion, Kind))
	}
	for i, im := range l.Images {
		where := fmt.Sprintf("%s: images[%d]", file, i)
		if im.Reference == "" {
			errs = append(errs, fmt.Errorf("%s.reference: empty", where))
		}
		if !validDigest(im.Digest) {
			errs = append(errs, fmt.Errorf("%s.digest: %q is not a sha256 digest", where, im.Digest))
		}
		if i > 0 && strings.Compare(l.Images[i-1].Reference, im.Reference) >= 0 {
			errs = append(errs, fmt.Errorf("%s.reference: %q is out of order or repeated (the file is written sorted; rerun cocogen images lock)", where, im.Reference))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &l, nil
}

func validDigest(d string) bool {
	hex, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for _, c := range hex {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
