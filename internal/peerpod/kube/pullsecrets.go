package kube

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
)

// Secret types and keys of image pull secrets (core/v1
// SecretTypeDockerConfigJson and SecretTypeDockercfg).
const (
	typeDockerConfigJSON = "kubernetes.io/dockerconfigjson"
	keyDockerConfigJSON  = ".dockerconfigjson"
	typeDockercfg        = "kubernetes.io/dockercfg"
	keyDockercfg         = ".dockercfg"
)

// podMeta is what the daemon reads of a pod.
type podMeta struct {
	Metadata struct {
		Name string `json:"name"`
		UID  string `json:"uid"`
	} `json:"metadata"`
	Spec struct {
		ServiceAccountName string      `json:"serviceAccountName"`
		ImagePullSecrets   []secretRef `json:"imagePullSecrets"`
	} `json:"spec"`
}

type secretRef struct {
	Name string `json:"name"`
}

type serviceAccount struct {
	ImagePullSecrets []secretRef `json:"imagePullSecrets"`
}

type secret struct {
	Type string            `json:"type"`
	Data map[string][]byte `json:"data"` // base64 in JSON, decoded by encoding/json
}

// dockerAuth is a registry's entry in a docker config. Only auth is
// written out: it is what the VM's image pull reads.
type dockerAuth struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Auth     string `json:"auth,omitempty"`
}

// authFile is the auth.json the VM's image pull reads.
type authFile struct {
	Auths map[string]dockerAuth `json:"auths"`
}

func (c *Client) getPod(ctx context.Context, namespace, name string) (*podMeta, error) {
	var p podMeta
	if err := c.do(ctx, "GET", "/api/v1/namespaces/"+url.PathEscape(namespace)+"/pods/"+url.PathEscape(name), "", nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// PullSecretsAuth returns the image pull credentials of a pod as an
// auth.json document ({"auths":{"<registry>":{"auth":"<base64>"}}}), or nil
// when it has none, for the VM to pull the pod's images with.
//
// As GetImagePullSecrets in cloud-api-adaptor v0.22.0
// (src/cloud-api-adaptor/pkg/adaptor/k8sops/node.go) does, it reads the
// pod's imagePullSecrets and those of its service account ("default" when
// the pod names none), takes the credentials of each secret, computes a
// missing auth from username and password, drops entries with neither, and
// skips secrets that do not exist, as the kubelet does. Unlike there:
//
//   - a secret is read according to its type, kubernetes.io/dockerconfigjson
//     or kubernetes.io/dockercfg, and other types are ignored, which is what
//     the kubelet does (k8s.io/kubernetes pkg/credentialprovider/secrets);
//   - the first secret naming a registry wins, the pod's before the service
//     account's, matching the order the kubelet tries credentials in (CAA's
//     last writer won);
//   - a missing service account is skipped like a missing secret (its
//     secrets were copied into the pod at admission anyway) instead of
//     failing;
//   - the output is deterministic (registries sorted), so the VM's user
//     data does not change from one call to the next.
//
// Errors other than 404 are returned, as is a pull secret that is not
// valid JSON (the kubelet would fail the pull too); no error quotes a
// secret's content.
func (c *Client) PullSecretsAuth(ctx context.Context, namespace, pod string) ([]byte, error) {
	auths, err := c.pullSecretsAuth(ctx, namespace, pod)
	if err != nil {
		return nil, fmt.Errorf("reading image pull secrets of pod %s/%s: %w", namespace, pod, err)
	}
	if len(auths) == 0 {
		return nil, nil
	}
	// encoding/json writes map keys sorted.
	return json.Marshal(authFile{Auths: auths})
}

func (c *Client) pullSecretsAuth(ctx context.Context, namespace, pod string) (map[string]dockerAuth, error) {
	if err := required("namespace", namespace, "pod", pod); err != nil {
		return nil, err
	}
	p, err := c.getPod(ctx, namespace, pod)
	if err != nil {
		return nil, err
	}
	names := p.Spec.ImagePullSecrets
	sa := p.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	var account serviceAccount
	err = c.do(ctx, "GET", "/api/v1/namespaces/"+url.PathEscape(namespace)+"/serviceaccounts/"+url.PathEscape(sa), "", nil, &account)
	switch {
	case err == nil:
		names = append(names[:len(names):len(names)], account.ImagePullSecrets...)
	case !IsNotFound(err):
		return nil, err
	}

	auths := map[string]dockerAuth{}
	seen := map[string]bool{}
	for _, ref := range names {
		// The API lets a reference have an empty name; the kubelet skips it.
		if ref.Name == "" || seen[ref.Name] {
			continue
		}
		seen[ref.Name] = true
		var s secret
		err := c.do(ctx, "GET", "/api/v1/namespaces/"+url.PathEscape(namespace)+"/secrets/"+url.PathEscape(ref.Name), "", nil, &s)
		if IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		registries, err := registriesOf(s)
		if err != nil {
			return nil, fmt.Errorf("secret %q: %w", ref.Name, err)
		}
		for registry, a := range registries {
			if _, ok := auths[registry]; ok {
				continue
			}
			if a.Auth == "" {
				if a.Username == "" {
					continue
				}
				a.Auth = base64.StdEncoding.EncodeToString([]byte(a.Username + ":" + a.Password))
			}
			auths[registry] = dockerAuth{Auth: a.Auth}
		}
	}
	return auths, nil
}

// registriesOf decodes a pull secret's credentials, none for a secret of
// another type. Decoding errors are not wrapped: encoding/json quotes the
// offending input.
func registriesOf(s secret) (map[string]dockerAuth, error) {
	switch s.Type {
	case typeDockerConfigJSON:
		data := s.Data[keyDockerConfigJSON]
		if len(data) == 0 {
			return nil, nil
		}
		var f authFile
		if json.Unmarshal(data, &f) != nil {
			return nil, fmt.Errorf("%s is not a docker config JSON document", keyDockerConfigJSON)
		}
		return f.Auths, nil
	case typeDockercfg:
		data := s.Data[keyDockercfg]
		if len(data) == 0 {
			return nil, nil
		}
		var m map[string]dockerAuth
		if json.Unmarshal(data, &m) != nil {
			return nil, fmt.Errorf("%s is not a dockercfg JSON document", keyDockercfg)
		}
		return m, nil
	}
	return nil, nil
}
