package policies

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/pkg/imagelock"
	"github.com/cocogen/cocogen/pkg/initdata"
	"github.com/cocogen/cocogen/pkg/manifest"
)

// kataLock is the image lock of kata's test pods.
func kataLock(t testing.TB) *imagelock.Lock {
	t.Helper()
	file := filepath.Join("..", "fixtures", "genpolicy", "images.lock.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lock, err := imagelock.Parse(file, data)
	if err != nil {
		t.Fatal(err)
	}
	return lock
}

// podOf reads a genpolicy test directory's pod.yaml (and the ConfigMaps
// beside the pod) as a Pod.
func podOf(t testing.TB, dir string) Pod {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixturesDir, dir, "pod.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.ReadStream(data)
	if err != nil {
		t.Fatal(err)
	}
	if extra, err := os.ReadFile(filepath.Join(fixturesDir, dir, "config_map.yaml")); err == nil {
		more, err := manifest.ReadStream(extra)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, more...)
	}
	configMaps := map[string]map[string]string{}
	for _, o := range objs {
		if o["kind"] != "ConfigMap" {
			continue
		}
		meta, _ := o["metadata"].(map[string]any)
		ns, _ := meta["namespace"].(string)
		name, _ := meta["name"].(string)
		if ns == "" {
			ns = "default"
		}
		cm := map[string]string{}
		d, _ := o["data"].(map[string]any)
		for k, v := range d {
			cm[k], _ = v.(string)
		}
		configMaps[ns+"/"+name] = cm
	}
	for _, o := range objs {
		if pod, ok := PodFromObject(o, configMaps); ok {
			return pod
		}
	}
	t.Fatalf("%s/pod.yaml holds no workload", dir)
	return Pod{}
}

func containersOf(t testing.TB, dir string) []Container {
	t.Helper()
	containers, err := Containers(podOf(t, dir), kataLock(t), DefaultSettings())
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	return containers
}

// workloadPolicy renders the workload policy of a test directory's pod.
func workloadPolicy(t testing.TB, dir string) string {
	t.Helper()
	containers, err := Containers(podOf(t, dir), kataLock(t), DefaultSettings())
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	return renderT(t, Options{Profile: Workload, Containers: containers, Probes: Probes(podOf(t, dir))})
}

// knownMismatches are the kata cases the workload policy decides
// differently, each with why; the test fails if one starts to match
// (update the list) or another one appears.
var knownMismatches = func() map[string]string {
	const (
		imageName   = "kata's test request carries no io.kubernetes.cri.image-name annotation, which containerd always sets and cocogen requires: the image is the container's identity"
		noContainer = "the exec is in a container whose creation the policy refused above (its request lacks the image name), so the sandbox state records no such container"
		pinned      = "cocogen pins a tag to the locked digest (the workload is rendered with reference@digest); kata's request names the tag"
	)
	m := map[string]string{
		"createcontainer/volumes/config_map#0":                   imageName,
		"createcontainer/volumes/container_image#0":              imageName,
		"createcontainer/volumes/emptydir#0":                     imageName,
		"createcontainer/volumes/emptydir#2":                     imageName,
		"state/execprocess#0":                                    imageName,
		"state/execprocess#1":                                    imageName,
		"createcontainer/security_context/runas#1":               pinned,
		"createcontainer/security_context/supplemental_groups#0": pinned,
		"state/execprocessdeployment#0":                          pinned,
		"state/execprocess#2":                                    noContainer,
		"state/execprocessdeployment#1":                          noContainer,
	}
	return m
}()

// TestWorkloadMatchesKata generates the workload policy of each of kata's
// CreateContainer test pods and evaluates every test request of the
// directory in order, reporting how many reach kata's decision.
func TestWorkloadMatchesKata(t *testing.T) {
	files := loadCases(t, "createcontainer")
	files2 := loadCases(t, "state")
	maps.Copy(files, files2)
	total, matched := 0, 0
	var report []string
	for _, file := range slices.Sorted(maps.Keys(files)) {
		dir := filepath.Dir(file)
		e := newEngine(t, workloadPolicy(t, dir), agentRequests()...)
		n, ok := 0, 0
		for i, c := range files[file] {
			n++
			key := fmt.Sprintf("%s#%d", dir, i)
			got, err := e.decide(c.Kind, c.Request)
			switch {
			case err != nil:
				t.Errorf("%s %q: %v", key, c.Description, err)
			case got == c.Allowed:
				ok++
				if why, known := knownMismatches[key]; known {
					t.Errorf("%s %q now matches kata (allowed=%v); drop it from knownMismatches (%s)", key, c.Description, got, why)
				}
			default:
				if _, known := knownMismatches[key]; !known {
					why := ""
					if c.Kind == "CreateContainerRequest" {
						if m, ok := ExplainCreateContainer(containersOf(t, dir), c.Request); ok {
							why = m.String()
						}
					}
					t.Errorf("%s %q (%s): kata allowed=%v, workload allowed=%v %s", key, c.Description, c.Kind, c.Allowed, got, why)
				}
			}
		}
		report = append(report, fmt.Sprintf("%-50s %2d/%2d", dir, ok, n))
		total += n
		matched += ok
	}
	t.Logf("kata's decision reached:\n%s\ntotal %d/%d", strings.Join(report, "\n"), matched, total)
}

