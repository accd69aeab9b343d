// Package clients tests Elastic Load Balancing through the whole server with
// the AWS CLIs and boto3.
package clients

import (
	"encoding/json"
	"os/exec"
	"testing"

	"github.com/overcast-dev/overcast/internal/awstest"
)

func TestCLIDescribeLoadBalancers(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("elasticloadbalancing"))
	for _, c := range awstest.CLIs(t) {
		t.Run(c.Name, func(t *testing.T) {
			run := func(args ...string) []byte {
				t.Helper()
				cmd := exec.Command(c.Path, append([]string{"--endpoint-url", srv.URL(), "--region", "us-east-1", "--output", "json"}, args...)...)
				cmd.Env = awstest.ClientEnv(t, "test", "test")
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("%v: %v: %s", args, err, out)
				}
				return out
			}
			name := "cli-" + c.Name
			if len(name) > 32 {
				name = name[:32]
			}
			run("elbv2", "create-load-balancer", "--name", name, "--subnets", "subnet-1", "subnet-2")
			var v struct {
				LoadBalancers []struct {
					LoadBalancerName, DNSName, Type string
					State                           struct{ Code string }
				}
			}
			if err := json.Unmarshal(run("elbv2", "describe-load-balancers", "--names", name), &v); err != nil {
				t.Fatal(err)
			}
			if len(v.LoadBalancers) != 1 || v.LoadBalancers[0].State.Code != "active" || v.LoadBalancers[0].Type != "application" {
				t.Fatalf("got %+v", v)
			}
			cmd := exec.Command(c.Path, "--endpoint-url", srv.URL(), "--region", "us-east-1", "elbv2", "describe-target-groups", "--names", "missing")
			cmd.Env = awstest.ClientEnv(t, "test", "test")
			out, err := cmd.CombinedOutput()
			if err == nil || !contains(out, "TargetGroupNotFound") {
				t.Errorf("missing target group: %v %s", err, out)
			}
			// Classic API on the same signing name, told apart by Version.
			run("elb", "create-load-balancer", "--load-balancer-name", name, "--listeners", "Protocol=HTTP,LoadBalancerPort=18190,InstanceProtocol=HTTP,InstancePort=8080", "--availability-zones", "us-east-1a")
			var cl struct {
				LoadBalancerDescriptions []struct{ LoadBalancerName, DNSName string }
			}
			if err := json.Unmarshal(run("elb", "describe-load-balancers", "--load-balancer-names", name), &cl); err != nil {
				t.Fatal(err)
			}
			if len(cl.LoadBalancerDescriptions) != 1 || cl.LoadBalancerDescriptions[0].LoadBalancerName != name {
				t.Fatalf("classic %+v", cl)
			}
			run("elb", "delete-load-balancer", "--load-balancer-name", name)
		})
	}
}

func contains(b []byte, s string) bool {
	return len(b) >= len(s) && (string(b) == s || indexOf(string(b), s) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
