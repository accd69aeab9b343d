package enforce_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/overcast-dev/overcast/internal/server"
)

// lockedBuffer collects log output written from request goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// decisions returns the logged IAM decisions.
func (l *lockedBuffer) decisions(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(l.b.String(), "\n") {
		if !strings.Contains(line, `"iam decision"`) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestSoftModeLogsAndAllows(t *testing.T) {
	logs := &lockedBuffer{}
	f := setup(t, func(c *server.Config) {
		c.IAM = "soft"
		c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := context.Background()
	// Calls strict mode denies all succeed.
	if _, err := f.readerS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("private/new.txt"), Body: strings.NewReader("x")}); err != nil {
		t.Fatalf("soft put: %v", err)
	}
	if _, err := f.readerSQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(f.queueURL), MessageBody: aws.String("m")}); err != nil {
		t.Fatalf("soft send: %v", err)
	}
	if _, err := f.readerIAM.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("soft list users: %v", err)
	}
	if _, err := f.readerS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("public/a.txt")}); err != nil {
		t.Fatalf("soft get: %v", err)
	}
	// The object really was written.
	if _, err := s3.NewFromConfig(f.srv.Config, pathStyle).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("private/new.txt")}); err != nil {
		t.Errorf("object not written: %v", err)
	}
	want := []struct {
		action, resource string
		allowed          bool
		reason           string
	}{
		{"s3:PutObject", "arn:aws:s3:::bkt/private/new.txt", false, "implicit deny: no identity-based policy allows"},
		{"sqs:SendMessage", "arn:aws:sqs:us-east-1:000000000000:q", false, "implicit deny: no identity-based policy allows"},
		{"iam:ListUsers", "*", false, "implicit deny: no identity-based policy allows"},
		{"s3:GetObject", "arn:aws:s3:::bkt/public/a.txt", true, "allowed"},
	}
	got := logs.decisions(t)
	for _, w := range want {
		found := false
		for _, d := range got {
			if d["access_key"] == f.key && d["action"] == w.action && d["resource"] == w.resource {
				found = true
				if d["allowed"] != w.allowed || d["reason"] != w.reason || d["mode"] != "soft" || d["request_id"] == "" {
					t.Errorf("%s logged as %v", w.action, d)
				}
			}
		}
		if !found {
			t.Errorf("no decision logged for %s on %s; logged %v", w.action, w.resource, got)
		}
	}
}
