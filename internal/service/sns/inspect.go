package sns

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// DeliveriesPath is where the recorded deliveries are served.
const DeliveriesPath = "/_overcast/sns/deliveries"

// ServeInternal serves the SNS inspection endpoints under /_overcast/sns/:
// GET /_overcast/sns/deliveries lists the recorded deliveries (see
// Delivery) oldest first as a JSON array, optionally filtered by the query
// parameters protocol, endpoint, topic (an ARN or a topic name) and
// subscription; DELETE removes the ones the same filters select (all
// without filters) and answers {"deleted": n}.
func (s *Service) ServeInternal(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != DeliveriesPath {
		writeInternal(w, http.StatusNotFound, map[string]string{"error": "no such endpoint " + r.URL.Path})
		return
	}
	keep := deliveryFilter(r.URL.Query())
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		out := []Delivery{}
		for _, d := range s.Deliveries() {
			if keep(&d) {
				out = append(out, d)
			}
		}
		writeInternal(w, http.StatusOK, out)
	case http.MethodDelete:
		s.outMu.Lock()
		kept := s.outbox[:0]
		for i := range s.outbox {
			if !keep(&s.outbox[i]) {
				kept = append(kept, s.outbox[i])
			}
		}
		n := len(s.outbox) - len(kept)
		clear(s.outbox[len(kept):])
		s.outbox = kept
		s.outMu.Unlock()
		writeInternal(w, http.StatusOK, map[string]int{"deleted": n})
	default:
		w.Header().Set("Allow", "GET, HEAD, DELETE")
		writeInternal(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
	}
}

// deliveryFilter is the predicate the query parameters describe.
func deliveryFilter(q url.Values) func(*Delivery) bool {
	protocol, endpoint, topic, sub := q.Get("protocol"), q.Get("endpoint"), q.Get("topic"), q.Get("subscription")
	return func(d *Delivery) bool {
		if protocol != "" && !strings.EqualFold(d.Protocol, protocol) || endpoint != "" && d.Endpoint != endpoint ||
			sub != "" && d.SubscriptionArn != sub {
			return false
		}
		if topic != "" && d.TopicArn != topic && (strings.Contains(topic, ":") || !strings.HasSuffix(d.TopicArn, ":"+topic)) {
			return false
		}
		return true
	}
}

func writeInternal(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
