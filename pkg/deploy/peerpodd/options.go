package peerpodd

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Defaults. Options has no implicit defaults (a zero field is a problem,
// not a default), so that a caller passing 0 or "" on purpose is told so
// instead of silently getting the default; start from DefaultOptions.
const (
	// DefaultNamespace holds the daemon alone: it must allow privileged
	// pods (see Objects), which no namespace with workloads should.
	DefaultNamespace = "peerpodd-system"
	// DefaultPeerPodsLimit is the kata.peerpods.io/vm capacity each node
	// advertises: CAA's default too (v0.22.0
	// src/cloud-api-adaptor/cmd/cloud-api-adaptor/main.go, flag
	// peerpods-limit-per-node).
	DefaultPeerPodsLimit = 10
	// DefaultRuntimeClassName is the class pods name to run as peer pods,
	// the name CAA, the CoCo operator and OpenShift sandboxed containers
	// all use (CAA v0.22.0 src/cloud-api-adaptor/pkg/probe/probe.go,
	// DefaultCCRuntimeClassName), so workloads move between clusters
	// unchanged.
	DefaultRuntimeClassName = "kata-remote"
	// DefaultHandler is the containerd/CRI-O runtime handler of kata's
	// remote shim, as kata-deploy installs it for CAA (v0.22.0
	// src/cloud-api-adaptor/install/charts/peerpods/values.yaml,
	// defaultShim remote) and CAA's class names it
	// (src/webhook/hack/rc.yaml).
	DefaultHandler = "kata-remote"
	// DefaultNodeSelectorKey and DefaultNodeSelectorValue are the node
	// label that opts a node into peer pods: the daemon runs there and the
	// runtime class schedules there. It is cocogen's own label (cocogen.dev
	// is the prefix of its other labels), because kubernetes.io and k8s.io
	// prefixes are reserved for Kubernetes itself, CAA's
	// node.kubernetes.io/worker (v0.22.0
	// src/cloud-api-adaptor/install/charts/peerpods/templates/daemonset.yaml)
	// is not set on AKS or EKS nodes, and kata-deploy's
	// katacontainers.io/kata-runtime marks every kata node, not only
	// those meant to host peer pods.
	DefaultNodeSelectorKey   = "cocogen.dev/peerpods"
	DefaultNodeSelectorValue = "true"
)

// Options say what Objects builds. Each field's CLI flag is named in its
// comment (cocogen peerpodd manifests).
type Options struct {
	// Namespace holds the daemon's DaemonSet and ServiceAccount
	// (--namespace). Objects creates it, labelled to allow privileged
	// pods.
	Namespace string
	// Image is the daemon's image (--image), required and fully
	// qualified (registry/repository), pinned by a digest (recommended:
	// @sha256:...) or a release tag. An untagged reference or the tag
	// latest is refused, not warned about: every node pulls the image on
	// its own schedule, so a moving tag runs different daemons on
	// different nodes, and the daemon must match the pod VM image's agent.
	// The registry must be explicit because CRI-O resolves short names
	// through the node's search registries.
	Image string
	// PeerPodsLimit is the number of peer pods a node accepts, advertised
	// as the node's kata.peerpods.io/vm capacity (--peer-pods-limit). It is
	// set in the DaemonSet's environment (PEERPODS_LIMIT_PER_NODE), which
	// takes precedence over the same key in peer-pods-cm.
	PeerPodsLimit int
	// NodeSelector selects the nodes that run the daemon and that pods of
	// the runtime class are scheduled on (--node-selector key=value,...).
	// Empty selects every node the DaemonSet tolerates.
	NodeSelector map[string]string
	// RuntimeClassName is the RuntimeClass's name (--runtime-class).
	RuntimeClassName string
	// Handler is the RuntimeClass's CRI handler (--handler): the name of
	// the kata-remote runtime in the nodes' containerd or CRI-O
	// configuration.
	Handler string
	// AzureWorkloadIdentityClientID, when set (--azure-workload-identity
	// -client-id), lets the daemon reach Azure with workload identity
	// instead of a client secret: the ServiceAccount gets the
	// azure.workload.identity/client-id annotation and the daemon's pods
	// the azure.workload.identity/use label, which make the Azure
	// workload identity webhook inject AZURE_CLIENT_ID, AZURE_TENANT_ID
	// and AZURE_FEDERATED_TOKEN_FILE (azure-workload-identity's
	// documented contract). The identity needs a federated credential for
	// system:serviceaccount:<namespace>:peerpodd.
	AzureWorkloadIdentityClientID string
	// CloudProvider is the cloud the daemon is meant for (--cloud-provider,
	// optional), recorded as the DaemonSet's annotation
	// cocogen.dev/cloud-provider for readers; the daemon itself reads
	// CLOUD_PROVIDER from peer-pods-cm.
	CloudProvider string
}

// DefaultOptions are the options with every default set; only Image is
// left to the caller.
func DefaultOptions() Options {
	return Options{
		Namespace:        DefaultNamespace,
		PeerPodsLimit:    DefaultPeerPodsLimit,
		NodeSelector:     map[string]string{DefaultNodeSelectorKey: DefaultNodeSelectorValue},
		RuntimeClassName: DefaultRuntimeClassName,
		Handler:          DefaultHandler,
	}
}

// Problem is one invalid option.
type Problem struct {
	// Option is the Options field, as its flag spells it (e.g.
	// "peer-pods-limit").
	Option string
	// Message says what is wrong.
	Message string
}

// String is "option: message".
func (p Problem) String() string { return p.Option + ": " + p.Message }

// InvalidOptionsError is every problem Validate found, in the order of
// the Options fields.
type InvalidOptionsError struct {
	Problems []Problem
}

// Error lists the problems, one a line.
func (e *InvalidOptionsError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return "invalid peerpodd options:\n  " + strings.Join(lines, "\n  ")
}

// Validate reports every problem of the options at once, as an
// *InvalidOptionsError, or nil.
func (o Options) Validate() error {
	var problems []Problem
	add := func(option, format string, args ...any) {
		problems = append(problems, Problem{Option: option, Message: fmt.Sprintf(format, args...)})
	}
	// checkName checks a name the API server checks with check.
	checkName := func(option, value string, check func(string) []string) {
		if value == "" {
			add(option, "required")
			return
		}
		for _, msg := range check(value) {
			add(option, "%q: %s", value, msg)
		}
	}
	checkName("namespace", o.Namespace, validation.IsDNS1123Label)
	if msg := imageProblem(o.Image); msg != "" {
		add("image", "%s", msg)
	}
	if o.PeerPodsLimit < 1 {
		add("peer-pods-limit", "%d: want at least 1 (0 would advertise no capacity: no peer pod could be scheduled)", o.PeerPodsLimit)
	}
	for _, k := range slices.Sorted(maps.Keys(o.NodeSelector)) {
		for _, msg := range validation.IsQualifiedName(k) {
			add("node-selector", "key %q: %s", k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(o.NodeSelector[k]) {
			add("node-selector", "value %q of %s: %s", o.NodeSelector[k], k, msg)
		}
	}
	checkName("runtime-class", o.RuntimeClassName, validation.IsDNS1123Subdomain)
	// The API server checks a RuntimeClass's handler as a DNS label.
	checkName("handler", o.Handler, validation.IsDNS1123Label)
	if o.CloudProvider != "" {
		checkName("cloud-provider", o.CloudProvider, validation.IsDNS1123Label)
	}
	if id := o.AzureWorkloadIdentityClientID; id != "" && !guid.MatchString(id) {
		add("azure-workload-identity-client-id", "%q is not a GUID (the managed identity's or app registration's client ID)", id)
	}
	if len(problems) > 0 {
		return &InvalidOptionsError{Problems: problems}
	}
	return nil
}

var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// imageProblem says what is wrong with an image reference, or "".
func imageProblem(image string) string {
	const want = "want a fully qualified, pinned reference: registry/repository@sha256:<digest> (recommended) or registry/repository:<release tag>"
	if image == "" {
		return "required; " + want
	}
	ref, err := name.ParseReference(image, name.StrictValidation)
	if err != nil {
		return fmt.Sprintf("%q: %s", image, want)
	}
	if tag, ok := ref.(name.Tag); ok && tag.TagStr() == "latest" {
		return fmt.Sprintf("%q: the tag latest moves, so nodes would run different daemons; %s", image, want)
	}
	return ""
}
