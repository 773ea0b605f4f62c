package initdata

import (
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"strings"
)

// Digest algorithms of init-data, as its algorithm field spells them.
const (
	SHA256 = "sha256"
	SHA384 = "sha384"
	SHA512 = "sha512"
)

// Algorithms are every algorithm the kata runtime accepts in init-data.
var Algorithms = []string{SHA256, SHA384, SHA512}

// NewHash returns a hash for an init-data algorithm name.
func NewHash(alg string) (hash.Hash, error) {
	switch alg {
	case SHA256:
		return sha256.New(), nil
	case SHA384:
		return sha512.New384(), nil
	case SHA512:
		return sha512.New(), nil
	}
	return nil, invalid("algorithm", fmt.Errorf("unknown algorithm %q (want %s)", alg, strings.Join(Algorithms, ", ")))
}

// Digest hashes data with the named algorithm.
func Digest(alg string, data []byte) ([]byte, error) {
	h, err := NewHash(alg)
	if err != nil {
		return nil, err
	}
	h.Write(data)
	return h.Sum(nil), nil
}

// Fit sizes a digest to an n-byte TEE field: truncated when longer,
// zero-padded at the end when shorter. This is how the kata runtime fills
// SNP HOSTDATA (32 bytes) and TDX MRCONFIGID (48 bytes).
func Fit(digest []byte, n int) []byte {
	out := make([]byte, n)
	copy(out, digest)
	return out
}

// HostDataOf is the SNP HOSTDATA (32 bytes) for a digest.
func HostDataOf(digest []byte) [32]byte { return [32]byte(Fit(digest, 32)) }

// MRConfigIDOf is the TDX MRCONFIGID (48 bytes) for a digest.
func MRConfigIDOf(digest []byte) [48]byte { return [48]byte(Fit(digest, 48)) }

// PCR8 is the Azure vTPM PCR8 value after the attestation agent extends it
// with the document: sha256(32 zero bytes || sha256(document)), whatever
// the document's own algorithm.
func PCR8(document []byte) []byte {
	inner := sha256.Sum256(document)
	h := sha256.New()
	h.Write(make([]byte, sha256.Size))
	h.Write(inner[:])
	return h.Sum(nil)
}
