// shortapi-mock's Node preload (NODE_OPTIONS="--import=file:///.../node_preload.mjs").
//
// Node's built-in fetch ignores HTTPS_PROXY before Node 24 (and there without
// NODE_USE_ENV_PROXY=1), and http(s).request ignores it always: node-fetch, got and the SDKs
// built on them never see the proxy. This preload sends what they ask of an intercepted host
// (SHORTAPI_MOCK_HOSTS, e.g. api.shortapi.ai) to shortapi-mock's proxy (SHORTAPI_MOCK_PROXY)
// in plain HTTP on loopback, naming the origin meant in the X-Shortapi-Intercept header; the
// proxy hands it to the mock as it would a request that came through its tunnel. Every other
// host is left alone. Nothing here runs when the two variables are missing.

import http from "node:http";
import https from "node:https";
import { syncBuiltinESMExports } from "node:module";

const HEADER = "x-shortapi-intercept";
const proxy = process.env.SHORTAPI_MOCK_PROXY;
const hosts = new Set(
  (process.env.SHORTAPI_MOCK_HOSTS || "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean),
);

function interceptedOrigin(protocol, hostname, port) {
  const host = String(hostname || "").toLowerCase().replace(/\.$/, "");
  if (!hosts.has(host) || (protocol !== "https:" && protocol !== "http:")) return null;
  return `${protocol}//${host}${port ? `:${port}` : ""}`;
}

function patchFetch(proxyUrl) {
  const realFetch = globalThis.fetch;
  if (typeof realFetch !== "function") return;
  globalThis.fetch = async function fetch(input, init) {
    let url;
    try {
      url = new URL(input instanceof Request ? input.url : String(input));
    } catch {
      return realFetch(input, init);
    }
    const origin = interceptedOrigin(url.protocol, url.hostname, url.port);
    if (origin === null) return realFetch(input, init);
    const target = new URL(url.pathname + url.search, proxyUrl);
    const request = new Request(input, init);
    const headers = new Headers(request.headers);
    headers.set(HEADER, origin);
    // The body read whole, so it goes with a Content-Length as the caller's fetch sends it.
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    const response = await realFetch(target, {
      method: request.method,
      headers,
      body: hasBody ? await request.arrayBuffer() : undefined,
      redirect: request.redirect,
      signal: request.signal,
    });
    Object.defineProperty(response, "url", { value: url.href }); // what the caller asked for
    return response;
  };
}

function patchRequest(module, defaultProtocol, proxyUrl, realHttpRequest) {
  const original = module.request;
  const request = function request(...args) {
    const given = [...args];
    let url = null;
    if (typeof args[0] === "string" || args[0] instanceof URL) url = new URL(args.shift());
    const options = args[0] && typeof args[0] === "object" ? { ...args.shift() } : {};
    const callback = typeof args[0] === "function" ? args.shift() : undefined;
    const protocol = options.protocol || (url ? url.protocol : defaultProtocol);
    const hostname =
      options.hostname || (options.host || "").replace(/:\d+$/, "") || (url && url.hostname);
    const port = options.port || (url && url.port) || "";
    const origin = interceptedOrigin(protocol, hostname, port);
    if (origin === null) return original.apply(this, given);
    const path = options.path || (url ? url.pathname + url.search : "/");
    const headers = { ...(options.headers || {}), [HEADER]: origin };
    for (const name of ["protocol", "host", "hostname", "port", "servername", "path"]) {
      delete options[name];
    }
    if (options.agent !== false) delete options.agent; // an https.Agent cannot carry http
    return realHttpRequest(
      {
        ...options,
        protocol: "http:",
        hostname: proxyUrl.hostname,
        port: proxyUrl.port,
        path,
        headers,
      },
      callback,
    );
  };
  module.request = request;
  module.get = function get(...args) {
    const req = request(...args);
    req.end();
    return req;
  };
}

if (proxy && hosts.size > 0) {
  const proxyUrl = new URL(proxy);
  const realHttpRequest = http.request.bind(http);
  patchFetch(proxyUrl);
  patchRequest(https, "https:", proxyUrl, realHttpRequest);
  patchRequest(http, "http:", proxyUrl, realHttpRequest);
  syncBuiltinESMExports(); // so `import { request } from "node:https"` sees the patch too
}
