package logs_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

func TestGroups(t *testing.T) {
	e := start(t, opts{})
	c := e.client
	for _, n := range []string{"/app/web", "/app/api", "/other"} {
		if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(n),
			KmsKeyId: aws.String("arn:aws:kms:us-east-1:000000000000:key/k"), LogGroupClass: types.LogGroupClassInfrequentAccess,
			Tags: map[string]string{"team": "a"}}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("/app/web")})
	wantErr(t, err, "ResourceAlreadyExistsException", "The specified log group already exists")
	_, err = c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("bad name")})
	wantErr(t, err, "InvalidParameterException", "")
	_, err = c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("aws/mine")})
	wantErr(t, err, "InvalidParameterException", "")
	// The SDK validates required members itself; a raw request does not.
	hreq, _ := http.NewRequest("POST", e.url, strings.NewReader(`{}`))
	hreq.Header.Set("Content-Type", "application/x-amz-json-1.1")
	hreq.Header.Set("X-Amz-Target", "Logs_20140328.CreateLogGroup")
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "InvalidParameterException") ||
		!strings.Contains(string(body), "Value null at 'logGroupName'") {
		t.Errorf("missing name: %d %s", resp.StatusCode, body)
	}
	ids, err := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupIdentifiers: []string{"arn:aws:logs:us-east-1:000000000000:log-group:/other:*", "/app/web"}})
	if err != nil || len(ids.LogGroups) != 2 || *ids.LogGroups[0].LogGroupName != "/app/web" {
		t.Errorf("by identifiers: %+v %v", ids, err)
	}

	out, err := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/app/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.LogGroups) != 2 || *out.LogGroups[0].LogGroupName != "/app/api" {
		t.Fatalf("prefix: %+v", out.LogGroups)
	}
	g := out.LogGroups[0]
	if *g.Arn != "arn:aws:logs:us-east-1:000000000000:log-group:/app/api:*" || *g.LogGroupArn != "arn:aws:logs:us-east-1:000000000000:log-group:/app/api" ||
		g.LogGroupClass != types.LogGroupClassInfrequentAccess || *g.KmsKeyId != "arn:aws:kms:us-east-1:000000000000:key/k" || g.RetentionInDays != nil {
		t.Errorf("group: %+v", g)
	}
	out, _ = c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("WEB")})
	if len(out.LogGroups) != 1 || *out.LogGroups[0].LogGroupName != "/app/web" {
		t.Errorf("pattern: %+v", out.LogGroups)
	}
	// Pagination with limit 1 walks all three.
	var names []string
	p := cwl.NewDescribeLogGroupsPaginator(c, &cwl.DescribeLogGroupsInput{Limit: aws.Int32(1)})
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range pg.LogGroups {
			names = append(names, *g.LogGroupName)
		}
	}
	if strings.Join(names, ",") != "/app/api,/app/web,/other" {
		t.Errorf("paginated: %v", names)
	}

	// Retention.
	_, err = c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("/other"), RetentionInDays: aws.Int32(4)})
	wantErr(t, err, "InvalidParameterException", "")
	if _, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("/other"), RetentionInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	out, _ = c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/other")})
	if aws.ToInt32(out.LogGroups[0].RetentionInDays) != 7 {
		t.Errorf("retention: %+v", out.LogGroups[0])
	}
	if _, err := c.DeleteRetentionPolicy(ctx, &cwl.DeleteRetentionPolicyInput{LogGroupName: aws.String("/other")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("/none"), RetentionInDays: aws.Int32(7)})
	wantErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")

	// Tags, both APIs.
	arn := "arn:aws:logs:us-east-1:000000000000:log-group:/app/web"
	if _, err := c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"env": "prod"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &cwl.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil || len(tags.Tags) != 1 || tags.Tags["env"] != "prod" {
		t.Errorf("tags: %v %v", tags, err)
	}
	if _, err := c.TagLogGroup(ctx, &cwl.TagLogGroupInput{LogGroupName: aws.String("/app/web"), Tags: map[string]string{"x": "y"}}); err != nil {
		t.Fatal(err)
	}
	lt, err := c.ListTagsLogGroup(ctx, &cwl.ListTagsLogGroupInput{LogGroupName: aws.String("/app/web")})
	if err != nil || len(lt.Tags) != 2 || lt.Tags["x"] != "y" {
		t.Errorf("legacy tags: %v %v", lt, err)
	}

	if _, err := c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("/app/web")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("/app/web")})
	wantErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
}

