package logs_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/overcast-dev/overcast/internal/awstest"
	"github.com/overcast-dev/overcast/internal/server"
)

func runCLI(t *testing.T, path string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = awstest.ClientEnv(t, "test", "test")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestCLIs drives CloudWatch Logs with the pip AWS CLI v1 and Debian's v2
// (both json 1.1).
func TestCLIs(t *testing.T) {
	if testing.Short() {
		t.Skip("external clients are slow to start")
	}
	t.Parallel()
	srv := awstest.Start(t, awstest.WithServices("logs"))
	for i, c := range awstest.CLIs(t) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			group := "/cli/" + string(rune('a'+i))
			logs := func(args ...string) (string, error) {
				return runCLI(t, c.Path, append([]string{"--endpoint-url", srv.URL(), "--output", "json", "logs"}, args...)...)
			}
			must := func(args ...string) string {
				t.Helper()
				out, err := logs(args...)
				if err != nil {
					t.Fatalf("%v: %v: %s", args, err, out)
				}
				return out
			}
			must("create-log-group", "--log-group-name", group, "--tags", "team=x")
			must("create-log-stream", "--log-group-name", group, "--log-stream-name", "s1")
			now := time.Now().UnixMilli()
			evs, _ := json.Marshal([]map[string]any{{"timestamp": now, "message": "ERROR first"}, {"timestamp": now + 1, "message": `{"status": 500}`}})
			must("put-log-events", "--log-group-name", group, "--log-stream-name", "s1", "--log-events", string(evs))
			out := must("get-log-events", "--log-group-name", group, "--log-stream-name", "s1", "--start-from-head")
			var gle struct {
				Events []struct {
					Message   string
					Timestamp int64
				} `json:"events"`
				NextForwardToken string `json:"nextForwardToken"`
			}
			if err := json.Unmarshal([]byte(out), &gle); err != nil || len(gle.Events) != 2 || gle.Events[0].Message != "ERROR first" || !strings.HasPrefix(gle.NextForwardToken, "f/") {
				t.Errorf("get-log-events: %v: %s", err, out)
			}
			out = must("filter-log-events", "--log-group-name", group, "--filter-pattern", "{ $.status >= 500 }")
			if !strings.Contains(out, `"message": "{\"status\": 500}"`) || strings.Contains(out, "ERROR first") {
				t.Errorf("filter-log-events: %s", out)
			}
			out = must("describe-log-groups", "--log-group-name-prefix", group)
			if !strings.Contains(out, `"logGroupName": "`+group+`"`) || !strings.Contains(out, `"storedBytes"`) {
				t.Errorf("describe-log-groups: %s", out)
			}
			out, err := logs("get-log-events", "--log-group-name", group, "--log-stream-name", "nope")
			if err == nil || !strings.Contains(out, "ResourceNotFoundException") || !strings.Contains(out, "The specified log stream does not exist.") {
				t.Errorf("missing stream: %v: %s", err, out)
			}
			out = must("test-metric-filter", "--filter-pattern", "[a, b=x*]", "--log-event-messages", "1 xy", "2 y")
			if !strings.Contains(out, `"$b": "xy"`) || strings.Contains(out, `"2 y"`) {
				t.Errorf("test-metric-filter: %s", out)
			}
		})
	}
}

