package logs

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/logs/pattern"
	"github.com/overcast-dev/overcast/internal/storage"
)

const (
	maxBatchEvents = 10000
	maxBatchBytes  = 1048576
	eventOverhead  = 26
	maxSpan        = 24 * time.Hour
	maxAge         = 14 * 24 * time.Hour
	maxFuture      = 2 * time.Hour
	maxReadBytes   = 1048576
)

// inEvent is an event to store.
type inEvent struct {
	ts  int64
	msg string
}

// storedEvent is an event read back.
type storedEvent struct {
	ts, ingest int64
	seq        uint64
	msg        string
}

// pos is an event's position within its stream: (timestamp, sequence).
type pos [16]byte

func mkPos(ts int64, seq uint64) pos {
	var p pos
	binary.BigEndian.PutUint64(p[:8], uint64(ts))
	binary.BigEndian.PutUint64(p[8:], seq)
	return p
}

func (p pos) ts() int64   { return int64(binary.BigEndian.Uint64(p[:8])) }
func (p pos) seq() uint64 { return binary.BigEndian.Uint64(p[8:]) }

func eventKey(ec storage.Scope, group, stream string, p pos) []byte {
	return ec.Key(group, stream, string(p[:]))
}

// appendEventKey appends to prefix (ec.Prefix(group, stream)) the position
// component exactly as storage.Scope.Key encodes it.
func appendEventKey(buf, prefix []byte, p pos) []byte {
	buf = append(buf[:0], prefix...)
	for _, c := range p {
		if c == 0 {
			buf = append(buf, 0x00, 0xFF)
		} else {
			buf = append(buf, c)
		}
	}
	return append(buf, 0x00, 0x01)
}

func decodeEvent(k, v []byte) (storedEvent, bool) {
	p, ok := keyPos(k)
	if !ok || len(v) < 8 {
		return storedEvent{}, false
	}
	// v is the store's fresh copy, never modified: share it.
	msg := unsafe.String(unsafe.SliceData(v[8:]), len(v)-8)
	return storedEvent{ts: p.ts(), seq: p.seq(), ingest: int64(binary.BigEndian.Uint64(v[:8])), msg: msg}, true
}

// keyPos reads the position from the last component of an event key: 16
// bytes escaped as storage.Scope writes them (0x00 as 0x00 0xFF), then the
// terminator 0x00 0x01. Reading backwards is unambiguous because 0x00 only
// starts a pair.
func keyPos(k []byte) (pos, bool) {
	var p pos
	i := len(k) - 1
	if i < 1 || k[i] != 0x01 || k[i-1] != 0x00 {
		return p, false
	}
	i -= 2
	for j := len(p) - 1; j >= 0; j-- {
		if i < 0 {
			return p, false
		}
		if k[i] == 0xFF && i > 0 && k[i-1] == 0x00 {
			p[j] = 0
			i -= 2
			continue
		}
		if k[i] == 0x00 {
			return p, false
		}
		p[j] = k[i]
		i--
	}
	// The byte before the component must end the previous one.
	if i < 1 || k[i] != 0x01 || k[i-1] != 0x00 {
		return p, false
	}
	return p, true
}

// ---- PutLogEvents ----

