package logs

import (
	"crypto/rand"
	"encoding/hex"
	"math"
	"sort"
	"sync"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/logs/insights"
)

const (
	maxKeptQueries  = 1000
	maxQueryRecords = 1_000_000
	maxQueryGroups  = 50
)

type query struct {
	id, account, region string
	queryString         string
	group               string
	created             int64
	status              string
	result              *insights.Result
}

type queryStore struct {
	mu    sync.Mutex
	byID  map[string]*query
	order []string
}

func newQueryStore() *queryStore { return &queryStore{byID: map[string]*query{}} }

func (qs *queryStore) add(q *query) {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	qs.byID[q.id] = q
	qs.order = append(qs.order, q.id)
	if len(qs.order) > maxKeptQueries {
		delete(qs.byID, qs.order[0])
		qs.order = qs.order[1:]
	}
}

func (qs *queryStore) get(req *service.Request, id string) *query {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	q := qs.byID[id]
	if q == nil || q.account != req.Account || q.region != req.Region {
		return nil
	}
	return q
}

func malformed(err error) *awserr.Error {
	e := logsErr(errMalformedQuery, "%s", err.Error())
	e.Fields = map[string]any{"queryCompileError": map[string]any{"message": err.Error(),
		"location": map[string]any{"startCharOffset": int64(0), "endCharOffset": int64(0)}}}
	return e
}

func (s *Service) startQuery(req *service.Request) (map[string]any, error) {
	qs, ok := req.Input["queryString"].(string)
	if !ok {
		return nil, missing("queryString")
	}
	startSec, ok := service.Int(req.Input, "startTime")
	if !ok {
		return nil, missing("startTime")
	}
	endSec, ok := service.Int(req.Input, "endTime")
	if !ok {
		return nil, missing("endTime")
	}
	if endSec < startSec {
		return nil, invalidParam("End time cannot be before start time.")
	}
	if lang := service.Str(req.Input, "queryLanguage"); lang != "" && lang != "CWLI" {
		return nil, invalidParam("Query language %s is not supported; use CWLI.", lang)
	}
	names := service.Strings(req.Input, "logGroupNames")
	if n := service.Str(req.Input, "logGroupName"); n != "" {
		names = append(names, n)
	}
	names = append(names, service.Strings(req.Input, "logGroupIdentifiers")...)
	if len(names) == 0 {
		return nil, invalidParam("Query must specify at least one log group.")
	}
	if len(names) > maxQueryGroups {
		return nil, invalidParam("A query can search at most %d log groups.", maxQueryGroups)
	}
	limit := 10000
	if l, ok := service.Int(req.Input, "limit"); ok {
		if l < 1 || l > 10000 {
			return nil, invalidParam("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 10000", l)
		}
		limit = int(l)
	}
	parsed, err := insights.Parse(qs)
	if err != nil {
		return nil, malformed(err)
	}
	groups := make([]*group, 0, len(names))
	for _, n := range names {
		g, err := s.lookupGroup(req, n)
		if err != nil {
			return nil, logsErr(errNotFound, "Log group '%s' does not exist for account ID '%s'", groupNameOf(n), req.Account)
		}
		groups = append(groups, g)
	}
	start, end := startSec*1000, endSec*1000+999
	if endSec > math.MaxInt64/1000-1 {
		end = math.MaxInt64
	}
	recs, err := s.queryRecords(req.Account, req.Region, groups, start, end)
	if err != nil {
		return nil, err
	}
	i := 0
	res := parsed.Run(func() (insights.Record, bool) {
		if i >= len(recs) {
			return nil, false
		}
		i++
		return recs[i-1], true
	}, limit)
	var b [16]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:4]) + "-" + hex.EncodeToString(b[4:6]) + "-" + hex.EncodeToString(b[6:8]) + "-" + hex.EncodeToString(b[8:10]) + "-" + hex.EncodeToString(b[10:])
	s.queries.add(&query{id: id, account: req.Account, region: req.Region, queryString: qs, group: groupNameOf(names[0]),
		created: s.clk.Now().UnixMilli(), status: "Complete", result: res})
	return map[string]any{"queryId": id}, nil
}

