package manifest

import (
	"encoding/json"
	"unicode/utf8"
)

// decodeObject is DecodeJSON's fast path: a recursive-descent reader for
// the JSON that json.Marshal writes (every typed object of a render goes
// through it). It gives up, and DecodeJSON falls back to encoding/json,
// on anything it does not read exactly as encoding/json would: so it
// needs no error messages, and its answers are encoding/json's (the fuzz
// test FuzzDecodeJSON holds the two together).
func decodeObject(data []byte) (map[string]any, bool) {
	if !utf8.Valid(data) {
		return nil, false // encoding/json replaces invalid bytes
	}
	r := jsonReader{data: data}
	r.space()
	if r.peek() != '{' {
		return nil, false
	}
	v, ok := r.value(0)
	if !ok {
		return nil, false
	}
	r.space()
	if r.pos != len(r.data) {
		return nil, false
	}
	return v.(map[string]any), true
}

type jsonReader struct {
	data []byte
	pos  int
}

// maxDepth matches encoding/json's nesting limit, beyond which it errors.
const maxDepth = 10000

func (r *jsonReader) peek() byte {
	if r.pos < len(r.data) {
		return r.data[r.pos]
	}
	return 0
}

func (r *jsonReader) space() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

func (r *jsonReader) value(depth int) (any, bool) {
	if depth > maxDepth {
		return nil, false
	}
	r.space()
	switch c := r.peek(); {
	case c == '{':
		r.pos++
		m := map[string]any{}
		r.space()
		if r.peek() == '}' {
			r.pos++
			return m, true
		}
		for {
			r.space()
			if r.peek() != '"' {
				return nil, false
			}
			k, ok := r.str()
			if !ok {
				return nil, false
			}
			r.space()
			if r.peek() != ':' {
				return nil, false
			}
			r.pos++
			v, ok := r.value(depth + 1)
			if !ok {
				return nil, false
			}
			m[k] = v
			r.space()
			switch r.peek() {
			case ',':
				r.pos++
			case '}':
				r.pos++
				return m, true
			default:
				return nil, false
			}
		}
	case c == '[':
		r.pos++
		list := []any{}
		r.space()
		if r.peek() == ']' {
			r.pos++
			return list, true
		}
		for {
			v, ok := r.value(depth + 1)
			if !ok {
				return nil, false
			}
			list = append(list, v)
			r.space()
			switch r.peek() {
			case ',':
				r.pos++
			case ']':
				r.pos++
				return list, true
			default:
				return nil, false
			}
		}
	case c == '"':
		return r.str()
	case c == 't':
		return true, r.word("true")
	case c == 'f':
		return false, r.word("false")
	case c == 'n':
		return nil, r.word("null")
	case c == '-' || '0' <= c && c <= '9':
		return r.number()
	}
	return nil, false
}

func (r *jsonReader) word(w string) bool {
	if len(r.data)-r.pos < len(w) || string(r.data[r.pos:r.pos+len(w)]) != w {
		return false
	}
	r.pos += len(w)
	return true
}

// str reads a string; one with escapes is decoded by encoding/json.
func (r *jsonReader) str() (string, bool) {
	start := r.pos
	r.pos++
	escaped := false
	for r.pos < len(r.data) {
		c := r.data[r.pos]
		switch {
		case c == '"':
			r.pos++
			if !escaped {
				return string(r.data[start+1 : r.pos-1]), true
			}
			var s string
			if err := json.Unmarshal(r.data[start:r.pos], &s); err != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			escaped = true
			r.pos += 2
			continue
		case c < 0x20:
			return "", false
		}
		r.pos++
	}
	return "", false
}

// number reads a number in JSON's grammar, kept as its text.
func (r *jsonReader) number() (json.Number, bool) {
	start := r.pos
	if r.peek() == '-' {
		r.pos++
	}
	switch c := r.peek(); {
	case c == '0':
		r.pos++
	case '1' <= c && c <= '9':
		r.digits()
	default:
		return "", false
	}
	if r.peek() == '.' {
		r.pos++
		if !r.digits() {
			return "", false
		}
	}
	if c := r.peek(); c == 'e' || c == 'E' {
		r.pos++
		if c := r.peek(); c == '+' || c == '-' {
			r.pos++
		}
		if !r.digits() {
			return "", false
		}
	}
	return json.Number(r.data[start:r.pos]), true
}

func (r *jsonReader) digits() bool {
	start := r.pos
	for r.pos < len(r.data) && '0' <= r.data[r.pos] && r.data[r.pos] <= '9' {
		r.pos++
	}
	return r.pos > start
}
