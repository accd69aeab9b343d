package query_test

import (
	"testing"

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
