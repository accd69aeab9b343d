package sqs_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/overcast-dev/overcast/internal/awstest"
)

func runTool(t *testing.T, path string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = awstest.ClientEnv(t, "test", "test")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The AWS CLIs: v1 from pip speaks json, Debian's v2 speaks query.
func TestCLI(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("sqs"))
	for _, cli := range awstest.CLIs(t) {
		t.Run(cli.Name, func(t *testing.T) {
			t.Parallel()
			q := "cli-" + strings.ReplaceAll(cli.Name, "cli-", "")
			aws := func(args ...string) (map[string]any, error) {
				out, err := runTool(t, cli.Path, append([]string{"--endpoint-url", srv.URL(), "--output", "json", "sqs"}, args...)...)
				if err != nil {
					return nil, &cliError{out}
				}
				var v map[string]any
				if strings.TrimSpace(out) != "" {
					if err := json.Unmarshal([]byte(out), &v); err != nil {
						t.Fatalf("output %s: %v", out, err)
					}
				}
				return v, nil
			}
			must := func(args ...string) map[string]any {
				v, err := aws(args...)
				if err != nil {
					t.Fatalf("%v: %v", args, err)
				}
				return v
			}
			url := must("create-queue", "--queue-name", q, "--attributes", "VisibilityTimeout=60,DelaySeconds=0")["QueueUrl"].(string)
			if !strings.HasSuffix(url, "/000000000000/"+q) {
				t.Errorf("url %s", url)
			}
			sent := must("send-message", "--queue-url", url, "--message-body", "hi <there> & you",
				"--message-attributes", `{"k":{"DataType":"String","StringValue":"v"},"b":{"DataType":"Binary","BinaryValue":"AAEC"}}`)
			if sent["MD5OfMessageBody"] == nil || sent["MD5OfMessageAttributes"] == nil {
				t.Errorf("send output %v", sent)
			}
			must("send-message-batch", "--queue-url", url, "--entries", `[{"Id":"a","MessageBody":"one"},{"Id":"b","MessageBody":"two"}]`)
			attrs := must("get-queue-attributes", "--queue-url", url, "--attribute-names", "All")["Attributes"].(map[string]any)
			if attrs["ApproximateNumberOfMessages"] != "3" || attrs["VisibilityTimeout"] != "60" {
				t.Errorf("attributes %v", attrs)
			}
			got := must("receive-message", "--queue-url", url, "--max-number-of-messages", "10", "--message-attribute-names", "All", "--attribute-names", "All")
			msgs, _ := got["Messages"].([]any)
			if len(msgs) != 3 {
				t.Fatalf("received %v", got)
			}
			for _, x := range msgs {
				m := x.(map[string]any)
				if m["Body"] == "hi <there> & you" {
					ma := m["MessageAttributes"].(map[string]any)
					if ma["k"].(map[string]any)["StringValue"] != "v" {
						t.Errorf("attributes %v", ma)
					}
				}
				must("delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"].(string))
			}
			list := must("list-queues", "--queue-name-prefix", "cli-")
			if urls, _ := list["QueueUrls"].([]any); len(urls) == 0 {
				t.Errorf("list %v", list)
			}
			must("tag-queue", "--queue-url", url, "--tags", "a=b")
			if tags := must("list-queue-tags", "--queue-url", url)["Tags"].(map[string]any); tags["a"] != "b" {
				t.Errorf("tags %v", tags)
			}
			_, err := aws("get-queue-url", "--queue-name", "does-not-exist")
			if err == nil || !strings.Contains(err.Error(), "AWS.SimpleQueueService.NonExistentQueue") {
				t.Errorf("missing queue error: %v", err)
			}
			_, err = aws("receive-message", "--queue-url", url, "--max-number-of-messages", "11")
			if err == nil || !strings.Contains(err.Error(), "InvalidParameterValue") {
				t.Errorf("11 messages: %v", err)
			}
			must("delete-queue", "--queue-url", url)
		})
	}
}

type cliError struct{ out string }

func (e *cliError) Error() string { return e.out }