func setup(t *testing.T, c *cwl.Client, group string, streams ...string) {
	t.Helper()
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	for _, s := range streams {
		if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(s)}); err != nil {
			t.Fatal(err)
		}
	}
}

func put(t *testing.T, c *cwl.Client, group, stream string, base time.Time, msgs ...string) *cwl.PutLogEventsOutput {
	t.Helper()
	evs := make([]types.InputLogEvent, len(msgs))
	for i, m := range msgs {
		evs[i] = types.InputLogEvent{Timestamp: ms(base.Add(time.Duration(i) * time.Second)), Message: aws.String(m)}
	}
	out, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: evs})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStreams(t *testing.T) {
	e := start(t, opts{})
	c := e.client
	setup(t, c, "g", "b", "a", "c")
	_, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("a")})
	wantErr(t, err, "ResourceAlreadyExistsException", "The specified log stream already exists")
	_, err = c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("nope"), LogStreamName: aws.String("a")})
	wantErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	_, err = c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("x:y")})
	wantErr(t, err, "InvalidParameterException", "")
	now := time.Now()
	put(t, c, "g", "c", now.Add(-time.Minute), "one")
	put(t, c, "g", "a", now, "two")

	names := func(in *cwl.DescribeLogStreamsInput) string {
		in.LogGroupName = aws.String("g")
		out, err := c.DescribeLogStreams(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, s := range out.LogStreams {
			n = append(n, *s.LogStreamName)
		}
		return strings.Join(n, ",")
	}
	if got := names(&cwl.DescribeLogStreamsInput{}); got != "a,b,c" {
		t.Errorf("by name: %s", got)
	}
	if got := names(&cwl.DescribeLogStreamsInput{Descending: aws.Bool(true)}); got != "c,b,a" {
		t.Errorf("descending: %s", got)
	}
	if got := names(&cwl.DescribeLogStreamsInput{OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true)}); got != "a,c,b" {
		t.Errorf("by last event: %s", got)
	}
	if got := names(&cwl.DescribeLogStreamsInput{LogStreamNamePrefix: aws.String("b")}); got != "b" {
		t.Errorf("prefix: %s", got)
	}
	_, err = c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("g"), OrderBy: types.OrderByLastEventTime, LogStreamNamePrefix: aws.String("a")})
	wantErr(t, err, "InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix.")
	out, _ := c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("g"), LogStreamNamePrefix: aws.String("a")})
	s := out.LogStreams[0]
	if aws.ToInt64(s.FirstEventTimestamp) != now.UnixMilli() || aws.ToInt64(s.LastEventTimestamp) != now.UnixMilli() ||
		s.LastIngestionTime == nil || *s.Arn != "arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:a" {
		t.Errorf("stream: %+v", s)
	}
	p := cwl.NewDescribeLogStreamsPaginator(c, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("g"), Limit: aws.Int32(2)})
	n := 0
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(pg.LogStreams)
	}
	if n != 3 {
		t.Errorf("paginated %d streams", n)
	}
	if _, err := c.DeleteLogStream(ctx, &cwl.DeleteLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("a")})
	wantErr(t, err, "ResourceNotFoundException", "The specified log stream does not exist.")
	if got := names(&cwl.DescribeLogStreamsInput{}); got != "b,c" {
		t.Errorf("after delete: %s", got)
	}
}

