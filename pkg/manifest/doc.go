// Package manifest is cocogen's output model: Kubernetes objects and plain
// files (readable TOML and Rego next to their encoded forms), each placed in a
// directory of the rendered tree. It owns the properties every generator
// relies on: a canonical order, canonical YAML with sorted keys, and writers
// that never leave half a tree behind.
package manifest
