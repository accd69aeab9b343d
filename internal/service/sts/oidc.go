package sts

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/overcast-dev/overcast/internal/storage"
)

// OIDCPath is where the local OpenID Connect issuer is served; its issuer
// URL is the scheme and host a client used, followed by OIDCPath.
const OIDCPath = "/_overcast/oidc"

// issuer is the local OpenID Connect issuer: one RSA key, created on first
// use and kept in the store so tokens verify across restarts.
type issuer struct {
	mu  sync.Mutex
	key *rsa.PrivateKey
	kid string
}

// oidcKey returns the issuer's signing key.
func (s *Service) oidcKey() (*rsa.PrivateKey, string, error) {
	is := &s.issuer
	is.mu.Lock()
	defer is.mu.Unlock()
	if is.key != nil {
		return is.key, is.kid, nil
	}
	var der []byte
	if s.cfg.KV != nil {
		s.cfg.KV.View(func(tx storage.Tx) error {
			b, err := tx.Get(scope.Key("oidc-key"))
			if err == nil {
				der = append([]byte(nil), b...)
			}
			return nil
		})
	}
	var key *rsa.PrivateKey
	if der != nil {
		k, err := x509.ParsePKCS8PrivateKey(der)
		if rk, ok := k.(*rsa.PrivateKey); err == nil && ok {
			key = rk
		}
	}
	if key == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, "", err
		}
		der, err = x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, "", err
		}
		if s.cfg.KV != nil {
			if err := s.cfg.KV.Update(func(tx storage.Tx) error { return tx.Put(scope.Key("oidc-key"), der) }); err != nil {
				return nil, "", err
			}
		}
		key = k
	}
	pub := x509.MarshalPKCS1PublicKey(&key.PublicKey)
	sum := sha256.Sum256(pub)
	is.key, is.kid = key, base64.RawURLEncoding.EncodeToString(sum[:12])
	return is.key, is.kid, nil
}

// issuerURL is the issuer as a client of r reaches it.
func issuerURL(r *http.Request) string {
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	return scheme + r.Host + OIDCPath
}

// OIDCHandler serves the local OpenID Connect issuer under OIDCPath:
//
//	GET  .well-known/openid-configuration  the discovery document
//	GET  keys                              the JWKS
//	POST token                             mints an RS256 ID token; form or
//	                                       JSON fields sub (required), aud
//	                                       (default sts.amazonaws.com),
//	                                       expires_in (seconds, default 3600)
//	                                       and, in JSON, claims (extra claims)
//
// Minting is unauthenticated: it exists for tests of workload identity.
func (s *Service) OIDCHandler() http.Handler {
	return http.HandlerFunc(s.serveOIDC)
}

