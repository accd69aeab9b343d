package server

import (
	"context"
	"errors"
	"strings"

	"github.com/overcast-dev/overcast/internal/service/s3"
)

var errNoDestination = errors.New("notification destination service is not running")

// s3Options builds the S3 service's options: its event notifications go
// to SQS, SNS and Lambda when those services run (they may be built after S3, so
// the lookup happens at delivery time).
func s3Options(p *parts) s3.Options {
	opt := s3.Options{KV: p.kv, Blobs: p.blobs, Logger: p.logger, Clock: p.clock, Metrics: p.metrics,
		Account: p.account, RateLimit: p.cfg.S3RateLimit}
	opt.Sink = s3.Sinks{
		Queue: func(ctx context.Context, arn, body string) error {
			if p.sqs == nil {
				return errNoDestination
			}
			return p.sqs.SendToQueue(ctx, arn, body, nil, "", "")
		},
		Topic: func(ctx context.Context, arn, body string) error {
			if p.sns == nil {
				return errNoDestination
			}
			_, err := p.sns.PublishToTopic(ctx, arn, "Amazon S3 Notification", body, nil)
			return err
		},
		Function: func(ctx context.Context, arn, body string) error {
			if strings.Contains(body, `"Event":"s3:TestEvent"`) {
				// S3 checks a function destination without invoking it.
				return checkFunction(ctx, p, arn)
			}
			return invokeFunctionAsync(ctx, p, arn, []byte(body))
		},
	}
	if p.cfg.Auth == "verify" {
		key, secret := p.cfg.AccessKey, p.cfg.SecretKey
		opt.Secret = func(k string) (string, bool) { return secret, k == key }
	}
	return opt
}
