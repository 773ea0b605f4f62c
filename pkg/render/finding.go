package render

import (
	"cmp"
	"slices"

	"github.com/cocogen/cocogen/pkg/spec"
)

// Severity of a finding, as the KRM function spec names them.
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

// Finding is something a render tells the user without failing: a warning
// about a permissive setting, a missing reference value, ... It is data so
// that each surface can show it its own way (stderr lines, KRM results,
// plugin logs).
type Finding struct {
	Severity Severity
	// Generator that reported it.
	Generator string
	// Field is the pattern field it is about, e.g. spec.trustee.referenceValues.
	Field string
	// File and Line locate Field in the pattern file (Line 0: unknown,
	// e.g. a defaulted field or a Jsonnet pattern).
	File string
	Line int
	// Message is one sentence for a person.
	Message string
}

// String is "file:line: field: message", the form of every located message
// cocogen prints (the same as a pattern error's).
func (f Finding) String() string {
	return (&spec.FieldError{File: f.File, Line: f.Line, Path: f.Field, Msg: f.Message}).Error()
}

// sortFindings orders findings by severity (errors first), then location,
// so output is the same however generators were scheduled.
func sortFindings(fs []Finding) []Finding {
	rank := map[Severity]int{Error: 0, Warning: 1, Info: 2}
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(rank[a.Severity], rank[b.Severity]),
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Field, b.Field),
			cmp.Compare(a.Message, b.Message),
			cmp.Compare(a.Generator, b.Generator),
		)
	})
	return slices.CompactFunc(fs, func(a, b Finding) bool { return a == b })
}
