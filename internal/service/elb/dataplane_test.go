package elb_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

func TestALBRoutingByRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	web, api, admin := newBackend(t, "web", nil), newBackend(t, "api", nil), newBackend(t, "admin", nil)
	lb := e.lb("rules", "")
	tgWeb, tgAPI, tgAdmin := e.tg("web", "HTTP", 80), e.tg("api", "HTTP", 80), e.tg("admin", "HTTP", 80)
	e.register(tgWeb, web)
	e.register(tgAPI, api)
	e.register(tgAdmin, admin)
	lARN, addr := e.listener(*lb.LoadBalancerArn, "HTTP", 18081, forward(tgWeb))
	rule := func(prio int32, act types.Action, conds ...types.RuleCondition) {
		t.Helper()
		if _, err := e.v2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: &lARN, Priority: aws.Int32(prio), Conditions: conds, Actions: []types.Action{act}}); err != nil {
			t.Fatalf("CreateRule %d: %v", prio, err)
		}
	}
	rule(5, forward(tgAPI), types.RuleCondition{Field: aws.String("path-pattern"), PathPatternConfig: &types.PathPatternConditionConfig{Values: []string{"/api/*"}}})
	rule(3, forward(tgAdmin), types.RuleCondition{Field: aws.String("host-header"), HostHeaderConfig: &types.HostHeaderConditionConfig{Values: []string{"admin.*.com"}}})
	rule(7, forward(tgAdmin), types.RuleCondition{Field: aws.String("http-header"), HttpHeaderConfig: &types.HttpHeaderConditionConfig{HttpHeaderName: aws.String("X-Role"), Values: []string{"ops"}}})
	rule(8, forward(tgAPI), types.RuleCondition{Field: aws.String("query-string"), QueryStringConfig: &types.QueryStringConditionConfig{Values: []types.QueryStringKeyValuePair{{Key: aws.String("v"), Value: aws.String("2*")}}}})
	rule(9, types.Action{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("405"), ContentType: aws.String("application/json"), MessageBody: aws.String(`{"no":"deletes"}`)}},
		types.RuleCondition{Field: aws.String("http-request-method"), HttpRequestMethodConfig: &types.HttpRequestMethodConditionConfig{Values: []string{"DELETE"}}})
	rule(10, types.Action{Type: types.ActionTypeEnumRedirect, RedirectConfig: &types.RedirectActionConfig{Protocol: aws.String("HTTPS"), Port: aws.String("443"), StatusCode: types.RedirectActionStatusCodeEnumHttp301}},
		types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/secure*"}})
	rule(11, types.Action{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("403")}},
		types.RuleCondition{Field: aws.String("source-ip"), SourceIpConfig: &types.SourceIpConditionConfig{Values: []string{"127.0.0.0/8"}}},
		types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/internal-only"}})
	for _, ip := range []string{web.ip, api.ip, admin.ip} {
		_ = ip
	}
	e.waitState(tgWeb, web.ip, "healthy")
	e.waitState(tgAPI, api.ip, "healthy")
	e.waitState(tgAdmin, admin.ip, "healthy")

	base := "http://" + addr
	cases := []struct {
		path   string
		hdr    []string
		method string
		status int
		body   string
	}{
		{"/", nil, "", 200, "web"},
		{"/api/users", nil, "", 200, "api"},
		{"/API/users", nil, "", 200, "web"}, // paths are case-sensitive
		{"/", []string{"Host", "admin.example.com"}, "", 200, "admin"},
		{"/", []string{"X-Role", "OPS"}, "", 200, "admin"},
		{"/?v=2.1", nil, "", 200, "api"},
		{"/x", nil, "DELETE", 405, `{"no":"deletes"}`},
		{"/internal-only", nil, "", 403, ""},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodGet, base+c.path, nil)
		if c.method != "" {
			req.Method = c.method
		}
		for i := 0; i+1 < len(c.hdr); i += 2 {
			if c.hdr[i] == "Host" {
				req.Host = c.hdr[i+1]
			} else {
				req.Header.Set(c.hdr[i], c.hdr[i+1])
			}
		}
		resp, err := plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || string(b) != c.body {
			t.Errorf("%s %s %v: got %d %q, want %d %q", c.method, c.path, c.hdr, resp.StatusCode, b, c.status, c.body)
		}
	}
	st, _, h := get(t, base+"/secure/page?a=1", "Host", "shop.example.com")
	if st != 301 || h.Get("Location") != "https://shop.example.com/secure/page?a=1" {
		t.Errorf("redirect %d %q", st, h.Get("Location"))
	}
}

