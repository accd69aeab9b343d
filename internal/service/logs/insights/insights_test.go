package insights

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func records(n int, base time.Time) func() (Record, bool) {
	i := 0
	return func() (Record, bool) {
		if i >= n {
			return nil, false
		}
		ts := base.Add(time.Duration(i) * time.Minute).UnixMilli()
		level := "INFO"
		if i%3 == 0 {
			level = "ERROR"
		}
		msg := fmt.Sprintf(`{"level":"%s","latency":%d,"user":{"id":"u%d"}}`, level, i*10, i%2)
		if i%5 == 4 {
			msg = fmt.Sprintf("%s user=bob action=login took=%dms", level, i)
		}
		r := NewRecord(ts, ts, msg, "s", "g")
		r["@ptr"] = fmt.Sprint(i)
		i++
		return r, true
	}
}

func render(res *Result) string {
	var rows []string
	for _, row := range res.Rows {
		var f []string
		for _, c := range row {
			if c.Name != "@ptr" {
				f = append(f, c.Name+"="+c.Value)
			}
		}
		rows = append(rows, strings.Join(f, " "))
	}
	return strings.Join(rows, "\n")
}

func TestQueries(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct{ q, want string }{
		{`fields @timestamp, level | filter level = "ERROR" and latency >= 30 | sort latency asc | limit 2`,
			"@timestamp=2026-03-01 12:03:00.000 level=ERROR\n@timestamp=2026-03-01 12:06:00.000 level=ERROR"},
		{`stats count(*) as n, avg(latency), max(latency) by bin(5m)`,
			"bin(5m)=2026-03-01 12:00:00.000 n=5 avg(latency)=15 max(latency)=30\nbin(5m)=2026-03-01 12:05:00.000 n=5 avg(latency)=65 max(latency)=80"},
		{`filter @message like /login/ | parse @message "* user=* action=* took=*ms" as lvl, who, what, took | stats sum(took), count(*) by who`,
			"who=bob sum(took)=13 count(*)=2"},
		{`parse @message /user=(?<who>\w+)/ | filter ispresent(who) | fields who | limit 1`, "who=bob"},
		{`filter user.id in ["u1"] and not level like "ERR" | stats count(*)`, "count(*)=3"},
		{`stats min(latency), count_distinct(level) by user.id | sort user.id desc`,
			"user.id=u1 min(latency)=10 count_distinct(level)=2\nuser.id=u0 min(latency)=0 count_distinct(level)=2"},
		{`fields @message | filter latency > 70`, `@message={"level":"INFO","latency":80,"user":{"id":"u0"}}`},
	}
	for _, c := range cases {
		q, err := Parse(c.q)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.q, err)
			continue
		}
		res := q.Run(records(10, base), 1000)
		if got := render(res); got != c.want {
			t.Errorf("%s:\ngot  %q\nwant %q", c.q, got, c.want)
		}
		if res.RecordsScanned != 10 {
			t.Errorf("scanned %d", res.RecordsScanned)
		}
	}
	// Default: newest first, @timestamp and @message.
	q, _ := Parse("limit 1")
	res := q.Run(records(3, base), 100)
	if len(res.Rows) != 1 || res.Rows[0][0].Value != "2026-03-01 12:02:00.000" || res.Rows[0][1].Name != "@message" || res.Rows[0][2].Name != "@ptr" {
		t.Errorf("default: %+v", res.Rows)
	}
}

func TestSyntaxErrors(t *testing.T) {
	for _, q := range []string{"", "fields", "bogus x", "stats avg(*)", "stats count(*) by bin(5x)", "limit 0", "limit x",
		`parse @message "x" as a`, `parse @message "*" as a, b`, "filter (a = 1", "filter a like 3", "sort", "fields a b",
		`filter "unterminated`, "filter a = /x", "stats count(*) |", "parse @message /(\\w+)/"} {
		if _, err := Parse(q); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %v, want a syntax error", q, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"fields a, b | filter a > 1 or b like /x/ | sort a desc | limit 3",
		"stats count(*), avg(x) by bin(1h), y", `parse @message "* - *" as a, b`, "filter not (a in [1, 2]) and ispresent(b)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("%v does not wrap ErrSyntax", err)
			}
			return
		}
		q.Run(records(7, time.Unix(0, 0)), 5)
	})
}

func TestLambdaFields(t *testing.T) {
	recs := []Record{
		NewRecord(1, 1, "START RequestId: r1 Version: $LATEST", "s", "/aws/lambda/f"),
		NewRecord(2, 2, "REPORT RequestId: r1\tDuration: 89.34 ms\tBilled Duration: 90 ms\tMemory Size: 128 MB\tMax Memory Used: 111 MB\t", "s", "/aws/lambda/f"),
		NewRecord(3, 3, "REPORT RequestId: r2\tDuration: 10.66 ms\tBilled Duration: 11 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\tInit Duration: 200.5 ms\t", "s", "/aws/lambda/f"),
	}
	q, err := Parse(`filter @type = "REPORT" | stats avg(@duration), max(@maxMemoryUsed), count(@initDuration)`)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	res := q.Run(func() (Record, bool) {
		if i == len(recs) {
			return nil, false
		}
		i++
		return recs[i-1], true
	}, 10)
	if got := render(res); got != "avg(@duration)=50 max(@maxMemoryUsed)=111 count(@initDuration)=1" {
		t.Errorf("got %q", got)
	}
}
