package server

import (
	"context"
	"errors"
	"path/filepath"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/lambda"
)

// newLambda builds Lambda and connects it to the services it reaches: SQS
// (event-source mappings and destinations), SNS (destinations) and
// CloudWatch metrics. CloudWatch Logs and S3 code packages are wired when
// those services export what lambda.LogSink and lambda.CodeFetcher need.
func newLambda(p *parts) service.Service {
	opts := []lambda.Option{
		lambda.WithClock(p.clock),
		lambda.WithLogger(p.logger),
		lambda.WithMetrics(p.metrics),
		lambda.WithCredentials(func(account, role string) (string, string, string) {
			return p.cfg.AccessKey, p.cfg.SecretKey, ""
		}),
	}
	if !p.cfg.Memory && p.cfg.DataDir != "" {
		opts = append(opts, lambda.WithCodeDir(filepath.Join(p.cfg.DataDir, "lambda")))
	}
	if p.sqs != nil {
		opts = append(opts, lambda.WithQueueSource(sqsSource{p.sqs}))
	}
	opts = append(opts, lambda.WithDestination(lambdaDest{p}))
	// CloudWatch Logs: once parts carries the logs service (p.logs, with
	// PutEvents), add
	//	lambda.WithLogSink(logSink{p.logs})
	// where logSink.PutLogEvents converts []lambda.LogEvent to []logs.Event
	// and calls p.logs.PutEvents(context.Background(), ...).
	return lambda.New(p.kv, p.blobs, opts...)
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
