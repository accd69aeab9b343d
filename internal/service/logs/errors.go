package logs

import (
	"fmt"
	"net/http"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

// Error shape names: the wire codes CloudWatch Logs answers with.
const (
	errInvalidParameter = "InvalidParameterException"
	errNotFound         = "ResourceNotFoundException"
	errAlreadyExists    = "ResourceAlreadyExistsException"
	errLimitExceeded    = "LimitExceededException"
	errMalformedQuery   = "MalformedQueryException"
	errInvalidOperation = "InvalidOperationException"
	errOperationAborted = "OperationAbortedException"
)

func logsErr(code, format string, args ...any) *awserr.Error {
	return &awserr.Error{Code: code, Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

func invalidParam(format string, args ...any) *awserr.Error {
	return logsErr(errInvalidParameter, format, args...)
}

// missing is the validation error for an absent required member.
func missing(member string) *awserr.Error {
	return invalidParam("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

func groupNotFound() *awserr.Error {
	return logsErr(errNotFound, "The specified log group does not exist.")
}

func streamNotFound() *awserr.Error {
	return logsErr(errNotFound, "The specified log stream does not exist.")
}

func badToken() *awserr.Error {
	return invalidParam("The specified nextToken is invalid.")
}
