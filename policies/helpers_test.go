package policies

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	jsonpatch "github.com/evanphx/json-patch"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// engine holds one prepared query per request kind for a rendered policy,
// as the agent asks them: data.agent_policy.<Kind> with the request as input,
// and the policy state the agent keeps (data.pstate), which a result of
// the form {"allowed": true, "ops": [...]} changes by RFC 6902 ops, as in
// the agent (kata src/agent/policy/src/policy.rs).
type engine struct {
	queries map[string]rego.PreparedEvalQuery
	store   storage.Store
	state   map[string]any
}

func renderT(t testing.TB, opts Options) string {
	t.Helper()
	text, err := Render(opts)
	if err != nil {
		t.Fatalf("Render(%+v): %v", opts, err)
	}
	return text
}

// newEngine compiles text once and prepares a query for each kind.
func newEngine(t testing.TB, text string, kinds ...string) *engine {
	t.Helper()
	compiler, err := ast.CompileModules(map[string]string{"policy.rego": text})
	if err != nil {
		t.Fatalf("compiling policy: %v", err)
	}
	e := &engine{queries: map[string]rego.PreparedEvalQuery{}, state: map[string]any{"pstate": map[string]any{}}}
	e.store = inmem.NewFromObject(e.state)
	for _, kind := range kinds {
		pq, err := rego.New(
			rego.Query("data.agent_policy."+kind),
			rego.Compiler(compiler),
			rego.Store(e.store),
		).PrepareForEval(context.Background())
		if err != nil {
			t.Fatalf("preparing query for %s: %v", kind, err)
		}
		e.queries[kind] = pq
	}
	return e
}

// decide evaluates one request. Missing fields are filled with the
// defaults the agent sends. A result that is undefined or not a boolean
// is an error.
func (e *engine) decide(kind string, req map[string]any) (bool, error) {
	pq, ok := e.queries[kind]
	if !ok {
		return false, fmt.Errorf("no prepared query for %s", kind)
	}
	input, err := fillDefaults(kind, req)
	if err != nil {
		return false, err
	}
	rs, err := pq.Eval(context.Background(), rego.EvalInput(input))
	if err != nil {
		return false, fmt.Errorf("%s: eval: %w", kind, err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return false, fmt.Errorf("%s: undefined result (%d results)", kind, len(rs))
	}
	switch v := rs[0].Expressions[0].Value.(type) {
	case bool:
		return v, nil
	case map[string]any:
		allowed, ok := v["allowed"].(bool)
		if !ok {
			return false, fmt.Errorf("%s: result %v has no boolean allowed", kind, v)
		}
		if ops, _ := v["ops"].([]any); allowed && len(ops) > 0 {
			if err := e.apply(ops); err != nil {
				return false, fmt.Errorf("%s: applying %v: %w", kind, ops, err)
			}
		}
		return allowed, nil
	default:
		return false, fmt.Errorf("%s: result %v (%T) is neither a boolean nor an object", kind, v, v)
	}
}

// apply changes the policy state as the agent does: the ops patch the
// whole engine data.
func (e *engine) apply(ops []any) error {
	raw, err := json.Marshal(ops)
	if err != nil {
		return err
	}
	patch, err := jsonpatch.DecodePatch(raw)
	if err != nil {
		return err
	}
	doc, err := json.Marshal(e.state)
	if err != nil {
		return err
	}
	if doc, err = patch.Apply(doc); err != nil {
		return err
	}
	var state map[string]any
	if err := json.Unmarshal(doc, &state); err != nil {
		return err
	}
	e.state = state
	ctx := context.Background()
	return storage.Txn(ctx, e.store, storage.WriteParams, func(txn storage.Transaction) error {
		return e.store.Write(ctx, txn, storage.ReplaceOp, storage.Path{"pstate"}, state["pstate"])
	})
}

// refCase is one entry of a genpolicy testcases.json.
type refCase struct {
	Description string         `json:"description"`
	Allowed     bool           `json:"allowed"`
	Kind        string         `json:"kind"`
	Request     map[string]any `json:"request"`
}

const fixturesDir = "../fixtures/genpolicy/policy"

// loadCases reads every testcases.json below fixturesDir/dir, in
// lexical path order, each file's cases in their given order.
func loadCases(t testing.TB, dir string) map[string][]refCase {
	t.Helper()
	files := map[string][]refCase{}
	root := filepath.Join(fixturesDir, dir)
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "testcases.json" {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var cases []refCase
		if err := json.Unmarshal(raw, &cases); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		rel, _ := filepath.Rel(fixturesDir, path)
		files[rel] = cases
		return nil
	})
	if err != nil {
		t.Fatalf("loading reference cases from %s: %v", root, err)
	}
	return files
}
