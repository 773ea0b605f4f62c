package initdata

// Encoded is one init-data document and every encoding of it that a
// deployment needs: all computed over the exact bytes in TOML.
type Encoded struct {
	// Algorithm is the document's digest algorithm (sha256|sha384|sha512).
	Algorithm string
	// TOML is the exact document; everything below is computed over it.
	TOML []byte
	// Policy is the policy.rego text inside ("" when there is none).
	Policy string
	// Annotation is base64(gzip(TOML)), standard encoding, deterministic
	// gzip (no name, no mtime, fixed level, fixed OS byte).
	Annotation string
	// Digest is <Algorithm>(TOML).
	Digest []byte
	// PCR8 is sha256(32 zero bytes || sha256(TOML)) (Azure vTPM).
	PCR8 []byte
	// Document is TOML parsed.
	Document *Document
}

// FromTOML parses a document and computes its encodings and digests.
func FromTOML(data []byte) (*Encoded, error) {
	doc, err := Parse(data)
	if err != nil {
		return nil, err
	}
	ann, err := Encode(data)
	if err != nil {
		return nil, err
	}
	digest, err := Digest(doc.Algorithm, data)
	if err != nil {
		return nil, err
	}
	return &Encoded{
		Algorithm:  doc.Algorithm,
		TOML:       append([]byte(nil), data...),
		Policy:     doc.Data[DataPolicy],
		Annotation: ann,
		Digest:     digest,
		PCR8:       PCR8(data),
		Document:   doc,
	}, nil
}

// HostData is the SNP HOSTDATA: the digest truncated or zero-padded at the
// end to 32 bytes.
func (e *Encoded) HostData() [32]byte { return HostDataOf(e.Digest) }

// MRConfigID is the TDX MRCONFIGID: the digest truncated or zero-padded at
// the end to 48 bytes.
func (e *Encoded) MRConfigID() [48]byte { return MRConfigIDOf(e.Digest) }
