package lambda

import (
	"maps"
	"slices"
	"strconv"
	"time"
)

// fnKey identifies a function: AWS partitions functions by account and
// region.
type fnKey struct {
	account, region, name string
}

// function is one function and everything hung on it, stored as one record.
// A *function held by the index is immutable: writers clone, change and swap.
type function struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Name    string `json:"name"`

	Latest      *version          `json:"latest"`
	Versions    []*version        `json:"versions,omitempty"` // published, ascending
	NextVersion int               `json:"nextVersion"`
	Aliases     map[string]*alias `json:"aliases,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	// Reserved is the reserved concurrency, nil when none is set.
	Reserved *int64 `json:"reserved,omitempty"`
	// Policy holds the resource policy's statements by Sid, in add order.
	Policy         []statement           `json:"policy,omitempty"`
	PolicyRevision string                `json:"policyRevision,omitempty"`
	EventInvoke    map[string]*invokeCfg `json:"eventInvoke,omitempty"` // by qualifier
	URLs           map[string]*urlConfig `json:"urls,omitempty"`        // by qualifier, "" for none
	Provisioned    map[string]*provCfg   `json:"provisioned,omitempty"` // by qualifier
	Created        time.Time             `json:"created"`
}

// version is a function's configuration and code: $LATEST or a published
// version.
type version struct {
	Version          string            `json:"version"`
	Runtime          string            `json:"runtime,omitempty"`
	Role             string            `json:"role"`
	Handler          string            `json:"handler,omitempty"`
	Description      string            `json:"description,omitempty"`
	Timeout          int64             `json:"timeout"`
	MemorySize       int64             `json:"memorySize"`
	EphemeralStorage int64             `json:"ephemeralStorage"`
	Env              map[string]string `json:"env,omitempty"`
	Layers           []layerRef        `json:"layers,omitempty"`
	Architectures    []string          `json:"architectures,omitempty"`
	PackageType      string            `json:"packageType"`
	CodeSha256       string            `json:"codeSha256"`
	CodeSize         int64             `json:"codeSize"`
	// CodeKey is the blob holding the zip.
	CodeKey      string    `json:"codeKey"`
	LastModified time.Time `json:"lastModified"`
	RevisionID   string    `json:"revisionId"`
	DeadLetter   string    `json:"deadLetter,omitempty"`
	TracingMode  string    `json:"tracingMode,omitempty"`
	LogFormat    string    `json:"logFormat,omitempty"`
	LogGroup     string    `json:"logGroup,omitempty"`
	// Updated is set on $LATEST by an update, so the response to the update
	// says InProgress and later reads say Successful.
	Updated bool `json:"updated,omitempty"`
}

type layerRef struct {
	Arn      string `json:"arn"`
	CodeSize int64  `json:"codeSize"`
	// CodeKey is the layer version's zip blob.
	CodeKey    string `json:"codeKey"`
	CodeSha256 string `json:"codeSha256"`
}

type alias struct {
	Name        string             `json:"name"`
	Version     string             `json:"version"`
	Description string             `json:"description,omitempty"`
	Weights     map[string]float64 `json:"weights,omitempty"`
	RevisionID  string             `json:"revisionId"`
}

type statement struct {
	Sid  string `json:"sid"`
	JSON string `json:"json"` // the statement document
	// Qualifier the permission was added for ("" is the unqualified function).
	Qualifier string `json:"qualifier,omitempty"`
}

type invokeCfg struct {
	MaxRetries   *int64    `json:"maxRetries,omitempty"`
	MaxAge       *int64    `json:"maxAge,omitempty"`
	OnSuccess    string    `json:"onSuccess,omitempty"`
	OnFailure    string    `json:"onFailure,omitempty"`
	LastModified time.Time `json:"lastModified"`
}

type urlConfig struct {
	AuthType   string    `json:"authType"`
	InvokeMode string    `json:"invokeMode,omitempty"`
	Cors       any       `json:"cors,omitempty"`
	ID         string    `json:"id"`
	Created    time.Time `json:"created"`
	Modified   time.Time `json:"modified"`
}

// clone returns a copy of f whose slices and maps may be changed without
// touching f; the *version values are shared and must be replaced, not
// changed.
func (f *function) clone() *function {
	c := *f
	c.Versions = slices.Clone(f.Versions)
	c.Aliases = maps.Clone(f.Aliases)
	c.Tags = maps.Clone(f.Tags)
	c.Policy = slices.Clone(f.Policy)
	c.EventInvoke = maps.Clone(f.EventInvoke)
	c.URLs = maps.Clone(f.URLs)
	c.Provisioned = maps.Clone(f.Provisioned)
	if f.Reserved != nil {
		r := *f.Reserved
		c.Reserved = &r
	}
	return &c
}

func (v *version) clone() *version {
	c := *v
	c.Env = maps.Clone(v.Env)
	c.Layers = slices.Clone(v.Layers)
	c.Architectures = slices.Clone(v.Architectures)
	return &c
}

// key returns f's index key.
func (f *function) key() fnKey { return fnKey{f.Account, f.Region, f.Name} }

// arn returns the unqualified function ARN.
func (f *function) arn() string { return functionARN(f.Account, f.Region, f.Name) }

// lookupVersion returns the published version v, or $LATEST.
func (f *function) lookupVersion(q string) *version {
	if q == "" || q == latest {
		return f.Latest
	}
	n, err := strconv.Atoi(q)
	if err != nil {
		return nil
	}
	i, ok := slices.BinarySearchFunc(f.Versions, n, func(v *version, n int) int {
		m, _ := strconv.Atoi(v.Version)
		return m - n
	})
	if !ok {
		return nil
	}
	return f.Versions[i]
}

const latest = "$LATEST"

func functionARN(account, region, name string) string {
	return "arn:" + partition(region) + ":lambda:" + region + ":" + account + ":function:" + name
}
