package rest

import (
	"reflect"
	"testing"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/model"
)

// FuzzQueryBinding checks the one-pass query decoder against the reference
// built on url.ParseQuery: both fail or both give the same members.
func FuzzQueryBinding(f *testing.F) {
	api := model.MustLoad("s3")
	c := NewXML()
	ops := []*model.Operation{api.Operations["ListObjectsV2"], api.Operations["ListObjectVersions"], api.Operations["UploadPart"], api.Operations["GetObject"]}
	f.Add(uint8(0), "list-type=2&prefix=a%2Fb&max-keys=10&continuation-token=x+y")
	f.Add(uint8(0), "prefix=a&prefix=b&max-keys=x")
	f.Add(uint8(1), "versions&key-marker=%zz")
	f.Add(uint8(2), "partNumber=3&uploadId=u;v")
	f.Add(uint8(3), "response-expires=Wed,%2021%20Oct%202015%2007:28:00%20GMT&versionId=v&&partNumber=1")
	f.Fuzz(func(t *testing.T, which uint8, raw string) {
		op := ops[int(which)%len(ops)]
		sh := op.Input.Shape
		fast, ref := map[string]any{}, map[string]any{}
		ferr := c.decodeQuery(raw, sh, c.binding(api, op), fast)
		rerr := c.decodeQueryValues(raw, sh, ref)
		if (ferr == nil) != (rerr == nil) {
			t.Fatalf("%q: one-pass error %v, reference error %v", raw, ferr, rerr)
		}
		if ferr == nil && !reflect.DeepEqual(fast, ref) {
			t.Fatalf("%q: one-pass %v, reference %v", raw, fast, ref)
		}
	})
}

func TestHeaderBinding(t *testing.T) {
	api := model.MustLoad("s3")
	c := NewXML()
	op := api.Operations["PutObject"]
	r := request("PUT", "/b/k", "x")
	r.Header.Set("Content-Md5", "abc=")
	r.Header.Set("X-Amz-Meta-Color", "blue")
	r.Header.Add("X-Amz-Meta-Color", "green")
	r.Header.Set("X-Amz-Object-Lock-Retain-Until-Date", "2030-01-02T03:04:05Z")
	r.Header.Set("X-Amz-Storage-Class", " STANDARD_IA ")
	r.Header.Set("X-Unrelated", "y")
	in, err := c.DecodeRequest(r, api, op)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Bucket": "b", "Key": "k", "ContentMD5": "abc=", "StorageClass": "STANDARD_IA",
		"Metadata":                  map[string]any{"color": "blue,green"},
		"ObjectLockRetainUntilDate": time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	delete(in, "Body")
	if !reflect.DeepEqual(in, want) {
		t.Errorf("decoded %v\nwant    %v", in, want)
	}
	r.Header.Set("Content-Length", "x")
	r.Header.Set("X-Amz-Object-Lock-Retain-Until-Date", "soon")
	if _, err := c.DecodeRequest(r, api, op); err == nil {
		t.Error("bad timestamp header decoded")
	}
}
