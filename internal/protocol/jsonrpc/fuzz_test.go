package jsonrpc_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/protocol/jsonrpc"
	"github.com/overcast-dev/overcast/internal/protocol/model"
)

// FuzzDecodeRequest feeds arbitrary bodies to the json codec for real
// operations: decoding never panics, and failures are 4xx AWS errors.
func FuzzDecodeRequest(f *testing.F) {
	f.Add("PutItem", []byte(`{"TableName":"t","Item":{"pk":{"S":"a"},"n":{"N":"1"},"b":{"B":"AAEC"},"l":{"L":[{"M":{}}]}}}`))
	f.Add("Query", []byte(`{"TableName":"t","KeyConditionExpression":"pk = :v","ExpressionAttributeValues":{":v":{"S":"x"}},"Limit":10}`))
	f.Add("CreateTable", []byte(`{"TableName":"t","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"ProvisionedThroughput":{"ReadCapacityUnits":1.5}}`))
	f.Add("PutItem", []byte(`{"Item": [`))
	f.Add("PutItem", []byte(`{"TableName": 12}`))
	f.Add("BatchWriteItem", []byte(`{"RequestItems":{"t":[{"PutRequest":{"Item":{"a":{"NULL":true}}}}]}}`))
	api := model.MustLoad("dynamodb")
	c := jsonrpc.New()
	f.Fuzz(func(t *testing.T, opName string, body []byte) {
		op := api.Operations[opName]
		if op == nil {
			op = api.Operations["PutItem"]
		}
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op.Name)
		if _, err := c.Operation(r, api); err != nil {
			t.Fatalf("operation: %v", err)
		}
		if _, err := c.DecodeRequest(r, api, op); err != nil {
			e, ok := err.(*awserr.Error)
			if !ok || e.HTTPStatus() < 400 || e.HTTPStatus() >= 500 {
				t.Fatalf("error %T %v", err, err)
			}
		}
	})
}
