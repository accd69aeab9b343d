package model

import "testing"

func TestLoadAll(t *testing.T) {
	for _, name := range Names() {
		a, err := Load(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(a.Operations) == 0 {
			t.Errorf("%s: no operations", name)
		}
		for opName, op := range a.Operations {
			if op.Input != nil && op.Input.Shape.Type != "structure" {
				t.Errorf("%s.%s: input is %s", name, opName, op.Input.Shape.Type)
			}
		}
	}
}

func TestProtocols(t *testing.T) {
	cw := MustLoad("cloudwatch")
	for _, p := range []string{"query", "json", "smithy-rpc-v2-cbor"} {
		if !cw.HasProtocol(p) {
			t.Errorf("cloudwatch lacks %s", p)
		}
	}
	if !MustLoad("sqs").Metadata.QueryCompatible {
		t.Error("sqs should be query compatible")
	}
	q := MustLoad("sqs-query")
	attrs := q.Operations["CreateQueue"].Input.Shape.Members["Attributes"]
	if !attrs.IsFlattened() || attrs.WireName("Attributes") != "Attribute" {
		t.Errorf("sqs-query Attributes: flattened=%v name=%q", attrs.IsFlattened(), attrs.WireName("Attributes"))
	}
	s3 := MustLoad("s3")
	op := s3.Operations["PutObject"]
	if op.HTTP.Method != "PUT" || len(op.Path) != 2 || op.Path[1].Label != "Key" || !op.Path[1].Greedy {
		t.Errorf("PutObject path: %+v", op.Path)
	}
	if got := s3.Operations["CreateMultipartUpload"].Query; got == nil {
		t.Errorf("CreateMultipartUpload query literals missing")
	}
}
