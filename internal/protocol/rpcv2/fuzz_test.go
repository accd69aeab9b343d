package rpcv2_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/protocol/cbor"
	"github.com/overcast-dev/overcast/internal/protocol/model"
	"github.com/overcast-dev/overcast/internal/protocol/rpcv2"
)

func seed(v any) []byte {
	b, err := cbor.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzDecodeRequest feeds arbitrary CBOR to the rpc-v2-cbor codec with the
// CloudWatch model: no panics, and failures are 4xx AWS errors.
func FuzzDecodeRequest(f *testing.F) {
	f.Add("PutMetricData", seed(map[string]any{"Namespace": "n", "MetricData": []any{map[string]any{
		"MetricName": "m", "Value": 1.5, "Timestamp": time.Unix(1700000000, 0),
		"Dimensions": []any{map[string]any{"Name": "a", "Value": "b"}}, "Values": []any{1.0, 2.0}, "Counts": []any{1, 2},
	}}}))
	f.Add("GetMetricData", seed(map[string]any{"StartTime": 1.5, "EndTime": time.Unix(2, 0), "MetricDataQueries": []any{map[string]any{"Id": "q", "Expression": "SUM(METRICS())"}}}))
	f.Add("PutMetricData", []byte{0xbf, 0xff})
	f.Add("ListMetrics", []byte{0x9f})
	api := model.MustLoad("cloudwatch")
	c := rpcv2.New()
	f.Fuzz(func(t *testing.T, opName string, body []byte) {
		op := api.Operations[opName]
		if op == nil {
			op = api.Operations["PutMetricData"]
		}
		r := httptest.NewRequest(http.MethodPost, "/service/GraniteServiceVersion20100801/operation/"+op.Name, bytes.NewReader(body))
		if _, err := c.Operation(r, api); err != nil {
			t.Fatalf("operation: %v", err)
		}
		out, err := c.DecodeRequest(r, api, op)
		if err != nil {
			e, ok := err.(*awserr.Error)
			if !ok || e.HTTPStatus() < 400 || e.HTTPStatus() >= 500 {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		// Whatever decodes must encode back without error.
		if op.Output != nil {
			w := httptest.NewRecorder()
			if err := c.WriteResponse(w, r, api, api.Operations["ListMetrics"], map[string]any{}, "id"); err != nil {
				t.Fatal(err)
			}
		}
		_ = out
	})
}
