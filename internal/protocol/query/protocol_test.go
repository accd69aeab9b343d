package query_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/overcast-dev/overcast/internal/protocol/model"

	"github.com/overcast-dev/overcast/internal/protocol/prototest"
	"github.com/overcast-dev/overcast/internal/protocol/query"
)

const suites = "../testdata/protocol_tests/"

func TestQueryProtocolSuite(t *testing.T) {
	in := prototest.RunInput(t, suites+"input/query.json", query.New())
	out := prototest.RunOutput(t, suites+"output/query.json", query.New())
	t.Logf("query: input %v; output %v", in, out)
}

func TestEC2ProtocolSuite(t *testing.T) {
	in := prototest.RunInput(t, suites+"input/ec2.json", query.NewEC2())
	out := prototest.RunOutput(t, suites+"output/ec2.json", query.NewEC2())
	t.Logf("ec2: input %v; output %v", in, out)
}

// A flattened map named on its shape (SQS TagQueue from query clients sends
// Tag.N.Key / Tag.N.Value).
func TestFlattenedMapNamedOnShape(t *testing.T) {
	api := model.MustLoad("sqs-query")
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("Action=TagQueue&QueueUrl=q&Tag.1.Key=team&Tag.1.Value=blue&Tag.2.Key=env&Tag.2.Value=dev"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c := query.New()
	op, err := c.Operation(r, api)
	if err != nil {
		t.Fatal(err)
	}
	in, err := c.DecodeRequest(r, api, op)
	if err != nil {
		t.Fatal(err)
	}
	tags, _ := in["Tags"].(map[string]any)
	if tags["team"] != "blue" || tags["env"] != "dev" || len(tags) != 2 {
		t.Errorf("Tags = %v", in["Tags"])
	}
}