func (s *Service) serveOIDC(w http.ResponseWriter, r *http.Request) {
	writeJSON := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	fail := func(status int, code, msg string) {
		writeJSON(status, map[string]string{"error": code, "error_description": msg})
	}
	iss := issuerURL(r)
	switch strings.TrimPrefix(r.URL.Path, OIDCPath) {
	case "/.well-known/openid-configuration":
		writeJSON(http.StatusOK, map[string]any{
			"issuer": iss, "jwks_uri": iss + "/keys", "token_endpoint": iss + "/token",
			"response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"}, "claims_supported": []string{"sub", "aud", "iss", "exp", "iat", "nbf"},
		})
	case "/keys":
		key, kid, err := s.oidcKey()
		if err != nil {
			fail(http.StatusInternalServerError, "server_error", err.Error())
			return
		}
		writeJSON(http.StatusOK, map[string]any{"keys": []any{map[string]string{
			"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	case "/token":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			fail(http.StatusMethodNotAllowed, "invalid_request", "POST the token request")
			return
		}
		req, err := readTokenRequest(r)
		if err != nil {
			fail(http.StatusBadRequest, "invalid_request", err.Error())
			return
		}
		key, kid, err := s.oidcKey()
		if err != nil {
			fail(http.StatusInternalServerError, "server_error", err.Error())
			return
		}
		now := s.cfg.Clock.Now()
		claims := map[string]any{}
		for k, v := range req.Claims {
			claims[k] = v
		}
		claims["iss"], claims["sub"], claims["aud"] = iss, req.Sub, req.Aud
		claims["iat"], claims["nbf"], claims["exp"] = now.Unix(), now.Unix(), now.Add(time.Duration(req.ExpiresIn)*time.Second).Unix()
		tok, err := signJWT(key, kid, claims)
		if err != nil {
			fail(http.StatusInternalServerError, "server_error", err.Error())
			return
		}
		writeJSON(http.StatusOK, map[string]any{"id_token": tok, "access_token": tok, "token_type": "Bearer", "expires_in": req.ExpiresIn})
	default:
		fail(http.StatusNotFound, "not_found", "no such endpoint "+r.URL.Path)
	}
}

type tokenRequest struct {
	Sub       string         `json:"sub"`
	Aud       string         `json:"aud"`
	ExpiresIn int64          `json:"expires_in"`
	Claims    map[string]any `json:"claims"`
}

func readTokenRequest(r *http.Request) (*tokenRequest, error) {
	body := http.MaxBytesReader(nil, r.Body, 64<<10)
	req := &tokenRequest{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(body).Decode(req); err != nil {
			return nil, errors.New("the body is not a JSON object")
		}
	} else {
		b := make([]byte, 0, 512)
		buf := make([]byte, 512)
		for {
			n, err := body.Read(buf)
			b = append(b, buf[:n]...)
			if err != nil {
				break
			}
		}
		q, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, errors.New("the body is not a form")
		}
		for k, v := range r.URL.Query() {
			if _, ok := q[k]; !ok {
				q[k] = v
			}
		}
		req.Sub, req.Aud = q.Get("sub"), q.Get("aud")
		if e := q.Get("expires_in"); e != "" {
			n, err := strconv.ParseInt(e, 10, 64)
			if err != nil {
				return nil, errors.New("expires_in is not a number")
			}
			req.ExpiresIn = n
		}
	}
	if req.Sub == "" {
		return nil, errors.New("sub is required")
	}
	if req.Aud == "" {
		req.Aud = "sts.amazonaws.com"
	}
	if req.ExpiresIn == 0 {
		req.ExpiresIn = 3600
	}
	if req.ExpiresIn < 0 || req.ExpiresIn > 7*24*3600 {
		return nil, errors.New("expires_in must be between 1 and 604800")
	}
	return req, nil
}

// signJWT signs claims as an RS256 JWT.
func signJWT(key *rsa.PrivateKey, kid string, claims map[string]any) (string, error) {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// jwt is a parsed, not yet verified, JSON Web Token.
type jwt struct {
	Alg, Kid      string
	Claims        map[string]any
	signing       string
	signature     []byte
	Iss, Sub      string
	Aud           []string
	Exp, Nbf, Iat int64
}

var errNotJWT = errors.New("not a JWT")

// parseJWT splits and decodes a compact JWS; it checks the structure only.
func parseJWT(tok string) (*jwt, error) {
	if len(tok) > 20000 {
		return nil, errNotJWT
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errNotJWT
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, errNotJWT
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if json.Unmarshal(hb, &hdr) != nil {
		return nil, errNotJWT
	}
	t := &jwt{Alg: hdr.Alg, Kid: hdr.Kid, signing: parts[0] + "." + parts[1], signature: sig}
	dec := json.NewDecoder(strings.NewReader(string(cb)))
	dec.UseNumber()
	if dec.Decode(&t.Claims) != nil || t.Claims == nil {
		return nil, errNotJWT
	}
	t.Iss, _ = t.Claims["iss"].(string)
	t.Sub, _ = t.Claims["sub"].(string)
	switch a := t.Claims["aud"].(type) {
	case string:
		t.Aud = []string{a}
	case []any:
		for _, v := range a {
			if s, ok := v.(string); ok {
				t.Aud = append(t.Aud, s)
			}
		}
	}
	num := func(k string) int64 {
		if n, ok := t.Claims[k].(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				return i
			}
			if f, err := n.Float64(); err == nil {
				return int64(f)
			}
		}
		return 0
	}
	t.Exp, t.Nbf, t.Iat = num("exp"), num("nbf"), num("iat")
	return t, nil
}

// verify checks an RS256 signature with key.
func (t *jwt) verify(key *rsa.PublicKey) bool {
	if t.Alg != "RS256" || key == nil {
		return false
	}
	sum := sha256.Sum256([]byte(t.signing))
	return rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], t.signature) == nil
}

// jwksCache holds the keys of external issuers, fetched over HTTP.
type jwksCache struct {
	mu   sync.Mutex
	keys map[string]cachedKeys // by issuer
}

type cachedKeys struct {
	keys    map[string]*rsa.PublicKey // by kid
	fetched time.Time
}

// issuerKeys returns an issuer's RSA keys: the local issuer's own, or an
// external issuer's from its discovery document and JWKS.
func (s *Service) issuerKeys(iss string) (map[string]*rsa.PublicKey, error) {
	if strings.HasSuffix(iss, OIDCPath) {
		key, kid, err := s.oidcKey()
		if err != nil {
			return nil, err
		}
		return map[string]*rsa.PublicKey{kid: &key.PublicKey}, nil
	}
	now := s.cfg.Clock.Now()
	c := &s.jwks
	c.mu.Lock()
	if ck, ok := c.keys[iss]; ok && now.Sub(ck.fetched) < 5*time.Minute {
		c.mu.Unlock()
		return ck.keys, nil
	}
	c.mu.Unlock()
	keys, err := fetchJWKS(iss)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.keys == nil {
		c.keys = map[string]cachedKeys{}
	}
	c.keys[iss] = cachedKeys{keys: keys, fetched: now}
	c.mu.Unlock()
	return keys, nil
}

var jwksClient = &http.Client{Timeout: 5 * time.Second}

func fetchJWKS(iss string) (map[string]*rsa.PublicKey, error) {
	if !strings.HasPrefix(iss, "https://") && !strings.HasPrefix(iss, "http://") {
		iss = "https://" + iss
	}
	get := func(u string, v any) error {
		resp, err := jwksClient.Get(u)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(u + ": " + resp.Status)
		}
		return json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(v)
	}
	var disc struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := get(strings.TrimSuffix(iss, "/")+"/.well-known/openid-configuration", &disc); err != nil {
		return nil, err
	}
	var set struct {
		Keys []struct {
			Kty, Kid, N, E string
		} `json:"keys"`
	}
	if err := get(disc.JWKS, &set); err != nil {
		return nil, err
	}
	out := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) > 4 {
			continue
		}
		out[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return out, nil
}
