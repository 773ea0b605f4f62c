package imagelock

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Options configure Resolve.
type Options struct {
	// Platform picks the image of a multi-platform index (default
	// DefaultPlatform).
	Platform string
	// Keychain authenticates to registries (default: the Docker and
	// Podman credential files, as `docker login` and `podman login`
	// leave them).
	Keychain authn.Keychain
	// Remote are extra go-containerregistry options (a transport, in
	// tests).
	Remote []remote.Option
}

// maxAccountFile bounds what is read of /etc/passwd or /etc/group: an
// image is not trusted input.
const maxAccountFile = 1 << 20

// Resolve looks every reference up in its registry and returns the lock
// of them all; the errors of every reference that failed are joined.
func Resolve(ctx context.Context, refs []string, opts Options) (*Lock, error) {
	platform := opts.Platform
	if platform == "" {
		platform = DefaultPlatform
	}
	plat, err := v1.ParsePlatform(platform)
	if err != nil {
		return nil, fmt.Errorf("platform %q: %w", platform, err)
	}
	keychain := opts.Keychain
	if keychain == nil {
		keychain = authn.DefaultKeychain
	}
	ropts := append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(keychain), remote.WithPlatform(*plat)}, opts.Remote...)
	lock := &Lock{APIVersion: APIVersion, Kind: Kind, Platform: platform}
	var errs []error
	for _, ref := range slices.Compact(slices.Sorted(slices.Values(refs))) {
		im, err := resolve(ref, ropts)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ref, err))
			continue
		}
		lock.Images = append(lock.Images, *im)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return lock, nil
}

func resolve(ref string, ropts []remote.Option) (*Image, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	// remote.Image resolves an index to the platform's image, and the lock
	// keeps that image's digest (what runs), also for a reference that
	// names the index by digest.
	img, err := remote.Image(r, ropts...)
	if err != nil {
		return nil, err
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the image config: %w", err)
	}
	c := cf.Config
	out := &Image{
		Reference: ref,
		Digest:    digest.String(),
		Config: Config{
			User:       c.User,
			Env:        c.Env,
			Entrypoint: c.Entrypoint,
			Cmd:        c.Cmd,
			WorkingDir: c.WorkingDir,
			Tty:        c.Tty,
			NoEnv:      c.Env == nil,
		},
	}
	for v := range c.Volumes {
		out.Config.Volumes = append(out.Config.Volumes, v)
	}
	slices.Sort(out.Config.Volumes)
	passwd, group, err := accountFiles(img)
	if err != nil {
		return nil, err
	}
	if out.Users, err = parsePasswd(passwd); err != nil {
		return nil, fmt.Errorf("/etc/passwd: %w", err)
	}
	if out.Groups, err = parseGroup(group); err != nil {
		return nil, fmt.Errorf("/etc/group: %w", err)
	}
	return out, nil
}

// accountFiles returns the image's final /etc/passwd and /etc/group: the
// topmost layer that has or deletes each decides, as in the container's
// filesystem (a whiteout file, or an opaque /etc, hides the layers below).
func accountFiles(img v1.Image) (passwd, group []byte, err error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, nil, err
	}
	const (
		passwdPath = "etc/passwd"
		groupPath  = "etc/group"
	)
	found := map[string][]byte{}
	decided := map[string]bool{}
	for i := len(layers) - 1; i >= 0 && !(decided[passwdPath] && decided[groupPath]); i-- {
		rc, err := layers[i].Uncompressed()
		if err != nil {
			return nil, nil, err
		}
		hidden, err := scanLayer(rc, decided, found)
		rc.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("layer %d: %w", i, err)
		}
		for _, p := range hidden {
			decided[p] = true
		}
	}
	return found[passwdPath], found[groupPath], nil
}

// scanLayer reads one layer's tar for the account files not yet decided,
// recording their content, and returns the ones the layer deletes or
// hides.
func scanLayer(r io.Reader, decided map[string]bool, found map[string][]byte) ([]string, error) {
	var hidden []string
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return hidden, nil
		}
		if err != nil {
			return nil, err
		}
		p := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		dir, base := path.Split(p)
		switch {
		case dir == "etc/" && base == ".wh..wh..opq":
			hidden = append(hidden, "etc/passwd", "etc/group")
		case dir == "etc/" && (base == ".wh.passwd" || base == ".wh.group"):
			hidden = append(hidden, "etc/"+strings.TrimPrefix(base, ".wh."))
		case (p == "etc/passwd" || p == "etc/group") && !decided[p] && h.Typeflag == tar.TypeReg:
			data, err := io.ReadAll(io.LimitReader(tr, maxAccountFile+1))
			if err != nil {
				return nil, err
			}
			if len(data) > maxAccountFile {
				return nil, fmt.Errorf("/%s is larger than %d bytes", p, maxAccountFile)
			}
			found[p] = data
			decided[p] = true
		}
	}
}

// parsePasswd reads /etc/passwd records (name:password:uid:gid:gecos:
// home:shell). genpolicy refuses a record without seven fields; so does
// this, naming the line. Comments and blank lines, which no libc writes
// there, are refused too.
func parsePasswd(data []byte) ([]User, error) {
	var users []User
	for i, line := range lines(data) {
		f := strings.Split(line, ":")
		if len(f) != 7 {
			return nil, fmt.Errorf("line %d: %d fields, want 7", i+1, len(f))
		}
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		users = append(users, User{Name: f[0], UID: uint32(uid), GID: uint32(gid)})
	}
	return users, nil
}

// parseGroup reads /etc/group records (name:password:gid:members).
func parseGroup(data []byte) ([]Group, error) {
	var groups []Group
	for i, line := range lines(data) {
		f := strings.Split(line, ":")
		if len(f) != 4 {
			return nil, fmt.Errorf("line %d: %d fields, want 4", i+1, len(f))
		}
		gid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		g := Group{Name: f[0], GID: uint32(gid)}
		if f[3] != "" {
			g.Members = strings.Split(f[3], ",")
		}
		groups = append(groups, g)
	}
	return groups, nil
}

// lines splits a file into lines as Rust's str::lines does (genpolicy):
// "\n" or "\r\n" ends a line, and a final line break adds no empty line.
func lines(data []byte) []string {
	s := string(data)
	if s == "" {
		return nil
	}
	s = strings.TrimSuffix(s, "\n")
	out := strings.Split(s, "\n")
	for i, l := range out {
		out[i] = strings.TrimSuffix(l, "\r")
	}
	return out
}
