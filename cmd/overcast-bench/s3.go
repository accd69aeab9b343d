package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// s3Defs are the S3 workloads (issue 3): small and 1 MiB objects, PUT and
// GET, through aws-sdk-go-v2 with path-style addressing.
func s3Defs() []workloadDef {
	const mib = 1 << 20
	return []workloadDef{
		{name: "s3-put-4k", doc: "S3 PutObject, 4 KiB body (aws-sdk-go-v2, path style), 1,000 keys overwritten in turn",
			service: "s3", floor: true, concurrency: defaultS3DDBConc, duration: defaultDuration,
			new:   func() Workload { return &s3Object{put: true, size: 4 << 10} },
			goals: goals{cpuUs: targetSmallCallCPUUs, aheadOfPeers: true, floorCPUFactor: targetFloorFactor}},
		{name: "s3-get-4k", doc: "S3 GetObject of a 4 KiB object, body compared with what was stored",
			service: "s3", floor: true, concurrency: defaultS3DDBConc, duration: defaultDuration,
			new:   func() Workload { return &s3Object{size: 4 << 10} },
			goals: goals{cpuUs: targetSmallCallCPUUs, aheadOfPeers: true, floorCPUFactor: targetFloorFactor}},
		{name: "s3-put-1m", doc: "S3 PutObject, 1 MiB body (MD5 ETag and the SDK's CRC32 computed by the server)",
			service: "s3", floor: true, concurrency: defaultS3DDBConc, duration: defaultDuration, unit: "MiB/s", perOp: 1,
			new:   func() Workload { return &s3Object{put: true, size: mib} },
			goals: goals{aheadOfPeers: true}},
		{name: "s3-get-1m", doc: "S3 GetObject of a 1 MiB object (the floor: net/http's file server on the same bytes)",
			service: "s3", floor: true, concurrency: defaultS3DDBConc, duration: defaultDuration, unit: "MiB/s", perOp: 1,
			new:   func() Workload { return &s3Object{size: mib} },
			goals: goals{aheadOfPeers: true, minRate: 4000, floorRateShare: 0.8}},
	}
}

const benchBucket = "overcast-bench"

// s3Object PUTs or GETs objects of one size.
type s3Object struct {
	put    bool
	size   int
	body   []byte
	c      *s3.Client
	n      atomic.Int64
	floor  *http.Client
	target string
}

func (w *s3Object) Name() string {
	op := "get"
	if w.put {
		op = "put"
	}
	if w.size >= 1<<20 {
		return "s3-" + op + "-1m"
	}
	return "s3-" + op + "-4k"
}

func (w *s3Object) Setup(ctx context.Context, env Env) error {
	w.body = payload(w.size)
	if env.Floor {
		w.floor = env.HTTPClient
		if w.put {
			w.target = env.Endpoint + "/" + benchBucket + "/obj"
		} else {
			w.target = env.Endpoint + "/files/" + strconv.Itoa(w.size)
		}
		return nil
	}
	w.c = s3.NewFromConfig(awsConfig(env), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := env.once("s3-bucket", func() (any, error) {
		_, err := w.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(benchBucket)})
		return nil, err
	}); err != nil {
		return classify("CreateBucket", err)
	}
	if !w.put {
		if _, err := w.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(benchBucket), Key: aws.String(w.key()), Body: bytes.NewReader(w.body)}); err != nil {
			return classify("PutObject", err)
		}
	}
	return w.Op(ctx)
}

func (w *s3Object) key() string { return "get-" + strconv.Itoa(w.size) }

func (w *s3Object) Op(ctx context.Context) error {
	if w.floor != nil {
		return w.floorOp(ctx)
	}
	if w.put {
		key := fmt.Sprintf("put-%d/%d", w.size, w.n.Add(1)%1000)
		_, err := w.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(benchBucket), Key: aws.String(key), Body: bytes.NewReader(w.body)})
		return err
	}
	out, err := w.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(benchBucket), Key: aws.String(w.key())})
	if err != nil {
		return err
	}
	defer out.Body.Close()
	return w.check(out.Body)
}

// check reads a body and compares it with the stored bytes.
func (w *s3Object) check(r io.Reader) error {
	buf := make([]byte, 32<<10)
	off := 0
	for {
		n, err := r.Read(buf)
		if off+n > len(w.body) || !bytes.Equal(buf[:n], w.body[off:off+n]) {
			return errors.New("GetObject: body differs from what was stored")
		}
		off += n
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if off != len(w.body) {
		return fmt.Errorf("GetObject: %d bytes, want %d", off, len(w.body))
	}
	return nil
}

func (w *s3Object) floorOp(ctx context.Context) error {
	method := http.MethodGet
	var body io.Reader
	if w.put {
		method, body = http.MethodPut, bytes.NewReader(w.body)
	}
	req, err := http.NewRequestWithContext(ctx, method, w.target, body)
	if err != nil {
		return err
	}
	resp, err := w.floor.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	if w.put {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return w.check(resp.Body)
}
