package logs

import (
	"testing"

	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/storage"
)

// FuzzTokens checks that the GetLogEvents and FilterLogEvents token parsers
// never panic and round-trip what they accept.
func FuzzTokens(f *testing.F) {
	f.Add(fmtToken('f', mkPos(1700000000000, 7)))
	f.Add(fmtToken('b', mkPos(0, 0)))
	f.Add(encodeFilterToken(filterPos{ts: 5, stream: "s/1", seq: 9}))
	f.Add("f/123/s")
	f.Fuzz(func(t *testing.T, tok string) {
		if dir, p, ok := parseToken(tok); ok {
			if got := fmtToken(dir, p); got != tok {
				// Leading zeros are canonical; any other accepted form must
				// still parse to the same position.
				if d2, p2, ok2 := parseToken(got); !ok2 || d2 != dir || p2 != p {
					t.Fatalf("%q -> %q does not round-trip", tok, got)
				}
			}
		}
		if fp, ok := decodeFilterToken(tok); ok {
			if back, ok := decodeFilterToken(encodeFilterToken(fp)); !ok || back != fp {
				t.Fatalf("filter token %q does not round-trip", tok)
			}
		}
	})
}

// FuzzEMF feeds arbitrary messages to the embedded-metric-format reader.
func FuzzEMF(f *testing.F) {
	f.Add(`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["A"]],"Metrics":[{"Name":"M","Unit":"Count"}]}]},"A":"x","M":[1,2]}`)
	f.Add(`{"_aws":{"CloudWatchMetrics":[{"Namespace":"AWS/X","Metrics":[{"Name":"M"}]}]},"M":1}`)
	f.Add(`{"_aws":5}`)
	f.Fuzz(func(t *testing.T, msg string) {
		byNS := map[string][]metrics.Datum{}
		emf(inEvent{ts: 1, msg: msg}, byNS)
		for ns := range byNS {
			if ns == "" {
				t.Fatal("datum without a namespace")
			}
		}
	})
}

// FuzzDecodeEvent feeds arbitrary stored keys and values to the decoder.
func FuzzDecodeEvent(f *testing.F) {
	ec := storage.Scope{Service: eventsScope, Account: "000000000000", Region: "us-east-1"}
	f.Add(eventKey(ec, "g", "s", mkPos(5, 1)), []byte("\x00\x00\x00\x00\x00\x00\x00\x01hello"))
	f.Add([]byte("junk"), []byte{})
	f.Fuzz(func(t *testing.T, k, v []byte) {
		decodeEvent(k, v)
		// Every key the scope builds decodes to its position.
		if len(k) >= 16 {
			var p pos
			copy(p[:], k)
			key := eventKey(ec, string(v), "s", p)
			if fast := appendEventKey(nil, ec.Prefix(string(v), "s"), p); string(fast) != string(key) {
				t.Fatalf("appendEventKey %x, Key %x", fast, key)
			}
			got, ok := keyPos(key)
			if !ok || got != p {
				t.Fatalf("position %x decoded as %x, %v", p, got, ok)
			}
		}
	})
}
