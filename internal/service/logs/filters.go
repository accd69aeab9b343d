package logs

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/logs/pattern"
	"github.com/overcast-dev/overcast/internal/storage"
)

const (
	maxMetricFilters       = 100
	maxSubscriptionFilters = 2
)

type transformation struct {
	MetricName string            `json:"m"`
	Namespace  string            `json:"ns"`
	Value      string            `json:"v"`
	Default    *float64          `json:"d,omitempty"`
	Dimensions map[string]string `json:"dim,omitempty"`
	Unit       string            `json:"u,omitempty"`
}

type metricFilterMeta struct {
	Name               string           `json:"n"`
	Group              string           `json:"g"`
	Pattern            string           `json:"p"`
	Transformations    []transformation `json:"t"`
	Created            int64            `json:"c"`
	ApplyOnTransformed bool             `json:"at,omitempty"`
	FieldSelection     string           `json:"fs,omitempty"`
	EmitSystemFields   []string         `json:"es,omitempty"`
}

type metricFilter struct {
	meta metricFilterMeta
	p    *pattern.Pattern
}

type subFilterMeta struct {
	Name               string   `json:"n"`
	Group              string   `json:"g"`
	Pattern            string   `json:"p"`
	Destination        string   `json:"d"`
	Role               string   `json:"r,omitempty"`
	Distribution       string   `json:"di,omitempty"`
	Created            int64    `json:"c"`
	ApplyOnTransformed bool     `json:"at,omitempty"`
	FieldSelection     string   `json:"fs,omitempty"`
	EmitSystemFields   []string `json:"es,omitempty"`
}

type subFilter struct {
	meta subFilterMeta
	p    *pattern.Pattern
}

func parsePattern(in map[string]any) (*pattern.Pattern, string, error) {
	v, ok := in["filterPattern"].(string)
	if !ok {
		return nil, "", missing("filterPattern")
	}
	if len(v) > 1024 {
		return nil, "", invalidParam("1 validation error detected: Value at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to 1024")
	}
	p, err := pattern.Parse(v)
	if err != nil {
		return nil, "", invalidParam("Invalid filter pattern: %v", strings.TrimPrefix(err.Error(), "invalid filter pattern: "))
	}
	return p, v, nil
}

func isSelector(v string) bool { return strings.HasPrefix(v, "$") && len(v) > 1 }

func parseTransformation(raw any) (transformation, error) {
	m, _ := raw.(map[string]any)
	t := transformation{MetricName: service.Str(m, "metricName"), Namespace: service.Str(m, "metricNamespace"),
		Value: service.Str(m, "metricValue"), Unit: service.Str(m, "unit")}
	if t.MetricName == "" {
		return t, missing("metricTransformations.1.member.metricName")
	}
	if t.Namespace == "" {
		return t, missing("metricTransformations.1.member.metricNamespace")
	}
	if t.Value == "" {
		return t, missing("metricTransformations.1.member.metricValue")
	}
	if !isSelector(t.Value) {
		if _, err := strconv.ParseFloat(t.Value, 64); err != nil {
			return t, invalidParam("Invalid metric value: %s. The metric value must be a number or a reference to a field, like $.field or $field.", t.Value)
		}
	}
	if d, ok := m["defaultValue"].(float64); ok {
		t.Default = &d
	}
	if dims, ok := m["dimensions"].(map[string]any); ok && len(dims) > 0 {
		if len(dims) > 3 {
			return t, invalidParam("A metric filter can have at most 3 dimensions.")
		}
		if t.Default != nil {
			return t, invalidParam("A metric filter with dimensions cannot have a default value.")
		}
		t.Dimensions = map[string]string{}
		for k, v := range dims {
			sv, _ := v.(string)
			if !isSelector(sv) {
				return t, invalidParam("Invalid dimension value %s for %s: dimension values must reference a field, like $.field or $field.", sv, k)
			}
			t.Dimensions[k] = sv
		}
	}
	return t, nil
}

