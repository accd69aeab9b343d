package jsonrpc_test

import (
	"testing"

	"github.com/overcast-dev/overcast/internal/protocol/jsonrpc"
	"github.com/overcast-dev/overcast/internal/protocol/prototest"
)

const suites = "../testdata/protocol_tests/"

func TestJSONProtocolSuite(t *testing.T) {
	in := prototest.RunInput(t, suites+"input/json.json", jsonrpc.New())
	out := prototest.RunOutput(t, suites+"output/json.json", jsonrpc.New())
	t.Logf("json: input %v; output %v", in, out)
}