// TestTailFollow runs `aws logs tail --follow` (AWS CLI v2; v1 has no tail
// command) and checks that events put while it runs are shown once each.
func TestTailFollow(t *testing.T) {
	if testing.Short() {
		t.Skip("external clients are slow to start")
	}
	t.Parallel()
	var cli string
	for _, c := range awstest.CLIs(t) {
		if exec.Command(c.Path, "logs", "tail", "help").Run() == nil {
			cli = c.Path
		}
	}
	if cli == "" {
		t.Skip("no AWS CLI with logs tail (v2)")
	}
	srv := awstest.Start(t, awstest.WithServices("logs"))
	c := cwl.NewFromConfig(srv.Config)
	setup(t, c, "/tail/app", "a", "b")
	put(t, c, "/tail/app", "a", time.Now().Add(-time.Minute), "before-1")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, "--endpoint-url", srv.URL(), "logs", "tail", "/tail/app", "--follow", "--format", "short", "--since", "1h")
	cmd.Env = append(awstest.ClientEnv(t, "test", "test"), "PYTHONUNBUFFERED=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	seen := map[string]int{}
	waitFor := func(msgs ...string) {
		t.Helper()
		for {
			done := true
			for _, m := range msgs {
				done = done && seen[m] > 0
			}
			if done {
				return
			}
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("tail exited; saw %v", seen)
				}
				if f := strings.Fields(l); len(f) >= 2 {
					seen[f[len(f)-1]]++
				}
			case <-ctx.Done():
				t.Fatalf("timed out waiting for %v; saw %v", msgs, seen)
			}
		}
	}
	waitFor("before-1")
	put(t, c, "/tail/app", "b", time.Now(), "after-1")
	put(t, c, "/tail/app", "a", time.Now().Add(time.Millisecond), "after-2")
	waitFor("after-1", "after-2")
	for m, n := range seen {
		if n != 1 {
			t.Errorf("%s shown %d times", m, n)
		}
	}
}

// TestBoto3 drives CloudWatch Logs with boto3 (current and Debian's).
func TestBoto3(t *testing.T) {
	if testing.Short() {
		t.Skip("external clients are slow to start")
	}
	t.Parallel()
	srv := awstest.Start(t, awstest.WithServices("logs"))
	script := `
import boto3, json, sys, time
c = boto3.client("logs", endpoint_url=sys.argv[1], region_name="us-east-1")
g = sys.argv[2]
c.create_log_group(logGroupName=g, kmsKeyId="k1")
c.create_log_stream(logGroupName=g, logStreamName="s")
now = int(time.time() * 1000)
r = c.put_log_events(logGroupName=g, logStreamName="s", logEvents=[{"timestamp": now + i, "message": "msg %d" % i} for i in range(30)])
out = {"token": "nextSequenceToken" in r}
evs = []
for page in c.get_paginator("filter_log_events").paginate(logGroupName=g, filterPattern='"msg 1"', PaginationConfig={"PageSize": 4}):
    evs += [e["message"] for e in page["events"]]
out["filtered"] = evs
r = c.get_log_events(logGroupName=g, logStreamName="s", limit=5, startFromHead=True)
out["head"] = [e["message"] for e in r["events"]]
r2 = c.get_log_events(logGroupName=g, logStreamName="s", limit=5, nextToken=r["nextForwardToken"])
out["next"] = [e["message"] for e in r2["events"]]
try:
    c.describe_log_streams(logGroupName=g + "-missing")
except c.exceptions.ResourceNotFoundException as e:
    out["missing"] = e.response["Error"]["Message"]
try:
    c.put_log_events(logGroupName=g, logStreamName="s", logEvents=[{"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}])
except c.exceptions.InvalidParameterException as e:
    out["order"] = e.response["Error"]["Message"]
c.put_metric_filter(logGroupName=g, filterName="f", filterPattern="{ $.x = 1 }",
    metricTransformations=[{"metricName": "M", "metricNamespace": "N", "metricValue": "$.x"}])
out["filters"] = [f["filterName"] for f in c.describe_metric_filters(logGroupName=g)["metricFilters"]]
out["kms"] = c.describe_log_groups(logGroupNamePrefix=g)["logGroups"][0]["kmsKeyId"]
print(json.dumps(out))
`
	for i, py := range awstest.Pythons(t) {
		t.Run(py.Name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(py.Path, "-c", script, srv.URL(), "/boto/"+string(rune('a'+i)))
			cmd.Env = awstest.ClientEnv(t, "test", "test")
			raw, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, raw)
			}
			var out struct {
				Token                bool
				Filtered, Head, Next []string
				Missing, Order, Kms  string
				Filters              []string
			}
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatalf("%v: %s", err, raw)
			}
			want := []string{"msg 1", "msg 10", "msg 11", "msg 12", "msg 13", "msg 14", "msg 15", "msg 16", "msg 17", "msg 18", "msg 19"}
			if strings.Join(out.Filtered, ",") != strings.Join(want, ",") {
				t.Errorf("filtered %v", out.Filtered)
			}
			if strings.Join(out.Head, ",") != "msg 0,msg 1,msg 2,msg 3,msg 4" || strings.Join(out.Next, ",") != "msg 5,msg 6,msg 7,msg 8,msg 9" {
				t.Errorf("head %v next %v", out.Head, out.Next)
			}
			if !out.Token || out.Missing != "The specified log group does not exist." ||
				out.Order != "Log events in a single PutLogEvents request must be in chronological order." ||
				len(out.Filters) != 1 || out.Kms != "k1" {
				t.Errorf("out %+v", out)
			}
		})
	}
}

