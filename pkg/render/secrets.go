package render

import (
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"

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
	for _, o := range set.Objects {
		walkStrings(o.Content, "", func(field, s string) {
			if m, ok := secretscan.Find(s); ok {
				report(o.Origin, o.TreePath(), field, m, s)
			}
		})
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

// walkStrings calls fn with every string value below v and its field path
// (a.b[0].c; keys that are not identifiers in brackets).
func walkStrings(v any, path string, fn func(path, s string)) {
	switch x := v.(type) {
	case string:
		fn(path, x)
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			walkStrings(x[k], joinField(path, k), fn)
		}
	case []any:
		for i, e := range x {
			walkStrings(e, path+"["+strconv.Itoa(i)+"]", fn)
		}
	}
}

func joinField(path, key string) string {
	if key == "" || strings.ContainsAny(key, ".[]/ ") {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
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
