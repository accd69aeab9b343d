package s3

import (
	"testing"
	"time"
)

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-1", "bytes=-5", "bytes=3-", "bytes=1-0", "bytes=a-b", "bytes=0-1,2-3", "items=0-1", "bytes=99999999999999999999-"} {
		f.Add(s, int64(10))
	}
	f.Fuzz(func(t *testing.T, spec string, size int64) {
		if size < 0 {
			size = -size
		}
		start, n, ok, err := parseRange(spec, size)
		if ok && (start < 0 || n <= 0 || start+n > size) {
			t.Fatalf("%q over %d: start %d n %d", spec, size, start, n)
		}
		if ok && err != nil {
			t.Fatal("ok with error")
		}
	})
}

func FuzzParseCopySource(f *testing.F) {
	for _, s := range []string{"b/k", "/b/k?versionId=1", "b%2Fk", "b", "/", "%zz", "b/k?versionId=%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, k, _, err := parseCopySource(s)
		if err == nil && (b == "" || k == "") {
			t.Fatalf("%q: empty bucket or key", s)
		}
	})
}

func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"b.s3.localhost.localstack.cloud:4566", "s3.localhost", "b.s3-website.us-east-1.amazonaws.com", "[::1]:80", "x.s3-accelerate.amazonaws.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, kind := parseHost(s)
		if kind != hostPath && b == "" {
			t.Fatalf("%q: kind %d without bucket", s, kind)
		}
	})
}

func FuzzParseTagging(f *testing.F) {
	for _, s := range []string{"a=b&c=d", "a=b&a=c", "=x", "%zz", "k="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tags, err := parseTagging(s)
		if err == nil && len(tags) > 10 {
			t.Fatalf("%q: %d tags accepted", s, len(tags))
		}
	})
}

func FuzzPolicy(f *testing.F) {
	f.Add(`eyJleHBpcmF0aW9uIjoiMjAzMC0wMS0wMVQwMDowMDowMFoiLCJjb25kaXRpb25zIjpbWyJjb250ZW50LWxlbmd0aC1yYW5nZSIsMSwxMF1dfQ==`, "k")
	f.Add("bm90IGpzb24=", "k")
	f.Fuzz(func(t *testing.T, policy, key string) {
		checkPolicy(policy, map[string]string{"key": key}, []string{"key"}, time.Now())
	})
}

func FuzzDecodeValue(f *testing.F) {
	f.Add(`{"$t":"2020-01-01T00:00:00Z"}`)
	f.Add(`{"$i":"12"}`)
	f.Add(`[{"$b":"AAE="},{"a":{"$i":"x"}}]`)
	f.Fuzz(func(t *testing.T, s string) {
		var v any
		if decodeRec([]byte(s), &v) == nil {
			decodeValue(v)
		}
	})
}

func FuzzDecodeObject(f *testing.F) {
	o := &objectRecord{Key: "k", VersionID: "v", Data: []byte("hi"), Size: 2, Modified: time.Unix(5, 0).UTC(),
		Meta: map[string]string{"a": "b"}, Parts: []partInfo{{Size: 1, ETag: "e"}}, Tags: []tag{{"x", "y"}}}
	f.Add(encodeObject(o))
	f.Add([]byte("{}"))
	f.Add([]byte{1, 200})
	f.Fuzz(func(t *testing.T, b []byte) {
		var o objectRecord
		if decodeObject(b, &o) == nil && b[0] == objectFormat {
			var again objectRecord
			if err := decodeObject(encodeObject(&o), &again); err != nil {
				t.Fatalf("re-encoded record does not decode: %v", err)
			}
		}
	})
}
