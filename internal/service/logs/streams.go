package logs

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

func streamARN(req *service.Request, group, name string) string {
	return fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s:log-stream:%s", service.Partition(req.Region), req.Region, req.Account, group, name)
}

func saveStream(tx storage.Tx, sc storage.Scope, group string, m *streamMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return tx.Put(sc.Key("s", group, m.Name), b)
}

// createStream adds a stream to g; g.mu must be held.
func (s *Service) createStream(account, region string, g *group, name string) (*stream, error) {
	m := g.meta
	m.NextStreamID++
	st := &stream{meta: streamMeta{Name: name, ID: m.NextStreamID, Created: s.clk.Now().UnixMilli()}}
	sc := scopeOf(account, region)
	err := s.kv.Update(func(tx storage.Tx) error {
		if err := s.saveGroup(tx, account, region, &m); err != nil {
			return err
		}
		return saveStream(tx, sc, m.Name, &st.meta)
	})
	if err != nil {
		return nil, err
	}
	g.meta.NextStreamID = m.NextStreamID
	g.streams[name] = st
	return st, nil
}

func (s *Service) createLogStream(req *service.Request) (map[string]any, error) {
	gname := service.Str(req.Input, "logGroupName")
	if gname == "" {
		return nil, missing("logGroupName")
	}
	name := service.Str(req.Input, "logStreamName")
	if err := validStreamName(name); err != nil {
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
	if g.streams[name] != nil {
		return nil, logsErr(errAlreadyExists, "The specified log stream already exists")
	}
	if _, err := s.createStream(req.Account, req.Region, g, name); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) describeLogStreams(req *service.Request) (map[string]any, error) {
	g, err := s.groupParam(req)
	if err != nil {
		return nil, err
	}
	prefix := service.Str(req.Input, "logStreamNamePrefix")
	order := service.Str(req.Input, "orderBy")
	switch order {
	case "", "LogStreamName":
		order = "LogStreamName"
	case "LastEventTime":
		if prefix != "" {
			return nil, invalidParam("Cannot order by LastEventTime with a logStreamNamePrefix.")
		}
	default:
		return nil, invalidParam("1 validation error detected: Value '%s' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]", order)
	}
	desc := service.Bool(req.Input, "descending")
	limit := int64(50)
	if l, ok := service.Int(req.Input, "limit"); ok {
		if l < 1 || l > 50 {
			return nil, invalidParam("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50", l)
		}
		limit = l
	}
	offset := 0
	if tok := service.Str(req.Input, "nextToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "o:"))
		if err != nil || err2 != nil || n < 0 || !strings.HasPrefix(string(b), "o:") {
			return nil, badToken()
		}
		offset = n
	}
	g.mu.Lock()
	metas := make([]streamMeta, 0, len(g.streams))
	for name, st := range g.streams {
		if prefix != "" && !strings.HasPrefix(name, prefix) {
			continue
		}
		st.mu.Lock()
		metas = append(metas, st.meta)
		st.mu.Unlock()
	}
	gname := g.meta.Name
	g.mu.Unlock()
	sort.Slice(metas, func(i, j int) bool {
		a, b := metas[i], metas[j]
		if order == "LastEventTime" && a.Last != b.Last {
			return (a.Last < b.Last) != desc
		}
		return (a.Name < b.Name) != desc
	})
	var out []any
	for i := offset; i < len(metas) && int64(len(out)) < limit; i++ {
		out = append(out, streamOutput(req, gname, &metas[i]))
	}
	res := map[string]any{"logStreams": nonNil(out)}
	if offset+len(out) < len(metas) {
		res["nextToken"] = base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset+len(out))))
	}
	return res, nil
}

func streamOutput(req *service.Request, group string, m *streamMeta) map[string]any {
	o := map[string]any{
		"logStreamName": m.Name,
		"creationTime":  m.Created,
		"arn":           streamARN(req, group, m.Name),
		"storedBytes":   m.Stored,
	}
	if m.Seq > 0 {
		o["firstEventTimestamp"] = m.First
		o["lastEventTimestamp"] = m.Last
		o["lastIngestionTime"] = m.LastIngestion
		o["uploadSequenceToken"] = seqToken(m.Seq)
	}
	return o
}

func seqToken(seq uint64) string { return fmt.Sprintf("%056d", seq) }

func (s *Service) deleteLogStream(req *service.Request) (map[string]any, error) {
	gname := service.Str(req.Input, "logGroupName")
	if gname == "" {
		return nil, missing("logGroupName")
	}
	name := service.Str(req.Input, "logStreamName")
	if name == "" {
		return nil, missing("logStreamName")
	}
	g, err := s.lookupGroup(req, gname)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.streams[name]
	if st == nil || g.deleted {
		return nil, streamNotFound()
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	err = s.kv.Update(func(tx storage.Tx) error {
		if err := tx.Delete(scopeOf(req.Account, req.Region).Key("s", gname, name)); err != nil {
			return err
		}
		return deleteRange(tx, eventScope(req.Account, req.Region), gname, name)
	})
	if err != nil {
		return nil, err
	}
	st.deleted = true
	delete(g.streams, name)
	return map[string]any{}, nil
}
