package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/generators"
	"github.com/cocogen/cocogen/pkg/imagelock"
	"github.com/cocogen/cocogen/pkg/render"
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
		Long: `Renders the pattern, collects the images of its confidential workloads
(containers and init containers of every workload cocogen gives init-data),
and looks each up in its registry: the digest of the platform's image, its
config (user, env, entrypoint, cmd, working directory, volumes) and the
users and groups of its /etc/passwd and /etc/group. The lock is written
beside the pattern (images.lock.yaml) unless -o says otherwise, replacing
the previous one only when every image resolved. Registry credentials come
from docker login / podman login.`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if req.Path == "" {
				return usageError{fmt.Errorf("-f PATTERN is required")}
			}
			req.Generators = generators.All()
			res, err := render.Run(cmd.Context(), req)
			if err != nil {
				return err
			}
			printFindings(cmd.ErrOrStderr(), res.Findings)
			objs := make([]map[string]any, len(res.Set.Objects))
			for i, o := range res.Set.Objects {
				objs[i] = o.Content
			}
			uses := imagelock.Images(objs)
			lock, err := imagelock.Resolve(cmd.Context(), imagelock.References(uses), imagelock.Options{Platform: platform})
			if err != nil {
				return usageError{fmt.Errorf("resolving images (nothing written):\n%w", err)}
			}
			data, err := lock.Marshal()
			if err != nil {
				return internalError{err}
			}
			if out == "" {
				out = filepath.Join(filepath.Dir(req.Path), imagelock.DefaultFile)
			}
			if err := writeFileAtomic(out, data); err != nil {
				return internalError{err}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "cocogen: locked %d images of %d confidential containers in %s\n", len(lock.Images), len(uses), out)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVarP(&req.Path, "file", "f", "", "pattern file (.yaml, .yml, .json, .jsonnet)")
	f.StringVarP(&out, "output", "o", "", "lock file to write (default: images.lock.yaml beside the pattern)")
	f.StringVar(&platform, "platform", imagelock.DefaultPlatform, "OS/architecture whose image to lock from a multi-platform index")
	f.StringVar(&req.RepoRoot, "repo-root", "", "root of the pattern's git repository (default: the nearest parent of the pattern holding .git)")
	addLimitFlags(f, &req.Load.Limits)
	return cmd
}

// writeFileAtomic replaces path with data: a temporary file in the same
// directory, then a rename, so a reader sees the old file or the new one.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
