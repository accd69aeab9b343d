package elb

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// listenerRuntime is a listener's socket and its route table.
type listenerRuntime struct {
	s        *Service
	lb       *lbRuntime
	arn      string
	protocol string
	port     int
	portStr  string
	http     bool

	ln    net.Listener
	srv   *http.Server
	addr  string
	table atomic.Pointer[routeTable]

	fwdPort  []string
	fwdProto []string
	trace    traceIDs

	// TCP (NLB) connections, closed on close.
	connMu sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// openListener binds the listener: its own port on the listen host when
// free, else an ephemeral port.
func (s *Service) openListener(lb *lbRuntime, l *listener) (*listenerRuntime, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(s.listenOn, strconv.Itoa(l.Port)))
	if err != nil {
		ln, err = net.Listen("tcp", net.JoinHostPort(s.listenOn, "0"))
		if err != nil {
			return nil, err
		}
	}
	rt := &listenerRuntime{
		s: s, lb: lb, arn: l.ARN, protocol: l.Protocol, port: l.Port, portStr: strconv.Itoa(l.Port),
		http: l.Protocol == "HTTP" || l.Protocol == "HTTPS", ln: ln, addr: ln.Addr().String(),
		fwdPort: []string{strconv.Itoa(l.Port)}, conns: map[net.Conn]struct{}{},
	}
	rt.table.Store(&routeTable{})
	rt.trace.hi, rt.trace.base = mrand.Uint32(), mrand.Uint64()
	switch l.Protocol {
	case "HTTP", "HTTPS":
		rt.fwdProto = []string{"http"}
		if l.Protocol == "HTTPS" {
			rt.fwdProto = []string{"https"}
			cert, err := s.certificate()
			if err != nil {
				ln.Close()
				return nil, err
			}
			ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*cert}, NextProtos: []string{"http/1.1"}})
		}
		rt.srv = &http.Server{
			Handler:           rt,
			ReadHeaderTimeout: 60 * time.Second,
			IdleTimeout:       60 * time.Second,
			ErrorLog:          log.New(io.Discard, "", 0),
			ConnState:         rt.connState,
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			rt.srv.Serve(ln)
		}()
	default:
		s.wg.Add(1)
		go rt.acceptTCP()
	}
	return rt, nil
}

func (l *listenerRuntime) connState(c net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		l.lb.m.newConns.Add(1)
		l.lb.m.active.Add(1)
	case http.StateClosed, http.StateHijacked:
		l.lb.m.active.Add(-1)
	}
}

// close stops accepting, closes connections and waits for TCP proxies.
func (l *listenerRuntime) close() {
	if l.srv != nil {
		l.srv.Close()
		return
	}
	l.ln.Close()
	l.connMu.Lock()
	l.closed = true
	for c := range l.conns {
		c.Close()
	}
	l.connMu.Unlock()
	l.wg.Wait()
}

// Addr returns the listener's actual address.
func (l *listenerRuntime) Addr() string { return l.addr }

// certHolder is the self-signed certificate HTTPS listeners serve.
type certHolder struct {
	cert *tls.Certificate
	err  error
}

func (s *Service) certificate() (*tls.Certificate, error) {
	s.certOnce.Do(func() {
		s.cert = &certHolder{}
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			s.cert.err = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(time.Now().UnixNano()),
			Subject:      pkix.Name{CommonName: "*" + dnsSuffix, Organization: []string{"Overcast"}},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(10 * 365 * 24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			DNSNames:     []string{"*" + dnsSuffix, "*.us-east-1" + dnsSuffix, "localhost"},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			s.cert.err = err
			return
		}
		s.cert.cert = &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	})
	if s.cert.err != nil {
		return nil, fmt.Errorf("listener certificate: %w", s.cert.err)
	}
	return s.cert.cert, nil
}

// ListenerAddr returns the host:port a listener actually listens on.
func (s *Service) ListenerAddr(listenerARN string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := s.lnRT[listenerARN]
	if rt == nil {
		return "", false
	}
	return rt.addr, true
}

// LoadBalancerInfo is what introspection reports about a load balancer.
type LoadBalancerInfo struct {
	ARN       string            `json:"arn"`
	Name      string            `json:"name"`
	DNSName   string            `json:"dnsName"`
	Type      string            `json:"type"`
	Listeners map[string]string `json:"listeners"` // port → actual address
}

// LoadBalancers lists the account's and region's load balancers with the
// addresses their listeners really listen on.
func (s *Service) LoadBalancers(account, region string) []LoadBalancerInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []LoadBalancerInfo
	for _, lb := range s.lbs {
		if lb.Account != account || lb.Region != region {
			continue
		}
		typ := lb.Type
		if lb.Classic != nil {
			typ = "classic"
		}
		info := LoadBalancerInfo{ARN: lb.ARN, Name: lb.Name, DNSName: lb.DNSName, Type: typ, Listeners: map[string]string{}}
		for arn, l := range s.listeners {
			if l.LBARN == lb.ARN {
				if rt := s.lnRT[arn]; rt != nil {
					info.Listeners[strconv.Itoa(l.Port)] = rt.addr
				}
			}
		}
		out = append(out, info)
	}
	return out
}

var errClosed = errors.New("listener closed")
