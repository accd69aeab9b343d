package cloudwatch_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/overcast-dev/overcast/internal/awstest"
)

func run(t *testing.T, path string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = awstest.ClientEnv(t, "test", "test")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestCLIs drives CloudWatch with the pip AWS CLI v1 (json 1.0) and Debian's
// AWS CLI v2 (query).
func TestCLIs(t *testing.T) {
	e := start(t, envOpt{})
	for i, c := range awstest.CLIs(t) {
		t.Run(c.Name, func(t *testing.T) {
			ns := "CLI" + string(rune('A'+i))
			cw := func(args ...string) (string, error) {
				return run(t, c.Path, append([]string{"--endpoint-url", e.url, "--output", "json", "cloudwatch"}, args...)...)
			}
			ts := time.Now().UTC().Truncate(time.Minute).Add(-2 * time.Minute)
			data := `[{"MetricName":"Latency","Dimensions":[{"Name":"Host","Value":"a"}],"Timestamp":"` + ts.Format(time.RFC3339) + `","Values":[1,2,3],"Counts":[1,1,2],"Unit":"Seconds"}]`
			if out, err := cw("put-metric-data", "--namespace", ns, "--metric-data", data); err != nil {
				t.Fatalf("put-metric-data: %v: %s", err, out)
			}
			out, err := cw("get-metric-statistics", "--namespace", ns, "--metric-name", "Latency", "--dimensions", "Name=Host,Value=a",
				"--start-time", ts.Add(-time.Minute).Format(time.RFC3339), "--end-time", ts.Add(time.Minute).Format(time.RFC3339),
				"--period", "60", "--statistics", "Sum", "SampleCount", "--extended-statistics", "p50")
			if err != nil {
				t.Fatalf("get-metric-statistics: %v: %s", err, out)
			}
			var gms struct {
				Label      string
				Datapoints []struct {
					Sum, SampleCount   float64
					Unit               string
					ExtendedStatistics map[string]float64
				}
			}
			if err := json.Unmarshal([]byte(out), &gms); err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			if gms.Label != "Latency" || len(gms.Datapoints) != 1 || gms.Datapoints[0].Sum != 9 || gms.Datapoints[0].SampleCount != 4 ||
				gms.Datapoints[0].Unit != "Seconds" || gms.Datapoints[0].ExtendedStatistics["p50"] != 2 {
				t.Errorf("get-metric-statistics: %s", out)
			}
			if out, err := cw("put-metric-alarm", "--alarm-name", "lat", "--namespace", ns, "--metric-name", "Latency",
				"--statistic", "Average", "--period", "60", "--evaluation-periods", "1", "--threshold", "5",
				"--comparison-operator", "GreaterThanThreshold", "--dimensions", "Name=Host,Value=a"); err != nil {
				t.Fatalf("put-metric-alarm: %v: %s", err, out)
			}
			out, err = cw("describe-alarms", "--alarm-names", "lat")
			if err != nil || !strings.Contains(out, `"AlarmArn": "arn:aws:cloudwatch:us-east-1:000000000000:alarm:lat"`) {
				t.Errorf("describe-alarms: %v: %s", err, out)
			}
			out, err = cw("list-metrics", "--namespace", ns)
			if err != nil || !strings.Contains(out, `"MetricName": "Latency"`) {
				t.Errorf("list-metrics: %v: %s", err, out)
			}
			out, err = cw("put-metric-data", "--namespace", "AWS/EC2", "--metric-name", "x", "--value", "1")
			if err == nil || !strings.Contains(out, "InvalidParameterValue") {
				t.Errorf("reserved namespace: %v: %s", err, out)
			}
			out, err = cw("set-alarm-state", "--alarm-name", "missing", "--state-value", "OK", "--state-reason", "x")
			if err == nil || !strings.Contains(out, "ResourceNotFound") {
				t.Errorf("set-alarm-state on a missing alarm: %v: %s", err, out)
			}
			if out, err := cw("delete-alarms", "--alarm-names", "lat"); err != nil {
				t.Fatalf("delete-alarms: %v: %s", err, out)
			}
		})
	}
}

const boto3Script = `
import boto3, json, sys, datetime
from botocore.exceptions import ClientError
cw = boto3.client("cloudwatch", endpoint_url=sys.argv[1])
ns = sys.argv[2]
now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0) - datetime.timedelta(minutes=3)
cw.put_metric_data(Namespace=ns, MetricData=[
    {"MetricName": "Req", "Timestamp": now, "Value": 10.0},
    {"MetricName": "Req", "Timestamp": now + datetime.timedelta(minutes=1), "StatisticValues": {"SampleCount": 2, "Sum": 30, "Minimum": 10, "Maximum": 20}},
])
r = cw.get_metric_data(StartTime=now, EndTime=now + datetime.timedelta(minutes=3), ScanBy="TimestampAscending", MetricDataQueries=[
    {"Id": "m", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Req"}, "Period": 60, "Stat": "Sum"}, "ReturnData": False},
    {"Id": "r", "Expression": "RATE(m) * 60"},
    {"Id": "s", "Expression": "m + 1"},
])
out = {"results": {x["Id"]: x["Values"] for x in r["MetricDataResults"]}, "version": boto3.__version__}
try:
    cw.get_metric_statistics(Namespace=ns, MetricName="Req", StartTime=now, EndTime=now, Period=60, Statistics=["Sum"])
except ClientError as e:
    out["error"] = e.response["Error"]["Code"]
print(json.dumps(out))
`

// TestBoto3 drives CloudWatch with boto3 1.43 (json 1.0) and Debian's boto3
// (query).
func TestBoto3(t *testing.T) {
	e := start(t, envOpt{})
	for i, py := range awstest.Pythons(t) {
		t.Run(py.Name, func(t *testing.T) {
			out, err := run(t, py.Path, "-c", boto3Script, e.url, "Py"+string(rune('A'+i)))
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			var v struct {
				Results map[string][]float64
				Version string
				Error   string
			}
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			if got := v.Results["s"]; len(got) != 2 || got[0] != 11 || got[1] != 31 {
				t.Errorf("boto3 %s: s = %v", v.Version, got)
			}
			if got := v.Results["r"]; len(got) != 1 || got[0] != 20 {
				t.Errorf("boto3 %s: r = %v", v.Version, got)
			}
			if v.Error != "InvalidParameterValue" {
				t.Errorf("boto3 %s: error code %q", v.Version, v.Error)
			}
		})
	}
}
