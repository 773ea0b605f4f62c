// Package initdata is the Confidential Containers init-data format and
// nothing else: the TOML document, its deterministic annotation encoding,
// its digests in every form a TEE reports them, and finding init-data in
// Kubernetes objects. It knows no pattern and no policy engine, so the
// peer-pod daemon can use it without pulling either in.
//
// An init-data document is a small TOML file (version, algorithm and a
// [data] table holding aa.toml, cdh.toml and policy.rego) that the kata
// runtime hands to the guest. The TEE measures its digest (SNP HOSTDATA,
// TDX MRCONFIGID, PCR8 on Azure vTPMs) and Trustee compares that digest
// with a reference value, so everything here is computed over the exact
// bytes that are emitted: nothing is canonicalised after the fact.
//
// The pod annotation carries base64(gzip(TOML)); the gzip stream is
// deterministic (no name, no modification time, fixed level and OS byte),
// so the same document always yields the same annotation with a given Go
// release. Digests never depend on the gzip bytes.
//
//	enc, err := initdata.FromTOML(doc)
//	if err != nil {
//		return err
//	}
//	ref := hex.EncodeToString(enc.Digest) // a Trustee reference value
//	pod.Annotations[initdata.AnnotationInitData] = enc.Annotation
package initdata
