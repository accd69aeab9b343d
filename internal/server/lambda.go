package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/dynamodb"
	"github.com/overcast-dev/overcast/internal/service/lambda"
	"github.com/overcast-dev/overcast/internal/service/logs"
)

// newLambda builds Lambda and connects it to the services it reaches: SQS
// (event-source mappings and destinations), SNS (destinations), CloudWatch
// metrics and Logs (function logs), S3 (code packages) and DynamoDB Streams
// (event-source mappings); and connects the services that invoke functions
// (S3 notifications, SNS subscriptions, CloudWatch alarm actions, Logs
// subscription filters) to it. Services built
// after Lambda, or not running, are looked up when used.
func newLambda(p *parts) service.Service {
	opts := []lambda.Option{
		lambda.WithClock(p.clock),
		lambda.WithLogger(p.logger),
		lambda.WithMetrics(p.metrics),
		lambda.WithCredentials(roleCredentials(p)),
		lambda.WithCodeFetcher(s3Code{p}),
		lambda.WithStreamSource(ddbStreams{p}),
	}
	if !p.cfg.Memory && p.cfg.DataDir != "" {
		opts = append(opts, lambda.WithCodeDir(filepath.Join(p.cfg.DataDir, "lambda")))
	}
	if p.sqs != nil {
		opts = append(opts, lambda.WithQueueSource(sqsSource{p.sqs}))
	}
	if p.logs != nil {
		opts = append(opts, lambda.WithLogSink(logSink{p.logs}))
	}
	opts = append(opts, lambda.WithDestination(lambdaDest{p}))
	opts = append(opts, lambda.WithURLAuthenticator(urlAuthenticator(p)))
	p.lambda = lambda.New(p.kv, p.blobs, opts...)
	if p.logs != nil {
		p.logs.SetDeliverer(logsToLambda{p.lambda})
	}
	if p.cloudwatch != nil {
		p.cloudwatch.SetFunctionInvoker(asyncInvoker{p})
	}
	if p.sns != nil {
		p.sns.SetFunctionInvoker(asyncInvoker{p})
	}
	return p.lambda
}

// urlAuthenticator verifies SigV4-signed requests to AWS_IAM function URLs
// with the keys the gateway accepts.
func urlAuthenticator(p *parts) lambda.URLAuthenticator {
	a := newAuth(p.cfg.AccessKey, p.cfg.SecretKey)
	a.iam, a.sts, a.clock = p.iam, p.sts, p.clock
	return func(r *http.Request) (string, string, error) {
		c, err := a.Identify(r)
		if err != nil {
			return "", "", err
		}
		if c == nil {
			return "", "", errors.New("unsigned request")
		}
		if err := a.Verify(r, c); err != nil {
			return "", "", err
		}
		return c.AccessKey, a.Account(c.AccessKey), nil
	}
}

// roleCredentials gives functions temporary credentials of their execution
// role from STS (AssumeRole, session named after the function), or the
// server's root credentials when STS is not running or the role cannot be
// assumed (it does not exist in IAM).
func roleCredentials(p *parts) func(account, role, function string) (string, string, string) {
	return func(account, role, function string) (string, string, string) {
		if p.sts != nil && role != "" {
			region, _, _, _ := arnParts(role)
			if region == "" {
				region = "us-east-1"
			}
			out, err := callOp(context.Background(), p.sts, account, region, "AssumeRole",
				map[string]any{"RoleArn": role, "RoleSessionName": function, "DurationSeconds": int64(3600)})
			if err == nil {
				if c, ok := out["Credentials"].(map[string]any); ok && service.Str(c, "AccessKeyId") != "" {
					return service.Str(c, "AccessKeyId"), service.Str(c, "SecretAccessKey"), service.Str(c, "SessionToken")
				}
			}
			p.logger.Debug("lambda: execution role not assumed; using the root credentials", "role", role, "err", err)
		}
		return p.cfg.AccessKey, p.cfg.SecretKey, ""
	}
}

// logSink is lambda.LogSink over CloudWatch Logs.
type logSink struct{ l *logs.Service }

func (s logSink) PutLogEvents(account, region, group, stream string, events []lambda.LogEvent) {
	evs := make([]logs.Event, len(events))
	for i, e := range events {
		evs[i] = logs.Event{Timestamp: e.Time, Message: e.Message}
	}
	s.l.PutEvents(context.Background(), account, region, group, stream, evs)
}

// logsToLambda delivers Logs subscription filter data to functions, as the
// {"awslogs":{"data":"<base64 of the gzip>"}} event AWS sends, asynchronously.
type logsToLambda struct{ l *lambda.Service }

func (d logsToLambda) DeliverLogs(ctx context.Context, arn string, data []byte) error {
	region, account, _, ok := arnParts(arn)
	if !ok {
		return errors.New("bad function ARN " + arn)
	}
	payload, err := json.Marshal(map[string]any{"awslogs": map[string]any{"data": data}})
	if err != nil {
		return err
	}
	_, err = d.l.Invoke(ctx, account, region, arn, payload, true)
	return err
}

