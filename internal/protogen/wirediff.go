package protogen

import (
	"context"
	"fmt"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Compile parses one .proto file under dir into its descriptor (for tests
// that compare a proto with the upstream one it mirrors).
func Compile(ctx context.Context, dir, file string) (protoreflect.FileDescriptor, error) {
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{dir}})}
	files, err := c.Compile(ctx, file)
	if err != nil {
		return nil, fmt.Errorf("compiling %s: %w", file, err)
	}
	return files[0], nil
}

// WireDiff lists every difference between two files that reaches the wire:
// the proto package, service and method names with their input and output
// types, and every message's fields by number (name, kind, cardinality,
// map-ness), enums by value. Comments, options and file names do not count.
func WireDiff(want, got protoreflect.FileDescriptor) []string {
	var diffs []string
	add := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }
	if want.Package() != got.Package() {
		add("package %s, want %s", got.Package(), want.Package())
	}
	ws, gs := want.Services(), got.Services()
	if ws.Len() != gs.Len() {
		add("%d services, want %d", gs.Len(), ws.Len())
	}
	for i := range ws.Len() {
		w := ws.Get(i)
		g := gs.ByName(w.Name())
		if g == nil {
			add("no service %s", w.FullName())
			continue
		}
		if g.Methods().Len() != w.Methods().Len() {
			add("%s has %d methods, want %d", g.FullName(), g.Methods().Len(), w.Methods().Len())
		}
		for j := range w.Methods().Len() {
			wm := w.Methods().Get(j)
			gm := g.Methods().ByName(wm.Name())
			switch {
			case gm == nil:
				add("no method %s", wm.FullName())
			case gm.Input().FullName() != wm.Input().FullName() || gm.Output().FullName() != wm.Output().FullName():
				add("%s: %s -> %s, want %s -> %s", wm.FullName(), gm.Input().FullName(), gm.Output().FullName(), wm.Input().FullName(), wm.Output().FullName())
			}
		}
	}
	if want.Messages().Len() != got.Messages().Len() {
		add("%d messages, want %d", got.Messages().Len(), want.Messages().Len())
	}
	for i := range want.Messages().Len() {
		w := want.Messages().Get(i)
		diffs = append(diffs, messageDiff(w, got.Messages().ByName(w.Name()))...)
	}
	return diffs
}

func messageDiff(want, got protoreflect.MessageDescriptor) []string {
	if got == nil {
		return []string{fmt.Sprintf("no message %s", want.FullName())}
	}
	var diffs []string
	add := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }
	if want.Fields().Len() != got.Fields().Len() {
		add("%s has %d fields, want %d", got.FullName(), got.Fields().Len(), want.Fields().Len())
	}
	for i := range want.Fields().Len() {
		wf := want.Fields().Get(i)
		gf := got.Fields().ByNumber(wf.Number())
		switch {
		case gf == nil:
			add("%s: no field %d (%s)", got.FullName(), wf.Number(), wf.Name())
		case gf.Name() != wf.Name() || gf.Kind() != wf.Kind() || gf.Cardinality() != wf.Cardinality() || gf.IsMap() != wf.IsMap():
			add("%s field %d: %s %v %v map=%v, want %s %v %v map=%v", got.FullName(), wf.Number(),
				gf.Name(), gf.Kind(), gf.Cardinality(), gf.IsMap(), wf.Name(), wf.Kind(), wf.Cardinality(), wf.IsMap())
		case gf.IsMap():
			diffs = append(diffs, messageDiff(wf.Message(), gf.Message())...)
		case gf.Kind() == protoreflect.EnumKind:
			diffs = append(diffs, enumDiff(wf.Enum(), gf.Enum())...)
		}
	}
	for i := range want.Messages().Len() {
		w := want.Messages().Get(i)
		if !w.IsMapEntry() {
			diffs = append(diffs, messageDiff(w, got.Messages().ByName(w.Name()))...)
		}
	}
	return diffs
}

func enumDiff(want, got protoreflect.EnumDescriptor) []string {
	var diffs []string
	if want.FullName() != got.FullName() {
		diffs = append(diffs, fmt.Sprintf("enum %s, want %s", got.FullName(), want.FullName()))
	}
	for i := range want.Values().Len() {
		wv := want.Values().Get(i)
		if gv := got.Values().ByNumber(wv.Number()); gv == nil || gv.Name() != wv.Name() {
			diffs = append(diffs, fmt.Sprintf("enum %s: value %d is not %s", got.FullName(), wv.Number(), wv.Name()))
		}
	}
	if want.Values().Len() != got.Values().Len() {
		diffs = append(diffs, fmt.Sprintf("enum %s has %d values, want %d", got.FullName(), got.Values().Len(), want.Values().Len()))
	}
	return diffs
}
