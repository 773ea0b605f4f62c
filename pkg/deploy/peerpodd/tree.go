package peerpodd

import (
	"bytes"
	"io"
	"path"

	"github.com/cocogen/cocogen/pkg/manifest"
)

// Header starts every file and document this package writes: like the
// "# cocogen: generators/<name> from <field>" comment of rendered files
// (manifest.Origin), it names the code and the command that made it. It
// is a comment, never part of an object. (manifest.Origin cannot say it:
// its comment always names a generator, and this package is none.)
const Header = "# cocogen: pkg/deploy/peerpodd (cocogen peerpodd manifests)\n"

// KustomizationFile is the kustomization Tree writes beside the objects.
const KustomizationFile = "kustomization.yaml"

// Path is where an object's file goes in the base:
// <Kind>/<name>.yaml, or <Kind>/<namespace>/<name>.yaml for namespaced
// objects, the layout of cocogen's rendered tree.
func Path(o manifest.Object) string {
	return path.Join(o.Kind(), o.Namespace(), o.Name()+".yaml")
}

// FileData is an object's file: Header, the CRD's upstream source and
// licence for the CRD, then the object in canonical YAML.
func FileData(o manifest.Object) ([]byte, error) {
	data, err := manifest.Marshal(o)
	if err != nil {
		return nil, err
	}
	head := Header
	if o.Kind() == "CustomResourceDefinition" {
		head += "# From " + crdSource + ", unchanged.\n"
	}
	return append([]byte(head), data...), nil
}

// Tree lays the objects out as a kustomize base: one file per object at
// Path and a kustomization.yaml listing them, as the files of a Set (no
// objects), for manifest.WriteTree and the golden test.
func Tree(objs []manifest.Object) (*manifest.Set, error) {
	set := &manifest.Set{}
	resources := make([]string, 0, len(objs))
	for _, o := range objs {
		data, err := FileData(o)
		if err != nil {
			return nil, err
		}
		set.AddFile(Path(o), data, o.Origin)
		resources = append(resources, Path(o))
	}
	k, err := manifest.Marshal(manifest.Object{Content: map[string]any{
		"apiVersion": "kustomize.config.k8s.io/v1beta1",
		"kind":       "Kustomization",
		"resources":  manifest.StringList(resources),
	}})
	if err != nil {
		return nil, err
	}
	set.AddFile(KustomizationFile, append([]byte(Header), k...), manifest.Origin{})
	set.Sort()
	return set, nil
}

// WriteStream writes the objects as one YAML stream, each document
// starting with "# Source: <Path>" as `cocogen render` does. Everything is
// encoded before the first byte is written, so a failure writes nothing.
func WriteStream(w io.Writer, objs []manifest.Object) error {
	var buf bytes.Buffer
	for i, o := range objs {
		data, err := FileData(o)
		if err != nil {
			return err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.WriteString("# Source: " + Path(o) + "\n")
		buf.Write(data)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
