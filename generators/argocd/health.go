package argocd

import (
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
)

// healthCheck is a Lua health check Argo CD runs for a kind it has none
// for. Without them Argo CD calls these objects healthy as soon as they
// exist, and sync waves would order nothing: a wave would start before the
// operator instance of the previous one runs.
type healthCheck struct {
	group, kind, lua string
}

// healthChecks are the checks the pattern's sync waves gate on. Argo CD
// ships checks for Subscriptions and ExternalSecrets itself.
var healthChecks = []healthCheck{
	// Argo CD 1.8 removed the built-in health of Applications: a root app
	// would move to the next wave as soon as a child Application exists,
	// not when its workloads run.
	{"argoproj.io", "Application", `hs = {}
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
`},
	// ACM installs nothing until its MultiClusterHub runs (status.phase,
	// multiclusterhub-operator api/v1 HubPhaseType).
	{"operator.open-cluster-management.io", "MultiClusterHub", `hs = {}
hs.status = "Progressing"
hs.message = "waiting for the hub to run"
if obj.status ~= nil and obj.status.phase ~= nil then
  hs.message = "phase " .. obj.status.phase
  if obj.status.phase == "Running" then
    hs.status = "Healthy"
  elseif obj.status.phase == "Error" or obj.status.phase == "UpdatingBlocked" then
    hs.status = "Degraded"
  elseif obj.status.phase == "Paused" then
    hs.status = "Suspended"
  end
end
return hs
`},
	// The kata runtime is installed on every selected node when the
	// InProgress condition is False (sandboxed-containers-operator api/v1
	// KataConfigInProgress) and no node failed.
	{"kataconfiguration.openshift.io", "KataConfig", `hs = {}
hs.status = "Progressing"
hs.message = "installing the kata runtime"
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "InProgress" and c.status == "False" then
      hs.status = "Healthy"
      hs.message = c.message or ""
    end
  end
  if obj.status.kataNodes ~= nil and obj.status.kataNodes.failedToInstall ~= nil and #obj.status.kataNodes.failedToInstall > 0 then
    hs.status = "Degraded"
    hs.message = "kata failed to install on " .. table.concat(obj.status.kataNodes.failedToInstall, ", ")
  end
end
return hs
`},
	// The KBS serves once the operator reports it ready (trustee-operator
	// api/v1alpha1 KbsConfigStatus.IsReady).
	{"confidentialcontainers.org", "KbsConfig", `hs = {}
hs.status = "Progressing"
hs.message = "waiting for the KBS to be ready"
if obj.status ~= nil and obj.status.isReady == true then
  hs.status = "Healthy"
  hs.message = "KBS ready"
end
return hs
`},
}

// healthKey is the argocd-cm key of a kind's health check.
func healthKey(c healthCheck) string {
	return "resource.customizations.health." + c.group + "_" + c.kind
}

// healthCustomization installs the health checks in the group's Argo CD,
// from its bootstrap directory: each cluster's Argo CD needs them before
// the first sync. On OpenShift GitOps they are resourceHealthChecks of the
// ArgoCD resource of the instance: its operator rebuilds argocd-cm from it
// and would revert a direct edit (argocd-operator
// controllers/argocd/configmap.go). On upstream Argo CD they are argocd-cm
// keys. Either object carries only the health checks and is meant for
// server-side apply (kubectl apply --server-side), which adds these fields
// to the existing object without touching the others; on spokes ACM
// creates it with musthave, which merges the same way.
func healthCustomization(p *spec.Pattern, g group) manifest.Object {
	ns := p.Spec.ArgoCD.Namespace
	origin := manifest.Origin{Spec: "spec.argocd.healthCustomization"}
	if p.Spec.ArgoCD.Flavour == spec.FlavourArgoCD {
		data := map[string]any{}
		for _, c := range healthChecks {
			data[healthKey(c)] = c.lua
		}
		return manifest.Object{Dir: g.BootstrapDir(), Origin: origin, Content: map[string]any{
			"apiVersion": "v1",
			"kind":       "ConfigMap",
			"metadata": map[string]any{
				"name": "argocd-cm", "namespace": ns,
				// argocd-cm must carry this label for Argo CD to read it.
				"labels": map[string]any{"app.kubernetes.io/part-of": "argocd"},
			},
			"data": data,
		}}
	}
	var checks []any
	for _, c := range healthChecks {
		checks = append(checks, map[string]any{"group": c.group, "kind": c.kind, "check": c.lua})
	}
	// The operator's default instance is named like its namespace
	// (gitops-operator common.ArgoCDInstanceName, openshift-gitops).
	return manifest.Object{Dir: g.BootstrapDir(), Origin: origin, Content: map[string]any{
		"apiVersion": "argoproj.io/v1beta1",
		"kind":       "ArgoCD",
		"metadata":   map[string]any{"name": ns, "namespace": ns},
		"spec":       map[string]any{"resourceHealthChecks": checks},
	}}
}
