package insights

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Record is one log event's fields: @timestamp (epoch milliseconds),
// @message, @logStream, @log, @ingestionTime, plus the fields discovered in
// JSON messages (flattened with dots) and extracted by parse.
type Record map[string]string

// Field is one output column of a result row.
type Field struct {
	Name, Value string
}

// Result is a finished query.
type Result struct {
	Rows           [][]Field
	RecordsScanned int
	RecordsMatched int
	BytesScanned   int
}

// NewRecord builds the record of an event.
func NewRecord(ts, ingest int64, message, stream, group string) Record {
	r := Record{"@timestamp": strconv.FormatInt(ts, 10), "@message": message, "@logStream": stream,
		"@log": group, "@ingestionTime": strconv.FormatInt(ingest, 10)}
	if len(message) > 1 && message[0] == '{' {
		var doc map[string]any
		if json.Unmarshal([]byte(message), &doc) == nil {
			flatten(r, "", doc, 0)
		}
	} else if strings.HasPrefix(message, "REPORT RequestId: ") || strings.HasPrefix(message, "START RequestId: ") ||
		strings.HasPrefix(message, "END RequestId: ") {
		lambdaFields(r, message)
	}
	return r
}

// lambdaReport maps the fields of Lambda's REPORT line to the fields Logs
// Insights discovers in Lambda log groups.
var lambdaReport = []struct{ label, field string }{
	{"Duration: ", "@duration"}, {"Billed Duration: ", "@billedDuration"}, {"Memory Size: ", "@memorySize"},
	{"Max Memory Used: ", "@maxMemoryUsed"}, {"Init Duration: ", "@initDuration"},
}

func lambdaFields(r Record, msg string) {
	typ, rest, _ := strings.Cut(msg, " RequestId: ")
	r["@type"] = typ
	id := rest
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		id, rest = rest[:i], rest[i:]
	}
	r["@requestId"] = id
	if typ != "REPORT" {
		return
	}
	for _, part := range strings.Split(rest, "\t") {
		part = strings.TrimSpace(part)
		for _, f := range lambdaReport {
			if v, ok := strings.CutPrefix(part, f.label); ok {
				num, _, _ := strings.Cut(v, " ")
				r[f.field] = num
			}
		}
	}
}

func flatten(r Record, prefix string, v any, depth int) {
	if depth > 16 {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			flatten(r, name, e, depth+1)
		}
	case []any:
		for i, e := range x {
			flatten(r, prefix+"."+strconv.Itoa(i), e, depth+1)
		}
	case string:
		r[prefix] = x
	case float64:
		r[prefix] = strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		r[prefix] = strconv.FormatBool(x)
	case nil:
		r[prefix] = ""
	}
}

// timeFields are rendered as "2006-01-02 15:04:05.000" in results.
var timeFields = map[string]bool{"@timestamp": true, "@ingestionTime": true}

func fmtTime(ms string) string {
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return ms
	}
	return time.UnixMilli(n).UTC().Format("2006-01-02 15:04:05.000")
}

