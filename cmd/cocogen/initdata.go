package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/cocogen/cocogen/pkg/initdata"
)

func newInitDataCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "initdata",
		Short: "Compute digests of, decode and encode init-data documents",
		Long: `Init-data is the TOML document (aa.toml, cdh.toml, policy.rego) a
confidential pod receives in the io.katacontainers.config.hypervisor.cc_init_data
annotation as base64(gzip(TOML)). The TEE measures its digest; Trustee compares
it with a reference value. These commands work on the exact bytes.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newInitDataDigestCmd(), newInitDataDecodeCmd(), newInitDataEncodeCmd())
	return cmd
}

// digestReport is `initdata digest -o json`; the names match the test
// vectors in fixtures/initdata-vectors.
type digestReport struct {
	Algorithm  string `json:"algorithm"`
	Bytes      int    `json:"bytes"`
	Digest     string `json:"digest"`
	HostData   string `json:"snp_hostdata_32"`
	MRConfigID string `json:"tdx_mrconfigid_48"`
	PCR8       string `json:"azure_vtpm_pcr8_sha256"`
}

func newInitDataDigestCmd() *cobra.Command {
	var alg, output string
	cmd := &cobra.Command{
		Use:   "digest [FILE|-]",
		Short: "Print the digest of an init-data TOML document and its TEE forms",
		Long: `Print the digest of an init-data document (FILE, or stdin) with its own
