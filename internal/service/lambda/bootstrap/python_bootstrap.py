"""Overcast's Lambda runtime for Python: runs a handler against the Lambda
Runtime API at AWS_LAMBDA_RUNTIME_API, as the AWS Python runtime does."""
import http.client
import importlib
import json
import logging
import os
import sys
import time
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
PREFIX = "/2018-06-01/runtime"
_conn = None
_request_id = [""]


def _request(method, path, body=None, headers=None):
    global _conn
    for attempt in range(2):
        if _conn is None:
            _conn = http.client.HTTPConnection(API, timeout=None)
        try:
            _conn.request(method, PREFIX + path, body=body, headers=headers or {})
            resp = _conn.getresponse()
            data = resp.read()
            return resp, data
        except (http.client.HTTPException, ConnectionError, OSError):
            _conn.close()
            _conn = None
            if attempt:
                raise


def _error_doc(exc, tb=None):
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": _request_id[0],
        "stackTrace": traceback.format_list(traceback.extract_tb(tb or exc.__traceback__))[1:] if tb or exc.__traceback__ else [],
    }


def _post_error(path, doc):
    body = json.dumps(doc).encode()
    _request("POST", path, body, {"Content-Type": "application/json",
                                  "Lambda-Runtime-Function-Error-Type": doc.get("errorType", "Unhandled")})


class _RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _request_id[0]
        return True


def _setup_logging():
    h = logging.StreamHandler(sys.stdout)
    h.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
                                     "%Y-%m-%dT%H:%M:%S"))
    h.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(h)
    root.setLevel(logging.WARNING)


class Context:
    def __init__(self, headers):
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms", "0") or 0)
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn", "")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        cc = headers.get("Lambda-Runtime-Client-Context")
        self.client_context = json.loads(cc) if cc else None
        ci = headers.get("Lambda-Runtime-Cognito-Identity")
        self.identity = json.loads(ci) if ci else None

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _load_handler(spec):
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", "."))
    try:
        modname, fname = spec.rsplit(".", 1)
    except ValueError:
        return None, {"errorMessage": "Bad handler '%s': not enough values to unpack (expected 2, got 1)" % spec,
                      "errorType": "Runtime.MalformedHandlerName", "requestId": "", "stackTrace": []}
    modname = modname.replace("/", ".")
    try:
        mod = importlib.import_module(modname)
    except ImportError as e:
        return None, {"errorMessage": "Unable to import module '%s': %s" % (modname, e),
                      "errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []}
    except SyntaxError as e:
        return None, {"errorMessage": "Syntax error in module '%s': %s" % (modname, e),
                      "errorType": "Runtime.UserCodeSyntaxError", "requestId": "",
                      "stackTrace": traceback.format_exception_only(type(e), e)}
    except Exception as e:
        return None, _error_doc(e)
    fn = getattr(mod, fname, None)
    if fn is None:
        return None, {"errorMessage": "Handler '%s' missing on module '%s'" % (fname, modname),
                      "errorType": "Runtime.HandlerNotFound", "requestId": "", "stackTrace": []}
    return fn, None


def main():
    _setup_logging()
    handler, err = _load_handler(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("_HANDLER", ""))
    if err is not None:
        print("[ERROR] %s: %s" % (err["errorType"], err["errorMessage"]), flush=True)
        _post_error("/init/error", err)
        sys.exit(1)
    while True:
        resp, body = _request("GET", "/invocation/next")
        headers = {k: v for k, v in resp.getheaders()}
        rid = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        _request_id[0] = rid
        trace = headers.get("Lambda-Runtime-Trace-Id")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        try:
            event = json.loads(body) if body else {}
            result = handler(event, Context(headers))
            out = json.dumps(result).encode()
        except Exception as e:
            doc = _error_doc(e)
            print("[ERROR] %s: %s\nTraceback (most recent call last):\n%s" % (
                doc["errorType"], doc["errorMessage"], "".join(doc["stackTrace"])), flush=True)
            _post_error("/invocation/%s/error" % rid, doc)
            continue
        sys.stdout.flush()
        _request("POST", "/invocation/%s/response" % rid, out, {"Content-Type": "application/json"})


if __name__ == "__main__":
    main()
