package lambda

import (
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

type layerKey struct{ account, region, name string }

// layer is a layer and its versions, stored as one record.
type layer struct {
	Account  string          `json:"account"`
	Region   string          `json:"region"`
	Name     string          `json:"name"`
	Versions []*layerVersion `json:"versions"`
	Next     int64           `json:"next"`
}

type layerVersion struct {
	Version       int64     `json:"version"`
	Description   string    `json:"description,omitempty"`
	CodeKey       string    `json:"codeKey"`
	CodeSha256    string    `json:"codeSha256"`
	CodeSize      int64     `json:"codeSize"`
	Created       time.Time `json:"created"`
	Runtimes      []string  `json:"runtimes,omitempty"`
	Architectures []string  `json:"architectures,omitempty"`
	License       string    `json:"license,omitempty"`
}

var layerNameRe = regexp.MustCompile(`^[a-zA-Z0-9-_]{1,140}$`)

func layerARN(account, region, name string) string {
	return "arn:" + partition(region) + ":lambda:" + region + ":" + account + ":layer:" + name
}

func (l *layer) find(v int64) *layerVersion {
	for _, lv := range l.Versions {
		if lv.Version == v {
			return lv
		}
	}
	return nil
}

// layerByARN resolves a layer version ARN a function references.
func (s *Service) layerByARN(a string) (*layerVersion, error) {
	p := strings.Split(a, ":")
	if len(p) != 8 || p[0] != "arn" || p[2] != "lambda" || p[5] != "layer" {
		return nil, errValidation(a, "layers", "Member must satisfy regular expression pattern: arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+")
	}
	n, err := strconv.ParseInt(p[7], 10, 64)
	if err != nil {
		return nil, errValidation(a, "layers", "Member must satisfy regular expression pattern: arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+")
	}
	s.mu.RLock()
	l := s.layers[layerKey{p[4], p[3], p[6]}]
	s.mu.RUnlock()
	if l != nil {
		if lv := l.find(n); lv != nil {
			return lv, nil
		}
	}
	return nil, errInvalid("Layer version %s does not exist.", a)
}

func (s *Service) putLayer(l *layer) error {
	k := scope(l.Account, l.Region).Key("layer", l.Name)
	err := s.kv.Update(func(tx storage.Tx) error {
		if len(l.Versions) == 0 && l.Next == 0 {
			return tx.Delete(k)
		}
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		return tx.Put(k, b)
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.layers[layerKey{l.Account, l.Region, l.Name}] = l
	s.mu.Unlock()
	return nil
}

func (s *Service) layerVersionOut(l *layer, lv *layerVersion, withContent bool) map[string]any {
	arn := layerARN(l.Account, l.Region, l.Name)
	out := map[string]any{
		"LayerVersionArn": arn + ":" + strconv.FormatInt(lv.Version, 10),
		"Version":         lv.Version,
		"Description":     lv.Description,
		"CreatedDate":     lv.Created.Format("2006-01-02T15:04:05.000-0700"),
	}
	if len(lv.Runtimes) > 0 {
		out["CompatibleRuntimes"] = toAnys(lv.Runtimes)
	}
	if len(lv.Architectures) > 0 {
		out["CompatibleArchitectures"] = toAnys(lv.Architectures)
	}
	if lv.License != "" {
		out["LicenseInfo"] = lv.License
	}
	if withContent {
		out["LayerArn"] = arn
		out["Content"] = map[string]any{
			"Location":   s.endpointURL() + "/_overcast/lambda/layer/" + l.Account + "/" + l.Region + "/" + l.Name + "/" + strconv.FormatInt(lv.Version, 10),
			"CodeSha256": lv.CodeSha256,
			"CodeSize":   lv.CodeSize,
		}
	}
	return out
}

func (s *Service) publishLayerVersion(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "LayerName")
	if !layerNameRe.MatchString(name) {
		return nil, errValidation(name, "layerName", "Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+")
	}
	content, _ := r.Input["Content"].(map[string]any)
	if content == nil {
		return nil, errValidation("null", "content", "Member must not be null")
	}
	zb, err := s.codeSource(r, content)
	if err != nil {
		return nil, err
	}
	if err := checkZip(zb); err != nil {
		return nil, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.RLock()
	cur := s.layers[layerKey{r.Account, r.Region, name}]
	s.mu.RUnlock()
	l := &layer{Account: r.Account, Region: r.Region, Name: name}
	if cur != nil {
		c := *cur
		c.Versions = append([]*layerVersion(nil), cur.Versions...)
		l = &c
	}
	l.Next++
	lv := &layerVersion{Version: l.Next, Description: service.Str(r.Input, "Description"), CodeSha256: sha256b64(zb), CodeSize: int64(len(zb)),
		Created: s.clk.Now().UTC(), Runtimes: service.Strings(r.Input, "CompatibleRuntimes"), Architectures: service.Strings(r.Input, "CompatibleArchitectures"),
		License: service.Str(r.Input, "LicenseInfo")}
	lv.CodeKey = "lambda/" + r.Account + "/" + r.Region + "/layer/" + name + "/" + strconv.FormatInt(lv.Version, 10) + "/" + newID()
	if _, err := s.blobs.Put(lv.CodeKey, strings.NewReader(string(zb))); err != nil {
		return nil, err
	}
	l.Versions = append(l.Versions, lv)
	if err := s.putLayer(l); err != nil {
		return nil, err
	}
	return s.layerVersionOut(l, lv, true), nil
}

func (s *Service) findLayerVersion(account, region, name string, v int64) (*layer, *layerVersion, error) {
	s.mu.RLock()
	l := s.layers[layerKey{account, region, name}]
	s.mu.RUnlock()
	if l != nil {
		if lv := l.find(v); lv != nil {
			return l, lv, nil
		}
	}
	return nil, nil, errNotFound("The resource you requested does not exist.")
}

func (s *Service) getLayerVersion(r *service.Request) (map[string]any, error) {
	v, _ := service.Int(r.Input, "VersionNumber")
	l, lv, err := s.findLayerVersion(r.Account, r.Region, service.Str(r.Input, "LayerName"), v)
	if err != nil {
		return nil, err
	}
	return s.layerVersionOut(l, lv, true), nil
}

func (s *Service) getLayerVersionByArn(r *service.Request) (map[string]any, error) {
	a := service.Str(r.Input, "Arn")
	p := strings.Split(a, ":")
	if len(p) != 8 || p[5] != "layer" {
		return nil, errValidation(a, "arn", "Member must satisfy regular expression pattern: arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+")
	}
	v, _ := strconv.ParseInt(p[7], 10, 64)
	l, lv, err := s.findLayerVersion(p[4], p[3], p[6], v)
	if err != nil {
		return nil, err
	}
	return s.layerVersionOut(l, lv, true), nil
}

func (s *Service) listLayerVersions(r *service.Request) (map[string]any, error) {
	s.mu.RLock()
	l := s.layers[layerKey{r.Account, r.Region, service.Str(r.Input, "LayerName")}]
	s.mu.RUnlock()
	list := []any{}
	if l != nil {
		for i := len(l.Versions) - 1; i >= 0; i-- {
			list = append(list, s.layerVersionOut(l, l.Versions[i], false))
		}
	}
	return map[string]any{"LayerVersions": list}, nil
}

func (s *Service) listLayers(r *service.Request) (map[string]any, error) {
	s.mu.RLock()
	var ls []*layer
	for k, l := range s.layers {
		if k.account == r.Account && k.region == r.Region && len(l.Versions) > 0 {
			ls = append(ls, l)
		}
	}
	s.mu.RUnlock()
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	list := make([]any, 0, len(ls))
	for _, l := range ls {
		list = append(list, map[string]any{
			"LayerName":             l.Name,
			"LayerArn":              layerARN(l.Account, l.Region, l.Name),
			"LatestMatchingVersion": s.layerVersionOut(l, l.Versions[len(l.Versions)-1], false),
		})
	}
	return map[string]any{"Layers": list}, nil
}

func (s *Service) deleteLayerVersion(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "LayerName")
	v, _ := service.Int(r.Input, "VersionNumber")
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.RLock()
	cur := s.layers[layerKey{r.Account, r.Region, name}]
	s.mu.RUnlock()
	if cur == nil || cur.find(v) == nil {
		return nil, nil // deleting a missing version succeeds, as in Lambda
	}
	c := *cur
	c.Versions = nil
	for _, lv := range cur.Versions {
		if lv.Version != v {
			c.Versions = append(c.Versions, lv)
		}
	}
	// Functions keep using the content they were created with, as in Lambda:
	// the blob stays until no version references it (not tracked: kept).
	return nil, s.putLayer(&c)
}
