package dynamodb

import (
	"fmt"
	"net/http"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

// Wire error codes.
const (
	codeValidation          = "ValidationException"
	codeResourceNotFound    = "ResourceNotFoundException"
	codeResourceInUse       = "ResourceInUseException"
	codeConditionalCheck    = "ConditionalCheckFailedException"
	codeTransactionCanceled = "TransactionCanceledException"
	codeIdempotentParam     = "IdempotentParameterMismatchException"
	codeTransactionConflict = "TransactionConflictException"
	codeLimitExceeded       = "LimitExceededException"
	codeExpiredIterator     = "ExpiredIteratorException"
	codeTrimmedData         = "TrimmedDataAccessException"
	codeDuplicateItem       = "DuplicateItemException"
	codeThroughputExceeded  = "ProvisionedThroughputExceededException"
)

func validation(format string, args ...any) *awserr.Error {
	return &awserr.Error{Code: codeValidation, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func notFound(format string, args ...any) *awserr.Error {
	return &awserr.Error{Code: codeResourceNotFound, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func inUse(format string, args ...any) *awserr.Error {
	return &awserr.Error{Code: codeResourceInUse, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func tableNotFound() *awserr.Error { return notFound("Requested resource not found") }

func condFailed(old item, ret bool) *awserr.Error {
	e := &awserr.Error{Code: codeConditionalCheck, Message: "The conditional request failed", Status: http.StatusBadRequest}
	if ret && old != nil {
		e.Fields = map[string]any{"Item": old.wire()}
	}
	return e
}

func tableNotFoundExc(name string) *awserr.Error {
	return &awserr.Error{Code: "TableNotFoundException", Message: "Table not found: " + name, Status: http.StatusBadRequest}
}

func limitExceeded(format string, args ...any) *awserr.Error {
	return &awserr.Error{Code: codeLimitExceeded, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func duplicateItem() *awserr.Error {
	return &awserr.Error{Code: codeDuplicateItem, Message: "Duplicate primary key exists in table", Status: http.StatusBadRequest}
}