func TestALBForwardsHeadersAndBodies(t *testing.T) {
	e := newEnv(t)
	var seen http.Header
	var host string
	b := newBackend(t, "echo", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			return
		}
		seen = r.Header.Clone()
		host = r.Host
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Seen", "yes")
		w.Write(b)
	})
	lb := e.lb("hdrs", "")
	tg := e.tg("echo", "HTTP", 80)
	e.register(tg, b)
	_, addr := e.listener(*lb.LoadBalancerArn, "HTTP", 18082, forward(tg))
	e.waitState(tg, b.ip, "healthy")
	body := strings.Repeat("x", 1<<20)
	req, _ := http.NewRequest("POST", "http://"+addr+"/upload?q=1", strings.NewReader(body))
	req.Host = "app.example.com"
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	resp, err := plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(got) != len(body) || resp.Header.Get("X-Seen") != "yes" {
		t.Fatalf("status %d len %d", resp.StatusCode, len(got))
	}
	if host != "app.example.com" {
		t.Errorf("Host = %q", host)
	}
	if v := seen.Get("X-Forwarded-For"); v != "203.0.113.7, 127.0.0.1" {
		t.Errorf("X-Forwarded-For = %q", v)
	}
	if seen.Get("X-Forwarded-Proto") != "http" || seen.Get("X-Forwarded-Port") != "18082" {
		t.Errorf("X-Forwarded-Proto/Port = %q %q", seen.Get("X-Forwarded-Proto"), seen.Get("X-Forwarded-Port"))
	}
	if v := seen.Get("X-Amzn-Trace-Id"); !strings.HasPrefix(v, "Root=1-") || len(v) != 40 {
		t.Errorf("X-Amzn-Trace-Id = %q", v)
	}
}

func TestRoundRobinAndFailover(t *testing.T) {
	e := newEnv(t)
	b1, b2, b3 := newBackend(t, "b1", nil), newBackend(t, "b2", nil), newBackend(t, "b3", nil)
	lb := e.lb("rr", "")
	tg := e.tg("rr", "HTTP", 80)
	e.register(tg, b1, b2, b3)
	_, addr := e.listener(*lb.LoadBalancerArn, "HTTP", 18083, forward(tg))
	for _, b := range []*backend{b1, b2, b3} {
		e.waitState(tg, b.ip, "healthy")
	}
	for i := 0; i < 30; i++ {
		if st, _, _ := get(t, "http://"+addr+"/"); st != 200 {
			t.Fatalf("status %d", st)
		}
	}
	for _, b := range []*backend{b1, b2, b3} {
		if n := b.hits.Load(); n != 10 {
			t.Errorf("%s got %d of 30 requests, want 10", b.name, n)
		}
	}
	// Stop b2: health checks mark it unhealthy and traffic avoids it.
	b2.Close()
	e.waitState(tg, b2.ip, "unhealthy")
	out, _ := e.v2.DescribeTargetHealth(context.Background(), &elbv2.DescribeTargetHealthInput{TargetGroupArn: &tg})
	for _, d := range out.TargetHealthDescriptions {
		if *d.Target.Id == b2.ip && (d.TargetHealth.Reason != types.TargetHealthReasonEnumFailedHealthChecks || *d.TargetHealth.Description != "Health checks failed") {
			t.Errorf("reason %s %q", d.TargetHealth.Reason, *d.TargetHealth.Description)
		}
	}
	before1, before3 := b1.hits.Load(), b3.hits.Load()
	for i := 0; i < 20; i++ {
		if st, _, _ := get(t, "http://"+addr+"/"); st != 200 {
			t.Fatalf("status %d after failover", st)
		}
	}
	if d := b1.hits.Load() - before1 + b3.hits.Load() - before3; d != 20 {
		t.Errorf("healthy targets served %d of 20", d)
	}
}

