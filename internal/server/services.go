package server

import (
	"context"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/cloudwatch"
	"github.com/overcast-dev/overcast/internal/service/dynamodb"
	"github.com/overcast-dev/overcast/internal/service/ec2"
	"github.com/overcast-dev/overcast/internal/service/elb"
	"github.com/overcast-dev/overcast/internal/service/iam"
	"github.com/overcast-dev/overcast/internal/service/logs"
	"github.com/overcast-dev/overcast/internal/service/s3"
	"github.com/overcast-dev/overcast/internal/service/sns"
	"github.com/overcast-dev/overcast/internal/service/sqs"
	"github.com/overcast-dev/overcast/internal/service/sts"
)

// module is one entry of the registration list: a service, the services it
// needs started first, and how to build it from the shared parts.
type module struct {
	name  string
	deps  []string
	build func(p *parts) service.Service
}

// modules is the one list of services Overcast runs, in dependency order.
// Services whose implementation has not landed are Pending: every operation
// of their models is routed and answers NotImplemented.
func modules() []module {
	pending := func(name string, apis ...string) func(*parts) service.Service {
		return func(*parts) service.Service { return service.Pending(name, apis...) }
	}
	return []module{
		{name: "iam", build: func(p *parts) service.Service {
			p.iam = iam.New(p.kv, p.clock)
			return p.iam
		}},
		{name: "sts", deps: []string{"iam"}, build: func(p *parts) service.Service {
			p.sts = sts.New(sts.Config{Account: p.account, KV: p.kv, Clock: p.clock, Directory: p.iam})
			return p.sts
		}},
		{name: "s3", build: func(p *parts) service.Service {
			p.s3 = s3.New(s3Options(p))
			return p.s3
		}},
		{name: "sqs", build: func(p *parts) service.Service {
			p.sqs = sqs.New(p.kv, sqs.WithClock(p.clock), sqs.WithLogger(p.logger), sqs.WithMetrics(p.metrics))
			return p.sqs
		}},
		{name: "sns", deps: []string{"sqs"}, build: func(p *parts) service.Service {
			var queues sns.QueueSender
			if p.sqs != nil {
				queues = p.sqs
			}
			// Delivery status logs go to CloudWatch Logs, which is built after
			// SNS: p.logs is read when a status is logged.
			status := sns.StatusLoggerFunc(func(ctx context.Context, account, region, group, stream string, events []sns.StatusEvent) error {
				if p.logs == nil {
					return nil
				}
				evs := make([]logs.Event, len(events))
				for i, e := range events {
					evs[i] = logs.Event{Timestamp: e.Timestamp, Message: e.Message}
				}
				return p.logs.PutEvents(ctx, account, region, group, stream, evs)
			})
			p.sns = sns.New(p.kv, queues, sns.WithClock(p.clock), sns.WithLogger(p.logger), sns.WithMetrics(p.metrics), sns.WithStatusLogger(status))
			return p.sns
		}},
		{name: "dynamodb", build: func(p *parts) service.Service {
			p.dynamodb = dynamodb.New(p.kv, dynamodb.WithClock(p.clock), dynamodb.WithMetrics(p.metrics), dynamodb.WithThrottle(p.cfg.DynamoDBThrottle))
			return p.dynamodb
		}},
		{name: "cloudwatch", deps: []string{"sns"}, build: func(p *parts) service.Service {
			// Alarm actions publish to SNS; Auto Scaling registers its
			// ScalingPolicyExecutor with p.cloudwatch.SetScaler.
			opts := cloudwatch.Options{KV: p.kv, Clock: p.clock, Logger: p.logger}
			if p.sns != nil {
				opts.Notifier = p.sns
			}
			p.cloudwatch = cloudwatch.New(opts)
			p.metrics.set(p.cloudwatch)
			return p.cloudwatch
		}},
		{name: "logs", deps: []string{"cloudwatch"}, build: func(p *parts) service.Service {
			// Lambda writes function logs through p.logs.PutEvents and delivers
			// subscription filters once it calls p.logs.SetDeliverer.
			p.logs = logs.New(logs.Options{KV: p.kv, Clock: p.clock, Logger: p.logger, Metrics: p.metrics})
			return p.logs
		}},
		{name: "ec2", build: func(p *parts) service.Service {
			p.ec2 = ec2.New(p.kv, ec2Options(p))
			return p.ec2
		}},
		{name: "elasticloadbalancing", deps: []string{"ec2"}, build: func(p *parts) service.Service {
			p.elb = elb.New(elb.Options{KV: p.kv, Logger: p.logger, Clock: p.clock, Metrics: p.metrics, Instances: elbInstances(p), Functions: elbFunctions{p}})
			return p.elb
		}},
		{name: "autoscaling", deps: []string{"ec2", "elasticloadbalancing", "cloudwatch"}, build: newAutoScaling},
		{name: "application-autoscaling", deps: []string{"cloudwatch"}, build: pending("application-autoscaling", "application-autoscaling")},
		{name: "cloudfront", deps: []string{"s3"}, build: pending("cloudfront", "cloudfront")},
		{name: "rds", build: pending("rds", "rds")},
		{name: "elasticache", build: pending("elasticache", "elasticache")},
		{name: "lambda", deps: []string{"iam", "logs", "sqs", "sns"}, build: newLambda},
		{name: "ecs", deps: []string{"ec2"}, build: pending("ecs", "ecs")},
		{name: "eks", build: pending("eks", "eks")},
		{name: "wafv2", build: pending("wafv2", "wafv2")},
		{name: "shield", build: pending("shield", "shield")},
	}
}

// elbInstances resolves load balancer instance targets through EC2: a
// running instance's private address; anything else is unknown.
func elbInstances(p *parts) elb.InstanceResolver {
	ec := p.ec2
	return elb.InstanceResolverFunc(func(account, region, id string) (string, bool) {
		if ec == nil {
			return "", false
		}
		in, ok := ec.Describe(account, region, id)
		if !ok || in.State != ec2.StateRunning {
			return "", false
		}
		return in.PrivateIP, true
	})
}
