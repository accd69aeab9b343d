package rest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol"
	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/protocol/model"
	"github.com/overcast-dev/overcast/internal/protocol/xmlenc"
)

func request(method, target string, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if body == "" {
		r.Body = http.NoBody
		r.ContentLength = 0
	}
	return r
}

func TestS3Routing(t *testing.T) {
	api := model.MustLoad("s3")
	c := NewXML()
	for _, tc := range []struct{ method, target, op string }{
		{"GET", "/", "ListBuckets"},
		{"GET", "/bucket", "ListObjects"},
		{"GET", "/bucket/", "ListObjects"},
		{"GET", "/bucket?list-type=2", "ListObjectsV2"},
		{"GET", "/bucket?list-type=2&prefix=a", "ListObjectsV2"},
		{"GET", "/bucket?uploads", "ListMultipartUploads"},
		{"GET", "/bucket?acl", "GetBucketAcl"},
		{"GET", "/bucket?versioning", "GetBucketVersioning"},
		{"PUT", "/bucket", "CreateBucket"},
		{"PUT", "/bucket?tagging", "PutBucketTagging"},
		{"HEAD", "/bucket", "HeadBucket"},
		{"DELETE", "/bucket", "DeleteBucket"},
		{"PUT", "/bucket/a%2Fb//c", "PutObject"},
		{"GET", "/bucket/key?x-id=GetObject", "GetObject"},
		{"GET", "/bucket/key", "GetObject"},
		{"HEAD", "/bucket/key", "HeadObject"},
		{"POST", "/bucket/key?uploads", "CreateMultipartUpload"},
		{"PUT", "/bucket/key?partNumber=1&uploadId=u", "UploadPart"},
		{"POST", "/bucket/key?uploadId=u", "CompleteMultipartUpload"},
		{"POST", "/bucket?delete", "DeleteObjects"},
		{"GET", "/bucket/key?tagging", "GetObjectTagging"},
	} {
		op, err := c.Operation(request(tc.method, tc.target, ""), api)
		if err != nil {
			t.Errorf("%s %s: %v", tc.method, tc.target, err)
			continue
		}
		if op.Name != tc.op {
			t.Errorf("%s %s = %s, want %s", tc.method, tc.target, op.Name, tc.op)
		}
	}
	_, err := c.Operation(request("PATCH", "/bucket", ""), api)
	if e, ok := err.(*awserr.Error); !ok || e.Code != "MethodNotAllowed" || e.Status != 405 {
		t.Errorf("PATCH /bucket: %v", err)
	}
}

func TestS3PutObjectKeyAndBody(t *testing.T) {
	api := model.MustLoad("s3")
	c := NewXML()
	r := request("PUT", "/bucket/a%2Fb//../c", "hello")
	r.Header.Set("Content-Type", "text/plain")
	r.Header.Set("X-Amz-Meta-Color", "blue")
	r.Header.Set("Content-Length", "5")
	op, err := c.Operation(r, api)
	if err != nil || op.Name != "PutObject" {
		t.Fatalf("Operation = %v, %v", op, err)
	}
	in, err := c.DecodeRequest(r, api, op)
	if err != nil {
		t.Fatal(err)
	}
	if in["Bucket"] != "bucket" || in["Key"] != "a/b//../c" {
		t.Errorf("Bucket, Key = %q, %q", in["Bucket"], in["Key"])
	}
	if m, _ := in["Metadata"].(map[string]any); m["color"] != "blue" {
		t.Errorf("Metadata = %v", in["Metadata"])
	}
	if in["ContentType"] != "text/plain" || in["ContentLength"] != int64(5) {
		t.Errorf("ContentType, ContentLength = %v, %v", in["ContentType"], in["ContentLength"])
	}
	body, ok := in["Body"].(io.Reader)
	if !ok {
		t.Fatalf("Body = %T", in["Body"])
	}
	if b, _ := io.ReadAll(body); string(b) != "hello" {
		t.Errorf("Body = %q", b)
	}
}

