package elb

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/storage"
)

// The stored resources. Each is one JSON value in the KV store under its
// account and region; the in-memory maps of Service mirror them.

type tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

type subnet struct {
	ID string `json:"id"`
	AZ string `json:"az"`
}

type loadBalancer struct {
	ARN            string            `json:"arn"`
	Account        string            `json:"account"`
	Region         string            `json:"region"`
	Name           string            `json:"name"`
	Type           string            `json:"type"` // application, network, classic
	Scheme         string            `json:"scheme"`
	IPAddressType  string            `json:"ipType"`
	VpcID          string            `json:"vpc"`
	DNSName        string            `json:"dns"`
	Created        time.Time         `json:"created"`
	Subnets        []subnet          `json:"subnets"`
	SecurityGroups []string          `json:"sgs,omitempty"`
	Attrs          map[string]string `json:"attrs"`
	Tags           []tag             `json:"tags,omitempty"`
	// Classic holds the classic load balancer's own configuration.
	Classic *classicConfig `json:"classic,omitempty"`
}

type healthCheck struct {
	Enabled   bool   `json:"enabled"`
	Protocol  string `json:"protocol"`
	Port      string `json:"port"` // "traffic-port" or a number
	Path      string `json:"path"`
	Interval  int    `json:"interval"`
	Timeout   int    `json:"timeout"`
	Healthy   int    `json:"healthy"`
	Unhealthy int    `json:"unhealthy"`
	Matcher   string `json:"matcher"`
}

type targetReg struct {
	ID   string `json:"id"`
	Port int    `json:"port"`
	AZ   string `json:"az,omitempty"`
}

type targetGroup struct {
	ARN             string            `json:"arn"`
	Account         string            `json:"account"`
	Region          string            `json:"region"`
	Name            string            `json:"name"`
	Protocol        string            `json:"protocol"`
	ProtocolVersion string            `json:"protocolVersion,omitempty"`
	Port            int               `json:"port"`
	VpcID           string            `json:"vpc"`
	TargetType      string            `json:"targetType"`
	IPAddressType   string            `json:"ipType,omitempty"`
	HC              healthCheck       `json:"hc"`
	Attrs           map[string]string `json:"attrs"`
	Targets         []targetReg       `json:"targets,omitempty"`
	Tags            []tag             `json:"tags,omitempty"`
	// Classic names the classic load balancer that owns this hidden group.
	Classic string `json:"classic,omitempty"`
}

type tgWeight struct {
	ARN    string `json:"arn"`
	Weight int    `json:"weight"`
}

type forwardConfig struct {
	TargetGroups   []tgWeight `json:"tgs"`
	Sticky         bool       `json:"sticky,omitempty"`
	StickyDuration int        `json:"stickyDuration,omitempty"`
	// HasConfig records whether the client sent a ForwardConfig.
	HasConfig bool `json:"hasConfig,omitempty"`
}

type redirectConfig struct {
	Protocol   string `json:"protocol"`
	Port       string `json:"port"`
	Host       string `json:"host"`
	Path       string `json:"path"`
	Query      string `json:"query"`
	StatusCode string `json:"status"`
}

type fixedConfig struct {
	Body        string `json:"body,omitempty"`
	StatusCode  string `json:"status"`
	ContentType string `json:"contentType,omitempty"`
}

type action struct {
	Type     string          `json:"type"`
	Order    int             `json:"order,omitempty"`
	Forward  *forwardConfig  `json:"forward,omitempty"`
	Redirect *redirectConfig `json:"redirect,omitempty"`
	Fixed    *fixedConfig    `json:"fixed,omitempty"`
	// PortOverride sends forwarded traffic to this target port (classic
	// listeners' InstancePort).
	PortOverride int `json:"portOverride,omitempty"`
}

type listener struct {
	ARN            string   `json:"arn"`
	LBARN          string   `json:"lb"`
	Protocol       string   `json:"protocol"`
	Port           int      `json:"port"`
	SSLPolicy      string   `json:"sslPolicy,omitempty"`
	Certificates   []string `json:"certs,omitempty"`
	AlpnPolicy     []string `json:"alpn,omitempty"`
	DefaultActions []action `json:"actions"`
	Tags           []tag    `json:"tags,omitempty"`
	// DefaultRuleARN is the ARN of the listener's default rule.
	DefaultRuleARN string `json:"defaultRule"`
	// InstanceProtocol is the classic listener's back-end protocol.
	InstanceProtocol string `json:"instanceProtocol,omitempty"`
}

