package disk

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"github.com/overcast-dev/overcast/internal/storage/internal/ordered"
)

// Record framing, shared by the write-ahead log and snapshots:
//
//	length  uint32 LE   payload length
//	crc     uint32 LE   CRC-32C of the length bytes followed by the payload
//	payload             uvarint op count, then per op:
//	                      kind byte (opPut or opDelete)
//	                      uvarint key length, key
//	                      for opPut: uvarint value length, value
//
// A log record holds one committed transaction, so replay applies whole
// transactions or nothing of them.
const (
	headerSize = 8
	maxRecord  = 1 << 30 // largest payload; bigger transactions are refused

	opPut    = 1
	opDelete = 2
)

// crcTable is read-only after initialization.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

var errTooLarge = errors.New("transaction too large for one log record")

// appendRecord appends the framed record for ops to dst.
func appendRecord(dst []byte, ops []ordered.Op) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, headerSize)...)
	dst = binary.AppendUvarint(dst, uint64(len(ops)))
	for _, op := range ops {
		if op.Delete {
			dst = append(dst, opDelete)
			dst = binary.AppendUvarint(dst, uint64(len(op.Key)))
			dst = append(dst, op.Key...)
			continue
		}
		dst = append(dst, opPut)
		dst = binary.AppendUvarint(dst, uint64(len(op.Key)))
		dst = append(dst, op.Key...)
		dst = binary.AppendUvarint(dst, uint64(len(op.Value)))
		dst = append(dst, op.Value...)
	}
	hdr := dst[start : start+headerSize]
	binary.LittleEndian.PutUint32(hdr, uint32(len(dst)-start-headerSize))
	crc := crc32.Update(0, crcTable, hdr[:4])
	crc = crc32.Update(crc, crcTable, dst[start+headerSize:])
	binary.LittleEndian.PutUint32(hdr[4:], crc)
	return dst
}

// readRecords reads framed records from r, which holds size bytes, and calls fn
// with each record's ops (fresh copies fn may keep). It stops at the end of the
// input or at the first bad record: a short header or payload, an impossible
// length, a CRC mismatch or a malformed payload. It returns the offset just
// past the last good record and whether the input ended cleanly there; err is
// only fn's error or an I/O error other than a short read.
func readRecords(r io.Reader, size int64, fn func([]ordered.Op) error) (good int64, clean bool, err error) {
	var hdr [headerSize]byte
	var payload []byte
	for {
		if good == size {
			return good, true, nil
		}
		if size-good < headerSize {
			return good, false, nil
		}
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return good, false, shortRead(err)
		}
		n := int64(binary.LittleEndian.Uint32(hdr[:4]))
		if n > maxRecord || n > size-good-headerSize {
			return good, false, nil
		}
		if int64(cap(payload)) < n {
			payload = make([]byte, n)
		}
		payload = payload[:n]
		if _, err := io.ReadFull(r, payload); err != nil {
			return good, false, shortRead(err)
		}
		crc := crc32.Update(0, crcTable, hdr[:4])
		if crc32.Update(crc, crcTable, payload) != binary.LittleEndian.Uint32(hdr[4:]) {
			return good, false, nil
		}
		ops, ok := decodeOps(payload)
		if !ok {
			return good, false, nil
		}
		if err := fn(ops); err != nil {
			return good, false, err
		}
		good += headerSize + n
	}
}

// shortRead maps the end of the input to "stop here" and keeps real I/O errors.
func shortRead(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}

