package s3_test

import (
	"io"
	"reflect"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func keysOf(objs []types.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, *o.Key)
	}
	return out
}

func prefixesOf(cps []types.CommonPrefix) []string {
	var out []string
	for _, p := range cps {
		out = append(out, *p.Prefix)
	}
	return out
}

func TestListObjects(t *testing.T) {
	srv := start(t)
	c := srv.client()
	mustBucket(t, c, "bkt")
	keys := []string{"a", "a/b", "a/c/d", "ab", "b/x", "b/y", "c", "d e"}
	for _, k := range keys {
		put(t, c, "bkt", k, k)
	}
	l, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")})
	if err != nil || !reflect.DeepEqual(keysOf(l.Contents), keys) || *l.KeyCount != int32(len(keys)) {
		t.Fatalf("all: %v %v", keysOf(l.Contents), err)
	}
	l, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), Delimiter: aws.String("/")})
	if err != nil || !reflect.DeepEqual(keysOf(l.Contents), []string{"a", "ab", "c", "d e"}) || !reflect.DeepEqual(prefixesOf(l.CommonPrefixes), []string{"a/", "b/"}) {
		t.Fatalf("delimiter: %v %v %v", keysOf(l.Contents), prefixesOf(l.CommonPrefixes), err)
	}
	l, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), Prefix: aws.String("a/"), Delimiter: aws.String("/")})
	if err != nil || !reflect.DeepEqual(keysOf(l.Contents), []string{"a/b"}) || !reflect.DeepEqual(prefixesOf(l.CommonPrefixes), []string{"a/c/"}) {
		t.Fatalf("prefix+delimiter: %v %v %v", keysOf(l.Contents), prefixesOf(l.CommonPrefixes), err)
	}
	l, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), StartAfter: aws.String("b/x")})
	if err != nil || !reflect.DeepEqual(keysOf(l.Contents), []string{"b/y", "c", "d e"}) {
		t.Fatalf("start-after: %v %v", keysOf(l.Contents), err)
	}
	l, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), EncodingType: types.EncodingTypeUrl, Prefix: aws.String("d")})
	if err != nil || len(l.Contents) != 1 || *l.Contents[0].Key != "d+e" {
		t.Fatalf("encoding-type=url: %v %v", keysOf(l.Contents), err)
	}
	// Paginate with max-keys 2 and a delimiter: every key and prefix once.
	for _, delim := range []string{"", "/"} {
		var got []string
		p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), MaxKeys: aws.Int32(2), Delimiter: aws.String(delim)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Contents)+len(page.CommonPrefixes) > 2 {
				t.Fatalf("page too big")
			}
			got = append(got, keysOf(page.Contents)...)
			got = append(got, prefixesOf(page.CommonPrefixes)...)
		}
		want := keys
		if delim == "/" {
			want = []string{"a", "a/", "ab", "b/", "c", "d e"}
		}
		sortStrings(got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("paginated (delimiter %q): %v", delim, got)
		}
	}
	// V1 with markers.
	var got []string
	marker := ""
	for i := 0; i < 10; i++ {
		out, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("bkt"), MaxKeys: aws.Int32(3), Marker: aws.String(marker)})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, keysOf(out.Contents)...)
		if !*out.IsTruncated {
			break
		}
		marker = *out.Contents[len(out.Contents)-1].Key
	}
	if !reflect.DeepEqual(got, keys) {
		t.Errorf("v1 paginated: %v", got)
	}
	if _, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("nope")}); apiCode(err) != "NoSuchBucket" {
		t.Errorf("missing bucket: %v", err)
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestVersioning(t *testing.T) {
	srv := start(t)
	c := srv.client()
	mustBucket(t, c, "bkt")
	put(t, c, "bkt", "k", "v0") // null version, before versioning
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("bkt"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("bkt")})
	if err != nil || v.Status != types.BucketVersioningStatusEnabled {
		t.Fatalf("get versioning: %+v %v", v, err)
	}
	p1 := put(t, c, "bkt", "k", "v1")
	p2 := put(t, c, "bkt", "k", "v2")
	if p1.VersionId == nil || p2.VersionId == nil || *p1.VersionId == *p2.VersionId {
		t.Fatalf("version ids %v %v", p1.VersionId, p2.VersionId)
	}
	getV := func(vid string) (string, error) {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), VersionId: aws.String(vid)})
		if err != nil {
			return "", err
		}
		defer out.Body.Close()
		b, _ := io.ReadAll(out.Body)
		return string(b), nil
	}
	for vid, want := range map[string]string{"null": "v0", *p1.VersionId: "v1", *p2.VersionId: "v2"} {
		if got, err := getV(vid); err != nil || got != want {
			t.Errorf("version %s: %q %v", vid, got, err)
		}
	}
	del, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
	if err != nil || !*del.DeleteMarker || del.VersionId == nil {
		t.Fatalf("delete: %+v %v", del, err)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")}); apiCode(err) != "NoSuchKey" {
		t.Errorf("get after delete marker: %v", err)
	}
	if _, err := getV(*del.VersionId); apiCode(err) != "MethodNotAllowed" {
		t.Errorf("get delete marker by version: %v", err)
	}
	lv, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("bkt")})
	if err != nil || len(lv.Versions) != 3 || len(lv.DeleteMarkers) != 1 || !*lv.DeleteMarkers[0].IsLatest || *lv.Versions[0].VersionId != *p2.VersionId {
		t.Fatalf("list versions: %+v %v", lv, err)
	}
	l, _ := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")})
	if len(l.Contents) != 0 {
		t.Errorf("deleted key listed: %v", keysOf(l.Contents))
	}
	// Deleting the marker restores v2.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), VersionId: del.VersionId}); err != nil {
		t.Fatal(err)
	}
	if got := get(t, c, "bkt", "k"); got != "v2" {
		t.Errorf("after removing marker: %q", got)
	}
	// Permanently delete v1.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), VersionId: p1.VersionId}); err != nil {
		t.Fatal(err)
	}
	if _, err := getV(*p1.VersionId); apiCode(err) != "NoSuchVersion" {
		t.Errorf("deleted version: %v", err)
	}
	// Paginate versions one at a time.
	var seen []string
	km, vm := "", ""
	for i := 0; i < 10; i++ {
		in := &s3.ListObjectVersionsInput{Bucket: aws.String("bkt"), MaxKeys: aws.Int32(1)}
		if km != "" {
			in.KeyMarker, in.VersionIdMarker = aws.String(km), aws.String(vm)
		}
		out, err := c.ListObjectVersions(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out.Versions {
			seen = append(seen, *v.VersionId)
		}
		if !*out.IsTruncated {
			break
		}
		km, vm = *out.NextKeyMarker, *out.NextVersionIdMarker
	}
	if !reflect.DeepEqual(seen, []string{*p2.VersionId, "null"}) {
		t.Errorf("paginated versions: %v", seen)
	}
	// Suspended: new writes replace the null version.
	c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("bkt"), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}})
	p3 := put(t, c, "bkt", "k", "v3")
	if aws.ToString(p3.VersionId) != "null" {
		t.Errorf("suspended put version %v", aws.ToString(p3.VersionId))
	}
	lv, _ = c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("bkt")})
	if len(lv.Versions) != 2 {
		t.Errorf("suspended versions: %d", len(lv.Versions))
	}
	if got, _ := getV("null"); got != "v3" {
		t.Errorf("null version: %q", got)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("bkt")}); apiCode(err) != "BucketNotEmpty" {
		t.Errorf("delete bucket with versions: %v", err)
	}
}

