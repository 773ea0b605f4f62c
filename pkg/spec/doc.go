// Package spec is the pattern: its types, a strict position-aware decoder
// (YAML and Jsonnet), defaults applied in one place, validation that
// reports every problem at once as file:line: field.path: message, and the
// names of what cocogen renders from it (names.go).
//
// Load always runs decode, default, validate, in that order:
//
//	p, err := spec.Load("pattern.yaml", spec.LoadOptions{})
//	if spec.IsInvalid(err) {
//		fmt.Fprintln(os.Stderr, err) // every problem, each located
//	}
package spec
