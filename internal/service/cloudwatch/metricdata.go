package cloudwatch

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/cloudwatch/tsdb"
)

const (
	maxQueries           = 500
	defaultMaxDatapoints = 100800
	maxSearchResults     = 500
)

var queryIDRe = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

// mquery is one MetricDataQuery.
type mquery struct {
	id, label, expr string
	returnData      bool
	period          int64
	// MetricStat
	isStat   bool
	statName string
	stat     statSpec
	unit     *uint8
	ns, name string
	dims     []tsdb.Dim
	// Expression
	node exprNode
	// raw is the query as received, for DescribeAlarms.
	raw map[string]any
}

// parseQueries validates MetricDataQueries (GetMetricData or an alarm's
// Metrics). field names the parameter in messages.
func parseQueries(l []any, field string, now, start time.Time) ([]*mquery, error) {
	if len(l) == 0 {
		return nil, missingParam("The parameter %s is required.", field)
	}
	if len(l) > maxQueries {
		return nil, validationError("The collection %s must not have a size greater than %d.", field, maxQueries)
	}
	qs := make([]*mquery, 0, len(l))
	ids := map[string]bool{}
	for i, v := range l {
		m := obj(v)
		f := fmt.Sprintf("%s.member.%d", field, i+1)
		q := &mquery{id: service.Str(m, "Id"), label: service.Str(m, "Label"), returnData: true, raw: m}
		if b, ok := m["ReturnData"].(bool); ok {
			q.returnData = b
		}
		if !queryIDRe.MatchString(q.id) || len(q.id) > 255 {
			return nil, validationError("Invalid %s.Id: the Id must start with a lowercase letter and contain only letters, numbers and underscores.", f)
		}
		if ids[q.id] {
			return nil, validationError("The value %s for parameter %s.Id is not unique.", q.id, f)
		}
		ids[q.id] = true
		ms, hasStat := m["MetricStat"].(map[string]any)
		q.expr = service.Str(m, "Expression")
		if hasStat == (q.expr != "") {
			return nil, validationError("Exactly one of %s.MetricStat and %s.Expression must be specified.", f, f)
		}
		if p, ok := service.Int(m, "Period"); ok {
			q.period = p
		}
		if hasStat {
			q.isStat = true
			metric := obj(ms["Metric"])
			q.ns, q.name = service.Str(metric, "Namespace"), service.Str(metric, "MetricName")
			if q.ns == "" || q.name == "" {
				return nil, validationError("%s.MetricStat.Metric must name a Namespace and a MetricName.", f)
			}
			dims, err := parseDims(list(metric, "Dimensions"), f+".MetricStat.Metric.Dimensions", false)
			if err != nil {
				return nil, err
			}
			q.dims = dims
			q.period, _ = service.Int(ms, "Period")
			if err := validPeriod(q.period, start, now, f+".MetricStat.Period"); err != nil {
				return nil, err
			}
			q.statName = service.Str(ms, "Stat")
			sp, ok := parseStat(q.statName)
			if !ok {
				return nil, validationError("The value %s for parameter %s.MetricStat.Stat is invalid.", q.statName, f)
			}
			q.stat = sp
			if u := service.Str(ms, "Unit"); u != "" {
				x := tsdb.UnitIndex(u)
				q.unit = &x
			}
			if q.label == "" {
				q.label = q.name
			}
		} else {
			n, err := parseExpr(q.expr)
			if err != nil {
				return nil, validationError("Error in expression '%s': %v", q.id, err)
			}
			q.node = n
			if q.period != 0 {
				if err := validPeriod(q.period, start, now, f+".Period"); err != nil {
					return nil, err
				}
			}
			if q.label == "" {
				q.label = q.id
			}
		}
		qs = append(qs, q)
	}
	// References must exist and must not form cycles.
	byID := map[string]*mquery{}
	for _, q := range qs {
		byID[q.id] = q
	}
	state := map[string]int{}
	var visit func(q *mquery) error
	visit = func(q *mquery) error {
		switch state[q.id] {
		case 1:
			return validationError("Circular dependency in metric math expression '%s'.", q.id)
		case 2:
			return nil
		}
		state[q.id] = 1
		if !q.isStat {
			r := map[string]bool{}
			refs(q.node, r)
			for id := range r {
				if strings.EqualFold(id, "REPEAT") || strings.EqualFold(id, "LINEAR") {
					continue
				}
				d, ok := byID[id]
				if !ok {
					return validationError("Error in expression '%s': Unrecognized metric or expression id '%s'.", q.id, id)
				}
				if err := visit(d); err != nil {
					return err
				}
			}
		}
		state[q.id] = 2
		return nil
	}
	for _, q := range qs {
		if err := visit(q); err != nil {
			return nil, err
		}
	}
	return qs, nil
}

