package agentpb

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/cocogen/cocogen/internal/protogen"
)

func TestGeneratedIsCurrent(t *testing.T) {
	out, err := protogen.Generate(context.Background(), ".", "health.proto")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range out {
		if got, err := os.ReadFile(name); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is stale (%v): run go generate ./internal/peerpod/agentpb", name, err)
		}
	}
}

func TestWireContractMatchesKata(t *testing.T) {
	kata, err := protogen.Compile(context.Background(), "testdata", "kata-3.25.0-health.proto")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range protogen.WireDiff(kata, File_health_proto) {
		t.Error(d)
	}
}
