package render

import (
	"fmt"
	"io/fs"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/secretscan"
	"github.com/cocogen/cocogen/pkg/spec"
)

// scanSecrets holds every rendered value to the rule that no credential is
// written to git: a value that looks like one (pkg/secretscan) is an input
// error located at the spec field, or the application file, it came from.
// spec.secretScan.allow lets a named value through, with a warning at
// every render; an allowance that matches nothing is warned about too.
// Messages never quote the value.
func scanSecrets(p *spec.Pattern, set *manifest.Set, repo fs.FS, limit int64, in *Input) error {
	allow := p.Spec.SecretScan.Allow
	used := make([]bool, len(allow))
	patternFile, _ := p.Locate("")
	var errs spec.ErrorList
	report := func(origin manifest.Origin, object, field string, m secretscan.Match, value string) {
		for i, a := range allow {
			if a.Object == object && a.Field == field {
				used[i] = true
				in.Warn(fmt.Sprintf("spec.secretScan.allow[%d]", i), "%s %s looks like %s and is written to git, as allowed: %s", object, field, m.Reason, a.Reason)
				return
			}
		}
		fe := &spec.FieldError{File: patternFile, Path: origin.Spec,
			Msg: fmt.Sprintf("%s %s holds %s, which would be written to git: keep credentials in Secrets the cluster gets from a store (or, if it is none, allow it in spec.secretScan.allow with a reason)", object, field, m.Reason)}
		if origin.File != "" {
			fe.File = origin.File
			fe.Line = lineContaining(repo, origin.File, value[m.Start:m.End], limit)
		} else {
			_, fe.Line = p.Locate(origin.Spec)
		}
		errs = append(errs, fe)
	}
	for i, hits := range findInObjects(set.Objects) {
		o := set.Objects[i]
		for _, h := range hits {
			report(o.Origin, o.TreePath(), h.field, h.match, h.value)
		}
	}
	for _, f := range set.Files {
		if m, ok := secretscan.Find(string(f.Data)); ok {
			report(f.Origin, f.Path, "(file content)", m, string(f.Data))
		}
	}
	for i, u := range used {
		if !u {
			in.Warn(fmt.Sprintf("spec.secretScan.allow[%d]", i), "allows %s %s, which holds nothing that looks like a credential: remove the allowance", allow[i].Object, allow[i].Field)
		}
	}
	if len(errs) > 0 {
		return errs.Sorted()
	}
	return nil
}

// hit is a credential-like value in an object.
type hit struct {
	field, value string
	match        secretscan.Match
}

// findInObjects scans the objects on all CPUs (the scan reads every string
// of the output, and objects are independent) and returns each object's
// hits, by the object's index (so they are reported in the objects'
// order, whatever finished first).
func findInObjects(objs []manifest.Object) [][]hit {
	found := make([][]hit, len(objs))
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(objs), 1)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(objs) {
					return
				}
				walkStrings(objs[i].Content, secretscan.Contains, func(field, s string) {
					m, _ := secretscan.Find(s)
					found[i] = append(found[i], hit{field: field, value: s, match: m})
				})
			}
		})
	}
	wg.Wait()
	return found
}

// walkStrings calls found with the field path (a.b[0].c; keys that are
// not identifiers in brackets) of every string value below v that match
// accepts. The walk keeps only the keys and indexes on its way down and
// spells a path out only for a match: most values match nothing.
func walkStrings(v any, match func(s string) bool, found func(path, s string)) {
	segs := make([]pathSegment, 0, 16) // deeper than any object cocogen writes
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			if match(x) {
				found(fieldPath(segs), x)
			}
		case map[string]any:
			// Any order: what is found is sorted before it is reported.
			for k, e := range x {
				segs = append(segs, pathSegment{key: k})
				walk(e)
				segs = segs[:len(segs)-1]
			}
		case []any:
			for i, e := range x {
				segs = append(segs, pathSegment{index: i, isIndex: true})
				walk(e)
				segs = segs[:len(segs)-1]
			}
		}
	}
	walk(v)
}

// pathSegment is a map key or a list index on the way to a value.
type pathSegment struct {
	key     string
	index   int
	isIndex bool
}

func fieldPath(segs []pathSegment) string {
	var b strings.Builder
	for i, s := range segs {
		switch {
		case s.isIndex:
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		case s.key == "" || strings.ContainsAny(s.key, ".[]/ "):
			b.WriteString("[" + strconv.Quote(s.key) + "]")
		case i == 0:
			b.WriteString(s.key)
		default:
			b.WriteString("." + s.key)
		}
	}
	return b.String()
}

// lineContaining is the line of the repository file holding needle, or 0.
// It only locates an error and never returns the text.
func lineContaining(repo fs.FS, file, needle string, limit int64) int {
	if repo == nil || needle == "" {
		return 0
	}
	data, err := spec.ReadRepoFile(repo, file, limit)
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(needle, "\n")
	i := strings.Index(string(data), first)
	if i < 0 {
		return 0
	}
	return strings.Count(string(data[:i]), "\n") + 1
}