const boto3Script = `
import boto3, json, sys, botocore
sqs = boto3.client("sqs", endpoint_url=sys.argv[1], region_name="us-east-1")
name = sys.argv[2]
out = {"version": boto3.__version__}
url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "30"}, tags={"t": "1"})["QueueUrl"]
out["url"] = url
# botocore checks the MD5 digests of bodies and attributes.
sqs.send_message(QueueUrl=url, MessageBody="héllo", MessageAttributes={
    "s": {"DataType": "String", "StringValue": "x"},
    "n": {"DataType": "Number", "StringValue": "1.5"},
    "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}})
r = sqs.send_message_batch(QueueUrl=url, Entries=[
    {"Id": "ok", "MessageBody": "fine"},
    {"Id": "bad", "MessageBody": "x", "DelaySeconds": 1000}])
out["batch"] = [len(r.get("Successful", [])), [f["Code"] for f in r.get("Failed", [])]]
msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"], WaitTimeSeconds=1).get("Messages", [])
out["bodies"] = sorted(m["Body"] for m in msgs)
for m in msgs:
    if m["Body"] == "héllo":
        out["bin"] = list(m["MessageAttributes"]["b"]["BinaryValue"])
        out["count"] = m["Attributes"]["ApproximateReceiveCount"]
d = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
out["deleted"] = len(d.get("Successful", []))
out["tags"] = sqs.list_queue_tags(QueueUrl=url).get("Tags")
f = sqs.create_queue(QueueName=name + ".fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
a = sqs.send_message(QueueUrl=f, MessageBody="same", MessageGroupId="g")
b = sqs.send_message(QueueUrl=f, MessageBody="same", MessageGroupId="g")
out["fifo_dedup"] = a["MessageId"] == b["MessageId"] and a["SequenceNumber"] == b["SequenceNumber"]
try:
    sqs.get_queue_url(QueueName="missing-queue")
except botocore.exceptions.ClientError as e:
    out["err"] = e.response["Error"]["Code"]
    out["modeled"] = isinstance(e, sqs.exceptions.QueueDoesNotExist)
try:
    sqs.send_message_batch(QueueUrl=url, Entries=[])
except botocore.exceptions.ClientError as e:
    out["empty"] = e.response["Error"]["Code"]
except botocore.exceptions.ParamValidationError:
    out["empty"] = "client-side"
print(json.dumps(out))
`

// boto3: pip's current version speaks json, Debian's 1.26 speaks query.
func TestBoto3(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("sqs"))
	for _, py := range awstest.Pythons(t) {
		t.Run(py.Name, func(t *testing.T) {
			t.Parallel()
			out, err := runTool(t, py.Path, "-c", boto3Script, srv.URL(), "b3-"+py.Name)
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			var v struct {
				Version   string
				URL       string
				Batch     []any
				Bodies    []string
				Bin       []int
				Count     string
				Deleted   int
				Tags      map[string]string
				FifoDedup bool `json:"fifo_dedup"`
				Err       string
				Modeled   bool
				Empty     string
			}
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			t.Logf("boto3 %s", v.Version)
			if len(v.Bodies) != 2 || v.Bodies[0] != "fine" || v.Bodies[1] != "héllo" {
				t.Errorf("bodies %v", v.Bodies)
			}
			if len(v.Bin) != 2 || v.Bin[0] != 0 || v.Bin[1] != 255 || v.Count != "1" || v.Deleted != 2 || v.Tags["t"] != "1" || !v.FifoDedup {
				t.Errorf("result %+v", v)
			}
			if b := v.Batch; len(b) != 2 || b[0].(float64) != 1 || len(b[1].([]any)) != 1 || b[1].([]any)[0] != "InvalidParameterValue" {
				t.Errorf("batch %v", v.Batch)
			}
			if v.Err != "AWS.SimpleQueueService.NonExistentQueue" || !v.Modeled {
				t.Errorf("missing queue: %q modeled=%v", v.Err, v.Modeled)
			}
			if v.Empty != "AWS.SimpleQueueService.EmptyBatchRequest" && v.Empty != "client-side" {
				t.Errorf("empty batch: %q", v.Empty)
			}
		})
	}
}
