package lambda

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
)

// minUnreserved is how much of the account's concurrency reservations must
// leave to functions without one.
func (s *Service) minUnreserved() int64 { return min(100, int64(s.accountLimit)/10) }

func (s *Service) putFunctionConcurrency(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), "")
	if err != nil {
		return nil, err
	}
	n, ok := service.Int(r.Input, "ReservedConcurrentExecutions")
	if !ok || n < 0 {
		return nil, errValidation(n, "reservedConcurrentExecutions", "Member must have value greater than or equal to 0")
	}
	_, err = s.mutate(ref.key, ref.arn(), func(f *function) error {
		s.mu.RLock()
		sum := s.reserved[acctKey{ref.key.account, ref.key.region}]
		s.mu.RUnlock()
		if f.Reserved != nil {
			sum -= *f.Reserved
		}
		if int64(s.accountLimit)-(sum+n) < s.minUnreserved() {
			return errInvalid("Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [%d].", s.minUnreserved())
		}
		f.Reserved = &n
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"ReservedConcurrentExecutions": n}, nil
}

func (s *Service) getFunctionConcurrency(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), "")
	if err != nil {
		return nil, err
	}
	f := s.lookup(ref.key)
	if f == nil {
		return nil, errFunctionNotFound(ref.arn())
	}
	out := map[string]any{}
	if f.Reserved != nil {
		out["ReservedConcurrentExecutions"] = *f.Reserved
	}
	return out, nil
}

func (s *Service) deleteFunctionConcurrency(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), "")
	if err != nil {
		return nil, err
	}
	_, err = s.mutate(ref.key, ref.arn(), func(f *function) error {
		f.Reserved = nil
		return nil
	})
	return nil, err
}

func (s *Service) getAccountSettings(r *service.Request) (map[string]any, error) {
	s.mu.RLock()
	var count, size int64
	for k, f := range s.fns {
		if k.account != r.Account || k.region != r.Region {
			continue
		}
		count++
		size += f.Latest.CodeSize
		for _, v := range f.Versions {
			size += v.CodeSize
		}
	}
	reserved := s.reserved[acctKey{r.Account, r.Region}]
	s.mu.RUnlock()
	return map[string]any{
		"AccountLimit": map[string]any{
			"TotalCodeSize":                  int64(80530636800),
			"CodeSizeUnzipped":               int64(maxUnzipped),
			"CodeSizeZipped":                 int64(maxZippedDirect),
			"ConcurrentExecutions":           int64(s.accountLimit),
			"UnreservedConcurrentExecutions": int64(s.accountLimit) - reserved,
		},
		"AccountUsage": map[string]any{"TotalCodeSize": size, "FunctionCount": count},
	}, nil
}

var actionRe = regexp.MustCompile(`^(lambda:[*]|lambda:[a-zA-Z]+|[*])$`)

func principalJSON(p string) any {
	switch {
	case p == "*":
		return "*"
	case regexp.MustCompile(`^\d{12}$`).MatchString(p):
		return map[string]any{"AWS": "arn:aws:iam::" + p + ":root"}
	case strings.HasPrefix(p, "arn:"):
		return map[string]any{"AWS": p}
	}
	return map[string]any{"Service": p}
}

func (s *Service) addPermission(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), service.Str(r.Input, "Qualifier"))
	if err != nil {
		return nil, err
	}
	sid := service.Str(r.Input, "StatementId")
	if !regexp.MustCompile(`^([a-zA-Z0-9-_]+)$`).MatchString(sid) || len(sid) > 100 {
		return nil, errValidation(sid, "statementId", "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)")
	}
	action := service.Str(r.Input, "Action")
	if !actionRe.MatchString(action) {
		return nil, errValidation(action, "action", "Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])")
	}
	principal := service.Str(r.Input, "Principal")
	var doc string
	_, err = s.mutate(ref.key, ref.arn(), func(f *function) error {
		if _, _, _, err := s.resolve(ref); err != nil {
			return err
		}
		if err := checkRevision(r.Input, f.PolicyRevision, "GetPolicy"); err != nil && f.PolicyRevision != "" {
			return err
		}
		for _, st := range f.Policy {
			if st.Sid == sid && st.Qualifier == ref.qualifier {
				return errConflict("The statement id (%s) provided already exists. Please choose a new statement id, or remove the existing statement.", sid)
			}
		}
		resource := f.arn()
		if ref.qualifier != "" {
			resource += ":" + ref.qualifier
		}
		st := map[string]any{"Sid": sid, "Effect": "Allow", "Principal": principalJSON(principal), "Action": action, "Resource": resource}
		cond := map[string]any{}
		if v := service.Str(r.Input, "SourceArn"); v != "" {
			cond["ArnLike"] = map[string]any{"AWS:SourceArn": v}
		}
		se := map[string]any{}
		if v := service.Str(r.Input, "SourceAccount"); v != "" {
			se["AWS:SourceAccount"] = v
		}
		if v := service.Str(r.Input, "PrincipalOrgID"); v != "" {
			se["aws:PrincipalOrgID"] = v
		}
		if v := service.Str(r.Input, "EventSourceToken"); v != "" {
			se["lambda:EventSourceToken"] = v
		}
		if v := service.Str(r.Input, "FunctionUrlAuthType"); v != "" {
			se["lambda:FunctionUrlAuthType"] = v
		}
		if len(se) > 0 {
			cond["StringEquals"] = se
		}
		if len(cond) > 0 {
			st["Condition"] = cond
		}
		b, _ := json.Marshal(st)
		doc = string(b)
		f.Policy = append(f.Policy, statement{Sid: sid, JSON: doc, Qualifier: ref.qualifier})
		f.PolicyRevision = newID()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"Statement": doc}, nil
}

