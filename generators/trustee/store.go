package trustee

import (
	"github.com/cocogen/cocogen/internal/objects"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
	"github.com/cocogen/cocogen/pkg/waves"
)

// secretStore is the store the KBS's ExternalSecrets read from, when the
// pattern describes it (spec.trustee.secretStore.vault): a
// ClusterSecretStore with External Secrets' Vault provider logging in with
// Kubernetes auth (external-secrets.io/v1 VaultProvider, VaultAuth.Kubernetes:
// mountPath, role, serviceAccountRef), and the service account whose token
// it presents. Both sync in waves.SecretStores, after the External Secrets
// operator runs and before the ExternalSecrets of the Trustee wave.
//
// Vault itself is not configured here: its Kubernetes auth method must
// trust the hub's API server and bind the role to this service account.
func (b *builder) secretStore() []manifest.Object {
	st := &b.p.Spec.Trustee.SecretStore
	v := st.Vault
	if v == nil {
		return nil
	}
	sa := v.Auth.ServiceAccount
	origin := manifest.Origin{Spec: "spec.trustee.secretStore.vault"}
	account := objects.New(b.hub.Dir(), "v1", "ServiceAccount",
		objects.Meta{Name: sa.Name, Namespace: sa.Namespace, Group: b.hub.Name, Wave: waves.SecretStores}.Build(b.p), nil, origin)
	vault := map[string]any{
		"server":  v.Server,
		"path":    v.Path,
		"version": v.Version,
		"auth": map[string]any{"kubernetes": map[string]any{
			"mountPath":         v.Auth.MountPath,
			"role":              v.Auth.Role,
			"serviceAccountRef": map[string]any{"name": sa.Name, "namespace": sa.Namespace},
		}},
	}
	if ca := v.CABundleConfigMap; ca != nil {
		vault["caProvider"] = map[string]any{"type": "ConfigMap", "name": ca.Name, "namespace": ca.Namespace, "key": ca.Key}
	}
	store := objects.New(b.hub.Dir(), externalSecretVersion, spec.DefaultSecretStoreKind,
		objects.Meta{Name: st.Name, Group: b.hub.Name, Wave: waves.SecretStores, CustomResource: true}.Build(b.p),
		map[string]any{"spec": map[string]any{"provider": map[string]any{"vault": vault}}}, origin)
	return []manifest.Object{account, store}
}
