package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/controller"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// QueueMessage is an SQS message as an event-source mapping receives it.
type QueueMessage struct {
	MessageID     string
	ReceiptHandle string
	Body          string
	MD5OfBody     string
	// Attributes are the system attributes (ApproximateReceiveCount,
	// SentTimestamp, SenderId, ApproximateFirstReceiveTimestamp, ...).
	Attributes        map[string]string
	MessageAttributes map[string]service.MessageAttribute
}

// QueueSource is what the SQS poller needs from SQS.
type QueueSource interface {
	// Receive receives up to max messages from the queue queueARN names,
	// hiding them for the queue's visibility timeout. It MUST return at
	// once (with none) when no message is available.
	Receive(ctx context.Context, queueARN string, max int) ([]QueueMessage, error)
	// Delete deletes a message Receive returned.
	Delete(ctx context.Context, queueARN, receiptHandle string) error
}

// StreamSource is what the DynamoDB Streams poller needs.
type StreamSource interface {
	// Shards lists the stream's shard ids, parents before children.
	Shards(ctx context.Context, streamARN string) ([]string, error)
	// Iterator returns a shard iterator at position (TRIM_HORIZON, LATEST
	// or AFTER_SEQUENCE_NUMBER with seq).
	Iterator(ctx context.Context, streamARN, shardID, position, seq string) (string, error)
	// Records returns up to limit records from iterator, each in the shape
	// Lambda sends (eventID, eventName, eventVersion, eventSource, awsRegion,
	// dynamodb), and the next iterator ("" once the shard is closed and
	// read to its end).
	Records(ctx context.Context, iterator string, limit int) (records []map[string]any, next string, err error)
}

// esm is an event-source mapping.
type esm struct {
	UUID             string          `json:"uuid"`
	Account          string          `json:"account"`
	Region           string          `json:"region"`
	Function         string          `json:"function"` // function ARN, maybe qualified
	Source           string          `json:"source"`
	BatchSize        int64           `json:"batchSize"`
	Window           int64           `json:"window"`
	Enabled          bool            `json:"enabled"`
	StartingPosition string          `json:"startingPosition,omitempty"`
	ResponseTypes    []string        `json:"responseTypes,omitempty"`
	MaxRetries       int64           `json:"maxRetries"`
	MaxRecordAge     int64           `json:"maxRecordAge"`
	Bisect           bool            `json:"bisect,omitempty"`
	OnFailure        string          `json:"onFailure,omitempty"`
	Filters          []string        `json:"filters,omitempty"`
	LastModified     time.Time       `json:"lastModified"`
	LastResult       string          `json:"lastResult,omitempty"`
	Extra            json.RawMessage `json:"-"`
}

func (m *esm) kind() string {
	switch {
	case strings.HasPrefix(m.Source, "arn:aws:sqs:") || strings.Contains(m.Source, ":sqs:"):
		return "sqs"
	case strings.Contains(m.Source, ":dynamodb:") && strings.Contains(m.Source, "/stream/"):
		return "dynamodb"
	case strings.Contains(m.Source, ":kinesis:"):
		return "kinesis"
	}
	return ""
}

func (s *Service) esmOut(m *esm, state string) map[string]any {
	if state == "" {
		state = "Disabled"
		if m.Enabled {
			state = "Enabled"
		}
	}
	out := map[string]any{
		"UUID":                           m.UUID,
		"EventSourceArn":                 m.Source,
		"FunctionArn":                    m.Function,
		"BatchSize":                      m.BatchSize,
		"MaximumBatchingWindowInSeconds": m.Window,
		"LastModified":                   m.LastModified,
		"State":                          state,
		"StateTransitionReason":          "USER_INITIATED",
		"LastProcessingResult":           orDefault(m.LastResult, "No records processed"),
		"EventSourceMappingArn":          "arn:" + partition(m.Region) + ":lambda:" + m.Region + ":" + m.Account + ":event-source-mapping:" + m.UUID,
		"FunctionResponseTypes":          toAnys(m.ResponseTypes),
	}
	if m.kind() != "sqs" {
		out["StartingPosition"] = m.StartingPosition
		out["MaximumRetryAttempts"] = m.MaxRetries
		out["MaximumRecordAgeInSeconds"] = m.MaxRecordAge
		out["BisectBatchOnFunctionError"] = m.Bisect
		out["ParallelizationFactor"] = int64(1)
		dc := map[string]any{"OnFailure": map[string]any{}}
		if m.OnFailure != "" {
			dc["OnFailure"] = map[string]any{"Destination": m.OnFailure}
		}
		out["DestinationConfig"] = dc
	}
	if len(m.Filters) > 0 {
		fs := make([]any, len(m.Filters))
		for i, p := range m.Filters {
			fs[i] = map[string]any{"Pattern": p}
		}
		out["FilterCriteria"] = map[string]any{"Filters": fs}
	}
	return out
}