func (s *Service) removePermission(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), service.Str(r.Input, "Qualifier"))
	if err != nil {
		return nil, err
	}
	sid := service.Str(r.Input, "StatementId")
	_, err = s.mutate(ref.key, ref.arn(), func(f *function) error {
		if err := checkRevision(r.Input, f.PolicyRevision, "GetPolicy"); err != nil {
			return err
		}
		i := slices.IndexFunc(f.Policy, func(st statement) bool { return st.Sid == sid && st.Qualifier == ref.qualifier })
		if i < 0 {
			return errNotFound("Statement %s is not found in resource policy.", sid)
		}
		f.Policy = slices.Delete(f.Policy, i, i+1)
		f.PolicyRevision = newID()
		return nil
	})
	return nil, err
}

func (s *Service) getPolicy(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), service.Str(r.Input, "Qualifier"))
	if err != nil {
		return nil, err
	}
	f, _, _, err := s.resolve(ref)
	if err != nil {
		return nil, err
	}
	var sts []json.RawMessage
	for _, st := range f.Policy {
		if st.Qualifier == ref.qualifier {
			sts = append(sts, json.RawMessage(st.JSON))
		}
	}
	if len(sts) == 0 {
		return nil, errNotFound("The resource you requested does not exist.")
	}
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Id": "default", "Statement": sts})
	return map[string]any{"Policy": string(b), "RevisionId": f.PolicyRevision}, nil
}

// PolicyStatements returns the resource policy statements of a function
// (for the IAM engine); nil when the function does not exist.
func (s *Service) PolicyStatements(account, region, name string) []string {
	f := s.lookup(fnKey{account, region, name})
	if f == nil {
		return nil
	}
	out := make([]string, len(f.Policy))
	for i, st := range f.Policy {
		out[i] = st.JSON
	}
	return out
}

// Event invoke config.

func validDestination(arn string) bool {
	p := strings.SplitN(arn, ":", 6)
	if len(p) < 6 || p[0] != "arn" {
		return false
	}
	switch p[2] {
	case "sqs", "sns", "lambda", "events", "s3":
		return true
	}
	return false
}

func invokeCfgOut(f *function, q string, c *invokeCfg) map[string]any {
	out := map[string]any{"FunctionArn": f.arn() + ":" + q, "LastModified": c.LastModified}
	if c.MaxRetries != nil {
		out["MaximumRetryAttempts"] = *c.MaxRetries
	}
	if c.MaxAge != nil {
		out["MaximumEventAgeInSeconds"] = *c.MaxAge
	}
	dc := map[string]any{"OnSuccess": map[string]any{}, "OnFailure": map[string]any{}}
	if c.OnSuccess != "" {
		dc["OnSuccess"] = map[string]any{"Destination": c.OnSuccess}
	}
	if c.OnFailure != "" {
		dc["OnFailure"] = map[string]any{"Destination": c.OnFailure}
	}
	out["DestinationConfig"] = dc
	return out
}

func (s *Service) eventInvokeConfig(r *service.Request, merge bool) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), service.Str(r.Input, "Qualifier"))
	if err != nil {
		return nil, err
	}
	q := ref.qualifier
	if q == "" {
		q = latest
	}
	in := r.Input
	var out map[string]any
	_, err = s.mutate(ref.key, ref.arn(), func(f *function) error {
		if _, _, _, err := s.resolve(ref); err != nil {
			return err
		}
		c := &invokeCfg{}
		if merge {
			if cur := f.EventInvoke[q]; cur != nil {
				cc := *cur
				c = &cc
			}
		}
		if n, ok := service.Int(in, "MaximumRetryAttempts"); ok {
			if n < 0 || n > 2 {
				return errValidation(n, "maximumRetryAttempts", "Member must have value less than or equal to 2")
			}
			c.MaxRetries = &n
		}
		if n, ok := service.Int(in, "MaximumEventAgeInSeconds"); ok {
			if n < 60 || n > 21600 {
				return errValidation(n, "maximumEventAgeInSeconds", "Member must have value between 60 and 21600")
			}
			c.MaxAge = &n
		}
		if dc, ok := in["DestinationConfig"].(map[string]any); ok {
			for key, dst := range map[string]*string{"OnSuccess": &c.OnSuccess, "OnFailure": &c.OnFailure} {
				m, ok := dc[key].(map[string]any)
				if !ok {
					continue
				}
				d := service.Str(m, "Destination")
				if d != "" && !validDestination(d) {
					return errInvalid("The destination ARN %s is invalid.", d)
				}
				if d == f.arn() || strings.HasPrefix(d, f.arn()+":") {
					return errInvalid("You can't specify the function as a destination for itself.")
				}
				*dst = d
			}
		}
		c.LastModified = s.clk.Now().UTC()
		if f.EventInvoke == nil {
			f.EventInvoke = map[string]*invokeCfg{}
		}
		f.EventInvoke[q] = c
		out = invokeCfgOut(f, q, c)
		return nil
	})
	return out, err
}

