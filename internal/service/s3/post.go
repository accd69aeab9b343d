package s3

import (
	"net/http"
)

// servePostUpload answers a browser POST upload (multipart/form-data with a
// signed policy) to a bucket.
func (s *Service) servePostUpload(w http.ResponseWriter, r *http.Request, bucket string) bool {
	writeError(w, r, 501, "NotImplemented", "POST uploads are not implemented yet.")
	return true
}
