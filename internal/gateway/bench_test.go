package gateway_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/overcast-dev/overcast/internal/gateway"
	"github.com/overcast-dev/overcast/internal/protocol/sigv4"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/sts"
)

// BenchmarkGetCallerIdentity measures the server side of a small query call,
// identify → (verify) → decode → handle → encode, without the network.
func BenchmarkGetCallerIdentity(b *testing.B) {
	for _, verify := range []bool{false, true} {
		name := "auth-off"
		if verify {
			name = "auth-verify"
		}
		b.Run(name, func(b *testing.B) {
			now := time.Now()
			body := "Action=GetCallerIdentity&Version=2011-06-15"
			sum := sha256.Sum256([]byte(body))
			base := httptest.NewRequest(http.MethodPost, "http://localhost:4566/", nil)
			base.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, base,
				hex.EncodeToString(sum[:]), "sts", "us-east-1", now)
			if err != nil {
				b.Fatal(err)
			}
			v := &sigv4.Verifier{Secret: func(string) (string, bool) { return "secret", true }, Now: func() time.Time { return now }}
			g, err := gateway.New(gateway.Config{Auth: testAuth{v}, Verify: verify},
				[]service.Service{sts.New(sts.Config{})}, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := base.Clone(context.Background())
				r.Body = io.NopCloser(strings.NewReader(body))
				r.ContentLength = int64(len(body))
				w := httptest.NewRecorder()
				g.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatalf("status %d %s", w.Code, w.Body)
				}
			}
		})
	}
}