func (s *Service) putMetricFilter(req *service.Request) (map[string]any, error) {
	gname := service.Str(req.Input, "logGroupName")
	if gname == "" {
		return nil, missing("logGroupName")
	}
	name := service.Str(req.Input, "filterName")
	if name == "" {
		return nil, missing("filterName")
	}
	p, src, err := parsePattern(req.Input)
	if err != nil {
		return nil, err
	}
	raw, _ := req.Input["metricTransformations"].([]any)
	if len(raw) == 0 {
		return nil, missing("metricTransformations")
	}
	if len(raw) > 1 {
		return nil, invalidParam("1 validation error detected: Value at 'metricTransformations' failed to satisfy constraint: Member must have length less than or equal to 1")
	}
	t, err := parseTransformation(raw[0])
	if err != nil {
		return nil, err
	}
	g, err := s.lookupGroup(req, gname)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.deleted {
		return nil, groupNotFound()
	}
	if g.mfs[name] == nil && len(g.mfs) >= maxMetricFilters {
		return nil, logsErr(errLimitExceeded, "Resource limit exceeded.")
	}
	m := metricFilterMeta{Name: name, Group: gname, Pattern: src, Transformations: []transformation{t},
		Created: s.clk.Now().UnixMilli(), ApplyOnTransformed: service.Bool(req.Input, "applyOnTransformedLogs"),
		FieldSelection: service.Str(req.Input, "fieldSelectionCriteria"), EmitSystemFields: service.Strings(req.Input, "emitSystemFieldDimensions")}
	if old := g.mfs[name]; old != nil {
		m.Created = old.meta.Created
	}
	b, _ := json.Marshal(&m)
	if err := s.kv.Update(func(tx storage.Tx) error {
		return tx.Put(scopeOf(req.Account, req.Region).Key("mf", gname, name), b)
	}); err != nil {
		return nil, err
	}
	g.mfs[name] = &metricFilter{meta: m, p: p}
	return map[string]any{}, nil
}

func transformationOutput(t transformation) map[string]any {
	o := map[string]any{"metricName": t.MetricName, "metricNamespace": t.Namespace, "metricValue": t.Value}
	if t.Default != nil {
		o["defaultValue"] = *t.Default
	}
	if len(t.Dimensions) > 0 {
		d := map[string]any{}
		for k, v := range t.Dimensions {
			d[k] = v
		}
		o["dimensions"] = d
	}
	if t.Unit != "" {
		o["unit"] = t.Unit
	}
	return o
}

func offsetToken(tok string) (int, error) {
	if tok == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "o:"))
	if err != nil || err2 != nil || n < 0 || !strings.HasPrefix(string(b), "o:") {
		return 0, badToken()
	}
	return n, nil
}

func mkOffsetToken(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(n)))
}

func describeLimit(in map[string]any) (int, error) {
	if l, ok := service.Int(in, "limit"); ok {
		if l < 1 || l > 50 {
			return 0, invalidParam("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50", l)
		}
		return int(l), nil
	}
	return 50, nil
}

// page applies offset/limit pagination to items.
func page(items []any, in map[string]any, listKey string) (map[string]any, error) {
	limit, err := describeLimit(in)
	if err != nil {
		return nil, err
	}
	off, err := offsetToken(service.Str(in, "nextToken"))
	if err != nil {
		return nil, err
	}
	if off > len(items) {
		off = len(items)
	}
	end := min(off+limit, len(items))
	out := map[string]any{listKey: nonNil(items[off:end])}
	if end < len(items) {
		out["nextToken"] = mkOffsetToken(end)
	}
	return out, nil
}

