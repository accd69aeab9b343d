package s3_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

func hmacHex(key []byte, s string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(s))
	return h.Sum(nil)
}

// postForm builds a signed browser POST upload.
// now is the signing time; it must be the x-amz-date the policy names.
func postForm(t *testing.T, url, policy string, fields [][2]string, file []byte, secret string, now time.Time) *http.Request {
	t.Helper()
	date := now.Format("20060102")
	cred := "test/" + date + "/us-east-1/s3/aws4_request"
	p64 := base64.StdEncoding.EncodeToString([]byte(policy))
	key := hmacHex([]byte("AWS4"+secret), date)
	key = hmacHex(key, "us-east-1")
	key = hmacHex(key, "s3")
	key = hmacHex(key, "aws4_request")
	sig := hex.EncodeToString(hmacHex(key, p64))
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	all := append([][2]string{{"policy", p64}, {"x-amz-algorithm", "AWS4-HMAC-SHA256"}, {"x-amz-credential", cred},
		{"x-amz-date", now.Format("20060102T150405Z")}, {"x-amz-signature", sig}}, fields...)
	for _, f := range all {
		mw.WriteField(f[0], f[1])
	}
	fw, _ := mw.CreateFormFile("file", "photo.jpg")
	fw.Write(file)
	mw.Close()
	req, _ := http.NewRequest("POST", url, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return req
}

func TestPostUpload(t *testing.T) {
	srv := start(t, withVerify())
	c := srv.client()
	mustBucket(t, c, "bkt")
	signed := time.Now().UTC()
	exp := signed.Add(time.Hour).Format("2006-01-02T15:04:05.000Z")
	policy := fmt.Sprintf(`{"expiration":%q,"conditions":[{"bucket":"bkt"},["starts-with","$key","uploads/"],{"success_action_status":"201"},["starts-with","$Content-Type","image/"],["content-length-range",1,100],{"x-amz-algorithm":"AWS4-HMAC-SHA256"},{"x-amz-credential":"%s"},{"x-amz-date":"%s"}]}`,
		exp, "test/"+signed.Format("20060102")+"/us-east-1/s3/aws4_request", signed.Format("20060102T150405Z"))
	fields := [][2]string{{"key", "uploads/${filename}"}, {"success_action_status", "201"}, {"Content-Type", "image/jpeg"}}
	hc := srv.httpClient()
	do := func(req *http.Request) (int, string) {
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := do(postForm(t, srv.URL+"/bkt", policy, fields, []byte("jpeg bytes"), "test", signed))
	if code != 201 || !strings.Contains(body, "<Key>uploads/photo.jpg</Key>") {
		t.Fatalf("post: %d %s", code, body)
	}
	if got := get(t, c, "bkt", "uploads/photo.jpg"); got != "jpeg bytes" {
		t.Errorf("stored %q", got)
	}
	// Virtual-hosted POST.
	code, _ = do(postForm(t, "http://bkt.s3.localhost:"+srv.port()+"/", policy, fields, []byte("again"), "test", signed))
	if code != 201 {
		t.Errorf("virtual-hosted post: %d", code)
	}
	if code, body = do(postForm(t, srv.URL+"/bkt", policy, fields, []byte("x"), "wrong", signed)); code != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Errorf("wrong secret: %d %s", code, body)
	}
	if code, body = do(postForm(t, srv.URL+"/bkt", policy, fields, bytes.Repeat([]byte("x"), 101), "test", signed)); code != 400 || !strings.Contains(body, "EntityTooLarge") {
		t.Errorf("too large: %d %s", code, body)
	}
	bad := [][2]string{{"key", "other/x"}, {"success_action_status", "201"}, {"Content-Type", "image/jpeg"}}
	if code, body = do(postForm(t, srv.URL+"/bkt", policy, bad, []byte("x"), "test", signed)); code != 403 || !strings.Contains(body, "Policy Condition failed") {
		t.Errorf("key outside policy: %d %s", code, body)
	}
	expired := strings.Replace(policy, exp, time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"), 1)
	if code, body = do(postForm(t, srv.URL+"/bkt", expired, fields, []byte("x"), "test", signed)); code != 403 || !strings.Contains(body, "Policy expired") {
		t.Errorf("expired: %d %s", code, body)
	}
	extra := append(fields, [2]string{"x-amz-meta-sneaky", "1"})
	if code, body = do(postForm(t, srv.URL+"/bkt", policy, extra, []byte("x"), "test", signed)); code != 403 || !strings.Contains(body, "Extra input fields") {
		t.Errorf("extra field: %d %s", code, body)
	}
}