func TestS3ListObjectsV2Response(t *testing.T) {
	api := model.MustLoad("s3")
	c := NewXML()
	r := request("GET", "/bucket?list-type=2&max-keys=10&prefix=p%2F", "")
	op, err := c.Operation(r, api)
	if err != nil {
		t.Fatal(err)
	}
	in, err := c.DecodeRequest(r, api, op)
	if err != nil {
		t.Fatal(err)
	}
	if in["MaxKeys"] != int64(10) || in["Prefix"] != "p/" {
		t.Errorf("input = %v", in)
	}
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	out := map[string]any{
		"Name": "bucket", "IsTruncated": false, "KeyCount": int64(1),
		"Contents": []any{map[string]any{"Key": "p/a", "Size": int64(3), "LastModified": when, "ETag": `"x"`}},
	}
	w := httptest.NewRecorder()
	if err := c.WriteResponse(w, r, api, op, out, "rid"); err != nil {
		t.Fatal(err)
	}
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/xml" || w.Header().Get("X-Amz-Request-Id") != "rid" {
		t.Errorf("status %d headers %v", w.Code, w.Header())
	}
	n, err := xmlenc.Parse(w.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != "ListBucketResult" || n.Space != s3Namespace {
		t.Errorf("root = %s in %q", n.Name, n.Space)
	}
	cont := n.Child("Contents")
	if cont == nil || cont.Child("Key").Text != "p/a" || cont.Child("LastModified").Text != "2024-01-02T03:04:05.000Z" {
		t.Errorf("body = %s", w.Body)
	}
}