// queryResult is one series of a query's result.
type queryResult struct {
	q      *mquery
	label  string
	ts     []int64
	values []float64
}

// runQueries evaluates qs over [start, end) and returns the results of the
// queries with ReturnData (all of them when all is set), in request order.
func (s *Service) runQueries(account, region string, qs []*mquery, start, end time.Time, all bool) ([]queryResult, error) {
	grid := int64(0)
	for _, q := range qs {
		grid = max(grid, q.period)
	}
	if grid == 0 {
		grid = 60
	}
	align := min(grid, 60)
	startU := start.Unix() / align * align
	endU := end.Unix()
	if endU <= startU {
		return nil, nil
	}
	n := (endU - startU + grid - 1) / grid
	if n > 100800 {
		return nil, validationError("The time range and period request too many datapoints.")
	}
	env := &evalEnv{period: grid, series: map[string]*tseries{}}
	env.grid = make([]int64, n)
	for i := range env.grid {
		env.grid[i] = startU + int64(i)*grid
	}
	env.search = func(expr, stat string, period int64) ([]*tseries, error) {
		return s.search(account, region, env, expr, stat, period)
	}
	// Metric stats on the common grid first.
	for _, q := range qs {
		if q.isStat {
			env.series[q.id] = s.statSeries(account, region, q, env, grid)
			env.order = append(env.order, q.id)
		}
	}
	values := map[string]mvalue{}
	byID := map[string]*mquery{}
	for _, q := range qs {
		byID[q.id] = q
	}
	var evalQ func(q *mquery) (mvalue, error)
	evalQ = func(q *mquery) (mvalue, error) {
		if v, ok := values[q.id]; ok {
			return v, nil
		}
		if q.isStat {
			v := mvalue{kind: 's', ser: env.series[q.id]}
			values[q.id] = v
			return v, nil
		}
		r := map[string]bool{}
		refs(q.node, r)
		for id := range r {
			if d := byID[id]; d != nil {
				v, err := evalQ(d)
				if err != nil {
					return v, err
				}
				if v.kind == 's' {
					env.series[id] = v.ser
				} else if v.kind == 'n' {
					c := env.newSeries()
					for i := range c.v {
						c.v[i] = v.num
					}
					env.series[id] = c
				}
			}
		}
		v, err := env.eval(q.node)
		if err != nil {
			return v, validationError("Error in expression '%s': %v", q.id, err)
		}
		values[q.id] = v
		return v, nil
	}
	var out []queryResult
	for _, q := range qs {
		if !q.returnData && !all {
			continue
		}
		if q.isStat {
			if q.period == grid {
				out = append(out, seriesResult(q, q.label, env.grid, env.series[q.id]))
				continue
			}
			own := &evalEnv{period: q.period}
			m := (endU - startU + q.period - 1) / q.period
			own.grid = make([]int64, m)
			for i := range own.grid {
				own.grid[i] = startU + int64(i)*q.period
			}
			out = append(out, seriesResult(q, q.label, own.grid, s.statSeries(account, region, q, own, q.period)))
			continue
		}
		v, err := evalQ(q)
		if err != nil {
			return nil, err
		}
		switch v.kind {
		case 'n':
			c := env.newSeries()
			for i := range c.v {
				c.v[i] = v.num
			}
			out = append(out, seriesResult(q, q.label, env.grid, c))
		case 's':
			out = append(out, seriesResult(q, q.label, env.grid, v.ser))
		case 'a':
			for _, ser := range v.arr {
				label := ser.label
				if q.raw["Label"] != nil {
					label = q.label + " " + ser.label
				}
				out = append(out, seriesResult(q, label, env.grid, ser))
			}
		default:
			return nil, validationError("Error in expression '%s': the expression does not produce a time series.", q.id)
		}
	}
	return out, nil
}

func seriesResult(q *mquery, label string, grid []int64, s *tseries) queryResult {
	r := queryResult{q: q, label: label}
	for i, v := range s.v {
		if !math.IsNaN(v) {
			r.ts = append(r.ts, grid[i])
			r.values = append(r.values, v)
		}
	}
	return r
}

