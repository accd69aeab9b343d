package cloudwatch

import (
	"fmt"
	"net/http"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

// Error shape names (Code) and their legacy query codes.
const (
	errInvalidParameterValue       = "InvalidParameterValueException"
	errMissingParameter            = "MissingRequiredParameterException"
	errInvalidParameterCombination = "InvalidParameterCombinationException"
	errResourceNotFound            = "ResourceNotFound"
	errResourceNotFoundException   = "ResourceNotFoundException"
	errInvalidNextToken            = "InvalidNextToken"
	errLimitExceeded               = "LimitExceededFault"
	errInvalidFormat               = "InvalidFormatFault"
)

var queryCodes = map[string]string{
	errInvalidParameterValue:       "InvalidParameterValue",
	errMissingParameter:            "MissingParameter",
	errInvalidParameterCombination: "InvalidParameterCombination",
	errResourceNotFound:            "ResourceNotFound",
	errResourceNotFoundException:   "ResourceNotFoundException",
	errInvalidNextToken:            "InvalidNextToken",
	errLimitExceeded:               "LimitExceeded",
	errInvalidFormat:               "InvalidFormat",
}

func cwErr(code string, status int, format string, args ...any) *awserr.Error {
	return &awserr.Error{Code: code, QueryCode: queryCodes[code], Status: status, Message: fmt.Sprintf(format, args...)}
}

func invalidValue(format string, args ...any) *awserr.Error {
	return cwErr(errInvalidParameterValue, http.StatusBadRequest, format, args...)
}

func missingParam(format string, args ...any) *awserr.Error {
	return cwErr(errMissingParameter, http.StatusBadRequest, format, args...)
}

func invalidCombination(format string, args ...any) *awserr.Error {
	return cwErr(errInvalidParameterCombination, http.StatusBadRequest, format, args...)
}

func notFound(format string, args ...any) *awserr.Error {
	return cwErr(errResourceNotFound, http.StatusNotFound, format, args...)
}

func badToken() *awserr.Error {
	return cwErr(errInvalidNextToken, http.StatusBadRequest, "The service cannot complete the request because the provided next token is invalid.")
}

// validationError is the generic smithy ValidationError for constraint
// violations the model declares no specific error for.
func validationError(format string, args ...any) *awserr.Error {
	return &awserr.Error{Code: awserr.CodeValidation, Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}
