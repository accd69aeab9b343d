package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Workload is one kind of operation the benchmark drives against every
// target. A fresh Workload is made for each target, so it may keep clients
// and resource names in its fields.
type Workload interface {
	// Name is the short name used by -workloads and in the report.
	Name() string
	// Setup prepares the workload against env: builds clients and creates
	// whatever the operation needs (buckets, queues, tables). It MUST return
	// an error wrapping errors.ErrUnsupported when the target cannot serve
	// this workload; the report then shows a dash instead of a failure.
	Setup(ctx context.Context, env Env) error
	// Op performs one operation and reports whether it succeeded. It MUST be
	// safe for concurrent use once Setup has returned.
	Op(ctx context.Context) error
}

// Env is what a workload gets to know about the target it runs against.
type Env struct {
	// Endpoint is the target's base URL, http://127.0.0.1:PORT.
	Endpoint string
	// HTTPClient is shared by every goroutine of a run; its pool holds at
	// least one idle connection per goroutine.
	HTTPClient *http.Client
	// Floor is set for the floor server, which speaks no AWS API and answers
	// every request with a fixed small XML body. A workload sends it plain
	// unsigned HTTP requests shaped like its real ones (same method and body
	// size), so that only the server side differs.
	Floor bool
}

// workloadDef names a workload and makes fresh instances of it.
type workloadDef struct {
	name string
	doc  string
	new  func() Workload
}

// workloadDefs lists every workload, in report order. Add S3, SQS and
// DynamoDB workloads here.
func workloadDefs() []workloadDef {
	return []workloadDef{
		{name: "sts-getcalleridentity", doc: "STS GetCallerIdentity (query protocol, SigV4-signed by aws-sdk-go-v2)",
			new: func() Workload { return &getCallerIdentity{} }},
	}
}

// awsConfig is the SDK configuration every workload uses: static test
// credentials, no retries, the shared pooled client. It reads nothing from
// the environment.
func awsConfig(env Env) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(env.Endpoint),
		HTTPClient:   env.HTTPClient,
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// plainPost is the floor's stand-in for an AWS call: an unsigned POST of
// body to the endpoint through the same pooled client.
type plainPost struct {
	client      *http.Client
	url         string
	contentType string
	body        string
}

func (p *plainPost) do(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, strings.NewReader(p.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", p.contentType)
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// getCallerIdentity calls STS GetCallerIdentity: the cheapest signed AWS
// call, so it measures request routing, signature handling and response
// encoding with no storage behind them.
type getCallerIdentity struct {
	client *sts.Client
	floor  *plainPost
}

// gciBody is the form the SDK sends for GetCallerIdentity.
const gciBody = "Action=GetCallerIdentity&Version=2011-06-15"

func (*getCallerIdentity) Name() string { return "sts-getcalleridentity" }

func (g *getCallerIdentity) Setup(ctx context.Context, env Env) error {
	if env.Floor {
		g.floor = &plainPost{client: env.HTTPClient, url: env.Endpoint + "/",
			contentType: "application/x-www-form-urlencoded; charset=utf-8", body: gciBody}
		return nil
	}
	g.client = sts.NewFromConfig(awsConfig(env))
	if err := g.Op(ctx); err != nil {
		return fmt.Errorf("first GetCallerIdentity: %w", err)
	}
	return nil
}

func (g *getCallerIdentity) Op(ctx context.Context) error {
	if g.floor != nil {
		return g.floor.do(ctx)
	}
	_, err := g.client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	return err
}

// selectWorkloads resolves the -workloads flag: "all" or a comma-separated
// list of names.
func selectWorkloads(spec string) ([]workloadDef, error) {
	all := workloadDefs()
	if spec == "" || spec == "all" {
		return all, nil
	}
	var out []workloadDef
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		found := false
		for _, d := range all {
			if d.name == name {
				out = append(out, d)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown workload %q (have %s)", name, workloadNames(all))
		}
	}
	return out, nil
}

func workloadNames(defs []workloadDef) string {
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.name
	}
	return strings.Join(names, ", ")
}

var _ Workload = (*getCallerIdentity)(nil)
