package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// cwDefs are the CloudWatch workloads (issue 7). They speak json 1.0, the
// protocol boto3 1.43 and JS v3 use, signed with the SDK's SigV4 signer:
// the Go SDK speaks only rpc-v2-cbor, which moto does not, and every target
// must see the same requests.
func cwDefs() []workloadDef {
	return []workloadDef{
		{name: "cw-put", doc: "CloudWatch PutMetricData, 20 datums per call (one metric, 20 dimension values, timestamp now), json 1.0 as boto3 sends it, SigV4-signed",
			service: "cloudwatch", concurrency: defaultS3DDBConc, duration: defaultDuration, unit: "datapoints/s", perOp: cwDatumsPerPut,
			new:   func() Workload { return &cwPut{} },
			goals: goals{vsMotoRate: 100, aheadOfPeers: true}},
		{name: "cw-get", doc: "CloudWatch GetMetricData, Average per minute over 24 h of a metric pre-filled with -cw-datapoints values (Values arrays of 100), json 1.0; the number of points is checked",
			service: "cloudwatch", concurrency: 1, duration: defaultDuration, heavySetup: true, latency: true,
			new:   func() Workload { return &cwGet{} },
			goals: goals{vsMotoRate: 100, aheadOfPeers: true}},
	}
}

const (
	cwNamespace     = "Bench"
	cwDatumsPerPut  = 20
	cwValuesPerFill = 100 // values per datum when pre-filling
	cwDatumsPerFill = 20  // datums per PutMetricData when pre-filling
)

// cwClient sends CloudWatch json 1.0 requests signed with SigV4.
type cwClient struct {
	hc     *http.Client
	url    string
	signer *v4.Signer
	creds  aws.Credentials
}

func newCW(env Env) *cwClient {
	return &cwClient{hc: env.HTTPClient, url: env.Endpoint + "/", signer: v4.NewSigner(),
		creds: aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}}
}

// cwError is an error answer: its __type and message.
type cwError struct {
	status        int
	code, message string
}

func (e *cwError) Error() string {
	return fmt.Sprintf("status %d: %s: %s", e.status, e.code, e.message)
}

// call sends op with body and returns the response body of a 200.
func (c *cwClient) call(ctx context.Context, op string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	h := req.Header
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amz-Target", "GraniteServiceVersion20100801."+op)
	h.Set("X-Amzn-Query-Mode", "true")
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), "monitoring", "us-east-1", time.Now()); err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		e := &cwError{status: resp.StatusCode}
		var doc struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
			Msg     string `json:"Message"`
		}
		if json.Unmarshal(out, &doc) == nil && doc.Type != "" {
			e.code, e.message = doc.Type, doc.Message+doc.Msg
		} else {
			e.message = string(out[:min(len(out), 200)])
		}
		if resp.StatusCode == http.StatusNotImplemented {
			e.code = "NotImplemented"
		}
		return nil, e
	}
	return out, nil
}

// cwPut puts 20 datums per call.
type cwPut struct {
	c    *cwClient
	next atomic.Uint64
}

func (*cwPut) Name() string { return "cw-put" }

func (w *cwPut) Setup(ctx context.Context, env Env) error {
	if env.Floor {
		return errors.ErrUnsupported
	}
	w.c = newCW(env)
	return classify("first PutMetricData", w.Op(ctx))
}

