package initdata_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	toml "github.com/pelletier/go-toml/v2"

	"github.com/cocogen/cocogen/pkg/initdata"
)

const vectorsDir = "../../fixtures/initdata-vectors"

type vector struct {
	Digest     string `json:"digest"`
	HostData   string `json:"snp_hostdata_32"`
	MRConfigID string `json:"tdx_mrconfigid_48"`
}

func loadVectors(t *testing.T) ([]byte, map[string]vector, string) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(vectorsDir, "minimal.toml"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(vectorsDir, "minimal.digests.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	vecs := map[string]vector{}
	for _, alg := range initdata.Algorithms {
		var v vector
		if err := json.Unmarshal(all[alg], &v); err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		vecs[alg] = v
	}
	var pcr8 string
	if err := json.Unmarshal(all["azure_vtpm_pcr8_sha256"], &pcr8); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := json.Unmarshal(all["bytes"], &n); err != nil || n != len(doc) {
		t.Fatalf("minimal.toml is %d bytes, vectors say %d (%v)", len(doc), n, err)
	}
	return doc, vecs, pcr8
}

func TestDigestVectors(t *testing.T) {
	doc, vecs, pcr8 := loadVectors(t)
	for _, alg := range initdata.Algorithms {
		t.Run(alg, func(t *testing.T) {
			want := vecs[alg]
			d, err := initdata.Digest(alg, doc)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(d); got != want.Digest {
				t.Errorf("digest = %s, want %s", got, want.Digest)
			}
			hd, mr := initdata.HostDataOf(d), initdata.MRConfigIDOf(d)
			if got := hex.EncodeToString(hd[:]); got != want.HostData {
				t.Errorf("HOSTDATA = %s, want %s", got, want.HostData)
			}
			if got := hex.EncodeToString(mr[:]); got != want.MRConfigID {
				t.Errorf("MRCONFIGID = %s, want %s", got, want.MRConfigID)
			}
		})
	}
	if got := hex.EncodeToString(initdata.PCR8(doc)); got != pcr8 {
		t.Errorf("PCR8 = %s, want %s", got, pcr8)
	}
	// FromTOML uses the document's own algorithm (sha384).
	r, err := initdata.FromTOML(doc)
	if err != nil {
		t.Fatal(err)
	}
	hd, mr := r.HostData(), r.MRConfigID()
	if hex.EncodeToString(r.Digest) != vecs["sha384"].Digest || hex.EncodeToString(hd[:]) != vecs["sha384"].HostData ||
		hex.EncodeToString(mr[:]) != vecs["sha384"].MRConfigID || hex.EncodeToString(r.PCR8) != pcr8 {
		t.Errorf("FromTOML digests differ from the vectors")
	}
	if _, err := initdata.Digest("md5", doc); !initdata.IsInvalid(err) {
		t.Errorf("Digest(md5) = %v, want an InvalidError", err)
	}
}

// TestMarshalLayout checks that cocogen's writer produces the reference
// layout byte for byte.
func TestMarshalLayout(t *testing.T) {
	doc, _, _ := loadVectors(t)
	d, err := initdata.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(doc), string(got)); diff != "" {
		t.Errorf("Marshal(Parse(minimal.toml)) differs (-want +got):\n%s", diff)
	}
}

func TestEncodeDeterministic(t *testing.T) {
	doc, _, _ := loadVectors(t)
	a, err := initdata.Encode(doc)
	if err != nil {
		t.Fatal(err)
	}
	b, err := initdata.Encode(append([]byte(nil), doc...))
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("two encodings of the same document differ")
	}
	raw, err := base64.StdEncoding.DecodeString(a)
	if err != nil {
		t.Fatal(err)
	}
	// RFC 1952 header: ID1 ID2 CM FLG MTIME(4) XFL OS.
	if raw[0] != 0x1f || raw[1] != 0x8b || raw[2] != 8 {
		t.Fatalf("not a deflate gzip stream: % x", raw[:3])
	}
	if raw[3] != 0 {
		t.Errorf("FLG = %#x, want 0 (no name, comment or extra field)", raw[3])
	}
	if !bytes.Equal(raw[4:8], []byte{0, 0, 0, 0}) {
		t.Errorf("MTIME = % x, want zero", raw[4:8])
	}
	if raw[9] != 255 {
		t.Errorf("OS = %d, want 255", raw[9])
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("header has name %q, mtime %v", zr.Name, zr.ModTime)
	}
}

// TestDecodeStdlib decodes with the standard library alone, as any other
// consumer would, and with Decode.
func TestDecodeStdlib(t *testing.T) {
	doc, vecs, _ := loadVectors(t)
	ann, err := initdata.Encode(doc)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(ann)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := out.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), doc) {
		t.Fatal("stdlib base64+gunzip does not give the document back")
	}
	got, err := initdata.Decode(ann)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, doc) {
		t.Fatal("Decode does not give the document back")
	}
	// Wrapped the way `base64` (76 columns) prints it.
	var wrapped strings.Builder
	for i := 0; i < len(ann); i += 76 {
		wrapped.WriteString(ann[i:min(i+76, len(ann))] + "\n")
	}
	if got, err := initdata.Decode(wrapped.String()); err != nil || !bytes.Equal(got, doc) {
		t.Fatalf("Decode(wrapped) = %v", err)
	}
	sum := sha256.Sum256(got)
	if hex.EncodeToString(sum[:]) != vecs["sha256"].Digest {
		t.Error("sha256 of the decoded document is not the vector")
	}
}