algorithm or --algorithm, and the values a TEE reports for it: SNP HOSTDATA
(32 bytes), TDX MRCONFIGID (48 bytes) and the Azure vTPM PCR8.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return usageError{fmt.Errorf("-o: want text or json, got %q", output)}
			}
			data, err := readInput(cmd, args)
			if err != nil {
				return err
			}
			doc, err := initdata.Parse(data)
			if err != nil {
				return usageError{err}
			}
			if alg == "" {
				alg = doc.Algorithm
			}
			digest, err := initdata.Digest(alg, data)
			if err != nil {
				return usageError{err}
			}
			hd, mr := initdata.HostDataOf(digest), initdata.MRConfigIDOf(digest)
			rep := digestReport{
				Algorithm:  alg,
				Bytes:      len(data),
				Digest:     hex.EncodeToString(digest),
				HostData:   hex.EncodeToString(hd[:]),
				MRConfigID: hex.EncodeToString(mr[:]),
				PCR8:       hex.EncodeToString(initdata.PCR8(data)),
			}
			w := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			_, err = fmt.Fprintf(w, "algorithm:       %s\ndigest:          %s\nsnp_hostdata:    %s\ntdx_mrconfigid:  %s\nazure_pcr8:      %s\n",
				rep.Algorithm, rep.Digest, rep.HostData, rep.MRConfigID, rep.PCR8)
			return err
		},
	}
	cmd.Flags().StringVar(&alg, "algorithm", "", "digest algorithm: sha256, sha384 or sha512 (default: the document's)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func newInitDataDecodeCmd() *cobra.Command {
	var policy bool
	var object string
	cmd := &cobra.Command{
		Use:   "decode [FILE|-]",
		Short: "Print the TOML inside an init-data annotation, ConfigMap or manifest stream",
		Long: `Read an annotation value (base64 of gzip), or Kubernetes manifests
(a ConfigMap with an INITDATA key, pods or workloads with the init-data
annotation, a whole 'cocogen render' stream) from FILE or stdin, and print
the init-data TOML it holds. The document is checked (version, algorithm,
[data]) before it is printed.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readInput(cmd, args)
			if err != nil {
				return err
			}
			ann, err := findAnnotation(data, object)
			if err != nil {
				return usageError{err}
			}
			doc, err := initdata.Decode(ann)
			if err != nil {
				return usageError{err}
			}
			parsed, err := initdata.Parse(doc)
			if err != nil {
				return usageError{err}
			}
			w := cmd.OutOrStdout()
			if policy {
				rego, ok := parsed.Data[initdata.DataPolicy]
				if !ok {
					return usageError{errors.New("the init-data holds no policy.rego")}
				}
				_, err = io.WriteString(w, rego)
				return err
			}
			_, err = w.Write(doc)
			return err
		},
	}
	cmd.Flags().BoolVar(&policy, "policy", false, "print only policy.rego")
	cmd.Flags().StringVar(&object, "object", "", "when manifests hold several init-data values, the one of this object: KIND/NAME or KIND/NAMESPACE/NAME")
	return cmd
}

func newInitDataEncodeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "encode [FILE|-]",
		Short: "Print the annotation value, base64(gzip(TOML)), of an init-data document",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readInput(cmd, args)
			if err != nil {
				return err
			}
			if _, err := initdata.Parse(data); err != nil {
				return usageError{err}
			}
			ann, err := initdata.Encode(data)
			if err != nil {
				return err
			}
			if n := len(ann); n > initdata.MaxAnnotationSize {
				return usageError{fmt.Errorf("the annotation would be %d bytes, above the Kubernetes limit of %d", n, initdata.MaxAnnotationSize)}
			} else if n > initdata.WarnAnnotationSize {
				fmt.Fprintf(cmd.ErrOrStderr(), "cocogen: warning: the annotation is %d KiB\n", n>>10)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), ann)
			return err
		},
	}
	return cmd
}

// readInput reads the file named by args[0], or stdin when there is none
// or it is "-".
func readInput(cmd *cobra.Command, args []string) ([]byte, error) {
	if len(args) == 0 || args[0] == "-" {
		data, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), initdata.MaxDocumentSize+1))
		if err != nil {
			return nil, fmt.Errorf("reading stdin: %w", err)
		}
		if len(data) > initdata.MaxDocumentSize {
			return nil, usageError{fmt.Errorf("input larger than %d bytes", initdata.MaxDocumentSize)}
		}
		return data, nil
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		return nil, usageError{fmt.Errorf("reading %s: %w", args[0], errors.Unwrap(err))}
	}
	return data, nil
}

// bareValue is what an annotation value looks like on its own: base64 text,
// possibly wrapped.
var bareValue = regexp.MustCompile(`^[A-Za-z0-9+/=\s]+$`)

// isBareValue reports whether input is an annotation value rather than
// manifests: base64 text, or at least something with no ':' (every
// manifest has one), so a mistyped value gets a base64 error.
func isBareValue(text string) bool {
	return bareValue.MatchString(text) || !strings.Contains(text, ":")
}

// found is one init-data value in a manifest stream.
type found struct {
	kind, namespace, name string
	value                 string
}

func (f found) String() string {
	if f.namespace != "" {
		return f.kind + "/" + f.namespace + "/" + f.name
	}
	return f.kind + "/" + f.name
}

// findAnnotation returns the annotation value in data: data itself when it
// is a bare value, else the one init-data value of the manifests in it
// (or of the object selected by sel).
func findAnnotation(data []byte, sel string) (string, error) {
	text := strings.TrimSpace(string(data))
	if text == "" {
		return "", errors.New("empty input: want an annotation value, a ConfigMap or manifests")
	}
	if isBareValue(text) {
		return text, nil
	}
	all, err := scanManifests(data)
	if err != nil {
		return "", err
	}
	var hits []found
	for _, f := range all {
		if sel == "" || strings.EqualFold(sel, f.String()) || strings.EqualFold(sel, f.kind+"/"+f.name) {
			hits = append(hits, f)
		}
	}
	distinct := map[string][]string{}
	for _, f := range hits {
		distinct[f.value] = append(distinct[f.value], f.String())
	}
	switch {
	case len(hits) == 0 && sel != "":
		return "", fmt.Errorf("no object %s with init-data in the input", sel)
	case len(hits) == 0:
		return "", fmt.Errorf("no init-data in the input: looked for annotation %s or %s on pods and pod templates, and key INITDATA in ConfigMaps", initdata.AnnotationInitData, initdata.AnnotationInitDataLegacy)
	case len(distinct) > 1:
		var names []string
		for _, f := range hits {
			names = append(names, f.String())
		}
		sort.Strings(names)
		return "", fmt.Errorf("%d different init-data values in the input (%s); choose one with --object", len(distinct), strings.Join(names, ", "))
	}
	return hits[0].value, nil
}

// scanManifests finds every init-data value in a YAML or JSON stream.
func scanManifests(data []byte) ([]found, error) {
	rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []found
	for i := 1; ; i++ {
		doc, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading manifests: document %d: %w", i, err)
		}
		raw, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("input is neither an annotation value (base64) nor YAML: document %d: %w", i, err)
		}
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
				continue
			}
			return nil, fmt.Errorf("input is neither an annotation value (base64) nor Kubernetes manifests: document %d is not an object", i)
		}
		out = append(out, initDataOf(obj)...)
	}
}

func initDataOf(obj map[string]any) []found {
	if items, ok := obj["items"].([]any); ok {
		var out []found
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				out = append(out, initDataOf(m)...)
			}
		}
		return out
	}
	str := func(m map[string]any, path ...string) (string, bool) {
		var cur any = m
		for _, p := range path {
			mm, ok := cur.(map[string]any)
			if !ok {
				return "", false
			}
			cur = mm[p]
		}
		s, ok := cur.(string)
		return s, ok
	}
	apiVersion, _ := str(obj, "apiVersion")
	kind, _ := str(obj, "kind")
	name, _ := str(obj, "metadata", "name")
	ns, _ := str(obj, "metadata", "namespace")
	f := found{kind: kind, namespace: ns, name: name}
	if kind == "ConfigMap" {
		if v, ok := str(obj, "data", "INITDATA"); ok {
			f.value = v
			return []found{f}
		}
		return nil
	}
	tmplPath, ok := initdata.PodTemplatePath(apiVersion, kind)
	if !ok {
		return nil
	}
	for _, key := range []string{initdata.AnnotationInitData, initdata.AnnotationInitDataLegacy} {
		path := append(append(append([]string(nil), tmplPath...), "metadata", "annotations"), key)
		if v, ok := str(obj, path...); ok {
			f.value = v
			return []found{f}
		}
	}
	return nil
}
