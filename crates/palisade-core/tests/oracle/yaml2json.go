// yaml2json prints every document of each file named on the command line as
// the JSON kubectl sends: documents split as kubectl's YAML reader splits
// them (a line starting with "---" followed by blanks or a comment), each
// converted by sigs.k8s.io/yaml.YAMLToJSON (YAML 1.1 scalars, gopkg.in/yaml.v2).
// A file starting with '{' is a stream of JSON values, decoded as the API
// machinery decodes them (integers as int64, other numbers as float64).
//
// Output, per file: "FILE <path>", then per document "DOC <json>" or
// "ERR <message>". Build: GO111MODULE=off GOPATH=/usr/share/gocode go build.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

func main() {
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for _, path := range os.Args[1:] {
		fmt.Fprintf(out, "FILE %s\n", path)
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(out, "ERR %s\n", oneLine(err.Error()))
			continue
		}
		data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
		if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
			jsonDocs(out, data)
			continue
		}
		for _, doc := range split(data) {
			j, err := yaml.YAMLToJSON(doc)
			if err != nil {
				fmt.Fprintf(out, "ERR %s\n", oneLine(err.Error()))
				continue
			}
			fmt.Fprintf(out, "DOC %s\n", j)
		}
	}
}

// split cuts a YAML stream into documents as kubectl's YAMLReader does.
func split(data []byte) [][]byte {
	var docs [][]byte
	var buf bytes.Buffer
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("---")) {
			t := strings.TrimSpace(string(line[3:]))
			if t == "" || strings.HasPrefix(t, "#") {
				if buf.Len() != 0 {
					docs = append(docs, append([]byte(nil), buf.Bytes()...))
					buf.Reset()
				}
				continue
			}
		}
		buf.Write(line)
	}
	if buf.Len() != 0 {
		docs = append(docs, buf.Bytes())
	}
	return docs
}

func jsonDocs(out io.Writer, data []byte) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		var v interface{}
		if err := dec.Decode(&v); err == io.EOF {
			return
		} else if err != nil {
			fmt.Fprintf(out, "ERR %s\n", oneLine(err.Error()))
			return
		}
		j, err := json.Marshal(numbers(v))
		if err != nil {
			fmt.Fprintf(out, "ERR %s\n", oneLine(err.Error()))
			continue
		}
		fmt.Fprintf(out, "DOC %s\n", j)
	}
}

// numbers turns json.Number into int64 when it is one, else float64.
func numbers(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		for k, x := range t {
			t[k] = numbers(x)
		}
	case []interface{}:
		for i, x := range t {
			t[i] = numbers(x)
		}
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return i
		}
		f, _ := strconv.ParseFloat(string(t), 64)
		return f
	}
	return v
}

func oneLine(s string) string {
	return strings.ReplaceAll(s, "\n", " ")
}