func TestPutLogEventsRules(t *testing.T) {
	e := start(t, opts{})
	c := e.client
	setup(t, c, "g", "s")
	now := time.Now()
	call := func(evs []types.InputLogEvent) (*cwl.PutLogEventsOutput, error) {
		return c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: evs})
	}
	ev := func(ts time.Time, m string) types.InputLogEvent {
		return types.InputLogEvent{Timestamp: ms(ts), Message: aws.String(m)}
	}
	_, err := call([]types.InputLogEvent{ev(now, "b"), ev(now.Add(-time.Second), "a")})
	wantErr(t, err, "InvalidParameterException", "Log events in a single PutLogEvents request must be in chronological order.")
	_, err = call([]types.InputLogEvent{ev(now.Add(-25*time.Hour), "a"), ev(now, "b")})
	wantErr(t, err, "InvalidParameterException", "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
	many := make([]types.InputLogEvent, 10001)
	for i := range many {
		many[i] = ev(now, "x")
	}
	_, err = call(many)
	wantErr(t, err, "InvalidParameterException", "")
	// 1,048,576 bytes counting 26 per event: exactly at the limit passes, one more byte fails.
	big := strings.Repeat("x", 1048576-26*2-1)
	if _, err := call([]types.InputLogEvent{ev(now, big), ev(now, "y")}); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	_, err = call([]types.InputLogEvent{ev(now, big), ev(now, "yz")})
	wantErr(t, err, "InvalidParameterException", "")
	_, err = c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("nope"), LogEvents: []types.InputLogEvent{ev(now, "a")}})
	wantErr(t, err, "ResourceNotFoundException", "The specified log stream does not exist.")

	// Too old, too new: accepted events in between are stored.
	out, err := call([]types.InputLogEvent{ev(now.Add(-14*24*time.Hour-2*time.Hour), "old"), ev(now.Add(-14*24*time.Hour-time.Hour), "old2"),
		ev(now.Add(-14*24*time.Hour+time.Hour), "ok"), ev(now.Add(-14*24*time.Hour+2*time.Hour), "ok2")})
	if err != nil {
		t.Fatal(err)
	}
	if r := out.RejectedLogEventsInfo; r == nil || aws.ToInt32(r.TooOldLogEventEndIndex) != 2 || r.TooNewLogEventStartIndex != nil {
		t.Errorf("too old: %+v", r)
	}
	out, err = call([]types.InputLogEvent{ev(now, "ok3"), ev(now.Add(3*time.Hour), "new")})
	if err != nil {
		t.Fatal(err)
	}
	if r := out.RejectedLogEventsInfo; r == nil || aws.ToInt32(r.TooNewLogEventStartIndex) != 1 {
		t.Errorf("too new: %+v", r)
	}
	if _, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	out, err = call([]types.InputLogEvent{ev(now.Add(-25*time.Hour), "expired"), ev(now.Add(-2*time.Hour), "ok4")})
	if err != nil {
		t.Fatal(err)
	}
	if r := out.RejectedLogEventsInfo; r == nil || aws.ToInt32(r.ExpiredLogEventEndIndex) != 1 {
		t.Errorf("expired: %+v", r)
	}
	// Reads stop at 1 MB per page.
	var msgs []string
	pg := cwl.NewGetLogEventsPaginator(c, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)},
		func(o *cwl.GetLogEventsPaginatorOptions) { o.StopOnDuplicateToken = true })
	pages := 0
	for pg.HasMorePages() {
		got, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range got.Events {
			// ok and ok2 may or may not have been expired yet.
			if m := *e.Message; len(m) < 10 && m != "ok" && m != "ok2" {
				msgs = append(msgs, m)
			}
		}
	}
	if pages < 3 {
		t.Errorf("%d pages: a page holds at most 1 MB", pages)
	}
	if strings.Join(msgs, ",") != "ok4,y,ok3" {
		t.Errorf("stored: %v", msgs)
	}
}

