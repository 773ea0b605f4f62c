package policies

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cocogen/cocogen/pkg/initdata"
)

// PolicyIn returns the agent policy in data: a policy itself, or init-data
// in any form (the TOML document, an annotation value, manifests carrying
// one) whose policy.rego it is.
func PolicyIn(data []byte) (string, error) {
	doc := data
	if _, err := initdata.Parse(data); err != nil {
		// Not an init-data document: a policy (its package clause at the
		// start of a line), or init-data in another form.
		if bytes.HasPrefix(data, []byte("package agent_policy")) || bytes.Contains(data, []byte("\npackage agent_policy")) {
			return string(data), nil
		}
		ann, err := initdata.ValueIn(data, "")
		if err != nil {
			return "", fmt.Errorf("neither a policy nor init-data: %w", err)
		}
		if doc, err = initdata.Decode(ann); err != nil {
			return "", err
		}
	}
	parsed, err := initdata.Parse(doc)
	if err != nil {
		return "", err
	}
	policy, ok := parsed.Data[initdata.DataPolicy]
	if !ok {
		return "", errors.New("the init-data holds no policy.rego")
	}
	return policy, nil
}

// LoggedRequest is an agent request: its kind and its JSON, as the kata
// agent logs them (/tmp/policy.jsonl in the guest).
type LoggedRequest struct {
	Kind    string         `json:"kind"`
	Request map[string]any `json:"request"`
}

// ReadRequests reads one request (of kind) or the agent's policy log.
func ReadRequests(data []byte, kind string) ([]LoggedRequest, error) {
	var one map[string]any
	if err := json.Unmarshal(data, &one); err == nil {
		if k, ok := one["kind"].(string); ok {
			if r, ok := one["request"].(map[string]any); ok {
				return []LoggedRequest{{Kind: k, Request: r}}, nil
			}
		}
		return []LoggedRequest{{Kind: kind, Request: one}}, nil
	}
	var out []LoggedRequest
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var r LoggedRequest
		if err := json.Unmarshal([]byte(line), &r); err != nil || r.Kind == "" {
			return nil, fmt.Errorf("line %d: neither a request nor an agent policy log entry {\"kind\", \"request\"}", n)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}
