package sns_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/overcast-dev/overcast/internal/awstest"
)

const boto3Script = `
import boto3, json, sys, botocore
ep = sys.argv[1]; name = sys.argv[2]
sns = boto3.client("sns", endpoint_url=ep, region_name="us-east-1")
sqs = boto3.client("sqs", endpoint_url=ep, region_name="us-east-1")
out = {"version": boto3.__version__}
topic = sns.create_topic(Name=name, Tags=[{"Key": "k", "Value": "v"}])["TopicArn"]
url = sqs.create_queue(QueueName=name)["QueueUrl"]
qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"kind": ["a"]})}, ReturnSubscriptionArn=True)["SubscriptionArn"]
sns.publish(TopicArn=topic, Message="yes", MessageAttributes={"kind": {"DataType": "String", "StringValue": "a"}})
sns.publish(TopicArn=topic, Message="no", MessageAttributes={"kind": {"DataType": "String", "StringValue": "b"}})
r = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
    {"Id": "1", "Message": "batch", "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "a"}}},
    {"Id": "2", "Message": ""}])
out["batch"] = [len(r["Successful"]), [f["Code"] for f in r["Failed"]]]
msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])
out["bodies"] = sorted(m["Body"] for m in msgs)
out["attr"] = msgs[0]["MessageAttributes"]["kind"]["StringValue"] if msgs else ""
out["filter"] = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"].get("FilterPolicy")
out["tags"] = sns.list_tags_for_resource(ResourceArn=topic)["Tags"]
try:
    sns.get_topic_attributes(TopicArn=topic + "x")
except botocore.exceptions.ClientError as e:
    out["err"] = e.response["Error"]["Code"]
    out["modeled"] = isinstance(e, sns.exceptions.NotFoundException)
print(json.dumps(out))
`

func TestBoto3(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("sns"))
	for _, py := range awstest.Pythons(t) {
		t.Run(py.Name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(py.Path, "-c", boto3Script, srv.URL(), "b3-"+py.Name)
			cmd.Env = awstest.ClientEnv(t, "test", "test")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			var v struct {
				Version string
				Batch   []any
				Bodies  []string
				Attr    string
				Filter  string
				Tags    []map[string]string
				Err     string
				Modeled bool
			}
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			if strings.Join(v.Bodies, ",") != "batch,yes" || v.Attr != "a" || v.Filter != `{"kind": ["a"]}` || len(v.Tags) != 1 {
				t.Errorf("boto3 %s: %+v", v.Version, v)
			}
			if len(v.Batch) != 2 || v.Batch[0].(float64) != 1 || v.Batch[1].([]any)[0] != "InvalidParameter" {
				t.Errorf("batch %v", v.Batch)
			}
			if v.Err != "NotFound" || !v.Modeled {
				t.Errorf("error %q modeled=%v", v.Err, v.Modeled)
			}
		})
	}
}

func TestCLI(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("sns"))
	for _, cli := range awstest.CLIs(t) {
		t.Run(cli.Name, func(t *testing.T) {
			t.Parallel()
			run := func(args ...string) (map[string]any, string, error) {
				cmd := exec.Command(cli.Path, append([]string{"--endpoint-url", srv.URL(), "--output", "json"}, args...)...)
				cmd.Env = awstest.ClientEnv(t, "test", "test")
				out, err := cmd.CombinedOutput()
				var v map[string]any
				if err == nil && len(strings.TrimSpace(string(out))) > 0 {
					if jerr := json.Unmarshal(out, &v); jerr != nil {
						t.Fatalf("%s: %v", out, jerr)
					}
				}
				return v, string(out), err
			}
			v, out, err := run("sns", "create-topic", "--name", "cli-"+cli.Name)
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			topic := v["TopicArn"].(string)
			v, out, err = run("sqs", "create-queue", "--queue-name", "cli-"+cli.Name)
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			url := v["QueueUrl"].(string)
			qarn := "arn:aws:sqs:us-east-1:000000000000:cli-" + cli.Name
			if _, out, err = run("sns", "subscribe", "--topic-arn", topic, "--protocol", "sqs", "--notification-endpoint", qarn); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if _, out, err = run("sns", "publish", "--topic-arn", topic, "--message", "from the cli", "--subject", "s"); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			v, out, err = run("sqs", "receive-message", "--queue-url", url)
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			msgs, _ := v["Messages"].([]any)
			if len(msgs) != 1 {
				t.Fatalf("received %v", v)
			}
			var env map[string]any
			json.Unmarshal([]byte(msgs[0].(map[string]any)["Body"].(string)), &env)
			if env["Message"] != "from the cli" || env["Subject"] != "s" || env["TopicArn"] != topic {
				t.Errorf("envelope %v", env)
			}
			v, _, _ = run("sns", "list-subscriptions-by-topic", "--topic-arn", topic)
			if subs, _ := v["Subscriptions"].([]any); len(subs) != 1 {
				t.Errorf("subscriptions %v", v)
			}
			if _, out, err = run("sns", "get-topic-attributes", "--topic-arn", topic+"-missing"); err == nil || !strings.Contains(out, "NotFound") {
				t.Errorf("missing topic: %v %s", err, out)
			}
		})
	}
}
