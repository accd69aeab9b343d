package sns

import (
	"fmt"
	"net/http"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

// Wire error codes (query protocol).
const (
	codeInvalidParameter      = "InvalidParameter"
	codeInvalidParameterValue = "ParameterValueInvalid"
	codeNotFound              = "NotFound"
	codeResourceNotFound      = "ResourceNotFound"
	codeEmptyBatch            = "EmptyBatchRequest"
	codeTooManyEntries        = "TooManyEntriesInBatchRequest"
	codeBatchIDsNotDistinct   = "BatchEntryIdsNotDistinct"
	codeInvalidBatchEntryID   = "InvalidBatchEntryId"
	codeBatchTooLong          = "BatchRequestTooLong"
	codeTagLimitExceeded      = "TagLimitExceeded"
)

func snsErr(status int, code, format string, args ...any) *awserr.Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &awserr.Error{Code: code, Message: msg, Status: status}
}

// errParam is InvalidParameter with msg as the whole message.
func errParam(msg string) *awserr.Error {
	return &awserr.Error{Code: codeInvalidParameter, Message: msg, Status: http.StatusBadRequest}
}

func errParamf(format string, args ...any) *awserr.Error {
	return errParam(fmt.Sprintf(format, args...))
}

func errNotFound(what string) *awserr.Error {
	return snsErr(http.StatusNotFound, codeNotFound, "%s does not exist", what)
}