// invokeFunctionAsync queues an invocation of the function arn for the
// services that trigger functions asynchronously (S3 notifications, SNS,
// CloudWatch alarm actions).
func invokeFunctionAsync(ctx context.Context, p *parts, arn string, payload []byte) error {
	if p.lambda == nil {
		return errors.New("lambda is not running")
	}
	region, account, _, ok := arnParts(arn)
	if !ok {
		return errors.New("bad function ARN " + arn)
	}
	_, err := p.lambda.Invoke(ctx, account, region, arn, payload, true)
	return err
}

// checkFunction reports whether the function arn exists.
func checkFunction(ctx context.Context, p *parts, arn string) error {
	if p.lambda == nil {
		return errors.New("lambda is not running")
	}
	region, account, _, ok := arnParts(arn)
	if !ok {
		return errors.New("bad function ARN " + arn)
	}
	return p.lambda.Check(ctx, account, region, arn)
}

// asyncInvoker queues function invocations for CloudWatch alarm actions
// and SNS subscriptions.
type asyncInvoker struct{ p *parts }

func (a asyncInvoker) InvokeFunction(ctx context.Context, arn string, payload []byte) error {
	return invokeFunctionAsync(ctx, a.p, arn, payload)
}

func (a asyncInvoker) InvokeAsync(ctx context.Context, account, region, arn string, payload []byte) error {
	if a.p.lambda == nil {
		return errors.New("lambda is not running")
	}
	_, err := a.p.lambda.Invoke(ctx, account, region, arn, payload, true)
	return err
}

// s3Code is lambda.CodeFetcher over S3's GetObject.
type s3Code struct{ p *parts }

func (c s3Code) FetchCode(ctx context.Context, account, region, bucket, key, objectVersion string) (io.ReadCloser, error) {
	if c.p.s3 == nil {
		return nil, errors.New("NoSuchBucket: S3 is not running")
	}
	in := map[string]any{"Bucket": bucket, "Key": key}
	if objectVersion != "" {
		in["VersionId"] = objectVersion
	}
	h := c.p.s3.Handlers()["GetObject"]
	if h == nil {
		return nil, errors.New("GetObject is not implemented")
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, "/"+url.PathEscape(bucket)+"/"+url.PathEscape(key), nil)
	if err != nil {
		return nil, err
	}
	out, err := h(&service.Request{Context: ctx, Account: account, Region: region, Operation: "GetObject", Protocol: "rest-xml", Input: in, HTTP: hr})
	if err != nil {
		return nil, err
	}
	st, ok := out["Body"].(*protocol.Stream)
	if !ok || st.Body == nil {
		return nil, errors.New("GetObject returned no body")
	}
	return st.Body, nil
}

// ddbStreams is lambda.StreamSource over DynamoDB Streams. A stream is read
// as one shard; an iterator is the stream ARN and the sequence position to
// read after.
type ddbStreams struct{ p *parts }

const ddbShard = "shardId-00000000000000000001-00000001"

func (d ddbStreams) reader() (*dynamodb.Service, error) {
	if d.p.dynamodb == nil {
		return nil, errors.New("dynamodb is not running")
	}
	return d.p.dynamodb, nil
}

func (d ddbStreams) Shards(ctx context.Context, streamARN string) ([]string, error) {
	db, err := d.reader()
	if err != nil {
		return nil, err
	}
	region, account, _, ok := arnParts(streamARN)
	if !ok {
		return nil, errors.New("bad stream ARN " + streamARN)
	}
	if _, _, err := db.ReadStream(account, region, streamARN, "", 0); err != nil {
		return nil, err
	}
	return []string{ddbShard}, nil
}

func (d ddbStreams) Iterator(ctx context.Context, streamARN, shardID, position, seq string) (string, error) {
	db, err := d.reader()
	if err != nil {
		return "", err
	}
	region, account, _, ok := arnParts(streamARN)
	if !ok {
		return "", errors.New("bad stream ARN " + streamARN)
	}
	after := ""
	switch position {
	case "AFTER_SEQUENCE_NUMBER", "AT_SEQUENCE_NUMBER":
		n, err := strconv.ParseInt(seq, 10, 64)
		if err != nil {
			return "", errors.New("bad sequence number " + seq)
		}
		if position == "AT_SEQUENCE_NUMBER" {
			n--
		}
		if n >= 0 {
			after = strconv.FormatInt(n, 10)
		}
	case "LATEST":
		for { // skip to the end of the stream
			recs, next, err := db.ReadStream(account, region, streamARN, after, 1000)
			if err != nil {
				return "", err
			}
			if len(recs) == 0 || next == after {
				break
			}
			after = next
		}
	}
	return streamARN + "|" + after, nil
}