func decodeOps(p []byte) ([]ordered.Op, bool) {
	count, n := binary.Uvarint(p)
	if n <= 0 || count > uint64(len(p)) { // every op takes at least two bytes
		return nil, false
	}
	p = p[n:]
	ops := make([]ordered.Op, 0, count)
	field := func() ([]byte, bool) {
		l, n := binary.Uvarint(p)
		if n <= 0 || l > uint64(len(p)-n) {
			return nil, false
		}
		f := p[n : n+int(l)]
		p = p[n+int(l):]
		return f, true
	}
	for i := uint64(0); i < count; i++ {
		if len(p) == 0 {
			return nil, false
		}
		kind := p[0]
		p = p[1:]
		k, ok := field()
		if !ok || len(k) == 0 {
			return nil, false
		}
		op := ordered.Op{Delete: kind == opDelete}
		switch kind {
		case opDelete:
			op.Key = append([]byte(nil), k...)
		case opPut:
			v, ok := field()
			if !ok {
				return nil, false
			}
			buf := make([]byte, len(k)+len(v))
			copy(buf[copy(buf, k):], v)
			op.Key, op.Value = buf[:len(k):len(k)], buf[len(k):]
		default:
			return nil, false
		}
		ops = append(ops, op)
	}
	return ops, len(p) == 0
}

func apply(t *ordered.Txn, ops []ordered.Op) {
	for _, op := range ops {
		if op.Delete {
			t.Delete(op.Key)
		} else {
			t.Put(op.Key, op.Value)
		}
	}
}

// replayLog applies the log at path to t. A bad record ends the replay: if
// truncate is set the file is cut back to the last good record (a torn tail
// from a crash), otherwise it is reported as corruption. It returns the log's
// resulting size.
func replayLog(path string, t *ordered.Txn, truncate, noSync bool) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	good, clean, err := readRecords(bufio.NewReaderSize(f, 1<<20), fi.Size(), func(ops []ordered.Op) error {
		apply(t, ops)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("replay %s: %w", filepath.Base(path), err)
	}
	if clean {
		return good, nil
	}
	if !truncate {
		return 0, fmt.Errorf("replay %s: corrupt record at offset %d", filepath.Base(path), good)
	}
	if err := f.Truncate(good); err != nil {
		return 0, fmt.Errorf("truncate torn log tail: %w", err)
	}
	if !noSync {
		if err := f.Sync(); err != nil {
			return 0, err
		}
	}
	return good, nil
}

// writeSnapshot writes m as snapshot gen in dir atomically: to a temporary
// file, fsynced, renamed into place, and the directory fsynced. A snapshot is a
// sequence of records of puts ending with an empty record.
func writeSnapshot(dir string, gen uint64, m ordered.Map, noSync bool) (err error) {
	final := filepath.Join(dir, snapName(gen))
	tmp := final + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	var (
		ops  []ordered.Op
		size int
		buf  []byte
	)
	flush := func() error {
		buf = appendRecord(buf[:0], ops)
		ops, size = ops[:0], 0
		_, err := w.Write(buf)
		return err
	}
	m.Ascend(nil, nil, func(k, v []byte) bool {
		ops = append(ops, ordered.Op{Key: k, Value: v})
		if size += len(k) + len(v); size >= 1<<20 {
			err = flush()
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	if len(ops) > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	if err := flush(); err != nil { // the end marker
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if !noSync {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	if noSync {
		return nil
	}
	return syncDir(dir)
}

// loadSnapshot applies the snapshot at path to t. Snapshots are only ever
// renamed into place complete, so any damage is corruption.
func loadSnapshot(path string, t *ordered.Txn) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	ended := false
	_, clean, err := readRecords(bufio.NewReaderSize(f, 1<<20), fi.Size(), func(ops []ordered.Op) error {
		if ended {
			return errors.New("data after end marker")
		}
		ended = len(ops) == 0
		apply(t, ops)
		return nil
	})
	if err == nil && (!clean || !ended) {
		err = errors.New("truncated or corrupt")
	}
	if err != nil {
		return fmt.Errorf("load snapshot %s: %w", filepath.Base(path), err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func walName(gen uint64) string  { return fmt.Sprintf("wal-%016x.log", gen) }
func snapName(gen uint64) string { return fmt.Sprintf("snap-%016x.snap", gen) }
