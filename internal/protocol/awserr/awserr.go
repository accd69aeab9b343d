// Package awserr defines the error value every layer of Overcast returns when a
// request must fail the way AWS would fail it: a wire error code, a message, an
// HTTP status and the fault side. Codecs turn it into the protocol's error shape.
package awserr

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an AWS error as a client sees it.
type Error struct {
	// Code is the wire error code, e.g. "NoSuchBucket" or "ValidationError".
	Code string
	// Message is the human-readable message.
	Message string
	// Status is the HTTP status code; 0 means 400.
	Status int
	// Receiver marks a server-side fault ("Receiver"/"Server"); false is "Sender"/"Client".
	Receiver bool
	// QueryCode is the legacy query-protocol code for query-compatible services
	// (e.g. "AWS.SimpleQueueService.NonExistentQueue"); empty means Code.
	QueryCode string
	// Fields are extra members of the error shape (e.g. S3's BucketName, DynamoDB's
	// CancellationReasons), encoded next to code and message.
	Fields map[string]any
	// Header holds extra response headers (e.g. x-amz-bucket-region).
	Header http.Header
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// HTTPStatus returns Status, defaulting to 400 for sender faults and 500 for receiver faults.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	if e.Receiver {
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// Fault returns "Sender" or "Receiver".
func (e *Error) Fault() string {
	if e.Receiver {
		return "Receiver"
	}
	return "Sender"
}

// New returns a sender error with status 400.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

// WithStatus returns a sender error with the given status.
func WithStatus(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: status}
}

// Internal wraps an unexpected failure as a 500 InternalFailure without leaking
// its text to the client beyond a short description.
func Internal(err error) *Error {
	return &Error{Code: "InternalFailure", Message: "internal error: " + err.Error(), Status: http.StatusInternalServerError, Receiver: true}
}

// As returns err as an *Error, converting any other error into Internal(err).
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}

// Common codes shared by every service.
const (
	CodeValidation            = "ValidationError"
	CodeInvalidAction         = "InvalidAction"
	CodeNotImplemented        = "NotImplemented"
	CodeMissingAuthentication = "MissingAuthenticationToken"
	CodeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	CodeIncompleteSignature   = "IncompleteSignature"
	CodeInvalidClientTokenID  = "InvalidClientTokenId"
	CodeRequestExpired        = "RequestExpired"
	CodeRequestTimeTooSkewed  = "RequestTimeTooSkewed"
	CodeAccessDenied          = "AccessDenied"
	CodeSerialization         = "SerializationException"
	CodeMalformedQueryString  = "MalformedQueryString"
	CodeUnknownOperation      = "UnknownOperationException"
	CodeInternalFailure       = "InternalFailure"
)
