package s3_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, uint64(n)))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestUploadManager(t *testing.T) {
	srv := start(t, withDisk(t.TempDir()))
	c := srv.client()
	mustBucket(t, c, "bkt")
	data := randomBytes(17 << 20)
	up := manager.NewUploader(c, func(u *manager.Uploader) { u.PartSize = 5 << 20; u.Concurrency = 3 })
	res, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("big"), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(*res.ETag, `-4"`) {
		t.Errorf("etag %s", *res.ETag)
	}
	// ETag is MD5 of the part MD5s.
	h := md5.New()
	for off := 0; off < len(data); off += 5 << 20 {
		s := md5.Sum(data[off:min(off+5<<20, len(data))])
		h.Write(s[:])
	}
	if want := `"` + hex.EncodeToString(h.Sum(nil)) + `-4"`; *res.ETag != want {
		t.Errorf("etag %s, want %s", *res.ETag, want)
	}
	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("big"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(g.Body)
	g.Body.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("body differs (%d bytes)", len(got))
	}
	// Download manager uses ranged GETs.
	buf := manager.NewWriteAtBuffer(nil)
	dl := manager.NewDownloader(c, func(d *manager.Downloader) { d.PartSize = 5 << 20 })
	if _, err := dl.Download(ctx, buf, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("big")}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), data) {
		t.Fatal("download differs")
	}
	// Part GET.
	pg, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("big"), PartNumber: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := io.ReadAll(pg.Body)
	pg.Body.Close()
	if !bytes.Equal(pb, data[5<<20:10<<20]) || aws.ToInt32(pg.PartsCount) != 4 {
		t.Errorf("part 2: %d bytes, parts count %d", len(pb), aws.ToInt32(pg.PartsCount))
	}
	attrs, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("bkt"), Key: aws.String("big"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectParts, types.ObjectAttributesObjectSize, types.ObjectAttributesEtag}})
	if err != nil || aws.ToInt64(attrs.ObjectSize) != int64(len(data)) || aws.ToInt32(attrs.ObjectParts.TotalPartsCount) != 4 {
		t.Errorf("attributes: %+v %v", attrs, err)
	}
}

func TestMultipartRules(t *testing.T) {
	srv := start(t)
	c := srv.client()
	mustBucket(t, c, "bkt")
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("k"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	if err != nil {
		t.Fatal(err)
	}
	id := cr.UploadId
	var parts []types.CompletedPart
	for i, body := range []string{"small", "tail"} {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("k"), UploadId: id, PartNumber: aws.Int32(int32(i + 1)),
			Body: strings.NewReader(body), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1)), ChecksumCRC32: out.ChecksumCRC32})
	}
	lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("bkt"), Key: aws.String("k"), UploadId: id})
	if err != nil || len(lp.Parts) != 2 {
		t.Fatalf("list parts: %+v %v", lp, err)
	}
	lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("bkt")})
	if err != nil || len(lu.Uploads) != 1 || *lu.Uploads[0].UploadId != *id {
		t.Fatalf("list uploads: %+v %v", lu, err)
	}
	complete := func(ps []types.CompletedPart) error {
		_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("k"), UploadId: id,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: ps}})
		return err
	}
	if err := complete(parts); apiCode(err) != "EntityTooSmall" {
		t.Errorf("small part: %v", err)
	}
	if err := complete([]types.CompletedPart{parts[1], parts[0]}); apiCode(err) != "InvalidPartOrder" {
		t.Errorf("order: %v", err)
	}
	bad := parts[1]
	bad.ETag = aws.String(`"00000000000000000000000000000000"`)
	if err := complete([]types.CompletedPart{bad}); apiCode(err) != "InvalidPart" {
		t.Errorf("bad etag: %v", err)
	}
	// A single (last) part may be small.
	if err := complete(parts[1:]); err != nil {
		t.Fatalf("complete: %v", err)
	}
	if got := get(t, c, "bkt", "k"); got != "tail" {
		t.Errorf("body %q", got)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil || !strings.HasSuffix(aws.ToString(h.ChecksumCRC32), "-1") || h.ChecksumType != types.ChecksumTypeComposite {
		t.Errorf("composite checksum: %v %v %v", aws.ToString(h.ChecksumCRC32), h.ChecksumType, err)
	}
	if err := complete(parts[1:]); apiCode(err) != "NoSuchUpload" {
		t.Errorf("complete twice: %v", err)
	}
	// Abort.
	cr2, _ := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("k2")})
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("k2"), UploadId: cr2.UploadId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("k2"), UploadId: cr2.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("x")}); apiCode(err) != "NoSuchUpload" {
		t.Errorf("upload to aborted: %v", err)
	}
}

func TestMultipartFullObjectAndCopy(t *testing.T) {
	srv := start(t, withDisk(t.TempDir()))
	c := srv.client()
	mustBucket(t, c, "bkt")
	src := randomBytes(6 << 20)
	put(t, c, "bkt", "src", string(src))
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("dst"),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc64nvme, ChecksumType: types.ChecksumTypeFullObject})
	if err != nil {
		t.Fatal(err)
	}
	p1, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("bkt"), Key: aws.String("dst"), UploadId: cr.UploadId, PartNumber: aws.Int32(1),
		CopySource: aws.String("bkt/src"), CopySourceRange: aws.String(fmt.Sprintf("bytes=0-%d", 5<<20-1))})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("dst"), UploadId: cr.UploadId, PartNumber: aws.Int32(2),
		Body: bytes.NewReader(src[5<<20:]), ChecksumAlgorithm: types.ChecksumAlgorithmCrc64nvme})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("dst"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: p1.CopyPartResult.ETag, PartNumber: aws.Int32(1)}, {ETag: p2.ETag, PartNumber: aws.Int32(2)}}}})
	if err != nil {
		t.Fatal(err)
	}
	// Full-object CRC64NVME equals the single-PUT checksum of the same bytes.
	put1, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("single"), Body: bytes.NewReader(src), ChecksumAlgorithm: types.ChecksumAlgorithmCrc64nvme})
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dst"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil || aws.ToString(h.ChecksumCRC64NVME) != aws.ToString(put1.ChecksumCRC64NVME) || h.ChecksumType != types.ChecksumTypeFullObject {
		t.Errorf("full object checksum %v vs %v (%v)", aws.ToString(h.ChecksumCRC64NVME), aws.ToString(put1.ChecksumCRC64NVME), err)
	}
	if got := get(t, c, "bkt", "dst"); got != string(src) {
		t.Error("copied body differs")
	}
}
