package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
)

// s3Defs are the S3 workloads (issue 3): small and 1 MiB objects, PUT and
// GET, through aws-sdk-go-v2 with path-style addressing.
func s3Defs() []workloadDef {
	small := goals{cpuUs: targetSmallCallCPUUs, vsMotoCPU: targetVsMotoFactor, aheadOfPeers: true, floorCPUFactor: targetFloorFactor}
	return []workloadDef{
		{name: "s3-put-4k", doc: "S3 PutObject, 4 KiB, path style, 1,024 keys overwritten in turn; payload SHA-256 and CRC32 computed once per body (signed payload, x-amz-checksum-crc32); ETag checked (floor: PUT of the same body)",
			service: "s3", floor: true, concurrency: defaultS3DDBConc, duration: defaultDuration,
			new:   func() Workload { return &s3Put{size: 4 << 10, keys: 1024} },
			goals: small},
		{name: "s3-get-4k", doc: "S3 GetObject, 4 KiB, path style, 64 keys in turn; body compared byte for byte (floor: net/http file server, same bytes)",
			service: "s3", floor: true, concurrency: defaultS3DDBConc, duration: defaultDuration,
			new:   func() Workload { return &s3Get{size: 4 << 10, keys: 64} },
			goals: small},
		{name: "s3-put-1m", doc: "S3 PutObject, 1 MiB, path style, 32 keys overwritten in turn; payload SHA-256 and CRC32 computed once per body; ETag (MD5) checked (floor: PUT of the same body)",
			service: "s3", floor: true, concurrency: defaultS3DDBConc, duration: defaultDuration, unit: "MiB/s", perOp: 1,
			new:   func() Workload { return &s3Put{size: 1 << 20, keys: 32} },
			goals: goals{aheadOfPeers: true}},
		{name: "s3-get-1m", doc: "S3 GetObject, 1 MiB, path style, 16 keys in turn; body compared byte for byte (floor: net/http file server, same bytes)",
			service: "s3", floor: true, concurrency: defaultS3DDBConc, duration: defaultDuration, unit: "MiB/s", perOp: 1,
			new:   func() Workload { return &s3Get{size: 1 << 20, keys: 16} },
			goals: goals{aheadOfPeers: true, minRate: 4000, floorRateShare: 0.8}},
	}
}

// s3Body is an object body with its hashes computed once: the SigV4
// payload hash, the CRC32 checksum header and the ETag S3 must answer.
type s3Body struct {
	data   []byte
	sha256 string // hex
	crc32  string // base64 of the big-endian value
	etag   string // quoted hex MD5
}

func newS3Body(size int) s3Body {
	b := s3Body{data: payload(size)}
	sh := sha256.Sum256(b.data)
	b.sha256 = hex.EncodeToString(sh[:])
	var c [4]byte
	binary.BigEndian.PutUint32(c[:], crc32.ChecksumIEEE(b.data))
	b.crc32 = base64.StdEncoding.EncodeToString(c[:])
	m := md5.Sum(b.data)
	b.etag = `"` + hex.EncodeToString(m[:]) + `"`
	return b
}

// presetPayloadHash gives the signer a payload hash computed beforehand, so
// neither the signer nor the checksum middleware reads the body to hash it.
func presetPayloadHash(hash string) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("BenchPresetPayloadHash",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				return next.HandleFinalize(v4.SetPayloadHash(ctx, hash), in)
			}), middleware.Before)
	}
}

func newS3(env Env, opts ...func(*s3.Options)) *s3.Client {
	return s3.NewFromConfig(awsConfig(env), append([]func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true }}, opts...)...)
}

func createBucket(ctx context.Context, c *s3.Client, name string) error {
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	return classify("CreateBucket", err)
}

// keyNames are the object keys a workload cycles through.
func keyNames(prefix string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = prefix + strconv.Itoa(i)
	}
	return keys
}

// s3Put writes one object per op, cycling over a fixed set of keys so the
// stored data stays bounded.
type s3Put struct {
	size, keys int
	c          *s3.Client // with the body's payload hash preset
	bucket     string
	names      []string
	body       s3Body
	next       atomic.Uint64
	floor      *http.Client
	floorURL   string
}

func (w *s3Put) Name() string { return "s3-put-" + sizeName(w.size) }

