// A fault-injecting HTTP proxy on loopback, for the chaos tests: it sits between the
// browser and souk-server and, for each POST while chaos is on, picks one fault with
// a seeded random generator. Pages and files (GET) always pass. Server-Sent Events
// (`text/event-stream` answers) pass through as they come; with `cutStreams`, while
// chaos is on, some are refused as they open and the others are cut mid-way.
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

/** What happens to an event stream while chaos is on (with `cutStreams`), one deck. */
export const STREAM_FAULTS = {
  cut: 3, // passed on, then the connection is destroyed after 0.3 to 2.5 s
  refused: 1, // answered 503 as it opens: the browser's EventSource gives up on it
};

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

/** Deals from a deck holding `cards` (fault → how many), shuffled by `next`, reshuffled when used up. */
function dealer(cards, next) {
  let deck = [];
  return () => {
    if (!deck.length) {
      deck = Object.entries(cards).flatMap(([fault, count]) => Array(count).fill(fault));
      for (let i = deck.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [deck[i], deck[j]] = [deck[j], deck[i]];
      }
    }
    return deck.pop();
  };
}

const readBody = (req) =>
  new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });

/** Passes one request on to `upstream`; resolves with the answer as it starts. */
function forward(upstream, req, body, outgoing) {
  return new Promise((resolve, reject) => {
    const options = { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers };
    const out = http.request(options, resolve);
    outgoing.add(out);
    out.on("close", () => outgoing.delete(out));
    out.on("error", reject);
    out.end(body);
  });
}

const isStream = (answer) => /^text\/event-stream/i.test(answer.headers["content-type"] || "");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts the proxy in front of `target` (souk-server's URL). `chaos` switches the
 * faults on and off; `counts` says how often each happened; `inFlight` is how many
 * faultable requests are being handled right now; `plan(fault, match)` gives `fault`
 * to the next faultable request that `match(req)` accepts, while chaos is on. Options:
 * - `faulty(req)`: which requests get faults (default: every POST);
 * - `deck` (fault → count): deal the faults from a shuffled deck of these cards
 *   instead of drawing them by FAULTS' weights, so each happens once per deck;
 * - `cutStreams`: the event-stream faults (dealt from STREAM_FAULTS) while chaos is
 *   on, counted in `streams` (`opened`, `cut`, `refused`), with their own generator
 *   so they never shift the POSTs' sequence; `proxy.cutStreams` switches them later.
 */
export async function startChaosProxy(target, seed, { faulty = (req) => req.method === "POST", deck, cutStreams = false } = {}) {
  const upstream = new URL(target);
  const next = random(seed);
  const nextForStreams = random(seed ^ 0x5f3759df);
  const total = Object.values(FAULTS).reduce((a, b) => a + b, 0);
  const deal = deck && dealer(deck, next);
  const dealForStream = dealer(STREAM_FAULTS, nextForStreams);
  const proxy = {
    chaos: true,
    cutStreams,
    counts: Object.fromEntries(Object.keys(FAULTS).map((f) => [f, 0])),
    streams: { opened: 0, ...Object.fromEntries(Object.keys(STREAM_FAULTS).map((f) => [f, 0])) },
    inFlight: 0,
    posts: 0,
  };
  const sockets = new Set();
  const outgoing = new Set();
  const planned = [];
  proxy.plan = (fault, match = () => true) => planned.push({ fault, match });

  function pick() {
    const capped = (fault) => (fault === "hang" && proxy.counts.hang >= MAX_HANGS ? "pass" : fault);
    if (deal) return capped(deal());
    let roll = next() * total;
    for (const [fault, weight] of Object.entries(FAULTS)) {
      if ((roll -= weight) < 0) return capped(fault);
    }
    return "pass";
  }

  /** Passes an event stream on as it comes, and cuts it (or refuses it) under chaos. */
  function relayStream(req, res, answer) {
    proxy.streams.opened += 1;
    const fault = proxy.cutStreams && proxy.chaos ? dealForStream() : "pass";
    if (fault === "refused") {
      proxy.streams.refused += 1;
      answer.destroy();
      return res.writeHead(503, { "Content-Type": "text/plain" }).end("chaos");
    }
    res.writeHead(answer.statusCode, answer.headers);
    res.flushHeaders();
    answer.on("data", (chunk) => res.write(chunk));
    answer.on("end", () => res.end());
    answer.on("error", () => req.socket.destroy());
    res.on("close", () => answer.destroy()); // the browser went away: so does the server's stream
    if (fault === "cut") {
      const timer = setTimeout(() => {
        proxy.streams.cut += 1;
        req.socket.destroy();
      }, 300 + nextForStreams() * 2200);
      res.on("close", () => clearTimeout(timer));
    }
  }

  async function handle(req, res, fault) {
    if (fault === "reset") return req.socket.resetAndDestroy();
    const body = await readBody(req);
    if (fault === "drop") return req.socket.destroy();
    if (fault === "error500") return res.writeHead(500, { "Content-Type": "text/plain" }).end("chaos");
    if (fault === "tooMany429") return res.writeHead(429, { "Retry-After": "1" }).end();
    if (fault === "hang") return; // the browser's timeout, or stop(), ends it
    if (fault === "stall") await sleep(1000 + next() * 2000);
    const answer = await forward(upstream, req, body, outgoing);
    if (isStream(answer)) return relayStream(req, res, answer);
    const data = await readBody(answer);
    if (fault === "lostAnswer") return req.socket.destroy();
    res.writeHead(answer.statusCode, answer.headers).end(data);
  }

  const server = http.createServer((req, res) => {
    const chaotic = faulty(req);
    const plan = chaotic && proxy.chaos ? planned.findIndex(({ match }) => match(req)) : -1;
    const fault = plan >= 0 ? planned.splice(plan, 1)[0].fault : chaotic && proxy.chaos ? pick() : "pass";
    if (chaotic) {
      proxy.counts[fault] += 1;
      proxy.posts += 1;
      proxy.inFlight += 1;
    }
    handle(req, res, fault)
      .catch(() => req.socket.destroy())
      .finally(() => chaotic && (proxy.inFlight -= 1));
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${server.address().port}`;
  proxy.stop = () => {
    for (const socket of sockets) socket.destroy();
    for (const out of outgoing) out.destroy();
    return new Promise((resolve) => server.close(resolve));
  };
  return proxy;
}
