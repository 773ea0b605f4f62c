package policies

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The requests the host sends about the sandbox rather than a container
// (CreateSandbox, CopyFile, the network updates) and those a policy
// decides by its default alone (SetPolicy, UpdateContainer, ...) are
// explained for every profile: their rules read only policy_data's host
// sections, which exec-deny and workload share. Each check mirrors the
// rule of the same name in rego/exec-deny.rego, in the rule's order, and
// a denial names the request field the rule refused.

// ruleHeads are the request rules a policy text decides with a body
// (`Kind if {`, `Kind := {...} if {`); every other request is decided by
// its `default Kind := bool` line.
var (
	ruleHead    = regexp.MustCompile(`(?m)^([A-Z][A-Za-z]*)(?: if| := \{)`)
	defaultHead = regexp.MustCompile(`(?m)^default ([A-Z][A-Za-z]*) := (true|false)$`)
)

// policyDecisions reads which requests a policy decides by default alone,
// and how.
func policyDecisions(policy string) (defaults map[string]bool, ruled map[string]bool) {
	defaults, ruled = map[string]bool{}, map[string]bool{}
	for _, m := range defaultHead.FindAllStringSubmatch(policy, -1) {
		defaults[m[1]] = m[2] == "true"
	}
	for _, m := range ruleHead.FindAllStringSubmatch(policy, -1) {
		ruled[m[1]] = true
	}
	return defaults, ruled
}

// explainByDefault decides a request whose default allows it, or that the
// policy has no rule for: its default, or (no default either) refused, as
// the agent refuses a request the policy leaves undefined.
func (x *Explainer) explainByDefault(kind string) (Explanation, bool) {
	out := Explanation{Kind: kind, Allowed: x.defaults[kind] || x.defaults["AllowRequestsFailingPolicy"]}
	if out.Allowed {
		// A rule beside a true default only adds state ops
		// (RemoveContainerRequest), or the agent allows what the policy
		// refuses (debug).
		return out, true
	}
	if x.ruled[kind] {
		return Explanation{}, false
	}
	{
		why := "refused by this policy whatever it holds (no init-data option allows it)"
		if kind == "SetPolicyRequest" {
			why = "refused by this policy whatever it holds: the host may not replace the policy the init-data measured (drop the profile's annotations.legacyPolicy)"
		}
		out.Mismatch = &Mismatch{Field: kind, Got: "a " + kind, Expected: why}
	}
	return out, true
}

// explainHost decides the sandbox, file-copy and network requests from
// policy_data, as the rules do.
func (x *Explainer) explainHost(kind string, req map[string]any) (Explanation, bool) {
	var m *Mismatch
	switch kind {
	case "CreateSandboxRequest":
		m = x.explainCreateSandbox(req)
	case "CopyFileRequest":
		m = x.explainCopyFile(req)
	case "UpdateRoutesRequest":
		m = x.explainRoutes(req)
	case "UpdateInterfaceRequest":
		m = x.explainInterface(req)
	case "AddARPNeighborsRequest":
		m = x.explainNeighbors(req)
	case "SetPolicyRequest":
		// The rule PinSetPolicy adds: only the pinned replacement.
		if !x.hasPinned {
			return Explanation{}, false
		}
		if got, _ := req["policy"].(string); got != x.pinned {
			m = &Mismatch{Field: "policy", Got: fmt.Sprintf("a policy of %d bytes", len(got)), Expected: fmt.Sprintf("the %d-byte policy this init-data pins (the profile's legacy policy annotation, byte for byte)", len(x.pinned))}
		} else if len(x.created) > 0 {
			m = &Mismatch{Field: "SetPolicyRequest", Got: fmt.Sprintf("after %d containers were created", len(x.created)), Expected: "before any container (a replacement would start with an empty policy state)"}
		}
	default:
		return Explanation{}, false
	}
	return Explanation{Kind: kind, Allowed: m == nil, Mismatch: m}, true
}

// section is policy_data[name] as a map.
func (x *Explainer) section(name string) map[string]any {
	s, _ := x.data[name].(map[string]any)
	return s
}

func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case bool:
		return !v
	case []any:
		return len(v) == 0
	}
	return false
}

