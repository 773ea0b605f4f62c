package initdata

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
)

// Size limits of the annotation value (base64 text).
const (
	// WarnAnnotationSize is where an annotation starts to weigh on the pod
	// object (Kubernetes caps all annotations of an object at 256 KiB
	// together) and on every watch of it; above it generators warn.
	WarnAnnotationSize = 64 << 10
	// MaxAnnotationSize is the Kubernetes limit on the total size of an
	// object's annotations; an init-data annotation above it can never be
	// applied.
	MaxAnnotationSize = 256 << 10
	// MaxDocumentSize bounds what Decode inflates, so a hostile annotation
	// cannot exhaust memory.
	MaxDocumentSize = 16 << 20
)

// gzipOS is the fixed OS byte of the gzip header: 255, "unknown", so the
// stream does not depend on the platform cocogen runs on.
const gzipOS = 255

// Encode returns the annotation value of a document: base64 (standard
// alphabet, padded) of a deterministic gzip stream of the exact bytes.
//
// A render encodes each profile's document more than once (the init-data
// and Trustee generators build the same profiles independently), and a
// best-compression deflater costs more to set up than to run on a few
// kilobytes: results are remembered by content and writers reused.
func Encode(toml []byte) (string, error) {
	if encodedCount.Load() >= maxRemembered {
		return encode(toml)
	}
	// Generators run concurrently: the first caller compresses, the others
	// wait for its result instead of compressing the same bytes again.
	e, loaded := encoded.LoadOrStore(string(toml), new(encoding))
	ent := e.(*encoding)
	if !loaded {
		encodedCount.Add(1)
	}
	ent.once.Do(func() { ent.annotation, ent.err = encode(toml) })
	return ent.annotation, ent.err
}

// encoding is one remembered Encode result.
type encoding struct {
	once       sync.Once
	annotation string
	err        error
}

func encode(toml []byte) (string, error) {
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	var buf bytes.Buffer
	zw.Reset(&buf)
	// No Name, Comment, Extra or ModTime: the header is the same bytes
	// for every input (MTIME 0 means "no time stamp"). Reset cleared it.
	zw.Header = gzip.Header{OS: gzipOS}
	if _, err := zw.Write(toml); err != nil {
		return "", fmt.Errorf("compressing init-data: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("compressing init-data: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// maxRemembered bounds the documents Encode remembers, so a long-lived
// process (a test binary, a server embedding the library) does not grow
// without limit; a render has a handful of profiles.
const maxRemembered = 256

var (
	encoded      sync.Map // document text -> *encoding
	encodedCount atomic.Int64
	gzipWriters  = sync.Pool{New: func() any {
		zw, err := gzip.NewWriterLevel(io.Discard, gzip.BestCompression)
		if err != nil {
			panic(err) // BestCompression is a valid level
		}
		return zw
	}}
)

// Decode reverses Encode: it accepts an annotation value (whitespace and
// line breaks, as `base64` wraps them, are ignored) and returns the exact
// document bytes. It does not parse the TOML; see Parse.
func Decode(annotation string) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r':
			return -1
		}
		return r
	}, annotation)
	if clean == "" {
		return nil, invalid("annotation", errors.New("empty value"))
	}
	raw, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		return nil, invalid("base64", err)
	}
	br := bytes.NewReader(raw)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, invalid("gzip", err)
	}
	zr.Multistream(false)
	data, err := io.ReadAll(io.LimitReader(zr, MaxDocumentSize+1))
	if err != nil {
		return nil, invalid("gzip", err)
	}
	if len(data) > MaxDocumentSize {
		return nil, invalid("gzip", fmt.Errorf("document inflates to more than %d bytes", MaxDocumentSize))
	}
	// Multistream(false) stops after the first member, whose CRC-32 and
	// size it has verified. bytes.Reader is an io.ByteReader, so gzip reads
	// no further than the member: anything left is not init-data.
	if br.Len() > 0 {
		return nil, invalid("gzip", errors.New("trailing data after the gzip stream"))
	}
	return data, nil
}