func (s *Service) putEventInvokeConfig(r *service.Request) (map[string]any, error) {
	return s.eventInvokeConfig(r, false)
}

func (s *Service) updateEventInvokeConfig(r *service.Request) (map[string]any, error) {
	return s.eventInvokeConfig(r, true)
}

func (s *Service) getEventInvokeConfig(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), service.Str(r.Input, "Qualifier"))
	if err != nil {
		return nil, err
	}
	f, _, _, err := s.resolve(ref)
	if err != nil {
		return nil, err
	}
	q := orDefault(ref.qualifier, latest)
	c := f.EventInvoke[q]
	if c == nil {
		return nil, errNotFound("The function %s:%s doesn't have an EventInvokeConfig", f.arn(), q)
	}
	return invokeCfgOut(f, q, c), nil
}

func (s *Service) deleteEventInvokeConfig(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), service.Str(r.Input, "Qualifier"))
	if err != nil {
		return nil, err
	}
	q := orDefault(ref.qualifier, latest)
	_, err = s.mutate(ref.key, ref.arn(), func(f *function) error {
		if f.EventInvoke[q] == nil {
			return errNotFound("The function %s:%s doesn't have an EventInvokeConfig", f.arn(), q)
		}
		delete(f.EventInvoke, q)
		return nil
	})
	return nil, err
}

func (s *Service) listEventInvokeConfigs(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), "")
	if err != nil {
		return nil, err
	}
	f := s.lookup(ref.key)
	if f == nil {
		return nil, errFunctionNotFound(ref.arn())
	}
	qs := make([]string, 0, len(f.EventInvoke))
	for q := range f.EventInvoke {
		qs = append(qs, q)
	}
	sort.Strings(qs)
	lo, hi, next, err := page(r.Input, service.Str(r.Input, "Marker"), len(qs), func(i int) string { return qs[i] }, 50)
	if err != nil {
		return nil, err
	}
	list := make([]any, 0, hi-lo)
	for _, q := range qs[lo:hi] {
		list = append(list, invokeCfgOut(f, q, f.EventInvoke[q]))
	}
	out := map[string]any{"FunctionEventInvokeConfigs": list}
	if next != "" {
		out["NextMarker"] = next
	}
	return out, nil
}

// Tags.

func (s *Service) tagTarget(r *service.Request) (fnRef, error) {
	res := service.Str(r.Input, "Resource")
	p := strings.Split(res, ":")
	if len(p) != 7 || p[0] != "arn" || p[2] != "lambda" || p[5] != "function" {
		if len(p) >= 7 && p[5] == "function" {
			return fnRef{}, errInvalid("Tags are not supported on function versions or aliases: %s", res)
		}
		return fnRef{}, errValidation(res, "resource", "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
	}
	return parseRef(r, res, "")
}

func (s *Service) tagResource(r *service.Request) (map[string]any, error) {
	ref, err := s.tagTarget(r)
	if err != nil {
		return nil, err
	}
	tags, _ := r.Input["Tags"].(map[string]any)
	_, err = s.mutate(ref.key, ref.arn(), func(f *function) error {
		if f.Tags == nil {
			f.Tags = map[string]string{}
		}
		for k, v := range tags {
			f.Tags[k], _ = v.(string)
		}
		if len(f.Tags) > 50 {
			return errInvalid("Number of tags exceeds resource tag limit.")
		}
		return nil
	})
	return nil, err
}

func (s *Service) untagResource(r *service.Request) (map[string]any, error) {
	ref, err := s.tagTarget(r)
	if err != nil {
		return nil, err
	}
	keys := service.Strings(r.Input, "TagKeys")
	_, err = s.mutate(ref.key, ref.arn(), func(f *function) error {
		for _, k := range keys {
			delete(f.Tags, k)
		}
		return nil
	})
	return nil, err
}

func (s *Service) listTags(r *service.Request) (map[string]any, error) {
	ref, err := s.tagTarget(r)
	if err != nil {
		return nil, err
	}
	f := s.lookup(ref.key)
	if f == nil {
		return nil, errFunctionNotFound(ref.arn())
	}
	return map[string]any{"Tags": tagsOut(f.Tags)}, nil
}