// TestShellPipeline checks `base64 -d | gunzip` with the real tools.
func TestShellPipeline(t *testing.T) {
	for _, tool := range []string{"sh", "base64", "gunzip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX shell")
	}
	doc, vecs, _ := loadVectors(t)
	ann, err := initdata.Encode(doc)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", "base64 -d | gunzip")
	cmd.Stdin = strings.NewReader(ann)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("base64 -d | gunzip: %v: %s", err, stderr.String())
	}
	if !bytes.Equal(out, doc) {
		t.Fatalf("base64 -d | gunzip gave %d bytes, not the %d-byte document", len(out), len(doc))
	}
	sum := sha256.Sum256(out)
	if got := hex.EncodeToString(sum[:]); got != vecs["sha256"].Digest {
		t.Errorf("sha256 = %s, want %s", got, vecs["sha256"].Digest)
	}
	if _, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command("sh", "-c", "base64 -d | gunzip | sha256sum")
		cmd.Stdin = strings.NewReader(ann)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if got, _, _ := strings.Cut(string(out), " "); got != vecs["sha256"].Digest {
			t.Errorf("sha256sum = %s, want %s", got, vecs["sha256"].Digest)
		}
	}
}

func gz(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

func TestDecodeErrors(t *testing.T) {
	doc, _, _ := loadVectors(t)
	good := gz(t, doc)
	badCRC := append([]byte(nil), good...)
	badCRC[len(badCRC)-5] ^= 0xff
	b64 := base64.StdEncoding.EncodeToString
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "  \n", "invalid init-data annotation: empty value"},
		{"bad base64", "not*base64!", "invalid init-data base64"},
		{"bad padding", "H4sIAAAAAAAA/w", "invalid init-data base64"},
		{"not gzip", b64([]byte(`version = "0.1.0"`)), "invalid init-data gzip: gzip: invalid header"},
		{"truncated", b64(good[:len(good)-6]), "invalid init-data gzip: unexpected EOF"},
		{"bad checksum", b64(badCRC), "invalid init-data gzip: gzip: invalid checksum"},
		{"trailing data", b64(append(append([]byte(nil), good...), "junk"...)), "invalid init-data gzip: trailing data after the gzip stream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := initdata.Decode(tc.in)
			if err == nil {
				t.Fatal("no error")
			}
			if !initdata.IsInvalid(err) {
				t.Errorf("%v is not an InvalidError", err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %q, want prefix %q", err, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"bad TOML", "version = \n", "invalid init-data TOML: line 1"},
		{"no version", "algorithm = \"sha256\"\n[data]\n", "invalid init-data version: missing"},
		{"unknown version", "version = \"0.2.0\"\nalgorithm = \"sha256\"\n[data]\n", `invalid init-data version: unsupported version 0.2.0 (want "0.1.0")`},
		{"numeric version", "version = 1\nalgorithm = \"sha256\"\n[data]\n", "invalid init-data version: unsupported version 1"},
		{"no algorithm", "version = \"0.1.0\"\n[data]\n", "invalid init-data algorithm: missing"},
		{"unknown algorithm", "version = \"0.1.0\"\nalgorithm = \"md5\"\n[data]\n", "invalid init-data algorithm: unknown algorithm md5 (want sha256, sha384, sha512)"},
		{"no data", "version = \"0.1.0\"\nalgorithm = \"sha256\"\n", "invalid init-data TOML: missing [data] table"},
		{"data not strings", "version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\nx = 1\n", `invalid init-data TOML: data."x" is a int64, want a string`},
		{"unknown key", "version = \"0.1.0\"\nalgorithm = \"sha256\"\nextra = true\n[data]\n", `invalid init-data TOML: unknown key "extra"`},
		{"not UTF-8", "version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\nx = \"\xff\"\n", "invalid init-data TOML: not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := initdata.Parse([]byte(tc.in))
			if err == nil {
				t.Fatal("no error")
			}
			if !initdata.IsInvalid(err) {
				t.Errorf("%v is not an InvalidError", err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %q, want prefix %q", err, tc.want)
			}
		})
	}
}

// TestMarshalRoundTrip covers contents a literal string cannot hold.
func TestMarshalRoundTrip(t *testing.T) {
	contents := map[string]string{
		"plain":          "a = 1\n",
		"no newline":     "a = 1",
		"leading nl":     "\n\nx\n",
		"triple quote":   "x = '''\nbad\n'''\n",
		"ends in quote":  "it's'",
		"two quotes end": "x''",
		"crlf":           "a = 1\r\nb = 2\r\n",
		"control":        "bell\a and esc\x1b and del\x7f\n",
		"backslashes":    `C:\path\"quoted" """ \u0041` + "\n",
		"tabs":           "\tindented\n",
		"unicode":        "héllo ✓ 🎉\n",
		"empty":          "",
		"only quote":     "'",
	}
	d := &initdata.Document{Version: initdata.Version, Algorithm: initdata.SHA256, Data: contents}
	data, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := initdata.Parse(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if diff := cmp.Diff(contents, got.Data); diff != "" {
		t.Errorf("round trip through Parse (-want +got):\n%s\n%s", diff, data)
	}
	// And through go-toml directly, as a second reader.
	var raw struct {
		Data map[string]string `toml:"data"`
	}
	if err := toml.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(contents, raw.Data); diff != "" {
		t.Errorf("round trip through go-toml (-want +got):\n%s", diff)
	}
	again, err := got.Marshal()
	if err != nil || !bytes.Equal(again, data) {
		t.Errorf("Marshal is not stable: %v", err)
	}
	if !strings.Contains(string(data), "\"plain\" = '''\na = 1\n'''") {
		t.Errorf("plain content not written as a literal string:\n%s", data)
	}
}
