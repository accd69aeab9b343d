// Overcast's Lambda runtime for Node.js: runs a handler against the Lambda
// Runtime API at AWS_LAMBDA_RUNTIME_API, as the AWS Node.js runtime does.
"use strict";
const http = require("http");
const path = require("path");
const fs = require("fs");
const url = require("url");

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const PREFIX = "/2018-06-01/runtime";

function request(method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: PREFIX + p, agent, headers: headers || {} }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ res, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

function errorDoc(err) {
  if (!(err instanceof Error)) {
    return { errorType: "Error", errorMessage: String(err), trace: [] };
  }
  return {
    errorType: err.name || "Error",
    errorMessage: err.message,
    trace: (err.stack || "").split("\n"),
  };
}

function postError(p, doc) {
  return request("POST", p, JSON.stringify(doc), {
    "Content-Type": "application/json",
    "Lambda-Runtime-Function-Error-Type": doc.errorType,
  });
}

async function loadHandler(spec) {
  const root = process.env.LAMBDA_TASK_ROOT || ".";
  const dot = spec.lastIndexOf(".");
  if (dot < 0) {
    return [null, { errorType: "Runtime.MalformedHandlerName", errorMessage: "Bad handler " + spec, trace: [] }];
  }
  const modPath = spec.slice(0, dot);
  const fnPath = spec.slice(dot + 1);
  const base = path.resolve(root, modPath);
  let mod;
  try {
    let file = null;
    for (const ext of [".js", ".mjs", ".cjs", ""]) {
      if (fs.existsSync(base + ext) && fs.statSync(base + ext).isFile()) { file = base + ext; break; }
    }
    if (file === null) {
      throw Object.assign(new Error("Cannot find module '" + modPath + "'"), { code: "MODULE_NOT_FOUND" });
    }
    if (file.endsWith(".mjs")) {
      mod = await import(url.pathToFileURL(file).href);
    } else {
      try {
        mod = require(file);
      } catch (e) {
        if (e.code !== "ERR_REQUIRE_ESM") throw e;
        mod = await import(url.pathToFileURL(file).href);
      }
    }
  } catch (e) {
    if (e.code === "MODULE_NOT_FOUND") {
      return [null, { errorType: "Runtime.ImportModuleError", errorMessage: "Error: Cannot find module '" + modPath + "'", trace: [] }];
    }
    if (e instanceof SyntaxError) {
      return [null, { errorType: "Runtime.UserCodeSyntaxError", errorMessage: String(e), trace: (e.stack || "").split("\n") }];
    }
    return [null, errorDoc(e)];
  }
  let fn = mod;
  for (const part of fnPath.split(".")) fn = fn && fn[part];
  if (typeof fn !== "function" && mod && mod.default) {
    fn = mod.default;
    for (const part of fnPath.split(".")) fn = fn && fn[part];
  }
  if (typeof fn !== "function") {
    return [null, { errorType: "Runtime.HandlerNotFound", errorMessage: modPath + "." + fnPath + " is undefined or not exported", trace: [] }];
  }
  return [fn, null];
}

function invokeHandler(fn, event, context) {
  return new Promise((resolve, reject) => {
    let done = false;
    const callback = (err, result) => {
      if (done) return;
      done = true;
      err ? reject(err) : resolve(result);
    };
    try {
      const r = fn(event, context, callback);
      if (r && typeof r.then === "function") {
        r.then((v) => callback(null, v), (e) => callback(e));
      } else if (fn.length < 3) {
        callback(null, r);
      }
    } catch (e) {
      callback(e);
    }
  });
}

async function main() {
  const [handler, err] = await loadHandler(process.argv[2] || process.env._HANDLER || "");
  if (err) {
    console.error(err.errorType + ": " + err.errorMessage);
    await postError("/init/error", err);
    process.exit(1);
  }
  for (;;) {
    const { res, body } = await request("GET", "/invocation/next");
    const h = res.headers;
    const rid = h["lambda-runtime-aws-request-id"];
    const deadline = Number(h["lambda-runtime-deadline-ms"] || 0);
    if (h["lambda-runtime-trace-id"]) process.env._X_AMZN_TRACE_ID = h["lambda-runtime-trace-id"];
    const context = {
      awsRequestId: rid,
      invokedFunctionArn: h["lambda-runtime-invoked-function-arn"],
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      clientContext: h["lambda-runtime-client-context"] ? JSON.parse(h["lambda-runtime-client-context"]) : undefined,
      identity: h["lambda-runtime-cognito-identity"] ? JSON.parse(h["lambda-runtime-cognito-identity"]) : undefined,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    let result;
    try {
      const event = body.length ? JSON.parse(body.toString()) : {};
      result = await invokeHandler(handler, event, context);
    } catch (e) {
      const doc = errorDoc(e);
      console.error(new Date().toISOString() + "\t" + rid + "\tERROR\tInvoke Error \t" + JSON.stringify(doc));
      await postError("/invocation/" + rid + "/error", doc);
      continue;
    }
    const out = result === undefined ? "null" : JSON.stringify(result);
    await request("POST", "/invocation/" + rid + "/response", out, { "Content-Type": "application/json" });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
