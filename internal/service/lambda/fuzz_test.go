package lambda

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/overcast-dev/overcast/internal/service"
)

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"fn", "fn:1", "fn:$LATEST", "000000000000:function:fn", "arn:aws:lambda:us-east-1:000000000000:function:fn:alias",
		"arn:aws:lambda:eu-west-1:1:function:x", ":", "a:b:c:d:e", "arn:::::::::"} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, name, q string) {
		r := &service.Request{Account: "000000000000", Region: "us-east-1"}
		ref, err := parseRef(r, name, q)
		if err == nil && !nameRe.MatchString(ref.key.name) {
			t.Fatalf("accepted bad name %q from %q", ref.key.name, name)
		}
	})
}

func zipOf(t testing.TB, entries map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range entries {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	zw.Close()
	return buf.Bytes()
}

// FuzzUnzip checks that no archive writes outside its directory.
func FuzzUnzip(f *testing.F) {
	f.Add(zipOf(f, map[string]string{"bootstrap": "x", "lib/a.py": "y"}))
	f.Add(zipOf(f, map[string]string{"../escape": "x"}))
	f.Add(zipOf(f, map[string]string{"/abs": "x", "a/../../b": "y", "dir/": ""}))
	f.Add([]byte("not a zip"))
	f.Fuzz(func(t *testing.T, b []byte) {
		root := t.TempDir()
		dest := filepath.Join(root, "dest")
		os.MkdirAll(dest, 0o755)
		budget := int64(1 << 20)
		unzip(bytes.NewReader(b), int64(len(b)), dest, &budget)
		entries, _ := os.ReadDir(root)
		if len(entries) != 1 || entries[0].Name() != "dest" {
			t.Fatalf("archive wrote outside its directory: %v", entries)
		}
		filepath.Walk(dest, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.Mode()&os.ModeSymlink != 0 {
				target, _ := filepath.EvalSymlinks(p)
				if target != "" && !strings.HasPrefix(target, dest) {
					t.Fatalf("link %s escapes to %s", p, target)
				}
			}
			return nil
		})
	})
}

func TestUnzipRefusesTraversal(t *testing.T) {
	for _, name := range []string{"../escape", "a/../../b", "/abs", `..\win`} {
		b := zipOf(t, map[string]string{name: "x"})
		budget := int64(1 << 20)
		if err := unzip(bytes.NewReader(b), int64(len(b)), t.TempDir(), &budget); err == nil {
			t.Errorf("%q was unpacked", name)
		}
	}
	b := zipOf(t, map[string]string{"big": strings.Repeat("x", 2000)})
	budget := int64(1000)
	if err := unzip(bytes.NewReader(b), int64(len(b)), t.TempDir(), &budget); err == nil {
		t.Error("an archive over the size limit was unpacked")
	}
}

func FuzzMatchFilters(f *testing.F) {
	f.Add(`{"body":{"a":["x"]}}`, `{"a":"x"}`)
	f.Add(`{"body":{"n":[{"numeric":[">",1,"<=",5]}]}}`, `{"n":3}`)
	f.Add(`{"body":{"p":[{"prefix":"ab"}],"q":[{"exists":false}]}}`, `{"p":"abc"}`)
	f.Fuzz(func(t *testing.T, pattern, body string) {
		matchFilters([]string{pattern}, map[string]any{"body": body, "messageId": "1"})
	})
}
