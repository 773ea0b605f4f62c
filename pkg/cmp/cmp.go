// Package cmp is cocogen as an Argo CD config-management plugin (v2,
// sidecar): it turns the environment argocd-cmp-server gives the generate
// command into a render request and writes the manifests of the
// Application's part of the tree.
//
// The server runs the command in the application's directory of the
// repository it received as a tar stream, with the variables the repo
// server sets (argo-cd v2.14.21 reposerver/repository/repository.go newEnv
// and getPluginEnvs: ARGOCD_APP_NAME, ARGOCD_APP_NAMESPACE,
// ARGOCD_APP_REVISION, ARGOCD_APP_SOURCE_PATH, ..., KUBE_VERSION,
// KUBE_API_VERSIONS, ARGOCD_ENV_<name> for the Application's plugin env,
// and its parameters as PARAM_<NAME> (upper-cased, other characters "_";
// maps as PARAM_<NAME>_<KEY>) and ARGOCD_APP_PARAMETERS (JSON)).
package cmp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/render"
	"github.com/cocogen/cocogen/pkg/spec"
)

// Parameter names, as plugin.yaml announces them.
const (
	ParamGroup   = "group"
	ParamApp     = "app"
	ParamPattern = "pattern"
	ParamRelease = "release"
	ParamExtStr  = "jsonnet-ext-str"
	ParamTLAStr  = "jsonnet-tla-str"
)

// DefaultPattern is the pattern file looked for in the application's
// directory when the pattern parameter is not set.
const DefaultPattern = "pattern.yaml"

// FindingsConfigMap is the ConfigMap a render with warnings adds in the
// Application's namespace, so that they show in Argo CD's UI next to the
// Application and not only in the sidecar's log.
const FindingsConfigMap = "cocogen-render-findings"

// Env is the environment of one generate call.
type Env struct {
	vars map[string]string
}

// NewEnv reads name=value pairs (os.Environ()).
func NewEnv(environ []string) Env {
	vars := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	return Env{vars: vars}
}

// Get returns a variable.
func (e Env) Get(name string) string { return e.vars[name] }

// param returns a string parameter: PARAM_<NAME>, else the legacy
// ARGOCD_ENV_<NAME> (an Application's plugin env).
func (e Env) param(name string) string {
	key := escape(name)
	if v, ok := e.vars["PARAM_"+key]; ok {
		return v
	}
	return e.vars["ARGOCD_ENV_"+key]
}

// mapParam returns a map parameter from ARGOCD_APP_PARAMETERS (its keys
// are not recoverable from PARAM_<NAME>_<KEY>, which upper-cases them).
func (e Env) mapParam(name string) (map[string]string, error) {
	raw := e.vars["ARGOCD_APP_PARAMETERS"]
	if raw == "" {
		return nil, nil
	}
	var params []struct {
		Name string            `json:"name"`
		Map  map[string]string `json:"map"`
	}
	if err := json.Unmarshal([]byte(raw), &params); err != nil {
		return nil, fmt.Errorf("ARGOCD_APP_PARAMETERS: %v", err)
	}
	for _, p := range params {
		if p.Name == name {
			return p.Map, nil
		}
	}
	return nil, nil
}

// escape is how Argo CD turns a parameter name into a variable name
// (v1alpha1 ApplicationSourcePluginParameters.Environ).
func escape(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' {
			return r
		}
		return '_'
	}, name)
}

// Request builds the render request of a generate call run in workDir
// (the application's directory).
func Request(env Env, workDir string, gens []render.Generator, limits spec.Limits) (render.Request, error) {
	group := env.param(ParamGroup)
	if group == "" {
		return render.Request{}, spec.ErrorList{{Msg: fmt.Sprintf("the Application %q names no cluster group: set the plugin parameter %q (spec.source.plugin.parameters: [{name: %s, string: <group>}])", env.Get("ARGOCD_APP_NAME"), ParamGroup, ParamGroup)}}
	}
	only := group
	if app := env.param(ParamApp); app != "" {
		only = "apps/" + group + "/" + app
	}
	pattern := env.param(ParamPattern)
	if pattern == "" {
		pattern = DefaultPattern
	}
	root, err := repoRoot(workDir, env.Get("ARGOCD_APP_SOURCE_PATH"))
	if err != nil {
		return render.Request{}, err
	}
	ext, err := env.mapParam(ParamExtStr)
	if err != nil {
		return render.Request{}, spec.ErrorList{{Msg: err.Error()}}
	}
	tla, err := env.mapParam(ParamTLAStr)
	if err != nil {
		return render.Request{}, spec.ErrorList{{Msg: err.Error()}}
	}
	return render.Request{
		// Relative to the working directory, the application's path,
		// where the server runs the command: messages name it so.
		Path:       filepath.FromSlash(pattern),
		RepoRoot:   root,
		Only:       []string{only},
		Generators: gens,
		Load:       spec.LoadOptions{Release: env.param(ParamRelease), ExtStrs: ext, TLAStrs: tla, Limits: limits},
	}, nil
}

// repoRoot is the root of the repository the server unpacked: the working
// directory less the application's path. It does not need .git, which
// the repo server commonly leaves out of the stream
// (ARGOCD_REPO_SERVER_PLUGIN_TAR_EXCLUSIONS=.git).
func repoRoot(workDir, sourcePath string) (string, error) {
	sourcePath = filepath.Clean(filepath.FromSlash(strings.Trim(sourcePath, "/")))
	if sourcePath == "." || sourcePath == "" {
		return workDir, nil
	}
	wd := filepath.Clean(workDir)
	if !strings.HasSuffix(wd, string(filepath.Separator)+sourcePath) {
		return "", spec.ErrorList{{Msg: fmt.Sprintf("the working directory %s does not end in the application's path %s (ARGOCD_APP_SOURCE_PATH)", wd, sourcePath)}}
	}
	return strings.TrimSuffix(wd, string(filepath.Separator)+sourcePath), nil
}

// Generate renders the request and writes the manifests to stdout only
// once the whole render succeeded: partial output would read to Argo CD as
// a smaller desired state (and prune the rest). Findings go to stderr and,
// when there are any, into the FindingsConfigMap in namespace.
func Generate(ctx context.Context, req render.Request, namespace string, stdout, stderr io.Writer) error {
	res, err := render.Run(ctx, req)
	if err != nil {
		return err
	}
	set := res.Set
	if len(res.Findings) > 0 {
		lines := make([]string, 0, len(res.Findings))
		for _, f := range res.Findings {
			fmt.Fprintf(stderr, "cocogen: %s: %s\n", f.Severity, f)
			lines = append(lines, fmt.Sprintf("%s: %s", f.Severity, f))
		}
		if namespace != "" {
			set = withFindings(set, namespace, lines)
		}
	}
	var buf bytes.Buffer
	if err := manifest.WriteStream(&buf, set); err != nil {
		return err
	}
	_, err = stdout.Write(buf.Bytes())
	return err
}

// withFindings adds the findings ConfigMap to a copy of set.
func withFindings(set *manifest.Set, namespace string, lines []string) *manifest.Set {
	sort.Strings(lines)
	out := set.Clone()
	out.Add(manifest.Object{Dir: "findings", Origin: manifest.Origin{Generator: "cmp", Spec: "spec"}, Content: map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata": map[string]any{
			"name": FindingsConfigMap, "namespace": namespace,
			"labels": map[string]any{"app.kubernetes.io/managed-by": "cocogen"},
		},
		"data": map[string]any{"findings": strings.Join(lines, "\n") + "\n"},
	}})
	out.Sort()
	return out
}
