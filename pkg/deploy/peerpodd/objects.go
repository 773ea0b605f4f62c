package peerpodd

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"

	"github.com/cocogen/cocogen/pkg/manifest"
)

// Names of what Objects creates. One daemon serves a cluster (every node
// has one hypervisor socket), so the cluster-scoped names are fixed.
const (
	// Name is the DaemonSet's, ServiceAccount's, ClusterRole's and
	// ClusterRoleBinding's name, and the app.kubernetes.io/name label.
	Name = "peerpodd"
	// ConfigMapName and SecretName hold the daemon's configuration, with
	// the keys CAA reads (CLOUD_PROVIDER, AZURE_*, ...); they belong to the
	// user and are not emitted. The names are CAA's (v0.22.0
	// src/cloud-api-adaptor/install/charts/peerpods/templates/daemonset.yaml)
	// and OpenShift sandboxed containers', so an existing configuration
	// works unchanged.
	ConfigMapName = "peer-pods-cm"
	SecretName    = "peer-pods-secret"
	// CloudProviderAnnotation records Options.CloudProvider.
	CloudProviderAnnotation = "cocogen.dev/cloud-provider"
)

// Facts about the daemon (cmd/peerpodd) the DaemonSet has to match.
const (
	binary     = "/usr/local/bin/peerpodd"
	runDir     = "/run/peerpod"
	socketPath = runDir + "/hypervisor.sock" // what kata's remote shim dials on the node
	podsDir    = runDir + "/pods"
	netnsDir   = "/run/netns"
	probePort  = 8000
)

// nameLabel selects the daemon's pods and labels all its objects.
const nameLabel = "app.kubernetes.io/name"

// podOverhead is what the runtime class adds to every pod's requests for
// the node-side parts of a peer pod (the kata shim and the daemon's proxy
// of the pod's traffic): the values of CAA v0.22.0 src/webhook/hack/rc.yaml.
var podOverhead = map[string]any{"cpu": "250m", "memory": "120Mi"}

// crdYAML is the PeerPod CRD the daemon records each pod VM in, from
// confidential-containers/cloud-api-adaptor@fbdde756
// src/peerpod-ctrl/chart/crds/confidentialcontainers.org_peerpods.yaml
// (Apache-2.0), emitted unchanged.
//
//go:embed peerpods-crd.yaml
var crdYAML []byte

// crdSource is said in the CRD's file, which is redistributed upstream
// text.
const crdSource = "confidential-containers/cloud-api-adaptor@fbdde756 src/peerpod-ctrl/chart/crds/confidentialcontainers.org_peerpods.yaml (Apache-2.0)"

// Objects returns the objects that deploy the daemon, in pkg/manifest's
// canonical order (Namespace and CRD first, as `kubectl apply` needs):
// the Namespace, the PeerPod CRD, the ServiceAccount, a least-privilege
// ClusterRole and its binding, the DaemonSet and the RuntimeClass. The
// daemon needs no namespaced Role: its CA lives on the node
// (/run/peerpod/ca), not in a Secret. Invalid options give an
// *InvalidOptionsError listing every problem. The objects belong to no
// directory of a rendered tree (Dir is empty): Tree and WriteStream lay
// them out.
func Objects(o Options) ([]manifest.Object, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	crd, err := peerPodCRD()
	if err != nil {
		return nil, err
	}
	set := &manifest.Set{}
	set.Add(namespace(o), crd, serviceAccount(o), clusterRole(), clusterRoleBinding(o), daemonSet(o), runtimeClass(o))
	set.Sort()
	if err := set.Check(); err != nil {
		return nil, err
	}
	return set.Objects, nil
}

// labels are on every object cocogen writes here but the upstream CRD:
// managed-by as on everything cocogen renders (internal/objects), so that
// `kubectl get -l app.kubernetes.io/managed-by=cocogen` finds it.
func labels() map[string]any {
	return map[string]any{
		nameLabel:                      Name,
		"app.kubernetes.io/managed-by": "cocogen",
	}
}

func meta(name, namespace string) map[string]any {
	m := map[string]any{"name": name, "labels": labels()}
	if namespace != "" {
		m["namespace"] = namespace
	}
	return m
}

