package server

import (
	"net/http"

	"github.com/overcast-dev/overcast/internal/service/sts"
)

// serveOIDC serves the local OpenID Connect issuer (see sts.OIDCHandler)
// when STS runs.
func (s *Server) serveOIDC(w http.ResponseWriter, r *http.Request) {
	for _, svc := range s.services {
		if st, ok := svc.(*sts.Service); ok {
			st.OIDCHandler().ServeHTTP(w, r)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte(`{"error":"sts is not running"}` + "\n"))
}
