package sqs

import (
	"encoding/base64"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

func stringMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	out := make(map[string]string, len(m))
	for k, x := range m {
		s, _ := x.(string)
		out[k] = s
	}
	return out
}

func validQueueName(name string) bool {
	base := strings.TrimSuffix(name, ".fifo")
	if len(name) > 80 || base == "" {
		return false
	}
	for i := 0; i < len(base); i++ {
		c := base[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// checkRedrive validates a RedrivePolicy against its target queue.
func (s *Service) checkRedrive(attrs map[string]string, sourceArn string, fifo bool) error {
	v, ok := attrs[attrRedrivePolicy]
	if !ok || v == "" {
		return nil
	}
	p, _ := parseRedrive(v)
	t := s.queueByARN(p.TargetArn)
	if t == nil {
		return errParam(v, attrRedrivePolicy, "Dead letter target does not exist.")
	}
	t.mu.Lock()
	tf, allow := t.fifo, t.allow
	t.mu.Unlock()
	if tf != fifo {
		return errParam(v, attrRedrivePolicy, "Dead-letter target must be of the same type (standard or FIFO) as the source queue.")
	}
	if !allow.allows(sourceArn) {
		return errParam(v, attrRedrivePolicy, "Dead-letter target's RedriveAllowPolicy does not allow this queue as a source.")
	}
	return nil
}

func (s *Service) putQueue(q *queue) error {
	b, err := json.Marshal(&q.rec)
	if err != nil {
		return err
	}
	return s.kv.Update(func(tx storage.Tx) error {
		return tx.Put(q.scope.Key("queue", q.rec.Name), b)
	})
}

func (s *Service) createQueue(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "QueueName")
	if name == "" {
		return nil, errMissing("QueueName")
	}
	in := stringMap(r.Input["Attributes"])
	tags := stringMap(r.Input["tags"])
	fifo := strings.EqualFold(in[attrFifoQueue], "true")
	if !validQueueName(name) || strings.HasSuffix(name, ".fifo") != fifo {
		if fifo {
			return nil, sqsErr(codeInvalidParameterValue, "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
		}
		return nil, sqsErr(codeInvalidParameterValue, "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	attrs, err := validateAttrs(in, fifo, true)
	if err != nil {
		return nil, err
	}
	if len(tags) > 50 {
		return nil, sqsErr(codeInvalidParameterValue, "Too many tags added for queue %s.", name)
	}
	scope := storage.Scope{Service: "sqs", Account: r.Account, Region: r.Region}
	arn := "arn:" + service.Partition(r.Region) + ":sqs:" + r.Region + ":" + r.Account + ":" + name
	if err := s.checkRedrive(attrs, arn, fifo); err != nil {
		return nil, err
	}
	url := queueURL(r, r.Account, name)
	key := queueKey(r.Account, r.Region, name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.queues[key]; q != nil {
		q.mu.Lock()
		defer q.mu.Unlock()
		for k, v := range attrs {
			if q.rec.Attrs[k] != v {
				return nil, sqsErr(codeQueueNameExists, "A queue already exists with the same name and a different value for attribute %s", k)
			}
		}
		return map[string]any{"QueueUrl": url}, nil
	}
	now := s.clock.Now().Unix()
	all := defaultAttrs(fifo)
	for k, v := range attrs {
		if v == "" {
			delete(all, k)
			continue
		}
		all[k] = v
	}
	if all[attrKmsMasterKeyID] != "" {
		delete(all, attrSqsManagedSse)
	}
	rec := queueRecord{ID: newID()[:16], Name: name, Attrs: all, Created: now, Modified: now}
	if len(tags) > 0 {
		rec.Tags = tags
	}
	q := newQueue(scope, rec)
	if err := s.putQueue(q); err != nil {
		return nil, err
	}
	s.queues[key] = q
	return map[string]any{"QueueUrl": url}, nil
}

func (s *Service) getQueueURL(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "QueueName")
	if name == "" {
		return nil, errMissing("QueueName")
	}
	account := r.Account
	if a := service.Str(r.Input, "QueueOwnerAWSAccountId"); a != "" {
		account = a
	}
	if s.lookup(account, r.Region, name) == nil {
		return nil, errNoQueue()
	}
	return map[string]any{"QueueUrl": queueURL(r, account, name)}, nil
}

// pageArgs reads MaxResults and NextToken.
func pageArgs(r *service.Request) (max int, after string, paged bool, err error) {
	max = 1000
	if n, ok := service.Int(r.Input, "MaxResults"); ok {
		if n < 1 || n > 1000 {
			return 0, "", false, errParam(n, "MaxResults", "MaxResults must be an integer between 1 and 1000.")
		}
		max, paged = int(n), true
	}
	if tok := service.Str(r.Input, "NextToken"); tok != "" {
		b, e := base64.RawURLEncoding.DecodeString(tok)
		if e != nil {
			return 0, "", false, sqsErr(codeInvalidParameterValue, "Invalid NextToken value.")
		}
		after = string(b)
	}
	return max, after, paged, nil
}

// page returns the names after `after`, up to max, and the next token.
func page(names []string, max int, after string, paged bool) ([]string, string) {
	sort.Strings(names)
	i := sort.SearchStrings(names, after)
	if after != "" && i < len(names) && names[i] == after {
		i++
	}
	names = names[i:]
	next := ""
	if len(names) > max {
		names = names[:max]
		if paged {
			next = base64.RawURLEncoding.EncodeToString([]byte(names[max-1]))
		}
	}
	return names, next
}

func (s *Service) listQueues(r *service.Request) (map[string]any, error) {
	max, after, paged, err := pageArgs(r)
	if err != nil {
		return nil, err
	}
	prefix := service.Str(r.Input, "QueueNamePrefix")
	want := r.Account + "\x00" + r.Region + "\x00" + prefix
	var names []string
	s.mu.RLock()
	for k, q := range s.queues {
		if strings.HasPrefix(k, want) {
			names = append(names, q.rec.Name)
		}
	}
	s.mu.RUnlock()
	names, next := page(names, max, after, paged)
	out := map[string]any{}
	if len(names) > 0 {
		urls := make([]any, len(names))
		for i, n := range names {
			urls[i] = queueURL(r, r.Account, n)
		}
		out["QueueUrls"] = urls
	}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (s *Service) deleteQueue(r *service.Request) (map[string]any, error) {
	q, err := s.queueFor(r)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	key := queueKey(q.scope.Account, q.scope.Region, q.rec.Name)
	if s.queues[key] == q {
		delete(s.queues, key)
	}
	s.mu.Unlock()
	q.mu.Lock()
	q.deleted = true
	q.waiters++ // force the wake below
	q.wake()
	q.waiters--
	q.mu.Unlock()
	err = s.kv.Update(func(tx storage.Tx) error {
		if err := tx.Delete(q.scope.Key("queue", q.rec.Name)); err != nil {
			return err
		}
		for _, kind := range []string{"msg", "rcv"} {
			start, end := q.scope.Range(kind, q.rec.ID)
			var keys [][]byte
			if err := tx.Scan(start, end, func(k, _ []byte) bool { keys = append(keys, k); return true }); err != nil {
				return err
			}
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) purgeQueue(r *service.Request) (map[string]any, error) {
	q, err := s.queueFor(r)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	q.mu.Lock()
	if !q.lastPurge.IsZero() && now.Sub(q.lastPurge) < 60e9 {
		q.mu.Unlock()
		return nil, sqsErr(codePurgeInProgress, "Only one PurgeQueue operation on %s is allowed every 60 seconds.", q.rec.Name)
	}
	q.lastPurge = now
	seqs := make([]uint64, 0, len(q.msgs))
	for seq := range q.msgs {
		seqs = append(seqs, seq)
	}
	q.msgs = make(map[uint64]*message)
	q.ahead, q.atail, q.rhead, q.rtail = nil, nil, nil, nil
	for _, m := range q.timers {
		m.heapIdx = -1
	}
	q.timers = nil
	q.counts = [3]int{}
	if q.fifo {
		q.groups = make(map[string]*group)
		q.gahead, q.gatail = nil, nil
	}
	q.mu.Unlock()
	if err := s.deleteMessages(q, seqs); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// deleteMessages removes messages' records.
func (s *Service) deleteMessages(q *queue, seqs []uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	return s.kv.Update(func(tx storage.Tx) error {
		for _, seq := range seqs {
			if err := tx.Delete(q.msgKey(seq)); err != nil {
				return err
			}
			if err := tx.Delete(q.rcvKey(seq)); err != nil {
				return err
			}
		}
		return nil
	})
}

var allAttrNames = []string{
	attrPolicy, attrVisibilityTimeout, attrMaximumMessageSize, attrRetentionPeriod,
	attrNumMessages, attrNumNotVisible, attrCreatedTimestamp, attrModifiedTimestamp,
	attrQueueArn, attrNumDelayed, attrDelaySeconds, attrWaitTime, attrRedrivePolicy,
	attrFifoQueue, attrContentBasedDedup, attrKmsMasterKeyID, attrKmsReusePeriod,
	attrDeduplicationScope, attrFifoThroughputLimit, attrRedriveAllowPolicy, attrSqsManagedSse,
}

var knownAttr = func() map[string]bool {
	m := map[string]bool{"All": true}
	for _, n := range allAttrNames {
		m[n] = true
	}
	return m
}()

func (s *Service) getQueueAttributes(r *service.Request) (map[string]any, error) {
	q, err := s.queueFor(r)
	if err != nil {
		return nil, err
	}
	names := service.Strings(r.Input, "AttributeNames")
	for _, n := range names {
		if !knownAttr[n] {
			return nil, sqsErr(codeInvalidAttributeName, "Unknown Attribute %s.", n)
		}
	}
	want := map[string]bool{}
	for _, n := range names {
		if n == "All" {
			for _, a := range allAttrNames {
				want[a] = true
			}
		}
		want[n] = true
	}
	now := s.clock.Now()
	q.mu.Lock()
	q.promote(now)
	expired := q.expired(now)
	vals := map[string]string{}
	for k, v := range q.rec.Attrs {
		vals[k] = v
	}
	vals[attrQueueArn] = q.arn
	vals[attrNumMessages] = strconv.Itoa(q.counts[stReady])
	vals[attrNumNotVisible] = strconv.Itoa(q.counts[stInflight])
	vals[attrNumDelayed] = strconv.Itoa(q.counts[stDelayed])
	vals[attrCreatedTimestamp] = strconv.FormatInt(q.rec.Created, 10)
	vals[attrModifiedTimestamp] = strconv.FormatInt(q.rec.Modified, 10)
	q.mu.Unlock()
	s.dropExpired(q, expired)
	out := map[string]any{}
	for n := range want {
		if v, ok := vals[n]; ok {
			out[n] = v
		}
	}
	if len(out) == 0 {
		return map[string]any{}, nil
	}
	return map[string]any{"Attributes": out}, nil
}

func (s *Service) dropExpired(q *queue, msgs []*message) {
	if len(msgs) == 0 {
		return
	}
	seqs := make([]uint64, len(msgs))
	for i, m := range msgs {
		seqs[i] = m.seq
	}
	if err := s.deleteMessages(q, seqs); err != nil {
		s.logger.Warn("sqs: drop expired messages", "queue", q.arn, "err", err)
	}
}

func (s *Service) setQueueAttributes(r *service.Request) (map[string]any, error) {
	q, err := s.queueFor(r)
	if err != nil {
		return nil, err
	}
	in := stringMap(r.Input["Attributes"])
	q.mu.Lock()
	fifo := q.fifo
	q.mu.Unlock()
	attrs, err := validateAttrs(in, fifo, false)
	if err != nil {
		return nil, err
	}
	if err := s.checkRedrive(attrs, q.arn, fifo); err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	old := q.rec
	na := make(map[string]string, len(old.Attrs)+len(attrs))
	for k, v := range old.Attrs {
		na[k] = v
	}
	for k, v := range attrs {
		if v == "" {
			delete(na, k)
		} else {
			na[k] = v
		}
	}
	if na[attrKmsMasterKeyID] != "" && attrs[attrSqsManagedSse] == "" {
		delete(na, attrSqsManagedSse)
	}
	if attrs[attrSqsManagedSse] == "true" {
		delete(na, attrKmsMasterKeyID)
	}
	q.rec.Attrs = na
	q.rec.Modified = s.clock.Now().Unix()
	if err := s.putQueue(q); err != nil {
		q.rec = old
		return nil, err
	}
	q.applyAttrs()
	return map[string]any{}, nil
}

func (s *Service) tagQueue(r *service.Request) (map[string]any, error) {
	q, err := s.queueFor(r)
	if err != nil {
		return nil, err
	}
	tags := stringMap(r.Input["Tags"])
	if len(tags) == 0 {
		return nil, errMissing("Tags")
	}
	return s.updateTags(q, func(t map[string]string) error {
		for k, v := range tags {
			if k == "" || len(k) > 128 || len(v) > 256 {
				return errParam(k, "Tags", "Tag keys must be 1 to 128 characters and values up to 256.")
			}
			t[k] = v
		}
		if len(t) > 50 {
			return sqsErr(codeInvalidParameterValue, "Too many tags added for queue %s.", q.rec.Name)
		}
		return nil
	})
}

func (s *Service) untagQueue(r *service.Request) (map[string]any, error) {
	q, err := s.queueFor(r)
	if err != nil {
		return nil, err
	}
	keys := service.Strings(r.Input, "TagKeys")
	if len(keys) == 0 {
		return nil, errMissing("TagKeys")
	}
	return s.updateTags(q, func(t map[string]string) error {
		for _, k := range keys {
			delete(t, k)
		}
		return nil
	})
}

func (s *Service) updateTags(q *queue, fn func(map[string]string) error) (map[string]any, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	old := q.rec.Tags
	t := make(map[string]string, len(old))
	for k, v := range old {
		t[k] = v
	}
	if err := fn(t); err != nil {
		return nil, err
	}
	q.rec.Tags = t
	if err := s.putQueue(q); err != nil {
		q.rec.Tags = old
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) listQueueTags(r *service.Request) (map[string]any, error) {
	q, err := s.queueFor(r)
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.rec.Tags) == 0 {
		return map[string]any{}, nil
	}
	tags := make(map[string]any, len(q.rec.Tags))
	for k, v := range q.rec.Tags {
		tags[k] = v
	}
	return map[string]any{"Tags": tags}, nil
}

type policyDoc struct {
	Version   string           `json:"Version"`
	ID        string           `json:"Id,omitempty"`
	Statement []map[string]any `json:"Statement"`
}

func (s *Service) addPermission(r *service.Request) (map[string]any, error) {
	q, err := s.queueFor(r)
	if err != nil {
		return nil, err
	}
	label := service.Str(r.Input, "Label")
	accounts := service.Strings(r.Input, "AWSAccountIds")
	actions := service.Strings(r.Input, "Actions")
	switch {
	case label == "":
		return nil, errMissing("Label")
	case len(accounts) == 0:
		return nil, errMissing("AWSAccountIds")
	case len(actions) == 0:
		return nil, errMissing("Actions")
	}
	return s.updatePolicy(q, func(p *policyDoc) error {
		for _, st := range p.Statement {
			if st["Sid"] == label {
				return errParam(label, "Label", "Already exists.")
			}
		}
		principals := make([]any, len(accounts))
		for i, a := range accounts {
			principals[i] = "arn:" + service.Partition(q.scope.Region) + ":iam::" + a + ":root"
		}
		acts := make([]any, len(actions))
		for i, a := range actions {
			acts[i] = "SQS:" + a
		}
		p.Statement = append(p.Statement, map[string]any{
			"Sid": label, "Effect": "Allow", "Principal": map[string]any{"AWS": principals},
			"Action": acts, "Resource": q.arn,
		})
		return nil
	})
}

func (s *Service) removePermission(r *service.Request) (map[string]any, error) {
	q, err := s.queueFor(r)
	if err != nil {
		return nil, err
	}
	label := service.Str(r.Input, "Label")
	if label == "" {
		return nil, errMissing("Label")
	}
	return s.updatePolicy(q, func(p *policyDoc) error {
		for i, st := range p.Statement {
			if st["Sid"] == label {
				p.Statement = append(p.Statement[:i], p.Statement[i+1:]...)
				return nil
			}
		}
		return errParam(label, "Label", "can't find label.")
	})
}

func (s *Service) updatePolicy(q *queue, fn func(*policyDoc) error) (map[string]any, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := &policyDoc{Version: "2012-10-17", ID: q.arn + "/SQSDefaultPolicy"}
	if cur := q.rec.Attrs[attrPolicy]; cur != "" {
		if json.Unmarshal([]byte(cur), p) != nil {
			p = &policyDoc{Version: "2012-10-17", ID: q.arn + "/SQSDefaultPolicy"}
		}
	}
	if err := fn(p); err != nil {
		return nil, err
	}
	old := q.rec.Attrs
	na := make(map[string]string, len(old))
	for k, v := range old {
		na[k] = v
	}
	if len(p.Statement) == 0 {
		delete(na, attrPolicy)
	} else {
		b, _ := json.Marshal(p)
		na[attrPolicy] = string(b)
	}
	q.rec.Attrs = na
	if err := s.putQueue(q); err != nil {
		q.rec.Attrs = old
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) listDeadLetterSourceQueues(r *service.Request) (map[string]any, error) {
	q, err := s.queueFor(r)
	if err != nil {
		return nil, err
	}
	max, after, paged, err := pageArgs(r)
	if err != nil {
		return nil, err
	}
	prefix := q.scope.Account + "\x00" + q.scope.Region + "\x00"
	var cands []*queue
	s.mu.RLock()
	for k, c := range s.queues {
		if strings.HasPrefix(k, prefix) {
			cands = append(cands, c)
		}
	}
	s.mu.RUnlock()
	var names []string
	for _, c := range cands {
		c.mu.Lock()
		if c.redrive != nil && c.redrive.TargetArn == q.arn {
			names = append(names, c.rec.Name)
		}
		c.mu.Unlock()
	}
	names, next := page(names, max, after, paged)
	urls := make([]any, len(names))
	for i, n := range names {
		urls[i] = queueURL(r, q.scope.Account, n)
	}
	out := map[string]any{"queueUrls": urls}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

var _ = awserr.New
