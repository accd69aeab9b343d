package server

import (
	"errors"
	"net/http"

	"github.com/overcast-dev/overcast/internal/gateway"
	"github.com/overcast-dev/overcast/internal/protocol/sigv4"
)

// auth adapts the SigV4 verifier to the gateway. The root access key is
// accepted everywhere; IAM-issued keys join through Secret when IAM lands.
type auth struct {
	verifier *sigv4.Verifier
}

func newAuth(accessKey, secretKey string) *auth {
	return &auth{verifier: &sigv4.Verifier{
		Secret: func(k string) (string, bool) {
			if k == accessKey {
				return secretKey, true
			}
			return "", false
		},
	}}
}

func (a *auth) Identify(r *http.Request) (*gateway.Credential, error) {
	c, err := sigv4.Parse(r)
	if errors.Is(err, sigv4.ErrUnsigned) {
		return nil, nil
	}
	if c == nil {
		return nil, err
	}
	return &gateway.Credential{AccessKey: c.AccessKey, Region: c.Region, Service: c.Service, Raw: c}, err
}

func (a *auth) Verify(r *http.Request, c *gateway.Credential) error {
	sc, _ := c.Raw.(*sigv4.Credential)
	return a.verifier.Verify(r, sc)
}

func (a *auth) Account(accessKey string) string { return AccountOf(accessKey) }
