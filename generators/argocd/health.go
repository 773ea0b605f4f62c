package argocd

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
)

// applicationHealthKey is the argocd-cm key of a Lua health check for
// argoproj.io/Application.
const applicationHealthKey = "resource.customizations.health.argoproj.io_Application"

// applicationHealthLua reports a child Application as healthy only when its
// own resources are. Argo CD 1.8 removed the built-in health of
// Applications, so without this a root app moves on to the next sync wave
// as soon as a child Application object exists, not when its workloads run,
// and sync waves across child apps order nothing.
const applicationHealthLua = `hs = {}
hs.status = "Progressing"
hs.message = "waiting for the application's health to be reported"
if obj.status ~= nil and obj.status.health ~= nil and obj.status.health.status ~= nil then
  hs.status = obj.status.health.status
  if obj.status.health.message ~= nil then
    hs.message = obj.status.health.message
  else
    hs.message = ""
  end
end
return hs
`

// healthCustomization is the argocd-cm ConfigMap carrying only the
// Application health check. It sits in the group's bootstrap directory, as
// each cluster's Argo CD needs it once, and is meant for server-side apply
// (`kubectl apply --server-side`), which adds this key to the existing
// argocd-cm without touching the others. On OpenShift GitOps, where the
// operator owns argocd-cm, put the same Lua under the ArgoCD resource's
// spec.resourceHealthChecks instead (README.md).
func healthCustomization(p *spec.Pattern, g group) manifest.Object {
	cm := &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      "argocd-cm",
			Namespace: p.Spec.ArgoCD.Namespace,
			Labels: map[string]string{
				// argocd-cm must carry this label for Argo CD to read it.
				"app.kubernetes.io/part-of": "argocd",
			},
		},
		Data: map[string]string{applicationHealthKey: applicationHealthLua},
	}
	return manifest.MustFromTyped(g.BootstrapDir(), cm, manifest.Origin{Spec: "spec.argocd.healthCustomization"})
}
