package main

import (
	"fmt"
	"path/filepath"

	"github.com/cocogen/cocogen/internal/atomicfile"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/internal/profiles"
	"github.com/cocogen/cocogen/pkg/imagelock"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
)

func newImagesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "images",
		Short: "The images of a pattern's confidential workloads",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newImagesLockCmd())
	return cmd
}

func newImagesLockCmd() *cobra.Command {
	var (
		req      render.Request
		out      string
		platform string
	)
	cmd := &cobra.Command{
		Use:   "lock -f PATTERN [-o images.lock.yaml]",
		Short: "Resolve every image the confidential workloads run to its digest and configuration, into a lock file to commit",
		Long: `Reads the pattern's confidential applications as the render does, collects
the images of their workloads (containers and init containers of every
workload cocogen gives init-data),
and looks each up in its registry: the digest of the platform's image, its
config (user, env, entrypoint, cmd, working directory, volumes) and the
users and groups of its /etc/passwd and /etc/group. The lock is written
where the pattern's spec.imageLock says (images.lock.yaml beside the
pattern by default) unless -o says otherwise, replacing
the previous one only when every image resolved. Registry credentials come
from docker login / podman login.`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if req.Path == "" {
				return usageError{fmt.Errorf("-f PATTERN is required")}
			}
			// The workloads are read as the render reads them, without
			// rendering: a workload profile's render needs the lock.
			root := req.RepoRoot
			if root == "" {
				root = spec.FindRepoRoot(req.Path)
			}
			repo, err := spec.OpenRepository(root)
			if err != nil {
				return usageError{err}
			}
			defer repo.Close()
			p, err := spec.Load(req.Path, spec.LoadOptions{RepoRoot: root, Limits: req.Load.Limits})
			if err != nil {
				return err
			}
			uses, err := profiles.WorkloadImages(p, repo.FS(), req.Load.Limits.WithDefaults().MaxInputBytes)
			if err != nil {
				return err
			}
			lock, err := imagelock.Resolve(cmd.Context(), imagelock.References(uses), imagelock.Options{Platform: platform})
			if err != nil {
				return usageError{fmt.Errorf("resolving images (nothing written):\n%w", err)}
			}
			data, err := lock.Marshal()
			if err != nil {
				return internalError{err}
			}
			if out == "" {
				// spec.imageLock, where the render reads it.
				out = filepath.Join(root, filepath.FromSlash(p.Spec.ImageLock))
			}
			if err := atomicfile.Write(out, data, 0o644); err != nil {
				return internalError{err}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "cocogen: locked %d images of %d confidential containers in %s\n", len(lock.Images), len(uses), out)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVarP(&req.Path, "file", "f", "", "pattern file (.yaml, .yml, .json, .jsonnet)")
	f.StringVarP(&out, "output", "o", "", "lock file to write (default: the pattern's spec.imageLock, images.lock.yaml beside it)")
	f.StringVar(&platform, "platform", imagelock.DefaultPlatform, "OS/architecture whose image to lock from a multi-platform index")
	f.StringVar(&req.RepoRoot, "repo-root", "", "root of the pattern's git repository (default: the nearest parent of the pattern holding .git)")
	addLimitFlags(f, &req.Load.Limits)
	return cmd
}
