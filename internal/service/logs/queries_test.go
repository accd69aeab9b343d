package logs_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

func TestInsightsQueries(t *testing.T) {
	e := start(t, opts{})
	c := e.client
	setup(t, c, "api", "a", "b")
	base := time.Now().Add(-30 * time.Minute).Truncate(5 * time.Minute)
	var a, b []string
	for i := 0; i < 10; i++ {
		a = append(a, fmt.Sprintf(`{"path":"/x","status":%d,"ms":%d}`, 200+100*(i%3), i))
		b = append(b, fmt.Sprintf("GET /y %d", i))
	}
	put(t, c, "api", "a", base, a...)
	put(t, c, "api", "b", base.Add(6*time.Minute), b...)

	run := func(q string) *cwl.GetQueryResultsOutput {
		t.Helper()
		out, err := c.StartQuery(ctx, &cwl.StartQueryInput{LogGroupName: aws.String("api"), QueryString: aws.String(q),
			StartTime: aws.Int64(base.Add(-time.Hour).Unix()), EndTime: aws.Int64(time.Now().Unix())})
		if err != nil {
			t.Fatal(err)
		}
		// Queries complete when started; poll as a client would, bounded.
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
			res, err := c.GetQueryResults(ctx, &cwl.GetQueryResultsInput{QueryId: out.QueryId})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status == types.QueryStatusComplete {
				return res
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatal("query never completed")
		return nil
	}
	field := func(row []types.ResultField, name string) string {
		for _, f := range row {
			if *f.Field == name {
				return *f.Value
			}
		}
		return "<none>"
	}
	res := run(`fields @timestamp, status, @logStream | filter status >= 300 | sort ms desc | limit 3`)
	if len(res.Results) != 3 || field(res.Results[0], "status") != "400" || field(res.Results[1], "status") != "300" || field(res.Results[0], "@logStream") != "a" ||
		field(res.Results[0], "@ptr") == "<none>" || res.Statistics.RecordsScanned != 20 || res.Statistics.RecordsMatched != 6 {
		t.Errorf("fields/filter/sort: %s %+v", dump(res.Results), res.Statistics)
	}
	res = run(`stats count(*) as n by bin(5m)`)
	if len(res.Results) != 2 || field(res.Results[0], "n") != "10" || field(res.Results[0], "bin(5m)") != base.UTC().Format("2006-01-02 15:04:05.000") {
		t.Errorf("stats by bin: %s", dump(res.Results))
	}
	res = run(`parse @message "GET * *" as p, n | filter ispresent(p) | stats sum(n), max(n) by p`)
	if len(res.Results) != 1 || field(res.Results[0], "p") != "/y" || field(res.Results[0], "sum(n)") != "45" || field(res.Results[0], "max(n)") != "9" {
		t.Errorf("parse/stats: %s", dump(res.Results))
	}
	_, err := c.StartQuery(ctx, &cwl.StartQueryInput{LogGroupName: aws.String("api"), QueryString: aws.String("bogus"),
		StartTime: aws.Int64(0), EndTime: aws.Int64(1)})
	wantErr(t, err, "MalformedQueryException", "")
	_, err = c.StartQuery(ctx, &cwl.StartQueryInput{LogGroupName: aws.String("none"), QueryString: aws.String("limit 1"),
		StartTime: aws.Int64(0), EndTime: aws.Int64(1)})
	wantErr(t, err, "ResourceNotFoundException", "")
	_, err = c.GetQueryResults(ctx, &cwl.GetQueryResultsInput{QueryId: aws.String("nope")})
	wantErr(t, err, "ResourceNotFoundException", "")
	dq, err := c.DescribeQueries(ctx, &cwl.DescribeQueriesInput{LogGroupName: aws.String("api")})
	if err != nil || len(dq.Queries) != 3 || dq.Queries[0].Status != types.QueryStatusComplete {
		t.Errorf("describe queries: %+v %v", dq, err)
	}
	stop, err := c.StopQuery(ctx, &cwl.StopQueryInput{QueryId: dq.Queries[0].QueryId})
	if err != nil || stop.Success {
		t.Errorf("stop a finished query: %+v %v", stop, err)
	}
}

func dump(rows [][]types.ResultField) string {
	var out string
	for _, r := range rows {
		out += "["
		for _, f := range r {
			out += *f.Field + "=" + *f.Value + " "
		}
		out += "]"
	}
	return out
}
