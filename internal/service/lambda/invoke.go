package lambda

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/lambda/runtimeapi"
)

// outcome is what one execution produced.
type outcome struct {
	payload   []byte
	funcError string // "Unhandled" for a function error
	errorType string
	logs      []string // the invocation's log lines, for LogType Tail
	version   string
	requestID string
}

// target is a resolved invocation target.
type target struct {
	f   *function
	v   *version
	arn string // as the runtime sees it (qualified when invoked so)
}

// resolveTarget resolves a reference, applying alias routing.
func (s *Service) resolveTarget(ref fnRef) (target, error) {
	f, v, a, err := s.resolve(ref)
	if err != nil {
		return target{}, err
	}
	if a != nil {
		if rv := route(a); rv != a.Version {
			if x := f.lookupVersion(rv); x != nil {
				v = x
			}
		}
	}
	arn := f.arn()
	if ref.qualifier != "" {
		arn += ":" + ref.qualifier
	}
	return target{f: f, v: v, arn: arn}, nil
}

// execute runs one invocation of t in an execution environment.
func (s *Service) execute(t target, payload []byte, tail bool, clientContext string) (outcome, error) {
	f, v := t.f, t.v
	release, concurrent, err := s.acquire(f)
	if err != nil {
		s.publish(f, t, []metrics.Datum{{Name: "Throttles", Unit: "Count", Value: 1}})
		return outcome{}, err
	}
	defer release()
	reqID := newID()
	out := outcome{version: v.Version, requestID: reqID}
	k := envKey{f.key(), v.Version, v.RevisionID}
	e := s.pool.take(k)
	if e == nil {
		ne, err := s.startEnv(f, v, t.arn)
		if err != nil {
			var ie *invokeError
			if !errors.As(err, &ie) {
				return outcome{}, err
			}
			out.funcError, out.errorType = "Unhandled", ie.typ
			out.payload = errorDoc(ie.typ, "RequestId: "+reqID+" Error: "+ie.msg)
			out.logs = []string{
				"START RequestId: " + reqID + " Version: " + v.Version,
				"END RequestId: " + reqID,
				fmt.Sprintf("REPORT RequestId: %s\tDuration: 0.00 ms\tBilled Duration: 0 ms\tMemory Size: %d MB\tMax Memory Used: 0 MB\tStatus: error\tError Type: %s", reqID, v.MemorySize, ie.typ),
			}
			s.publish(f, t, []metrics.Datum{{Name: "Invocations", Unit: "Count", Value: 1}, {Name: "Errors", Unit: "Count", Value: 1}})
			return out, nil
		}
		e = ne
	}
	cold := !e.ready
	lines := e.output(false) // init output, or late lines of the previous invocation
	lines = append(lines, "START RequestId: "+reqID+" Version: "+v.Version)
	if clientContext != "" {
		if b, err := base64.StdEncoding.DecodeString(clientContext); err == nil {
			clientContext = string(b)
		}
	}
	timeout := time.Duration(v.Timeout) * time.Second
	start := time.Now()
	res, ierr := e.run(runtimeapi.Invocation{
		RequestID:     reqID,
		Payload:       payload,
		Deadline:      start.Add(timeout),
		FunctionARN:   t.arn,
		ClientContext: clientContext,
		TraceID:       "Root=1-" + strconv.FormatInt(start.Unix(), 16) + "-" + strings.ReplaceAll(reqID, "-", "")[:24] + ";Sampled=0",
	}, timeout)
	dur := time.Since(start)
	e.pipe.drain()
	if tail || ierr != nil {
		e.settle()
	}
	lines = append(lines, e.output(ierr != nil)...)
	status := ""
	switch {
	case ierr != nil:
		out.funcError, out.errorType = "Unhandled", ierr.typ
		if json.Valid([]byte(ierr.msg)) && strings.HasPrefix(strings.TrimSpace(ierr.msg), "{") {
			out.payload = []byte(ierr.msg) // the runtime's own init error document
		} else {
			out.payload = errorDoc(ierr.typ, "RequestId: "+reqID+" Error: "+ierr.msg)
		}
		status = "\tStatus: " + ierr.status + "\tError Type: " + ierr.typ
		if ierr.status == "timeout" {
			lines = append(lines, s.clk.Now().UTC().Format("2006-01-02T15:04:05.000Z")+" "+reqID+" Task timed out after "+fmt.Sprintf("%.2f", timeout.Seconds())+" seconds")
		}
	case res.TooLarge:
		out.funcError, out.errorType = "Unhandled", "Function.ResponseSizeTooLarge"
		out.payload = errorDoc("Function.ResponseSizeTooLarge", fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxResponse))
	case res.Error:
		out.funcError, out.errorType = "Unhandled", res.ErrorType
		out.payload = res.Payload
	default:
		out.payload = res.Payload
	}
	mem := e.memoryUsed()
	ms := float64(dur.Microseconds()) / 1000
	report := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB",
		reqID, ms, int64(math.Ceil(ms)), v.MemorySize, mem)
	if cold {
		report += fmt.Sprintf("\tInit Duration: %.2f ms", float64(e.initDur.Microseconds())/1000)
	}
	lines = append(lines, "END RequestId: "+reqID, report+status)
	out.logs = lines
	e.flushLogs(lines, false)

	if ierr != nil {
		e.close()
	} else {
		e.lastUsed = s.clk.Now()
		if s.current(k) && !s.stopping() {
			s.pool.put(e)
		} else {
			e.close()
		}
	}
	errs := 0.0
	if out.funcError != "" {
		errs = 1
	}
	s.publish(f, t, []metrics.Datum{
		{Name: "Invocations", Unit: "Count", Value: 1},
		{Name: "Errors", Unit: "Count", Value: errs},
		{Name: "Duration", Unit: "Milliseconds", Value: ms},
		{Name: "ConcurrentExecutions", Unit: "Count", Value: float64(concurrent)},
	})
	return out, nil
}