type kvPair struct {
	Key   string `json:"k,omitempty"`
	Value string `json:"v"`
}

type condition struct {
	Field      string   `json:"field"`
	Values     []string `json:"values,omitempty"`
	HeaderName string   `json:"header,omitempty"`
	Query      []kvPair `json:"query,omitempty"`
	// Legacy records that the condition was given as Field/Values only.
	Legacy bool `json:"legacy,omitempty"`
}

type rule struct {
	ARN         string      `json:"arn"`
	ListenerARN string      `json:"listener"`
	Priority    int         `json:"priority"`
	Conditions  []condition `json:"conditions"`
	Actions     []action    `json:"actions"`
	Tags        []tag       `json:"tags,omitempty"`
}

type classicListener struct {
	Protocol         string `json:"protocol"`
	Port             int    `json:"port"`
	InstanceProtocol string `json:"instanceProtocol"`
	InstancePort     int    `json:"instancePort"`
	SSLCertificateID string `json:"cert,omitempty"`
}

type classicConfig struct {
	Listeners   []classicListener `json:"listeners"`
	AZs         []string          `json:"azs"`
	HealthCheck classicHealth     `json:"hc"`
	TargetGroup string            `json:"tg"`
}

type classicHealth struct {
	Target    string `json:"target"`
	Interval  int    `json:"interval"`
	Timeout   int    `json:"timeout"`
	Healthy   int    `json:"healthy"`
	Unhealthy int    `json:"unhealthy"`
}

// Key kinds in the store.
const (
	kindLB       = "lb"
	kindTG       = "tg"
	kindListener = "listener"
	kindRule     = "rule"
)

const serviceName = "elasticloadbalancing"

func scopeOf(account, region string) storage.Scope {
	return storage.Scope{Service: serviceName, Account: account, Region: region}
}

// write is one pending change to the store: a value to put, or a delete
// when v is nil.
type write struct {
	key []byte
	v   any
}

func putW(account, region, kind, arn string, v any) write {
	return write{key: scopeOf(account, region).Key(kind, arn), v: v}
}

func delW(account, region, kind, arn string) write {
	return write{key: scopeOf(account, region).Key(kind, arn)}
}

// commit stores writes in one transaction.
func (s *Service) commit(ws ...write) error {
	bufs := make([][]byte, len(ws))
	for i, w := range ws {
		if w.v == nil {
			continue
		}
		b, err := json.Marshal(w.v)
		if err != nil {
			return err
		}
		bufs[i] = b
	}
	return s.kv.Update(func(tx storage.Tx) error {
		for i, w := range ws {
			if w.v == nil {
				if err := tx.Delete(w.key); err != nil {
					return err
				}
				continue
			}
			if err := tx.Put(w.key, bufs[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// load reads every stored resource into the in-memory maps.
func (s *Service) load() error {
	start, end := storage.ServiceRange(serviceName)
	return s.kv.View(func(tx storage.Tx) error {
		var ferr error
		err := tx.Scan(start, end, func(k, v []byte) bool {
			_, parts, err := storage.DecodeKey(k)
			if err != nil || len(parts) < 2 {
				return true
			}
			switch parts[0] {
			case kindLB:
				var lb loadBalancer
				ferr = json.Unmarshal(v, &lb)
				s.lbs[lb.ARN] = &lb
			case kindTG:
				var tg targetGroup
				ferr = json.Unmarshal(v, &tg)
				s.tgs[tg.ARN] = &tg
			case kindListener:
				var l listener
				ferr = json.Unmarshal(v, &l)
				s.listeners[l.ARN] = &l
			case kindRule:
				var r rule
				ferr = json.Unmarshal(v, &r)
				s.rules[r.ARN] = &r
			}
			if ferr != nil {
				ferr = fmt.Errorf("decode %s %s: %w", parts[0], parts[1], ferr)
				return false
			}
			return true
		})
		if err != nil {
			return err
		}
		return ferr
	})
}

// arnInfo is what an ELB ARN says.
type arnInfo struct {
	region, account, resource string
}

func parseARN(arn string) (arnInfo, bool) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[2] != serviceName {
		return arnInfo{}, false
	}
	return arnInfo{region: p[3], account: p[4], resource: p[5]}, true
}

func inScope(arn, account, region string) bool {
	a, ok := parseARN(arn)
	return ok && a.account == account && a.region == region
}

func cloneTags(t []tag) []tag { return append([]tag(nil), t...) }

func cloneAttrs(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
