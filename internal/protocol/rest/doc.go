// Package rest implements the rest-json and rest-xml protocols on the server
// side: routing a request to its operation by method, path and literal query
// parameters; decoding URI labels, query strings, headers and the body into
// generic values (see package model); and writing results and errors the way
// AWS services that speak these protocols (S3, CloudFront, Lambda, EKS) do.
//
// Everything is driven by the API model. Routing uses a table built once per
// *model.API and cached in the codec value; paths are matched on the raw,
// still-escaped path and label values are percent-decoded individually, so
// S3 keys such as "a%2Fb//../c" arrive intact. The same table holds each
// operation's binding: its header members by canonical header key and its
// query members by name, so decoding looks at each request header and query
// parameter once instead of asking the request for every member the shape
// declares, and response headers are written under keys canonicalised in
// advance.
//
// # Values
//
// Besides the types listed in package model, a string member with the
// jsonvalue trait decodes to (and encodes from) the decoded JSON value (any),
// and a streaming payload is an io.Reader over the request body on input and
// a *protocol.Stream (or []byte / string) on output.
//
// # Fidelity
//
//   - An unroutable rest-json request answers 404 UnknownOperationException;
//     an unroutable rest-xml request answers 405 MethodNotAllowed when some
//     operation has the path under another method, else 501 NotImplemented.
//   - Malformed bodies answer 400 SerializationException (rest-json) or
//     400 MalformedXML (rest-xml, S3's wording).
//   - Response documents are named by the output shape's locationName; S3
//     output shapes carry none in the model, so S3's root element names are
//     kept in a small table (s3RootNames) and S3 documents carry S3's
//     namespace.
//   - Virtual-hosted S3 addressing (bucket in Host) is not handled here: the
//     caller rewrites the path before routing.
package rest
