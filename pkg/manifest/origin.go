package manifest

import "strings"

// Origin says where an object or file of the rendered tree came from, so a
// reader can go from any file to the code and the pattern field behind it.
type Origin struct {
	// Generator is the name of the generator that made it (the runner in
	// pkg/render fills it in).
	Generator string
	// Spec is the field path in the pattern it was made from, e.g.
	// spec.clusterGroups[1].applications[0].
	Spec string
	// File is the repository file it was read from, for objects that
	// cocogen copies from an application's own manifests.
	File string
	// Tool names the code and command that made it when that is not a
	// generator of the pattern's render, e.g. "pkg/deploy/peerpodd
	// (cocogen peerpodd manifests)". With Tool, File is the upstream
	// source an object was copied from unchanged.
	Tool string
}

// Comment is the leading comment of the object's file in the tree, e.g.
// "# cocogen: generators/acm from spec.clusterGroups[1]", or
// "# cocogen: <Tool>" for what a command other than render makes. It is a YAML
// comment, never part of the object, so Argo CD, kubectl and kustomize see
// exactly the object.
func (o Origin) Comment() string {
	if o.Tool != "" {
		c := "# cocogen: " + o.Tool + "\n"
		if o.File != "" {
			c += "# From " + o.File + ", unchanged.\n"
		}
		return c
	}
	if o.Generator == "" && o.Spec == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString("# cocogen: generators/")
	b.WriteString(o.Generator)
	if o.Spec != "" {
		b.WriteString(" from ")
		b.WriteString(o.Spec)
	}
	if o.File != "" {
		b.WriteString(" (")
		b.WriteString(o.File)
		b.WriteString(")")
	}
	b.WriteString("\n")
	return b.String()
}
