package release

// openShift113 is OpenShift sandboxed containers 1.13 with the Red Hat
// build of Trustee 1.2.1.
var openShift113 = Line{
	Name:    OpenShift113,
	Summary: "OpenShift sandboxed containers 1.13 + Red Hat build of Trustee 1.2.1 (trustee-operator.v1.2.1; KBS from openshift/trustee v1.2.0 = upstream trustee 90a72d5 + downstream patches)",
	Trustee: withTrustee(func(t *Trustee) {
		t.KBSSource = "openshift/trustee v1.2.0"
		// openshift/trustee v1.2.0 kbs/docker/rhel-ubi/Dockerfile:
		// KBS_FEATURES=coco-as-builtin,intel-trust-authority-as, VAULT=true,
		// ALIYUN=false.
		t.KBSImage = KBSImage{
			Name:                "the Red Hat build of Trustee 1.2 KBS image",
			AttestationServices: []string{"coco_as_builtin", "intel_ta"},
			Plugins:             []string{"sample", "resource"},
			ResourceBackends:    []string{"kvstorage", "vault"},
		}
		// openshift/trustee-operator v1.2.1: the TrusteeConfig
		// controller creates Route kbs-route for the KBS service.
		t.RouteName = "kbs-route"
	}),
	Attestation: Attestation{PolicyID: "default_cpu"},
	InitData:    sharedInitData,
	Cluster:     sharedCluster,
	// openshift/trustee-operator v1.2.1 bundle CSV trustee-operator.v1.2.1
	// (installModes OwnNamespace, SingleNamespace); openshift/trustee-fbc:
	// channel stable, in the catalogs of OpenShift 4.19 to 4.22 only.
	Operators: withTrusteeOperator(Subscription{
		Package: OperatorTrustee, Namespace: "trustee-operator-system",
		Channel: "stable", Source: redHatOperators, SourceNamespace: marketplace,
		StartingCSV: "trustee-operator.v1.2.1", InstallPlanApproval: "Automatic",
		TargetNamespaces: []string{"trustee-operator-system"},
	}),
}

// upstream021 is the upstream trustee-operator v0.21.0 with trustee
// v0.21.0.
var upstream021 = Line{
	Name:    Upstream021,
	Summary: "upstream trustee-operator v0.21.0 + trustee v0.21.0 (KBS image staged-images/kbs:b2442c2)",
	Trustee: withTrustee(func(t *Trustee) {
		t.KBSSource = "confidential-containers/trustee v0.21.0"
		// trustee b2442c2 kbs/docker/Dockerfile (staged-images/kbs):
		// AS_FEATURE=coco-as-builtin FEATURES=pkcs11 VAULT=true ALIYUN=false.
		t.KBSImage = KBSImage{
			Name:                "the staged-images/kbs:b2442c2 image",
			AttestationServices: []string{"coco_as_builtin"},
			Plugins:             []string{"sample", "resource", "pkcs11"},
			ResourceBackends:    []string{"kvstorage", "vault"},
		}
	}),
	Attestation: Attestation{PolicyID: "default_cpu"},
	InitData:    sharedInitData,
	Cluster:     sharedCluster,
	// Workload clusters still run OpenShift sandboxed containers: this line
	// changes the Trustee side. confidential-containers/trustee-operator
	// v0.21.0 bundle: channel alpha, CSV trustee-operator.v0.21.0,
	// installModes AllNamespaces only (the KBS still lands in the
	// operator's own namespace); published in the operatorhub.io catalog
	// (k8s-operatorhub/community-operators operators/trustee-operator/0.21.0).
	Operators: withTrusteeOperator(Subscription{
		Package: OperatorTrustee, Namespace: "trustee-operator-system",
		Channel: "alpha", Source: operatorHubIO, SourceNamespace: marketplace,
		StartingCSV: "trustee-operator.v0.21.0", InstallPlanApproval: "Automatic",
	}),
	Catalogs: map[string]CatalogSource{
		// The operatorhub.io catalog is not shipped with OpenShift.
		operatorHubIO: {
			Name: operatorHubIO, Namespace: marketplace,
			Image:       "quay.io/operatorhubio/catalog:latest",
			DisplayName: "Community Operators (operatorhub.io)", Publisher: "OperatorHub.io",
		},
	},
}

