package initdata

import (
	"slices"
	"strings"
)

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
