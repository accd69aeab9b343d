package dynamodb

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// StreamReader is how other services (Lambda event-source mappings) consume
// DynamoDB Streams without going through the API.
type StreamReader interface {
	// ReadStream returns up to limit records of the stream streamARN in
	// account and region whose sequence numbers follow after ("" reads from
	// the oldest retained record), in commit order, and the position to pass
	// as after next time (after itself when there is nothing new). Each
	// record has the members of the DynamoDB Streams Record shape, as model
	// values. It returns an error wrapping ErrStreamNotFound when the stream
	// does not exist.
	ReadStream(account, region, streamARN, after string, limit int) (records []map[string]any, next string, err error)
}

// ErrStreamNotFound is returned by ReadStream for an unknown stream.
var ErrStreamNotFound = errors.New("dynamodb: stream not found")

const streamRetention = 24 * time.Hour

type stream struct {
	id, label, view, arn string
	prefix               []byte
	seq                  atomic.Int64
}

func (st *stream) shardID(t *table) string {
	return fmt.Sprintf("shardId-%020d-%s", t.meta.Created.UnixMilli(), st.id[len(st.id)-8:])
}

func fmtSeq(n int64) string { return fmt.Sprintf("%021d", n) }

func itemEqual(a, b item) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || !avEqual(x, y) {
			return false
		}
	}
	return true
}

// appendRecord writes a stream record for one item change; it runs inside
// the write's transaction, so records follow commit order.
func (s *Service) appendRecord(tx storage.Tx, t *table, key, old, new item, byTTL bool) error {
	st := t.stream
	var kind byte
	switch {
	case old == nil && new == nil:
		return nil
	case old == nil:
		kind = 'I'
	case new == nil:
		kind = 'R'
	default:
		if itemEqual(old, new) {
			return nil
		}
		kind = 'M'
	}
	seq := st.seq.Add(1)
	b := make([]byte, 0, 128)
	b = append(b, kind)
	if byTTL {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(s.now().UnixMilli()))
	b = appendMap(b, key)
	img := func(it item, want bool) {
		if it == nil || !want {
			b = append(b, 0)
			return
		}
		b = append(b, 1)
		b = appendMap(b, it)
	}
	img(new, st.view == "NEW_IMAGE" || st.view == "NEW_AND_OLD_IMAGES")
	img(old, st.view == "OLD_IMAGE" || st.view == "NEW_AND_OLD_IMAGES")
	k := binary.BigEndian.AppendUint64(append([]byte{}, st.prefix...), uint64(seq))
	return tx.Put(k, b)
}

