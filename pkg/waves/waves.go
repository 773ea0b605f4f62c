// Package waves holds the Argo CD sync waves of everything cocogen emits in
// one table, so that the order "namespaces, operators, Trustee, policies,
// operator configuration, workloads" is stated once and every generator
// agrees with it.
package waves

import "strconv"

// Annotation is the Argo CD sync-wave annotation key.
const Annotation = "argocd.argoproj.io/sync-wave"

// SyncOptionsAnnotation is the per-resource Argo CD sync-options key.
const SyncOptionsAnnotation = "argocd.argoproj.io/sync-options"

// SkipDryRunOnMissingResource lets Argo CD sync a custom resource whose CRD
// an operator of an earlier wave is still installing.
const SkipDryRunOnMissingResource = "SkipDryRunOnMissingResource=true"

// The waves, lowest first. Gaps leave room for users' own waves.
const (
	// Namespaces and AppProjects exist before anything is put in them.
	Namespaces = -30
	// OperatorGroups must exist before their Subscriptions resolve.
	OperatorGroups = -25
	// Subscriptions install the operators (OLM health gates the next wave).
	Subscriptions = -20
	// OperatorInstances are the objects an operator needs before it does
	// anything (ACM's MultiClusterHub, the External Secrets operator's
	// ExternalSecretsConfig); their health checks gate the next wave.
	OperatorInstances = -15
	// SecretStores are where ExternalSecrets read from.
	SecretStores = -12
	// Trustee (KbsConfig and its ConfigMaps) comes up once its operator runs.
	Trustee = -10
	// Policies (ACM) deliver per-cluster config such as peer-pods-cm and
	// init-data, and the feature gates are set, before the operators are
	// configured to use them.
	Policies = -5
	// OperatorConfig (KataConfig) turns the runtime on; peer pods read
	// peer-pods-cm at this point.
	OperatorConfig = 0
	// Workloads are child Applications that have no wave of their own.
	Workloads = 10
)

// String formats a wave for the annotation value.
func String(w int) string { return strconv.Itoa(w) }
