package initdata

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
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
func Encode(toml []byte) (string, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	// No Name, Comment, Extra or ModTime: the header is the same bytes
	// for every input (MTIME 0 means "no time stamp").
	zw.Header = gzip.Header{OS: gzipOS}
	if _, err := zw.Write(toml); err != nil {
		return "", fmt.Errorf("compressing init-data: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("compressing init-data: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

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
