// chart-render renders a Helm chart's templates without Helm: Go's
// text/template with the few Sprig/Helm functions charts/palisade uses
// (include, toYaml, toJson, nindent, indent, quote, required, fail, default,
// b64enc, list, dict, concat, prepend, int, genCA, genSignedCert), and YAML
// through sigs.k8s.io/yaml, as Helm does. Built in GOPATH mode from Debian's
// golang-go and golang-k8s-sigs-yaml-dev (no module downloads):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o chart-render main.go
//	chart-render [-o yaml|json] [-f override.yaml]... CHART_DIR
//
// json prints a JSON array of the rendered objects (each document converted
// as kubectl converts YAML); yaml prints the rendered stream.
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"
	"time"

	"sigs.k8s.io/yaml"
)

type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

func main() {
	out := flag.String("o", "yaml", "output: yaml or json")
	var overrides files
	flag.Var(&overrides, "f", "values file merged over values.yaml (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: chart-render [-o yaml|json] [-f values.yaml]... CHART_DIR")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), overrides, *out); err != nil {
		fmt.Fprintln(os.Stderr, "chart-render:", err)
		os.Exit(1)
	}
}

func readYAML(path string) (map[string]interface{}, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return m, nil
}

// merge deep-merges src over dst (maps merge, anything else replaces).
func merge(dst, src map[string]interface{}) {
	for k, v := range src {
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

func run(dir string, overrides []string, out string) error {
	values, err := readYAML(filepath.Join(dir, "values.yaml"))
	if err != nil {
		return err
	}
	for _, f := range overrides {
		o, err := readYAML(f)
		if err != nil {
			return err
		}
		merge(values, o)
	}
	chart, err := readYAML(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return err
	}
	ns, _ := values["namespace"].(string)
	data := map[string]interface{}{
		"Values":  values,
		"Release": map[string]interface{}{"Name": "palisade", "Namespace": ns, "Service": "Helm"},
		"Chart":   map[string]interface{}{"Name": chart["name"], "Version": chart["version"], "AppVersion": chart["appVersion"]},
	}
	paths, err := filepath.Glob(filepath.Join(dir, "templates", "*"))
	if err != nil {
		return err
	}
	sort.Strings(paths)
	root := template.New("chart").Option("missingkey=zero")
	root.Funcs(funcs(root))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if _, err := root.New(filepath.Base(p)).Parse(string(b)); err != nil {
			return err
		}
	}
	var docs []string
	for _, p := range paths {
		name := filepath.Base(p)
		if strings.HasPrefix(name, "_") {
			continue
		}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		for _, d := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(text, -1) {
			if !onlyComments(d) {
				// Leading blank lines go; the last line break stays (a
				// block scalar ending the document keeps its newline).
				docs = append(docs, strings.TrimRight(strings.TrimLeft(d, "\n"), " \n")+"\n")
			}
		}
	}
	if out == "yaml" {
		fmt.Print(strings.Join(docs, "---\n"))
		return nil
	}
	objs := []interface{}{}
	for i, d := range docs {
		j, err := yaml.YAMLToJSON([]byte(d))
		if err != nil {
			return fmt.Errorf("document %d: %v\n%s", i+1, err, d)
		}
		var v interface{}
		if err := json.Unmarshal(j, &v); err != nil {
			return err
		}
		objs = append(objs, v)
	}
	j, err := json.MarshalIndent(objs, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(j))
	return nil
}

func onlyComments(d string) bool {
	for _, l := range strings.Split(d, "\n") {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

type keyPair struct{ Cert, Key string }

func funcs(root *template.Template) template.FuncMap {
	return template.FuncMap{
		"include": func(name string, data interface{}) (string, error) {
			var buf bytes.Buffer
			err := root.ExecuteTemplate(&buf, name, data)
			return buf.String(), err
		},
		"toYaml": func(v interface{}) (string, error) {
			b, err := yaml.Marshal(v)
			return strings.TrimSuffix(string(b), "\n"), err
		},
		"toJson": func(v interface{}) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"indent":  indent,
		"nindent": func(n int, s string) string { return "\n" + indent(n, s) },
		"quote":   func(v interface{}) string { return fmt.Sprintf("%q", fmt.Sprint(v)) },
		"b64enc":  func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
		"required": func(msg string, v interface{}) (interface{}, error) {
			if v == nil || v == "" {
				return nil, errors.New(msg)
			}
			return v, nil
		},
		"fail": func(msg string) (string, error) { return "", errors.New(msg) },
		"default": func(d, v interface{}) interface{} {
			if v == nil || v == "" {
				return d
			}
			return v
		},
		"list": func(v ...interface{}) []interface{} { return v },
		"dict": func(kv ...interface{}) map[string]interface{} {
			m := map[string]interface{}{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
		"concat": func(ls ...interface{}) []interface{} {
			out := []interface{}{}
			for _, l := range ls {
				if l, ok := l.([]interface{}); ok {
					out = append(out, l...)
				}
			}
			return out
		},
		"prepend": func(l interface{}, v interface{}) []interface{} {
			out := []interface{}{v}
			if l, ok := l.([]interface{}); ok {
				out = append(out, l...)
			}
			return out
		},
		"int": func(v interface{}) int {
			switch n := v.(type) {
			case float64:
				return int(n)
			case int:
				return n
			}
			return 0
		},
		"genCA":         genCA,
		"genSignedCert": genSignedCert,
	}
}

func indent(n int, s string) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}

func newKey() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func encode(der []byte, key *ecdsa.PrivateKey) (keyPair, error) {
	k, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return keyPair{}, err
	}
	return keyPair{
		Cert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		Key:  string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: k})),
	}, nil
}

// genCA: a CA certificate (path length 0) valid for `days`, as Sprig's genCA.
func genCA(cn string, days int) (keyPair, error) {
	key, err := newKey()
	if err != nil {
		return keyPair{}, err
	}
	sn, err := serial()
	if err != nil {
		return keyPair{}, err
	}
	t := &x509.Certificate{
		SerialNumber: sn, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Duration(days) * 24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
		IsCA: true, MaxPathLenZero: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, t, t, &key.PublicKey, key)
	if err != nil {
		return keyPair{}, err
	}
	pair, err := encode(der, key)
	caKeys[pair.Cert] = key
	return pair, err
}

var caKeys = map[string]*ecdsa.PrivateKey{}

// genSignedCert: a serving certificate for `names` signed by `ca`, as Sprig's.
func genSignedCert(cn string, ips []interface{}, names []interface{}, days int, ca keyPair) (keyPair, error) {
	block, _ := pem.Decode([]byte(ca.Cert))
	if block == nil {
		return keyPair{}, errors.New("genSignedCert: CA certificate is not PEM")
	}
	caCert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return keyPair{}, err
	}
	caKey, ok := caKeys[ca.Cert]
	if !ok {
		return keyPair{}, errors.New("genSignedCert: CA not made by genCA")
	}
	key, err := newKey()
	if err != nil {
		return keyPair{}, err
	}
	sn, err := serial()
	if err != nil {
		return keyPair{}, err
	}
	var dns []string
	for _, n := range names {
		dns = append(dns, fmt.Sprint(n))
	}
	t := &x509.Certificate{
		SerialNumber: sn, Subject: pkix.Name{CommonName: cn}, DNSNames: dns,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Duration(days) * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, t, caCert, &key.PublicKey, caKey)
	if err != nil {
		return keyPair{}, err
	}
	return encode(der, key)
}
