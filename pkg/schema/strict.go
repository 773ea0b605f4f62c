package schema

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/util/validation/field"
	kjson "sigs.k8s.io/json"
)

// typedProblems reports what is wrong with decoding val (a JSON value as
// produced by normalize) into a Go value of type t, as kube-apiserver does
// with fieldValidation=Strict: sigs.k8s.io/json UnmarshalStrict (case
// sensitive, unknown and duplicate fields are errors).
//
// UnmarshalStrict is the authority on pass/fail, but it stops at the first
// type error and then drops its unknown-field errors, and its paths carry no
// list indices. So when it fails, a reflective walk over val and t lists
// every problem with a full path; its verdict falls back to the decoder's
// errors should the two ever disagree.
func typedProblems(path *field.Path, val any, t reflect.Type) []problem {
	data, err := json.Marshal(val)
	if err != nil {
		return []problem{{path.String(), err.Error()}}
	}
	strictErrs, err := kjson.UnmarshalStrict(data, reflect.New(t).Interface())
	if err == nil && len(strictErrs) == 0 {
		return nil
	}
	var w walker
	w.walk(path, val, t)
	if len(w.probs) > 0 {
		return w.probs
	}
	var probs []problem
	for _, se := range strictErrs {
		if fe, ok := se.(kjson.FieldError); ok {
			probs = append(probs, problem{joinPath(path, fe.FieldPath()), "unknown or duplicate field"})
		} else {
			probs = append(probs, problem{path.String(), se.Error()})
		}
	}
	if err != nil {
		probs = append(probs, problem{path.String(), err.Error()})
	}
	return probs
}

func joinPath(p *field.Path, rel string) string {
	if s := p.String(); s != "" {
		return s + "." + rel
	}
	return rel
}

type walker struct {
	probs []problem
}

var jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func (w *walker) add(p *field.Path, format string, args ...any) {
	w.probs = append(w.probs, problem{p.String(), fmt.Sprintf(format, args...)})
}

func (w *walker) wrongType(p *field.Path, want string, v any) {
	got := jsonTypeName(v)
	switch v := v.(type) {
	case string, bool, int64, float64:
		s := fmt.Sprintf("%v", v)
		if _, ok := v.(string); ok {
			s = fmt.Sprintf("%q", v)
		}
		if len(s) > 60 {
			s = s[:57] + "..."
		}
		got += " " + s
	}
	w.add(p, "wrong type: expected %s, got %s", want, got)
}

func jsonTypeName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int64, float64:
		return "number"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// walk mirrors encoding/json (as forked by sigs.k8s.io/json: case
// sensitive, ints preserved) decoding v into type t.
func (w *walker) walk(p *field.Path, v any, t reflect.Type) {
	if v == nil {
		return // null decodes to the zero value of anything
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshalerType) {
		data, err := json.Marshal(v)
		if err == nil {
			err = reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(data)
		}
		if err != nil {
			w.add(p, "%v", err)
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			w.wrongType(p, "object", v)
			return
		}
		fields := jsonFields(t)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			ft, ok := fields[k]
			if !ok {
				w.add(p.Child(k), "unknown field")
				continue
			}
			w.walk(p.Child(k), m[k], ft)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			w.wrongType(p, "object", v)
			return
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			w.walk(p.Key(k), m[k], t.Elem())
		}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
			s, ok := v.(string)
			if !ok {
				w.wrongType(p, "base64-encoded string", v)
			} else if _, err := base64.StdEncoding.DecodeString(s); err != nil {
				w.add(p, "invalid base64 data: %v", err)
			}
			return
		}
		a, ok := v.([]any)
		if !ok {
			w.wrongType(p, "array", v)
			return
		}
		for i, e := range a {
			w.walk(p.Index(i), e, t.Elem())
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			w.wrongType(p, "string", v)
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			w.wrongType(p, "boolean", v)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := asInt(v)
		if !ok {
			w.wrongType(p, "integer", v)
		} else if reflect.New(t).Elem().OverflowInt(n) {
			w.add(p, "value %d overflows %s", n, t.Kind())
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, ok := asInt(v)
		if !ok {
			w.wrongType(p, "non-negative integer", v)
		} else if n < 0 || reflect.New(t).Elem().OverflowUint(uint64(n)) {
			w.add(p, "value %d overflows %s", n, t.Kind())
		}
	case reflect.Float32, reflect.Float64:
		switch v.(type) {
		case int64, float64:
		default:
			w.wrongType(p, "number", v)
		}
	case reflect.Interface:
		// anything goes
	default:
		w.add(p, "cannot decode into Go type %s", t)
	}
}

func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case float64:
		if n == math.Trunc(n) && n >= math.MinInt64 && n <= math.MaxInt64 {
			return int64(n), true
		}
	}
	return 0, false
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// jsonFields maps the JSON names of a struct's fields (including promoted
// fields of embedded structs, e.g. `json:",inline"` TypeMeta) to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	collectFields(t, m)
	fieldCache.Store(t, m)
	return m
}

// collectFields adds t's fields to m; shallower fields win, as in
// encoding/json.
func collectFields(t reflect.Type, m map[string]reflect.Type) {
	var embedded []reflect.Type
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				embedded = append(embedded, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	for _, et := range embedded {
		sub := map[string]reflect.Type{}
		collectFields(et, sub)
		for k, ft := range sub {
			if _, ok := m[k]; !ok {
				m[k] = ft
			}
		}
	}
}