// withTrusteeOperator is the operators both lines install, with the line's
// Trustee operator.
func withTrusteeOperator(trustee Subscription) map[string]Subscription {
	return map[string]Subscription{
		OperatorSandboxedContainers: sandboxedContainers,
		OperatorTrustee:             trustee,
		OperatorACM:                 acm,
		OperatorExternalSecrets:     externalSecrets,
		OperatorGitOps:              gitOps,
		OperatorNFD:                 nfd,
	}
}

const (
	redHatOperators = "redhat-operators"
	marketplace     = "openshift-marketplace"
	operatorHubIO   = "operatorhubio-catalog"
)

// sandboxedContainers is OpenShift sandboxed containers 1.13: package
// sandboxed-containers-operator, channel stable, installModes OwnNamespace
// and SingleNamespace (OSC bundle CSV). The 1.13 CSV name comes from
// OpenShift's install documentation for 1.13.1; no 1.13 source was
// available to read.
var sandboxedContainers = Subscription{
	Package: OperatorSandboxedContainers, Namespace: "openshift-sandboxed-containers-operator",
	Channel: "stable", Source: redHatOperators, SourceNamespace: marketplace,
	StartingCSV: "sandboxed-containers-operator.v1.13.1", InstallPlanApproval: "Automatic",
	TargetNamespaces: []string{"openshift-sandboxed-containers-operator"},
}

// nfd is OpenShift's Node Feature Discovery operator (openshift/
// cluster-nfd-operator release-4.20 bundle: package nfd, channel stable,
// OwnNamespace/SingleNamespace, suggested namespace openshift-nfd). Its CSV
// follows the OpenShift release (nfd.v4.20.0 on 4.20), so none is pinned.
var nfd = Subscription{
	Package: OperatorNFD, Namespace: "openshift-nfd",
	Channel: "stable", Source: redHatOperators, SourceNamespace: marketplace,
	InstallPlanApproval: "Automatic", TargetNamespaces: []string{"openshift-nfd"},
}

// acm is Red Hat Advanced Cluster Management 2.16 (stolostron
// multiclusterhub-operator release-2.16 bundle: channel release-2.16,
// OwnNamespace only, CSV advanced-cluster-management.v2.16.3; OpenShift
// 4.19 and later, as Trustee 1.2 needs anyway).
var acm = Subscription{
	Package: OperatorACM, Namespace: "open-cluster-management",
	Channel: "release-2.16", Source: redHatOperators, SourceNamespace: marketplace,
	StartingCSV: "advanced-cluster-management.v2.16.3", InstallPlanApproval: "Automatic",
	TargetNamespaces: []string{"open-cluster-management"},
}

// externalSecrets is the Red Hat External Secrets operator
// (openshift/external-secrets-operator bundle: AllNamespaces only; channel
// stable-v1 in the Red Hat catalog). No CSV is pinned: the catalog's CSV
// name could not be established.
var externalSecrets = Subscription{
	Package: OperatorExternalSecrets, Namespace: "external-secrets-operator",
	Channel: "stable-v1", Source: redHatOperators, SourceNamespace: marketplace,
	InstallPlanApproval: "Automatic",
}

// gitOps is OpenShift GitOps, which ACM installs on spokes
// (redhat-developer/gitops-operator v1.21: AllNamespaces only; channel
// gitops-1.21 as the validated patterns' operator defaults it).
var gitOps = Subscription{
	Package: OperatorGitOps, Namespace: "openshift-gitops-operator",
	Channel: "gitops-1.21", Source: redHatOperators, SourceNamespace: marketplace,
	InstallPlanApproval: "Automatic",
}