// TestRestartOnDisk stores events in the disk store, restarts the server
// and reads them back.
func TestRestartOnDisk(t *testing.T) {
	dir := t.TempDir()
	open := func() *server.Server {
		s, err := server.New(server.Config{Addr: "127.0.0.1:0", DataDir: dir, NoSync: true, Services: []string{"logs"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s1 := open()
	c := cwl.NewFromConfig(awstest.Config(s1.URL(), "test", "test"))
	setup(t, c, "/disk", "s")
	if _, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("/disk"), RetentionInDays: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	put(t, c, "/disk", "s", now, "one", "two")
	if err := s1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s2 := open()
	defer s2.Close(ctx)
	c = cwl.NewFromConfig(awstest.Config(s2.URL(), "test", "test"))
	put(t, c, "/disk", "s", now.Add(time.Minute), "three")
	out, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("/disk"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range out.Events {
		msgs = append(msgs, *e.Message)
	}
	if strings.Join(msgs, ",") != "one,two,three" {
		t.Errorf("after restart: %v", msgs)
	}
	g, err := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
	if err != nil || len(g.LogGroups) != 1 || aws.ToInt32(g.LogGroups[0].RetentionInDays) != 3 {
		t.Errorf("groups after restart: %+v %v", g, err)
	}
}

// TestMetricFilterToCloudWatch checks that a metric filter's data reaches
// CloudWatch, where GetMetricStatistics (cbor) reads it back.
func TestMetricFilterToCloudWatch(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("logs"))
	c := cwl.NewFromConfig(srv.Config)
	setup(t, c, "web", "s")
	if _, err := c.PutMetricFilter(ctx, &cwl.PutMetricFilterInput{LogGroupName: aws.String("web"), FilterName: aws.String("bytes"),
		FilterPattern: aws.String(`[ip, ..., status, bytes]`), MetricTransformations: []types.MetricTransformation{{
			MetricName: aws.String("Bytes"), MetricNamespace: aws.String("Web"), MetricValue: aws.String("$bytes"), Unit: types.StandardUnitBytes}}}); err != nil {
		t.Fatal(err)
	}
	ts := time.Now().Truncate(time.Minute).Add(-2 * time.Minute)
	put(t, c, "web", "s", ts, "1.1.1.1 GET / 200 100", "1.1.1.1 GET / 200 300", "junk")
	cw := cloudwatch.NewFromConfig(srv.Config)
	out, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("Web"), MetricName: aws.String("Bytes"),
		StartTime: aws.Time(ts.Add(-time.Minute)), EndTime: aws.Time(ts.Add(2 * time.Minute)), Period: aws.Int32(300),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum, cwtypes.StatisticSampleCount}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Datapoints) != 1 || aws.ToFloat64(out.Datapoints[0].Sum) != 400 || aws.ToFloat64(out.Datapoints[0].SampleCount) != 2 {
		t.Errorf("datapoints %+v", out.Datapoints)
	}
}