func (s *Service) describeMetricFilters(req *service.Request) (map[string]any, error) {
	gname := service.Str(req.Input, "logGroupName")
	prefix := service.Str(req.Input, "filterNamePrefix")
	mname, mns := service.Str(req.Input, "metricName"), service.Str(req.Input, "metricNamespace")
	if prefix != "" && gname == "" {
		return nil, invalidParam("If filterNamePrefix is specified, logGroupName must also be specified.")
	}
	if (mname == "") != (mns == "") {
		return nil, invalidParam("If you specify metricName, you must also specify metricNamespace, and vice versa.")
	}
	var groups []*group
	if gname != "" {
		g, err := s.lookupGroup(req, gname)
		if err != nil {
			return nil, err
		}
		groups = []*group{g}
	} else {
		groups = s.region(req.Account, req.Region).sortedGroups()
	}
	var items []any
	for _, g := range groups {
		g.mu.Lock()
		names := make([]string, 0, len(g.mfs))
		for n := range g.mfs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			mf := g.mfs[n].meta
			if prefix != "" && !strings.HasPrefix(n, prefix) {
				continue
			}
			if mname != "" && (mf.Transformations[0].MetricName != mname || mf.Transformations[0].Namespace != mns) {
				continue
			}
			ts := make([]any, len(mf.Transformations))
			for i, t := range mf.Transformations {
				ts[i] = transformationOutput(t)
			}
			o := map[string]any{"filterName": mf.Name, "filterPattern": mf.Pattern, "metricTransformations": ts,
				"creationTime": mf.Created, "logGroupName": mf.Group, "applyOnTransformedLogs": mf.ApplyOnTransformed}
			if mf.FieldSelection != "" {
				o["fieldSelectionCriteria"] = mf.FieldSelection
			}
			if len(mf.EmitSystemFields) > 0 {
				o["emitSystemFieldDimensions"] = toAny(mf.EmitSystemFields)
			}
			items = append(items, o)
		}
		g.mu.Unlock()
	}
	return page(items, req.Input, "metricFilters")
}

func toAny(l []string) []any {
	out := make([]any, len(l))
	for i, v := range l {
		out[i] = v
	}
	return out
}

func (s *Service) deleteMetricFilter(req *service.Request) (map[string]any, error) {
	return s.deleteFilter(req, "mf", "The specified metric filter does not exist.")
}

func (s *Service) deleteSubscriptionFilter(req *service.Request) (map[string]any, error) {
	return s.deleteFilter(req, "sf", "The specified subscription filter does not exist.")
}

func (s *Service) deleteFilter(req *service.Request, kind, notFound string) (map[string]any, error) {
	gname := service.Str(req.Input, "logGroupName")
	if gname == "" {
		return nil, missing("logGroupName")
	}
	name := service.Str(req.Input, "filterName")
	if name == "" {
		return nil, missing("filterName")
	}
	g, err := s.lookupGroup(req, gname)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	exists := g.mfs[name] != nil
	if kind == "sf" {
		exists = g.subs[name] != nil
	}
	if !exists || g.deleted {
		return nil, logsErr(errNotFound, "%s", notFound)
	}
	if err := s.kv.Update(func(tx storage.Tx) error {
		return tx.Delete(scopeOf(req.Account, req.Region).Key(kind, gname, name))
	}); err != nil {
		return nil, err
	}
	if kind == "sf" {
		delete(g.subs, name)
	} else {
		delete(g.mfs, name)
	}
	return map[string]any{}, nil
}

func (s *Service) testMetricFilter(req *service.Request) (map[string]any, error) {
	p, _, err := parsePattern(req.Input)
	if err != nil {
		return nil, err
	}
	msgs := service.Strings(req.Input, "logEventMessages")
	if len(msgs) == 0 {
		return nil, missing("logEventMessages")
	}
	if len(msgs) > 50 {
		return nil, invalidParam("1 validation error detected: Value at 'logEventMessages' failed to satisfy constraint: Member must have length less than or equal to 50")
	}
	matches := []any{}
	for i, m := range msgs {
		r, ok := p.MatchFields(m)
		if !ok {
			continue
		}
		ex := map[string]any{}
		for k, v := range r.Extracted() {
			ex[k] = v
		}
		matches = append(matches, map[string]any{"eventNumber": int64(i + 1), "eventMessage": m, "extractedValues": ex})
	}
	return map[string]any{"matches": matches}, nil
}

// ---- subscription filters ----

