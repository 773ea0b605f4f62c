// Package argoapp holds the fields of Argo CD's Application and AppProject
// (argo-cd v2.14.21 pkg/apis/application/v1alpha1) that cocogen writes,
// with the same JSON names and omitempty rules, so that the binary does not
// link argo-cd (and through it client-go and kubectl) to write a few
// structs. The render tests decode every emitted Application and
// AppProject strictly into argo-cd's own types and require the round trip
// to give back exactly what was written.
package argoapp

import (
	"encoding/json"
)

// TypeApplication and TypeAppProject are the objects' API version and kind.
var (
	TypeApplication = TypeMeta{APIVersion: "argoproj.io/v1alpha1", Kind: "Application"}
	TypeAppProject  = TypeMeta{APIVersion: "argoproj.io/v1alpha1", Kind: "AppProject"}
)

// TypeMeta is the fields of apimachinery's metav1.TypeMeta (v0.31).
type TypeMeta struct {
	Kind       string `json:"kind,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
}

// ObjectMeta is the fields of apimachinery's metav1.ObjectMeta (v0.31)
// that cocogen sets, with the same JSON names and omitempty rules.
type ObjectMeta struct {
	Name        string            `json:"name,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Finalizers  []string          `json:"finalizers,omitempty"`
}

// GroupKind is apimachinery's metav1.GroupKind (v0.31).
type GroupKind struct {
	Group string `json:"group"`
	Kind  string `json:"kind"`
}

// ResourcesFinalizerName makes deleting an Application delete what it
// deployed (v1alpha1.ResourcesFinalizerName).
const ResourcesFinalizerName = "resources-finalizer.argocd.argoproj.io"

// Application is v1alpha1.Application without status and operation.
type Application struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Spec       ApplicationSpec `json:"spec"`
}

// ApplicationSpec is v1alpha1.ApplicationSpec.
type ApplicationSpec struct {
	Source            *ApplicationSource          `json:"source,omitempty"`
	Destination       ApplicationDestination      `json:"destination"`
	Project           string                      `json:"project"`
	SyncPolicy        *SyncPolicy                 `json:"syncPolicy,omitempty"`
	IgnoreDifferences []ResourceIgnoreDifferences `json:"ignoreDifferences,omitempty"`
	Sources           []ApplicationSource         `json:"sources,omitempty"`
}

// ApplicationSource is v1alpha1.ApplicationSource.
type ApplicationSource struct {
	RepoURL        string                      `json:"repoURL"`
	Path           string                      `json:"path,omitempty"`
	TargetRevision string                      `json:"targetRevision,omitempty"`
	Helm           *ApplicationSourceHelm      `json:"helm,omitempty"`
	Directory      *ApplicationSourceDirectory `json:"directory,omitempty"`
	Plugin         *ApplicationSourcePlugin    `json:"plugin,omitempty"`
	Chart          string                      `json:"chart,omitempty"`
	Ref            string                      `json:"ref,omitempty"`
}

// ApplicationSourceHelm is v1alpha1.ApplicationSourceHelm.
type ApplicationSourceHelm struct {
	ValueFiles   []string        `json:"valueFiles,omitempty"`
	Parameters   []HelmParameter `json:"parameters,omitempty"`
	ReleaseName  string          `json:"releaseName,omitempty"`
	ValuesObject json.RawMessage `json:"valuesObject,omitempty"`
}

// HelmParameter is v1alpha1.HelmParameter.
type HelmParameter struct {
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
}

// ApplicationSourceDirectory is v1alpha1.ApplicationSourceDirectory. Its
// jsonnet field is a struct in argo-cd, which omitempty does not omit: it
// is written as {} there too.
type ApplicationSourceDirectory struct {
	Recurse bool     `json:"recurse,omitempty"`
	Jsonnet struct{} `json:"jsonnet"`
}

// ApplicationSourcePlugin is v1alpha1.ApplicationSourcePlugin.
type ApplicationSourcePlugin struct {
	Name       string            `json:"name,omitempty"`
	Parameters []PluginParameter `json:"parameters,omitempty"`
}

// PluginParameter is a string v1alpha1.ApplicationSourcePluginParameter.
type PluginParameter struct {
	Name   string  `json:"name,omitempty"`
	String *string `json:"string,omitempty"`
}

// ApplicationDestination is v1alpha1.ApplicationDestination.
type ApplicationDestination struct {
	Server    string `json:"server,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
}

// SyncPolicy is v1alpha1.SyncPolicy.
type SyncPolicy struct {
	Automated   *SyncPolicyAutomated `json:"automated,omitempty"`
	SyncOptions []string             `json:"syncOptions,omitempty"`
	Retry       *RetryStrategy       `json:"retry,omitempty"`
}

// SyncPolicyAutomated is v1alpha1.SyncPolicyAutomated.
type SyncPolicyAutomated struct {
	Prune    bool `json:"prune,omitempty"`
	SelfHeal bool `json:"selfHeal,omitempty"`
}

// RetryStrategy is v1alpha1.RetryStrategy.
type RetryStrategy struct {
	Limit   int64    `json:"limit,omitempty"`
	Backoff *Backoff `json:"backoff,omitempty"`
}

// Backoff is v1alpha1.Backoff.
type Backoff struct {
	Duration    string `json:"duration,omitempty"`
	Factor      *int64 `json:"factor,omitempty"`
	MaxDuration string `json:"maxDuration,omitempty"`
}

// ResourceIgnoreDifferences is v1alpha1.ResourceIgnoreDifferences.
type ResourceIgnoreDifferences struct {
	Group                 string   `json:"group,omitempty"`
	Kind                  string   `json:"kind"`
	Name                  string   `json:"name,omitempty"`
	Namespace             string   `json:"namespace,omitempty"`
	JSONPointers          []string `json:"jsonPointers,omitempty"`
	JQPathExpressions     []string `json:"jqPathExpressions,omitempty"`
	ManagedFieldsManagers []string `json:"managedFieldsManagers,omitempty"`
}

// AppProject is v1alpha1.AppProject without status.
type AppProject struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Spec       AppProjectSpec `json:"spec"`
}

// AppProjectSpec is v1alpha1.AppProjectSpec.
type AppProjectSpec struct {
	SourceRepos                []string                 `json:"sourceRepos,omitempty"`
	Destinations               []ApplicationDestination `json:"destinations,omitempty"`
	Description                string                   `json:"description,omitempty"`
	ClusterResourceWhitelist   []GroupKind              `json:"clusterResourceWhitelist,omitempty"`
	NamespaceResourceWhitelist []GroupKind              `json:"namespaceResourceWhitelist,omitempty"`
}
