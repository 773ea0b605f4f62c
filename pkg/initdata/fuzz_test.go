package initdata_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cocogen/cocogen/pkg/initdata"
)

// FuzzDecode feeds arbitrary annotation values (what `cocogen initdata
// decode` and the init-data readers take from a manifest) through Decode
// and Parse: never a panic, every failure an InvalidError, and a decoded
// document re-encodes to an annotation that decodes to the same bytes.
// Run longer with: go test ./pkg/initdata -run '^$' -fuzz FuzzDecode -fuzztime 10m
func FuzzDecode(f *testing.F) {
	vectors, _ := filepath.Glob("../../fixtures/initdata-vectors/*.toml")
	for _, v := range vectors {
		data, err := os.ReadFile(v)
		if err != nil {
			f.Fatal(err)
		}
		if enc, err := initdata.Encode(data); err == nil {
			f.Add(enc)
		}
	}
	f.Add("H4sIAAAAAAAA/wMAAAAAAAAAAAA=")
	f.Add("not base64!")
	f.Add("")
	f.Fuzz(func(t *testing.T, annotation string) {
		data, err := initdata.Decode(annotation)
		if err != nil {
			if !initdata.IsInvalid(err) {
				t.Fatalf("Decode: not an InvalidError: %T %v", err, err)
			}
			return
		}
		if _, err := initdata.Parse(data); err != nil && !initdata.IsInvalid(err) {
			t.Fatalf("Parse: not an InvalidError: %T %v", err, err)
		}
		again, err := initdata.Encode(data)
		if err != nil {
			return // e.g. too large to encode
		}
		back, err := initdata.Decode(again)
		if err != nil || string(back) != string(data) {
			t.Fatalf("re-encoded document does not decode to itself: %v", err)
		}
	})
}