func (s *Service) putSubscriptionFilter(req *service.Request) (map[string]any, error) {
	gname := service.Str(req.Input, "logGroupName")
	if gname == "" {
		return nil, missing("logGroupName")
	}
	name := service.Str(req.Input, "filterName")
	if name == "" {
		return nil, missing("filterName")
	}
	p, src, err := parsePattern(req.Input)
	if err != nil {
		return nil, err
	}
	dest := service.Str(req.Input, "destinationArn")
	if dest == "" {
		return nil, missing("destinationArn")
	}
	if !strings.HasPrefix(dest, "arn:") {
		return nil, invalidParam("Invalid destinationArn: %s", dest)
	}
	dist := service.Str(req.Input, "distribution")
	switch dist {
	case "":
		dist = "ByLogStream"
	case "Random", "ByLogStream":
	default:
		return nil, invalidParam("1 validation error detected: Value '%s' at 'distribution' failed to satisfy constraint: Member must satisfy enum value set: [Random, ByLogStream]", dist)
	}
	g, err := s.lookupGroup(req, gname)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.deleted {
		return nil, groupNotFound()
	}
	if g.subs[name] == nil && len(g.subs) >= maxSubscriptionFilters {
		return nil, logsErr(errLimitExceeded, "Resource limit exceeded.")
	}
	m := subFilterMeta{Name: name, Group: gname, Pattern: src, Destination: dest, Role: service.Str(req.Input, "roleArn"),
		Distribution: dist, Created: s.clk.Now().UnixMilli(), ApplyOnTransformed: service.Bool(req.Input, "applyOnTransformedLogs"),
		FieldSelection: service.Str(req.Input, "fieldSelectionCriteria"), EmitSystemFields: service.Strings(req.Input, "emitSystemFields")}
	if old := g.subs[name]; old != nil {
		m.Created = old.meta.Created
	}
	b, _ := json.Marshal(&m)
	if err := s.kv.Update(func(tx storage.Tx) error {
		return tx.Put(scopeOf(req.Account, req.Region).Key("sf", gname, name), b)
	}); err != nil {
		return nil, err
	}
	g.subs[name] = &subFilter{meta: m, p: p}
	return map[string]any{}, nil
}

