// Package sts implements AWS Security Token Service.
//
// # Fidelity
//
// GetCallerIdentity and GetAccessKeyInfo answer from the caller's access key:
// the account is the key's account (a 12-digit key names its own account;
// other keys belong to the default account 000000000000), and a key without
// an IAM user is the account's root. The other operations answer
// NotImplemented until IAM lands.
package sts

import (
	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
)

// AccountResolver maps an access key to its account.
type AccountResolver func(accessKey string) string

// Service is STS.
type Service struct {
	account AccountResolver
}

// New returns STS; account resolves access keys to accounts.
func New(account AccountResolver) *Service { return &Service{account: account} }

// Name implements service.Service.
func (*Service) Name() string { return "sts" }

// APIs implements service.Service.
func (*Service) APIs() []string { return []string{"sts"} }

// Handlers implements service.Service.
func (s *Service) Handlers() map[string]service.Handler {
	return map[string]service.Handler{
		"GetCallerIdentity": s.getCallerIdentity,
		"GetAccessKeyInfo":  s.getAccessKeyInfo,
	}
}

func (s *Service) getCallerIdentity(r *service.Request) (map[string]any, error) {
	userID := r.Account
	return map[string]any{
		"Account": r.Account,
		"Arn":     "arn:" + service.Partition(r.Region) + ":iam::" + r.Account + ":root",
		"UserId":  userID,
	}, nil
}

func (s *Service) getAccessKeyInfo(r *service.Request) (map[string]any, error) {
	key := service.Str(r.Input, "AccessKeyId")
	if len(key) < 16 || len(key) > 128 {
		return nil, awserr.New(awserr.CodeValidation, "1 validation error detected: Value '%s' at 'accessKeyId' failed to satisfy constraint: Member must have length greater than or equal to 16", key)
	}
	return map[string]any{"Account": s.account(key)}, nil
}

var _ service.Service = (*Service)(nil)
