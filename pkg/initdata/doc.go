// Package initdata builds Confidential Containers init-data documents and
// every encoding of them that a deployment needs.
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
// Generators and the Trustee/ACM families call Build with the pattern and
// a profile name and get identical bytes and digests:
//
//	r, err := initdata.Build(p, "default")
//	if err != nil {
//		return err
//	}
//	ref := hex.EncodeToString(r.Digest) // Trustee reference value
//	pod.Annotations[initdata.AnnotationInitData] = r.Annotation
package initdata