func TestGetLogEventsTokens(t *testing.T) {
	e := start(t, opts{})
	c := e.client
	setup(t, c, "g", "s")
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	var msgs []string
	for i := 0; i < 25; i++ {
		msgs = append(msgs, fmt.Sprintf("m%02d", i))
	}
	put(t, c, "g", "s", base, msgs...)
	get := func(in *cwl.GetLogEventsInput) *cwl.GetLogEventsOutput {
		t.Helper()
		in.LogGroupName, in.LogStreamName = aws.String("g"), aws.String("s")
		out, err := c.GetLogEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	text := func(out *cwl.GetLogEventsOutput) string {
		var s []string
		for _, e := range out.Events {
			s = append(s, *e.Message)
		}
		return strings.Join(s, ",")
	}
	// Default: the newest events.
	out := get(&cwl.GetLogEventsInput{Limit: aws.Int32(3)})
	if text(out) != "m22,m23,m24" {
		t.Errorf("tail: %s", text(out))
	}
	if !strings.HasPrefix(*out.NextForwardToken, "f/") || !strings.HasPrefix(*out.NextBackwardToken, "b/") {
		t.Errorf("tokens: %s %s", *out.NextForwardToken, *out.NextBackwardToken)
	}
	back := get(&cwl.GetLogEventsInput{Limit: aws.Int32(3), NextToken: out.NextBackwardToken})
	if text(back) != "m19,m20,m21" {
		t.Errorf("backward: %s", text(back))
	}
	// Forward at the end: no events and the same token.
	end := get(&cwl.GetLogEventsInput{NextToken: out.NextForwardToken})
	if len(end.Events) != 0 || *end.NextForwardToken != *out.NextForwardToken {
		t.Errorf("end: %d events, %s vs %s", len(end.Events), *end.NextForwardToken, *out.NextForwardToken)
	}
	// New events appear behind the forward token.
	put(t, c, "g", "s", base.Add(30*time.Second), "late")
	if got := get(&cwl.GetLogEventsInput{NextToken: out.NextForwardToken}); text(got) != "late" {
		t.Errorf("after put: %s", text(got))
	}
	// From the head with a time range.
	out = get(&cwl.GetLogEventsInput{StartFromHead: aws.Bool(true), StartTime: ms(base.Add(5 * time.Second)), EndTime: ms(base.Add(9 * time.Second)), Limit: aws.Int32(2)})
	if text(out) != "m05,m06" {
		t.Errorf("head range: %s", text(out))
	}
	out = get(&cwl.GetLogEventsInput{StartTime: ms(base.Add(5 * time.Second)), EndTime: ms(base.Add(9 * time.Second)), NextToken: out.NextForwardToken})
	if text(out) != "m07,m08" {
		t.Errorf("head range page 2: %s", text(out))
	}
	// Beginning reached backwards: same backward token.
	first := get(&cwl.GetLogEventsInput{StartFromHead: aws.Bool(true), Limit: aws.Int32(2)})
	again := get(&cwl.GetLogEventsInput{NextToken: first.NextBackwardToken})
	if len(again.Events) != 0 || *again.NextBackwardToken != *first.NextBackwardToken {
		t.Errorf("beginning: %d events, %s vs %s", len(again.Events), *again.NextBackwardToken, *first.NextBackwardToken)
	}
	// The SDK paginator walks forward and stops on the repeated token.
	p := cwl.NewGetLogEventsPaginator(c, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true), Limit: aws.Int32(10)},
		func(o *cwl.GetLogEventsPaginatorOptions) { o.StopOnDuplicateToken = true })
	n := 0
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(pg.Events)
	}
	if n != 26 {
		t.Errorf("paginator saw %d events", n)
	}
	_, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), NextToken: aws.String("garbage")})
	wantErr(t, err, "InvalidParameterException", "The specified nextToken is invalid.")
}