// queryRecords reads every event of groups in [start, end].
func (s *Service) queryRecords(account, region string, groups []*group, start, end int64) ([]insights.Record, error) {
	var recs []insights.Record
	for _, g := range groups {
		g.mu.Lock()
		gname := g.meta.Name
		g.mu.Unlock()
		evs, _, _, err := s.filterGroup(account, region, g, nil, "", start, end, matchAll, nil, maxQueryRecords)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			r := insights.NewRecord(e.ts, e.ingest, e.msg, e.stream, gname)
			r["@ptr"] = eventID(e.ts, e.id, e.seq)
			recs = append(recs, r)
			if len(recs) >= maxQueryRecords {
				return recs, nil
			}
		}
	}
	return recs, nil
}

func (s *Service) getQueryResults(req *service.Request) (map[string]any, error) {
	id := service.Str(req.Input, "queryId")
	if id == "" {
		return nil, missing("queryId")
	}
	q := s.queries.get(req, id)
	if q == nil {
		return nil, logsErr(errNotFound, "Query does not exist.")
	}
	rows := []any{}
	stats := map[string]any{"recordsMatched": 0.0, "recordsScanned": 0.0, "bytesScanned": 0.0, "logGroupsScanned": 1.0}
	if q.result != nil {
		for _, r := range q.result.Rows {
			row := make([]any, len(r))
			for i, f := range r {
				row[i] = map[string]any{"field": f.Name, "value": f.Value}
			}
			rows = append(rows, row)
		}
		stats["recordsMatched"] = float64(q.result.RecordsMatched)
		stats["recordsScanned"] = float64(q.result.RecordsScanned)
		stats["bytesScanned"] = float64(q.result.BytesScanned)
	}
	return map[string]any{"queryLanguage": "CWLI", "results": rows, "statistics": stats, "status": q.status}, nil
}

func (s *Service) stopQuery(req *service.Request) (map[string]any, error) {
	id := service.Str(req.Input, "queryId")
	if id == "" {
		return nil, missing("queryId")
	}
	q := s.queries.get(req, id)
	if q == nil {
		return nil, logsErr(errNotFound, "Query does not exist.")
	}
	s.queries.mu.Lock()
	defer s.queries.mu.Unlock()
	if q.status != "Running" && q.status != "Scheduled" {
		return map[string]any{"success": false}, nil
	}
	q.status = "Cancelled"
	return map[string]any{"success": true}, nil
}

func (s *Service) describeQueries(req *service.Request) (map[string]any, error) {
	group := service.Str(req.Input, "logGroupName")
	status := service.Str(req.Input, "status")
	max := 1000
	if l, ok := service.Int(req.Input, "maxResults"); ok {
		if l < 1 || l > 1000 {
			return nil, invalidParam("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 1000", l)
		}
		max = int(l)
	}
	off, err := offsetToken(service.Str(req.Input, "nextToken"))
	if err != nil {
		return nil, err
	}
	s.queries.mu.Lock()
	var list []*query
	for _, id := range s.queries.order {
		q := s.queries.byID[id]
		if q.account != req.Account || q.region != req.Region || (group != "" && q.group != group) || (status != "" && q.status != status) {
			continue
		}
		list = append(list, q)
	}
	s.queries.mu.Unlock()
	sort.SliceStable(list, func(i, j int) bool { return list[i].created > list[j].created })
	var out []any
	for i := off; i < len(list) && len(out) < max; i++ {
		q := list[i]
		out = append(out, map[string]any{"queryLanguage": "CWLI", "queryId": q.id, "queryString": q.queryString,
			"status": q.status, "createTime": q.created, "logGroupName": q.group})
	}
	res := map[string]any{"queries": nonNil(out)}
	if off+len(out) < len(list) {
		res["nextToken"] = mkOffsetToken(off + len(out))
	}
	return res, nil
}
