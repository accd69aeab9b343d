package s3

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// lifecycleInterval is how often lifecycle rules are applied.
const lifecycleInterval = time.Minute

// expiryTime is when an object created at t expires after days: S3 adds
// the days and rounds up to the next midnight UTC.
func expiryTime(t time.Time, days int64) time.Time {
	d := t.UTC().Add(time.Duration(days) * 24 * time.Hour)
	mid := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	if mid.Before(d) {
		mid = mid.Add(24 * time.Hour)
	}
	return mid
}

type lcRule struct {
	prefix           string
	tags             []tag
	minSize, maxSize int64
	days             int64
	date             time.Time
	expiredMarkers   bool
	noncurrentDays   int64
	abortDays        int64
}

func parseRules(doc map[string]any) []lcRule {
	var out []lcRule
	for _, r := range listOf(doc["Rules"]) {
		if service.Str(r, "Status") != "Enabled" {
			continue
		}
		lr := lcRule{prefix: service.Str(r, "Prefix")}
		if f, ok := r["Filter"].(map[string]any); ok {
			if p := service.Str(f, "Prefix"); p != "" {
				lr.prefix = p
			}
			if t, ok := f["Tag"].(map[string]any); ok {
				lr.tags = append(lr.tags, tag{Key: service.Str(t, "Key"), Value: service.Str(t, "Value")})
			}
			lr.minSize, _ = service.Int(f, "ObjectSizeGreaterThan")
			lr.maxSize, _ = service.Int(f, "ObjectSizeLessThan")
			if a, ok := f["And"].(map[string]any); ok {
				if p := service.Str(a, "Prefix"); p != "" {
					lr.prefix = p
				}
				for _, t := range listOf(a["Tags"]) {
					lr.tags = append(lr.tags, tag{Key: service.Str(t, "Key"), Value: service.Str(t, "Value")})
				}
				if n, ok := service.Int(a, "ObjectSizeGreaterThan"); ok {
					lr.minSize = n
				}
				if n, ok := service.Int(a, "ObjectSizeLessThan"); ok {
					lr.maxSize = n
				}
			}
		}
		if e, ok := r["Expiration"].(map[string]any); ok {
			lr.days, _ = service.Int(e, "Days")
			lr.date, _ = e["Date"].(time.Time)
			lr.expiredMarkers = service.Bool(e, "ExpiredObjectDeleteMarker")
		}
		if e, ok := r["NoncurrentVersionExpiration"].(map[string]any); ok {
			lr.noncurrentDays, _ = service.Int(e, "NoncurrentDays")
		}
		if e, ok := r["AbortIncompleteMultipartUpload"].(map[string]any); ok {
			lr.abortDays, _ = service.Int(e, "DaysAfterInitiation")
		}
		out = append(out, lr)
	}
	return out
}

func (r *lcRule) matches(o *objectRecord) bool {
	if !strings.HasPrefix(o.Key, r.prefix) {
		return false
	}
	if r.minSize > 0 && o.Size <= r.minSize || r.maxSize > 0 && o.Size >= r.maxSize {
		return false
	}
	for _, want := range r.tags {
		found := false
		for _, t := range o.Tags {
			if t == want {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// runLifecycle applies every bucket's lifecycle rules once.
func (s *Service) runLifecycle(ctx context.Context) error {
	s.lifecycleMu.Lock()
	defer s.lifecycleMu.Unlock()
	type job struct {
		b     bucketRecord
		rules []lcRule
	}
	var jobs []job
	err := s.kv.View(func(tx storage.Tx) error {
		start, end := storage.ServiceRange("s3")
		return tx.Scan(start, end, func(k, v []byte) bool {
			_, parts, err := storage.DecodeKey(k)
			if err != nil || len(parts) != 2 || parts[0] != tagBucket {
				return true
			}
			var b bucketRecord
			if decodeRec(v, &b) != nil {
				return true
			}
			if doc, ok := b.config("lifecycle"); ok {
				if m, ok := doc.(map[string]any); ok {
					jobs = append(jobs, job{b, parseRules(m)})
				}
			}
			return true
		})
	})
	if err != nil {
		return err
	}
	now := s.clk.Now()
	for _, j := range jobs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := s.applyRules(ctx, &j.b, j.rules, now); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) applyRules(ctx context.Context, b *bucketRecord, rules []lcRule, now time.Time) error {
	req := &service.Request{Context: ctx, Account: b.Account, Region: b.Region, RequestID: "lifecycle", AccessKey: "",
		HTTP: &http.Request{Method: http.MethodDelete, Header: http.Header{}, RemoteAddr: "s3.amazonaws.com:0"}}
	sc := scopeOf(req)
	type victim struct {
		key, version string
		event        string
	}
	var victims []victim
	var aborts []string
	err := s.kv.View(func(tx storage.Tx) error {
		for _, r := range rules {
			start, end := sc.PrefixRange([]string{tagObject, b.Name}, r.prefix)
			err := tx.Scan(start, end, func(k, v []byte) bool {
				var o objectRecord
				if decodeRec(v, &o) != nil || !r.matches(&o) {
					return true
				}
				if o.DeleteMarker {
					if r.expiredMarkers || r.days > 0 {
						only := true
						vs, ve := sc.Range(tagVersion, b.Name, o.Key)
						tx.Scan(vs, ve, func(k, v []byte) bool { only = false; return false })
						if only {
							victims = append(victims, victim{o.Key, o.wireVersion(), ""})
						}
					}
				} else if r.days > 0 && !now.Before(expiryTime(o.Modified, r.days)) || !r.date.IsZero() && !now.Before(r.date) {
					victims = append(victims, victim{o.Key, "", "LifecycleExpiration:Delete"})
				}
				if r.noncurrentDays > 0 {
					successor := o.Modified
					vs, ve := sc.Range(tagVersion, b.Name, o.Key)
					tx.Scan(vs, ve, func(k, v []byte) bool {
						var nv objectRecord
						if decodeRec(v, &nv) != nil {
							return true
						}
						if !now.Before(expiryTime(successor, r.noncurrentDays)) {
							victims = append(victims, victim{nv.Key, nv.wireVersion(), "LifecycleExpiration:Delete"})
						}
						successor = nv.Modified
						return true
					})
				}
				return true
			})
			if err != nil {
				return err
			}
			if r.abortDays > 0 {
				us, ue := sc.Range(tagUpload, b.Name)
				tx.Scan(us, ue, func(k, v []byte) bool {
					var u uploadRecord
					if decodeRec(v, &u) == nil && strings.HasPrefix(u.Key, r.prefix) && !now.Before(expiryTime(u.Initiated, r.abortDays)) {
						aborts = append(aborts, u.ID)
					}
					return true
				})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, v := range victims {
		bb, res, err := s.deleteOne(req, b.Name, v.key, v.version, "")
		if err != nil {
			continue
		}
		if v.event != "" && res.removed != nil {
			ev := v.event
			if res.deleteMarker && v.version == "" {
				ev = "LifecycleExpiration:DeleteMarkerCreated"
			}
			s.notify(req, bb, ev, res.removed)
		}
	}
	for _, id := range aborts {
		if blobs, err := s.dropUpload(req, b.Name, id); err == nil {
			s.deleteBlobs(blobs)
		}
	}
	return nil
}
