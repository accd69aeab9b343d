package lambda_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/overcast-dev/overcast/internal/awstest"
)

// echoEnv makes the test function print "EVENT <event>" for each
// invocation, so the events triggers send can be read from its log group.
var echoEnv = &types.Environment{Variables: map[string]string{"ECHO_EVENT": "1"}}

// eventLine polls the function's log group for an EVENT line containing
// marker and returns the event.
func eventLine(t *testing.T, l *cloudwatchlogs.Client, fn, marker string) []byte {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		for _, m := range logMessages(t, l, fn) {
			if strings.HasPrefix(m, "EVENT ") && strings.Contains(m, marker) {
				return []byte(strings.TrimSpace(strings.TrimPrefix(m, "EVENT ")))
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no event containing %q in /aws/lambda/%s", marker, fn)
	return nil
}

// logMessages returns every message of the function's log group.
func logMessages(t *testing.T, l *cloudwatchlogs.Client, fn string) []string {
	var msgs []string
	p := cloudwatchlogs.NewFilterLogEventsPaginator(l, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/" + fn)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			return msgs // the group may not exist yet
		}
		for _, e := range out.Events {
			msgs = append(msgs, aws.ToString(e.Message))
		}
	}
	return msgs
}

// TestTriggers runs one server with Logs, S3 and DynamoDB: function logs
// reach CloudWatch Logs, code is read from S3, and DynamoDB Streams, S3
// notifications and Logs subscription filters invoke functions with the
// events AWS sends.
func TestTriggers(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("lambda", "logs", "s3", "dynamodb", "sns"))
	ctx := context.Background()
	c := awslambda.NewFromConfig(srv.Config)
	logs := cloudwatchlogs.NewFromConfig(srv.Config)
	s3c := s3.NewFromConfig(srv.Config, func(o *s3.Options) { o.UsePathStyle = true })
	db := dynamodb.NewFromConfig(srv.Config)
	createGo(t, c, "echo", func(in *awslambda.CreateFunctionInput) { in.Environment = echoEnv })
	echoARN := "arn:aws:lambda:us-east-1:000000000000:function:echo"

	t.Run("Logs", func(t *testing.T) {
		out, err := c.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"print":"hello from the function"}`)})
		if err != nil || out.FunctionError != nil {
			t.Fatalf("invoke: %v", err)
		}
		// START, the function's output, END and REPORT land in one stream.
		var msgs []string
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
			streams, err := logs.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("/aws/lambda/echo")})
			if err == nil && len(streams.LogStreams) > 0 {
				ev, err := logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/aws/lambda/echo"),
					LogStreamName: streams.LogStreams[0].LogStreamName, StartFromHead: aws.Bool(true)})
				if err != nil {
					t.Fatal(err)
				}
				msgs = msgs[:0]
				for _, e := range ev.Events {
					msgs = append(msgs, aws.ToString(e.Message))
				}
				if len(msgs) > 0 && strings.HasPrefix(msgs[len(msgs)-1], "REPORT RequestId: ") {
					break
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		all := strings.Join(msgs, "\n")
		for _, want := range []string{"START RequestId: ", "hello from the function", "END RequestId: ", "REPORT RequestId: ", "Billed Duration: ", "Init Duration: "} {
			if !strings.Contains(all, want) {
				t.Fatalf("log stream lacks %q:\n%s", want, all)
			}
		}
	})

	t.Run("CodeFromS3", func(t *testing.T) {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("code")}); err != nil {
			t.Fatal(err)
		}
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("code"), Key: aws.String("fn.zip"), Body: bytes.NewReader(goFunction(t))}); err != nil {
			t.Fatal(err)
		}
		_, err := c.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String("froms3"), Runtime: types.RuntimeProvidedal2023,
			Handler: aws.String("bootstrap"), Role: aws.String(testRole), Code: &types.FunctionCode{S3Bucket: aws.String("code"), S3Key: aws.String("fn.zip")}})
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("froms3"), Payload: []byte(`{}`)})
		if err != nil || out.FunctionError != nil || !bytes.Contains(out.Payload, []byte(`"name":"froms3"`)) {
			t.Fatalf("invoke: %v %s", err, out.Payload)
		}
		if _, err := c.UpdateFunctionCode(ctx, &awslambda.UpdateFunctionCodeInput{FunctionName: aws.String("froms3"), S3Bucket: aws.String("code"), S3Key: aws.String("fn.zip")}); err != nil {
			t.Fatal(err)
		}
		_, err = c.UpdateFunctionCode(ctx, &awslambda.UpdateFunctionCodeInput{FunctionName: aws.String("froms3"), S3Bucket: aws.String("code"), S3Key: aws.String("missing.zip")})
		ae := apiError(t, err, "InvalidParameterValueException")
		if !strings.Contains(ae.ErrorMessage(), "NoSuchKey") {
			t.Fatalf("message %q", ae.ErrorMessage())
		}
		_, err = c.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String("nobucket"), Runtime: types.RuntimeProvidedal2023,
			Handler: aws.String("bootstrap"), Role: aws.String(testRole), Code: &types.FunctionCode{S3Bucket: aws.String("nope"), S3Key: aws.String("fn.zip")}})
		ae = apiError(t, err, "InvalidParameterValueException")
		if !strings.Contains(ae.ErrorMessage(), "NoSuchBucket") {
			t.Fatalf("message %q", ae.ErrorMessage())
		}
	})

	t.Run("DynamoDBStream", func(t *testing.T) {
		tbl, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("orders"),
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
			BillingMode:          ddbtypes.BillingModePayPerRequest,
			StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages}})
		if err != nil {
			t.Fatal(err)
		}
		put := func(id, note string) {
			if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]ddbtypes.AttributeValue{
				"id": &ddbtypes.AttributeValueMemberS{Value: id}, "note": &ddbtypes.AttributeValueMemberS{Value: note}, "qty": &ddbtypes.AttributeValueMemberN{Value: "3"}}}); err != nil {
				t.Fatal(err)
			}
		}
		// Both records exist before the mapping: a TRIM_HORIZON mapping
		// delivers them in one batch, in order.
		put("o-0", "first")
		put("o-1", "second")
		streamARN := tbl.TableDescription.LatestStreamArn
		m, err := c.CreateEventSourceMapping(ctx, &awslambda.CreateEventSourceMappingInput{FunctionName: aws.String("echo"), EventSourceArn: streamARN,
			StartingPosition: types.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(10)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.DeleteEventSourceMapping(ctx, &awslambda.DeleteEventSourceMappingInput{UUID: m.UUID})
		raw := eventLine(t, logs, "echo", `"second"`)
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
		if len(ev.Records) != 2 {
			t.Fatalf("records %s", raw)
		}
		r := ev.Records[1]
		if r.EventName != "INSERT" || r.EventSource != "aws:dynamodb" || r.AWSRegion != "us-east-1" || r.EventSourceArn != aws.ToString(streamARN) ||
			r.EventVersion != "1.1" || r.EventID == "" || ev.Records[0].Change.Keys["id"].String() != "o-0" {
			t.Fatalf("record %s", raw)
		}
		d := r.Change
		if d.Keys["id"].String() != "o-1" || d.NewImage["note"].String() != "second" || d.NewImage["qty"].Number() != "3" || d.OldImage != nil ||
			d.SequenceNumber <= ev.Records[0].Change.SequenceNumber || d.StreamViewType != "NEW_AND_OLD_IMAGES" || d.ApproximateCreationDateTime.IsZero() || d.SizeBytes == 0 {
			t.Fatalf("change %s", raw)
		}
		put("o-1", "changed")
		raw = eventLine(t, logs, "echo", `"changed"`)
		if err := json.Unmarshal(raw, &ev); err != nil || len(ev.Records) != 1 || ev.Records[0].EventName != "MODIFY" || ev.Records[0].Change.OldImage["note"].String() != "second" {
			t.Fatalf("modify record %s", raw)
		}
	})

	t.Run("S3Notification", func(t *testing.T) {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("uploads")}); err != nil {
			t.Fatal(err)
		}
		_, err := s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("uploads"),
			NotificationConfiguration: &s3types.NotificationConfiguration{LambdaFunctionConfigurations: []s3types.LambdaFunctionConfiguration{{
				Id: aws.String("to-echo"), LambdaFunctionArn: aws.String(echoARN), Events: []s3types.Event{"s3:ObjectCreated:*"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		// A configuration naming a missing function is refused.
		_, err = s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("uploads"),
			NotificationConfiguration: &s3types.NotificationConfiguration{LambdaFunctionConfigurations: []s3types.LambdaFunctionConfiguration{{
				LambdaFunctionArn: aws.String(echoARN + "-missing"), Events: []s3types.Event{"s3:ObjectCreated:*"}}}}})
		if err == nil {
			t.Fatal("notification to a missing function accepted")
		}
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String("cat.jpg"), Body: strings.NewReader("meow")}); err != nil {
			t.Fatal(err)
		}
		raw := eventLine(t, logs, "echo", "cat.jpg")
		var ev events.S3Event
		if err := json.Unmarshal(raw, &ev); err != nil || len(ev.Records) != 1 {
			t.Fatalf("decode %s: %v", raw, err)
		}
		r := ev.Records[0]
		if r.EventSource != "aws:s3" || r.EventName != "ObjectCreated:Put" || r.S3.Bucket.Name != "uploads" || r.S3.Bucket.Arn != "arn:aws:s3:::uploads" ||
			r.S3.Object.Key != "cat.jpg" || r.S3.Object.Size != 4 || r.S3.ConfigurationID != "to-echo" || r.AWSRegion != "us-east-1" {
			t.Fatalf("record %s", raw)
		}
		for _, m := range logMessages(t, logs, "echo") {
			if strings.Contains(m, "s3:TestEvent") {
				t.Fatalf("the configuration's test event invoked the function: %s", m)
			}
		}
	})

	t.Run("AlarmAction", func(t *testing.T) {
		cw := cloudwatch.NewFromConfig(srv.Config)
		if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("high-cpu"), Namespace: aws.String("App"), MetricName: aws.String("CPU"),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("Host"), Value: aws.String("web-1")}}, Statistic: cwtypes.StatisticAverage, Period: aws.Int32(60),
			EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(80), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
			AlarmActions: []string{echoARN}}); err != nil {
			t.Fatal(err)
		}
		if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("high-cpu"), StateValue: cwtypes.StateValueAlarm,
			StateReason: aws.String("testing the action")}); err != nil {
			t.Fatal(err)
		}
		raw := eventLine(t, logs, "echo", "aws.cloudwatch")
		var ev struct {
			Source, AlarmArn, AccountID, Region, Time string
			AlarmData                                 struct {
				AlarmName            string
				State, PreviousState struct{ Value, Reason string }
				Configuration        struct {
					Metrics []struct {
						ID         string
						ReturnData bool
						MetricStat struct {
							Metric struct {
								Namespace, Name string
								Dimensions      map[string]string
							}
							Period int
							Stat   string
						}
					}
				}
			}
		}
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
		d := ev.AlarmData
		if ev.Source != "aws.cloudwatch" || ev.AlarmArn != "arn:aws:cloudwatch:us-east-1:000000000000:alarm:high-cpu" || ev.AccountID != "000000000000" ||
			ev.Region != "us-east-1" || ev.Time == "" || d.AlarmName != "high-cpu" || d.State.Value != "ALARM" || d.State.Reason != "testing the action" ||
			d.PreviousState.Value != "INSUFFICIENT_DATA" || len(d.Configuration.Metrics) != 1 {
			t.Fatalf("event %s", raw)
		}
		m := d.Configuration.Metrics[0].MetricStat
		if m.Metric.Namespace != "App" || m.Metric.Name != "CPU" || m.Metric.Dimensions["Host"] != "web-1" || m.Period != 60 || m.Stat != "Average" {
			t.Fatalf("metric %s", raw)
		}
	})

	t.Run("SNSSubscription", func(t *testing.T) {
		sc := sns.NewFromConfig(srv.Config)
		topic, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("orders")})
		if err != nil {
			t.Fatal(err)
		}
		sub, err := sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("lambda"), Endpoint: aws.String(echoARN), ReturnSubscriptionArn: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sc.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Subject: aws.String("new order"), Message: aws.String("order-77 placed"),
			MessageAttributes: map[string]snstypes.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("retail")}}}); err != nil {
			t.Fatal(err)
		}
		raw := eventLine(t, logs, "echo", "order-77 placed")
		var ev events.SNSEvent
		if err := json.Unmarshal(raw, &ev); err != nil || len(ev.Records) != 1 {
			t.Fatalf("decode %s: %v", raw, err)
		}
		r := ev.Records[0]
		if r.EventSource != "aws:sns" || r.EventVersion != "1.0" || r.EventSubscriptionArn != aws.ToString(sub.SubscriptionArn) ||
			r.SNS.TopicArn != aws.ToString(topic.TopicArn) || r.SNS.Message != "order-77 placed" || r.SNS.Subject != "new order" ||
			r.SNS.Type != "Notification" || r.SNS.MessageID == "" || r.SNS.MessageAttributes["kind"] == nil {
			t.Fatalf("record %s", raw)
		}
	})

	t.Run("LogsSubscription", func(t *testing.T) {
		if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("app")}); err != nil {
			t.Fatal(err)
		}
		if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("web")}); err != nil {
			t.Fatal(err)
		}
		if _, err := logs.PutSubscriptionFilter(ctx, &cloudwatchlogs.PutSubscriptionFilterInput{LogGroupName: aws.String("app"), FilterName: aws.String("errors"),
			FilterPattern: aws.String("ERROR"), DestinationArn: aws.String(echoARN)}); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UnixMilli()
		if _, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("web"),
			LogEvents: []cwltypes.InputLogEvent{{Timestamp: aws.Int64(now), Message: aws.String("INFO fine")}, {Timestamp: aws.Int64(now), Message: aws.String("ERROR disk full")}}}); err != nil {
			t.Fatal(err)
		}
		raw := eventLine(t, logs, "echo", "awslogs")
		var ev events.CloudwatchLogsEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
		data, err := ev.AWSLogs.Parse()
		if err != nil {
			t.Fatalf("parse %s: %v", raw, err)
		}
		if data.MessageType != "DATA_MESSAGE" || data.LogGroup != "app" || data.LogStream != "web" || len(data.SubscriptionFilters) != 1 ||
			data.SubscriptionFilters[0] != "errors" || len(data.LogEvents) != 1 || data.LogEvents[0].Message != "ERROR disk full" {
			t.Fatalf("data %+v", data)
		}
	})
}
