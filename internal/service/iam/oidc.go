package iam

import (
	"sort"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
)

// OpenID Connect identity providers.

// providerKey is a provider URL without its scheme and trailing slash, as
// IAM names it in the provider's ARN and in condition keys.
func providerKey(url string) string {
	url = strings.TrimPrefix(strings.TrimPrefix(url, "https://"), "http://")
	return strings.TrimSuffix(url, "/")
}

func (st *state) oidcProvider(arn string) (*oidcProvider, error) {
	for _, op := range st.Providers {
		if op.ARN == arn {
			return op, nil
		}
	}
	return nil, noSuchEntity("OpenIDConnect Provider not found for arn %s", arn)
}

func validThumbprints(l []string) error {
	if len(l) > 5 {
		return validation("1 validation error detected: Value at 'thumbprintList' failed to satisfy constraint: Member must have length less than or equal to 5")
	}
	for _, t := range l {
		if len(t) != 40 {
			return validation("1 validation error detected: Value '[%s]' at 'thumbprintList' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 40, Member must have length greater than or equal to 40]", t)
		}
	}
	return nil
}

func validClientIDs(l []string) error {
	if len(l) > 100 {
		return limitExceeded("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100")
	}
	for _, c := range l {
		if c == "" || len(c) > 255 {
			return validation("1 validation error detected: Value at 'clientIDList' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 1]")
		}
	}
	return nil
}

func (s *Service) createOIDCProvider(r *service.Request) (map[string]any, error) {
	url := service.Str(r.Input, "Url")
	// AWS accepts only https; local issuers (Overcast's own) speak http.
	if len(url) > 255 || !(strings.HasPrefix(url, "https://") || strings.HasPrefix(url, "http://")) || providerKey(url) == "" {
		return nil, validation("Invalid Url: %s", url)
	}
	thumbs := service.Strings(r.Input, "ThumbprintList")
	if err := validThumbprints(thumbs); err != nil {
		return nil, err
	}
	clients := service.Strings(r.Input, "ClientIDList")
	if err := validClientIDs(clients); err != nil {
		return nil, err
	}
	tags, err := parseTags(r.Input)
	if err != nil {
		return nil, err
	}
	key := providerKey(url)
	arn := "arn:" + partition(r) + ":iam::" + r.Account + ":oidc-provider/" + key
	err = s.update(r.Account, func(st *state) error {
		if st.Providers[key] != nil {
			return alreadyExists("Provider with url %s already exists.", url)
		}
		if len(st.Providers) >= 100 {
			return limitExceeded("Cannot exceed quota for OpenIdConnectProvidersPerAccount: 100")
		}
		st.Providers[key] = &oidcProvider{ARN: arn, URL: url, ClientIDs: dedupeStrings(clients), Thumbprint: thumbs, Created: s.clock.Now().UTC(), Tags: tags}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := map[string]any{"OpenIDConnectProviderArn": arn}
	if len(tags) > 0 {
		out["Tags"] = tagList(tags)
	}
	return out, nil
}

func dedupeStrings(l []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range l {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func (s *Service) getOIDCProvider(r *service.Request) (map[string]any, error) {
	var out map[string]any
	err := s.read(r.Account, func(st *state) error {
		op, err := st.oidcProvider(service.Str(r.Input, "OpenIDConnectProviderArn"))
		if err != nil {
			return err
		}
		out = map[string]any{
			"Url": providerKey(op.URL), "ClientIDList": stringList(op.ClientIDs), "ThumbprintList": stringList(op.Thumbprint),
			"CreateDate": op.Created, "Tags": tagList(op.Tags),
		}
		return nil
	})
	return out, err
}

func stringList(l []string) []any {
	out := make([]any, len(l))
	for i, v := range l {
		out[i] = v
	}
	return out
}

func (s *Service) listOIDCProviders(r *service.Request) (map[string]any, error) {
	var items []any
	s.read(r.Account, func(st *state) error {
		arns := make([]string, 0, len(st.Providers))
		for _, op := range st.Providers {
			arns = append(arns, op.ARN)
		}
		sort.Strings(arns)
		for _, a := range arns {
			items = append(items, map[string]any{"Arn": a})
		}
		return nil
	})
	return map[string]any{"OpenIDConnectProviderList": items}, nil
}

func (s *Service) deleteOIDCProvider(r *service.Request) (map[string]any, error) {
	arn := service.Str(r.Input, "OpenIDConnectProviderArn")
	return nil, s.update(r.Account, func(st *state) error {
		op, err := st.oidcProvider(arn)
		if err != nil {
			return err
		}
		delete(st.Providers, providerKey(op.URL))
		return nil
	})
}

func (s *Service) addClientID(r *service.Request) (map[string]any, error) {
	id := service.Str(r.Input, "ClientID")
	if err := validClientIDs([]string{id}); err != nil {
		return nil, err
	}
	return nil, s.update(r.Account, func(st *state) error {
		op, err := st.oidcProvider(service.Str(r.Input, "OpenIDConnectProviderArn"))
		if err != nil {
			return err
		}
		for _, c := range op.ClientIDs {
			if c == id {
				return nil
			}
		}
		if len(op.ClientIDs) >= 100 {
			return limitExceeded("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100")
		}
		op.ClientIDs = append(op.ClientIDs, id)
		return nil
	})
}

func (s *Service) removeClientID(r *service.Request) (map[string]any, error) {
	id := service.Str(r.Input, "ClientID")
	return nil, s.update(r.Account, func(st *state) error {
		op, err := st.oidcProvider(service.Str(r.Input, "OpenIDConnectProviderArn"))
		if err != nil {
			return err
		}
		var kept []string
		for _, c := range op.ClientIDs {
			if c != id {
				kept = append(kept, c)
			}
		}
		op.ClientIDs = kept
		return nil
	})
}

func (s *Service) updateThumbprints(r *service.Request) (map[string]any, error) {
	thumbs := service.Strings(r.Input, "ThumbprintList")
	if err := validThumbprints(thumbs); err != nil {
		return nil, err
	}
	return nil, s.update(r.Account, func(st *state) error {
		op, err := st.oidcProvider(service.Str(r.Input, "OpenIDConnectProviderArn"))
		if err != nil {
			return err
		}
		op.Thumbprint = thumbs
		return nil
	})
}

// OIDCProvider returns the OpenID Connect provider of account whose URL is
// issuer (with or without scheme): its ARN and client ids (audiences).
func (s *Service) OIDCProvider(account, issuer string) (arn string, clientIDs []string, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.accounts[account]
	if st == nil {
		return "", nil, false
	}
	op := st.Providers[providerKey(issuer)]
	if op == nil {
		return "", nil, false
	}
	return op.ARN, append([]string(nil), op.ClientIDs...), true
}