func object(apiVersion, kind string, metadata map[string]any, fields map[string]any) manifest.Object {
	c := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": metadata}
	maps.Copy(c, fields)
	return manifest.Object{Content: c, Origin: origin}
}

// origin names this package and its command in every file's leading
// comment (manifest.Origin.Comment), as generators are named in the
// rendered tree.
var origin = manifest.Origin{Tool: "pkg/deploy/peerpodd (cocogen peerpodd manifests)"}

func num(n int) json.Number { return json.Number(strconv.Itoa(n)) }

func namespace(o Options) manifest.Object {
	md := meta(o.Namespace, "")
	// The daemon needs the host's network, host paths and two capabilities
	// beyond the baseline Pod Security Standard's list, so only the
	// privileged level admits it: said here rather than relying on the
	// cluster's default level.
	md["labels"].(map[string]any)["pod-security.kubernetes.io/enforce"] = "privileged"
	return object("v1", "Namespace", md, nil)
}

// Azure workload identity's webhook contract (azure-workload-identity
// docs: the ServiceAccount annotation names the identity, the pod label
// opts the pod in to the injected environment and token).
const (
	azureClientIDAnnotation = "azure.workload.identity/client-id"
	azureUseLabel           = "azure.workload.identity/use"
)

// podTemplateLabels are the daemon pods' labels.
func podTemplateLabels(o Options) map[string]any {
	l := labels()
	if o.AzureWorkloadIdentityClientID != "" {
		l[azureUseLabel] = "true"
	}
	return l
}

func serviceAccount(o Options) manifest.Object {
	md := meta(Name, o.Namespace)
	if o.AzureWorkloadIdentityClientID != "" {
		md["annotations"] = map[string]any{azureClientIDAnnotation: o.AzureWorkloadIdentityClientID}
	}
	return object("v1", "ServiceAccount", md, nil)
}

// rule is one ClusterRole rule.
func rule(group string, resources []string, verbs ...string) map[string]any {
	return map[string]any{
		"apiGroups": manifest.StringList([]string{group}),
		"resources": manifest.StringList(resources),
		"verbs":     manifest.StringList(verbs),
	}
}

// clusterRole grants exactly the API calls the daemon makes, each verb
// named (no wildcards, no watch, and list only of PeerPods: the daemon
// reads every other object by name). It is cluster-wide because peer pods run in any namespace.
// CAA v0.22.0 (install/charts/peerpods/templates/rbac.yaml) grants more:
// list on pods, secrets and service accounts, update on peerpods, and
// ConfigMap and Secret writes this daemon does not do.
func clusterRole() manifest.Object {
	rules := []any{
		// Advertising the kata.peerpods.io/vm extended resource (the
		// per-node peer-pod limit) is a patch of the Node's status (a
		// JSON patch: nothing is read first).
		rule("", []string{"nodes/status"}, "patch"),
		// A sandbox's pod, its service account and their image pull
		// secrets, in the pod's namespace, whichever it is: the pod VM
		// pulls the images, so the daemon passes it the pod's
		// credentials. Reading Secrets cluster-wide is the price of
		// pulling private images in the VM; get (by name) and never list
		// keeps the daemon from enumerating them.
		rule("", []string{"pods", "secrets", "serviceaccounts"}, "get"),
		// One PeerPod per pod VM, owned by the pod, with a finalizer the
		// daemon removes (a patch) once the VM is deleted. (Where the
		// OwnerReferencesPermissionEnforcement admission plugin is on, off
		// upstream by default, a blockOwnerDeletion owner reference would
		// also take update on pods/finalizers: not granted.) list, the
		// one list granted: the daemon's cleaner finds the PeerPods being
		// deleted whose VM no daemon still owns (a node that rebooted)
		// and deletes those VMs, as peerpod-ctrl would.
		rule("confidentialcontainers.org", []string{"peerpods"}, "create", "get", "list", "patch"),
	}
	return object("rbac.authorization.k8s.io/v1", "ClusterRole", meta(Name, ""), map[string]any{"rules": rules})
}

