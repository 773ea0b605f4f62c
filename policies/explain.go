package policies

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Mismatch is why a CreateContainerRequest does not match an expected
// container: the request field, what it holds and what the policy wants.
type Mismatch struct {
	Field    string
	Got      any
	Expected any
}

func (m Mismatch) String() string {
	return fmt.Sprintf("%s: the request has %s, the policy expects %s", m.Field, show(m.Got), show(m.Expected))
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// ExplainCreateContainer compares a CreateContainerRequest (as the agent
// hands it to the policy) with the expected container it is meant to be
// (the one with its container type and name) and returns the first
// difference, in the order rego/exec-deny.rego's container_matches checks
// them; ok is false when the request matches or no container is meant.
func ExplainCreateContainer(containers []Container, req map[string]any) (Mismatch, bool) {
	oci, _ := req["OCI"].(map[string]any)
	ann, _ := oci["Annotations"].(map[string]any)
	ctype, _ := ann["io.kubernetes.cri.container-type"].(string)
	cname, _ := ann["io.kubernetes.cri.container-name"].(string)
	var c *Container
	for i := range containers {
		if containers[i].Type == ctype && (ctype == "sandbox" || containers[i].Name == cname) {
			c = &containers[i]
		}
	}
	if c == nil {
		var names []string
		for _, x := range containers {
			names = append(names, x.Type+"/"+x.Name)
		}
		return Mismatch{Field: "OCI.Annotations[io.kubernetes.cri.container-name]", Got: ctype + "/" + cname, Expected: "one of " + strings.Join(names, ", ")}, true
	}
	str := func(k string) string { s, _ := ann[k].(string); return s }
	if c.SandboxName != "" && str("io.kubernetes.cri.sandbox-name") != c.SandboxName {
		return Mismatch{"OCI.Annotations[io.kubernetes.cri.sandbox-name]", str("io.kubernetes.cri.sandbox-name"), c.SandboxName}, true
	}
	if c.SandboxName == "" && !regexp.MustCompile(c.SandboxNameRegex).MatchString(str("io.kubernetes.cri.sandbox-name")) {
		return Mismatch{"OCI.Annotations[io.kubernetes.cri.sandbox-name]", str("io.kubernetes.cri.sandbox-name"), "a name matching " + c.SandboxNameRegex}, true
	}
	if c.Namespace != "" && str("io.kubernetes.cri.sandbox-namespace") != c.Namespace {
		return Mismatch{"OCI.Annotations[io.kubernetes.cri.sandbox-namespace]", str("io.kubernetes.cri.sandbox-namespace"), c.Namespace}, true
	}
	if c.Type == "container" && str("io.kubernetes.cri.image-name") != c.Image {
		return Mismatch{"OCI.Annotations[io.kubernetes.cri.image-name]", str("io.kubernetes.cri.image-name"), c.Image}, true
	}
	proc, _ := oci["Process"].(map[string]any)
	p := c.Process
	if args := stringList(proc["Args"]); !slices.Equal(args, p.Args) {
		return Mismatch{"OCI.Process.Args", args, p.Args}, true
	}
	if cwd, _ := proc["Cwd"].(string); cwd != p.Cwd {
		return Mismatch{"OCI.Process.Cwd", cwd, p.Cwd}, true
	}
	user, _ := proc["User"].(map[string]any)
	if n := number(user["UID"]); n != float64(p.UID) {
		return Mismatch{"OCI.Process.User.UID", n, p.UID}, true
	}
	if n := number(user["GID"]); n != float64(p.GID) {
		return Mismatch{"OCI.Process.User.GID", n, p.GID}, true
	}
	var gids []float64
	for _, g := range list(user["AdditionalGids"]) {
		gids = append(gids, number(g))
	}
	slices.Sort(gids)
	want := make([]float64, len(p.AdditionalGIDs))
	for i, g := range p.AdditionalGIDs {
		want[i] = float64(g)
	}
	if !slices.Equal(gids, want) {
		return Mismatch{"OCI.Process.User.AdditionalGids", gids, p.AdditionalGIDs}, true
	}
	if b, _ := proc["NoNewPrivileges"].(bool); b != p.NoNewPrivileges {
		return Mismatch{"OCI.Process.NoNewPrivileges", b, p.NoNewPrivileges}, true
	}
	if b, _ := proc["Terminal"].(bool); b != p.Terminal {
		return Mismatch{"OCI.Process.Terminal", b, p.Terminal}, true
	}
	for i, e := range stringList(proc["Env"]) {
		if slices.Contains(p.Env, e) || slices.ContainsFunc(p.EnvRegexes, func(r string) bool { return regexp.MustCompile(r).MatchString(e) }) {
			continue
		}
		return Mismatch{fmt.Sprintf("OCI.Process.Env[%d]", i), e, "one of " + show(p.Env) + " or a match of the allowed patterns"}, true
	}
	caps, _ := proc["Capabilities"].(map[string]any)
	wantCaps := slices.Sorted(slices.Values(p.Capabilities))
	for _, set := range []string{"Bounding", "Effective", "Permitted"} {
		got := slices.Sorted(slices.Values(stringList(caps[set])))
		if !slices.Equal(got, wantCaps) {
			return Mismatch{"OCI.Process.Capabilities." + set, got, wantCaps}, true
		}
	}
	for _, set := range []string{"Inheritable", "Ambient"} {
		if got := stringList(caps[set]); len(got) > 0 {
			return Mismatch{"OCI.Process.Capabilities." + set, got, []string{}}, true
		}
	}
	linux, _ := oci["Linux"].(map[string]any)
	sysctls, _ := linux["Sysctl"].(map[string]any)
	for _, k := range slices.Sorted(maps_keys(sysctls)) {
		if v, _ := sysctls[k].(string); c.Sysctls[k] != v {
			return Mismatch{"OCI.Linux.Sysctl[" + k + "]", v, c.Sysctls[k]}, true
		}
	}
	return Mismatch{}, false
}

func stringList(v any) []string {
	var out []string
	for _, e := range list(v) {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

func number(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case json.Number:
		f, _ := x.Float64()
		return f
	case int:
		return float64(x)
	}
	return 0
}

func maps_keys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