// statSeries computes a MetricStat on env's grid at period.
func (s *Service) statSeries(account, region string, q *mquery, env *evalEnv, period int64) *tseries {
	out := env.newSeries()
	out.id, out.label = q.id, q.label
	if len(env.grid) == 0 {
		return out
	}
	ser := s.db.Get(tsdb.SeriesKey(account, region, q.ns, q.name, q.dims))
	if ser == nil {
		return out
	}
	start := env.grid[0]
	end := env.grid[len(env.grid)-1] + period
	needSketch := q.stat.kind >= statPercentile
	for _, a := range ser.Query(start, end, period, q.unit, needSketch) {
		i := (a.T - start) / period
		if i < 0 || int(i) >= len(out.v) {
			continue
		}
		if v, ok := q.stat.value(&a); ok {
			out.v[i] = v
		}
	}
	return out
}

func (s *Service) getMetricData(r *service.Request) (map[string]any, error) {
	in := r.Input
	start, ok1 := in["StartTime"].(time.Time)
	end, ok2 := in["EndTime"].(time.Time)
	if !ok1 || !ok2 {
		return nil, missingParam("The parameters StartTime and EndTime are required.")
	}
	if !start.Before(end) {
		return nil, validationError("The parameter StartTime must be less than the parameter EndTime.")
	}
	now := s.clk.Now()
	qs, err := parseQueries(list(in, "MetricDataQueries"), "MetricDataQueries", now, start)
	if err != nil {
		return nil, err
	}
	maxDP := int64(defaultMaxDatapoints)
	if v, ok := service.Int(in, "MaxDatapoints"); ok {
		if v <= 0 {
			return nil, validationError("The parameter MaxDatapoints must be greater than 0.")
		}
		maxDP = v
	}
	scan := service.Str(in, "ScanBy")
	if scan == "" {
		scan = "TimestampDescending"
	}
	offset := int64(0)
	if tok := service.Str(in, "NextToken"); tok != "" {
		o, ok := strings.CutPrefix(tok, "gmd1.")
		n, err := strconv.ParseInt(o, 10, 64)
		if !ok || err != nil || n <= 0 {
			return nil, badToken()
		}
		offset = n
	}
	results, err := s.runQueries(r.Account, r.Region, qs, start, end, false)
	if err != nil {
		return nil, err
	}
	var total int64
	for _, res := range results {
		total += int64(len(res.ts))
	}
	if offset > total {
		return nil, badToken()
	}
	pageEnd := min(total, offset+maxDP)
	out := map[string]any{"Messages": []any{}}
	list := make([]any, 0, len(results))
	pos := int64(0)
	for _, res := range results {
		ts, vs := res.ts, res.values
		if scan == "TimestampDescending" {
			ts, vs = reversed(ts), reversedF(vs)
		}
		n := int64(len(ts))
		lo, hi := max(offset-pos, 0), min(pageEnd-pos, n)
		pos += n
		if lo > n {
			lo = n
		}
		if hi < lo {
			hi = lo
		}
		tsl := make([]any, 0, hi-lo)
		vsl := make([]any, 0, hi-lo)
		for i := lo; i < hi; i++ {
			tsl = append(tsl, time.Unix(ts[i], 0).UTC())
			vsl = append(vsl, vs[i])
		}
		status := "Complete"
		if pageEnd < total && pos > pageEnd {
			status = "PartialData"
		}
		list = append(list, map[string]any{
			"Id": res.q.id, "Label": res.label, "Timestamps": tsl, "Values": vsl,
			"StatusCode": status, "Messages": []any{},
		})
	}
	out["MetricDataResults"] = list
	if pageEnd < total {
		out["NextToken"] = "gmd1." + strconv.FormatInt(pageEnd, 10)
	}
	return out, nil
}

func reversed(a []int64) []int64 {
	out := make([]int64, len(a))
	for i, v := range a {
		out[len(a)-1-i] = v
	}
	return out
}

func reversedF(a []float64) []float64 {
	out := make([]float64, len(a))
	for i, v := range a {
		out[len(a)-1-i] = v
	}
	return out
}