func TestNoTargetsAndDeadTargets(t *testing.T) {
	e := newEnv(t)
	lb := e.lb("empty", "")
	tg := e.tg("empty", "HTTP", 80)
	_, addr := e.listener(*lb.LoadBalancerArn, "HTTP", 18084, forward(tg))
	st, body, h := get(t, "http://"+addr+"/")
	if st != 503 || !strings.Contains(body, "503 Service Temporarily Unavailable") || h.Get("Server") != "awselb/2.0" {
		t.Errorf("no targets: %d %q %v", st, body, h)
	}
	// A registered target that refuses connections: all unhealthy, the
	// load balancer fails open and answers 502.
	dead := newBackend(t, "dead", nil)
	dead.Close()
	e.register(tg, dead)
	st, body, _ = get(t, "http://"+addr+"/")
	if st != 502 || !strings.Contains(body, "502 Bad Gateway") {
		t.Errorf("dead target: %d %q", st, body)
	}
	e.svc.FlushMetrics()
	if n := e.pub.sum("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"); n < 2 {
		t.Errorf("HTTPCode_ELB_5XX_Count = %v", n)
	}
}

func TestDrainingLetsInFlightFinish(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	slow := newBackend(t, "slow", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			started <- struct{}{}
			<-release
		}
		io.WriteString(w, "slow")
	})
	fast := newBackend(t, "fast", nil)
	lb := e.lb("drain", "")
	tg := e.tg("drain", "HTTP", 80)
	e.v2.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: &tg, Attributes: []types.TargetGroupAttribute{
		{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("20")}}})
	e.register(tg, slow)
	_, addr := e.listener(*lb.LoadBalancerArn, "HTTP", 18085, forward(tg))
	e.waitState(tg, slow.ip, "healthy")
	e.register(tg, fast)
	e.waitState(tg, fast.ip, "healthy")

	// Round robin alternates; send until one request is held by slow.
	type result struct {
		st   int
		body string
	}
	done := make(chan result, 1)
	go func() {
		for {
			resp, err := plain.Get("http://" + addr + "/slow")
			if err != nil {
				done <- result{st: -1}
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) == "slow" {
				done <- result{resp.StatusCode, string(b)}
				return
			}
		}
	}()
	<-started
	_, err := e.v2.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: &tg, Targets: []types.TargetDescription{{Id: aws.String(slow.ip), Port: aws.Int32(slow.port)}}})
	if err != nil {
		t.Fatal(err)
	}
	if s := e.health(tg)[slow.ip]; s != "draining" {
		t.Errorf("deregistered target is %q, want draining", s)
	}
	for i := 0; i < 10; i++ {
		if _, body, _ := get(t, "http://"+addr+"/"); body != "fast" {
			t.Fatalf("new request went to %q while draining", body)
		}
	}
	close(release)
	if r := <-done; r.st != 200 {
		t.Fatalf("in-flight request: %+v", r)
	}
	e.clk.Advance(21 * time.Second)
	eventually(t, "drained target to disappear", func() bool { _, ok := e.health(tg)[slow.ip]; return !ok })
	out, _ := e.v2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: &tg, Targets: []types.TargetDescription{{Id: aws.String(slow.ip), Port: aws.Int32(slow.port)}}})
	if h := out.TargetHealthDescriptions[0].TargetHealth; h.State != types.TargetHealthStateEnumUnused || h.Reason != types.TargetHealthReasonEnumNotRegistered {
		t.Errorf("after delay: %s %s", h.State, h.Reason)
	}
}

