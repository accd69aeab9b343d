package s3

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/service"
)

// NotificationSink delivers S3 event notifications. Implementations MUST be
// safe for concurrent use and SHOULD return quickly.
type NotificationSink interface {
	// Deliver sends body, the S3 event document (JSON), to the destination
	// named by arn (an SQS queue, SNS topic or Lambda function ARN). It
	// returns an error when the destination does not exist.
	Deliver(ctx context.Context, arn, body string) error
}

// Sinks is a NotificationSink that dispatches on the destination ARN's
// service; a nil function means that kind of destination is unavailable.
// Adding a destination kind is adding one field.
type Sinks struct {
	Queue    func(ctx context.Context, queueARN, body string) error
	Topic    func(ctx context.Context, topicARN, body string) error
	Function func(ctx context.Context, functionARN, body string) error
}

// Deliver implements NotificationSink.
func (s Sinks) Deliver(ctx context.Context, arn, body string) error {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return errInvalidArgument("Invalid ARN", "arn", arn)
	}
	var fn func(context.Context, string, string) error
	switch parts[2] {
	case "sqs":
		fn = s.Queue
	case "sns":
		fn = s.Topic
	case "lambda":
		fn = s.Function
	}
	if fn == nil {
		return errInvalidArgument("Unable to validate the following destination configurations", arn, "")
	}
	return fn(ctx, arn, body)
}

type notifTarget struct {
	id, arn        string
	events         []string
	prefix, suffix string
}

func notificationTargets(doc map[string]any) []notifTarget {
	var out []notifTarget
	for _, kind := range [][2]string{{"QueueConfigurations", "QueueArn"}, {"TopicConfigurations", "TopicArn"}, {"LambdaFunctionConfigurations", "LambdaFunctionArn"}} {
		for _, c := range listOf(doc[kind[0]]) {
			t := notifTarget{id: service.Str(c, "Id"), arn: service.Str(c, kind[1]), events: service.Strings(c, "Events")}
			if f, ok := c["Filter"].(map[string]any); ok {
				if k, ok := f["Key"].(map[string]any); ok {
					for _, r := range listOf(k["FilterRules"]) {
						switch strings.ToLower(service.Str(r, "Name")) {
						case "prefix":
							t.prefix = service.Str(r, "Value")
						case "suffix":
							t.suffix = service.Str(r, "Value")
						}
					}
				}
			}
			out = append(out, t)
		}
	}
	return out
}

func eventMatches(patterns []string, event string) bool {
	for _, p := range patterns {
		p = strings.TrimPrefix(p, "s3:")
		if p == event {
			return true
		}
		if base, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(event, base) {
			return true
		}
	}
	return false
}

// validateNotification checks a notification configuration's destinations
// by sending each S3's test event, as S3 does.
func (s *Service) validateNotification(req *service.Request, bucket string, doc map[string]any) error {
	for _, t := range notificationTargets(doc) {
		if t.arn == "" || len(t.events) == 0 {
			return errMalformedXML()
		}
		for _, e := range t.events {
			if !strings.HasPrefix(e, "s3:") {
				return errInvalidArgument("The event is not supported for notifications", e, "")
			}
		}
		if s.sink == nil {
			continue
		}
		body, _ := json.Marshal(map[string]any{"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": s.clk.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
			"Bucket": bucket, "RequestId": req.RequestID, "HostId": req.RequestID})
		if err := s.sink.Deliver(context.WithoutCancel(req.Context), t.arn, string(body)); err != nil {
			return s3err(400, "InvalidArgument", "Unable to validate the following destination configurations", "ArgumentName", t.arn, "ArgumentValue", "Permissions on the destination queue do not allow S3 to publish notifications from this bucket")
		}
	}
	return nil
}

// notify delivers event for o to every matching destination of b.
func (s *Service) notify(req *service.Request, b *bucketRecord, event string, o *objectRecord) {
	if s.sink == nil || b == nil || o == nil {
		return
	}
	v, ok := b.config("notification")
	if !ok {
		return
	}
	doc, _ := v.(map[string]any)
	targets := notificationTargets(doc)
	if len(targets) == 0 {
		return
	}
	for _, t := range targets {
		if !eventMatches(t.events, event) || !strings.HasPrefix(o.Key, t.prefix) || !strings.HasSuffix(o.Key, t.suffix) {
			continue
		}
		body := eventJSON(req, b, event, t.id, o, s.clk.Now())
		if err := s.sink.Deliver(context.WithoutCancel(req.Context), t.arn, body); err != nil {
			s.log.Warn("s3 event notification not delivered", "bucket", b.Name, "destination", t.arn, "err", err)
		}
	}
}

func eventJSON(req *service.Request, b *bucketRecord, event, configID string, o *objectRecord, now time.Time) string {
	obj := map[string]any{"key": eventKey(o.Key), "sequencer": strings.ToUpper(strconv.FormatInt(o.Modified.UnixNano(), 16))}
	if strings.HasPrefix(event, "ObjectCreated") {
		obj["size"] = o.Size
		obj["eTag"] = trimQuotes(o.ETag)
	}
	if o.VersionID != "" {
		obj["versionId"] = o.VersionID
	}
	principal := "AWS:" + req.AccessKey
	if req.AccessKey == "" {
		principal = "anonymous"
	}
	source := req.HTTP.RemoteAddr
	if i := strings.LastIndexByte(source, ':'); i > 0 {
		source = strings.Trim(source[:i], "[]")
	}
	rec := map[string]any{
		"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": b.Region,
		"eventTime":         now.UTC().Format("2006-01-02T15:04:05.000Z"),
		"eventName":         event,
		"userIdentity":      map[string]any{"principalId": principal},
		"requestParameters": map[string]any{"sourceIPAddress": source},
		"responseElements":  map[string]any{"x-amz-request-id": req.RequestID, "x-amz-id-2": req.RequestID},
		"s3": map[string]any{
			"s3SchemaVersion": "1.0", "configurationId": configID,
			"bucket": map[string]any{"name": b.Name, "ownerIdentity": map[string]any{"principalId": canonicalID(b.Account)}, "arn": "arn:" + arnPartition(b.Region) + ":s3:::" + b.Name},
			"object": obj,
		},
	}
	out, _ := json.Marshal(map[string]any{"Records": []any{rec}})
	return string(out)
}

// eventKey encodes an object key as S3 event notifications carry it: form
// encoding (a space becomes "+"), with "/" left as it is.
func eventKey(key string) string {
	return strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
}
