package lambda

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/overcast-dev/overcast/internal/protocol/model"
	"github.com/overcast-dev/overcast/internal/service"
)

// Limits, as Lambda's quotas.
const (
	maxZippedDirect = 50 << 20  // a zip in the request
	maxZippedS3     = 250 << 20 // a zip read from S3
	maxUnzipped     = 262144000
	maxEnvBytes     = 4 << 10
	maxLayers       = 5
	defaultTimeout  = 3
	defaultMemory   = 128
	defaultStorage  = 512
)

var (
	nameRe     = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	roleRe     = regexp.MustCompile(`^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
	envKeyRe   = regexp.MustCompile(`^[a-zA-Z]([a-zA-Z0-9_])+$`)
	qualRe     = regexp.MustCompile(`^(\$LATEST|[a-zA-Z0-9_-]+)$`)
	aliasRe    = regexp.MustCompile(`^(?:[0-9]*[a-zA-Z_-][a-zA-Z0-9_-]*)$`)
	reservedEn = []string{"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
		"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
		"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
		"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"}
)

var runtimeEnum = sync.OnceValue(func() []string {
	api, err := model.Load("lambda")
	if err != nil || api.Shapes["Runtime"] == nil {
		return nil
	}
	return api.Shapes["Runtime"].Enum
})

func partition(region string) string { return service.Partition(region) }

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// fnRef is a function named by a request: a name, partial ARN or ARN, and a
// qualifier.
type fnRef struct {
	key       fnKey
	qualifier string
}

func (r fnRef) arn() string {
	a := functionARN(r.key.account, r.key.region, r.key.name)
	if r.qualifier != "" {
		a += ":" + r.qualifier
	}
	return a
}

// parseRef resolves a FunctionName member (name, name:qualifier, partial
// ARN or ARN) and the Qualifier member.
func parseRef(r *service.Request, raw, qualifier string) (fnRef, error) {
	ref := fnRef{key: fnKey{r.Account, r.Region, raw}, qualifier: qualifier}
	if raw == "" {
		return ref, errValidation("null", "functionName", "Member must not be null")
	}
	parts := strings.Split(raw, ":")
	var q string
	switch {
	case strings.HasPrefix(raw, "arn:"):
		if len(parts) < 7 || len(parts) > 8 || parts[2] != "lambda" || parts[5] != "function" {
			return ref, errValidation(raw, "functionName", "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?")
		}
		if parts[3] != r.Region {
			return ref, errInvalid("Functions from '%s' are not reachable in this region ('%s')", parts[3], r.Region)
		}
		ref.key.account, ref.key.name = parts[4], parts[6]
		if len(parts) == 8 {
			q = parts[7]
		}
	case len(parts) >= 3 && parts[1] == "function":
		ref.key.account, ref.key.name = parts[0], parts[2]
		if len(parts) == 4 {
			q = parts[3]
		} else if len(parts) > 4 {
			return ref, errValidation(raw, "functionName", "Member must satisfy regular expression pattern")
		}
	case len(parts) == 2:
		ref.key.name, q = parts[0], parts[1]
	case len(parts) == 1:
	default:
		return ref, errValidation(raw, "functionName", "Member must satisfy regular expression pattern")
	}
	if !nameRe.MatchString(ref.key.name) || (ref.key.account != r.Account && !regexp.MustCompile(`^\d{12}$`).MatchString(ref.key.account)) {
		return ref, errValidation(raw, "functionName", "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?")
	}
	if q != "" {
		if qualifier != "" && qualifier != q {
			return ref, errInvalid("The derived qualifier from the function name does not match the specified qualifier.")
		}
		ref.qualifier = q
	}
	if ref.qualifier != "" && !qualRe.MatchString(ref.qualifier) {
		return ref, errValidation(ref.qualifier, "qualifier", "Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)")
	}
	return ref, nil
}

// resolve returns the function, and the version and alias the reference's
// qualifier selects (alias routing is not applied).
func (s *Service) resolve(ref fnRef) (*function, *version, *alias, error) {
	f := s.lookup(ref.key)
	if f == nil {
		return nil, nil, nil, errFunctionNotFound(ref.arn())
	}
	if ref.qualifier == "" || ref.qualifier == latest {
		return f, f.Latest, nil, nil
	}
	if _, err := strconv.Atoi(ref.qualifier); err == nil {
		if v := f.lookupVersion(ref.qualifier); v != nil {
			return f, v, nil, nil
		}
		return nil, nil, nil, errFunctionNotFound(ref.arn())
	}
	if a := f.Aliases[ref.qualifier]; a != nil {
		return f, f.lookupVersion(a.Version), a, nil
	}
	return nil, nil, nil, errFunctionNotFound(ref.arn())
}

// codeSource reads the deployment package a request names.
func (s *Service) codeSource(r *service.Request, in map[string]any) ([]byte, error) {
	if zb, ok := in["ZipFile"].([]byte); ok {
		if len(zb) > maxZippedDirect {
			return nil, lerr(413, codeTooLargeEntity, "Request must be smaller than %d bytes for the %s operation", maxZippedDirect, r.Operation)
		}
		return zb, nil
	}
	bucket, key := service.Str(in, "S3Bucket"), service.Str(in, "S3Key")
	if bucket == "" || key == "" {
		if service.Str(in, "ImageUri") != "" {
			return nil, errInvalid("Container images are not supported by this Lambda: use PackageType Zip.")
		}
		return nil, errInvalid("Please provide a source for function code.")
	}
	if s.code == nil {
		return nil, errInvalid("Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist")
	}
	rc, err := s.code.FetchCode(r.Context, r.Account, r.Region, bucket, key, service.Str(in, "S3ObjectVersion"))
	if err != nil {
		code, msg := "NoSuchKey", "The specified key does not exist."
		if e, ok := err.(interface{ Error() string }); ok && strings.Contains(e.Error(), "NoSuchBucket") {
			code, msg = "NoSuchBucket", "The specified bucket does not exist"
		}
		return nil, errInvalid("Error occurred while GetObject. S3 Error Code: %s. S3 Error Message: %s", code, msg)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxZippedS3+1))
	if err != nil {
		return nil, errInvalid("Error occurred while GetObject. S3 Error Code: InternalError. S3 Error Message: %v", err)
	}
	if len(b) > maxZippedS3 {
		return nil, errInvalid("Unzipped size must be smaller than %d bytes", maxUnzipped)
	}
	return b, nil
}

// checkZip validates a deployment package without unpacking it.
func checkZip(b []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return errInvalid("Could not unzip uploaded file. Please check your file, then try to upload again.")
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if total > maxUnzipped {
			return errInvalid("Unzipped size must be smaller than %d bytes", maxUnzipped)
		}
	}
	return nil
}

func sha256b64(b []byte) string {
	h := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(h[:])
}

// storeCode validates and stores a package, and records it in v.
func (s *Service) storeCode(k fnKey, v *version, zb []byte) error {
	if err := checkZip(zb); err != nil {
		return err
	}
	v.CodeSha256 = sha256b64(zb)
	v.CodeSize = int64(len(zb))
	v.CodeKey = "lambda/" + k.account + "/" + k.region + "/function/" + k.name + "/" + newID()
	if _, err := s.blobs.Put(v.CodeKey, bytes.NewReader(zb)); err != nil {
		return err
	}
	return nil
}

// applyConfig validates the configuration members of in and applies those
// present to v.
func (s *Service) applyConfig(r *service.Request, v *version, in map[string]any) error {
	if _, ok := in["Role"]; ok {
		role := service.Str(in, "Role")
		if !roleRe.MatchString(role) {
			return errValidation(role, "role", `Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`)
		}
		v.Role = role
	}
	if _, ok := in["Runtime"]; ok {
		rt := service.Str(in, "Runtime")
		if enum := runtimeEnum(); len(enum) > 0 && !slices.Contains(enum, rt) {
			return errValidation(rt, "runtime", "Member must satisfy enum value set: ["+strings.Join(enum, ", ")+"] or be a valid ARN")
		}
		v.Runtime = rt
	}
	if _, ok := in["Handler"]; ok {
		h := service.Str(in, "Handler")
		if len(h) > 128 || h == "" {
			return errValidation(h, "handler", "Member must have length less than or equal to 128")
		}
		v.Handler = h
	}
	if _, ok := in["Description"]; ok {
		v.Description = service.Str(in, "Description")
		if len(v.Description) > 256 {
			return errValidation(v.Description, "description", "Member must have length less than or equal to 256")
		}
	}
	if n, ok := service.Int(in, "Timeout"); ok {
		if n < 1 {
			return errValidation(n, "timeout", "Member must have value greater than or equal to 1")
		}
		if n > 900 {
			return errValidation(n, "timeout", "Member must have value less than or equal to 900")
		}
		v.Timeout = n
	}
	if n, ok := service.Int(in, "MemorySize"); ok {
		if n < 128 {
			return errValidation(n, "memorySize", "Member must have value greater than or equal to 128")
		}
		if n > 10240 {
			return errValidation(n, "memorySize", "Member must have value less than or equal to 10240")
		}
		v.MemorySize = n
	}
	if es, ok := in["EphemeralStorage"].(map[string]any); ok {
		n, _ := service.Int(es, "Size")
		if n < 512 || n > 10240 {
			return errValidation(n, "ephemeralStorage.size", "Member must have value between 512 and 10240")
		}
		v.EphemeralStorage = n
	}
	if env, ok := in["Environment"].(map[string]any); ok {
		vars := map[string]string{}
		size := 0
		var reserved []string
		if m, ok := env["Variables"].(map[string]any); ok {
			for key, val := range m {
				sv, _ := val.(string)
				if !envKeyRe.MatchString(key) {
					return errValidation("[sensitive]", "environment.variables", "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]")
				}
				if slices.Contains(reservedEn, key) {
					reserved = append(reserved, key)
				}
				vars[key] = sv
				size += len(key) + len(sv)
			}
		}
		if len(reserved) > 0 {
			sort.Strings(reserved)
			return errInvalid("Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: %s", strings.Join(reserved, ", "))
		}
		if size > maxEnvBytes {
			return errInvalid("Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: %d bytes", size)
		}
		if len(vars) == 0 {
			vars = nil
		}
		v.Env = vars
	}
	if _, ok := in["Layers"]; ok {
		arns := service.Strings(in, "Layers")
		if len(arns) > maxLayers {
			return errInvalid("Cannot reference more than %d layers.", maxLayers)
		}
		refs := make([]layerRef, 0, len(arns))
		for _, a := range arns {
			lv, err := s.layerByARN(a)
			if err != nil {
				return err
			}
			refs = append(refs, layerRef{Arn: a, CodeSize: lv.CodeSize, CodeKey: lv.CodeKey, CodeSha256: lv.CodeSha256})
		}
		v.Layers = refs
	}
	if _, ok := in["Architectures"]; ok {
		a := service.Strings(in, "Architectures")
		if len(a) != 1 || (a[0] != "x86_64" && a[0] != "arm64") {
			return errValidation(strings.Join(a, ","), "architectures", "Member must have length less than or equal to 1, and members must satisfy enum value set: [x86_64, arm64]")
		}
		v.Architectures = a
	}
	if dl, ok := in["DeadLetterConfig"].(map[string]any); ok {
		v.DeadLetter = service.Str(dl, "TargetArn")
	}
	if tc, ok := in["TracingConfig"].(map[string]any); ok {
		v.TracingMode = service.Str(tc, "Mode")
	}
	if lc, ok := in["LoggingConfig"].(map[string]any); ok {
		if f := service.Str(lc, "LogFormat"); f != "" {
			v.LogFormat = f
		}
		if g := service.Str(lc, "LogGroup"); g != "" {
			v.LogGroup = g
		}
	}
	return nil
}

func (s *Service) createFunction(r *service.Request) (map[string]any, error) {
	in := r.Input
	name := service.Str(in, "FunctionName")
	ref, err := parseRef(r, name, "")
	if err != nil {
		return nil, err
	}
	if ref.qualifier != "" || ref.key.account != r.Account {
		return nil, errValidation(name, "functionName", "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)")
	}
	if pt := service.Str(in, "PackageType"); pt == "Image" {
		return nil, errInvalid("Container images are not supported by this Lambda: use PackageType Zip.")
	}
	now := s.clk.Now().UTC()
	v := &version{Version: latest, Timeout: defaultTimeout, MemorySize: defaultMemory, EphemeralStorage: defaultStorage,
		PackageType: "Zip", Architectures: []string{"x86_64"}, LastModified: now, RevisionID: newID(), TracingMode: "PassThrough", LogFormat: "Text"}
	if err := s.applyConfig(r, v, in); err != nil {
		return nil, err
	}
	if v.Runtime == "" {
		return nil, errInvalid("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
	}
	if v.Handler == "" && !strings.HasPrefix(v.Runtime, "provided") {
		return nil, errInvalid("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
	}
	code, _ := in["Code"].(map[string]any)
	zb, err := s.codeSource(r, code)
	if err != nil {
		return nil, err
	}
	tags := map[string]string{}
	if m, ok := in["Tags"].(map[string]any); ok {
		for k, val := range m {
			tags[k], _ = val.(string)
		}
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.lookup(ref.key) != nil {
		return nil, errConflict("Function already exist: %s", ref.key.name)
	}
	if err := s.storeCode(ref.key, v, zb); err != nil {
		return nil, err
	}
	f := &function{Account: ref.key.account, Region: ref.key.region, Name: ref.key.name, Latest: v, NextVersion: 1, Tags: tags, Created: now}
	if len(tags) == 0 {
		f.Tags = nil
	}
	out := s.configOut(f, v, f.arn())
	if service.Bool(in, "Publish") {
		pv := s.newVersion(f, "")
		f.Versions = append(f.Versions, pv)
		out = s.configOut(f, pv, f.arn()+":"+pv.Version)
	}
	if err := s.put(ref.key, f); err != nil {
		return nil, err
	}
	out["State"] = "Pending"
	out["StateReason"] = "The function is being created."
	out["StateReasonCode"] = "Creating"
	delete(out, "LastUpdateStatus")
	return out, nil
}

// newVersion makes the next published version of f from $LATEST; the caller
// appends it.
func (s *Service) newVersion(f *function, description string) *version {
	pv := f.Latest.clone()
	pv.Version = strconv.Itoa(f.NextVersion)
	f.NextVersion++
	pv.RevisionID = newID()
	pv.Updated = false
	if description != "" {
		pv.Description = description
	}
	return pv
}

// configOut renders a FunctionConfiguration.
func (s *Service) configOut(f *function, v *version, arn string) map[string]any {
	out := map[string]any{
		"FunctionName":     f.Name,
		"FunctionArn":      arn,
		"Role":             v.Role,
		"CodeSize":         v.CodeSize,
		"Description":      v.Description,
		"Timeout":          v.Timeout,
		"MemorySize":       v.MemorySize,
		"LastModified":     v.LastModified.Format("2006-01-02T15:04:05.000-0700"),
		"CodeSha256":       v.CodeSha256,
		"Version":          v.Version,
		"RevisionId":       v.RevisionID,
		"State":            "Active",
		"LastUpdateStatus": "Successful",
		"PackageType":      v.PackageType,
		"Architectures":    toAnys(v.Architectures),
		"EphemeralStorage": map[string]any{"Size": v.EphemeralStorage},
		"TracingConfig":    map[string]any{"Mode": orDefault(v.TracingMode, "PassThrough")},
		"SnapStart":        map[string]any{"ApplyOn": "None", "OptimizationStatus": "Off"},
		"LoggingConfig":    map[string]any{"LogFormat": orDefault(v.LogFormat, "Text"), "LogGroup": logGroup(f.Name, v)},
	}
	if v.Runtime != "" {
		out["Runtime"] = v.Runtime
		out["RuntimeVersionConfig"] = map[string]any{"RuntimeVersionArn": "arn:" + partition(f.Region) + ":lambda:" + f.Region + "::runtime:" + fmt.Sprintf("%x", sha256.Sum256([]byte(v.Runtime)))[:64]}
	}
	if v.Handler != "" {
		out["Handler"] = v.Handler
	}
	if v.Env != nil {
		vars := make(map[string]any, len(v.Env))
		for k, val := range v.Env {
			vars[k] = val
		}
		out["Environment"] = map[string]any{"Variables": vars}
	}
	if len(v.Layers) > 0 {
		l := make([]any, len(v.Layers))
		for i, lr := range v.Layers {
			l[i] = map[string]any{"Arn": lr.Arn, "CodeSize": lr.CodeSize}
		}
		out["Layers"] = l
	}
	if v.DeadLetter != "" {
		out["DeadLetterConfig"] = map[string]any{"TargetArn": v.DeadLetter}
	}
	return out
}

func logGroup(name string, v *version) string {
	if v.LogGroup != "" {
		return v.LogGroup
	}
	return "/aws/lambda/" + name
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func toAnys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func (s *Service) getFunction(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), service.Str(r.Input, "Qualifier"))
	if err != nil {
		return nil, err
	}
	f, v, _, err := s.resolve(ref)
	if err != nil {
		return nil, err
	}
	arn := f.arn()
	if ref.qualifier != "" {
		arn += ":" + ref.qualifier
	}
	out := map[string]any{
		"Configuration": s.configOut(f, v, arn),
		"Code": map[string]any{
			"RepositoryType": "S3",
			"Location":       s.endpointURL() + "/_overcast/lambda/code/" + f.Account + "/" + f.Region + "/" + f.Name + "/" + v.Version,
		},
	}
	if ref.qualifier == "" && len(f.Tags) > 0 {
		out["Tags"] = tagsOut(f.Tags)
	}
	if f.Reserved != nil {
		out["Concurrency"] = map[string]any{"ReservedConcurrentExecutions": *f.Reserved}
	}
	return out, nil
}

func tagsOut(t map[string]string) map[string]any {
	m := make(map[string]any, len(t))
	for k, v := range t {
		m[k] = v
	}
	return m
}

func (s *Service) getFunctionConfiguration(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), service.Str(r.Input, "Qualifier"))
	if err != nil {
		return nil, err
	}
	f, v, _, err := s.resolve(ref)
	if err != nil {
		return nil, err
	}
	arn := f.arn()
	if ref.qualifier != "" {
		arn += ":" + ref.qualifier
	}
	return s.configOut(f, v, arn), nil
}

// page applies Marker/MaxItems to n sorted items named by name(i), and
// returns the window and the next marker.
func page(in map[string]any, marker string, n int, name func(int) string, def int) (lo, hi int, next string, err error) {
	maxItems := int64(def)
	if m, ok := service.Int(in, "MaxItems"); ok {
		if m < 1 || m > 10000 {
			return 0, 0, "", errValidation(m, "maxItems", "Member must have value between 1 and 10000")
		}
		maxItems = m
	}
	if marker != "" {
		lo = sort.Search(n, func(i int) bool { return name(i) > marker })
	}
	hi = min(n, lo+int(maxItems))
	if hi < n {
		next = name(hi - 1)
	}
	return lo, hi, next, nil
}

func (s *Service) listFunctions(r *service.Request) (map[string]any, error) {
	all := service.Str(r.Input, "FunctionVersion") == "ALL"
	if fv := service.Str(r.Input, "FunctionVersion"); fv != "" && !all {
		return nil, errValidation(fv, "functionVersion", "Member must satisfy enum value set: [ALL]")
	}
	s.mu.RLock()
	var fns []*function
	for k, f := range s.fns {
		if k.account == r.Account && k.region == r.Region {
			fns = append(fns, f)
		}
	}
	s.mu.RUnlock()
	sort.Slice(fns, func(i, j int) bool { return fns[i].Name < fns[j].Name })
	type item struct {
		f *function
		v *version
	}
	var items []item
	for _, f := range fns {
		items = append(items, item{f, f.Latest})
		if all {
			for _, v := range f.Versions {
				items = append(items, item{f, v})
			}
		}
	}
	name := func(i int) string {
		// markers sort by name then zero-padded version
		v := items[i].v.Version
		if v == latest {
			v = ""
		} else {
			n, _ := strconv.Atoi(v)
			v = fmt.Sprintf("%010d", n)
		}
		return items[i].f.Name + "\x00" + v
	}
	lo, hi, next, err := page(r.Input, decodeMarker(service.Str(r.Input, "Marker")), len(items), name, 50)
	if err != nil {
		return nil, err
	}
	list := make([]any, 0, hi-lo)
	for _, it := range items[lo:hi] {
		arn := it.f.arn()
		if all {
			arn += ":" + it.v.Version
		}
		list = append(list, s.configOut(it.f, it.v, arn))
	}
	out := map[string]any{"Functions": list}
	if next != "" {
		out["NextMarker"] = base64.RawURLEncoding.EncodeToString([]byte(next))
	}
	return out, nil
}

func checkRevision(in map[string]any, current string, what string) error {
	if rev := service.Str(in, "RevisionId"); rev != "" && rev != current {
		return errPrecondition("The Revision Id provided does not match the latest Revision Id. Call the %s API to retrieve the latest Revision Id", what)
	}
	return nil
}

func (s *Service) updateFunctionCode(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), "")
	if err != nil {
		return nil, err
	}
	zb, err := s.codeSource(r, r.Input)
	if err != nil {
		return nil, err
	}
	if err := checkZip(zb); err != nil {
		return nil, err
	}
	if service.Bool(r.Input, "DryRun") {
		f, v, _, err := s.resolve(fnRef{key: ref.key})
		if err != nil {
			return nil, err
		}
		out := s.configOut(f, v, f.arn())
		out["CodeSha256"], out["CodeSize"] = sha256b64(zb), int64(len(zb))
		return out, nil
	}
	var out map[string]any
	_, err = s.mutate(ref.key, ref.arn(), func(f *function) error {
		if err := checkRevision(r.Input, f.Latest.RevisionID, "GetFunction/GetAlias"); err != nil {
			return err
		}
		v := f.Latest.clone()
		if a := service.Strings(r.Input, "Architectures"); len(a) > 0 {
			if err := s.applyConfig(r, v, map[string]any{"Architectures": r.Input["Architectures"]}); err != nil {
				return err
			}
		}
		if err := s.storeCode(ref.key, v, zb); err != nil {
			return err
		}
		v.LastModified, v.RevisionID, v.Updated = s.clk.Now().UTC(), newID(), true
		f.Latest = v
		out = s.configOut(f, v, f.arn())
		if service.Bool(r.Input, "Publish") {
			pv := s.newVersion(f, "")
			f.Versions = append(f.Versions, pv)
			out = s.configOut(f, pv, f.arn()+":"+pv.Version)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out["LastUpdateStatus"] = "InProgress"
	out["LastUpdateStatusReason"] = "The function is being created."
	out["LastUpdateStatusReasonCode"] = "Creating"
	return out, nil
}

func (s *Service) updateFunctionConfiguration(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), "")
	if err != nil {
		return nil, err
	}
	var out map[string]any
	_, err = s.mutate(ref.key, ref.arn(), func(f *function) error {
		if err := checkRevision(r.Input, f.Latest.RevisionID, "GetFunction/GetAlias"); err != nil {
			return err
		}
		v := f.Latest.clone()
		if err := s.applyConfig(r, v, r.Input); err != nil {
			return err
		}
		v.LastModified, v.RevisionID, v.Updated = s.clk.Now().UTC(), newID(), true
		f.Latest = v
		out = s.configOut(f, v, f.arn())
		return nil
	})
	if err != nil {
		return nil, err
	}
	out["LastUpdateStatus"] = "InProgress"
	out["LastUpdateStatusReason"] = "The function is being created."
	out["LastUpdateStatusReasonCode"] = "Creating"
	return out, nil
}

func (s *Service) deleteFunction(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), service.Str(r.Input, "Qualifier"))
	if err != nil {
		return nil, err
	}
	if ref.qualifier == latest {
		return nil, errInvalid("$LATEST version cannot be deleted without deleting the function.")
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	f := s.lookup(ref.key)
	if f == nil {
		return nil, errFunctionNotFound(ref.arn())
	}
	if ref.qualifier != "" {
		if _, err := strconv.Atoi(ref.qualifier); err != nil {
			return nil, errInvalid("Deletion of aliases is not currently supported.")
		}
		v := f.lookupVersion(ref.qualifier)
		if v == nil {
			return nil, errFunctionNotFound(ref.arn())
		}
		var users []string
		for _, a := range f.Aliases {
			if a.Version == v.Version {
				users = append(users, a.Name)
				continue
			}
			if _, ok := a.Weights[v.Version]; ok {
				users = append(users, a.Name)
			}
		}
		if len(users) > 0 {
			sort.Strings(users)
			return nil, errConflict("Unable to delete version because the following aliases reference it: [%s]", strings.Join(users, ", "))
		}
		nf := f.clone()
		nf.Versions = slices.DeleteFunc(nf.Versions, func(x *version) bool { return x == v })
		if err := s.put(ref.key, nf); err != nil {
			return nil, err
		}
		s.blobs.Delete(v.CodeKey)
		s.pool.retire(ref.key, v.Version)
		return map[string]any{"StatusCode": int64(204)}, nil
	}
	if err := s.put(ref.key, nil); err != nil {
		return nil, err
	}
	keys := map[string]bool{f.Latest.CodeKey: true}
	for _, v := range f.Versions {
		keys[v.CodeKey] = true
	}
	for k := range keys {
		s.blobs.Delete(k)
	}
	s.pool.retire(ref.key, "")
	s.async.forget(ref.key)
	return map[string]any{"StatusCode": int64(204)}, nil
}

func (s *Service) publishVersion(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), "")
	if err != nil {
		return nil, err
	}
	var out map[string]any
	_, err = s.mutate(ref.key, ref.arn(), func(f *function) error {
		if err := checkRevision(r.Input, f.Latest.RevisionID, "GetFunction/GetAlias"); err != nil {
			return err
		}
		if sha := service.Str(r.Input, "CodeSha256"); sha != "" && sha != f.Latest.CodeSha256 {
			return errInvalid("CodeSHA256 (%s) is different from current CodeSHA256 in $LATEST (%s). Please try again", sha, f.Latest.CodeSha256)
		}
		if n := len(f.Versions); n > 0 && !f.Latest.Updated && f.Versions[n-1].CodeSha256 == f.Latest.CodeSha256 && f.Versions[n-1].LastModified.Equal(f.Latest.LastModified) {
			last := f.Versions[n-1]
			out = s.configOut(f, last, f.arn()+":"+last.Version)
			return nil
		}
		pv := s.newVersion(f, service.Str(r.Input, "Description"))
		pv.LastModified = f.Latest.LastModified
		f.Versions = append(f.Versions, pv)
		lv := f.Latest.clone()
		lv.Updated = false
		f.Latest = lv
		out = s.configOut(f, pv, f.arn()+":"+pv.Version)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) listVersionsByFunction(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), "")
	if err != nil {
		return nil, err
	}
	f := s.lookup(ref.key)
	if f == nil {
		return nil, errFunctionNotFound(ref.arn())
	}
	vs := append([]*version{f.Latest}, f.Versions...)
	name := func(i int) string {
		if vs[i].Version == latest {
			return ""
		}
		n, _ := strconv.Atoi(vs[i].Version)
		return fmt.Sprintf("%010d", n)
	}
	lo, hi, next, err := page(r.Input, service.Str(r.Input, "Marker"), len(vs), name, 50)
	if err != nil {
		return nil, err
	}
	list := make([]any, 0, hi-lo)
	for _, v := range vs[lo:hi] {
		list = append(list, s.configOut(f, v, f.arn()+":"+v.Version))
	}
	out := map[string]any{"Versions": list}
	if next != "" {
		out["NextMarker"] = next
	}
	return out, nil
}

// decodeMarker undoes the encoding ListFunctions puts on its markers.
func decodeMarker(m string) string {
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil {
		return m
	}
	return string(b)
}
