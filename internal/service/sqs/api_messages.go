package sqs

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

const dedupWindow = 5 * time.Minute

func (q *queue) dedupKeyFor(groupID, dedupID string) string {
	if q.dedupByGroup {
		return groupID + "\x00" + dedupID
	}
	return dedupID
}

// sendEntry is one message to send, before validation.
type sendEntry struct {
	body     string
	hasBody  bool
	delay    int64
	hasDelay bool
	attrs    map[string]service.MessageAttribute
	trace    string
	hasTrace bool
	groupID  string
	dedupID  string
}

// sendResult is what a sent (or deduplicated) message answers.
type sendResult struct {
	m   *message
	id  string
	seq uint64
}

func validBody(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x80 {
			i++
			continue
		}
		if c == 0x9 || c == 0xA || c == 0xD {
			i++
			continue
		}
		if c < 0x20 {
			return false
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return false
		}
		if r >= 0xD800 && r <= 0xDFFF || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += n
	}
	return true
}

func validAttrName(n string) bool {
	if n == "" || len(n) > 256 || n[0] == '.' || n[len(n)-1] == '.' || strings.Contains(n, "..") {
		return false
	}
	l := strings.ToLower(n)
	if strings.HasPrefix(l, "aws.") || strings.HasPrefix(l, "amazon.") {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// ValidateAttributes checks message attributes as SQS does.
func ValidateAttributes(attrs map[string]service.MessageAttribute) error {
	if len(attrs) > 10 {
		return sqsErr(codeInvalidParameterValue, "Number of message attributes [%d] exceeds the allowed maximum [10].", len(attrs))
	}
	for n, a := range attrs {
		if !validAttrName(n) {
			return sqsErr(codeInvalidParameterValue, "Message (user) attribute name '%s' is invalid. The attribute name can contain A-Z, a-z, 0-9, underscore (_), hyphen (-), and period (.) characters.", n)
		}
		if a.DataType == "" {
			return sqsErr(codeInvalidParameterValue, "The message attribute '%s' must contain non-empty message attribute type.", n)
		}
		base, _, _ := strings.Cut(a.DataType, ".")
		switch base {
		case "String", "Number":
			if a.StringValue == "" {
				return sqsErr(codeInvalidParameterValue, "The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", n, base)
			}
			if base == "Number" {
				if _, err := strconv.ParseFloat(a.StringValue, 64); err != nil {
					return sqsErr(codeInvalidParameterValue, "Can't cast the value of message (user) attribute '%s' to a number.", n)
				}
			}
			if !validBody(a.StringValue) {
				return sqsErr(codeInvalidParameterValue, "Message (user) attribute '%s' contains invalid characters.", n)
			}
		case "Binary":
			if len(a.BinaryValue) == 0 {
				return sqsErr(codeInvalidParameterValue, "The message attribute '%s' must contain non-empty message attribute value for message attribute type 'Binary'.", n)
			}
		default:
			return sqsErr(codeInvalidParameterValue, "The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", n)
		}
	}
	return nil
}

func attrsFromInput(v any) map[string]service.MessageAttribute {
	m, _ := v.(map[string]any)
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]service.MessageAttribute, len(m))
	for k, x := range m {
		a, _ := x.(map[string]any)
		b, _ := a["BinaryValue"].([]byte)
		out[k] = service.MessageAttribute{DataType: service.Str(a, "DataType"), StringValue: service.Str(a, "StringValue"), BinaryValue: b}
	}
	return out
}

func entryFromInput(in map[string]any) sendEntry {
	e := sendEntry{
		groupID: service.Str(in, "MessageGroupId"),
		dedupID: service.Str(in, "MessageDeduplicationId"),
		attrs:   attrsFromInput(in["MessageAttributes"]),
	}
	e.body, e.hasBody = in["MessageBody"].(string)
	e.delay, e.hasDelay = service.Int(in, "DelaySeconds")
	if sys := attrsFromInput(in["MessageSystemAttributes"]); sys != nil {
		for k, a := range sys {
			if k != "AWSTraceHeader" {
				e.trace, e.hasTrace = "\x00"+k, true
				break
			}
			e.trace, e.hasTrace = a.StringValue, true
			if a.DataType != "String" || a.StringValue == "" {
				e.trace = "\x00" + k
			}
		}
	}
	return e
}

func validGroupToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// queueConf is the part of a queue's configuration a send needs.
type queueConf struct {
	fifo, contentDedup bool
	delay              time.Duration
	maxSize            int
}

func (q *queue) conf() queueConf {
	q.mu.Lock()
	defer q.mu.Unlock()
	return queueConf{fifo: q.fifo, contentDedup: q.contentDedup, delay: q.delay, maxSize: q.maxSize}
}

// prepare validates e and builds its message (without a sequence number).
func prepare(c queueConf, e sendEntry, sender string) (*message, error) {
	if !e.hasBody || e.body == "" {
		return nil, errMissing("MessageBody")
	}
	if !validBody(e.body) {
		return nil, sqsErr(codeInvalidMessage, "Invalid binary character was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
	}
	if err := ValidateAttributes(e.attrs); err != nil {
		return nil, err
	}
	if e.hasTrace && strings.HasPrefix(e.trace, "\x00") {
		return nil, sqsErr(codeInvalidParameterValue, "Message system attribute name '%s' is invalid.", e.trace[1:])
	}
	size := messageSize(e.body, e.attrs)
	if size > c.maxSize {
		return nil, sqsErr(codeInvalidParameterValue, "One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", c.maxSize)
	}
	delay := c.delay
	if e.hasDelay {
		if e.delay < 0 || e.delay > 900 {
			return nil, errParam(e.delay, "DelaySeconds", "DelaySeconds must be >= 0 and <= 900.")
		}
		if c.fifo && e.delay != 0 {
			return nil, errParam(e.delay, "DelaySeconds", "The request include parameter that is not valid for this queue type.")
		}
		if !c.fifo {
			delay = time.Duration(e.delay) * time.Second
		}
	}
	m := &message{
		id: newMessageID(), body: e.body, md5Body: md5Hex(e.body), attrs: e.attrs,
		md5Attrs: attrsMD5(e.attrs), senderID: sender, size: size, heapIdx: -1,
		groupID: e.groupID,
	}
	if e.hasTrace {
		m.trace = e.trace
		m.md5Sys = attrsMD5(map[string]service.MessageAttribute{"AWSTraceHeader": {DataType: "String", StringValue: e.trace}})
	}
	if delay > 0 {
		m.state = stDelayed
		m.visibleAt = int64(delay) // relative until committed
	}
	if c.fifo {
		if e.groupID == "" {
			return nil, errMissing("MessageGroupId")
		}
		if !validGroupToken(e.groupID) {
			return nil, errParam(e.groupID, "MessageGroupId", "MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
		}
		switch {
		case e.dedupID != "":
			if !validGroupToken(e.dedupID) {
				return nil, errParam(e.dedupID, "MessageDeduplicationId", "MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
			}
			m.dedupID = e.dedupID
		case c.contentDedup:
			sum := sha256.Sum256([]byte(e.body))
			m.dedupID = hex.EncodeToString(sum[:])
		default:
			return nil, sqsErr(codeInvalidParameterValue, "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
		}
	} else {
		if e.dedupID != "" {
			return nil, errParam(e.dedupID, "MessageDeduplicationId", "The request include parameter that is not valid for this queue type.")
		}
		if e.groupID != "" && !validGroupToken(e.groupID) {
			return nil, errParam(e.groupID, "MessageGroupId", "MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
		}
	}
	return m, nil
}

// commitSend stores prepared messages and makes them receivable. For FIFO
// queues it deduplicates; results say which message each entry became.
func (s *Service) commitSend(q *queue, msgs []*message) ([]sendResult, error) {
	res := make([]sendResult, len(msgs))
	now := s.clock.Now()
	stamp := func(m *message) {
		m.seq = q.nextSeq(now)
		m.sent = now.UnixMilli()
		if m.state == stDelayed {
			m.visibleAt = now.UnixNano() + m.visibleAt
		}
	}
	if q.fifo {
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.deleted {
			return nil, errNoQueue()
		}
		q.pruneDedup(now.UnixNano())
		var fresh []*message
		var added []string
		for i, m := range msgs {
			k := q.dedupKeyFor(m.groupID, m.dedupID)
			if e, ok := q.dedup[k]; ok {
				res[i] = sendResult{id: e.id, seq: e.seq, m: m}
				continue
			}
			stamp(m)
			exp := now.UnixNano() + int64(dedupWindow)
			q.dedup[k] = dedupEntry{id: m.id, seq: m.seq, expires: exp}
			q.dedupOrder = append(q.dedupOrder, dedupKey{k, exp})
			added = append(added, k)
			fresh = append(fresh, m)
			res[i] = sendResult{id: m.id, seq: m.seq, m: m}
		}
		if err := s.putMessages(q, fresh); err != nil {
			for _, k := range added {
				delete(q.dedup, k)
			}
			return nil, err
		}
		for _, m := range fresh {
			q.insert(m)
			q.stats.addSent(m.size)
		}
		return res, nil
	}
	for i, m := range msgs {
		stamp(m)
		res[i] = sendResult{id: m.id, m: m}
	}
	if err := s.putMessages(q, msgs); err != nil {
		return nil, err
	}
	q.mu.Lock()
	if !q.deleted {
		for _, m := range msgs {
			q.insert(m)
			q.stats.addSent(m.size)
		}
	}
	q.mu.Unlock()
	return res, nil
}

func (s *Service) putMessages(q *queue, msgs []*message) error {
	if len(msgs) == 0 {
		return nil
	}
	return s.kv.Update(func(tx storage.Tx) error {
		for _, m := range msgs {
			if err := tx.Put(q.msgKey(m.seq), m.encode()); err != nil {
				return err
			}
		}
		return nil
	})
}

func seqString(seq uint64) string { return fmt.Sprintf("%020d", seq) }

func sendOutput(out map[string]any, r sendResult, fifo bool) {
	out["MessageId"] = r.id
	out["MD5OfMessageBody"] = r.m.md5Body
	if r.m.md5Attrs != "" {
		out["MD5OfMessageAttributes"] = r.m.md5Attrs
	}
	if r.m.md5Sys != "" {
		out["MD5OfMessageSystemAttributes"] = r.m.md5Sys
	}
	if fifo {
		out["SequenceNumber"] = seqString(r.seq)
	}
}

func (s *Service) sendMessage(r *service.Request) (map[string]any, error) {
	q, err := s.queueFor(r)
	if err != nil {
		return nil, err
	}
	c := q.conf()
	m, err := prepare(c, entryFromInput(r.Input), r.Account)
	if err != nil {
		return nil, err
	}
	res, err := s.commitSend(q, []*message{m})
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, 5)
	sendOutput(out, res[0], c.fifo)
	return out, nil
}

// batchEntries validates a batch's entries and their ids.
func batchEntries(r *service.Request, entryType string) ([]map[string]any, error) {
	l, _ := r.Input["Entries"].([]any)
	if len(l) == 0 {
		return nil, sqsErr(codeEmptyBatch, "There should be at least one %s in the request.", entryType)
	}
	if len(l) > 10 {
		return nil, sqsErr(codeTooManyEntries, "Maximum number of entries per request are 10. You have sent %d.", len(l))
	}
	seen := make(map[string]bool, len(l))
	out := make([]map[string]any, len(l))
	for i, x := range l {
		e, _ := x.(map[string]any)
		id := service.Str(e, "Id")
		if !validBatchID(id) {
			return nil, sqsErr(codeInvalidBatchEntryID, "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		if seen[id] {
			return nil, sqsErr(codeBatchIDsNotDistinct, "Id %s repeated.", id)
		}
		seen[id] = true
		out[i] = e
	}
	return out, nil
}

func validBatchID(id string) bool {
	if id == "" || len(id) > 80 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func failedEntry(id string, err error) map[string]any {
	e := awserr.As(err)
	code := e.QueryCode
	if code == "" {
		code = e.Code
	}
	return map[string]any{"Id": id, "SenderFault": !e.Receiver, "Code": code, "Message": e.Message}
}

func batchOutput(ok, failed []any) map[string]any {
	if ok == nil {
		ok = []any{}
	}
	if failed == nil {
		failed = []any{}
	}
	return map[string]any{"Successful": ok, "Failed": failed}
}

func (s *Service) sendMessageBatch(r *service.Request) (map[string]any, error) {
	q, err := s.queueFor(r)
	if err != nil {
		return nil, err
	}
	entries, err := batchEntries(r, "SendMessageBatchRequestEntry")
	if err != nil {
		return nil, err
	}
	c := q.conf()
	total := 0
	var failed []any
	var msgs []*message
	var ids []string
	for _, in := range entries {
		e := entryFromInput(in)
		total += messageSize(e.body, e.attrs)
		m, err := prepare(c, e, r.Account)
		if err != nil {
			failed = append(failed, failedEntry(service.Str(in, "Id"), err))
			continue
		}
		msgs = append(msgs, m)
		ids = append(ids, service.Str(in, "Id"))
	}
	if total > maxMessageSize {
		return nil, sqsErr(codeBatchTooLong, "Batch requests cannot be longer than %d bytes. You have sent %d bytes.", maxMessageSize, total)
	}
	res, err := s.commitSend(q, msgs)
	if err != nil {
		return nil, err
	}
	ok := make([]any, len(res))
	for i, x := range res {
		o := map[string]any{"Id": ids[i]}
		sendOutput(o, x, c.fifo)
		ok[i] = o
	}
	return batchOutput(ok, failed), nil
}

// Receipt handles: "AQEB" (as SQS's own begin, so a handle never starts
// with "-", which command-line parsers take for an option), then the
// queue's id, the message's sequence number and its receive count,
// base64url-encoded.
const handlePrefix = "AQEB"

func (q *queue) handle(m *message) string {
	var b [20]byte
	copy(b[:8], q.idBytes[:])
	binary.BigEndian.PutUint64(b[8:], m.seq)
	binary.BigEndian.PutUint32(b[16:], m.receives)
	return handlePrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

func (q *queue) parseHandle(h string) (seq uint64, ok bool) {
	h, found := strings.CutPrefix(h, handlePrefix)
	if !found || len(h) != 27 {
		return 0, false
	}
	var b [20]byte
	if n, err := base64.RawURLEncoding.Decode(b[:], []byte(h)); err != nil || n != 20 {
		return 0, false
	}
	if [8]byte(b[:8]) != q.idBytes {
		return 0, false
	}
	return binary.BigEndian.Uint64(b[8:]), true
}

func errHandle(h string) error {
	return sqsErr(codeReceiptHandleInvalid, "The input receipt handle \"%s\" is not a valid receipt handle.", h)
}

// received is one message handed to a receiver, with its receive state as
// of that receive.
type received struct {
	m        *message
	receives uint32
	first    int64
	handle   string
}

type receiveArgs struct {
	max        int
	visibility time.Duration
	hasVis     bool
}

// receiveOnce takes up to a.max receivable messages. When it finds none and
// wait is set, it registers a waiter and returns the channel that will be
// closed when a message may have become receivable, and when the next
// delayed or invisible message is due.
func (s *Service) receiveOnce(q *queue, dlq *queue, a receiveArgs, wait bool) (got []received, moves, expired []*message, state [][2][]byte, notify chan struct{}, due int64, err error) {
	now := s.clock.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted {
		return nil, nil, nil, nil, nil, 0, errNoQueue()
	}
	q.promote(now)
	expired = q.expired(now)
	vis := q.visibility
	if a.hasVis {
		vis = a.visibility
	}
	visibleAt := now.Add(vis).UnixNano()
	maxRC := uint32(0)
	if dlq != nil && q.redrive != nil {
		maxRC = uint32(q.redrive.MaxReceiveCount)
	}
	nowMs := now.UnixMilli()
	takeOne := func(m *message) {
		m.receives++
		if m.firstReceive == 0 {
			m.firstReceive = nowMs
		}
		q.take(m, visibleAt)
		got = append(got, received{m: m, receives: m.receives, first: m.firstReceive, handle: q.handle(m)})
		state = append(state, [2][]byte{q.rcvKey(m.seq), m.encodeState()})
	}
	if !q.fifo {
		for len(got) < a.max && q.rhead != nil {
			m := q.rhead
			if maxRC > 0 && m.receives >= maxRC {
				q.remove(m)
				moves = append(moves, m)
				continue
			}
			takeOne(m)
		}
	} else {
		for len(got) < a.max && q.gahead != nil {
			g := q.gahead
			for m := g.head; m != nil && m.state == stReady && len(got) < a.max; {
				next := m.next
				if maxRC > 0 && m.receives >= maxRC {
					q.remove(m)
					moves = append(moves, m)
				} else {
					takeOne(m)
				}
				m = next
			}
			if q.groups[g.id] == g {
				q.fixGroup(g)
			}
		}
	}
	q.stats.received += int64(len(got))
	if len(got) == 0 && wait {
		q.waiters++
		notify = q.notify
		due = q.nextDue()
	}
	return got, moves, expired, state, notify, due, nil
}

func (s *Service) receiveMessage(r *service.Request) (map[string]any, error) {
	q, err := s.queueFor(r)
	if err != nil {
		return nil, err
	}
	a := receiveArgs{max: 1}
	if n, ok := service.Int(r.Input, "MaxNumberOfMessages"); ok {
		if n < 1 || n > 10 {
			return nil, errParam(n, "MaxNumberOfMessages", "Must be between 1 and 10, if provided.")
		}
		a.max = int(n)
	}
	if n, ok := service.Int(r.Input, "VisibilityTimeout"); ok {
		if n < 0 || n > 43200 {
			return nil, errParam(n, "VisibilityTimeout", "Must be >= 0 and <= 43200, if provided.")
		}
		a.visibility, a.hasVis = time.Duration(n)*time.Second, true
	}
	q.mu.Lock()
	wait := q.waitTime
	var redrive string
	if q.redrive != nil {
		redrive = q.redrive.TargetArn
	}
	q.mu.Unlock()
	if n, ok := service.Int(r.Input, "WaitTimeSeconds"); ok {
		if n < 0 || n > 20 {
			return nil, errParam(n, "WaitTimeSeconds", "Must be >= 0 and <= 20, if provided.")
		}
		wait = time.Duration(n) * time.Second
	}
	var dlq *queue
	if redrive != "" {
		dlq = s.queueByARN(redrive)
	}
	ctx := r.Context
	if ctx == nil {
		ctx = context.Background()
	}
	deadline := s.clock.Now().Add(wait)
	var got []received
	for {
		g, moves, expired, state, notify, due, err := s.receiveOnce(q, dlq, a, s.clock.Now().Before(deadline))
		if err != nil {
			return nil, err
		}
		if len(moves) > 0 {
			s.moveToDLQ(q, dlq, moves)
		}
		if len(expired) > 0 {
			s.dropExpired(q, expired)
		}
		if len(state) > 0 {
			if err := s.kv.Update(func(tx storage.Tx) error {
				for _, kv := range state {
					if err := tx.Put(kv[0], kv[1]); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				return nil, err
			}
		}
		got = g
		if len(got) > 0 || notify == nil {
			break
		}
		now := s.clock.Now()
		d := deadline.Sub(now)
		if due != 0 {
			if dd := time.Duration(due - now.UnixNano()); dd < d {
				d = dd
			}
		}
		if d < 0 {
			d = 0
		}
		t := s.clock.NewTimer(d)
		stop := false
		select {
		case <-notify:
		case <-t.C():
		case <-ctx.Done():
			stop = true
		case <-s.done:
			stop = true
		}
		t.Stop()
		q.mu.Lock()
		q.waiters--
		q.mu.Unlock()
		if stop {
			break
		}
	}
	if len(got) == 0 {
		q.mu.Lock()
		q.stats.empty++
		q.mu.Unlock()
		return map[string]any{}, nil
	}
	sysNames := map[string]bool{}
	for _, n := range service.Strings(r.Input, "AttributeNames") {
		sysNames[n] = true
	}
	for _, n := range service.Strings(r.Input, "MessageSystemAttributeNames") {
		sysNames[n] = true
	}
	attrNames := service.Strings(r.Input, "MessageAttributeNames")
	msgs := make([]any, len(got))
	for i, x := range got {
		msgs[i] = s.messageOutput(q, x, sysNames, attrNames)
	}
	return map[string]any{"Messages": msgs}, nil
}

func (s *Service) messageOutput(q *queue, x received, sys map[string]bool, attrNames []string) map[string]any {
	m := x.m
	out := map[string]any{
		"MessageId":     m.id,
		"ReceiptHandle": x.handle,
		"MD5OfBody":     m.md5Body,
		"Body":          m.body,
	}
	if len(sys) > 0 {
		all := sys["All"]
		attrs := map[string]any{}
		add := func(name, v string) {
			if (all || sys[name]) && v != "" {
				attrs[name] = v
			}
		}
		add("SenderId", m.senderID)
		add("SentTimestamp", strconv.FormatInt(m.sent, 10))
		add("ApproximateReceiveCount", strconv.FormatUint(uint64(x.receives), 10))
		add("ApproximateFirstReceiveTimestamp", strconv.FormatInt(x.first, 10))
		add("AWSTraceHeader", m.trace)
		add("DeadLetterQueueSourceArn", m.sourceArn)
		if m.groupID != "" {
			add("MessageGroupId", m.groupID)
		}
		if q.fifo {
			add("SequenceNumber", seqString(m.seq))
			add("MessageDeduplicationId", m.dedupID)
		}
		if len(attrs) > 0 {
			out["Attributes"] = attrs
		}
	}
	if len(attrNames) > 0 && len(m.attrs) > 0 {
		sel := map[string]any{}
		for k, a := range m.attrs {
			if attrSelected(k, attrNames) {
				v := map[string]any{"DataType": a.DataType}
				if isBinaryType(a.DataType) {
					v["BinaryValue"] = a.BinaryValue
				} else {
					v["StringValue"] = a.StringValue
				}
				sel[k] = v
			}
		}
		if len(sel) > 0 {
			out["MessageAttributes"] = sel
		}
	}
	if m.md5Attrs != "" {
		out["MD5OfMessageAttributes"] = m.md5Attrs
	}
	return out
}

func attrSelected(name string, want []string) bool {
	for _, w := range want {
		if w == "All" || w == ".*" || w == name {
			return true
		}
		if p, ok := strings.CutSuffix(w, ".*"); ok && strings.HasPrefix(name, p+".") {
			return true
		}
	}
	return false
}

// moveToDLQ moves messages (already taken out of src's indexes) to dlq.
func (s *Service) moveToDLQ(src, dlq *queue, msgs []*message) {
	s.moveMessages(src, dlq, msgs, src.arn)
}

// moveMessages moves messages (already taken out of src's indexes) to dst,
// keeping their ids and sent timestamps; sourceArn becomes their
// DeadLetterQueueSourceArn.
func (s *Service) moveMessages(src, dlq *queue, msgs []*message, sourceArn string) bool {
	now := s.clock.Now()
	dlq.mu.Lock()
	defer dlq.mu.Unlock()
	if dlq.deleted {
		return false
	}
	moved := make([]*message, len(msgs))
	for i, m := range msgs {
		moved[i] = &message{
			seq: dlq.nextSeq(now), id: m.id, body: m.body, md5Body: m.md5Body, md5Attrs: m.md5Attrs,
			attrs: m.attrs, trace: m.trace, md5Sys: m.md5Sys, sent: m.sent, groupID: m.groupID,
			dedupID: m.dedupID, senderID: m.senderID, sourceArn: sourceArn, size: m.size, heapIdx: -1,
		}
	}
	err := s.kv.Update(func(tx storage.Tx) error {
		for i, m := range msgs {
			if err := tx.Delete(src.msgKey(m.seq)); err != nil {
				return err
			}
			if err := tx.Delete(src.rcvKey(m.seq)); err != nil {
				return err
			}
			if err := tx.Put(dlq.msgKey(moved[i].seq), moved[i].encode()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.logger.Warn("sqs: move messages", "queue", src.arn, "err", err)
		return false
	}
	for _, m := range moved {
		dlq.insert(m)
	}
	return true
}

func (s *Service) deleteMessage(r *service.Request) (map[string]any, error) {
	q, err := s.queueFor(r)
	if err != nil {
		return nil, err
	}
	h := service.Str(r.Input, "ReceiptHandle")
	if h == "" {
		return nil, errMissing("ReceiptHandle")
	}
	seq, ok := q.parseHandle(h)
	if !ok {
		return nil, errHandle(h)
	}
	if s.takeOut(q, seq) {
		if err := s.deleteMessages(q, []uint64{seq}); err != nil {
			return nil, err
		}
	}
	return map[string]any{}, nil
}

// takeOut removes a message from q's indexes, reporting whether it was there.
func (s *Service) takeOut(q *queue, seq uint64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stats.deleted++
	m := q.msgs[seq]
	if m == nil {
		return false
	}
	q.remove(m)
	return true
}

func (s *Service) deleteMessageBatch(r *service.Request) (map[string]any, error) {
	q, err := s.queueFor(r)
	if err != nil {
		return nil, err
	}
	entries, err := batchEntries(r, "DeleteMessageBatchRequestEntry")
	if err != nil {
		return nil, err
	}
	var ok, failed []any
	var seqs []uint64
	q.mu.Lock()
	for _, e := range entries {
		id, h := service.Str(e, "Id"), service.Str(e, "ReceiptHandle")
		seq, valid := q.parseHandle(h)
		if !valid {
			failed = append(failed, failedEntry(id, errHandle(h)))
			continue
		}
		if m := q.msgs[seq]; m != nil {
			q.remove(m)
			seqs = append(seqs, seq)
		}
		q.stats.deleted++
		ok = append(ok, map[string]any{"Id": id})
	}
	q.mu.Unlock()
	if err := s.deleteMessages(q, seqs); err != nil {
		return nil, err
	}
	return batchOutput(ok, failed), nil
}

// changeVisibility sets an in-flight message's visibility timeout and
// returns its receive-state record.
func (s *Service) changeVisibility(q *queue, h string, vis int64) ([2][]byte, error) {
	if vis < 0 || vis > 43200 {
		return [2][]byte{}, errParam(vis, "VisibilityTimeout", "VisibilityTimeout must be an integer between 0 and 43200.")
	}
	seq, ok := q.parseHandle(h)
	if !ok {
		return [2][]byte{}, errHandle(h)
	}
	now := s.clock.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.promote(now)
	m := q.msgs[seq]
	if m == nil {
		return [2][]byte{}, errParam(h, "ReceiptHandle", "Message does not exist or is not available for visibility timeout change.")
	}
	if m.state != stInflight {
		return [2][]byte{}, sqsErr(codeMessageNotInflight, "Message does not exist or is not available for visibility timeout change.")
	}
	m.visibleAt = now.Add(time.Duration(vis) * time.Second).UnixNano()
	heap.Fix(&q.timers, m.heapIdx)
	q.promote(now)
	return [2][]byte{q.rcvKey(seq), m.encodeState()}, nil
}

func (s *Service) changeMessageVisibility(r *service.Request) (map[string]any, error) {
	q, err := s.queueFor(r)
	if err != nil {
		return nil, err
	}
	h := service.Str(r.Input, "ReceiptHandle")
	if h == "" {
		return nil, errMissing("ReceiptHandle")
	}
	vis, ok := service.Int(r.Input, "VisibilityTimeout")
	if !ok {
		return nil, errMissing("VisibilityTimeout")
	}
	kv, err := s.changeVisibility(q, h, vis)
	if err != nil {
		return nil, err
	}
	if err := s.kv.Update(func(tx storage.Tx) error { return tx.Put(kv[0], kv[1]) }); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) changeMessageVisibilityBatch(r *service.Request) (map[string]any, error) {
	q, err := s.queueFor(r)
	if err != nil {
		return nil, err
	}
	entries, err := batchEntries(r, "ChangeMessageVisibilityBatchRequestEntry")
	if err != nil {
		return nil, err
	}
	var ok, failed []any
	var recs [][2][]byte
	for _, e := range entries {
		id := service.Str(e, "Id")
		vis, _ := service.Int(e, "VisibilityTimeout")
		kv, err := s.changeVisibility(q, service.Str(e, "ReceiptHandle"), vis)
		if err != nil {
			failed = append(failed, failedEntry(id, err))
			continue
		}
		recs = append(recs, kv)
		ok = append(ok, map[string]any{"Id": id})
	}
	if len(recs) > 0 {
		if err := s.kv.Update(func(tx storage.Tx) error {
			for _, kv := range recs {
				if err := tx.Put(kv[0], kv[1]); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return batchOutput(ok, failed), nil
}
