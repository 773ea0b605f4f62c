package peerpodd

import (
	"io"

	"github.com/cocogen/cocogen/pkg/manifest"
)

// KustomizationFile is the kustomization Tree writes beside the objects.
const KustomizationFile = "kustomization.yaml"

// Tree lays the objects out as a kustomize base: one file per object at
// its tree path (<Kind>/[<namespace>/]<name>.yaml, the rendered tree's
// layout) and a kustomization.yaml listing them, for manifest.WriteTree
// and the golden test.
func Tree(objs []manifest.Object) (*manifest.Set, error) {
	set := &manifest.Set{}
	set.Add(objs...)
	resources := make([]string, 0, len(objs))
	for _, o := range objs {
		resources = append(resources, o.TreePath())
	}
	k, err := manifest.MarshalFile(manifest.Object{Origin: origin, Content: map[string]any{
		"apiVersion": "kustomize.config.k8s.io/v1beta1",
		"kind":       "Kustomization",
		"resources":  manifest.StringList(resources),
	}})
	if err != nil {
		return nil, err
	}
	set.AddFile(KustomizationFile, k, origin)
	return set, nil
}

// WriteStream writes the objects as one YAML stream, each document
// starting with "# Source: <path>" as `cocogen render` does
// (manifest.WriteStream: everything is encoded before the first byte is
// written, so a failure writes nothing).
func WriteStream(w io.Writer, objs []manifest.Object) error {
	set := &manifest.Set{}
	set.Add(objs...)
	return manifest.WriteStream(w, set)
}
