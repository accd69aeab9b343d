package server_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/overcast-dev/overcast/internal/awstest"
)

// sign signs r for service as the SDKs do, with the test credentials.
func sign(t *testing.T, r *http.Request, service string, body []byte) {
	t.Helper()
	sum := fmt.Sprintf("%x", sha256sum(body))
	err := v4.NewSigner().SignHTTP(r.Context(), aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, r, sum, service, "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
}

type malformedCase struct {
	name        string
	service     string
	path        string
	contentType string
	headers     map[string]string
	body        []byte
	wantStatus  int
	wantInBody  string
}

// Malformed requests get an AWS-shaped 4xx in the addressed service's
// protocol, never a 5xx, a panic or a hang.
func TestMalformedRequests(t *testing.T) {
	srv := awstest.Start(t)
	cases := []malformedCase{
		{name: "truncated json", service: "sqs", contentType: "application/x-amz-json-1.0",
			headers: map[string]string{"X-Amz-Target": "AmazonSQS.ListQueues"}, body: []byte(`{"QueueNamePrefix": "ab`),
			wantStatus: 400, wantInBody: `"__type":"SerializationException"`},
		{name: "json array body", service: "dynamodb", contentType: "application/x-amz-json-1.0",
			headers: map[string]string{"X-Amz-Target": "DynamoDB_20120810.ListTables"}, body: []byte(`[1,2]`),
			wantStatus: 400, wantInBody: `SerializationException`},
		{name: "json wrong member type", service: "sqs", contentType: "application/x-amz-json-1.0",
			headers: map[string]string{"X-Amz-Target": "AmazonSQS.ListQueues"}, body: []byte(`{"MaxResults": "ten"}`),
			wantStatus: 400, wantInBody: `SerializationException`},
		{name: "unknown json target", service: "sqs", contentType: "application/x-amz-json-1.0",
			headers: map[string]string{"X-Amz-Target": "AmazonSQS.NoSuchThing"}, body: []byte(`{}`),
			wantStatus: 400, wantInBody: `UnknownOperationException`},
		{name: "truncated cbor", service: "monitoring", path: "/service/GraniteServiceVersion20100801/operation/ListMetrics",
			contentType: "application/cbor", headers: map[string]string{"Smithy-Protocol": "rpc-v2-cbor"}, body: []byte{0xbf, 0x69, 'N', 'a'},
			wantStatus: 400, wantInBody: "SerializationException"},
		{name: "unknown action", service: "sts", contentType: "application/x-www-form-urlencoded",
			body: []byte("Action=Frobnicate&Version=2011-06-15"), wantStatus: 400, wantInBody: "<Code>InvalidAction</Code>"},
		{name: "bad query integer", service: "sts", contentType: "application/x-www-form-urlencoded",
			body: []byte("Action=GetSessionToken&Version=2011-06-15&DurationSeconds=abc"), wantStatus: 400, wantInBody: "<Code>ValidationError</Code>"},
		{name: "bad form encoding", service: "sts", contentType: "application/x-www-form-urlencoded",
			body: []byte("Action=GetCallerIdentity&Version=2011-06-15&x=%zz"), wantStatus: 400, wantInBody: "<Code>MalformedQueryString</Code>"},
		{name: "wrong content type", service: "sts", contentType: "text/plain",
			body: []byte("Action=GetCallerIdentity&Version=2011-06-15"), wantStatus: 400, wantInBody: "<ErrorResponse"},
		{name: "truncated xml", service: "s3", path: "/bucket?tagging", contentType: "application/xml",
			body: []byte("<Tagging><TagSet><Tag><Key>a"), wantStatus: 400, wantInBody: "<Code>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = "/"
			}
			method := http.MethodPost
			if tc.service == "s3" {
				method = http.MethodPut
			}
			r, err := http.NewRequest(method, srv.URL()+path, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Content-Type", tc.contentType)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			sign(t, r, tc.service, tc.body)
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus && !(tc.wantStatus == 400 && resp.StatusCode >= 400 && resp.StatusCode < 500) {
				t.Errorf("status %d, want %d; body %s", resp.StatusCode, tc.wantStatus, body)
			}
			if resp.StatusCode >= 500 {
				t.Errorf("5xx for malformed input: %s", body)
			}
			if !bytes.Contains(body, []byte(tc.wantInBody)) {
				t.Errorf("body %s does not contain %s", body, tc.wantInBody)
			}
			if resp.Header.Get("X-Amzn-Requestid") == "" && resp.Header.Get("X-Amz-Request-Id") == "" {
				t.Errorf("no request id header")
			}
		})
	}
}

func TestHugeHeaderRefused(t *testing.T) {
	srv := awstest.Start(t)
	r, err := http.NewRequest(http.MethodPost, srv.URL()+"/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Junk", strings.Repeat("a", 20<<20))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !bytes.Contains(body, []byte("RequestHeaderSectionTooLarge")) {
		t.Errorf("status %d body %.200s", resp.StatusCode, body)
	}
}

// A body longer than its Content-Length: the request is answered from the
// declared length, and the surplus never becomes a second request that
// crashes anything.
func TestBodyLongerThanContentLength(t *testing.T) {
	srv := awstest.Start(t)
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	body := "Action=GetCallerIdentity&Version=2011-06-15"
	extra := "GARBAGE-THAT-IS-NOT-HTTP\r\n\r\n"
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s%s", srv.Addr(), len(body), body, extra)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(got, []byte("<Account>000000000000</Account>")) {
		t.Fatalf("first response: %d %s", resp.StatusCode, got)
	}
	// The surplus is parsed as the next request and refused with a 4xx.
	resp2, err := http.ReadResponse(br, nil)
	if err == nil {
		io.Copy(io.Discard, resp2.Body)
		resp2.Body.Close()
		if resp2.StatusCode < 400 || resp2.StatusCode >= 500 {
			t.Errorf("surplus answered %d", resp2.StatusCode)
		}
	}
	// The server still answers.
	resp3, err := http.Get(srv.URL() + "/_overcast/health")
	if err != nil {
		t.Fatal(err)
	}
	resp3.Body.Close()
	if resp3.StatusCode != 200 {
		t.Errorf("health after garbage: %d", resp3.StatusCode)
	}
}

// A body shorter than its Content-Length: the server waits for the rest,
// and when the client gives up, nothing is half-processed.
func TestBodyShorterThanContentLength(t *testing.T) {
	srv := awstest.Start(t)
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	body := "Action=GetCallerIdentity"
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", srv.Addr(), len(body)+100, body)
	conn.(*net.TCPConn).CloseWrite()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		conn.Close()
		return // the server closed the connection without answering: acceptable
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	conn.Close()
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Errorf("short body answered %d: %s", resp.StatusCode, got)
	}
}

func sha256sum(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}