// TestWorkloadOneByteDenies: from a request kata allows, changing one
// byte of the command, an environment value, the image or the security
// context (or a field of it) flips the workload policy to deny, and
// ExplainCreateContainer names that field.
func TestWorkloadOneByteDenies(t *testing.T) {
	dir := "createcontainer/env_vars"
	containers := containersOf(t, dir)
	e := newEngine(t, workloadPolicy(t, dir), "CreateContainerRequest")
	var base map[string]any
	for _, c := range loadCases(t, dir)[dir+"/testcases.json"] {
		if c.Allowed {
			base = c.Request
			break
		}
	}
	if ok, err := e.decide("CreateContainerRequest", base); err != nil || !ok {
		t.Fatalf("the base request is denied (%v)", err)
	}
	if m, ok := ExplainCreateContainer(containers, base); ok {
		t.Fatalf("the explanation finds a difference in the allowed request: %s", m)
	}
	flip := func(s string) string { return s[:len(s)-1] + string(s[len(s)-1]^1) }
	for _, tc := range []struct {
		name, field string
		change      func(req map[string]any)
	}{
		{"image pulled", "storages[image_guest_pull].source", func(req map[string]any) {
			for _, st := range req["storages"].([]any) {
				if sm := st.(map[string]any); sm["driver"] == "image_guest_pull" {
					sm["source"] = flip(sm["source"].(string))
				}
			}
		}},
		{"image pulled elsewhere", "storages[image_guest_pull].mount_point", func(req map[string]any) {
			for _, st := range req["storages"].([]any) {
				if sm := st.(map[string]any); sm["driver"] == "image_guest_pull" {
					sm["mount_point"] = flip(sm["mount_point"].(string))
				}
			}
		}},
		{"root read-only", "OCI.Root.Readonly", onOCI(func(oci map[string]any) {
			oci["Root"].(map[string]any)["Readonly"] = true
		})},
		{"another container's root", "OCI.Root.Path", onOCI(func(oci map[string]any) {
			oci["Root"].(map[string]any)["Path"] = "/run/kata-containers/gie/rootfs"
		})},
		{"command", "OCI.Process.Args", onOCI(func(oci map[string]any) {
			args := oci["Process"].(map[string]any)["Args"].([]any)
			args[0] = flip(args[0].(string))
		})},
		{"env value", "OCI.Process.Env[2]", onOCI(func(oci map[string]any) {
			env := oci["Process"].(map[string]any)["Env"].([]any)
			env[2] = flip(env[2].(string)) // TEST_VAR1=test-value1
		})},
		{"image", "OCI.Annotations[io.kubernetes.cri.image-name]", onOCI(func(oci map[string]any) {
			ann := oci["Annotations"].(map[string]any)
			ann["io.kubernetes.cri.image-name"] = flip(ann["io.kubernetes.cri.image-name"].(string))
		})},
		{"uid", "OCI.Process.User.UID", onOCI(func(oci map[string]any) {
			oci["Process"].(map[string]any)["User"].(map[string]any)["UID"] = 3.0
		})},
		{"gid", "OCI.Process.User.GID", onOCI(func(oci map[string]any) {
			oci["Process"].(map[string]any)["User"].(map[string]any)["GID"] = 0.0
		})},
		{"additional gids", "OCI.Process.User.AdditionalGids", onOCI(func(oci map[string]any) {
			oci["Process"].(map[string]any)["User"].(map[string]any)["AdditionalGids"] = []any{1.0, 0.0}
		})},
		{"no new privileges", "OCI.Process.NoNewPrivileges", onOCI(func(oci map[string]any) {
			oci["Process"].(map[string]any)["NoNewPrivileges"] = true
		})},
		{"capability", "OCI.Process.Capabilities.Bounding", onOCI(func(oci map[string]any) {
			caps := oci["Process"].(map[string]any)["Capabilities"].(map[string]any)
			caps["Bounding"] = append(caps["Bounding"].([]any), "CAP_NET_ADMIN")
		})},
		{"container name", "OCI.Annotations[io.kubernetes.cri.container-name]", onOCI(func(oci map[string]any) {
			ann := oci["Annotations"].(map[string]any)
			ann["io.kubernetes.cri.container-name"] = flip(ann["io.kubernetes.cri.container-name"].(string))
		})},
		{"sandbox name", "OCI.Annotations[io.kubernetes.cri.sandbox-name]", onOCI(func(oci map[string]any) {
			ann := oci["Annotations"].(map[string]any)
			ann["io.kubernetes.cri.sandbox-name"] = flip(ann["io.kubernetes.cri.sandbox-name"].(string))
		})},
		{"masked path", "OCI.Linux.MaskedPaths", onOCI(func(oci map[string]any) {
			linux := oci["Linux"].(map[string]any)
			masked := linux["MaskedPaths"].([]any)
			for i, p := range masked {
				if p == "/proc/kcore" {
					masked[i] = flip(p.(string))
				}
			}
		})},
		{"read-only path", "OCI.Linux.ReadonlyPaths", onOCI(func(oci map[string]any) {
			linux := oci["Linux"].(map[string]any)
			linux["ReadonlyPaths"] = linux["ReadonlyPaths"].([]any)[1:] // /proc/bus writable
		})},
		{"mount destination", "OCI.Mounts[0] (/usr/bin)", onOCI(func(oci map[string]any) {
			oci["Mounts"] = append([]any{map[string]any{"destination": "/usr/bin", "type_": "bind", "source": "/run/kata-containers/shared/containers/x", "options": []any{"rbind", "rprivate", "ro"}}}, oci["Mounts"].([]any)...)
		})},
		{"mount twice", "OCI.Mounts[12] (/var/run/secrets/kubernetes.io/serviceaccount)", onOCI(func(oci map[string]any) {
			mounts := oci["Mounts"].([]any)
			oci["Mounts"] = append(mounts, mounts[len(mounts)-1])
		})},
		{"read-only mount made writable", "OCI.Mounts[11] (/var/run/secrets/kubernetes.io/serviceaccount).options", onOCI(func(oci map[string]any) {
			for _, m := range oci["Mounts"].([]any) {
				mm := m.(map[string]any)
				if mm["destination"] == "/var/run/secrets/kubernetes.io/serviceaccount" {
					mm["options"] = []any{"rbind", "rprivate", "rw"}
				}
			}
		})},
		{"device", "OCI.Linux.Devices[0].Path", onOCI(func(oci map[string]any) {
			oci["Linux"].(map[string]any)["Devices"] = []any{map[string]any{"Path": "/dev/vda", "Type": "b", "Major": 254.0, "Minor": 0.0}}
		})},
		{"mount propagation", "OCI.Mounts[11] (/var/run/secrets/kubernetes.io/serviceaccount).options", onOCI(func(oci map[string]any) {
			for _, m := range oci["Mounts"].([]any) {
				mm := m.(map[string]any)
				if mm["destination"] == "/var/run/secrets/kubernetes.io/serviceaccount" {
					mm["options"] = []any{"rbind", "rshared", "ro"}
				}
			}
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := normalizeJSON(t, base)
			tc.change(req)
			ok, err := e.decide("CreateContainerRequest", req)
			if err != nil || ok {
				t.Errorf("still allowed (%v)", err)
			}
			m, found := ExplainCreateContainer(containers, req)
			if !found || m.Field != tc.field {
				t.Errorf("explanation %v (found %v), want field %s", m, found, tc.field)
			}
		})
	}
}

// TestExplainAgreesWithTheRules: the Go explanation and the Rego rules
// decide every CreateContainerRequest of kata's cases alike, so an
// explanation never blames a field the policy accepts.
func TestExplainAgreesWithTheRules(t *testing.T) {
	files := loadCases(t, "createcontainer")
	maps.Copy(files, loadCases(t, "state"))
	for _, file := range slices.Sorted(maps.Keys(files)) {
		dir := filepath.Dir(file)
		containers := containersOf(t, dir)
		e := newEngine(t, workloadPolicy(t, dir), "CreateContainerRequest")
		for i, c := range files[file] {
			if c.Kind != "CreateContainerRequest" {
				continue
			}
			allowed, err := e.decide(c.Kind, c.Request)
			if err != nil {
				t.Fatal(err)
			}
			m, differs := ExplainCreateContainer(containers, c.Request)
			// The rules check more than the explanation compares (hooks,
			// escape capabilities, and the sandbox state: the network
			// namespace the first container joined): an allowed request
			// must have no difference, a difference must mean a denial.
			if allowed && differs || !differs && !allowed && !structurallyRefused(c.Request) && i == 0 {
				t.Errorf("%s#%d: rules allowed=%v, explanation %v (differs %v)", dir, i, allowed, m, differs)
			}
		}
	}
}

// structurallyRefused: a request exec-deny's structural checks refuse
// whatever the containers (hooks, shared PID namespace, a user name).
func structurallyRefused(req map[string]any) bool {
	oci, _ := req["OCI"].(map[string]any)
	hooks, _ := oci["Hooks"].(map[string]any)
	for _, h := range hooks {
		if l, _ := h.([]any); len(l) > 0 {
			return true
		}
	}
	return req["string_user"] != nil || req["sandbox_pidns"] == true
}

// TestWorkloadInitDataSize: a one-container pod's init-data (with the
// workload policy) stays under 32 KiB as the pod annotation.
func TestWorkloadInitDataSize(t *testing.T) {
	doc := &initdata.Document{Version: initdata.Version, Algorithm: "sha384", Data: map[string]string{
		initdata.DataAA:     "[token_configs]\n[token_configs.kbs]\nurl = \"https://kbs.example.com\"\n",
		initdata.DataCDH:    "socket = \"unix:///run/confidential-containers/cdh.sock\"\ncredentials = []\n\n[kbc]\nname = \"cc_kbc\"\nurl = \"https://kbs.example.com\"\n",
		initdata.DataPolicy: workloadPolicy(t, "createcontainer/env_vars"),
	}}
	data, err := doc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	ann, err := initdata.Encode(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(ann) >= 32<<10 {
		t.Errorf("the annotation is %d bytes, want under 32 KiB", len(ann))
	}
	t.Logf("workload init-data: %d bytes of TOML, %d bytes as the annotation", len(data), len(ann))
}

// TestExplainExecAgreesWithTheRules: for every exec of kata's state
// cases, Explain never refuses what the rules allow, and a wrong argv is
// named.
func TestExplainExecAgreesWithTheRules(t *testing.T) {
	dir := "state/execprocess"
	text := workloadPolicy(t, dir)
	e := newEngine(t, text, "ExecProcessRequest")
	n := 0
	for i, c := range loadCases(t, dir)[dir+"/testcases.json"] {
		if c.Kind != "ExecProcessRequest" {
			continue
		}
		n++
		allowed, err := e.decide(c.Kind, c.Request)
		if err != nil {
			t.Fatal(err)
		}
		ex, err := Explain(text, c.Kind, c.Request)
		if err != nil {
			t.Fatal(err)
		}
		// Explain cannot see the sandbox state (which container an id
		// is): what it allows the rules may still refuse, but what the
		// rules allow it must allow, and what it refuses they refuse.
		if allowed && !ex.Allowed || !allowed && ex.Allowed && ex.Container == "" {
			t.Errorf("#%d %q: rules allowed=%v, explanation %+v", i, c.Description, allowed, ex)
		}
		if c.Description == "test exec process in first container with incorrect args" && (ex.Mismatch == nil || ex.Mismatch.Field != "process.Args") {
			t.Errorf("#%d: explanation %+v, want process.Args", i, ex)
		}
	}
	if n == 0 {
		t.Fatal("no exec cases")
	}
}

// crioRequest rewrites a containerd CreateContainerRequest of kata's test
// data into what CRI-O gives the same container: its annotations (cri-o
// v1.32.0 internal/factory/container/container.go: Name
// k8s_<container>_<pod>_<namespace>_<uid>_<attempt>, SandboxName
// k8s_<pod>_<namespace>_<uid>_<attempt>, Image as the pod spec names it,
// ContainerType).
func crioRequest(t *testing.T, req map[string]any, image string) map[string]any {
	t.Helper()
	out := normalizeJSON(t, req)
	ann := out["OCI"].(map[string]any)["Annotations"].(map[string]any)
	get := func(k string) string { s, _ := ann[k].(string); return s }
	pod, ns, uid := get("io.kubernetes.cri.sandbox-name"), get("io.kubernetes.cri.sandbox-namespace"), get("io.kubernetes.cri.sandbox-uid")
	crio := map[string]any{
		"io.kubernetes.cri-o.ContainerType": get("io.kubernetes.cri.container-type"),
		"io.kubernetes.cri-o.SandboxName":   strings.Join([]string{"k8s", pod, ns, uid, "0"}, "_"),
		"io.kubernetes.cri-o.Name":          strings.Join([]string{"k8s", get("io.kubernetes.cri.container-name"), pod, ns, uid, "0"}, "_"),
		"io.kubernetes.cri-o.Image":         image,
		"io.container.manager":              "cri-o",
	}
	out["OCI"].(map[string]any)["Annotations"] = crio
	// CRI-O's default capabilities (cri-o v1.32.0 internal/config/
	// capabilities), where containerd gives more.
	var caps []any
	for _, c := range SettingsFor(RuntimeCRIO).DefaultCaps {
		caps = append(caps, c)
	}
	pc := out["OCI"].(map[string]any)["Process"].(map[string]any)["Capabilities"].(map[string]any)
	for _, set := range []string{"Bounding", "Effective", "Permitted"} {
		pc[set] = caps
	}
	out["OCI"].(map[string]any)["Mounts"] = crioMounts(out["OCI"].(map[string]any)["Mounts"].([]any))
	// cri-o v1.32.0 vendors runtime-spec v1.2.0, which runtime-tools'
	// generator writes as the version.
	out["OCI"].(map[string]any)["Version"] = "1.2.0"
	return out
}

// crioMounts rewrites containerd's mounts into the ones CRI-O v1.32.0
// gives the same container, after kata 3.25.0's shim has copied the
// files (server/container_create_linux.go addOCIBindMounts and
// createSandboxContainer): the runtime-tools defaults and /sys/fs/cgroup
// as containerd's; /etc/resolv.conf, /etc/hostname, /run/.containerenv
// and (for a uid the image does not name) /etc/passwd as CRI-O's own
// binds without rbind; /run/secrets from RHEL's mounts.conf; the
// kubelet's mounts (hosts, termination log, token, volumes) with the
// "bind" CRI-O appends; no image volumes (image_volumes = "mkdir").
func crioMounts(mounts []any) []any {
	var out []any
	shared := "/run/kata-containers/shared/containers/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef-0123456789abcdef-"
	for _, m := range mounts {
		mm := maps.Clone(m.(map[string]any))
		dest := mm["destination"].(string)
		switch {
		case dest == "/etc/hostname", dest == "/etc/resolv.conf":
			continue // CRI-O's own, below
		case mm["type_"] == "bind" && dest != "/dev/shm":
			mm["options"] = append(slices.Clone(mm["options"].([]any)), "bind")
		}
		out = append(out, mm)
	}
	for _, m := range []struct {
		dest string
		opts []any
	}{
		{"/etc/resolv.conf", []any{"rw", "bind", "nodev", "nosuid", "noexec"}},
		{"/etc/hostname", []any{"rw", "bind"}},
		{"/run/.containerenv", []any{"rw", "bind"}},
		{"/etc/passwd", []any{"rw", "bind", "nodev", "nosuid", "noexec"}},
		{"/run/secrets", []any{"bind", "rprivate", "bind"}},
	} {
		out = append(out, map[string]any{"destination": m.dest, "type_": "bind", "options": m.opts, "source": shared + path.Base(m.dest)})
	}
	return out
}

// TestWorkloadOnCRIO: the policy for a CRI-O node (both release lines run
// OpenShift) reads a container's identity from CRI-O's annotations.
func TestWorkloadOnCRIO(t *testing.T) {
	dir := "createcontainer/env_vars"
	s := SettingsFor(RuntimeCRIO)
	pod := podOf(t, dir)
	containers, err := Containers(pod, kataLock(t), s)
	if err != nil {
		t.Fatal(err)
	}
	policy := renderT(t, Options{Profile: Workload, Containers: containers})
	e := newEngine(t, policy, "CreateContainerRequest")
	var base map[string]any
	for _, c := range loadCases(t, dir)[dir+"/testcases.json"] {
		if c.Allowed {
			base = c.Request
		}
	}
	image := "ghcr.io/burgerdev/weird-images/gid:latest@sha256:bdbb485bb9e3baf381a2957b9369b6051c6113097a5f8dcee27faff17624a2c0"
	req := crioRequest(t, base, image)
	if ok, err := e.decide("CreateContainerRequest", req); err != nil || !ok {
		m, _ := ExplainCreateContainer(containers, req)
		t.Fatalf("the CRI-O request is denied (%v): %s", err, m)
	}
	// The containerd form of the same request is not a CRI-O node's.
	if ok, _ := e.decide("CreateContainerRequest", base); ok {
		t.Error("a request with containerd's annotations passes the CRI-O policy")
	}
	mount := func(dest, typ string, opts ...any) func(oci map[string]any) {
		return func(oci map[string]any) {
			oci["Mounts"] = append(oci["Mounts"].([]any), map[string]any{"destination": dest, "type_": typ, "options": opts, "source": "/run/kata-containers/shared/containers/x"})
		}
	}
	for field, change := range map[string]func(oci map[string]any){
		"OCI.Annotations[io.kubernetes.cri-o.Image]": func(oci map[string]any) {
			oci["Annotations"].(map[string]any)["io.kubernetes.cri-o.Image"] = strings.Replace(image, "bdbb", "bdbc", 1)
		},
		"OCI.Version": func(oci map[string]any) { oci["Version"] = "1.1.0" },
		"OCI.Annotations[io.kubernetes.cri-o.Name]": func(oci map[string]any) {
			ann := oci["Annotations"].(map[string]any)
			ann["io.kubernetes.cri-o.Name"] = strings.Replace(ann["io.kubernetes.cri-o.Name"].(string), "_gid_", "_gie_", 1)
		},
		// CRI-O's mounts are checked too: nothing at another destination
		// (a FIPS node's crypto-policy mounts included: the host would
		// choose the containers' crypto policy), none twice, the token
		// stays read-only, the cgroups too.
		"OCI.Mounts[15] (/usr/bin)":                       mount("/usr/bin", "bind", "rbind", "rprivate", "rw", "bind"),
		"OCI.Mounts[15] (/run/secrets)":                   mount("/run/secrets", "bind", "bind", "rprivate", "bind"),
		"OCI.Mounts[15] (/etc/crypto-policies/back-ends)": mount("/etc/crypto-policies/back-ends", "bind", "bind", "rprivate", "bind"),
		"OCI.Mounts[9] (/var/run/secrets/kubernetes.io/serviceaccount).options": func(oci map[string]any) {
			for _, m := range oci["Mounts"].([]any) {
				if mm := m.(map[string]any); mm["destination"] == "/var/run/secrets/kubernetes.io/serviceaccount" {
					mm["options"] = []any{"rbind", "rprivate", "rw", "bind"}
				}
			}
		},
		"OCI.Mounts[5] (/sys/fs/cgroup).options": func(oci map[string]any) {
			oci["Mounts"].([]any)[5].(map[string]any)["options"] = []any{"nosuid", "noexec", "nodev", "relatime", "rw"}
		},
	} {
		r := normalizeJSON(t, req)
		change(r["OCI"].(map[string]any))
		if ok, _ := e.decide("CreateContainerRequest", r); ok {
			t.Errorf("%s changed: still allowed", field)
		}
		if m, differs := ExplainCreateContainer(containers, r); !differs || m.Field != field {
			t.Errorf("%s changed: explanation %v", field, m)
		}
	}
	// The image the guest pulls: CRI-O names it by a tag the node knows
	// or by its digest (cri-o v1.32.0 internal/storage/image.go
	// parseImageNames), normalized; nothing else, and a root the host
	// supplies is refused.
	pull := func(source string, keep bool) map[string]any {
		r := normalizeJSON(t, req)
		if keep {
			guestPull(r, source)
		} else {
			r["storages"] = []any{}
		}
		return r
	}
	for source, allowed := range map[string]bool{
		"ghcr.io/burgerdev/weird-images/gid@sha256:bdbb485bb9e3baf381a2957b9369b6051c6113097a5f8dcee27faff17624a2c0": true,
		"ghcr.io/burgerdev/weird-images/gid:latest": true,
		"ghcr.io/burgerdev/weird-images/gid:other":  false,
		"ghcr.io/attacker/gid:latest":               false,
		"pause":                                     false,
	} {
		r := pull(source, true)
		if ok, err := e.decide("CreateContainerRequest", r); err != nil || ok != allowed {
			t.Errorf("guest pull of %s: allowed=%v (%v), want %v", source, ok, err, allowed)
		}
		if m, differs := ExplainCreateContainer(containers, r); differs == allowed || !allowed && m.Field != "storages[image_guest_pull].source" {
			t.Errorf("guest pull of %s: explanation %v", source, m)
		}
	}
	// Storages other than the image's: the agent mounts whatever the host
	// lists and skips a later one at the same mount point, so a storage
	// at the container's root before the image's would replace it.
	rootfs := "/run/kata-containers/" + req["container_id"].(string) + "/rootfs"
	for name, st := range map[string]map[string]any{
		"a host share at the root":   {"driver": "virtio-fs", "source": "kataShared", "fstype": "virtiofs", "mount_point": rootfs, "options": []any{}},
		"a bind at the root":         {"driver": "local", "source": "local", "fstype": "local", "mount_point": rootfs, "options": []any{"mode=0777"}},
		"an undeclared local volume": {"driver": "local", "source": "local", "fstype": "local", "mount_point": "/run/kata-containers/shared/containers/" + strings.Repeat("ab", 32) + "/rootfs/local/other", "options": []any{"mode=0777"}},
		"a block device":             {"driver": "blk", "source": "0000:00:02.0", "fstype": "ext4", "mount_point": "/run/kata-containers/sandbox/storage/x", "options": []any{}},
		"a second image at the root": {"driver": "image_guest_pull", "source": "ghcr.io/attacker/gid:latest", "fstype": "overlay", "mount_point": rootfs, "options": []any{}},
	} {
		r := normalizeJSON(t, req)
		r["storages"] = append([]any{st}, r["storages"].([]any)...)
		if ok, _ := e.decide("CreateContainerRequest", r); ok {
			t.Errorf("%s: allowed", name)
		}
		if m, differs := ExplainCreateContainer(containers, r); !differs || !strings.HasPrefix(m.Field, "storages") {
			t.Errorf("%s: explanation %v", name, m)
		}
	}

	r := pull("", false)
	if ok, _ := e.decide("CreateContainerRequest", r); ok {
		t.Error("a container whose root the host supplies passes the CRI-O policy")
	}
	if m, differs := ExplainCreateContainer(containers, r); !differs || m.Field != "storages" {
		t.Errorf("without a guest pull: explanation %v", m)
	}

}

// TestSettingsDropIns: the base settings are containerd's; the CRI-O
// drop-in changes the runtime, capabilities and pause process only, and
// every placeholder is expanded.
func TestSettingsDropIns(t *testing.T) {
	base, crio := DefaultSettings(), SettingsFor(RuntimeCRIO)
	if base.Runtime != RuntimeContainerd || crio.Runtime != RuntimeCRIO {
		t.Fatalf("runtimes %q and %q", base.Runtime, crio.Runtime)
	}
	if len(base.DefaultCaps) != 14 || len(crio.DefaultCaps) != 9 || slices.Contains(crio.DefaultCaps, "CAP_NET_RAW") {
		t.Errorf("default capabilities: containerd %v, CRI-O %v", base.DefaultCaps, crio.DefaultCaps)
	}
	if !slices.Equal(base.Pause.Args, []string{"/pause"}) || !slices.Equal(crio.Pause.Args, []string{"/usr/bin/pod"}) || !crio.Pause.AnyUser || base.Pause.AnyUser {
		t.Errorf("pause: containerd %+v, CRI-O %+v", base.Pause, crio.Pause)
	}
	if !slices.Equal(base.EnvRegexes, crio.EnvRegexes) || !slices.Equal(base.PrivilegedCaps, crio.PrivilegedCaps) {
		t.Error("the CRI-O drop-in changed more than it says")
	}
	for _, re := range base.EnvRegexes {
		if strings.Contains(re, "$(") {
			t.Errorf("placeholder left in %s", re)
		}
		if _, err := regexp.Compile(re); err != nil {
			t.Error(err)
		}
	}
}

// TestUserFromImageAndSecurityContext: the uid, gid and additional gids
// as containerd derives them from the image and the security contexts.
func TestUserFromImageAndSecurityContext(t *testing.T) {
	im := &imagelock.Image{
		Config: imagelock.Config{User: "app:ignored"},
		Users:  []imagelock.User{{Name: "root", UID: 0, GID: 0}, {Name: "app", UID: 1001, GID: 1002}},
		Groups: []imagelock.Group{{Name: "wheel", GID: 10, Members: []string{"app"}}, {Name: "other", GID: 20, Members: []string{"root"}}},
	}
	for name, tc := range map[string]struct {
		podSC, sc     map[string]any
		uid, gid      uint32
		additionalIDs []uint32
	}{
		"image user by name":     {nil, nil, 1001, 1002, []uint32{10, 1002}},
		"runAsUser to root":      {nil, map[string]any{"runAsUser": 0.0}, 0, 0, []uint32{0, 20}},
		"pod runAsGroup":         {map[string]any{"runAsGroup": 5.0}, nil, 1001, 5, []uint32{5, 10}},
		"container over pod":     {map[string]any{"runAsUser": 0.0}, map[string]any{"runAsUser": 1001.0}, 1001, 1002, []uint32{10, 1002}},
		"fsGroup, supplementals": {map[string]any{"fsGroup": 7.0, "supplementalGroups": []any{8.0, 7.0}}, nil, 1001, 1002, []uint32{7, 8, 10, 1002}},
		"unknown uid":            {nil, map[string]any{"runAsUser": 4242.0}, 4242, 0, []uint32{0}},
	} {
		uid, gid, gids := user(im, tc.podSC, tc.sc)
		if uid != tc.uid || gid != tc.gid || !slices.Equal(gids, tc.additionalIDs) {
			t.Errorf("%s: %d %d %v, want %d %d %v", name, uid, gid, gids, tc.uid, tc.gid, tc.additionalIDs)
		}
	}
}

// FuzzContainers: any workload object (from a repository cocogen does not
// trust) gives a policy or an error, never a panic, and the policy
// compiles.
func FuzzContainers(f *testing.F) {
	for _, dir := range []string{"createcontainer/env_vars", "createcontainer/security_context/supplemental_groups", "state/execprocess", "state/execprocessdeployment"} {
		data, err := os.ReadFile(filepath.Join(fixturesDir, dir, "pod.yaml"))
		if err != nil {
			f.Fatal(err)
		}
		objs, err := manifest.ReadStream(data)
		if err != nil {
			f.Fatal(err)
		}
		raw, _ := json.Marshal(objs[0])
		f.Add(raw)
	}
	lock := kataLock(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		obj, err := manifest.DecodeJSON(raw)
		if err != nil {
			return
		}
		pod, ok := PodFromObject(obj, nil)
		if !ok {
			return
		}
		for _, s := range []Settings{DefaultSettings(), SettingsFor(RuntimeCRIO)} {
			containers, err := Containers(pod, lock, s)
			if err != nil {
				continue
			}
			text, err := Render(Options{Profile: Workload, Containers: containers, Probes: Probes(pod)})
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if _, err := PolicyData(text); err != nil {
				t.Fatal(err)
			}
			for _, c := range containers {
				for _, re := range c.Annotations {
					if _, err := regexp.Compile(re); err != nil {
						t.Fatalf("annotation regex %q: %v", re, err)
					}
				}
			}
		}
	})
}

// TestWorkloadPauseOnCRIO: the pause container as CRI-O on OpenShift
// creates it (cri-o v1.32.0 server/sandbox_run_linux.go: ContainerType
// sandbox, KubeName, Namespace, SandboxName k8s_<pod>_<ns>_<uid>_<attempt>;
// OpenShift's pause command /usr/bin/pod; CRI-O's default capabilities)
// is allowed with the user the pod sets or, when it sets none, any; the
// containerd pause command is not.
func TestWorkloadPauseOnCRIO(t *testing.T) {
	for _, dir := range []string{"createcontainer/sysctls", "createcontainer/security_context/runas"} {
		pod := podOf(t, dir)
		containers, err := Containers(pod, kataLock(t), SettingsFor(RuntimeCRIO))
		if err != nil {
			t.Fatal(err)
		}
		e := newEngine(t, renderT(t, Options{Profile: Workload, Containers: containers}), "CreateContainerRequest")
		var base map[string]any
		for _, c := range loadCases(t, dir)[dir+"/testcases.json"] {
			if ann, _ := c.Request["OCI"].(map[string]any)["Annotations"].(map[string]any); c.Allowed && ann["io.kubernetes.cri.container-type"] == "sandbox" {
				base = c.Request
				break
			}
		}
		if base == nil {
			t.Fatalf("%s: no allowed sandbox request", dir)
		}
		req := normalizeJSON(t, base)
		ann := req["OCI"].(map[string]any)["Annotations"].(map[string]any)
		ns, _ := ann["io.kubernetes.cri.sandbox-namespace"].(string)
		name, _ := ann["io.kubernetes.cri.sandbox-name"].(string)
		req["OCI"].(map[string]any)["Annotations"] = map[string]any{
			"io.kubernetes.cri-o.ContainerType": "sandbox",
			"io.kubernetes.cri-o.KubeName":      name,
			"io.kubernetes.cri-o.Namespace":     ns,
			"io.kubernetes.cri-o.SandboxName":   "k8s_" + name + "_" + ns + "_9c64c5bf-298f-46c4-ad63-e2270a2ff44c_0",
		}
		guestPull(req, "pause")
		req["OCI"].(map[string]any)["Version"] = "1.2.0"
		proc := req["OCI"].(map[string]any)["Process"].(map[string]any)
		proc["Args"] = []any{"/usr/bin/pod"}
		var caps []any
		for _, c := range SettingsFor(RuntimeCRIO).DefaultCaps {
			caps = append(caps, c)
		}
		for _, set := range []string{"Bounding", "Effective", "Permitted"} {
			proc["Capabilities"].(map[string]any)[set] = caps
		}
		podSC, _ := pod.Spec["securityContext"].(map[string]any)
		_, podSetsUser := podSC["runAsUser"]
		if !podSetsUser {
			// The OpenShift pod image's own user, which the policy leaves open.
			proc["User"] = map[string]any{"UID": 0.0, "GID": 0.0, "AdditionalGids": []any{0.0}}
		}
		if ok, err := e.decide("CreateContainerRequest", req); err != nil || !ok {
			m, _ := ExplainCreateContainer(containers, req)
			t.Fatalf("%s: CRI-O's pause container is denied (%v): %s", dir, err, m)
		}
		proc["Args"] = []any{"/pause"}
		if ok, _ := e.decide("CreateContainerRequest", normalizeJSON(t, req)); ok {
			t.Errorf("%s: a pause container running /pause passes the CRI-O policy", dir)
		}
		if podSetsUser {
			proc["Args"] = []any{"/usr/bin/pod"}
			proc["User"].(map[string]any)["UID"] = 0.0
			if ok, _ := e.decide("CreateContainerRequest", req); ok {
				t.Errorf("%s: a pause container as root passes although the pod sets runAsUser", dir)
			}
		}
	}
}

// TestMaskedPaths: every container keeps the kubelet's masked and
// read-only paths unless it is privileged or asks for procMount
// Unmasked; CRI-O's pause container is not bound (CRI-O sets its own).
func TestMaskedPaths(t *testing.T) {
	dir := "createcontainer/env_vars"
	pod := podOf(t, dir)
	for name, sc := range map[string]map[string]any{
		"default":    nil,
		"privileged": {"privileged": true},
		"unmasked":   {"procMount": "Unmasked"},
	} {
		p := pod
		p.Spec = normalizeJSON(t, pod.Spec)
		for _, c := range list(p.Spec["containers"]) {
			if sc != nil {
				c.(map[string]any)["securityContext"] = sc
			}
		}
		for _, runtime := range []string{RuntimeContainerd, RuntimeCRIO} {
			s := SettingsFor(runtime)
			containers, err := Containers(p, kataLock(t), s)
			if err != nil {
				t.Fatal(err)
			}
			pause, ctr := containers[0], containers[1]
			wantMasked, wantRO := s.MaskedPaths, s.ReadonlyPaths
			if name != "default" {
				wantMasked, wantRO = []string{}, []string{}
			}
			if ctr.MaskedPaths == nil || !slices.Equal(ctr.MaskedPaths, wantMasked) || !slices.Equal(ctr.ReadonlyPaths, wantRO) {
				t.Errorf("%s on %s: masked %v, read-only %v", name, runtime, ctr.MaskedPaths, ctr.ReadonlyPaths)
			}
			if runtime == RuntimeCRIO && (pause.MaskedPaths != nil || pause.ReadonlyPaths != nil) {
				t.Errorf("CRI-O's pause container is bound: %v %v", pause.MaskedPaths, pause.ReadonlyPaths)
			}
		}
	}
}

// TestKataMountCasesDenyForTheirMounts: kata's emptyDir cases, completed
// with the image-name annotation containerd sets (their requests lack
// it, see knownMismatches): the valid mount structures are allowed, and
// each invalid mount destination, duplicate, format or propagation is
// refused for its mount.
func TestKataMountCasesDenyForTheirMounts(t *testing.T) {
	dir := "createcontainer/volumes/emptydir"
	containers := containersOf(t, dir)
	e := newEngine(t, workloadPolicy(t, dir), "CreateContainerRequest")
	imageRe := containers[1].Annotations["io.kubernetes.cri.image-name"]
	image := regexp.MustCompile(`\\(.)`).ReplaceAllString(strings.TrimSuffix(strings.TrimPrefix(imageRe, "^"), "$"), "$1")
	if !regexp.MustCompile(imageRe).MatchString(image) {
		t.Fatalf("image %q does not match %q", image, imageRe)
	}
	checked := 0
	for _, c := range loadCases(t, dir)[dir+"/testcases.json"] {
		if c.Kind != "CreateContainerRequest" {
			continue
		}
		mountCase := strings.Contains(c.Description, "mount destination") || strings.Contains(c.Description, "mount format") ||
			strings.Contains(c.Description, "mount options") || strings.Contains(c.Description, "more mounts") || strings.Contains(c.Description, "mount structure")
		if !mountCase {
			continue // sources, storages and fstypes are not compared
		}
		req := normalizeJSON(t, c.Request)
		ann := req["OCI"].(map[string]any)["Annotations"].(map[string]any)
		if ann["io.kubernetes.cri.container-type"] != "container" {
			continue
		}
		ann["io.kubernetes.cri.image-name"] = image
		ok, err := e.decide("CreateContainerRequest", req)
		if err != nil || ok != c.Allowed {
			m, _ := ExplainCreateContainer(containers, req)
			t.Errorf("%q: allowed=%v, kata %v (%v) %s", c.Description, ok, c.Allowed, err, m)
			continue
		}
		if !c.Allowed {
			if m, found := ExplainCreateContainer(containers, req); !found || !strings.HasPrefix(m.Field, "OCI.Mounts") {
				t.Errorf("%q: explanation %v", c.Description, m)
			}
		}
		checked++
	}
	if checked < 6 {
		t.Errorf("only %d cases checked", checked)
	}
}

// TestExplainStreams: logs and stdin are explained for every profile,
// naming the option that changes the decision, and agree with the rules.
func TestExplainStreams(t *testing.T) {
	no, yes := false, true
	for _, tc := range []struct {
		opts       Options
		kind       string
		allowed    bool
		mentioning string
	}{
		{Options{AllowLogs: &no}, "ReadStreamRequest", false, "policy.allowLogs: true"},
		{Options{AllowLogs: &yes}, "ReadStreamRequest", true, ""},
		{Options{}, "WriteStreamRequest", false, "policy.allowStdin: true"},
		{Options{AllowStdin: true}, "CloseStdinRequest", true, ""},
	} {
		policy := renderT(t, tc.opts)
		ex, err := Explain(policy, tc.kind, map[string]any{})
		if err != nil {
			t.Fatal(err)
		}
		e := newEngine(t, policy, tc.kind)
		ok, err := e.decide(tc.kind, map[string]any{})
		if err != nil || ok != tc.allowed || ex.Allowed != tc.allowed {
			t.Errorf("%s %+v: rules %v (%v), explain %v, want %v", tc.kind, tc.opts, ok, err, ex.Allowed, tc.allowed)
		}
		if tc.mentioning != "" && (ex.Mismatch == nil || !strings.Contains(ex.Mismatch.String(), tc.mentioning)) {
			t.Errorf("%s: %v does not name %q", tc.kind, ex.Mismatch, tc.mentioning)
		}
	}
}

// TestExplainerFollowsState: fed kata's state cases in order, as the
// agent's log would list them, the tracking explainer decides every
// CreateContainerRequest and ExecProcessRequest as the rules do with the
// agent's state, including execs in containers whose creation was
// refused, which it names.
func TestExplainerFollowsState(t *testing.T) {
	for _, dir := range []string{"state/execprocess", "state/createcontainer"} {
		text := workloadPolicy(t, dir)
		e := newEngine(t, text, "CreateContainerRequest", "ExecProcessRequest", "RemoveContainerRequest")
		x, err := NewExplainer(text)
		if err != nil {
			t.Fatal(err)
		}
		x.Track()
		refusedContainer := 0
		for i, c := range loadCases(t, dir)[dir+"/testcases.json"] {
			switch c.Kind {
			case "CreateContainerRequest", "ExecProcessRequest", "RemoveContainerRequest":
			default:
				continue
			}
			allowed, err := e.decide(c.Kind, c.Request)
			if err != nil {
				t.Fatal(err)
			}
			ex, err := x.Explain(c.Kind, c.Request)
			if err != nil {
				t.Fatal(err)
			}
			if c.Kind != "RemoveContainerRequest" && ex.Allowed != allowed {
				t.Errorf("%s #%d %q (%s): rules allowed=%v, explanation %+v", dir, i, c.Description, c.Kind, allowed, ex)
			}
			if ex.Mismatch != nil && ex.Mismatch.Field == "container_id" {
				refusedContainer++
			}
		}
		if dir == "state/execprocess" && refusedContainer == 0 {
			t.Errorf("%s: no exec was explained as one in a container the policy never created", dir)
		}
	}
}

// TestVolumeDevices: a raw block volume's device path is the one device
// besides GPUs a container may get; CRI-O leaves devices unchecked.
func TestVolumeDevices(t *testing.T) {
	pod := podOf(t, "createcontainer/env_vars")
	pod.Spec = normalizeJSON(t, pod.Spec)
	c := list(pod.Spec["containers"])[0].(map[string]any)
	c["volumeDevices"] = []any{map[string]any{"name": "data", "devicePath": "/dev/xvda"}}
	containers, err := Containers(pod, kataLock(t), DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	if got := containers[1].DevicePaths; !slices.Equal(got, []string{"/dev/xvda"}) || containers[0].DevicePaths == nil || len(containers[0].DevicePaths) != 0 {
		t.Errorf("device paths: pause %v, container %v", containers[0].DevicePaths, got)
	}
	crio, err := Containers(pod, kataLock(t), SettingsFor(RuntimeCRIO))
	if err != nil {
		t.Fatal(err)
	}
	if crio[1].DevicePaths != nil {
		t.Errorf("CRI-O devices bound: %v", crio[1].DevicePaths)
	}
}

// TestEmptyDirAsGuestLocalStorage: on peer pods kata's shim gives a
// disk-backed emptyDir as guest-local storage (type local), which the
// policy allows at that volume's mounts only; a memory-backed emptyDir
// stays a bind, and a privileged container's /sys is read-write.
func TestEmptyDirAsGuestLocalStorage(t *testing.T) {
	dir := "createcontainer/volumes/emptydir"
	var base map[string]any
	for _, c := range loadCases(t, dir)[dir+"/testcases.json"] {
		ann, _ := c.Request["OCI"].(map[string]any)["Annotations"].(map[string]any)
		if c.Allowed && c.Kind == "CreateContainerRequest" && ann["io.kubernetes.cri.container-type"] == "container" {
			base = c.Request
			break
		}
	}
	pod := podOf(t, dir)
	containers, err := Containers(pod, kataLock(t), DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	imageRe := containers[1].Annotations["io.kubernetes.cri.image-name"]
	image := regexp.MustCompile(`\\(.)`).ReplaceAllString(strings.TrimSuffix(strings.TrimPrefix(imageRe, "^"), "$"), "$1")
	// Sources as kata's shim gives them on peer pods (kata 3.25.0
	// kata_agent.go handleLocalStorage, handleEphemeralStorage; fs_share
	// ShareFile for copies).
	const sandbox = "4bae4a8e74302a8edfe17424aff0b632cae893687f4d9ad2f2115666899f9a12"
	local := func(volume string) string {
		return "/run/kata-containers/shared/containers/" + sandbox + "/rootfs/local/" + volume
	}
	copied := func(name string) string {
		return "/run/kata-containers/shared/containers/" + sandbox + "-0123456789abcdef-" + name
	}
	withSource := func(dest, typ, source string) map[string]any {
		req := normalizeJSON(t, base)
		oci := req["OCI"].(map[string]any)
		oci["Annotations"].(map[string]any)["io.kubernetes.cri.image-name"] = image
		found := false
		for _, m := range oci["Mounts"].([]any) {
			if mm := m.(map[string]any); mm["destination"] == dest {
				mm["type_"], found = typ, true
				if source != "" {
					mm["source"] = source
				}
			}
		}
		if !found {
			oci["Mounts"] = append(oci["Mounts"].([]any), map[string]any{"destination": dest, "type_": typ, "options": []any{"rbind", "rprivate", "rw"}, "source": source})
		}
		return req
	}
	withType := func(dest, typ string) map[string]any {
		switch {
		case typ == "local" && dest == "/mnt/test4":
			return withSource(dest, typ, local("test-volume2"))
		case typ == "local":
			return withSource(dest, typ, local("test-volume"))
		case dest == "/dev/termination-log":
			return withSource(dest, typ, copied("termination-log"))
		}
		return withSource(dest, typ, "")
	}
	e := newEngine(t, renderT(t, Options{Profile: Workload, Containers: containers}), "CreateContainerRequest")
	for _, tc := range []struct {
		dest, typ string
		allowed   bool
	}{
		{"/mnt/test", "bind", true},
		{"/mnt/test", "local", true},
		{"/mnt/test4", "local", true},
		{"/mnt/test", "tmpfs", false},
		{"/dev/termination-log", "bind", true},
		{"/dev/termination-log", "local", false}, // not an emptyDir
	} {
		req := withType(tc.dest, tc.typ)
		if ok, err := e.decide("CreateContainerRequest", req); err != nil || ok != tc.allowed {
			m, _ := ExplainCreateContainer(containers, req)
			t.Errorf("%s as %s: allowed=%v (%v), want %v: %s", tc.dest, tc.typ, ok, err, tc.allowed, m)
		}
		if m, differs := ExplainCreateContainer(containers, req); differs == tc.allowed || !tc.allowed && !strings.HasSuffix(m.Field, ".type_") {
			t.Errorf("%s as %s: explanation %v", tc.dest, tc.typ, m)
		}
	}

	// A mount's source is its own: another volume's storage, another
	// container's root or a guest path are refused.
	for _, tc := range []struct{ dest, typ, source string }{
		{"/mnt/test", "local", local("test-volume2")},
		{"/mnt/test", "bind", "/run/kata-containers/" + sandbox + "/rootfs"},
		{"/dev/termination-log", "bind", copied("hosts")},
		{"/dev/termination-log", "bind", "/run/confidential-containers/cdh"},
	} {
		req := withSource(tc.dest, tc.typ, tc.source)
		if ok, _ := e.decide("CreateContainerRequest", req); ok {
			t.Errorf("%s from %s: allowed", tc.dest, tc.source)
		}
		if m, differs := ExplainCreateContainer(containers, req); !differs || !strings.HasSuffix(m.Field, ".source") {
			t.Errorf("%s from %s: explanation %v", tc.dest, tc.source, m)
		}
	}

	// test-volume2 in memory: /mnt/test4 must stay a bind.
	pod.Spec["volumes"].([]any)[1].(map[string]any)["emptyDir"] = map[string]any{"medium": "Memory"}
	if ok, _ := e.decide("CreateContainerRequest", withType("/mnt/test4", "local")); !ok {
		t.Error("on disk, /mnt/test4 as guest-local storage is refused")
	}
	memory, err := Containers(pod, kataLock(t), DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	e = newEngine(t, renderT(t, Options{Profile: Workload, Containers: memory}), "CreateContainerRequest")
	if ok, _ := e.decide("CreateContainerRequest", withType("/mnt/test4", "local")); ok {
		t.Error("a memory-backed emptyDir given as guest-local storage is allowed")
	}
	if ok, _ := e.decide("CreateContainerRequest", withType("/mnt/test", "local")); !ok {
		t.Error("the disk-backed emptyDir beside it is refused")
	}

	// Privileged: /sys read-write (and the container's capabilities).
	c := pod.Spec["containers"].([]any)[0].(map[string]any)
	c["securityContext"].(map[string]any)["privileged"] = true
	privileged, err := Containers(pod, kataLock(t), SettingsFor(RuntimeCRIO))
	if err != nil {
		t.Fatal(err)
	}
	if m := privileged[1].Mounts["/sys"]; m.Access != "" || !slices.Contains(privileged[1].CgroupMountOptions, "rw") {
		t.Errorf("privileged: /sys %+v, cgroup options %v", m, privileged[1].CgroupMountOptions)
	}
	if m := privileged[0].Mounts["/sys"]; m.Access != "ro" {
		t.Errorf("the pause container's /sys %+v", m)
	}
}

// guestPull gives a request the image_guest_pull storage kata's shim
// sends when the runtime pulls in the guest (kata 3.25.0
// src/runtime/virtcontainers/kata_agent.go handleImageGuestPullBlockVolume,
// handleVirtualVolumeStorageObject), replacing any, with the OCI root at
// its mount point.
func guestPull(req map[string]any, source string) {
	id, _ := req["container_id"].(string)
	rootfs := "/run/kata-containers/" + id + "/rootfs"
	var storages []any
	for _, st := range list(req["storages"]) {
		if st.(map[string]any)["driver"] != "image_guest_pull" {
			storages = append(storages, st)
		}
	}
	req["storages"] = append(storages, map[string]any{"driver": "image_guest_pull", "driver_options": []any{"image_guest_pull={}"}, "source": source, "fstype": "overlay", "options": []any{}, "mount_point": rootfs})
	req["OCI"].(map[string]any)["Root"].(map[string]any)["Path"] = rootfs
}

// onOCI applies a change to a request's OCI spec.
func onOCI(change func(oci map[string]any)) func(req map[string]any) {
	return func(req map[string]any) { change(req["OCI"].(map[string]any)) }
}

// TestEmptyDirStoragesOnCRIO: on CRI-O the storages of a container are
// its image's and its emptyDirs' only: a guest-local directory per disk
// emptyDir it mounts, named after the volume, with the pod's fsGroup.
func TestEmptyDirStoragesOnCRIO(t *testing.T) {
	dir := "createcontainer/volumes/emptydir"
	var base map[string]any
	for _, c := range loadCases(t, dir)[dir+"/testcases.json"] {
		ann, _ := c.Request["OCI"].(map[string]any)["Annotations"].(map[string]any)
		if c.Allowed && c.Kind == "CreateContainerRequest" && ann["io.kubernetes.cri.container-type"] == "container" {
			base = c.Request
			break
		}
	}
	pod := podOf(t, dir)
	pod.Spec["securityContext"] = map[string]any{"fsGroup": 2000.0}
	containers, err := Containers(pod, kataLock(t), SettingsFor(RuntimeCRIO))
	if err != nil {
		t.Fatal(err)
	}
	if got := containers[1].Storages; len(got) != 2 || got[0].Driver != "local" || !slices.Equal(got[0].Options, []string{"mode=0777", "fsgid=2000"}) {
		t.Fatalf("storages %+v", got)
	}
	image := "registry.k8s.io/pause:3.6@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db"
	req := crioRequest(t, base, image)
	for k, v := range req["OCI"].(map[string]any)["Annotations"].(map[string]any) {
		if s, ok := v.(string); ok { // kata's case names no pod uid
			req["OCI"].(map[string]any)["Annotations"].(map[string]any)[k] = strings.Replace(s, "__0", "_0273cad1-6eac-423a-bbf5-766fa24540e2_0", 1)
		}
	}
	req["container_id"] = strings.Repeat("cd", 32)
	req["OCI"].(map[string]any)["Process"].(map[string]any)["User"].(map[string]any)["AdditionalGids"] = []any{0.0, 2000.0} // fsGroup
	req["storages"] = []any{}                                                                                               // kata's case has block-mode emptyDirs; peer pods have no block devices
	guestPull(req, "registry.k8s.io/pause@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db")
	e := newEngine(t, renderT(t, Options{Profile: Workload, Containers: containers}), "CreateContainerRequest")
	local := func(volume string, opts ...any) map[string]any {
		return map[string]any{"driver": "local", "source": "local", "fstype": "local", "options": opts,
			"mount_point": "/run/kata-containers/shared/containers/" + strings.Repeat("ab", 32) + "/rootfs/local/" + volume}
	}
	for name, tc := range map[string]struct {
		storages []any
		allowed  bool
	}{
		"its emptyDirs":               {[]any{local("test-volume", "mode=0777", "fsgid=2000"), local("test-volume2", "mode=0777")}, true},
		"another group":               {[]any{local("test-volume", "mode=0777", "fsgid=0")}, false},
		"an undeclared volume":        {[]any{local("test-volume3", "mode=0777")}, false},
		"one volume twice":            {[]any{local("test-volume", "mode=0777"), local("test-volume", "mode=0777")}, false},
		"as tmpfs (it is on disk)":    {[]any{map[string]any{"driver": "ephemeral", "source": "tmpfs", "fstype": "tmpfs", "mount_point": "/run/kata-containers/sandbox/ephemeral/test-volume", "options": []any{}}}, false},
		"with driver options (block)": {[]any{map[string]any{"driver": "local", "source": "local", "fstype": "local", "mount_point": local("test-volume")["mount_point"], "options": []any{}, "driver_options": []any{"encryption_key=ephemeral"}}}, false},
	} {
		r := normalizeJSON(t, req)
		r["storages"] = append(r["storages"].([]any), tc.storages...)
		ok, err := e.decide("CreateContainerRequest", r)
		if err != nil || ok != tc.allowed {
			m, _ := ExplainCreateContainer(containers, r)
			t.Errorf("%s: allowed=%v (%v), want %v: %s", name, ok, err, tc.allowed, m)
		}
		if m, differs := ExplainCreateContainer(containers, r); differs == tc.allowed || !tc.allowed && !strings.HasPrefix(m.Field, "storages") {
			t.Errorf("%s: explanation %v", name, m)
		}
	}
}
