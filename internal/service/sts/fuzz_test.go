package sts

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func FuzzParseJWT(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4IiwiYXVkIjpbImEiLDFdLCJleHAiOjEuNWUxMH0.c2ln")
	f.Add("a.b.c")
	f.Add("...")
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.")
	f.Fuzz(func(t *testing.T, tok string) {
		j, err := parseJWT(tok)
		if err != nil {
			return
		}
		if j.Claims == nil || strings.Count(tok, ".") != 2 {
			t.Fatalf("accepted %q", tok)
		}
		if j.verify(nil) {
			t.Fatal("verified without a key")
		}
	})
}

func FuzzTokenRequest(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "sub=a&aud=b&expires_in=60")
	f.Add("application/json", `{"sub":"a","claims":{"x":1},"expires_in":-1}`)
	f.Add("application/json", `[`)
	f.Fuzz(func(t *testing.T, ct, body string) {
		r := httptest.NewRequest("POST", "/_overcast/oidc/token", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		req, err := readTokenRequest(r)
		if err != nil {
			return
		}
		if req.Sub == "" || req.Aud == "" || req.ExpiresIn <= 0 {
			t.Fatalf("accepted %+v", req)
		}
	})
}
