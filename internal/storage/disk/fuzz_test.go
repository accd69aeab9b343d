package disk

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/overcast-dev/overcast/internal/storage"
	"github.com/overcast-dev/overcast/internal/storage/internal/ordered"
)

// FuzzReplay opens a store whose only log is arbitrary bytes. Open must not
// panic or fail; it keeps exactly the valid prefix of records, truncates the
// rest, and reopening gives the same state.
func FuzzReplay(f *testing.F) {
	rec := appendRecord(nil, []ordered.Op{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b")}})
	rec = appendRecord(rec, []ordered.Op{{Delete: true, Key: []byte("a")}})
	f.Add(rec)
	f.Add(rec[:len(rec)-1])
	f.Add(append(append([]byte{}, rec...), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0))
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		// The parser alone, against its own framing.
		var want ordered.Map
		txn := want.Txn()
		good, clean, err := readRecords(bytes.NewReader(data), int64(len(data)), func(ops []ordered.Op) error {
			apply(txn, ops)
			return nil
		})
		if err != nil || good > int64(len(data)) || (clean && good != int64(len(data))) {
			t.Fatalf("readRecords = %d, %v, %v over %d bytes", good, clean, err, len(data))
		}
		want = txn.Map()

		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "kv"), 0o755); err != nil {
			t.Fatal(err)
		}
		logPath := filepath.Join(dir, "kv", walName(0))
		if err := os.WriteFile(logPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			s, err := Open(dir, Options{NoSync: true})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			var got []string
			s.View(func(tx storage.Tx) error {
				return tx.Scan(nil, nil, func(k, v []byte) bool { got = append(got, string(k)+"="+string(v)); return true })
			})
			s.Close()
			var exp []string
			want.Ascend(nil, nil, func(k, v []byte) bool { exp = append(exp, string(k)+"="+string(v)); return true })
			if len(got) != len(exp) {
				t.Fatalf("open %d: %d keys, want %d", i, len(got), len(exp))
			}
			for j := range got {
				if got[j] != exp[j] {
					t.Fatalf("open %d: key %d = %q, want %q", i, j, got[j], exp[j])
				}
			}
			if fi, err := os.Stat(logPath); err != nil || fi.Size() != good {
				t.Fatalf("log not truncated to %d bytes: %v %v", good, fi.Size(), err)
			}
		}
	})
}

// FuzzDecodeOps feeds arbitrary payloads past the CRC to the op decoder.
func FuzzDecodeOps(f *testing.F) {
	f.Add(appendRecord(nil, []ordered.Op{{Key: []byte("k"), Value: []byte("v")}, {Delete: true, Key: []byte("k")}})[headerSize:])
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, p []byte) {
		ops, ok := decodeOps(p)
		if !ok {
			return
		}
		// What decodes survives a re-encoding unchanged (the encoding of a
		// payload need not be canonical: varints may be padded).
		again, ok := decodeOps(appendRecord(nil, ops)[headerSize:])
		if !ok || len(again) != len(ops) {
			t.Fatalf("re-encoding %x failed", p)
		}
		for i := range ops {
			if ops[i].Delete != again[i].Delete || !bytes.Equal(ops[i].Key, again[i].Key) || !bytes.Equal(ops[i].Value, again[i].Value) {
				t.Fatalf("op %d changed on re-encoding", i)
			}
		}
	})
}
