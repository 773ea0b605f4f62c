package agentpb

import (
	"context"
	"testing"

	"github.com/cocogen/cocogen/internal/protogen"
)

func TestGeneratedIsCurrent(t *testing.T) {
	stale, err := protogen.Stale(context.Background(), ".", "health.proto")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range stale {
		t.Errorf("%s is stale: run go generate ./internal/peerpod/agentpb", name)
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
