// A fault-injecting HTTP proxy on loopback, for the chaos test: it sits between the
// browser and souk-server and, for each POST while chaos is on, picks one fault with
// a seeded random generator. Pages and files (GET) always pass.
import http from "node:http";

/** The faults, with their weights while chaos is on. */
export const FAULTS = {
  pass: 62,
  drop: 6, // the connection closes before the request reaches the server
  reset: 4, // the connection is reset (TCP RST) as the request arrives
  lostAnswer: 6, // the server stores the batch, but its answer never reaches the browser
  error500: 8,
  tooMany429: 6, // 429 with Retry-After: 1
  stall: 6, // held for 1 to 3 s, then passed on
  hang: 2, // never answered: the browser has to give up
};
const MAX_HANGS = 2;

/** xorshift32, so a run's fault sequence is reproducible from its seed. */
function random(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const readBody = (req) =>
  new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });

/** Passes one request on to `upstream` and reads the whole answer. */
function forward(upstream, req, body) {
  return new Promise((resolve, reject) => {
    const options = { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers };
    const out = http.request(options, (answer) => {
      readBody(answer).then((data) => resolve({ status: answer.statusCode, headers: answer.headers, data }), reject);
    });
    out.on("error", reject);
    out.end(body);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts the proxy in front of `target` (souk-server's URL). `chaos` switches the
 * faults on and off; `counts` says how often each happened; `inFlight` is how many
 * POSTs are being handled right now.
 */
export async function startChaosProxy(target, seed) {
  const upstream = new URL(target);
  const next = random(seed);
  const total = Object.values(FAULTS).reduce((a, b) => a + b, 0);
  const proxy = { chaos: true, counts: Object.fromEntries(Object.keys(FAULTS).map((f) => [f, 0])), inFlight: 0, posts: 0 };
  const sockets = new Set();

  function pick() {
    let roll = next() * total;
    for (const [fault, weight] of Object.entries(FAULTS)) {
      if ((roll -= weight) < 0) return fault === "hang" && proxy.counts.hang >= MAX_HANGS ? "pass" : fault;
    }
    return "pass";
  }

  async function handle(req, res) {
    const fault = req.method === "POST" && proxy.chaos ? pick() : "pass";
    if (req.method === "POST") {
      proxy.counts[fault] += 1;
      proxy.posts += 1;
    }
    if (fault === "reset") return req.socket.resetAndDestroy();
    const body = await readBody(req);
    if (fault === "drop") return req.socket.destroy();
    if (fault === "error500") return res.writeHead(500, { "Content-Type": "text/plain" }).end("chaos");
    if (fault === "tooMany429") return res.writeHead(429, { "Retry-After": "1" }).end();
    if (fault === "hang") return; // the browser's timeout, or stop(), ends it
    if (fault === "stall") await sleep(1000 + next() * 2000);
    const answer = await forward(upstream, req, body);
    if (fault === "lostAnswer") return req.socket.destroy();
    res.writeHead(answer.status, answer.headers).end(answer.data);
  }

  const server = http.createServer((req, res) => {
    const post = req.method === "POST";
    if (post) proxy.inFlight += 1;
    handle(req, res)
      .catch(() => req.socket.destroy())
      .finally(() => post && (proxy.inFlight -= 1));
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${server.address().port}`;
  proxy.stop = () => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  };
  return proxy;
}
