package s3

import (
	"net/http"
	"strconv"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

func s3err(status int, code, msg string, fields ...any) *awserr.Error {
	e := &awserr.Error{Code: code, Message: msg, Status: status}
	for i := 0; i+1 < len(fields); i += 2 {
		if e.Fields == nil {
			e.Fields = map[string]any{}
		}
		e.Fields[fields[i].(string)] = fields[i+1]
	}
	return e
}

func errNoSuchBucket(b string) error {
	return s3err(404, "NoSuchBucket", "The specified bucket does not exist", "BucketName", b)
}
func errNoSuchKey(k string) error {
	return s3err(404, "NoSuchKey", "The specified key does not exist.", "Key", k)
}
func errNoSuchVersion(k, v string) error {
	return s3err(404, "NoSuchVersion", "The specified version does not exist.", "Key", k, "VersionId", v)
}
func errInvalidVersion(v string) error {
	return s3err(400, "InvalidArgument", "Invalid version id specified", "ArgumentName", "versionId", "ArgumentValue", v)
}
func errNoSuchUpload(id string) error {
	return s3err(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", "UploadId", id)
}
func errAccessDenied() error { return s3err(403, "AccessDenied", "Access Denied") }
func errInvalidBucketName(b string) error {
	return s3err(400, "InvalidBucketName", "The specified bucket is not valid.", "BucketName", b)
}
func errPrecondition(cond string) error {
	return s3err(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", "Condition", cond)
}
func errNotModified(etag string, modified string) error {
	e := &awserr.Error{Code: "NotModified", Message: "Not Modified", Status: http.StatusNotModified, Header: http.Header{}}
	if etag != "" {
		e.Header.Set("ETag", etag)
	}
	if modified != "" {
		e.Header.Set("Last-Modified", modified)
	}
	return e
}
func errInvalidRange(spec string, size int64) error {
	e := s3err(416, "InvalidRange", "The requested range is not satisfiable", "RangeRequested", spec, "ActualObjectSize", strconv.FormatInt(size, 10))
	e.Header = http.Header{"Content-Range": {"bytes */" + strconv.FormatInt(size, 10)}}
	return e
}
func errInvalidArgument(msg, name, value string) error {
	return s3err(400, "InvalidArgument", msg, "ArgumentName", name, "ArgumentValue", value)
}
func errInvalidRequest(msg string) error { return s3err(400, "InvalidRequest", msg) }
func errMalformedXML() error {
	return s3err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
}
func errMethodNotAllowed(method string) error {
	return s3err(405, "MethodNotAllowed", "The specified method is not allowed against this resource.", "Method", method, "ResourceType", "DeleteMarker")
}
func errNotFoundConfig(code, msg, bucket string) error {
	return s3err(404, code, msg, "BucketName", bucket)
}