func errorDoc(typ, msg string) []byte {
	b, _ := json.Marshal(map[string]any{"errorType": typ, "errorMessage": msg})
	return b
}

// publish sends data for t's function to the metrics publisher.
func (s *Service) publish(f *function, t target, data []metrics.Datum) {
	now := s.clk.Now()
	dims := []metrics.Dimension{{Name: "FunctionName", Value: f.Name}}
	out := make([]metrics.Datum, 0, 2*len(data))
	for _, d := range data {
		d.Timestamp = now
		d.Dimensions = dims
		out = append(out, d)
		if i := strings.LastIndexByte(t.arn, ':'); strings.Count(t.arn, ":") == 7 && i >= 0 {
			d.Dimensions = []metrics.Dimension{{Name: "FunctionName", Value: f.Name}, {Name: "Resource", Value: f.Name + ":" + t.arn[i+1:]}}
			out = append(out, d)
		}
	}
	s.metrics.Publish(f.Account, f.Region, "AWS/Lambda", out)
}

// tailLog returns the base64 of the last 4 KB of an invocation's log.
func tailLog(lines []string) string {
	var b []byte
	for _, l := range lines {
		b = append(b, l...)
		b = append(b, '\n')
	}
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return base64.StdEncoding.EncodeToString(b)
}

// checkPayload validates an invocation payload: JSON, within the limit.
func checkPayload(payload []byte, async bool) ([]byte, error) {
	limit, kind := maxSyncPayload, "RequestResponse"
	if async {
		limit, kind = maxAsyncPayload, "Event"
	}
	if len(payload) > limit {
		return nil, lerr(http.StatusRequestEntityTooLarge, codeRequestTooLarge,
			"%d byte payload is too large for the %s invocation type (limit %d bytes)", len(payload), kind, limit)
	}
	if len(strings.TrimSpace(string(payload))) == 0 {
		return []byte("{}"), nil
	}
	if !json.Valid(payload) {
		return nil, lerr(http.StatusBadRequest, codeInvalidRequest, "Could not parse request body into json: Could not parse payload into json: Unexpected character: was expecting a JSON value")
	}
	return payload, nil
}

