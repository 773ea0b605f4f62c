package initdata

import (
	"slices"
	"strings"
)

// Pod annotations through which init-data and agent policies reach the kata
// runtime.
const (
	// AnnotationInitData carries base64(gzip(init-data)).
	AnnotationInitData = "io.katacontainers.config.hypervisor.cc_init_data"
	// AnnotationInitDataLegacy is the name kata used before the init-data
	// annotation moved under hypervisor.
	AnnotationInitDataLegacy = "io.katacontainers.config.runtime.cc_init_data"
	// AnnotationPolicy carries base64(policy.rego) for runtimes that take
	// the agent policy from its own annotation.
	AnnotationPolicy = "io.katacontainers.config.agent.policy"
)

// AnnotationKeys are every annotation through which init-data or an agent
// policy reaches a pod.
var AnnotationKeys = []string{AnnotationInitData, AnnotationInitDataLegacy, AnnotationPolicy}

// CDHSocket is where the confidential data hub listens in the guest.
const CDHSocket = "unix:///run/confidential-containers/cdh.sock"

// workloadKinds maps "<group>/<kind>" of the objects that run pods to the
// path of their pod template (empty for a Pod itself).
var workloadKinds = map[string][]string{
	"/Pod":                               {},
	"/ReplicationController":             {"spec", "template"},
	"apps/Deployment":                    {"spec", "template"},
	"apps/StatefulSet":                   {"spec", "template"},
	"apps/DaemonSet":                     {"spec", "template"},
	"apps/ReplicaSet":                    {"spec", "template"},
	"batch/Job":                          {"spec", "template"},
	"batch/CronJob":                      {"spec", "jobTemplate", "spec", "template"},
	"apps.openshift.io/DeploymentConfig": {"spec", "template"},
}

// PodTemplatePath returns the path of an object's pod template (empty for
// a Pod, whose own metadata and spec carry the annotation and runtime
// class), and whether the object runs pods at all.
func PodTemplatePath(apiVersion, kind string) ([]string, bool) {
	group, _, ok := strings.Cut(apiVersion, "/")
	if !ok {
		group = ""
	}
	p, ok := workloadKinds[group+"/"+kind]
	return slices.Clone(p), ok
}
