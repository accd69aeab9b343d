package rest

import (
	"path/filepath"
	"testing"

	"github.com/overcast-dev/overcast/internal/protocol/prototest"
)

func suite(dir, name string) string {
	return filepath.Join("..", "testdata", "protocol_tests", dir, name+".json")
}

func TestRestJSONInput(t *testing.T) {
	res := prototest.RunInput(t, suite("input", "rest-json"), NewJSON())
	t.Logf("rest-json input: %v", res)
}

func TestRestJSONOutput(t *testing.T) {
	res := prototest.RunOutput(t, suite("output", "rest-json"), NewJSON())
	t.Logf("rest-json output: %v", res)
}

func TestRestXMLInput(t *testing.T) {
	res := prototest.RunInput(t, suite("input", "rest-xml"), NewXML())
	t.Logf("rest-xml input: %v", res)
}

func TestRestXMLOutput(t *testing.T) {
	res := prototest.RunOutput(t, suite("output", "rest-xml"), NewXML())
	t.Logf("rest-xml output: %v", res)
}