// sharedCluster holds for both lines: both run OpenShift sandboxed
// containers 1.13, ACM 2.16 and the Red Hat External Secrets operator on
// the cluster side. OSC 1.13's own source was not available; the facts
// below are those of the newest sandboxed-containers-operator sources
// read (controllers/confidential_handler.go, fg_handler.go,
// credentials_controller.go) and agree with OpenShift's 1.13
// documentation.
var sharedCluster = Cluster{
	// Both lines run on OpenShift, whose only container runtime is CRI-O
	// (OpenShift 4.19 ships CRI-O 1.32; annotation keys and name formats
	// from cri-o v1.32.0 pkg/annotations and internal/factory/container).
	ContainerRuntime:      "cri-o",
	KataRuntimeClass:      "kata",
	PeerPodsRuntimeClass:  "kata-remote",
	BareMetalRuntimeClass: "kata-cc",
	// confidential_handler.go: handler kata-tdx (Intel, node label
	// intel.feature.node.kubernetes.io/tdx) or kata-snp (AMD,
	// amd.feature.node.kubernetes.io/snp).
	BareMetalHandlers: map[string]string{TEETDX: "kata-tdx", TEESNP: "kata-snp"},
	FeatureGates:      "osc-feature-gates",
	// credentials_controller.go: CredentialsRequests
	// openshift-sandboxed-containers-aws and -azure (since OSC 1.5.3); none
	// for IBM Cloud.
	MintedCredentials: []string{"aws", "azure"},
	// Newer operators moved the limit out of the deprecated PeerPodConfig
	// (peerpodconfig-openshift, deleted on reconcile by
	// migratePeerPodsLimit) into peer-pods-cm; the cloud-api-adaptor
	// reads the same key (cmd/cloud-api-adaptor/main.go, default 10).
	PeerPodsLimitKey: "PEERPODS_LIMIT_PER_NODE",
	// multiclusterhub-operator release-2.16 bundle CSV: the
	// initialization resource is MultiClusterHub multiclusterhub in
	// open-cluster-management.
	MultiClusterHub: "multiclusterhub", MultiClusterHubNamespace: "open-cluster-management",
	// openshift/external-secrets-operator api/v1alpha1: a singleton named
	// cluster (CEL on the CRD).
	ExternalSecretsConfig: "cluster",
}

// sharedInitData holds for both lines: kata 3.25 (cloud-api-adaptor v0.18,
// the OpenShift line's base) and kata 4.0 (cloud-api-adaptor v0.22) read
// the same annotation, and guest-components v0.17 and v0.21 bind init-data
// the same way.
var sharedInitData = InitData{
	// kata src/runtime/virtcontainers/pkg/annotations/annotations.go
	// (Initdata): io.katacontainers.config.hypervisor.cc_init_data; no
	// runtime-scoped name exists at either version.
	Annotation: "io.katacontainers.config.hypervisor.cc_init_data",
	Algorithms: map[string][]string{
		TEEAzureVTPM: {"sha256"},
		// kata pkg/govmm/qemu/qemu.go adjustProperLength: the digest is
		// truncated or zero-padded to MRCONFIGID's 48 bytes; sha384 fills
		// it exactly.
		TEETDX: {"sha384", "sha256", "sha512"},
		// HOSTDATA is 32 bytes: longer digests are truncated.
		TEESNP: {"sha384", "sha256", "sha512"},
	},
	Why: map[string]string{
		// guest-components attestation-agent/attester/src/az_snp_vtpm/mod.rs
		// (bind_init_data: "expected sha256 digest"); cloud-api-adaptor
		// podvm process-user-data override extends PCR8 with the first 32
		// bytes of the digest; trustee deps/verifier/src/az_snp_vtpm
		// verify_init_data compares PCR8 with sha256(0^32 || 32-byte digest).
		TEEAzureVTPM: "on Azure the attestation agent extends the vTPM's PCR8 (a SHA-256 bank) with the digest and accepts only a 32-byte sha256 digest, and Trustee checks PCR8 = sha256(0^32 || digest)",
	},
}

// withTrustee is sharedTrustee changed by what a line does differently.
func withTrustee(change func(*Trustee)) Trustee {
	t := sharedTrustee
	change(&t)
	return t
}
