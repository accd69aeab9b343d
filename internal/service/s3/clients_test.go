package s3_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/overcast-dev/overcast/internal/awstest"
)

func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	began := time.Now()
	out, err := cmd.CombinedOutput()
	if testing.Verbose() {
		t.Logf("%v: %v", args, time.Since(began))
	}
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

func TestCLIs(t *testing.T) {
	srv := start(t, withDisk(t.TempDir()))
	for _, c := range awstest.CLIs(t) {
		t.Run(c.Name, func(t *testing.T) {
			env := awstest.ClientEnv(t, "test", "test")
			aws := func(args ...string) string {
				return run(t, env, c.Path, append([]string{"--endpoint-url", srv.URL}, args...)...)
			}
			bucket := "cli-" + strings.TrimPrefix(c.Name, "cli-")
			aws("s3", "mb", "s3://"+bucket)
			dir := t.TempDir()
			files := map[string][]byte{"a.txt": []byte("alpha"), "sub/b.txt": []byte("beta"), "sub/deep/c.bin": randomBytes(9 << 20), "space name.txt": []byte("s")}
			for name, data := range files {
				p := filepath.Join(dir, name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				os.WriteFile(p, data, 0o644)
			}
			aws("s3", "sync", dir, "s3://"+bucket+"/data")
			ls := aws("s3", "ls", "--recursive", "s3://"+bucket)
			for name := range files {
				if !strings.Contains(ls, "data/"+name) {
					t.Errorf("ls lacks %s:\n%s", name, ls)
				}
			}
			out := t.TempDir()
			aws("s3", "cp", "--recursive", "s3://"+bucket+"/data", out)
			for name, data := range files {
				got, err := os.ReadFile(filepath.Join(out, name))
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("%s: read back %d bytes, %v", name, len(got), err)
				}
			}
			// A second sync uploads nothing.
			if s := aws("s3", "sync", dir, "s3://"+bucket+"/data"); strings.Contains(s, "upload:") {
				t.Errorf("second sync uploaded: %s", s)
			}
			head := aws("s3api", "head-object", "--bucket", bucket, "--key", "data/a.txt")
			if !strings.Contains(head, `"ContentLength": 5`) {
				t.Errorf("head-object: %s", head)
			}
			aws("s3", "rm", "--recursive", "s3://"+bucket+"/data")
			// rb without --force fails unless rm left the bucket empty.
			aws("s3", "rb", "s3://"+bucket)
		})
	}
}

const boto3Script = `
import boto3, sys, io, json
from botocore.config import Config
url, bucket = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=url, config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
s3.create_bucket(Bucket=bucket)
s3.put_object(Bucket=bucket, Key="k/é 1", Body=b"hello", Metadata={"a": "b"}, ContentType="text/plain")
r = s3.get_object(Bucket=bucket, Key="k/é 1", ChecksumMode="ENABLED")
assert r["Body"].read() == b"hello" and r["Metadata"] == {"a": "b"}, r
r = s3.get_object(Bucket=bucket, Key="k/é 1", Range="bytes=1-2")
assert r["Body"].read() == b"el" and r["ResponseMetadata"]["HTTPStatusCode"] == 206
data = bytes(range(256)) * (40 * 1024)  # 10 MiB: upload_fileobj goes multipart
s3.upload_fileobj(io.BytesIO(data), bucket, "big")
buf = io.BytesIO()
s3.download_fileobj(bucket, "big", buf)
assert buf.getvalue() == data
l = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
assert [p["Prefix"] for p in l.get("CommonPrefixes", [])] == ["k/"], l
l = s3.list_objects(Bucket=bucket, EncodingType="url")
assert sorted(o["Key"] for o in l["Contents"]) == ["big", "k/%C3%A9+1"], l["Contents"]
try:
    s3.get_object(Bucket=bucket, Key="missing")
    raise SystemExit("no error")
except s3.exceptions.NoSuchKey:
    pass
url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "big"}, ExpiresIn=60)
import urllib.request
assert urllib.request.urlopen(url).read() == data
s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "big"}, {"Key": "k/é 1"}]})
s3.delete_bucket(Bucket=bucket)
print("ok", boto3.__version__)
`

func TestBoto3(t *testing.T) {
	for _, verify := range []bool{false, true} {
		var opts []option
		if verify {
			opts = append(opts, withVerify())
		}
		srv := start(t, append(opts, withDisk(t.TempDir()))...)
		for _, py := range awstest.Pythons(t) {
			name := py.Name
			if verify {
				name += "-verify"
			}
			t.Run(name, func(t *testing.T) {
				out := run(t, awstest.ClientEnv(t, "test", "test"), py.Path, "-c", boto3Script, srv.URL, "bt-"+strings.TrimPrefix(py.Name, "boto3-"))
				if !strings.HasPrefix(out, "ok") {
					t.Errorf("output: %s", out)
				}
			})
		}
	}
}
