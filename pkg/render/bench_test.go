package render_test

import (
	"context"
	"testing"

	"github.com/cocogen/cocogen/generators"
	"github.com/cocogen/cocogen/internal/benchpattern"
	"github.com/cocogen/cocogen/internal/testkit"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
)

// BenchmarkRender measures the pipeline (all generators, sort, collision
// check) on patterns of four sizes (groups x applications per group); the
// reference point is 20x10.
func BenchmarkRender(b *testing.B) {
	for _, size := range benchpattern.Sizes {
		b.Run(size.String(), func(b *testing.B) {
			p, err := spec.Parse("bench.yaml", []byte(benchpattern.Pattern(size)), spec.LoadOptions{})
			if err != nil {
				b.Fatal(err)
			}
			repo := testkit.Repo(b)
			gens := generators.All()
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := render.Render(ctx, p, repo, gens); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoad measures decoding, defaulting and validating the same
// patterns: the other half of what `cocogen render` does.
func BenchmarkLoad(b *testing.B) {
	for _, size := range benchpattern.Sizes {
		b.Run(size.String(), func(b *testing.B) {
			data := []byte(benchpattern.Pattern(size))
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				if _, err := spec.Parse("bench.yaml", data, spec.LoadOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