func (w *s3Put) Setup(ctx context.Context, env Env) error {
	w.body = newS3Body(w.size)
	w.names = keyNames("obj-", w.keys)
	if env.Floor {
		w.floor, w.floorURL = env.HTTPClient, env.Endpoint+"/bench/obj"
		return nil
	}
	w.bucket = "bench-put-" + sizeName(w.size)
	if err := createBucket(ctx, newS3(env), w.bucket); err != nil {
		return err
	}
	w.c = newS3(env, func(o *s3.Options) { o.APIOptions = append(o.APIOptions, presetPayloadHash(w.body.sha256)) })
	return classify("first PutObject", w.Op(ctx))
}

func (w *s3Put) Op(ctx context.Context) error {
	if w.floor != nil {
		return plainDo(ctx, w.floor, http.MethodPut, w.floorURL, w.body.data, nil)
	}
	key := w.names[w.next.Add(1)%uint64(len(w.names))]
	out, err := w.c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &w.bucket, Key: &key, Body: bytes.NewReader(w.body.data),
		ContentLength: aws.Int64(int64(w.size)), ChecksumCRC32: &w.body.crc32,
	})
	if err != nil {
		return err
	}
	if got := aws.ToString(out.ETag); got != w.body.etag {
		return fmt.Errorf("PutObject: ETag %s, want %s", got, w.body.etag)
	}
	return nil
}

// s3Get reads one object per op from a set written at set-up and compares
// every byte.
type s3Get struct {
	size, keys int
	c          *s3.Client
	bucket     string
	names      []string
	body       s3Body
	next       atomic.Uint64
	bufs       sync.Pool
	floor      *http.Client
	floorURL   string
}

func (w *s3Get) Name() string { return "s3-get-" + sizeName(w.size) }

func (w *s3Get) Setup(ctx context.Context, env Env) error {
	w.body = newS3Body(w.size)
	w.names = keyNames("obj-", w.keys)
	w.bufs.New = func() any { b := make([]byte, w.size+1); return &b }
	if env.Floor {
		w.floor, w.floorURL = env.HTTPClient, env.Endpoint+"/files/"+strconv.Itoa(w.size)
		return w.Op(ctx)
	}
	w.bucket = "bench-get-" + sizeName(w.size)
	if err := createBucket(ctx, newS3(env), w.bucket); err != nil {
		return err
	}
	put := newS3(env, func(o *s3.Options) { o.APIOptions = append(o.APIOptions, presetPayloadHash(w.body.sha256)) })
	err := fillParallel(ctx, "objects", int64(w.keys), 1, 8, func(ctx context.Context, i int64) error {
		_, err := put.PutObject(ctx, &s3.PutObjectInput{Bucket: &w.bucket, Key: &w.names[i],
			Body: bytes.NewReader(w.body.data), ContentLength: aws.Int64(int64(w.size)), ChecksumCRC32: &w.body.crc32})
		return err
	})
	if err != nil {
		return classify("PutObject", err)
	}
	w.c = newS3(env)
	return classify("first GetObject", w.Op(ctx))
}

func (w *s3Get) Op(ctx context.Context) error {
	bp := w.bufs.Get().(*[]byte)
	defer w.bufs.Put(bp)
	if w.floor != nil {
		return plainDo(ctx, w.floor, http.MethodGet, w.floorURL, nil, func(r io.Reader) error { return w.check(r, *bp) })
	}
	key := w.names[w.next.Add(1)%uint64(len(w.names))]
	out, err := w.c.GetObject(ctx, &s3.GetObjectInput{Bucket: &w.bucket, Key: &key})
	if err != nil {
		return err
	}
	defer out.Body.Close()
	return w.check(out.Body, *bp)
}

// check reads the whole body into buf (one byte longer than the object)
// and compares it with the object written.
func (w *s3Get) check(r io.Reader, buf []byte) error {
	n, err := io.ReadFull(r, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("GetObject: reading the body: %w", err)
	}
	if n != w.size || !bytes.Equal(buf[:n], w.body.data) {
		return fmt.Errorf("GetObject: %d bytes that differ from the %d written", n, w.size)
	}
	return nil
}

// plainDo is the floor's stand-in for an S3 call: an unsigned request
// through the same pooled client; read, when set, checks the response body.
func plainDo(ctx context.Context, c *http.Client, method, url string, body []byte, read func(io.Reader) error) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	if read != nil {
		return read(resp.Body)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

func sizeName(size int) string {
	if size >= 1<<20 {
		return strconv.Itoa(size>>20) + "m"
	}
	return strconv.Itoa(size>>10) + "k"
}

var (
	_ Workload = (*s3Put)(nil)
	_ Workload = (*s3Get)(nil)
)
