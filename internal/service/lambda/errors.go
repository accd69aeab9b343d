package lambda

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

// Wire error codes, as the error shape names in the Lambda model.
const (
	codeNotFound          = "ResourceNotFoundException"
	codeConflict          = "ResourceConflictException"
	codeInvalidParameter  = "InvalidParameterValueException"
	codeValidation        = "ValidationException"
	codeTooManyRequests   = "TooManyRequestsException"
	codeRequestTooLarge   = "RequestTooLargeException"
	codeInvalidRuntime    = "InvalidRuntimeException"
	codeService           = "ServiceException"
	codePrecondition      = "PreconditionFailedException"
	codeTooLargeEntity    = "RequestEntityTooLargeException"
	codeInvalidRequest    = "InvalidRequestContentException"
	codeCodeStorageExceed = "CodeStorageExceededException"
)

// Throttle reasons (TooManyRequestsException Reason).
const (
	reasonReserved = "ReservedFunctionConcurrentInvocationLimitExceeded"
	reasonAccount  = "ConcurrentInvocationLimitExceeded"
)

func lerr(status int, code, format string, args ...any) *awserr.Error {
	return &awserr.Error{Code: code, Message: fmt.Sprintf(format, args...), Status: status, Fields: map[string]any{"Type": "User"}}
}

func errFunctionNotFound(arn string) *awserr.Error {
	return lerr(http.StatusNotFound, codeNotFound, "Function not found: %s", arn)
}

func errNotFound(format string, args ...any) *awserr.Error {
	return lerr(http.StatusNotFound, codeNotFound, format, args...)
}

func errConflict(format string, args ...any) *awserr.Error {
	return lerr(http.StatusConflict, codeConflict, format, args...)
}

func errInvalid(format string, args ...any) *awserr.Error {
	return lerr(http.StatusBadRequest, codeInvalidParameter, format, args...)
}

func errPrecondition(format string, args ...any) *awserr.Error {
	return lerr(http.StatusPreconditionFailed, codePrecondition, format, args...)
}

// errValidation is the message AWS's request validation produces for one
// constraint, e.g. "Value '0' at 'timeout' failed to satisfy constraint:
// Member must have value greater than or equal to 1".
func errValidation(value any, field, constraint string) *awserr.Error {
	return &awserr.Error{Code: codeValidation, Status: http.StatusBadRequest,
		Message: fmt.Sprintf("1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: %s", value, field, constraint)}
}

func errThrottled(reason string) *awserr.Error {
	e := lerr(http.StatusTooManyRequests, codeTooManyRequests, "Rate Exceeded.")
	e.Fields["Reason"] = reason
	e.Header = http.Header{"Retry-After": []string{strconv.Itoa(1)}}
	return e
}

func errPayloadTooLarge(n int) *awserr.Error {
	return lerr(http.StatusRequestEntityTooLarge, codeRequestTooLarge,
		"%d byte payload is too large for the %s invocation type (limit %d bytes)", n, "RequestResponse", maxSyncPayload)
}

func errInvalidRuntime(format string, args ...any) *awserr.Error {
	return lerr(http.StatusBadGateway, codeInvalidRuntime, format, args...)
}

func errService(format string, args ...any) *awserr.Error {
	e := lerr(http.StatusInternalServerError, codeService, format, args...)
	e.Receiver = true
	e.Fields["Type"] = "Service"
	return e
}