func (s *Service) putLogEvents(req *service.Request) (map[string]any, error) {
	gname := service.Str(req.Input, "logGroupName")
	if gname == "" {
		return nil, missing("logGroupName")
	}
	sname := service.Str(req.Input, "logStreamName")
	if sname == "" {
		return nil, missing("logStreamName")
	}
	raw, ok := req.Input["logEvents"].([]any)
	if !ok {
		return nil, missing("logEvents")
	}
	if len(raw) == 0 {
		return nil, invalidParam("1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(raw) > maxBatchEvents {
		return nil, invalidParam("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to %d", maxBatchEvents)
	}
	evs := make([]inEvent, len(raw))
	size := 0
	for i, r := range raw {
		m, _ := r.(map[string]any)
		ts, ok := service.Int(m, "timestamp")
		if !ok {
			return nil, missing(fmt.Sprintf("logEvents.%d.member.timestamp", i+1))
		}
		msg, ok := m["message"].(string)
		if !ok {
			return nil, missing(fmt.Sprintf("logEvents.%d.member.message", i+1))
		}
		if msg == "" {
			return nil, invalidParam("1 validation error detected: Value '' at 'logEvents.%d.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1", i+1)
		}
		if ts < 0 {
			return nil, invalidParam("1 validation error detected: Value '%d' at 'logEvents.%d.member.timestamp' failed to satisfy constraint: Member must have value greater than or equal to 0", ts, i+1)
		}
		evs[i] = inEvent{ts: ts, msg: msg}
		size += len(msg) + eventOverhead
	}
	if size > maxBatchBytes {
		return nil, invalidParam("Upload too large: %d bytes exceeds limit of %d", size, maxBatchBytes)
	}
	if err := checkBatch(evs); err != nil {
		return nil, err
	}
	g, err := s.lookupGroup(req, gname)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	st := g.streams[sname]
	retention := g.meta.Retention
	g.mu.Unlock()
	if st == nil {
		return nil, streamNotFound()
	}
	now := s.clk.Now().UnixMilli()
	rej, first, end := classify(evs, now, retention)
	seq, err := s.store(req.Account, req.Region, gname, st, evs[first:end], now)
	if err != nil {
		return nil, err
	}
	s.afterPut(req.Account, req.Region, g, sname, evs[first:end])
	out := map[string]any{"nextSequenceToken": seqToken(seq)}
	if len(rej) > 0 {
		out["rejectedLogEventsInfo"] = rej
	}
	return out, nil
}

// checkBatch enforces the chronological-order and 24-hour-span rules.
func checkBatch(evs []inEvent) error {
	for i := 1; i < len(evs); i++ {
		if evs[i].ts < evs[i-1].ts {
			return invalidParam("Log events in a single PutLogEvents request must be in chronological order.")
		}
	}
	if len(evs) > 1 && time.Duration(evs[len(evs)-1].ts-evs[0].ts)*time.Millisecond > maxSpan {
		return invalidParam("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
	}
	return nil
}

// classify finds the events that are too old, expired or too new (the batch
// is chronological, so the accepted ones are evs[first:end]).
func classify(evs []inEvent, now, retentionDays int64) (map[string]any, int, int) {
	rej := map[string]any{}
	oldest := now - maxAge.Milliseconds()
	expired := int64(math.MinInt64)
	if retentionDays > 0 {
		expired = now - retentionDays*24*int64(time.Hour/time.Millisecond)
	}
	newest := now + maxFuture.Milliseconds()
	first, end := 0, len(evs)
	for i, e := range evs {
		switch {
		case e.ts < oldest:
			rej["tooOldLogEventEndIndex"] = int64(i + 1)
			first = i + 1
		case e.ts < expired:
			rej["expiredLogEventEndIndex"] = int64(i + 1)
			first = i + 1
		case e.ts > newest:
			if end == len(evs) {
				rej["tooNewLogEventStartIndex"] = int64(i)
				end = i
			}
		}
	}
	if end < first {
		end = first
	}
	return rej, first, end
}

// store appends evs to st in one transaction and returns the stream's
// sequence number after it.
func (s *Service) store(account, region, group string, st *stream, evs []inEvent, now int64) (uint64, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.deleted {
		return 0, streamNotFound()
	}
	if len(evs) == 0 {
		return st.meta.Seq, nil
	}
	m := st.meta
	ec, sc := eventScope(account, region), scopeOf(account, region)
	val := make([]byte, 0, 256)
	prefix := ec.Prefix(group, m.Name)
	key := make([]byte, 0, len(prefix)+40)
	err := s.kv.Update(func(tx storage.Tx) error {
		for _, e := range evs {
			m.Seq++
			val = binary.BigEndian.AppendUint64(val[:0], uint64(now))
			val = append(val, e.msg...)
			key = appendEventKey(key, prefix, mkPos(e.ts, m.Seq))
			if err := tx.Put(key, val); err != nil {
				return err
			}
			if m.First == 0 || e.ts < m.First {
				m.First = e.ts
			}
			if e.ts > m.Last {
				m.Last = e.ts
			}
			m.Stored += int64(len(e.msg))
		}
		m.LastIngestion = now
		return saveStream(tx, sc, group, &m)
	})
	if err != nil {
		return 0, err
	}
	st.meta = m
	return m.Seq, nil
}

// ---- GetLogEvents ----

func fmtToken(dir byte, p pos) string {
	return fmt.Sprintf("%c/%020d%020d%016d/s", dir, uint64(p.ts()), p.seq(), 0)
}

func parseToken(tok string) (byte, pos, bool) {
	if len(tok) != 2+56+2 || (tok[0] != 'f' && tok[0] != 'b') || tok[1] != '/' || !strings.HasSuffix(tok, "/s") {
		return 0, pos{}, false
	}
	ts, err1 := strconv.ParseUint(tok[2:22], 10, 64)
	seq, err2 := strconv.ParseUint(tok[22:42], 10, 64)
	if err1 != nil || err2 != nil || ts > math.MaxInt64 {
		return 0, pos{}, false
	}
	return tok[0], mkPos(int64(ts), seq), true
}

func timeRange(in map[string]any) (start, end int64, hasEnd bool, err error) {
	start, _ = service.Int(in, "startTime")
	end, hasEnd = service.Int(in, "endTime")
	if start < 0 || (hasEnd && end < 0) {
		return 0, 0, false, invalidParam("startTime and endTime must be non-negative.")
	}
	if hasEnd && end < start {
		return 0, 0, false, invalidParam("End time must be greater than or equal to start time.")
	}
	return start, end, hasEnd, nil
}

func eventsLimit(in map[string]any) (int, error) {
	if l, ok := service.Int(in, "limit"); ok {
		if l < 1 || l > maxBatchEvents {
			return 0, invalidParam("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 10000", l)
		}
		return int(l), nil
	}
	return maxBatchEvents, nil
}

func (s *Service) getLogEvents(req *service.Request) (map[string]any, error) {
	g, err := s.groupParam(req)
	if err != nil {
		return nil, err
	}
	sname := service.Str(req.Input, "logStreamName")
	if sname == "" {
		return nil, missing("logStreamName")
	}
	start, end, hasEnd, err := timeRange(req.Input)
	if err != nil {
		return nil, err
	}
	if !hasEnd {
		end = math.MaxInt64
	}
	limit, err := eventsLimit(req.Input)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	st := g.streams[sname]
	gname := g.meta.Name
	g.mu.Unlock()
	if st == nil {
		return nil, streamNotFound()
	}
	forward := service.Bool(req.Input, "startFromHead")
	var from pos
	if tok := service.Str(req.Input, "nextToken"); tok != "" {
		dir, p, ok := parseToken(tok)
		if !ok {
			return nil, badToken()
		}
		forward, from = dir == 'f', p
	} else if forward {
		from = mkPos(start, 0)
	} else {
		from = mkPos(end, 0)
	}
	ec := eventScope(req.Account, req.Region)
	var evs []storedEvent
	bytes := 0
	keep := func(k, v []byte) bool {
		e, ok := decodeEvent(k, v)
		if !ok {
			return true
		}
		if e.ts < start || e.ts >= end {
			return forward == (e.ts < start) // skip below start going up, stop past end
		}
		if mkPos(e.ts, e.seq) == from {
			return true
		}
		bytes += len(e.msg) + eventOverhead
		if len(evs) >= limit || (bytes > maxReadBytes && len(evs) > 0) {
			return false
		}
		evs = append(evs, e)
		return true
	}
	err = s.kv.View(func(tx storage.Tx) error {
		if forward {
			lo := eventKey(ec, gname, sname, from)
			_, hi := ec.Range(gname, sname)
			return tx.Scan(lo, hi, keep)
		}
		lo, _ := ec.Range(gname, sname)
		hi := eventKey(ec, gname, sname, from)
		return tx.ReverseScan(lo, hi, keep)
	})
	if err != nil {
		return nil, err
	}
	if !forward {
		for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
			evs[i], evs[j] = evs[j], evs[i]
		}
	}
	out := make([]any, len(evs))
	for i, e := range evs {
		out[i] = map[string]any{"timestamp": e.ts, "message": e.msg, "ingestionTime": e.ingest}
	}
	fwd, back := from, from
	if len(evs) > 0 {
		back = mkPos(evs[0].ts, evs[0].seq)
		fwd = mkPos(evs[len(evs)-1].ts, evs[len(evs)-1].seq)
	} else if service.Str(req.Input, "nextToken") == "" && !forward {
		fwd = mkPos(start, 0)
	}
	return map[string]any{"events": out, "nextForwardToken": fmtToken('f', fwd), "nextBackwardToken": fmtToken('b', back)}, nil
}

// ---- FilterLogEvents ----

var matchAll, _ = pattern.Parse("")

// filterPos orders events across a group's streams.
type filterPos struct {
	ts     int64
	stream string
	seq    uint64
}

func (a filterPos) less(b filterPos) bool {
	if a.ts != b.ts {
		return a.ts < b.ts
	}
	if a.stream != b.stream {
		return a.stream < b.stream
	}
	return a.seq < b.seq
}

func encodeFilterToken(p filterPos) string {
	b := binary.BigEndian.AppendUint64(nil, uint64(p.ts))
	b = binary.BigEndian.AppendUint64(b, p.seq)
	b = append(b, p.stream...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeFilterToken(tok string) (filterPos, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 16 {
		return filterPos{}, false
	}
	return filterPos{ts: int64(binary.BigEndian.Uint64(b)), seq: binary.BigEndian.Uint64(b[8:]), stream: string(b[16:])}, true
}

type filtered struct {
	filterPos
	id     uint64
	ingest int64
	msg    string
}

func eventID(ts int64, streamID, seq uint64) string {
	return fmt.Sprintf("%020d%016d%020d", uint64(ts), streamID%1e16, seq)
}

func (s *Service) filterLogEvents(req *service.Request) (map[string]any, error) {
	g, err := s.groupParam(req)
	if err != nil {
		return nil, err
	}
	names := service.Strings(req.Input, "logStreamNames")
	prefix := service.Str(req.Input, "logStreamNamePrefix")
	if len(names) > 0 && prefix != "" {
		return nil, invalidParam("Cannot specify both logStreamNames and logStreamNamePrefix.")
	}
	start, end, hasEnd, err := timeRange(req.Input)
	if err != nil {
		return nil, err
	}
	if !hasEnd {
		end = math.MaxInt64
	}
	limit, err := eventsLimit(req.Input)
	if err != nil {
		return nil, err
	}
	p, err := pattern.Parse(service.Str(req.Input, "filterPattern"))
	if err != nil {
		return nil, invalidParam("Invalid filter pattern: %v", err)
	}
	var after *filterPos
	if tok := service.Str(req.Input, "nextToken"); tok != "" {
		fp, ok := decodeFilterToken(tok)
		if !ok {
			return nil, badToken()
		}
		after = &fp
	}
	res, more, searched, err := s.filterGroup(req.Account, req.Region, g, names, prefix, start, end, p, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(res))
	for i, e := range res {
		out[i] = map[string]any{"logStreamName": e.stream, "timestamp": e.ts, "message": e.msg,
			"ingestionTime": e.ingest, "eventId": eventID(e.ts, e.id, e.seq)}
	}
	ss := make([]any, len(searched))
	for i, n := range searched {
		ss[i] = map[string]any{"logStreamName": n, "searchedCompletely": true}
	}
	o := map[string]any{"events": out, "searchedLogStreams": ss}
	if more {
		o["nextToken"] = encodeFilterToken(res[len(res)-1].filterPos)
	}
	return o, nil
}

// filterGroup returns up to limit events of g's selected streams in
// [start, end] matching p, after the position after, in (timestamp, stream,
// sequence) order, and whether more remain.
func (s *Service) filterGroup(account, region string, g *group, names []string, prefix string, start, end int64,
	p *pattern.Pattern, after *filterPos, limit int) ([]filtered, bool, []string, error) {
	type sel struct {
		name string
		id   uint64
	}
	var streams []sel
	g.mu.Lock()
	gname := g.meta.Name
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for name, st := range g.streams {
		if len(want) > 0 && !want[name] || prefix != "" && !strings.HasPrefix(name, prefix) {
			continue
		}
		st.mu.Lock()
		m := st.meta
		st.mu.Unlock()
		if m.Seq == 0 || m.Last < start || m.First > end {
			continue
		}
		streams = append(streams, sel{name, m.ID})
	}
	g.mu.Unlock()
	sort.Slice(streams, func(i, j int) bool { return streams[i].name < streams[j].name })
	ec := eventScope(account, region)
	var all []filtered
	searched := make([]string, 0, len(streams))
	lo := start
	if after != nil && after.ts > lo {
		lo = after.ts
	}
	err := s.kv.View(func(tx storage.Tx) error {
		for _, sl := range streams {
			searched = append(searched, sl.name)
			n := 0
			from := eventKey(ec, gname, sl.name, mkPos(lo, 0))
			_, hi := ec.Range(gname, sl.name)
			err := tx.Scan(from, hi, func(k, v []byte) bool {
				e, ok := decodeEvent(k, v)
				if !ok {
					return true
				}
				if e.ts > end {
					return false
				}
				fp := filterPos{ts: e.ts, stream: sl.name, seq: e.seq}
				if after != nil && !after.less(fp) {
					return true
				}
				if !p.Match(e.msg) {
					return true
				}
				all = append(all, filtered{filterPos: fp, id: sl.id, ingest: e.ingest, msg: e.msg})
				n++
				return n <= limit
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, false, nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].less(all[j].filterPos) })
	more := len(all) > limit
	if more {
		all = all[:limit]
	}
	// Stay within the response size limit.
	bytes := 0
	for i, e := range all {
		bytes += len(e.msg) + eventOverhead
		if bytes > maxReadBytes && i > 0 {
			all, more = all[:i], true
			break
		}
	}
	return all, more, searched, nil
}
