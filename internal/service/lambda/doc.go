// Package lambda is AWS Lambda: functions that really run, as local
// processes, behind the real Lambda Runtime API.
//
// The control plane (CreateFunction, Get/List/Update/Delete, versions,
// aliases with weighted routing, layers, reserved concurrency, resource
// policies, event invoke configs, tags, event-source mappings) stores one
// record per function in the KV store and code packages in the blob store.
//
// Invoke unpacks the package (and its layers) once per code revision under
// the code directory and runs it in an execution environment: a process
// supervised by internal/runtime/proc with its own Runtime API listener on
// loopback (package runtimeapi), so `bootstrap` programs built with
// aws-lambda-go, or any custom runtime, run unchanged; python3.x and nodejs
// functions run under small bootstraps of ours (embedded) with the
// machine's python3 and node. Environments are kept warm and reused, one
// invocation at a time each; concurrent invocations get new environments up
// to the function's reserved concurrency or the account's unreserved
// concurrency (1000 by default, WithAccountConcurrency), beyond which
// synchronous invocations throttle with TooManyRequestsException (429) and
// asynchronous ones wait in the queue. Idle environments are reaped after
// WithIdleTimeout.
//
// Each invocation's output, framed by START, END and REPORT lines (Duration,
// Billed Duration, Memory Size, Max Memory Used from the process group's
// RSS, Init Duration on cold starts), goes to the LogSink (CloudWatch Logs,
// group /aws/lambda/<name>) and, with LogType Tail, back to the caller. The
// AWS/Lambda metrics Invocations, Errors, Throttles, Duration and
// ConcurrentExecutions go to the metrics publisher.
//
// Other services invoke functions through [Service.Invoke] (S3 event
// notifications, CloudWatch alarm actions and Logs subscription filters, as
// wired by the server, each with the event AWS sends); event-source mappings
// poll SQS ([QueueSource]) and DynamoDB Streams ([StreamSource]) from
// controller loops.
//
// Function URLs are served on their own host,
// <url-id>.lambda-url.<region>.localhost[:port] ([Service.ServeHost]):
// each request invokes the function with the payload format version 2.0
// event, and the response (statusCode, headers, cookies, body,
// isBase64Encoded, or any other JSON as a 200 application/json body) is
// mapped back to HTTP. AWS_IAM URLs verify the SigV4 signature
// ([URLAuthenticator]).
//
// # Fidelity
//
//   - Only Zip packages run; PackageType Image is refused. provided.*,
//     go1.x (bootstrap or the handler binary), python3.x and nodejs*
//     runtimes run; others (java, dotnet, ruby) are accepted by
//     CreateFunction and fail at Invoke with InvalidRuntimeException, as does
//     a python or node function when the interpreter is not installed. The
//     interpreter is the machine's, whatever its version.
//   - Code runs in LAMBDA_TASK_ROOT = <code dir>/<digest>/task, not
//     /var/task; layers are unpacked in order into a sibling opt directory
//     (not /opt), with opt/bin on PATH, opt/lib on LD_LIBRARY_PATH,
//     opt/python on PYTHONPATH and opt/nodejs/node_modules on NODE_PATH.
//     /tmp is a per-environment TMPDIR. Memory size and ephemeral storage
//     are reported, not enforced; there is no sandbox beyond a process
//     group. The architecture is not checked against the machine's.
//   - State is Pending only in the CreateFunction response and
//     LastUpdateStatus InProgress only in the update responses: code is
//     ready at once, so the next read says Active / Successful (the SDK
//     waiters FunctionActiveV2 and FunctionUpdatedV2 finish at their first
//     poll).
//   - Credentials: the server wires STS so that each environment gets
//     temporary credentials of the execution role (AssumeRole at the cold
//     start, session named after the function, one hour: an environment kept
//     warm longer holds expired credentials); a role that does not exist in
//     IAM, or a server without STS, gives the server's root credentials
//     (WithCredentials). AWS_ENDPOINT_URL points back at Overcast (the Host
//     of the last API request unless WithEndpoint).
//   - Resource policies are stored and returned; enforcing them is the IAM
//     engine's job (PolicyStatements exposes them).
//   - Timeouts kill the environment ("Task timed out after N.00 seconds",
//     errorType Sandbox.Timedout); init is limited to 10 seconds. Response
//     payloads over 6291556 bytes fail with Function.ResponseSizeTooLarge.
//   - Log lines are attributed to an invocation by when they were read from
//     the process's pipe; after the response, the invocation waits (up to
//     20 ms) until the pipe holds no unread output, so output written
//     before the response lands before END. Output written after it (by
//     background threads) lands with the next invocation; output beyond
//     1 MiB between two invocations is dropped with a notice.
//   - The asynchronous queue is in memory: queued events are lost on
//     restart. Retries follow Lambda (two by default, one minute then two;
//     WithRetryDelay), throttled events wait and retry until MaximumEventAge.
//     Destinations: SQS, SNS and Lambda (EventBridge and S3 are accepted but
//     not delivered without a Destination that handles them).
//   - Event-source mappings: SQS (batch size, batching window,
//     ReportBatchItemFailures, filter criteria) and DynamoDB Streams
//     (starting position, batch size, bisect, retries, on-failure
//     destination, filter criteria) with one poller per mapping polling every
//     500 ms; no poller scaling, Kinesis/Kafka/MQ mappings are stored but not
//     polled, and filter patterns support the common operators (values,
//     prefix, exists, anything-but, numeric).
//   - Function URLs: the host is under localhost over plain HTTP, not
//     https://<id>.lambda-url.<region>.on.aws. The resource policy is not
//     checked (NONE URLs need no lambda:InvokeFunctionUrl statement, AWS_IAM
//     URLs need only a valid signature); CORS settings are stored and
//     returned, not applied; RESPONSE_STREAM URLs answer buffered.
//   - Provisioned concurrency: configs on versions and aliases are stored;
//     Put starts and initialises that many environments in the background
//     (Status IN_PROGRESS until they are up, then READY), and invocations
//     that use them report no Init Duration. The environments are not
//     pinned: they serve any invocation of that version and are reaped when
//     idle like others; no ProvisionedConcurrency* metrics or spillover
//     accounting.
//   - Not implemented (NotImplemented): InvokeWithResponseStream (the
//     rest-json codec has no event-stream encoder), code signing, recursion and
//     runtime management configs, durable executions, capacity providers,
//     layer version permissions.
package lambda
