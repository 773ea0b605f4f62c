package kbssecrets

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/cocogen/cocogen/pkg/manifest"
)

// Files written by WriteDir.
const (
	SecretsFile  = "secrets.yaml"
	CAFile       = "kbs-ca.crt"
	AdminKeyFile = "kbs-admin.key"
)

// Manifests are the Secrets as a YAML stream for `oc apply -f -`.
func (m *Material) Manifests() ([]byte, error) {
	var buf bytes.Buffer
	for i, s := range m.Secrets {
		data := map[string]any{}
		for _, k := range slices.Sorted(maps.Keys(s.Data)) {
			data[k] = base64.StdEncoding.EncodeToString(s.Data[k])
		}
		out, err := manifest.Marshal(manifest.Object{Content: map[string]any{
			"apiVersion": "v1",
			"kind":       "Secret",
			"metadata":   map[string]any{"name": s.Name, "namespace": s.Namespace},
			"type":       s.Type,
			"data":       data,
		}})
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(out)
	}
	return buf.Bytes(), nil
}

// WriteDir writes the material into dir, which must not exist yet: the
// Secret manifests, the CA certificate (public: the pattern pins it) and
// the admin private key. dir is created with mode 0700 and every file with
// 0600; a failure leaves nothing behind.
func (m *Material) WriteDir(dir string) (err error) {
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("%s exists: secrets init never overwrites key material; choose a new directory", dir)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	parent := filepath.Dir(filepath.Clean(dir))
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o700); err != nil {
		return err
	}
	manifests, err := m.Manifests()
	if err != nil {
		return err
	}
	files := map[string][]byte{SecretsFile: manifests}
	if m.CACertificate != nil {
		files[CAFile] = m.CACertificate
	}
	if m.AdminPrivateKey != nil {
		files[AdminKeyFile] = m.AdminPrivateKey
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := os.WriteFile(filepath.Join(tmp, name), files[name], 0o600); err != nil {
			return err
		}
	}
	return os.Rename(tmp, dir)
}