func matchesAny(regexes []string, s string) bool {
	return slices.ContainsFunc(regexes, func(re string) bool { return regexp.MustCompile(re).MatchString(s) })
}

func (x *Explainer) explainCreateSandbox(req map[string]any) *Mismatch {
	for _, f := range []struct{ field, why string }{
		{"sandbox_pidns", "false: a shared PID namespace lets containers trace each other"},
		{"guest_hook_path", `"": guest OCI hooks run host-chosen binaries as root in the VM`},
		{"kernel_modules", "none: host-chosen code in the guest kernel"},
	} {
		if !isEmpty(req[f.field]) {
			return &Mismatch{Field: f.field, Got: req[f.field], Expected: f.why}
		}
	}
	allowed, _ := x.section("create_sandbox")["allowed_storages"].([]any)
	storages, _ := req["storages"].([]any)
	for i, s := range storages {
		sm, _ := s.(map[string]any)
		var first *Mismatch
		for _, a := range allowed {
			am, _ := a.(map[string]any)
			m := storageMismatch(fmt.Sprintf("storages[%d]", i), am, sm)
			if m == nil {
				first = nil
				break
			}
			if first == nil {
				first = m
			}
		}
		if first == nil && len(allowed) == 0 {
			first = &Mismatch{Field: fmt.Sprintf("storages[%d]", i), Got: sm, Expected: "no storage"}
		}
		if first != nil {
			return first
		}
	}
	return nil
}

// storageMismatch mirrors sandbox_storage_allowed for one allowed storage.
func storageMismatch(where string, allowed, s map[string]any) *Mismatch {
	for _, k := range []string{"driver", "source", "fstype", "mount_point"} {
		if got, _ := s[k].(string); got != allowed[k] {
			return &Mismatch{Field: where + "." + k, Got: got, Expected: allowed[k]}
		}
	}
	if !isEmpty(s["driver_options"]) {
		return &Mismatch{Field: where + ".driver_options", Got: s["driver_options"], Expected: "none"}
	}
	regexes := stringList(allowed["option_regexes"])
	for j, o := range stringList(s["options"]) {
		if !matchesAny(regexes, o) {
			return &Mismatch{Field: fmt.Sprintf("%s.options[%d]", where, j), Got: o, Expected: "one of " + show(regexes)}
		}
	}
	return nil
}

// canonicalAbsolute mirrors canonical_absolute_path.
func canonicalAbsolute(p string) bool {
	return strings.HasPrefix(p, "/") && canonicalComponents(strings.TrimPrefix(p, "/"))
}

// containedTarget mirrors contained_symlink_target.
func containedTarget(t string) bool {
	return t != "" && !strings.HasPrefix(t, "/") && canonicalComponents(t)
}

// canonicalComponents: no empty, "." or ".." component
// (non_canonical_components).
func canonicalComponents(p string) bool {
	for _, c := range strings.Split(p, "/") {
		if c == "" || c == "." || c == ".." {
			return false
		}
	}
	return true
}

func (x *Explainer) explainCopyFile(req map[string]any) *Mismatch {
	rules := x.section("copy_file")
	path, _ := req["path"].(string)
	fileType, _ := req["file_type"].(string)
	if !canonicalAbsolute(path) {
		return &Mismatch{Field: "path", Got: path, Expected: `an absolute path without empty, "." or ".." components`}
	}
	prefixes := stringList(rules["path_prefix_regexes"])
	top, nested := stringList(rules["top_level_file_types"]), stringList(rules["nested_file_types"])
	under := false
	for _, prefix := range prefixes {
		if !regexp.MustCompile(prefix).MatchString(path) {
			continue
		}
		under = true
		if slices.Contains(top, fileType) && regexp.MustCompile(prefix+`[^/]+$`).MatchString(path) ||
			slices.Contains(nested, fileType) && regexp.MustCompile(prefix+`[^/]+/.+$`).MatchString(path) {
			if fileType == "Symlink" {
				if target, _ := req["symlink_target"].(string); !containedTarget(target) {
					return &Mismatch{Field: "symlink_target", Got: target, Expected: `a relative target without empty, "." or ".." components (it must stay inside the copied tree)`}
				}
			}
			return nil
		}
	}
	if !under {
		return &Mismatch{Field: "path", Got: path, Expected: "a path matching " + show(prefixes) + " (where the runtime copies a container's mounted files)"}
	}
	return &Mismatch{Field: "file_type", Got: fileType, Expected: fmt.Sprintf("%s directly under the copy's prefix, %s below it", show(top), show(nested))}
}