func (s *Service) putESM(m *esm, del bool) error {
	k := scope(m.Account, m.Region).Key("esm", m.UUID)
	err := s.kv.Update(func(tx storage.Tx) error {
		if del {
			return tx.Delete(k)
		}
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		return tx.Put(k, b)
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	if del {
		delete(s.esms, m.UUID)
	} else {
		s.esms[m.UUID] = m
	}
	s.mu.Unlock()
	return nil
}

// applyESM validates and applies the mapping members of in to m.
func (s *Service) applyESM(r *service.Request, m *esm, in map[string]any, create bool) error {
	if n, ok := service.Int(in, "BatchSize"); ok {
		limit := int64(10000)
		if m.kind() == "sqs" && m.Window == 0 && service.Str(in, "MaximumBatchingWindowInSeconds") == "" {
			if w, _ := service.Int(in, "MaximumBatchingWindowInSeconds"); w == 0 {
				limit = 10
			}
		}
		if n < 1 || n > limit {
			if limit == 10 {
				return errInvalid("Maximum batch size is 10 for SQS event sources when MaximumBatchingWindowInSeconds is not set.")
			}
			return errValidation(n, "batchSize", "Member must have value less than or equal to 10000")
		}
		m.BatchSize = n
	}
	if n, ok := service.Int(in, "MaximumBatchingWindowInSeconds"); ok {
		if n < 0 || n > 300 {
			return errValidation(n, "maximumBatchingWindowInSeconds", "Member must have value less than or equal to 300")
		}
		m.Window = n
	}
	if _, ok := in["Enabled"]; ok {
		m.Enabled = service.Bool(in, "Enabled")
	}
	if _, ok := in["FunctionResponseTypes"]; ok {
		m.ResponseTypes = service.Strings(in, "FunctionResponseTypes")
		for _, t := range m.ResponseTypes {
			if t != "ReportBatchItemFailures" {
				return errValidation(t, "functionResponseTypes", "Member must satisfy enum value set: [ReportBatchItemFailures]")
			}
		}
	}
	if n, ok := service.Int(in, "MaximumRetryAttempts"); ok {
		m.MaxRetries = n
	}
	if n, ok := service.Int(in, "MaximumRecordAgeInSeconds"); ok {
		m.MaxRecordAge = n
	}
	if _, ok := in["BisectBatchOnFunctionError"]; ok {
		m.Bisect = service.Bool(in, "BisectBatchOnFunctionError")
	}
	if dc, ok := in["DestinationConfig"].(map[string]any); ok {
		if of, ok := dc["OnFailure"].(map[string]any); ok {
			m.OnFailure = service.Str(of, "Destination")
		}
	}
	if fc, ok := in["FilterCriteria"].(map[string]any); ok {
		m.Filters = nil
		fl, _ := fc["Filters"].([]any)
		for _, f := range fl {
			fm, _ := f.(map[string]any)
			p := service.Str(fm, "Pattern")
			var v map[string]any
			if json.Unmarshal([]byte(p), &v) != nil {
				return errInvalid("Invalid filter pattern definition.")
			}
			m.Filters = append(m.Filters, p)
		}
	}
	if fn := service.Str(in, "FunctionName"); fn != "" {
		ref, err := parseRef(r, fn, "")
		if err != nil {
			return err
		}
		if _, _, _, err := s.resolve(ref); err != nil {
			return err
		}
		m.Function = ref.arn()
	}
	return nil
}

func (s *Service) createEventSourceMapping(r *service.Request) (map[string]any, error) {
	in := r.Input
	m := &esm{UUID: newID(), Account: r.Account, Region: r.Region, Source: service.Str(in, "EventSourceArn"), Enabled: true,
		MaxRetries: -1, MaxRecordAge: -1, LastModified: s.clk.Now().UTC()}
	switch m.kind() {
	case "sqs":
		m.BatchSize = 10
	case "dynamodb", "kinesis":
		m.BatchSize = 100
		m.StartingPosition = service.Str(in, "StartingPosition")
		if m.StartingPosition == "" {
			return nil, errInvalid("1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.")
		}
	default:
		return nil, errInvalid("Unrecognized event source, must be kinesis, dynamodb stream or sqs.")
	}
	if err := s.applyESM(r, m, in, true); err != nil {
		return nil, err
	}
	s.mu.RLock()
	for _, o := range s.esms {
		if o.Source == m.Source && o.Function == m.Function {
			s.mu.RUnlock()
			return nil, errConflict("The event source arn (\" %s \") and function (\" %s \") provided mapping already exists. Please update or delete the existing mapping with UUID %s", m.Source, m.Function, o.UUID)
		}
	}
	s.mu.RUnlock()
	if err := s.putESM(m, false); err != nil {
		return nil, err
	}
	s.startPoller(m)
	return s.esmOut(m, "Creating"), nil
}

func (s *Service) findESM(r *service.Request) (*esm, error) {
	id := service.Str(r.Input, "UUID")
	s.mu.RLock()
	m := s.esms[id]
	s.mu.RUnlock()
	if m == nil || m.Account != r.Account || m.Region != r.Region {
		return nil, errNotFound("The resource you requested does not exist.")
	}
	return m, nil
}

func (s *Service) getEventSourceMapping(r *service.Request) (map[string]any, error) {
	m, err := s.findESM(r)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.esmOut(m, ""), nil
}

func (s *Service) updateEventSourceMapping(r *service.Request) (map[string]any, error) {
	cur, err := s.findESM(r)
	if err != nil {
		return nil, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	m := *cur
	if err := s.applyESM(r, &m, r.Input, false); err != nil {
		return nil, err
	}
	m.LastModified = s.clk.Now().UTC()
	if err := s.putESM(&m, false); err != nil {
		return nil, err
	}
	s.ctrl.Trigger("lambda-esm-" + m.UUID)
	state := "Updating"
	return s.esmOut(&m, state), nil
}

func (s *Service) deleteEventSourceMapping(r *service.Request) (map[string]any, error) {
	m, err := s.findESM(r)
	if err != nil {
		return nil, err
	}
	if err := s.putESM(m, true); err != nil {
		return nil, err
	}
	return s.esmOut(m, "Deleting"), nil
}

func (s *Service) listEventSourceMappings(r *service.Request) (map[string]any, error) {
	src := service.Str(r.Input, "EventSourceArn")
	var fnARN string
	if fn := service.Str(r.Input, "FunctionName"); fn != "" {
		ref, err := parseRef(r, fn, "")
		if err != nil {
			return nil, err
		}
		fnARN = ref.arn()
	}
	s.mu.RLock()
	var ms []*esm
	for _, m := range s.esms {
		if m.Account == r.Account && m.Region == r.Region && (src == "" || m.Source == src) && (fnARN == "" || m.Function == fnARN || strings.HasPrefix(m.Function, fnARN+":")) {
			ms = append(ms, m)
		}
	}
	s.mu.RUnlock()
	sort.Slice(ms, func(i, j int) bool { return ms[i].UUID < ms[j].UUID })
	lo, hi, next, err := page(r.Input, service.Str(r.Input, "Marker"), len(ms), func(i int) string { return ms[i].UUID }, 100)
	if err != nil {
		return nil, err
	}
	list := make([]any, 0, hi-lo)
	for _, m := range ms[lo:hi] {
		list = append(list, s.esmOut(m, ""))
	}
	out := map[string]any{"EventSourceMappings": list}
	if next != "" {
		out["NextMarker"] = next
	}
	return out, nil
}

// Pollers.

// poller is the state of one mapping's controller loop.
type poller struct {
	uuid string
	mu   sync.Mutex
	// iterators by shard, for stream sources.
	iters map[string]string
}

// startPoller starts the controller loop of mapping m.
func (s *Service) startPoller(m *esm) {
	if s.ctrl == nil {
		return
	}
	p := &poller{uuid: m.UUID, iters: map[string]string{}}
	err := s.ctrl.Start(controller.Loop{
		Name:       "lambda-esm-" + m.UUID,
		Interval:   500 * time.Millisecond,
		MinBackoff: time.Second,
		Reconcile:  func(ctx context.Context) error { return s.poll(ctx, p) },
	})
	if err != nil {
		s.log.Warn("lambda event-source poller", "uuid", m.UUID, "err", err)
	}
}

// poll does one round of a mapping: it returns nil when the mapping is gone
// (the loop then idles) or disabled.
func (s *Service) poll(ctx context.Context, p *poller) error {
	s.mu.RLock()
	m := s.esms[p.uuid]
	s.mu.RUnlock()
	if m == nil || !m.Enabled {
		return nil
	}
	switch m.kind() {
	case "sqs":
		return s.pollQueue(ctx, m)
	case "dynamodb":
		return s.pollStream(ctx, m, p)
	}
	return nil
}

func (s *Service) setResult(m *esm, result string) {
	s.mu.Lock()
	if cur := s.esms[m.UUID]; cur != nil && cur.LastResult != result {
		c := *cur
		c.LastResult = result
		s.esms[m.UUID] = &c
	}
	s.mu.Unlock()
}

func (s *Service) pollQueue(ctx context.Context, m *esm) error {
	if s.queues == nil {
		return errors.New("no SQS source wired")
	}
	for range 10 { // bounded work per round
		batch, err := s.queues.Receive(ctx, m.Source, int(min(m.BatchSize, 10)))
		if err != nil {
			return err
		}
		if m.Window > 0 || m.BatchSize > 10 {
			deadline := s.clk.Now().Add(time.Duration(m.Window) * time.Second)
			for int64(len(batch)) < m.BatchSize && s.clk.Now().Before(deadline) {
				more, err := s.queues.Receive(ctx, m.Source, int(min(m.BatchSize-int64(len(batch)), 10)))
				if err != nil {
					return err
				}
				if len(more) == 0 {
					if clock.Sleep(ctx, s.clk, 100*time.Millisecond) != nil {
						break
					}
					continue
				}
				batch = append(batch, more...)
			}
		}
		if len(batch) == 0 {
			return nil
		}
		var records []any
		var keep []QueueMessage
		for _, msg := range batch {
			rec := sqsRecord(m, msg)
			if !matchFilters(m.Filters, rec) {
				s.queues.Delete(ctx, m.Source, msg.ReceiptHandle) // filtered out: dropped, as Lambda does
				continue
			}
			records = append(records, rec)
			keep = append(keep, msg)
		}
		if len(records) == 0 {
			continue
		}
		payload, _ := json.Marshal(map[string]any{"Records": records})
		out, err := s.Invoke(ctx, m.Account, m.Region, m.Function, payload, false)
		if err != nil {
			var fe *FunctionError
			if errors.As(err, &fe) {
				s.setResult(m, "PROBLEM: Function call failed")
				return nil // the messages come back after their visibility timeout
			}
			return err
		}
		s.setResult(m, "OK")
		failed := map[string]bool{}
		if containsString(m.ResponseTypes, "ReportBatchItemFailures") {
			var resp struct {
				BatchItemFailures []struct {
					ItemIdentifier string `json:"itemIdentifier"`
				} `json:"batchItemFailures"`
			}
			if json.Unmarshal(out, &resp) == nil {
				for _, f := range resp.BatchItemFailures {
					failed[f.ItemIdentifier] = true
				}
			}
		}
		for _, msg := range keep {
			if !failed[msg.MessageID] {
				s.queues.Delete(ctx, m.Source, msg.ReceiptHandle)
			}
		}
	}
	return nil
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func sqsRecord(m *esm, msg QueueMessage) map[string]any {
	attrs := map[string]any{}
	for k, v := range msg.Attributes {
		attrs[k] = v
	}
	mattrs := map[string]any{}
	for k, a := range msg.MessageAttributes {
		ma := map[string]any{"dataType": a.DataType, "stringListValues": []any{}, "binaryListValues": []any{}}
		if a.BinaryValue != nil {
			ma["binaryValue"] = a.BinaryValue
		} else {
			ma["stringValue"] = a.StringValue
		}
		mattrs[k] = ma
	}
	return map[string]any{
		"messageId":         msg.MessageID,
		"receiptHandle":     msg.ReceiptHandle,
		"body":              msg.Body,
		"attributes":        attrs,
		"messageAttributes": mattrs,
		"md5OfBody":         msg.MD5OfBody,
		"eventSource":       "aws:sqs",
		"eventSourceARN":    m.Source,
		"awsRegion":         m.Region,
	}
}

func (s *Service) pollStream(ctx context.Context, m *esm, p *poller) error {
	if s.streams == nil {
		return errors.New("no DynamoDB Streams source wired")
	}
	shards, err := s.streams.Shards(ctx, m.Source)
	if err != nil {
		return err
	}
	for _, shard := range shards {
		p.mu.Lock()
		it, seen := p.iters[shard]
		p.mu.Unlock()
		if seen && it == "" {
			continue // closed and read to its end
		}
		if !seen {
			it, err = s.streams.Iterator(ctx, m.Source, shard, m.StartingPosition, "")
			if err != nil {
				return err
			}
		}
		recs, next, err := s.streams.Records(ctx, it, int(m.BatchSize))
		if err != nil {
			return err
		}
		var batch []any
		for _, rec := range recs {
			rec["eventSourceARN"] = m.Source
			if matchFilters(m.Filters, rec) {
				batch = append(batch, rec)
			}
		}
		if len(batch) > 0 {
			if err := s.deliverStream(ctx, m, batch); err != nil {
				return err // retried from the same iterator next round
			}
		}
		p.mu.Lock()
		if len(recs) > 0 || next == "" {
			p.iters[shard] = next
		} else if !seen {
			p.iters[shard] = it
		}
		p.mu.Unlock()
	}
	return nil
}

// deliverStream invokes the function with a batch of stream records,
// bisecting and retrying on error as configured; a batch that still fails
// goes to the on-failure destination and is skipped.
func (s *Service) deliverStream(ctx context.Context, m *esm, batch []any) error {
	attempts := int64(0)
	for {
		payload, _ := json.Marshal(map[string]any{"Records": batch})
		_, err := s.Invoke(ctx, m.Account, m.Region, m.Function, payload, false)
		if err == nil {
			s.setResult(m, "OK")
			return nil
		}
		var fe *FunctionError
		if !errors.As(err, &fe) {
			return err
		}
		s.setResult(m, "PROBLEM: Function call failed")
		if m.Bisect && len(batch) > 1 {
			half := len(batch) / 2
			if err := s.deliverStream(ctx, m, batch[:half]); err != nil {
				return err
			}
			return s.deliverStream(ctx, m, batch[half:])
		}
		attempts++
		if m.MaxRetries >= 0 && attempts > m.MaxRetries {
			if m.OnFailure != "" && s.dest != nil {
				first, _ := batch[0].(map[string]any)
				last, _ := batch[len(batch)-1].(map[string]any)
				rec, _ := json.Marshal(map[string]any{
					"requestContext":     map[string]any{"requestId": newID(), "functionArn": m.Function, "condition": "RetryAttemptsExhausted", "approximateInvokeCount": attempts},
					"responseContext":    map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
					"version":            "1.0",
					"timestamp":          s.clk.Now().UTC().Format(time.RFC3339Nano),
					"DDBStreamBatchInfo": map[string]any{"shardId": "", "startSequenceNumber": seqOf(first), "endSequenceNumber": seqOf(last), "batchSize": len(batch), "streamArn": m.Source},
				})
				s.dest.Deliver(ctx, m.OnFailure, rec)
			}
			return nil
		}
		if m.MaxRetries < 0 {
			return errors.New("function error; retrying") // until it succeeds or the records expire
		}
	}
}

func seqOf(rec map[string]any) string {
	d, _ := rec["dynamodb"].(map[string]any)
	s, _ := d["SequenceNumber"].(string)
	return s
}

// matchFilters reports whether record passes any of the filter patterns
// (all records pass when there are none). For SQS the body is matched as
// JSON when it parses.
func matchFilters(patterns []string, record map[string]any) bool {
	if len(patterns) == 0 {
		return true
	}
	doc := record
	if b, ok := record["body"].(string); ok {
		var v any
		if json.Unmarshal([]byte(b), &v) == nil {
			doc = make(map[string]any, len(record))
			for k, x := range record {
				doc[k] = x
			}
			doc["body"] = v
		}
	}
	var generic map[string]any
	raw, _ := json.Marshal(doc)
	json.Unmarshal(raw, &generic)
	for _, p := range patterns {
		var pat map[string]any
		if json.Unmarshal([]byte(p), &pat) == nil && matchPattern(pat, generic) {
			return true
		}
	}
	return false
}

// matchPattern implements the event-pattern subset Lambda filters use:
// nested objects, value lists, prefix, exists, anything-but and numeric.
func matchPattern(pat map[string]any, v map[string]any) bool {
	for k, pv := range pat {
		val, present := v[k]
		switch p := pv.(type) {
		case map[string]any:
			sub, ok := val.(map[string]any)
			if !ok || !matchPattern(p, sub) {
				return false
			}
		case []any:
			if !matchValues(p, val, present) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func matchValues(options []any, val any, present bool) bool {
	vals := []any{val}
	if l, ok := val.([]any); ok {
		vals = l
	}
	for _, o := range options {
		switch ov := o.(type) {
		case map[string]any:
			if e, ok := ov["exists"].(bool); ok {
				if e == present {
					return true
				}
				continue
			}
			for _, x := range vals {
				if matchOp(ov, x) {
					return true
				}
			}
		default:
			for _, x := range vals {
				if present && jsonEqual(ov, x) {
					return true
				}
			}
		}
	}
	return false
}

func matchOp(op map[string]any, x any) bool {
	if p, ok := op["prefix"].(string); ok {
		s, ok := x.(string)
		return ok && strings.HasPrefix(s, p)
	}
	if ab, ok := op["anything-but"]; ok {
		l, isList := ab.([]any)
		if !isList {
			l = []any{ab}
		}
		for _, y := range l {
			if jsonEqual(y, x) {
				return false
			}
		}
		return true
	}
	if n, ok := op["numeric"].([]any); ok {
		f, ok := toFloat(x)
		if !ok {
			return false
		}
		for i := 0; i+1 < len(n); i += 2 {
			opr, _ := n[i].(string)
			lim, ok := toFloat(n[i+1])
			if !ok {
				return false
			}
			switch opr {
			case "=":
				ok = f == lim
			case "<":
				ok = f < lim
			case "<=":
				ok = f <= lim
			case ">":
				ok = f > lim
			case ">=":
				ok = f >= lim
			default:
				ok = false
			}
			if !ok {
				return false
			}
		}
		return true
	}
	return false
}

func toFloat(x any) (float64, bool) {
	switch v := x.(type) {
	case float64:
		return v, true
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}

func jsonEqual(a, b any) bool {
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	return string(ab) == string(bb)
}