func TestS3GetObjectStream(t *testing.T) {
	api := model.MustLoad("s3")
	c := NewXML()
	op := api.Operations["GetObject"]
	r := request("GET", "/b/k", "")
	w := httptest.NewRecorder()
	closed := false
	body := &closer{Reader: strings.NewReader("data"), closed: &closed}
	out := map[string]any{"Body": &protocol.Stream{Body: body, Length: 4}, "ContentType": "text/plain", "Metadata": map[string]any{"a": "b"},
		"LastModified": time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := c.WriteResponse(w, r, api, op, out, "rid"); err != nil {
		t.Fatal(err)
	}
	if w.Body.String() != "data" || w.Header().Get("Content-Length") != "4" || w.Header()["x-amz-meta-a"][0] != "b" ||
		w.Header().Get("Last-Modified") != "Tue, 02 Jan 2024 03:04:05 GMT" || !closed {
		t.Errorf("body %q headers %v closed %v", w.Body, w.Header(), closed)
	}
}

type closer struct {
	io.Reader
	closed *bool
}

func (c *closer) Close() error { *c.closed = true; return nil }

func TestS3Errors(t *testing.T) {
	api := model.MustLoad("s3")
	c := NewXML()
	e := &awserr.Error{Code: "NoSuchBucket", Message: "The specified bucket does not exist", Status: 404, Fields: map[string]any{"BucketName": "b"}}
	w := httptest.NewRecorder()
	c.WriteError(w, request("GET", "/b", ""), api, e, "rid")
	n, err := xmlenc.Parse(w.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if w.Code != 404 || n.Name != "Error" || n.Child("Code").Text != "NoSuchBucket" || n.Child("BucketName").Text != "b" || n.Child("RequestId").Text != "rid" {
		t.Errorf("%d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	c.WriteError(w, request("HEAD", "/b", ""), api, e, "rid")
	if w.Code != 404 || w.Body.Len() != 0 {
		t.Errorf("HEAD error: %d %q", w.Code, w.Body)
	}
	// Malformed XML bodies are MalformedXML.
	r := request("PUT", "/b?tagging", "<Tagging><TagSet>")
	op, _ := c.Operation(r, api)
	_, err = c.DecodeRequest(r, api, op)
	if e, ok := err.(*awserr.Error); !ok || e.Code != "MalformedXML" || e.HTTPStatus() != 400 {
		t.Errorf("malformed: %v", err)
	}
}

func TestCloudFrontError(t *testing.T) {
	api := model.MustLoad("cloudfront")
	w := httptest.NewRecorder()
	NewXML().WriteError(w, request("GET", "/2020-05-31/distribution/x", ""), api, awserr.WithStatus(404, "NoSuchDistribution", "gone"), "rid")
	n, err := xmlenc.Parse(w.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != "ErrorResponse" || n.Child("Error").Child("Type").Text != "Sender" || n.Child("Error").Child("Code").Text != "NoSuchDistribution" || n.Child("RequestId").Text != "rid" {
		t.Errorf("%s", w.Body)
	}
}

func TestLambda(t *testing.T) {
	api := model.MustLoad("lambda")
	c := NewJSON()
	r := request("POST", "/2015-03-31/functions/f/invocations", `{"k":1}`)
	r.Header.Set("X-Amz-Invocation-Type", "Event")
	op, err := c.Operation(r, api)
	if err != nil || op.Name != "Invoke" {
		t.Fatalf("Operation = %v, %v", op, err)
	}
	in, err := c.DecodeRequest(r, api, op)
	if err != nil {
		t.Fatal(err)
	}
	if in["FunctionName"] != "f" || in["InvocationType"] != "Event" || !bytes.Equal(payload(in["Payload"]), []byte(`{"k":1}`)) {
		t.Errorf("input = %v", in)
	}
	r = request("GET", "/2015-03-31/functions/f", "")
	if op, err := c.Operation(r, api); err != nil || op.Name != "GetFunction" {
		t.Errorf("GetFunction: %v %v", op, err)
	}
	_, err = c.Operation(request("GET", "/nope", ""), api)
	if e, ok := err.(*awserr.Error); !ok || e.Code != awserr.CodeUnknownOperation || e.Status != 404 {
		t.Errorf("unknown: %v", err)
	}
	w := httptest.NewRecorder()
	c.WriteError(w, r, api, awserr.WithStatus(404, "ResourceNotFoundException", "Function not found: f"), "rid")
	if w.Code != 404 || w.Header().Get("X-Amzn-ErrorType") != "ResourceNotFoundException" || w.Header().Get("X-Amzn-RequestId") != "rid" ||
		!strings.Contains(w.Body.String(), `"Message":"Function not found: f"`) {
		t.Errorf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	r = request("POST", "/2015-03-31/functions/f/invocations", `{`)
	in, err = c.DecodeRequest(r, api, op)
	if err != nil {
		t.Fatalf("raw payload must not be parsed: %v", err)
	}
	r = request("POST", "/2015-03-31/functions", `{"FunctionName": 3}`)
	op, _ = c.Operation(r, api)
	if _, err := c.DecodeRequest(r, api, op); err == nil || err.(*awserr.Error).Code != awserr.CodeSerialization {
		t.Errorf("bad type: %v", err)
	}
}

func payload(v any) []byte {
	switch x := v.(type) {
	case []byte:
		return x
	case io.Reader:
		b, _ := io.ReadAll(x)
		return b
	}
	return nil
}

func FuzzDecodeS3(f *testing.F) {
	api := model.MustLoad("s3")
	c := NewXML()
	f.Add("PUT", "/b?tagging", "", "<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>")
	f.Add("POST", "/b?delete", "", "<Delete><Object><Key>k</Key></Object><Quiet>true</Quiet></Delete>")
	f.Add("GET", "/b?list-type=2&max-keys=x", "", "")
	f.Add("PUT", "/b/k%zz", "x-amz-meta-a", "body")
	f.Fuzz(func(t *testing.T, method, target, header, body string) {
		r, err := http.NewRequest(method, "http://h"+target, strings.NewReader(body))
		if err != nil || !strings.HasPrefix(target, "/") {
			return
		}
		if header != "" {
			r.Header["If-Modified-Since"] = []string{header}
			r.Header["X-Amz-Meta-"+header] = []string{header}
		}
		op, err := c.Operation(r, api)
		if err != nil {
			return
		}
		if _, err := c.DecodeRequest(r, api, op); err != nil {
			if _, ok := err.(*awserr.Error); !ok {
				t.Fatalf("non-awserr error %T %v", err, err)
			}
		}
	})
}

func FuzzDecodeJSON(f *testing.F) {
	api := model.MustLoad("lambda")
	c := NewJSON()
	f.Add("POST", "/2015-03-31/functions", `{"FunctionName":"f","Code":{"ZipFile":"AA=="},"Timeout":3}`)
	f.Add("PUT", "/2015-03-31/functions/f/configuration", `{"Environment":{"Variables":{"a":"b"}}}`)
	f.Add("GET", "/2015-03-31/functions/?MaxItems=x", ``)
	f.Fuzz(func(t *testing.T, method, target, body string) {
		r, err := http.NewRequest(method, "http://h"+target, strings.NewReader(body))
		if err != nil || !strings.HasPrefix(target, "/") {
			return
		}
		op, err := c.Operation(r, api)
		if err != nil {
			return
		}
		if _, err := c.DecodeRequest(r, api, op); err != nil {
			if _, ok := err.(*awserr.Error); !ok {
				t.Fatalf("non-awserr error %T %v", err, err)
			}
		}
	})
}
