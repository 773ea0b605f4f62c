package imagelock

import "slices"

// Use is an image a confidential workload runs.
type Use struct {
	Reference string
	// Where is the workload and container (Deployment/ns/name containers x).
	Where string
}

// References are the distinct references of uses (sorted by reference).
func References(uses []Use) []string {
	var out []string
	for _, u := range uses {
		out = append(out, u.Reference)
	}
	return slices.Compact(out)
}
