// Command modelgen regenerates the committed AWS API models in
// internal/protocol/model/data and the AWS protocol test suites in
// internal/protocol/testdata/protocol_tests.
//
// Sources (Apache-2.0, see internal/protocol/model/NOTICE):
//   - botocore's data directory (the freshest models), found through python3;
//   - github.com/aws/aws-sdk-go v1.47.5 for the last query-protocol SQS model;
//   - github.com/aws/aws-sdk-go v1.55.8 for models/protocol_tests.
//
// Models are trimmed of documentation and examples and gzip-compressed with
// fixed settings, so a rerun over the same sources reproduces the same bytes.
//
// Usage: go run ./cmd/modelgen  (or: make models)
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// models maps a committed model name to its botocore service directory.
var models = map[string]string{
	"sts": "sts", "sqs": "sqs", "sns": "sns", "s3": "s3", "dynamodb": "dynamodb",
	"dynamodbstreams": "dynamodbstreams", "lambda": "lambda", "iam": "iam",
	"cloudwatch": "cloudwatch", "logs": "logs", "ec2": "ec2", "elbv2": "elbv2", "elb": "elb",
	"autoscaling": "autoscaling", "cloudfront": "cloudfront", "rds": "rds",
	"elasticache": "elasticache", "ecs": "ecs", "eks": "eks", "wafv2": "wafv2",
	"shield": "shield", "application-autoscaling": "application-autoscaling",
}

func main() {
	out := flag.String("out", "internal/protocol/model/data", "model output directory")
	tests := flag.String("tests", "internal/protocol/testdata/protocol_tests", "protocol test output directory")
	botocore := flag.String("botocore", "", "botocore data directory (default: found with python3)")
	flag.Parse()
	if *botocore == "" {
		b, err := exec.Command("python3", "-c", "import botocore,os;print(os.path.join(os.path.dirname(botocore.__file__),'data'))").Output()
		if err != nil {
			log.Fatalf("find botocore: %v", err)
		}
		*botocore = strings.TrimSpace(string(b))
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for name, dir := range models {
		src, err := latest(filepath.Join(*botocore, dir))
		if err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		if err := convert(src, filepath.Join(*out, name+".json.gz")); err != nil {
			log.Fatalf("%s: %v", name, err)
		}
	}
	v147 := modDir("github.com/aws/aws-sdk-go@v1.47.5")
	if err := convert(filepath.Join(v147, "models/apis/sqs/2012-11-05/api-2.json"), filepath.Join(*out, "sqs-query.json.gz")); err != nil {
		log.Fatalf("sqs-query: %v", err)
	}
	if err := writeIndex(*out); err != nil {
		log.Fatalf("index: %v", err)
	}
	v155 := modDir("github.com/aws/aws-sdk-go@v1.55.8")
	for _, kind := range []string{"input", "output"} {
		d := filepath.Join(*tests, kind)
		if err := os.MkdirAll(d, 0o755); err != nil {
			log.Fatal(err)
		}
		for _, p := range []string{"ec2", "json", "query", "rest-json", "rest-xml"} {
			b, err := os.ReadFile(filepath.Join(v155, "models/protocol_tests", kind, p+".json"))
			if err != nil {
				log.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(d, p+".json"), b, 0o644); err != nil {
				log.Fatal(err)
			}
		}
	}
}

func modDir(mod string) string {
	b, err := exec.Command("go", "mod", "download", "-json", mod).Output()
	if err != nil {
		log.Fatalf("download %s: %v", mod, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(b, &m); err != nil {
		log.Fatal(err)
	}
	return m.Dir
}

// latest returns the service-2.json(.gz) of the newest API version in dir.
func latest(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var vers []string
	for _, e := range ents {
		if e.IsDir() {
			vers = append(vers, e.Name())
		}
	}
	sort.Strings(vers)
	for i := len(vers) - 1; i >= 0; i-- {
		for _, f := range []string{"service-2.json.gz", "service-2.json"} {
			p := filepath.Join(dir, vers[i], f)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("no model under %s", dir)
}

func convert(src, dst string) error {
	ordered, err := reorder(src)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(ordered); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(dst, buf.Bytes(), 0o644)
}

var dropKeys = []string{"documentation", "documentationUrl", "examples", "deprecatedMessage", "deprecatedSince", "contextParam", "staticContextParams", "clientContextParams", "operationContextParams"}

// reorder re-reads src as a token stream and writes it back without the
// dropped keys, preserving key order (member order matters on the XML wire).
func reorder(src string) ([]byte, error) {
	f, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(src, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, err
		}
		zr.Multistream(false)
		r = zr
	}
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var out bytes.Buffer
	if err := copyValue(dec, &out); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func copyValue(dec *json.Decoder, out *bytes.Buffer) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	switch d := t.(type) {
	case json.Delim:
		switch d {
		case '{':
			out.WriteByte('{')
			first := true
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k := kt.(string)
				if drop(k) {
					var skip json.RawMessage
					if err := dec.Decode(&skip); err != nil {
						return err
					}
					continue
				}
				if !first {
					out.WriteByte(',')
				}
				first = false
				kb, _ := json.Marshal(k)
				out.Write(kb)
				out.WriteByte(':')
				if err := copyValue(dec, out); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			out.WriteByte('}')
		case '[':
			out.WriteByte('[')
			first := true
			for dec.More() {
				if !first {
					out.WriteByte(',')
				}
				first = false
				if err := copyValue(dec, out); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			out.WriteByte(']')
		}
	default:
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		out.Write(b)
	}
	return nil
}

func drop(k string) bool {
	for _, d := range dropKeys {
		if k == d {
			return true
		}
	}
	return false
}

// writeIndex writes index.json: the routing metadata of every model, small
// enough to read at start-up without parsing the models themselves.
func writeIndex(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	type entry struct {
		Name           string   `json:"name"`
		SigningName    string   `json:"signingName"`
		EndpointPrefix string   `json:"endpointPrefix"`
		TargetPrefix   string   `json:"targetPrefix,omitempty"`
		APIVersion     string   `json:"apiVersion"`
		Protocols      []string `json:"protocols"`
		ServiceID      string   `json:"serviceId"`
	}
	var idx []entry
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json.gz")
		if !ok {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return err
		}
		var m struct {
			Metadata struct {
				APIVersion     string   `json:"apiVersion"`
				EndpointPrefix string   `json:"endpointPrefix"`
				SigningName    string   `json:"signingName"`
				TargetPrefix   string   `json:"targetPrefix"`
				Protocol       string   `json:"protocol"`
				Protocols      []string `json:"protocols"`
				ServiceID      string   `json:"serviceId"`
			} `json:"metadata"`
		}
		err = json.NewDecoder(zr).Decode(&m)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		md := m.Metadata
		en := entry{Name: name, SigningName: md.SigningName, EndpointPrefix: md.EndpointPrefix, TargetPrefix: md.TargetPrefix, APIVersion: md.APIVersion, Protocols: md.Protocols, ServiceID: md.ServiceID}
		if en.SigningName == "" {
			en.SigningName = md.EndpointPrefix
		}
		if len(en.Protocols) == 0 {
			en.Protocols = []string{md.Protocol}
		}
		idx = append(idx, en)
	}
	sort.Slice(idx, func(i, j int) bool { return idx[i].Name < idx[j].Name })
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "index.json"), append(b, '\n'), 0o644)
}