func (s *Service) invoke(r *service.Request) (map[string]any, error) {
	in := r.Input
	ref, err := parseRef(r, service.Str(in, "FunctionName"), service.Str(in, "Qualifier"))
	if err != nil {
		return nil, err
	}
	typ := service.Str(in, "InvocationType")
	switch typ {
	case "", "RequestResponse", "Event", "DryRun":
	default:
		return nil, errValidation(typ, "invocationType", "Member must satisfy enum value set: [Event, RequestResponse, DryRun]")
	}
	if lt := service.Str(in, "LogType"); lt != "" && lt != "None" && lt != "Tail" {
		return nil, errValidation(lt, "logType", "Member must satisfy enum value set: [None, Tail]")
	}
	payload, _ := in["Payload"].([]byte)
	payload, err = checkPayload(payload, typ == "Event")
	if err != nil {
		return nil, err
	}
	t, err := s.resolveTarget(ref)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "DryRun":
		return map[string]any{"StatusCode": int64(204)}, nil
	case "Event":
		s.enqueue(t.f, ref.qualifier, payload)
		return map[string]any{"StatusCode": int64(202)}, nil
	}
	o, err := s.execute(t, payload, service.Str(in, "LogType") == "Tail", service.Str(in, "ClientContext"))
	if err != nil {
		return nil, err
	}
	out := map[string]any{"StatusCode": int64(200), "Payload": o.payload, "ExecutedVersion": o.version}
	if o.funcError != "" {
		out["FunctionError"] = o.funcError
	}
	if service.Str(in, "LogType") == "Tail" {
		out["LogResult"] = tailLog(o.logs)
	}
	return out, nil
}

func (s *Service) invokeAsync(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), "")
	if err != nil {
		return nil, err
	}
	var payload []byte
	switch b := r.Input["InvokeArgs"].(type) {
	case io.Reader:
		payload, err = io.ReadAll(io.LimitReader(b, maxAsyncPayload+1))
		if err != nil {
			return nil, lerr(http.StatusBadRequest, codeInvalidRequest, "The request body could not be read.")
		}
	case []byte:
		payload = b
	}
	if payload, err = checkPayload(payload, true); err != nil {
		return nil, err
	}
	t, err := s.resolveTarget(ref)
	if err != nil {
		return nil, err
	}
	s.enqueue(t.f, ref.qualifier, payload)
	return map[string]any{"Status": int64(202)}, nil
}

// FunctionError is returned by Invoke when the function failed: Payload is
// the error document ({"errorMessage","errorType",...}).
type FunctionError struct {
	Type    string
	Payload []byte
}

func (e *FunctionError) Error() string { return "function error " + e.Type + ": " + string(e.Payload) }

// Invoke runs a function for another service (SNS subscriptions, S3
// notifications, CloudWatch alarm actions, ALB targets): function is a
// name or an ARN, optionally qualified. With async the event is queued (with
// Lambda's retries and destinations) and Invoke returns at once; otherwise
// it returns the function's response, or a *FunctionError, or an
// *awserr.Error (ResourceNotFoundException, TooManyRequestsException, ...).
func (s *Service) Invoke(ctx context.Context, account, region, function string, payload []byte, async bool) ([]byte, error) {
	r := &service.Request{Context: ctx, Account: account, Region: region}
	ref, err := parseRef(r, function, "")
	if err != nil {
		return nil, err
	}
	if payload, err = checkPayload(payload, async); err != nil {
		return nil, err
	}
	t, err := s.resolveTarget(ref)
	if err != nil {
		return nil, err
	}
	if async {
		s.enqueue(t.f, ref.qualifier, payload)
		return nil, nil
	}
	o, err := s.execute(t, payload, false, "")
	if err != nil {
		return nil, err
	}
	if o.funcError != "" {
		return o.payload, &FunctionError{Type: o.errorType, Payload: o.payload}
	}
	return o.payload, nil
}

// Check reports whether function (a name or an ARN, optionally qualified)
// exists as account in region: nil, or the *awserr.Error Invoke would
// return. Services validating a trigger's target (S3 notification
// configurations) call it instead of invoking the function.
func (s *Service) Check(ctx context.Context, account, region, function string) error {
	r := &service.Request{Context: ctx, Account: account, Region: region}
	ref, err := parseRef(r, function, "")
	if err != nil {
		return err
	}
	_, err = s.resolveTarget(ref)
	return err
}
