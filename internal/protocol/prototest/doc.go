// Package prototest runs AWS's protocol test suites in reverse against a
// server-side codec (protocol.Codec).
//
// # Approach
//
// AWS publishes, for each wire protocol, test cases written for clients: an
// input case says "these parameters serialize to this HTTP request", an output
// case says "this HTTP response parses to this result". A server does the
// opposite of a client, so the runner turns each case around:
//
//   - Input cases (RunInput): the runner builds an *http.Request from the
//     case's serialized form (method, URI with query, headers, host, body),
//     asks the codec which operation it names and checks it is the case's
//     operation, then decodes it and compares the generic values (see package
//     model) with the case's params, converted to the same value types by
//     walking the input shape. Timestamps given as epoch numbers become
//     time.Time in UTC, blobs become []byte, integers int64, floats float64,
//     streaming bodies are read and compared as bytes, and jsonvalue members
//     are the decoded JSON value. Idempotency tokens a client fills in by
//     itself appear on the wire but not in params; such members are ignored
//     when params omit them.
//   - Output cases (RunOutput): the runner converts the case's result into
//     generic values the same way, has the codec write the response to an
//     httptest.ResponseRecorder, and compares status, every expected header
//     (names case-insensitively; dates as instants) and the body structurally:
//     JSON bodies as parsed values (numbers numerically, date strings as
//     instants), XML bodies as element trees (xmlenc.Parse) ignoring
//     whitespace-only text, namespace declarations, the XML declaration and the
//     root element's name (clients never read it; the suites use a made-up
//     one), with same-named children compared in order and the order between
//     differently named siblings ignored. Other bodies compare byte for byte.
//
// A case the server side cannot meaningfully run (client-only behaviour, such
// as ignoring response data the model does not define) is skipped with its
// reason in the test log. Every other case must pass; a caller may list
// cases known to fail (Runner.KnownFailures), which are reported, still run,
// and fail the test once they start passing so the list cannot go stale.
//
// Each case is a subtest named "<suite description> <suite>.<case>", e.g.
// "Greedy_keys_19.0" once Go has replaced the spaces.
package prototest
