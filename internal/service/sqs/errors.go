package sqs

import (
	"fmt"
	"net/http"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

// Wire error codes: the json error shape name and, for query clients and the
// x-amzn-query-error header, the legacy query code.
const (
	codeQueueDoesNotExist     = "QueueDoesNotExist"
	codeQueueNameExists       = "QueueNameExists"
	codeInvalidAttributeName  = "InvalidAttributeName"
	codeInvalidAttributeValue = "InvalidAttributeValue"
	codeInvalidParameterValue = "InvalidParameterValue"
	codeMissingParameter      = "MissingParameter"
	codeReceiptHandleInvalid  = "ReceiptHandleIsInvalid"
	codeMessageNotInflight    = "MessageNotInflight"
	codeInvalidMessage        = "InvalidMessageContents"
	codeEmptyBatch            = "EmptyBatchRequest"
	codeTooManyEntries        = "TooManyEntriesInBatchRequest"
	codeBatchIDsNotDistinct   = "BatchEntryIdsNotDistinct"
	codeBatchTooLong          = "BatchRequestTooLong"
	codeInvalidBatchEntryID   = "InvalidBatchEntryId"
	codePurgeInProgress       = "PurgeQueueInProgress"
	codeInvalidAddress        = "InvalidAddress"
	codeUnsupportedOperation  = "UnsupportedOperation"
	codeResourceNotFound      = "ResourceNotFoundException"
	codeOverLimit             = "OverLimit"
)

// queryCodes maps json error shape names to the legacy query codes.
var queryCodes = map[string]string{
	codeQueueDoesNotExist:    "AWS.SimpleQueueService.NonExistentQueue",
	codeQueueNameExists:      "QueueAlreadyExists",
	codeMessageNotInflight:   "AWS.SimpleQueueService.MessageNotInflight",
	codeEmptyBatch:           "AWS.SimpleQueueService.EmptyBatchRequest",
	codeTooManyEntries:       "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
	codeBatchIDsNotDistinct:  "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
	codeBatchTooLong:         "AWS.SimpleQueueService.BatchRequestTooLong",
	codeInvalidBatchEntryID:  "AWS.SimpleQueueService.InvalidBatchEntryId",
	codePurgeInProgress:      "AWS.SimpleQueueService.PurgeQueueInProgress",
	codeUnsupportedOperation: "AWS.SimpleQueueService.UnsupportedOperation",
}

var statuses = map[string]int{
	codePurgeInProgress:      http.StatusForbidden,
	codeOverLimit:            http.StatusForbidden,
	codeResourceNotFound:     http.StatusNotFound,
	codeReceiptHandleInvalid: http.StatusNotFound,
}

func sqsErr(code, format string, args ...any) *awserr.Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	st := statuses[code]
	if st == 0 {
		st = http.StatusBadRequest
	}
	return &awserr.Error{Code: code, Message: msg, Status: st, QueryCode: queryCodes[code]}
}

func errNoQueue() *awserr.Error {
	return sqsErr(codeQueueDoesNotExist, "The specified queue does not exist.")
}

func errMissing(param string) *awserr.Error {
	return sqsErr(codeMissingParameter, "The request must contain the parameter %s.", param)
}

func errParam(value any, param, reason string) *awserr.Error {
	return sqsErr(codeInvalidParameterValue, "Value %v for parameter %s is invalid. Reason: %s", value, param, reason)
}

func errAttrValue(name string) *awserr.Error {
	return sqsErr(codeInvalidAttributeValue, "Invalid value for the parameter %s.", name)
}
