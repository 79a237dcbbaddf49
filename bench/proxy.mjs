// The bench's loopback proxy: the one origin both libraries' pages are served from and
// post their events to. It forwards to souk-server and counts, per request, the bytes
// that arrive from the browser (request line, headers, body), so both libraries are
// weighed at the same place. It also serves the bench's own pages and scripts, and
// analytics-next's settings (what cdn.segment.com would serve), so nothing leaves the
// machine.
import http from "node:http";
import zlib from "node:zlib";

/**
 * analytics-next posts to `<apiHost>/<first letter of the type>`; souk-server speaks
 * Segment's HTTP API paths. The proxy rewrites the former to the latter.
 */
const SHORT_PATHS = { t: "track", p: "page", i: "identify", a: "alias", g: "group", s: "screen", b: "batch" };
const DELIVERY = new Set(["track", "page", "identify", "alias", "group", "screen", "batch"]);

/** Where a browser request goes upstream, and what kind it is for the counters. */
function route(pathname) {
  const short = pathname.match(/^(?:\/v1)?\/([tpiagsb])$/);
  if (short) return { path: `/v1/${SHORT_PATHS[short[1]]}`, kind: "delivery", rewritten: true };
  const api = pathname.match(/^\/v1\/([a-z]+)$/);
  if (api && DELIVERY.has(api[1])) return { path: pathname, kind: "delivery", rewritten: false };
  if (pathname === "/v1/consent") return { path: pathname, kind: "consent", rewritten: false };
  return { path: pathname, kind: "other", rewritten: false };
}

/** Bytes of the request as it came over the socket, without the body: line, headers, blank line. */
function headBytes(req) {
  let n = Buffer.byteLength(`${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`) + 2;
  const cookie = { bytes: 0 };
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const line = Buffer.byteLength(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`);
    n += line;
    if (req.rawHeaders[i].toLowerCase() === "cookie") cookie.bytes += line;
  }
  return { head: n, cookie: cookie.bytes };
}

/** The answer's body as text, whatever the server compressed it with. */
function decoded(body, encoding) {
  if (encoding === "gzip") return zlib.gunzipSync(body).toString("utf8");
  if (encoding === "br") return zlib.brotliDecompressSync(body).toString("utf8");
  if (encoding === "deflate") return zlib.inflateSync(body).toString("utf8");
  return body.toString("utf8");
}

/** How many messages souk-server stored, from its answer to a delivery request. */
function storedFrom(path, status, body, encoding) {
  if (status !== 200) return 0;
  try {
    const answer = JSON.parse(decoded(body, encoding));
    if (path === "/v1/batch") return Number(answer.accepted) || 0;
    return answer.success === true && !answer.duplicate && !answer.duplicates ? 1 : 0;
  } catch {
    return 0;
  }
}

const emptyCounters = () => ({
  delivery: { requests: 0, headBytes: 0, bodyBytes: 0, cookieBytes: 0, stored: 0, rewritten: 0, statuses: {}, paths: {} },
  consent: { requests: 0, headBytes: 0, bodyBytes: 0 },
  settings: { requests: 0 },
});

/**
 * Starts the proxy on 127.0.0.1 (free port) in front of `upstream` (souk-server's URL).
 * `files` maps a path to `{ type, body }` served as is; `settings(writeKey)` answers
 * `/v1/projects/<writeKey>/settings`. Returns `{ url, counters(), reset(), stop() }`.
 */
export async function startProxy({ upstream, files, settings }) {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let counters = emptyCounters();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://proxy");
    const file = files.get(url.pathname);
    if (req.method === "GET" && file) {
      // Cross-origin isolation gives the page performance.now() at 5 µs, not 100 µs.
      const isolation = file.type.startsWith("text/html")
        ? { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" }
        : {};
      res.writeHead(200, { "Content-Type": file.type, "Cache-Control": "no-store", ...isolation });
      res.end(file.body);
      return;
    }
    const project = url.pathname.match(/^\/v1\/projects\/([^/]+)\/settings$/);
    if (req.method === "GET" && project) {
      counters.settings.requests++;
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify(settings(decodeURIComponent(project[1]))));
      return;
    }

    const { path, kind, rewritten } = route(url.pathname);
    const { head, cookie } = headBytes(req);
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const headers = { ...req.headers, host: target.host };
      const upstreamReq = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: path + url.search, headers, agent },
        (upstreamRes) => {
          const answer = [];
          upstreamRes.on("data", (chunk) => answer.push(chunk));
          upstreamRes.on("end", () => {
            const text = Buffer.concat(answer);
            if (kind === "delivery" && req.method === "POST") {
              const c = counters.delivery;
              c.requests++;
              c.headBytes += head;
              c.bodyBytes += body.length;
              c.cookieBytes += cookie;
              if (rewritten) c.rewritten++;
              c.statuses[upstreamRes.statusCode] = (c.statuses[upstreamRes.statusCode] || 0) + 1;
              const key = `${url.pathname} → ${path}`;
              c.paths[key] = (c.paths[key] || 0) + 1;
              c.stored += storedFrom(path, upstreamRes.statusCode, text, upstreamRes.headers["content-encoding"]);
            } else if (kind === "consent" && req.method === "POST") {
              counters.consent.requests++;
              counters.consent.headBytes += head;
              counters.consent.bodyBytes += body.length;
            }
            res.writeHead(upstreamRes.statusCode, upstreamRes.headers);
            res.end(text);
          });
        },
      );
      upstreamReq.on("error", (err) => {
        res.writeHead(502, { "Content-Type": "text/plain" });
        res.end(`bench proxy: ${err.message}`);
      });
      upstreamReq.end(body);
    });
  });

  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    counters: () => counters,
    reset() {
      const before = counters;
      counters = emptyCounters();
      return before;
    },
    stop() {
      agent.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