// search implements SEARCH('{Namespace,Dim...} terms', 'Stat', Period).
func (s *Service) search(account, region string, env *evalEnv, expr, stat string, period int64) ([]*tseries, error) {
	sp, ok := parseStat(stat)
	if !ok {
		return nil, fmt.Errorf("invalid statistic %q in SEARCH", stat)
	}
	if period <= 0 {
		return nil, fmt.Errorf("invalid period %d in SEARCH", period)
	}
	schema, terms, err := parseSearch(expr)
	if err != nil {
		return nil, err
	}
	var matched []*tsdb.Series
	s.db.Each(account, region, func(ser *tsdb.Series) bool {
		if schema != nil {
			if ser.Namespace != schema[0] || len(ser.Dims) != len(schema)-1 {
				return true
			}
			for _, name := range schema[1:] {
				found := false
				for _, d := range ser.Dims {
					if d.Name == name {
						found = true
					}
				}
				if !found {
					return true
				}
			}
		}
		for _, t := range terms {
			if !t.match(ser) {
				return true
			}
		}
		matched = append(matched, ser)
		return true
	})
	sort.Slice(matched, func(i, j int) bool { return matched[i].Key < matched[j].Key })
	if len(matched) > maxSearchResults {
		matched = matched[:maxSearchResults]
	}
	out := make([]*tseries, 0, len(matched))
	for _, ser := range matched {
		q := &mquery{isStat: true, ns: ser.Namespace, name: ser.Name, dims: ser.Dims, stat: sp, period: period}
		label := ser.Name
		for _, d := range ser.Dims {
			label += " " + d.Value
		}
		q.label = label
		t := s.statSeries(account, region, q, env, env.period)
		t.label = label
		out = append(out, t)
	}
	return out, nil
}

type searchTerm struct {
	key, value string // key "" matches any of namespace, name, dimension values
}

func (t searchTerm) match(ser *tsdb.Series) bool {
	switch t.key {
	case "":
		v := strings.ToLower(t.value)
		if strings.Contains(strings.ToLower(ser.Name), v) || strings.Contains(strings.ToLower(ser.Namespace), v) {
			return true
		}
		for _, d := range ser.Dims {
			if strings.Contains(strings.ToLower(d.Value), v) || strings.Contains(strings.ToLower(d.Name), v) {
				return true
			}
		}
		return false
	case "MetricName":
		return ser.Name == t.value
	case "Namespace":
		return ser.Namespace == t.value
	}
	for _, d := range ser.Dims {
		if d.Name == t.key && d.Value == t.value {
			return true
		}
	}
	return false
}

// parseSearch parses a search expression: an optional schema
// {Namespace,DimName,...} followed by terms (Key=Value, Key="Value", words
// or "quoted phrases"); terms are ANDed (the AND keyword is accepted).
func parseSearch(expr string) (schema []string, terms []searchTerm, err error) {
	i := 0
	n := len(expr)
	skip := func() {
		for i < n && (expr[i] == ' ' || expr[i] == '\t') {
			i++
		}
	}
	word := func() (string, error) {
		skip()
		if i < n && (expr[i] == '"' || expr[i] == '\'') {
			q := expr[i]
			j := i + 1
			for j < n && expr[j] != q {
				j++
			}
			if j >= n {
				return "", fmt.Errorf("unterminated quote in search expression")
			}
			w := expr[i+1 : j]
			i = j + 1
			return w, nil
		}
		j := i
		for j < n && !strings.ContainsRune(" \t{},=()", rune(expr[j])) {
			j++
		}
		w := expr[i:j]
		i = j
		return w, nil
	}
	skip()
	if i < n && expr[i] == '{' {
		i++
		for {
			w, err := word()
			if err != nil {
				return nil, nil, err
			}
			if w == "" {
				return nil, nil, fmt.Errorf("empty name in search schema")
			}
			schema = append(schema, w)
			skip()
			if i < n && expr[i] == ',' {
				i++
				continue
			}
			if i < n && expr[i] == '}' {
				i++
				break
			}
			return nil, nil, fmt.Errorf("unterminated search schema")
		}
	}
	for {
		skip()
		if i >= n {
			break
		}
		w, err := word()
		if err != nil {
			return nil, nil, err
		}
		if w == "" {
			if i < n {
				return nil, nil, fmt.Errorf("unexpected %q in search expression", expr[i])
			}
			return nil, nil, fmt.Errorf("empty term in search expression")
		}
		if w == "AND" {
			continue
		}
		skip()
		if i < n && expr[i] == '=' {
			i++
			v, err := word()
			if err != nil {
				return nil, nil, err
			}
			terms = append(terms, searchTerm{key: w, value: v})
			continue
		}
		terms = append(terms, searchTerm{value: w})
	}
	if schema == nil && len(terms) == 0 {
		return nil, nil, fmt.Errorf("empty search expression")
	}
	return schema, terms, nil
}
