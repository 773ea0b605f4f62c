package spec

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// FieldError is one problem in a pattern document, located by file, line and
// field path so that a reader can jump straight to it.
type FieldError struct {
	File string
	// Line is 1-based; 0 when the position is unknown (e.g. Jsonnet output).
	Line int
	// Path is the field path, e.g. spec.clusterGroups[1].platform.type.
	Path string
	Msg  string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in a document. Decoding and validation
// never stop at the first problem: users fix all of them in one round trip.
type ErrorList []*FieldError

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Sorted orders errors by file, line, then path, so output is stable.
func (l ErrorList) Sorted() ErrorList {
	out := append(ErrorList(nil), l...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Msg < b.Msg
	})
	return out
}

// IsInvalid reports whether err describes bad input (as opposed to an
// internal failure); the CLI maps it to exit code 2.
func IsInvalid(err error) bool {
	_, ok := Problems(err)
	return ok
}

// Problems returns the input problems err holds (it is, or wraps, an
// ErrorList or a *FieldError), so that problems found in several places
// can be reported together.
func Problems(err error) (ErrorList, bool) {
	var l ErrorList
	if errors.As(err, &l) {
		return l, true
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return ErrorList{fe}, true
	}
	return nil, false
}