func clusterRoleBinding(o Options) manifest.Object {
	return object("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", meta(Name, ""), map[string]any{
		"roleRef": map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": Name},
		"subjects": []any{map[string]any{
			"kind": "ServiceAccount", "name": Name, "namespace": o.Namespace,
		}},
	})
}

func env(name, value string) map[string]any { return map[string]any{"name": name, "value": value} }

func hostPathVolume(name, path string) map[string]any {
	// DirectoryOrCreate: on a fresh node neither directory exists before
	// the daemon (and the first pod network namespace) needs it.
	return map[string]any{"name": name, "hostPath": map[string]any{"path": path, "type": "DirectoryOrCreate"}}
}

func httpProbe(path string, period, failures int) map[string]any {
	return map[string]any{
		// 127.0.0.1: with the host's network the pod's IP is the node's,
		// and the daemon may listen on loopback only (CAA's probe server
		// does: v0.22.0 src/cloud-api-adaptor/pkg/probe/probe.go); the
		// kubelet shares the host's network, so loopback reaches it
		// either way.
		"httpGet":          map[string]any{"host": "127.0.0.1", "path": path, "port": num(probePort), "scheme": "HTTP"},
		"periodSeconds":    num(period),
		"failureThreshold": num(failures),
		"timeoutSeconds":   num(5),
	}
}

func selector(o Options) map[string]any {
	return manifest.StringMap(o.NodeSelector)
}