func TestFilterLogEvents(t *testing.T) {
	e := start(t, opts{})
	c := e.client
	setup(t, c, "g", "web-1", "web-2", "db")
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	put(t, c, "g", "web-1", base, "ERROR disk", "INFO ok", `{"level":"error","latency":900}`)
	put(t, c, "g", "web-2", base, "WARN slow", "ERROR net", `{"level":"info","latency":100}`)
	put(t, c, "g", "db", base, "ERROR lock", "INFO fine", "127.0.0.1 - - [x] \"GET /\" 500 2000")
	filter := func(in *cwl.FilterLogEventsInput) []string {
		t.Helper()
		in.LogGroupName = aws.String("g")
		out, err := c.FilterLogEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, e := range out.Events {
			s = append(s, *e.LogStreamName+":"+*e.Message)
			if len(*e.EventId) != 56 || e.IngestionTime == nil {
				t.Errorf("event: %+v", e)
			}
		}
		return s
	}
	check := func(name string, got []string, want ...string) {
		t.Helper()
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
	check("terms", filter(&cwl.FilterLogEventsInput{FilterPattern: aws.String("ERROR")}), "db:ERROR lock", "web-1:ERROR disk", "web-2:ERROR net")
	check("or", filter(&cwl.FilterLogEventsInput{FilterPattern: aws.String("?WARN ?lock")}), "db:ERROR lock", "web-2:WARN slow")
	check("exclude", filter(&cwl.FilterLogEventsInput{FilterPattern: aws.String("ERROR -disk"), LogStreamNamePrefix: aws.String("web")}), "web-2:ERROR net")
	check("json", filter(&cwl.FilterLogEventsInput{FilterPattern: aws.String(`{ $.latency > 500 }`)}), `web-1:{"level":"error","latency":900}`)
	check("delimited", filter(&cwl.FilterLogEventsInput{FilterPattern: aws.String(`[ip, u, user, ts, req, status=5*, bytes>1000]`)}), `db:127.0.0.1 - - [x] "GET /" 500 2000`)
	check("names+time", filter(&cwl.FilterLogEventsInput{LogStreamNames: []string{"web-2"}, StartTime: ms(base.Add(time.Second)), EndTime: ms(base.Add(time.Second))}), "web-2:ERROR net")
	_, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), LogStreamNames: []string{"a"}, LogStreamNamePrefix: aws.String("a")})
	wantErr(t, err, "InvalidParameterException", "")
	_, err = c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), FilterPattern: aws.String(`{ $.a = `)})
	wantErr(t, err, "InvalidParameterException", "")
	_, err = c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("none")})
	wantErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")

	// Pagination across streams keeps (time, stream) order and sees each event once.
	var all []string
	p := cwl.NewFilterLogEventsPaginator(c, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), Limit: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range pg.Events {
			all = append(all, *e.LogStreamName+"@"+fmt.Sprint(*e.Timestamp-base.UnixMilli()))
		}
	}
	check("paginated", all, "db@0", "web-1@0", "web-2@0", "db@1000", "web-1@1000", "web-2@1000", "db@2000", "web-1@2000", "web-2@2000")
	if pages != 5 {
		t.Errorf("%d pages", pages)
	}
}

// TestConcurrentPuts writes from many goroutines into a few streams and
// checks that every acknowledged event is stored once, in time order.
func TestConcurrentPuts(t *testing.T) {
	e := start(t, opts{})
	c := e.client
	setup(t, c, "g", "s0", "s1", "s2", "s3")
	base := time.Now().Add(-time.Hour)
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		go func(w int) {
			for i := 0; i < 25; i++ {
				evs := make([]types.InputLogEvent, 10)
				for j := range evs {
					evs[j] = types.InputLogEvent{Timestamp: ms(base.Add(time.Duration(i*10+j) * time.Millisecond)), Message: aws.String(fmt.Sprintf("w%d-%d-%d", w, i, j))}
				}
				if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("g"),
					LogStreamName: aws.String(fmt.Sprintf("s%d", w%4)), LogEvents: evs}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}(w)
	}
	for w := 0; w < 8; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	p := cwl.NewFilterLogEventsPaginator(c, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), Limit: aws.Int32(500)})
	var last int64
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range pg.Events {
			if seen[*ev.Message] {
				t.Fatalf("%s twice", *ev.Message)
			}
			if *ev.Timestamp < last {
				t.Fatalf("out of order at %s", *ev.Message)
			}
			seen[*ev.Message], last = true, *ev.Timestamp
		}
	}
	if len(seen) != 2000 {
		t.Errorf("%d events, want 2000", len(seen))
	}
	st, _ := c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("g")})
	for _, s := range st.LogStreams {
		if *s.StoredBytes == 0 || *s.FirstEventTimestamp != base.UnixMilli() {
			t.Errorf("stream %s: %+v", *s.LogStreamName, s)
		}
	}
}