// Run evaluates q over the records next yields (in any order) and returns
// at most limit rows.
func (q *Query) Run(next func() (Record, bool), limit int) *Result {
	res := &Result{}
	var recs []Record
	for {
		r, ok := next()
		if !ok {
			break
		}
		res.RecordsScanned++
		res.BytesScanned += len(r["@message"])
		recs = append(recs, r)
	}
	res.RecordsMatched = len(recs)
	// Without a sort command, results are newest first.
	sort.SliceStable(recs, func(i, j int) bool { return compare(recs[i]["@timestamp"], recs[j]["@timestamp"]) > 0 })
	var cols []string // output columns; nil means the default
	stats := false
	userLimit := 0
	for _, c := range q.cmds {
		switch c := c.(type) {
		case *fieldsCmd:
			for _, a := range c.fields {
				for _, r := range recs {
					if v, ok := r[a.name]; ok && a.as != a.name {
						r[a.as] = v
					}
				}
				cols = appendUnique(cols, a.as)
			}
		case *filterCmd:
			kept := recs[:0]
			for _, r := range recs {
				if isTrue(c.e, r) {
					kept = append(kept, r)
				}
			}
			recs = kept
			res.RecordsMatched = len(recs)
		case *parseCmd:
			for _, r := range recs {
				v, ok := r[c.field]
				if !ok {
					continue
				}
				m := c.re.FindStringSubmatch(v)
				if m == nil {
					continue
				}
				for i, n := range c.names {
					r[n] = m[i+1]
				}
			}
		case *statsCmd:
			recs, cols = runStats(c, recs)
			stats = true
		case *sortCmd:
			keys := c.keys
			sort.SliceStable(recs, func(i, j int) bool {
				for _, k := range keys {
					a, aok := recs[i][k.field]
					b, bok := recs[j][k.field]
					if aok != bok {
						return aok // present values first
					}
					if c := compare(a, b); c != 0 {
						return (c < 0) != k.desc
					}
				}
				return false
			})
		case *limitCmd:
			userLimit = c.n
			if len(recs) > c.n {
				recs = recs[:c.n]
			}
		}
	}
	if !stats {
		if cols == nil {
			cols = []string{"@timestamp", "@message"}
		}
	}
	if userLimit > 0 && userLimit < limit {
		limit = userLimit
	}
	if limit > 0 && len(recs) > limit {
		recs = recs[:limit]
	}
	for _, r := range recs {
		row := make([]Field, 0, len(cols)+1)
		for _, c := range cols {
			v, ok := r[c]
			if !ok {
				continue
			}
			if timeFields[c] && !stats {
				v = fmtTime(v)
			}
			row = append(row, Field{c, v})
		}
		if !stats {
			row = append(row, Field{"@ptr", r["@ptr"]})
		}
		res.Rows = append(res.Rows, row)
	}
	return res
}

func appendUnique(l []string, s string) []string {
	for _, x := range l {
		if x == s {
			return l
		}
	}
	return append(l, s)
}

type accum struct {
	count    int
	sum      float64
	n        int
	min, max float64
	distinct map[string]bool
}

func runStats(c *statsCmd, recs []Record) ([]Record, []string) {
	type group struct {
		key  Record
		accs []accum
	}
	groups := map[string]*group{}
	var order []string
	for _, r := range recs {
		key := Record{}
		var kb []byte
		skip := false
		for _, k := range c.by {
			v, ok := r[k.field]
			if !ok {
				skip = true
				break
			}
			if k.bin > 0 {
				ms, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					skip = true
					break
				}
				b := k.bin.Milliseconds()
				v = fmtTime(strconv.FormatInt(ms-((ms%b)+b)%b, 10))
			}
			key[k.label] = v
			kb = append(kb, v...)
			kb = append(kb, 0)
		}
		if skip {
			continue
		}
		g := groups[string(kb)]
		if g == nil {
			g = &group{key: key, accs: make([]accum, len(c.aggs))}
			for i := range g.accs {
				g.accs[i].min, g.accs[i].max = math.Inf(1), math.Inf(-1)
			}
			groups[string(kb)] = g
			order = append(order, string(kb))
		}
		for i, a := range c.aggs {
			acc := &g.accs[i]
			if a.arg == "" {
				acc.count++
				continue
			}
			v, ok := r[a.arg]
			if !ok {
				continue
			}
			acc.count++
			if a.fn == "count_distinct" {
				if acc.distinct == nil {
					acc.distinct = map[string]bool{}
				}
				acc.distinct[v] = true
				continue
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			acc.n++
			acc.sum += f
			acc.min = math.Min(acc.min, f)
			acc.max = math.Max(acc.max, f)
		}
	}
	sort.Strings(order)
	var cols []string
	for _, k := range c.by {
		cols = append(cols, k.label)
	}
	for _, a := range c.aggs {
		cols = append(cols, a.label)
	}
	out := make([]Record, 0, len(order))
	for _, k := range order {
		g := groups[k]
		r := Record{}
		for n, v := range g.key {
			r[n] = v
		}
		for i, a := range c.aggs {
			acc := g.accs[i]
			var v string
			switch a.fn {
			case "count":
				v = strconv.Itoa(acc.count)
			case "count_distinct":
				v = strconv.Itoa(len(acc.distinct))
			case "sum":
				if acc.n == 0 {
					continue
				}
				v = num(acc.sum)
			case "avg":
				if acc.n == 0 {
					continue
				}
				v = num(acc.sum / float64(acc.n))
			case "min":
				if acc.n == 0 {
					continue
				}
				v = num(acc.min)
			case "max":
				if acc.n == 0 {
					continue
				}
				v = num(acc.max)
			}
			r[a.label] = v
		}
		out = append(out, r)
	}
	return out, cols
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