func (w *cwPut) Op(ctx context.Context) error {
	b := make([]byte, 0, 2048)
	b = append(b, `{"Namespace":"`+cwNamespace+`","MetricData":[`...)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	base := w.next.Add(1)
	for i := range cwDatumsPerPut {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"MetricName":"put","Dimensions":[{"Name":"n","Value":"`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `"}],"Timestamp":`...)
		b = append(b, ts...)
		b = append(b, `,"Value":`...)
		b = strconv.AppendUint(b, (base+uint64(i))%1000, 10)
		b = append(b, `,"Unit":"Count"}`...)
	}
	b = append(b, "]}"...)
	_, err := w.c.call(ctx, "PutMetricData", b)
	return err
}

// cwGet reads a day of a pre-filled metric per op, over a window fixed at
// set-up, and checks the number of points.
type cwGet struct {
	c    *cwClient
	body []byte
	want int // points in the window
}

func (*cwGet) Name() string { return "cw-get" }

func (w *cwGet) Setup(ctx context.Context, env Env) error {
	if env.Floor {
		return errors.ErrUnsupported
	}
	w.c = newCW(env)
	now := time.Now().Truncate(time.Minute)
	total := env.Opts.MetricDatapoints
	datums := (total + cwValuesPerFill - 1) / cwValuesPerFill
	// Datums spread evenly over the last 24 hours, newest a minute ago.
	span := 24 * time.Hour
	at := func(d int) time.Time {
		return now.Add(-time.Minute - time.Duration(int64(span-time.Minute)*int64(d)/int64(max(datums, 1))))
	}
	minutes := map[int64]bool{}
	for d := range datums {
		minutes[at(d).Truncate(time.Minute).Unix()] = true
	}
	w.want = len(minutes)
	calls := (datums + cwDatumsPerFill - 1) / cwDatumsPerFill
	err := fillParallel(ctx, "datapoints", int64(calls), cwDatumsPerFill*cwValuesPerFill, 8, func(ctx context.Context, call int64) error {
		b := make([]byte, 0, 16<<10)
		b = append(b, `{"Namespace":"`+cwNamespace+`","MetricData":[`...)
		for k := 0; k < cwDatumsPerFill; k++ {
			d := int(call)*cwDatumsPerFill + k
			if d >= datums {
				break
			}
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"MetricName":"stored","Timestamp":`...)
			b = strconv.AppendInt(b, at(d).Unix(), 10)
			b = append(b, `,"Values":[`...)
			for v := range min(cwValuesPerFill, total-d*cwValuesPerFill) {
				if v > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendInt(b, int64(rand.IntN(1000)), 10)
			}
			b = append(b, `],"Unit":"Milliseconds"}`...)
		}
		b = append(b, "]}"...)
		_, err := w.c.call(ctx, "PutMetricData", b)
		return err
	})
	if err != nil {
		return classify("fill metric", err)
	}
	w.body = fmt.Appendf(nil, `{"StartTime":%d,"EndTime":%d,"MetricDataQueries":[{"Id":"m","MetricStat":{"Metric":{"Namespace":%q,"MetricName":"stored"},"Period":60,"Stat":"Average"},"ReturnData":true}]}`,
		now.Add(-span-time.Minute).Unix(), now.Add(time.Minute).Unix(), cwNamespace)
	return classify("first GetMetricData", w.Op(ctx))
}

func (w *cwGet) Op(ctx context.Context) error {
	out, err := w.c.call(ctx, "GetMetricData", w.body)
	if err != nil {
		return err
	}
	var doc struct {
		MetricDataResults []struct {
			Id         string
			StatusCode string
			Timestamps []json.Number
			Values     []float64
		}
		NextToken string
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return fmt.Errorf("GetMetricData: %v", err)
	}
	if len(doc.MetricDataResults) != 1 {
		return fmt.Errorf("GetMetricData: %d results, want 1", len(doc.MetricDataResults))
	}
	r := doc.MetricDataResults[0]
	if r.Id != "m" || r.StatusCode != "Complete" || doc.NextToken != "" {
		return fmt.Errorf("GetMetricData: Id %q, StatusCode %q, NextToken %q", r.Id, r.StatusCode, doc.NextToken)
	}
	if len(r.Values) != w.want || len(r.Timestamps) != w.want {
		return fmt.Errorf("GetMetricData: %d values and %d timestamps, want %d", len(r.Values), len(r.Timestamps), w.want)
	}
	return nil
}

var (
	_ Workload = (*cwPut)(nil)
	_ Workload = (*cwGet)(nil)
)