func (d ddbStreams) Records(ctx context.Context, iterator string, limit int) ([]map[string]any, string, error) {
	db, err := d.reader()
	if err != nil {
		return nil, "", err
	}
	i := strings.LastIndexByte(iterator, '|')
	if i < 0 {
		return nil, "", errors.New("bad iterator")
	}
	arn, after := iterator[:i], iterator[i+1:]
	region, account, _, ok := arnParts(arn)
	if !ok {
		return nil, "", errors.New("bad stream ARN " + arn)
	}
	recs, next, err := db.ReadStream(account, region, arn, after, limit)
	if err != nil {
		return nil, "", err
	}
	for _, r := range recs {
		// Lambda sends ApproximateCreationDateTime as epoch seconds.
		if sr, ok := r["dynamodb"].(map[string]any); ok {
			if t, ok := sr["ApproximateCreationDateTime"].(time.Time); ok {
				sr["ApproximateCreationDateTime"] = t.Unix()
			}
		}
	}
	return recs, arn + "|" + next, nil
}

// handlerSvc is a service whose operations an adapter calls through its
// handlers, with generic inputs as a client's request would decode to.
type handlerSvc interface {
	Handlers() map[string]service.Handler
}

// callOp calls operation op of svc as account in region.
func callOp(ctx context.Context, svc handlerSvc, account, region, op string, in map[string]any) (map[string]any, error) {
	h := svc.Handlers()[op]
	if h == nil {
		return nil, errors.New(op + " is not implemented")
	}
	return h(&service.Request{Context: ctx, Account: account, Region: region, Operation: op, Protocol: "json", Input: in})
}

// arnParts splits arn:partition:service:region:account:resource.
func arnParts(arn string) (region, account, resource string, ok bool) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 {
		return "", "", "", false
	}
	return p[3], p[4], p[5], true
}

// sqsSource is lambda.QueueSource over SQS's operations.
type sqsSource struct{ svc handlerSvc }

func (q sqsSource) url(ctx context.Context, arn string) (region, account, url string, err error) {
	region, account, name, ok := arnParts(arn)
	if !ok {
		return "", "", "", errors.New("bad queue ARN " + arn)
	}
	out, err := callOp(ctx, q.svc, account, region, "GetQueueUrl", map[string]any{"QueueName": name, "QueueOwnerAWSAccountId": account})
	if err != nil {
		return "", "", "", err
	}
	return region, account, service.Str(out, "QueueUrl"), nil
}

func (q sqsSource) Receive(ctx context.Context, queueARN string, max int) ([]lambda.QueueMessage, error) {
	region, account, url, err := q.url(ctx, queueARN)
	if err != nil {
		return nil, err
	}
	out, err := callOp(ctx, q.svc, account, region, "ReceiveMessage", map[string]any{
		"QueueUrl":                    url,
		"MaxNumberOfMessages":         int64(max),
		"WaitTimeSeconds":             int64(0),
		"AttributeNames":              []any{"All"},
		"MessageSystemAttributeNames": []any{"All"},
		"MessageAttributeNames":       []any{"All"},
	})
	if err != nil {
		return nil, err
	}
	msgs, _ := out["Messages"].([]any)
	res := make([]lambda.QueueMessage, 0, len(msgs))
	for _, m := range msgs {
		mm, _ := m.(map[string]any)
		qm := lambda.QueueMessage{
			MessageID:     service.Str(mm, "MessageId"),
			ReceiptHandle: service.Str(mm, "ReceiptHandle"),
			Body:          service.Str(mm, "Body"),
			MD5OfBody:     service.Str(mm, "MD5OfBody"),
			Attributes:    map[string]string{},
		}
		if a, ok := mm["Attributes"].(map[string]any); ok {
			for k, v := range a {
				qm.Attributes[k], _ = v.(string)
			}
		}
		if a, ok := mm["MessageAttributes"].(map[string]any); ok {
			qm.MessageAttributes = map[string]service.MessageAttribute{}
			for k, v := range a {
				av, _ := v.(map[string]any)
				b, _ := av["BinaryValue"].([]byte)
				qm.MessageAttributes[k] = service.MessageAttribute{DataType: service.Str(av, "DataType"), StringValue: service.Str(av, "StringValue"), BinaryValue: b}
			}
		}
		res = append(res, qm)
	}
	return res, nil
}

func (q sqsSource) Delete(ctx context.Context, queueARN, receiptHandle string) error {
	region, account, url, err := q.url(ctx, queueARN)
	if err != nil {
		return err
	}
	_, err = callOp(ctx, q.svc, account, region, "DeleteMessage", map[string]any{"QueueUrl": url, "ReceiptHandle": receiptHandle})
	return err
}

// lambdaDest is lambda.Destination over SQS and SNS.
type lambdaDest struct{ p *parts }

func (d lambdaDest) Deliver(ctx context.Context, arn string, body []byte) error {
	switch {
	case strings.Contains(arn, ":sqs:") && d.p.sqs != nil:
		return d.p.sqs.SendToQueue(ctx, arn, string(body), nil, "", "")
	case strings.Contains(arn, ":sns:") && d.p.sns != nil:
		_, err := d.p.sns.PublishToTopic(ctx, arn, "", string(body), nil)
		return err
	}
	return errors.New("no destination service for " + arn)
}