func (x *Explainer) explainRoutes(req map[string]any) *Mismatch {
	rules := x.section("update_routes")
	routes, _ := req["routes"].(map[string]any)
	list, _ := routes["Routes"].([]any)
	for i, r := range list {
		rm, _ := r.(map[string]any)
		where := fmt.Sprintf("routes.Routes[%d]", i)
		if dev, _ := rm["device"].(string); slices.Contains(stringList(rules["forbidden_devices"]), dev) {
			return &Mismatch{Field: where + ".device", Got: dev, Expected: "not " + show(rules["forbidden_devices"]) + " (the host could redirect traffic meant for localhost services)"}
		}
		if src, _ := rm["source"].(string); matchesAny(stringList(rules["forbidden_source_regexes"]), src) {
			return &Mismatch{Field: where + ".source", Got: src, Expected: "not a loopback address"}
		}
	}
	return nil
}

func (x *Explainer) explainInterface(req map[string]any) *Mismatch {
	rules := x.section("update_interface")
	iface, ok := req["interface"].(map[string]any)
	if !ok {
		return &Mismatch{Field: "interface", Got: req["interface"], Expected: "an interface"}
	}
	names := stringList(rules["forbidden_names"])
	for _, k := range []string{"name", "device"} {
		if v, _ := iface[k].(string); slices.Contains(names, v) {
			return &Mismatch{Field: "interface." + k, Got: v, Expected: "not " + show(names)}
		}
	}
	if hw, _ := iface["hwAddr"].(string); slices.Contains(stringList(rules["forbidden_hw_addrs"]), strings.ToLower(hw)) {
		return &Mismatch{Field: "interface.hwAddr", Got: hw, Expected: "not " + show(rules["forbidden_hw_addrs"])}
	}
	flags, allowed := uint64(number(iface["raw_flags"])), uint64(number(rules["allowed_raw_flags"]))
	if flags&allowed != flags {
		return &Mismatch{Field: "interface.raw_flags", Got: flags, Expected: fmt.Sprintf("no flag outside %d", allowed)}
	}
	addrs, _ := iface["IPAddresses"].([]any)
	for i, a := range addrs {
		am, _ := a.(map[string]any)
		if addr, _ := am["address"].(string); matchesAny(stringList(rules["forbidden_address_regexes"]), addr) {
			return &Mismatch{Field: fmt.Sprintf("interface.IPAddresses[%d].address", i), Got: addr, Expected: "not a loopback address"}
		}
	}
	return nil
}

func (x *Explainer) explainNeighbors(req map[string]any) *Mismatch {
	rules := x.section("add_arp_neighbors")
	neighbors, _ := req["neighbors"].(map[string]any)
	list, _ := neighbors["ARPNeighbors"].([]any)
	for i, n := range list {
		nm, _ := n.(map[string]any)
		where := fmt.Sprintf("neighbors.ARPNeighbors[%d]", i)
		if dev, _ := nm["device"].(string); slices.Contains(stringList(rules["forbidden_devices"]), dev) {
			return &Mismatch{Field: where + ".device", Got: dev, Expected: "not " + show(rules["forbidden_devices"])}
		}
		to, _ := nm["toIPAddress"].(map[string]any)
		if addr, _ := to["address"].(string); matchesAny(stringList(rules["forbidden_address_regexes"]), addr) {
			return &Mismatch{Field: where + ".toIPAddress.address", Got: addr, Expected: "not a loopback address"}
		}
		states, _ := rules["allowed_states"].([]any)
		if state := number(nm["state"]); !slices.ContainsFunc(states, func(s any) bool { return number(s) == state }) {
			return &Mismatch{Field: where + ".state", Got: state, Expected: "one of " + show(states)}
		}
		flags, allowed := uint64(number(nm["flags"])), uint64(number(rules["allowed_flags"]))
		if flags&allowed != flags {
			return &Mismatch{Field: where + ".flags", Got: flags, Expected: fmt.Sprintf("no flag outside %d", allowed)}
		}
	}
	return nil
}