func (s *Service) describeSubscriptionFilters(req *service.Request) (map[string]any, error) {
	gname := service.Str(req.Input, "logGroupName")
	g, err := s.lookupGroup(req, gname)
	if err != nil {
		return nil, err
	}
	prefix := service.Str(req.Input, "filterNamePrefix")
	g.mu.Lock()
	names := make([]string, 0, len(g.subs))
	for n := range g.subs {
		if strings.HasPrefix(n, prefix) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	items := make([]any, 0, len(names))
	for _, n := range names {
		m := g.subs[n].meta
		o := map[string]any{"filterName": m.Name, "logGroupName": m.Group, "filterPattern": m.Pattern,
			"destinationArn": m.Destination, "distribution": m.Distribution, "creationTime": m.Created,
			"applyOnTransformedLogs": m.ApplyOnTransformed}
		if m.Role != "" {
			o["roleArn"] = m.Role
		}
		if m.FieldSelection != "" {
			o["fieldSelectionCriteria"] = m.FieldSelection
		}
		if len(m.EmitSystemFields) > 0 {
			o["emitSystemFields"] = toAny(m.EmitSystemFields)
		}
		items = append(items, o)
	}
	g.mu.Unlock()
	return page(items, req.Input, "subscriptionFilters")
}

// ---- processing of arriving events ----

// afterPut runs metric filters, the embedded metric format and
// subscription filters over events just stored.
func (s *Service) afterPut(account, region string, g *group, streamName string, evs []inEvent) {
	if len(evs) == 0 {
		return
	}
	g.mu.Lock()
	mfs := make([]*metricFilter, 0, len(g.mfs))
	for _, mf := range g.mfs {
		mfs = append(mfs, mf)
	}
	subs := make([]*subFilter, 0, len(g.subs))
	for _, sf := range g.subs {
		subs = append(subs, sf)
	}
	gname := g.meta.Name
	g.mu.Unlock()

	byNS := map[string][]metrics.Datum{}
	for _, mf := range mfs {
		t := mf.meta.Transformations[0]
		for _, e := range evs {
			if d, ok := applyTransformation(mf.p, t, e); ok {
				byNS[t.Namespace] = append(byNS[t.Namespace], d)
			}
		}
	}
	for _, e := range evs {
		if strings.Contains(e.msg, `"_aws"`) {
			emf(e, byNS)
		}
	}
	for ns, data := range byNS {
		s.metrics.Publish(account, region, ns, data)
	}
	if len(subs) > 0 {
		s.deliver(account, gname, streamName, subs, evs)
	}
}

func applyTransformation(p *pattern.Pattern, t transformation, e inEvent) (metrics.Datum, bool) {
	d := metrics.Datum{Name: t.MetricName, Unit: t.Unit, Timestamp: time.UnixMilli(e.ts)}
	if d.Unit == "" {
		d.Unit = "None"
	}
	r, ok := p.MatchFields(e.msg)
	if !ok {
		if t.Default == nil {
			return d, false
		}
		d.Value = *t.Default
		return d, true
	}
	if isSelector(t.Value) {
		v, ok := r.Value(t.Value)
		if !ok {
			return d, false
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return d, false
		}
		d.Value = f
	} else {
		d.Value, _ = strconv.ParseFloat(t.Value, 64)
	}
	if len(t.Dimensions) > 0 {
		names := make([]string, 0, len(t.Dimensions))
		for k := range t.Dimensions {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			v, ok := r.Value(t.Dimensions[k])
			if !ok || v == "" {
				return d, false
			}
			d.Dimensions = append(d.Dimensions, metrics.Dimension{Name: k, Value: v})
		}
	}
	return d, true
}

// emf turns an embedded-metric-format event into metric data.
func emf(e inEvent, byNS map[string][]metrics.Datum) {
	var root map[string]any
	if err := json.Unmarshal([]byte(e.msg), &root); err != nil {
		return
	}
	aws, _ := root["_aws"].(map[string]any)
	if aws == nil {
		return
	}
	ts := time.UnixMilli(e.ts)
	if t, ok := aws["Timestamp"].(float64); ok {
		ts = time.UnixMilli(int64(t))
	}
	directives, _ := aws["CloudWatchMetrics"].([]any)
	for _, dr := range directives {
		d, _ := dr.(map[string]any)
		ns, _ := d["Namespace"].(string)
		if ns == "" || strings.HasPrefix(ns, "AWS/") {
			continue
		}
		sets, _ := d["Dimensions"].([]any)
		if len(sets) == 0 {
			sets = []any{[]any{}}
		}
		ms, _ := d["Metrics"].([]any)
		if len(ms) > 100 {
			continue
		}
		for _, set := range sets {
			names, _ := set.([]any)
			if len(names) > 30 {
				continue
			}
			var dims []metrics.Dimension
			ok := true
			for _, n := range names {
				name, _ := n.(string)
				v, isStr := root[name].(string)
				if name == "" || !isStr {
					ok = false
					break
				}
				dims = append(dims, metrics.Dimension{Name: name, Value: v})
			}
			if !ok {
				continue
			}
			for _, mr := range ms {
				md, _ := mr.(map[string]any)
				name, _ := md["Name"].(string)
				unit, _ := md["Unit"].(string)
				if unit == "" {
					unit = "None"
				}
				var vals []float64
				switch v := root[name].(type) {
				case float64:
					vals = []float64{v}
				case []any:
					for _, x := range v {
						if f, ok := x.(float64); ok {
							vals = append(vals, f)
						}
					}
				}
				for _, v := range vals {
					byNS[ns] = append(byNS[ns], metrics.Datum{Name: name, Unit: unit, Timestamp: ts, Value: v, Dimensions: dims})
				}
			}
		}
	}
}

// deliver hands matching events to each subscription's destination in the
// format AWS sends: gzip-compressed JSON.
func (s *Service) deliver(account, group, stream string, subs []*subFilter, evs []inEvent) {
	s.delivMu.RLock()
	d := s.deliverer
	s.delivMu.RUnlock()
	if d == nil {
		return
	}
	for _, sf := range subs {
		var matched []any
		for i, e := range evs {
			if sf.p.Match(e.msg) {
				matched = append(matched, map[string]any{"id": strconv.FormatInt(e.ts, 10) + strconv.Itoa(i), "timestamp": e.ts, "message": e.msg})
			}
		}
		if len(matched) == 0 {
			continue
		}
		doc, _ := json.Marshal(map[string]any{"messageType": "DATA_MESSAGE", "owner": account, "logGroup": group,
			"logStream": stream, "subscriptionFilters": []string{sf.meta.Name}, "logEvents": matched})
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(doc)
		zw.Close()
		if err := d.DeliverLogs(context.Background(), sf.meta.Destination, buf.Bytes()); err != nil {
			s.log.Warn("logs: subscription delivery failed", "filter", sf.meta.Name, "destination", sf.meta.Destination, "err", err)
		}
	}
}
