package autoscaling

import (
	"fmt"
	"net/http"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
)

// Error shapes of the autoscaling model and their wire codes.
const (
	codeAlreadyExists      = "AlreadyExistsFault"
	codeResourceInUse      = "ResourceInUseFault"
	codeScalingInProgress  = "ScalingActivityInProgressFault"
	codeLimitExceeded      = "LimitExceededFault"
	codeInvalidNextToken   = "InvalidNextToken"
	codeResourceContention = "ResourceContentionFault"
)

var wireCodes = map[string]string{
	codeAlreadyExists:      "AlreadyExists",
	codeResourceInUse:      "ResourceInUse",
	codeScalingInProgress:  "ScalingActivityInProgress",
	codeLimitExceeded:      "LimitExceeded",
	codeInvalidNextToken:   "InvalidNextToken",
	codeResourceContention: "ResourceContention",
}

func apiErr(code, format string, args ...any) *awserr.Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	status := http.StatusBadRequest
	if code == codeResourceContention {
		status = http.StatusInternalServerError
	}
	return &awserr.Error{Code: code, Message: msg, Status: status, QueryCode: wireCodes[code]}
}

func validation(format string, args ...any) *awserr.Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &awserr.Error{Code: awserr.CodeValidation, Message: msg, Status: http.StatusBadRequest}
}

func missing(param string) *awserr.Error {
	return validation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(param))
}

func groupNotFound(name string) *awserr.Error {
	return validation("AutoScalingGroup name not found - AutoScalingGroup %s not found", name)
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	b := []byte(s)
	if b[0] >= 'A' && b[0] <= 'Z' {
		b[0] += 'a' - 'A'
	}
	return string(b)
}

// guard turns a panic in a handler into an internal error.
func guard(fn service.Handler) service.Handler {
	return func(r *service.Request) (out map[string]any, err error) {
		defer func() {
			if p := recover(); p != nil {
				out, err = nil, awserr.Internal(fmt.Errorf("panic: %v", p))
			}
		}()
		return fn(r)
	}
}
