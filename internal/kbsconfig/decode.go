package kbsconfig

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
)

// Image is what one KBS image compiles in: a variant that is not compiled
// in does not exist for serde ("unknown variant"), so the KBS refuses it.
// Names are the canonical tag values (coco_as_builtin, resource,
// kvstorage, ...).
type Image struct {
	// Name says which image, for messages.
	Name string
	// AttestationServices are the [attestation_service] types.
	AttestationServices []string
	// Plugins are the [[plugins]] names.
	Plugins []string
	// ResourceBackends are the resource plugin's storage_backend_type
	// values.
	ResourceBackends []string
}

// Problem is one finding about a configuration file.
type Problem struct {
	// Path is the TOML key path, e.g. admin.authentication.
	Path string
	Msg  string
	// Ignored marks a key the KBS silently ignores (a warning); every
	// other problem is an error: the KBS refuses the file or fails to
	// start.
	Ignored bool
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Msg
	}
	return p.Path + ": " + p.Msg
}

// Problems is every error found in a file.
type Problems []Problem

func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.String()
	}
	return strings.Join(msgs, "\n")
}

// Decode parses a KBS configuration as the KBS of image does, strictly:
// every error the KBS would raise while parsing it is returned together as
// Problems; keys the KBS silently ignores come back as warnings. It does
// not run the start-up checks; see Check.
func Decode(data []byte, image Image) (*Config, []Problem, error) {
	var raw map[string]any
	if err := toml.Unmarshal(data, &raw); err != nil {
		return nil, nil, Problems{{Msg: "not TOML: " + err.Error()}}
	}
	d := &decoder{image: image}
	var cfg Config
	d.table("", raw, reflect.ValueOf(&cfg).Elem(), false)
	var errs Problems
	var warnings []Problem
	for _, p := range d.problems {
		if p.Ignored {
			warnings = append(warnings, p)
		} else {
			errs = append(errs, p)
		}
	}
	if len(errs) > 0 {
		return &cfg, warnings, errs
	}
	return &cfg, warnings, nil
}

// fieldOpts are the kbs tag options of a field.
type fieldOpts struct {
	key        string
	required   bool
	tag        bool
	deny       bool
	opaque     bool
	storage    bool
	variant    string            // canonical tag value the field belongs to; "*" or "" for all
	subtag     bool              // a second tag inside a variant (the resource backend)
	subvariant string            // canonical subtag value the field belongs to
	values     map[string]string // accepted spelling -> canonical value (enum, alias)
}

func optsOf(f reflect.StructField) fieldOpts {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	o := fieldOpts{key: name}
	for _, opt := range strings.Split(f.Tag.Get("kbs"), ",") {
		k, v, _ := strings.Cut(opt, "=")
		switch k {
		case "required":
			o.required = true
		case "tag":
			o.tag = true
		case "deny":
			o.deny = true
		case "opaque":
			o.opaque = true
		case "storage":
			o.storage = true
		case "variant":
			o.variant = v
		case "subvariant":
			o.subvariant = v
		case "subtag":
			o.subtag = true
			o.values = aliases(v)
		case "alias":
			o.values = aliases(v)
		case "enum":
			o.values = map[string]string{}
			for _, e := range strings.Split(v, "|") {
				o.values[e] = e
			}
		}
	}
	return o
}

// aliases parses "spelling:canonical|...".
func aliases(s string) map[string]string {
	m := map[string]string{}
	for _, pair := range strings.Split(s, "|") {
		k, v, _ := strings.Cut(pair, ":")
		m[k] = v
	}
	return m
}

type decoder struct {
	image    Image
	problems []Problem
}

