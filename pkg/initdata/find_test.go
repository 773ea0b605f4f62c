package initdata_test

import (
	"strings"
	"testing"

	"github.com/cocogen/cocogen/pkg/initdata"
)

func TestValueIn(t *testing.T) {
	stream := `apiVersion: v1
kind: ConfigMap
metadata: {name: initdata-default, namespace: trustee}
data: {INITDATA: AAAA}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cron, namespace: ns}
spec:
  jobTemplate:
    spec:
      template:
        metadata:
          annotations: {io.katacontainers.config.runtime.cc_init_data: AAAA}
---
apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations: {io.katacontainers.config.hypervisor.cc_init_data: BBBB}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: plain}
spec: {template: {metadata: {annotations: {other: x}}}}
`
	found := func(sel string) (string, error) { return initdata.ValueIn([]byte(stream), sel) }
	if v, err := found("pod/p"); err != nil || v != "BBBB" {
		t.Errorf("pod/p: %q, %v", v, err)
	}
	if v, err := found("CronJob/ns/cron"); err != nil || v != "AAAA" {
		t.Errorf("CronJob/ns/cron: %q, %v", v, err)
	}
	if _, err := found(""); err == nil || !strings.Contains(err.Error(), "2 different init-data values in the input (ConfigMap/trustee/initdata-default, CronJob/ns/cron, Pod/p)") {
		t.Errorf("ambiguous input: %v", err)
	}
	if _, err := found("Deployment/plain"); err == nil || !strings.Contains(err.Error(), "no object Deployment/plain with init-data") {
		t.Errorf("object without init-data: %v", err)
	}
	if v, err := initdata.ValueIn([]byte("  H4sI\nAAAA\n"), ""); err != nil || v != "H4sI\nAAAA" {
		t.Errorf("bare value: %q, %v", v, err)
	}
	if _, err := initdata.ValueIn([]byte("a: [b"), ""); err == nil || !strings.Contains(err.Error(), "neither an annotation value") {
		t.Errorf("broken YAML: %v", err)
	}
}