func TestWeightedForwardAndStickiness(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a1, a2, b := newBackend(t, "a1", nil), newBackend(t, "a2", nil), newBackend(t, "b", nil)
	lb := e.lb("weights", "")
	tgA, tgB := e.tg("ga", "HTTP", 80), e.tg("gb", "HTTP", 80)
	e.register(tgA, a1, a2)
	e.register(tgB, b)
	_, addr := e.listener(*lb.LoadBalancerArn, "HTTP", 18086, types.Action{Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{
		TargetGroups: []types.TargetGroupTuple{{TargetGroupArn: &tgA, Weight: aws.Int32(1)}, {TargetGroupArn: &tgB, Weight: aws.Int32(0)}}}})
	e.waitState(tgA, a1.ip, "healthy")
	e.waitState(tgA, a2.ip, "healthy")
	e.waitState(tgB, b.ip, "healthy")
	for i := 0; i < 10; i++ {
		if _, body, _ := get(t, "http://"+addr+"/"); body == "b" {
			t.Fatal("weight 0 group got traffic")
		}
	}
	// Duration-based stickiness: the AWSALB cookie pins a client to a target.
	if _, err := e.v2.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: &tgA, Attributes: []types.TargetGroupAttribute{
		{Key: aws.String("stickiness.enabled"), Value: aws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	_, first, h := get(t, "http://"+addr+"/")
	var cookie string
	for _, c := range h.Values("Set-Cookie") {
		if strings.HasPrefix(c, "AWSALB=") {
			cookie, _, _ = strings.Cut(c, ";")
		}
	}
	if cookie == "" {
		t.Fatalf("no AWSALB cookie in %v", h)
	}
	for i := 0; i < 10; i++ {
		if _, body, _ := get(t, "http://"+addr+"/", "Cookie", "other=1; "+cookie); body != first {
			t.Fatalf("sticky request %d went to %s, not %s", i, body, first)
		}
	}
}

func TestEdgeHostRouting(t *testing.T) {
	e := newEnv(t)
	b := newBackend(t, "edge", nil)
	lb := e.lb("edge", "")
	tg := e.tg("edge", "HTTP", 80)
	e.register(tg, b)
	e.listener(*lb.LoadBalancerArn, "HTTP", 18087, forward(tg))
	e.waitState(tg, b.ip, "healthy")
	st, body, _ := get(t, e.url+"/hello", "Host", *lb.DNSName)
	if st != 200 || body != "edge" {
		t.Errorf("edge request: %d %q", st, body)
	}
	infos := e.svc.LoadBalancers("000000000000", "us-east-1")
	if len(infos) != 1 || infos[0].DNSName != *lb.DNSName || infos[0].Listeners["18087"] == "" {
		t.Errorf("introspection %+v", infos)
	}
}

func TestNLBTCPEcho(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Skip(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				// Echo until the client half-closes, then say goodbye.
				io.Copy(c, c)
				io.WriteString(c, "bye\n")
				c.Close()
			}()
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	var p int32
	for _, ch := range port {
		p = p*10 + int32(ch-'0')
	}
	lb := e.lb("nlb", types.LoadBalancerTypeEnumNetwork)
	out, err := e.v2.CreateTargetGroup(context.Background(), &elbv2.CreateTargetGroupInput{Name: aws.String("tcp"), Protocol: "TCP", Port: aws.Int32(p), VpcId: aws.String("vpc-1"), TargetType: "ip"})
	if err != nil {
		t.Fatal(err)
	}
	tg := *out.TargetGroups[0].TargetGroupArn
	if hc := out.TargetGroups[0]; hc.HealthCheckProtocol != "TCP" || hc.HealthCheckPath != nil {
		t.Errorf("NLB health check %+v", hc)
	}
	if _, err := e.v2.RegisterTargets(context.Background(), &elbv2.RegisterTargetsInput{TargetGroupArn: &tg, Targets: []types.TargetDescription{{Id: aws.String(host)}}}); err != nil {
		t.Fatal(err)
	}
	_, addr := e.listener(*lb.LoadBalancerArn, "TCP", 18088, forward(tg))
	e.waitState(tg, host, "healthy")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "hello\n")
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil || line != "hello\n" {
		t.Fatalf("echo %q %v", line, err)
	}
	c.(*net.TCPConn).CloseWrite()
	rest, _ := io.ReadAll(r)
	if string(rest) != "bye\n" {
		t.Errorf("after half-close got %q", rest)
	}
	// HTTP listeners are refused on a network load balancer.
	_, err = e.v2.CreateListener(context.Background(), &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: "HTTP", Port: aws.Int32(80), DefaultActions: []types.Action{forward(tg)}})
	if apiCode(err) != "UnsupportedProtocol" {
		t.Errorf("HTTP on NLB: %v", err)
	}
}