// decodeRecord turns a stored record into the Record shape.
func decodeRecord(t *table, st *stream, seq uint64, v []byte) (map[string]any, time.Time, error) {
	if len(v) < 10 {
		return nil, time.Time{}, errCorrupt
	}
	kind, ttl := v[0], v[1] == 1
	at := time.UnixMilli(int64(binary.BigEndian.Uint64(v[2:10])))
	d := decoder{b: v[10:]}
	keys := d.mapv()
	var newImg, oldImg map[string]av
	if len(d.b) > 0 && d.b[0] == 1 {
		d.b = d.b[1:]
		newImg = d.mapv()
	} else if len(d.b) > 0 {
		d.b = d.b[1:]
	}
	if len(d.b) > 0 && d.b[0] == 1 {
		d.b = d.b[1:]
		oldImg = d.mapv()
	}
	if d.err != nil {
		return nil, at, d.err
	}
	sr := map[string]any{
		"ApproximateCreationDateTime": at.Truncate(time.Second),
		"Keys":                        item(keys).wire(),
		"SequenceNumber":              fmtSeq(int64(seq)),
		"StreamViewType":              st.view,
	}
	size := item(keys).size()
	if newImg != nil {
		sr["NewImage"] = item(newImg).wire()
		size += item(newImg).size()
	}
	if oldImg != nil {
		sr["OldImage"] = item(oldImg).wire()
		size += item(oldImg).size()
	}
	sr["SizeBytes"] = int64(size)
	name := map[byte]string{'I': "INSERT", 'M': "MODIFY", 'R': "REMOVE"}[kind]
	rec := map[string]any{
		"eventID":      fmt.Sprintf("%s%024x", st.id[len(st.id)-8:], seq),
		"eventName":    name,
		"eventVersion": "1.1",
		"eventSource":  "aws:dynamodb",
		"awsRegion":    t.scope.Region,
		"dynamodb":     sr,
	}
	if ttl {
		rec["userIdentity"] = map[string]any{"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
	}
	return rec, at, nil
}

// findStream resolves a stream ARN in the request's scope.
func (s *Service) findStream(sc storage.Scope, arn string) (*table, *stream, error) {
	nf := notFound("Requested resource not found: Stream: %s not found", arn)
	i := strings.Index(arn, ":table/")
	if i < 0 {
		return nil, nil, validation("Invalid StreamArn")
	}
	rest := arn[i+len(":table/"):]
	j := strings.Index(rest, "/stream/")
	if j < 0 {
		return nil, nil, validation("Invalid StreamArn")
	}
	t := s.lookup(sc, rest[:j])
	if t == nil || t.stream == nil || t.stream.arn != arn {
		return nil, nil, nf
	}
	return t, t.stream, nil
}

func (s *Service) listStreams(r *service.Request) (map[string]any, error) {
	sc := scopeOf(r)
	name := service.Str(r.Input, "TableName")
	limit, ok := service.Int(r.Input, "Limit")
	if !ok {
		limit = 100
	}
	start := service.Str(r.Input, "ExclusiveStartStreamArn")
	var arns []string
	byARN := map[string]*table{}
	s.mu.RLock()
	for k, t := range s.tables {
		if k.account == sc.Account && k.region == sc.Region && t.stream != nil && (name == "" || name == k.name) {
			arns = append(arns, t.stream.arn)
			byARN[t.stream.arn] = t
		}
	}
	s.mu.RUnlock()
	if name != "" && s.lookup(sc, name) == nil {
		return nil, notFound("Requested resource not found: Table: %s not found", name)
	}
	sort.Strings(arns)
	out := map[string]any{}
	var l []any
	for _, a := range arns {
		if start != "" && a <= start {
			continue
		}
		if int64(len(l)) == limit {
			out["LastEvaluatedStreamArn"] = l[len(l)-1].(map[string]any)["StreamArn"]
			break
		}
		t := byARN[a]
		l = append(l, map[string]any{"StreamArn": a, "TableName": t.meta.Name, "StreamLabel": t.stream.label})
	}
	if l == nil {
		l = []any{}
	}
	out["Streams"] = l
	return out, nil
}

func (s *Service) firstSeq(st *stream) int64 {
	first := int64(0)
	s.kv.View(func(tx storage.Tx) error {
		return tx.Scan(st.prefix, storage.PrefixEnd(st.prefix), func(k, v []byte) bool {
			first = int64(binary.BigEndian.Uint64(k[len(k)-8:]))
			return false
		})
	})
	return first
}

func (s *Service) describeStream(r *service.Request) (map[string]any, error) {
	t, st, err := s.findStream(scopeOf(r), service.Str(r.Input, "StreamArn"))
	if err != nil {
		return nil, err
	}
	first := s.firstSeq(st)
	if first == 0 {
		first = st.seq.Load() + 1
	}
	shard := map[string]any{"ShardId": st.shardID(t), "SequenceNumberRange": map[string]any{"StartingSequenceNumber": fmtSeq(first)}}
	created, _ := time.Parse("2006-01-02T15:04:05.000", st.label)
	desc := map[string]any{
		"StreamArn":               st.arn,
		"StreamLabel":             st.label,
		"StreamStatus":            "ENABLED",
		"StreamViewType":          st.view,
		"CreationRequestDateTime": created,
		"TableName":               t.meta.Name,
		"KeySchema":               keySchemaWire(t.meta.HashKey, t.meta.RangeKey),
		"Shards":                  []any{shard},
	}
	if ex := service.Str(r.Input, "ExclusiveStartShardId"); ex != "" && ex >= st.shardID(t) {
		desc["Shards"] = []any{}
	}
	return map[string]any{"StreamDescription": desc}, nil
}

// shard iterators are opaque: base64 of "arn|shard|position|issued".
func (s *Service) makeIterator(arn, shard string, pos int64) string {
	raw := arn + "|" + shard + "|" + strconv.FormatInt(pos, 10) + "|" + strconv.FormatInt(s.now().UnixMilli(), 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func (s *Service) getShardIterator(r *service.Request) (map[string]any, error) {
	in := r.Input
	t, st, err := s.findStream(scopeOf(r), service.Str(in, "StreamArn"))
	if err != nil {
		return nil, err
	}
	shard := service.Str(in, "ShardId")
	if shard != st.shardID(t) {
		return nil, notFound("Requested resource not found: Shard does not exist")
	}
	var pos int64
	typ := service.Str(in, "ShardIteratorType")
	seqArg := service.Str(in, "SequenceNumber")
	switch typ {
	case "TRIM_HORIZON":
		pos = 0
	case "LATEST":
		pos = st.seq.Load() + 1
	case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
		n, err := strconv.ParseInt(seqArg, 10, 64)
		if err != nil || n < 1 {
			return nil, validation("Invalid SequenceNumber: %s", seqArg)
		}
		if n > st.seq.Load() {
			return nil, validation("Invalid SequenceNumber: %s is beyond the end of the shard", seqArg)
		}
		pos = n
		if typ == "AFTER_SEQUENCE_NUMBER" {
			pos++
		}
		if first := s.firstSeq(st); first > 0 && n < first {
			return nil, &awserr.Error{Code: codeTrimmedData, Message: "Requested sequence number is beyond the trim horizon", Status: http.StatusBadRequest}
		}
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]", typ)
	}
	return map[string]any{"ShardIterator": s.makeIterator(st.arn, shard, pos)}, nil
}

func (s *Service) getRecords(r *service.Request) (map[string]any, error) {
	in := r.Input
	it := service.Str(in, "ShardIterator")
	raw, err := base64.RawURLEncoding.DecodeString(it)
	parts := strings.Split(string(raw), "|")
	if err != nil || len(parts) != 4 {
		return nil, validation("Invalid ShardIterator")
	}
	pos, err1 := strconv.ParseInt(parts[2], 10, 64)
	issued, err2 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil {
		return nil, validation("Invalid ShardIterator")
	}
	if s.now().Sub(time.UnixMilli(issued)) > 15*time.Minute {
		return nil, &awserr.Error{Code: codeExpiredIterator, Message: "Iterator expired. The iterator was created over 15 minutes ago.", Status: http.StatusBadRequest}
	}
	limit, ok := service.Int(in, "Limit")
	if !ok {
		limit = 1000
	}
	if limit < 1 || limit > 1000 {
		return nil, validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 1000", limit)
	}
	sc := scopeOf(r)
	t, st, err := s.findStream(sc, parts[0])
	if err != nil {
		return nil, err
	}
	recs, next, err := s.readRecords(t, st, pos, int(limit))
	if err != nil {
		return nil, err
	}
	out := map[string]any{"Records": recs, "NextShardIterator": s.makeIterator(st.arn, parts[1], next)}
	return out, nil
}

// readRecords returns records with sequence numbers >= pos.
func (s *Service) readRecords(t *table, st *stream, pos int64, limit int) ([]any, int64, error) {
	recs := []any{}
	next := pos
	start := binary.BigEndian.AppendUint64(append([]byte{}, st.prefix...), uint64(max(pos, 0)))
	cutoff := s.now().Add(-streamRetention)
	var derr error
	err := s.kv.View(func(tx storage.Tx) error {
		return tx.Scan(start, storage.PrefixEnd(st.prefix), func(k, v []byte) bool {
			seq := binary.BigEndian.Uint64(k[len(k)-8:])
			rec, at, err := decodeRecord(t, st, seq, v)
			if err != nil {
				derr = err
				return false
			}
			next = int64(seq) + 1
			if at.Before(cutoff) {
				return true
			}
			recs = append(recs, rec)
			return len(recs) < limit
		})
	})
	if err == nil {
		err = derr
	}
	return recs, next, err
}

// ReadStream implements StreamReader.
func (s *Service) ReadStream(account, region, streamARN, after string, limit int) ([]map[string]any, string, error) {
	sc := storage.Scope{Service: serviceName, Account: account, Region: region}
	t, st, err := s.findStream(sc, streamARN)
	if err != nil {
		return nil, after, fmt.Errorf("%w: %s", ErrStreamNotFound, streamARN)
	}
	var pos int64
	if after != "" {
		n, err := strconv.ParseInt(after, 10, 64)
		if err != nil {
			return nil, after, fmt.Errorf("dynamodb: invalid stream position %q", after)
		}
		pos = n + 1
	}
	recs, next, err := s.readRecords(t, st, pos, limit)
	if err != nil {
		return nil, after, err
	}
	out := make([]map[string]any, len(recs))
	for i, r := range recs {
		out[i] = r.(map[string]any)
	}
	nextPos := after
	if next > pos && len(recs) > 0 {
		nextPos = strconv.FormatInt(next-1, 10)
	}
	return out, nextPos, nil
}

var _ StreamReader = (*Service)(nil)
