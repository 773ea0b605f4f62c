// Package release is the table of release lines cocogen supports: for each
// line, what it pins (operator packages, channels and CSVs) and how the
// components of that release expect their inputs (KBS configuration,
// ConfigMap keys and mount paths, Secret keys, the reference value store,
// the claims the attestation policy sees, the init-data algorithms each
// platform allows). A fact that differs between lines lives here, once;
// every other package reads it from the line a pattern chooses.
//
// Every fact cites the file and tag it was read from. The reference data
// (CRDs, the KBS's sample configs, operator templates, default policies)
// is kept under fixtures/coco-release/ for the tests.
package release

import (
	"fmt"
	"slices"
	"strings"
)

// Names of the supported lines.
const (
	OpenShift113 = "openshift-1.13"
	Upstream021  = "upstream-0.21"
)

// Default is the line of a pattern that names none: cocogen targets
// OpenShift first, as the validated pattern does.
const Default = OpenShift113

// Line is one supported release line.
type Line struct {
	// Name is what spec.release says.
	Name string
	// Summary says in one line what the line pins, for README and errors.
	Summary string
	// Operators are the OLM subscriptions of the operators cocogen
	// installs, keyed by preset name (Operator*).
	Operators map[string]Subscription
	// Catalogs are the catalog sources those subscriptions need beyond
	// OpenShift's own, keyed by name.
	Catalogs map[string]CatalogSource
	// Trustee is how the line's Trustee operator and KBS take their inputs.
	Trustee Trustee
	// Attestation is what the line's attestation service shows policies.
	Attestation Attestation
	// InitData is how the line's guest and verifier treat init-data.
	InitData InitData
	// Cluster is how the line's cluster operators take their inputs.
	Cluster Cluster
}

// Subscription is an operator as its catalog publishes it.
type Subscription struct {
	Package, Namespace, Channel, Source, SourceNamespace string
	// StartingCSV pins the version the line was checked against.
	StartingCSV string
	// InstallPlanApproval is Automatic or Manual.
	InstallPlanApproval string
	// TargetNamespaces of the operator's OperatorGroup; empty: all.
	TargetNamespaces []string
}

// lines is the table; see openshift.go and upstream.go.
var lines = []*Line{&openShift113, &upstream021}

// Get returns the named line.
func Get(name string) (*Line, bool) {
	for _, l := range lines {
		if l.Name == name {
			return l, true
		}
	}
	return nil, false
}

// MustGet returns the named line and panics when there is none: for names
// that validation has already checked.
func MustGet(name string) *Line {
	l, ok := Get(name)
	if !ok {
		panic(fmt.Sprintf("release: no line %q", name))
	}
	return l
}

// Names lists the supported lines, default first.
func Names() []string {
	names := make([]string, len(lines))
	for i, l := range lines {
		names[i] = l.Name
	}
	slices.SortStableFunc(names, func(a, b string) int {
		switch {
		case a == Default:
			return -1
		case b == Default:
			return 1
		}
		return strings.Compare(a, b)
	})
	return names
}

// All returns every line, in Names order.
func All() []*Line {
	var out []*Line
	for _, n := range Names() {
		out = append(out, MustGet(n))
	}
	return out
}

// TEE forms in which the attestation service reports a pod's init-data:
// where the digest sits and the reference value cocogen writes for it.
const (
	// TEEAzureVTPM: Azure confidential VMs (az-snp-vtpm, az-tdx-vtpm), whose
	// pod VM extends PCR8 with the digest.
	TEEAzureVTPM = "azure-vtpm"
	// TEESNP: bare-metal AMD SEV-SNP, HOSTDATA.
	TEESNP = "snp"
	// TEETDX: bare-metal Intel TDX, MRCONFIGID.
	TEETDX = "tdx"
)

// TEETitle names a TEE form for people.
func TEETitle(tee string) string {
	switch tee {
	case TEEAzureVTPM:
		return "Azure confidential VMs (vTPM)"
	case TEESNP:
		return "AMD SEV-SNP"
	case TEETDX:
		return "Intel TDX"
	}
	return tee
}

// InitData is how a line's guest and attestation service treat init-data.
type InitData struct {
	// Annotation is the pod annotation the line's kata runtime reads
	// init-data from.
	Annotation string
	// Algorithms lists the digest algorithms allowed per TEE form (first:
	// cocogen's default).
	Algorithms map[string][]string
	// Why says, per TEE form with a restriction, why other algorithms fail.
	Why map[string]string
}

// Preset names of the operators cocogen installs (OLM package names).
const (
	OperatorSandboxedContainers = "sandboxed-containers-operator"
	OperatorTrustee             = "trustee-operator"
	OperatorACM                 = "advanced-cluster-management"
	OperatorExternalSecrets     = "openshift-external-secrets-operator"
	OperatorGitOps              = "openshift-gitops-operator"
	OperatorNFD                 = "nfd"
)

// CatalogSource is an OLM catalog a line installs operators from that
// OpenShift does not ship.
type CatalogSource struct {
	Name, Namespace, Image, DisplayName, Publisher string
}

// Cluster is how a line's cluster operators take their inputs.
type Cluster struct {
	// ContainerRuntime is the nodes' container runtime ("cri-o" or
	// "containerd"), which decides the OCI annotations a container's
	// identity reaches the kata agent in (workload policies check them).
	ContainerRuntime string
	// KataRuntimeClass is the runtime class every KataConfig creates: kata
	// VMs on the node, not confidential.
	KataRuntimeClass string
	// PeerPodsRuntimeClass is the runtime class the sandboxed containers
	// operator creates for peer pods (KataConfig enablePeerPods).
	PeerPodsRuntimeClass string
	// BareMetalRuntimeClass is the runtime class it creates for
	// confidential pods on bare-metal TEE nodes (feature gate
	// confidential), and BareMetalHandlers its handler per TEE.
	BareMetalRuntimeClass string
	BareMetalHandlers     map[string]string
	// FeatureGates is the operator's feature gate ConfigMap.
	FeatureGates string
	// MintedCredentials lists the clouds on which the operator mints
	// peer-pods-secret itself (a CredentialsRequest) when none exists.
	MintedCredentials []string
	// PeerPodsLimitKey is the peer-pods-cm key holding the number of peer
	// pods a worker node may run (the operator turns it into the node's
	// kata.peerpods.io/vm capacity).
	PeerPodsLimitKey string
	// MultiClusterHub is the ACM hub instance: name and namespace.
	MultiClusterHub, MultiClusterHubNamespace string
	// ExternalSecretsConfig is the one instance of the Red Hat External
	// Secrets operator; the operator runs no controller without it.
	ExternalSecretsConfig string
}