func (d *decoder) fail(path, format string, args ...any) {
	d.problems = append(d.problems, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// unknown reports a key no variant of the table reads: an error under
// deny_unknown_fields, else silently ignored by the KBS.
func (d *decoder) unknown(path, why string, deny bool) {
	if deny {
		d.fail(path, "unknown field%s: the KBS refuses this table's unknown keys", why)
		return
	}
	d.problems = append(d.problems, Problem{Path: path, Msg: "ignored by the KBS" + why, Ignored: true})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// table decodes a TOML table into the struct v.
func (d *decoder) table(path string, m map[string]any, v reflect.Value, deny bool) {
	t := v.Type()
	fields := map[string]int{}
	var variant, subvariant string
	for i := 0; i < t.NumField(); i++ {
		o := optsOf(t.Field(i))
		fields[o.key] = i
		if !o.tag && !o.subtag {
			continue
		}
		raw, present := m[o.key]
		if !present {
			if o.required && !o.subtag {
				d.fail(join(path, o.key), "missing: required to choose the table's kind (want %s)", strings.Join(spellings(o.values), ", "))
			}
			continue
		}
		s, ok := raw.(string)
		canon, known := o.values[s]
		switch {
		case !ok:
			d.fail(join(path, o.key), "want a string, got %s", typeName(raw))
		case !known:
			d.fail(join(path, o.key), "unknown variant %q (want %s)", s, strings.Join(spellings(o.values), ", "))
		case o.subtag:
			subvariant = canon
		default:
			variant = canon
		}
		if known {
			d.compiled(join(path, o.key), t, canon)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(m)) {
		i, ok := fields[key]
		if !ok {
			d.unknown(join(path, key), "", deny)
			continue
		}
		f := t.Field(i)
		o := optsOf(f)
		if o.tag || o.subtag {
			if o.subtag && variant != o.variant {
				d.unknown(join(path, key), fmt.Sprintf(" (only %s reads it)", o.variant), deny)
			} else if s, ok := m[key].(string); ok {
				v.Field(i).SetString(o.values[s])
			}
			continue
		}
		if o.variant != "" && o.variant != "*" && variant != "" && o.variant != variant {
			d.unknown(join(path, key), fmt.Sprintf(" (only %s reads it)", o.variant), deny)
			continue
		}
		if o.subvariant != "" && subvariant != "" && o.subvariant != subvariant {
			d.unknown(join(path, key), fmt.Sprintf(" (only %s reads it)", o.subvariant), deny)
			continue
		}
		d.value(join(path, key), m[key], v.Field(i), o, deny || o.deny)
	}
	for i := 0; i < t.NumField(); i++ {
		o := optsOf(t.Field(i))
		if !o.required || o.tag {
			continue
		}
		if o.subtag && variant != o.variant {
			continue
		}
		if o.variant != "" && o.variant != "*" && o.variant != variant {
			continue
		}
		if o.subvariant != "" && o.subvariant != subvariant {
			continue
		}
		if _, ok := m[o.key]; !ok {
			d.fail(join(path, o.key), "missing: the KBS requires it")
		}
	}
}

// compiled checks that a tag value names a variant the image compiles in.
func (d *decoder) compiled(path string, t reflect.Type, canon string) {
	var have []string
	switch {
	case t == reflect.TypeFor[AttestationService]():
		have = d.image.AttestationServices
	case t == reflect.TypeFor[Plugin]() && strings.HasSuffix(path, ".name"):
		have = d.image.Plugins
	case t == reflect.TypeFor[Plugin]():
		have = d.image.ResourceBackends
	default:
		return
	}
	if have != nil && !slices.Contains(have, canon) {
		d.fail(path, "%q is not compiled into %s (it has %s): the KBS refuses it as an unknown variant", canon, d.image.Name, strings.Join(have, ", "))
	}
}

// value decodes one TOML value into v.
func (d *decoder) value(path string, raw any, v reflect.Value, o fieldOpts, deny bool) {
	if o.opaque {
		if _, ok := raw.(map[string]any); !ok {
			d.fail(path, "want a table, got %s", typeName(raw))
		} else if v.Kind() == reflect.Pointer {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		d.value(path, raw, elem.Elem(), o, deny)
		v.Set(elem)
	case reflect.String:
		s, ok := raw.(string)
		if !ok {
			d.fail(path, "want a string, got %s", typeName(raw))
			return
		}
		if o.values != nil {
			if _, ok := o.values[s]; !ok {
				d.fail(path, "unknown value %q (want %s)", s, strings.Join(spellings(o.values), ", "))
			}
		}
		if o.storage {
			if _, ok := storageTypes[s]; !ok {
				d.fail(path, "unknown storage type %q (want %s)", s, strings.Join(spellings(storageTypes), ", "))
			}
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := raw.(bool)
		if !ok {
			d.fail(path, "want a boolean, got %s", typeName(raw))
			return
		}
		v.SetBool(b)
	case reflect.Int64:
		n, ok := raw.(int64)
		if !ok {
			d.fail(path, "want an integer, got %s", typeName(raw))
			return
		}
		v.SetInt(n)
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			d.fail(path, "want a table, got %s", typeName(raw))
			return
		}
		d.table(path, m, v, deny)
	case reflect.Slice:
		list, ok := raw.([]any)
		if !ok {
			d.fail(path, "want an array, got %s", typeName(raw))
			return
		}
		out := reflect.MakeSlice(v.Type(), len(list), len(list))
		for i, item := range list {
			d.value(fmt.Sprintf("%s[%d]", path, i), item, out.Index(i), fieldOpts{}, deny)
		}
		v.Set(out)
	default:
		panic(fmt.Sprintf("kbsconfig: no decoding for %s", v.Type()))
	}
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case map[string]any:
		return "a table"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}

// spellings lists the accepted spellings, sorted.
func spellings(values map[string]string) []string {
	return slices.Sorted(maps.Keys(values))
}