func daemonSet(o Options) manifest.Object {
	podLabels := map[string]any{nameLabel: Name}
	container := map[string]any{
		"name":            Name,
		"image":           o.Image,
		"imagePullPolicy": "IfNotPresent", // pinned (Validate); a node keeps running its daemon when the registry is down
		"command":         manifest.StringList([]string{binary}),
		"env": []any{
			map[string]any{"name": "NODE_NAME", "valueFrom": map[string]any{"fieldRef": map[string]any{"apiVersion": "v1", "fieldPath": "spec.nodeName"}}},
			// Set here, not left to peer-pods-cm: they must match the
			// mounts below and kata's configuration on the node (env
			// takes precedence over envFrom).
			env("REMOTE_HYPERVISOR_ENDPOINT", socketPath),
			env("PODS_DIR", podsDir),
			env("PROBE_PORT", strconv.Itoa(probePort)),
			env("PEERPODS_LIMIT_PER_NODE", strconv.Itoa(o.PeerPodsLimit)),
		},
		"envFrom": []any{
			map[string]any{"configMapRef": map[string]any{"name": ConfigMapName}},
			// Optional: a cloud reached with workload identity has no
			// credentials to keep in it.
			map[string]any{"secretRef": map[string]any{"name": SecretName, "optional": true}},
		},
		// No ports: the probes and /metrics listen on the node's loopback
		// (127.0.0.1:8000), which the kubelet's probes reach on the host
		// network; declaring the port would only reserve it as a host
		// port on every node.
		// /startup answers once the hypervisor socket is open and the
		// pods of before a restart are back; CAA allows that about ten
		// minutes (v0.22.0 daemonset.yaml: 20 s delay, 30 x 20 s), so
		// does this: 120 x 5 s, checked more often to start sooner.
		"startupProbe":  httpProbe("/startup", 5, 120),
		"livenessProbe": httpProbe("/healthz", 10, 3),
		// No readiness probe: nothing routes to the pod, and for the
		// rolling update a started, live daemon is a ready one.
		//
		// CAA v0.22.0 sets no resources. Requests so the scheduler
		// reserves room for the daemon beside the node's pods; a memory
		// limit so a leak is the daemon's problem and not the node's; no
		// CPU limit, whose throttling would stall every peer pod's agent
		// traffic.
		"resources": map[string]any{
			"requests": map[string]any{"cpu": "100m", "memory": "128Mi"},
			"limits":   map[string]any{"memory": "512Mi"},
		},
		"securityContext": map[string]any{
			// Root without privileged: the daemon plumbs pod network
			// namespaces (/run/netns, setns, links and routes), which
			// takes CAP_NET_ADMIN and CAP_SYS_ADMIN on the host's network;
			// no other capability is kept.
			"privileged":               false,
			"allowPrivilegeEscalation": false,
			"readOnlyRootFilesystem":   true,
			"runAsUser":                num(0),
			"capabilities": map[string]any{
				"drop": manifest.StringList([]string{"ALL"}),
				"add":  manifest.StringList([]string{"NET_ADMIN", "SYS_ADMIN"}),
			},
		},
		"volumeMounts": []any{
			// The hypervisor socket kata's shim dials, the pods'
			// state and the daemon's CA, all on the node so they
			// outlive the container.
			map[string]any{"name": "run-peerpod", "mountPath": runDir},
			// Network namespaces the container runtime creates after
			// the daemon started are mounted below /run/netns on the
			// host: HostToContainer propagation makes them visible.
			map[string]any{"name": "netns", "mountPath": netnsDir, "mountPropagation": "HostToContainer"},
			// A writable /tmp on a read-only root.
			map[string]any{"name": "tmp", "mountPath": "/tmp"},
		},
	}
	pod := map[string]any{
		"serviceAccountName": Name,
		// The daemon wires each peer pod's network namespace on the node
		// to its VM, and kata's shim reaches it through the node's
		// /run/peerpod: it lives in the host's network.
		"hostNetwork": true,
		// With the host's network, ClusterFirstWithHostNet keeps cluster
		// DNS (as CAA v0.22.0 daemonset.yaml does).
		"dnsPolicy":       "ClusterFirstWithHostNet",
		"securityContext": map[string]any{"seccompProfile": map[string]any{"type": "RuntimeDefault"}},
		"containers":      []any{container},
		"volumes": []any{
			hostPathVolume("run-peerpod", runDir),
			hostPathVolume("netns", netnsDir),
			map[string]any{"name": "tmp", "emptyDir": map[string]any{"sizeLimit": "64Mi"}},
		},
	}
	if len(o.NodeSelector) > 0 {
		pod["nodeSelector"] = selector(o)
	}
	md := meta(Name, o.Namespace)
	if o.CloudProvider != "" {
		md["annotations"] = map[string]any{CloudProviderAnnotation: o.CloudProvider}
	}
	return object("apps/v1", "DaemonSet", md, map[string]any{
		"spec": map[string]any{
			"selector": map[string]any{"matchLabels": podLabels},
			// OnDelete: a new image takes effect on a node only when its
			// daemon pod is deleted, by someone who drained the node's
			// peer pods first. The shims' agent connections run through
			// the daemon's process; kata's shim stops and deletes a sandbox
			// whose WaitProcess on the sandbox container fails (kata 3.25.0
			// src/runtime/pkg/containerd-shim-v2/wait.go), so restarting
			// the daemon under running peer pods stops them, whatever it
			// re-adopts.
			"updateStrategy": map[string]any{"type": "OnDelete"},
			"template": map[string]any{
				"metadata": map[string]any{"labels": podTemplateLabels(o)},
				"spec":     pod,
			},
		},
	})
}

func runtimeClass(o Options) manifest.Object {
	fields := map[string]any{
		"handler":  o.Handler,
		"overhead": map[string]any{"podFixed": maps.Clone(podOverhead)},
	}
	if len(o.NodeSelector) > 0 {
		// Pods of the class go only where the daemon runs: the
		// RuntimeClass admission merges this into each pod's selector.
		fields["scheduling"] = map[string]any{"nodeSelector": selector(o)}
	}
	return object("node.k8s.io/v1", "RuntimeClass", meta(o.RuntimeClassName, ""), fields)
}

// peerPodCRD is the embedded CRD as an object.
func peerPodCRD() (manifest.Object, error) {
	docs, err := manifest.ReadStream(crdYAML)
	if err != nil {
		return manifest.Object{}, fmt.Errorf("the embedded PeerPod CRD: %w", err)
	}
	if len(docs) != 1 || docs[0]["kind"] != "CustomResourceDefinition" {
		return manifest.Object{}, fmt.Errorf("the embedded PeerPod CRD: want one CustomResourceDefinition, found %d documents", len(docs))
	}
	o := origin
	o.File = crdSource
	return manifest.Object{Content: docs[0], Origin: o}, nil
}