func TestDeleteObjectsBatch(t *testing.T) {
	srv := start(t, withDisk(t.TempDir()))
	c := srv.client()
	mustBucket(t, c, "bkt")
	c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("bkt"), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	var ids []types.ObjectIdentifier
	for i := range 300 {
		k := "k/" + string(rune('a'+i%26)) + "/" + strconv.Itoa(i)
		put(t, c, "bkt", k, "v")
		ids = append(ids, types.ObjectIdentifier{Key: aws.String(k)})
	}
	p := put(t, c, "bkt", "pinned", "v")
	ids = append(ids,
		types.ObjectIdentifier{Key: aws.String("pinned"), VersionId: aws.String("not-a-version")},
		types.ObjectIdentifier{Key: aws.String("pinned"), VersionId: p.VersionId},
		types.ObjectIdentifier{Key: aws.String("k/a/0")}) // a second delete marker for the same key
	out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bkt"), Delete: &types.Delete{Objects: ids}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Deleted) != 302 || len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "InvalidArgument" {
		t.Fatalf("deleted %d, errors %+v", len(out.Deleted), out.Errors)
	}
	if !aws.ToBool(out.Deleted[0].DeleteMarker) || out.Deleted[0].DeleteMarkerVersionId == nil {
		t.Errorf("no delete marker reported: %+v", out.Deleted[0])
	}
	l, _ := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")})
	if len(l.Contents) != 0 {
		t.Errorf("%d keys still listed", len(l.Contents))
	}
	lv, _ := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("bkt"), Prefix: aws.String("k/a/0")})
	if len(lv.DeleteMarkers) != 2 || len(lv.Versions) != 1 {
		t.Errorf("k/a/0: %d markers, %d versions", len(lv.DeleteMarkers), len(lv.Versions))
	}
}
