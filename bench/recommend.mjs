// npm run bench:recommend: what on-device recommendations cost a shop's page, over
// synthetic catalogues of 1k, 10k and 50k products: the time to load the model into
// the scorer (souk-recommend, dist/souk_recommend_bg.wasm), the time for a top-10 on
// each surface, the model's size raw and gzipped, and the widget's and the scorer's
// gzip sizes. Prints figures; it is no test. See bench/README.md.
//
//   node bench/recommend.mjs [--no-build]
//
// Environment: BENCH_REC_SIZES (1000,10000,50000), BENCH_REC_CALLS (1000 per surface),
// BENCH_REC_WARMUP (100), BENCH_REC_LOADS (9 decodes per size), CHROMIUM_BIN.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import { cpus, loadavg, totalmem } from "node:os";
import { extname, join, normalize } from "node:path";
import { gzipSync } from "node:zlib";
import { giveUpAfter, launchLoopbackBrowser, log } from "./common.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const OUT = join(ROOT, "target/bench");
const SIZES = (process.env.BENCH_REC_SIZES || "1000,10000,50000").split(",").map(Number);
const CALLS = Number(process.env.BENCH_REC_CALLS || 1000);
const WARMUP = Number(process.env.BENCH_REC_WARMUP || 100);
const LOADS = Number(process.env.BENCH_REC_LOADS || 9);
const K = 20;
const LIMIT = 10;
const AIM_MS = 2;
const NO_BUILD = process.argv.includes("--no-build");

// The whole run is bounded: past this it gives up and says so.
giveUpAfter(10);

const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;
const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "–");

// ---------------------------------------------------------------- the models

/** Writes target/bench/model-N.bin (+ .profile.txt, .queries.json) with the Rust generator. */
function generate(products) {
  const file = join(OUT, `model-${products}.bin`);
  execFileSync("cargo", [
    "run", "--quiet", "--release", "-p", "souk-recommend", "--example", "synthetic_model", "--",
    "--products", String(products), "--k", String(K), "--out", file,
  ], { cwd: ROOT, stdio: ["ignore", process.stderr, process.stderr] });
  return {
    products,
    file,
    bytes: readFileSync(file),
    profile: readFileSync(`${file}.profile.txt`, "utf8"),
    queries: JSON.parse(readFileSync(`${file}.queries.json`, "utf8")),
  };
}

// ---------------------------------------------------------------- the page

const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bench: recommendations</title></head>
<body><h1>bench: recommendations</h1><script type="module">
import init, { Recommender } from "/dist/souk_recommend.js";
const sorted = (values) => [...values].sort((a, b) => a - b);
const pct = (values, p) => values[Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1))];
const stats = (values) => {
  const s = sorted(values);
  return {
    median: pct(s, 50), p95: pct(s, 95), p99: pct(s, 99), max: s[s.length - 1],
    mean: values.reduce((a, b) => a + b, 0) / values.length, over1ms: values.filter((v) => v >= 1).length,
  };
};
window.bench = {
  isolated: self.crossOriginIsolated,
  async init() {
    const t0 = performance.now();
    await init({ module_or_path: "/dist/souk_recommend_bg.wasm" });
    return performance.now() - t0;
  },
  // One catalogue: decode it "loads" times (fetch excluded), then time "calls" top-N
  // calls per surface after "warmup" unmeasured ones.
  async run({ products, profile, queries, loads, calls, warmup, limit }) {
    const bytes = new Uint8Array(await (await fetch("/models/" + products + ".bin")).arrayBuffer());
    const decode = [];
    let rec = null;
    for (let i = 0; i < loads; i++) {
      if (rec) rec.free();
      const t = performance.now();
      rec = new Recommender(bytes);
      decode.push(performance.now() - t);
    }
    const now = queries.now_ms;
    const rules = {};
    const surfaces = {
      similar: (i) => rec.recommend("similar", queries.similar[i % queries.similar.length], [], undefined, now, limit, i % 2 ? "ar" : "en", rules),
      cart: (i) => { const c = queries.carts[i % queries.carts.length]; return rec.recommend("cart", c, c, undefined, now, limit, i % 2 ? "ar" : "en", rules); },
      "for-you": (i) => rec.recommend("for-you", undefined, [], profile, now, limit, i % 2 ? "ar" : "en", rules),
      // The glue alone, nearly: a product the model does not have, so no neighbours,
      // no category, only the trending list.
      "unknown product (trending only)": (i) => rec.recommend("similar", "nope", [], undefined, now, limit, "en", rules),
    };
    const out = { products: rec.products, decode: stats(decode), surfaces: {}, bare: {} };
    // The same calls with limit 0: the arguments, the profile's decoding and the
    // scoring, but no picks and no cards built for JS. The difference is the cards.
    for (const [name, call] of Object.entries(surfaces)) {
      const bare = (i) => { const keep = limit; limit = 0; try { return call(i); } finally { limit = keep; } };
      for (let i = 0; i < warmup; i++) bare(i);
      const start = performance.now();
      for (let i = 0; i < calls; i++) bare(i);
      out.bare[name] = (performance.now() - start) / calls;
    }
    for (const [name, call] of Object.entries(surfaces)) {
      for (let i = 0; i < warmup; i++) call(i);
      const times = new Array(calls);
      let cards = 0;
      const start = performance.now();
      for (let i = 0; i < calls; i++) {
        const t = performance.now();
        const picks = call(i);
        times[i] = performance.now() - t;
        cards += picks.length;
      }
      const loop = performance.now() - start;
      out.surfaces[name] = { ...stats(times), loopMean: loop / calls, cardsPerCall: cards / calls };
    }
    rec.free();
    return out;
  },
};
window.benchReady = true;
</script></body></html>`;

const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html; charset=utf-8", ".bin": "application/octet-stream" };

/** Serves the page, dist/ and the models on 127.0.0.1, cross-origin isolated. */
function serve(models) {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, "http://bench").pathname;
    let body = null;
    let type = "application/octet-stream";
    if (path === "/favicon.ico") {
      res.writeHead(204).end();
      return;
    } else if (path === "/" || path === "/index.html") {
      [body, type] = [PAGE, TYPES[".html"]];
    } else if (path.startsWith("/dist/") && !normalize(path).includes("..")) {
      try {
        body = readFileSync(join(ROOT, normalize(path)));
        type = TYPES[extname(path)] || type;
      } catch {
        body = null;
      }
    } else {
      const m = path.match(/^\/models\/(\d+)\.bin$/);
      const model = m && models.get(Number(m[1]));
      if (model) body = model.bytes;
    }
    if (body === null) {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, {
      "Content-Type": type,
      "Cache-Control": "no-store",
      // Cross-origin isolation gives the page performance.now() at 5 µs, not 100 µs.
      "Cross-Origin-Opener-Policy": "same-origin",
      "Cross-Origin-Embedder-Policy": "require-corp",
      "Cross-Origin-Resource-Policy": "same-origin",
    });
    res.end(body);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}`, stop: () => new Promise((r) => server.close(r)) });
    });
  });
}

// ---------------------------------------------------------------- main

async function main() {
  if (!NO_BUILD) {
    log("npm run build (the plugin, into dist/)");
    execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: ["ignore", process.stderr, process.stderr] });
  }
  const models = new Map();
  for (const products of SIZES) {
    log(`generating a synthetic model of ${products} products (K=${K})`);
    models.set(products, generate(products));
  }
  // dist/ as the page will load it, read once, so a concurrent rebuild cannot mix files.
  const dist = Object.fromEntries(
    ["souk_recommendations.js", "souk_recommend.js", "souk_recommend_bg.wasm"].map((f) => [f, readFileSync(join(ROOT, "dist", f))]),
  );

  const server = await serve(models);
  const browser = await launchLoopbackBrowser();
  const results = [];
  let isolated = false;
  let initMs = NaN;
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = [];
    page.on("pageerror", (err) => problems.push(String(err)));
    page.on("console", (msg) => msg.type() === "error" && problems.push(msg.text()));
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30_000 }).catch(() => {
      throw new Error(`the bench page did not start: ${problems.join(" | ") || "no error reported"}`);
    });
    isolated = await page.evaluate(() => window.bench.isolated);
    initMs = await page.evaluate(() => window.bench.init());
    // One unreported pass over the smallest model first, so the scorer's wasm is
    // already optimised (V8 tiers hot functions up) when the reported figures start.
    const first = [...models.values()][0];
    await page.evaluate((args) => window.bench.run(args), {
      products: first.products, profile: first.profile, queries: first.queries,
      loads: 2, calls: CALLS, warmup: WARMUP, limit: LIMIT,
    });
    for (const model of models.values()) {
      log(`measuring ${model.products} products: ${LOADS} loads, ${WARMUP} + ${CALLS} calls per surface`);
      const r = await page.evaluate((args) => window.bench.run(args), {
        products: model.products, profile: model.profile, queries: model.queries,
        loads: LOADS, calls: CALLS, warmup: WARMUP, limit: LIMIT,
      });
      results.push({ model, ...r });
    }
    if (problems.length) log(`page problems: ${problems.slice(0, 5).join(" | ")}`);
    await context.close();
  } finally {
    await browser.close();
    await server.stop();
  }
  report(results, { isolated, initMs, dist });
}

function report(results, { isolated, initMs, dist }) {
  const out = [];
  const p = (line = "") => out.push(line);
  const us = (ms) => fmt(ms * 1000, 0);
  const surfaces = ["similar", "cart", "for-you"];

  p(`## Recommendations on the device: top-${LIMIT}, K=${K}, headless Chromium`);
  p();
  p(`| products | neighbours / product | model raw KB | gzip -9 KB | gzip B / product | load (decode) median ms | ${surfaces.map((s) => `${s} median / p95 µs`).join(" | ")} | calls ≥ 1 ms (slowest, µs) | glue + trending only, median µs |`);
  p(`|---:|---:|---:|---:|---:|---:|${surfaces.map(() => "---:").join("|")}|---:|---:|`);
  for (const r of results) {
    const raw = r.model.bytes.length;
    const gz = gzip(r.model.bytes);
    const s = r.surfaces;
    const slowest = Math.max(...surfaces.map((name) => s[name].max));
    p(
      `| ${r.products.toLocaleString("en")} | ${fmt(r.model.queries.neighbours / r.products, 1)} | ${fmt(raw / 1024, 0)} | ${fmt(gz / 1024, 0)} | ${fmt(gz / r.products, 1)} | ` +
        `${fmt(r.decode.median, 2)} (p95 ${fmt(r.decode.p95, 2)}) | ` +
        surfaces.map((name) => `${us(s[name].median)} / ${us(s[name].p95)}`).join(" | ") +
        ` | ${surfaces.reduce((n, name) => n + s[name].over1ms, 0)} of ${3 * CALLS} (${us(slowest)}) | ${us(s["unknown product (trending only)"].median)} |`,
    );
  }
  p();
  p("Where a call's time goes: each surface's mean per call over the whole measured loop (finer than the 5 µs timer), " +
    "then the same calls with limit 0 (arguments in, profile decoded, candidates scored and ranked, no picks and no cards out), and cards returned per call:");
  p();
  for (const r of results) {
    const parts = [...surfaces, "unknown product (trending only)"].map((name) =>
      `${name} ${fmt(r.surfaces[name].loopMean * 1000, 1)} µs (limit 0: ${fmt(r.bare[name] * 1000, 1)} µs; ${fmt(r.surfaces[name].cardsPerCall, 1)} cards)`);
    p(`- ${r.products.toLocaleString("en")} products: ${parts.join(", ")}`);
  }
  p();
  const worst = Math.max(...results.map((r) => Math.max(...surfaces.map((name) => r.surfaces[name].p95))));
  const biggest = results[results.length - 1];
  p(`Aim: a top-${LIMIT} over 50k products under ${AIM_MS} ms. Worst p95 of any surface and size: ${fmt(worst * 1000, 0)} µs (${worst < AIM_MS ? "under" : "OVER"} the aim).`);
  if (results.length > 1) {
    const first = results[0];
    const per = (r) => gzip(r.model.bytes) / r.products;
    p(`Model growth: ${fmt(per(first), 1)} → ${fmt(per(biggest), 1)} gzip bytes per product from ${first.products.toLocaleString("en")} to ${biggest.products.toLocaleString("en")} products (×${fmt(biggest.products / first.products, 0)} products, ×${fmt(gzip(biggest.model.bytes) / gzip(first.model.bytes), 1)} bytes).`);
  }
  p();
  const gz = (name) => gzip(dist[name]);
  p("| code the page loads for recommendations | raw bytes | gzip -9 bytes |");
  p("|---|---:|---:|");
  p(`| widget chunk \`dist/souk_recommendations.js\` | ${dist["souk_recommendations.js"].length} | ${gz("souk_recommendations.js")} |`);
  p(`| scorer glue \`dist/souk_recommend.js\` | ${dist["souk_recommend.js"].length} | ${gz("souk_recommend.js")} |`);
  p(`| scorer wasm \`dist/souk_recommend_bg.wasm\` | ${dist["souk_recommend_bg.wasm"].length} | ${gz("souk_recommend_bg.wasm")} |`);
  p(`| scorer, glue + wasm | ${dist["souk_recommend.js"].length + dist["souk_recommend_bg.wasm"].length} | ${gz("souk_recommend.js") + gz("souk_recommend_bg.wasm")} |`);
  p();
  const cpu = cpus();
  p(`Machine: ${cpu.length} cores (${cpu[0]?.model.trim()}), ${fmt(totalmem() / 2 ** 30, 0)} GiB, load average ${loadavg().map((l) => fmt(l, 2)).join(" ")} at the end; Node ${process.version}; ` +
    `Chromium headless (${process.env.CHROMIUM_BIN || "/usr/bin/chromium"}); cross-origin isolated page: ${isolated} (performance.now() to 5 µs when true); ` +
    `scorer init (wasm fetch + compile) ${fmt(initMs, 1)} ms. ${LOADS} loads per size; ${WARMUP} warm-up + ${CALLS} measured calls per surface, ` +
    `similar over ${results[0]?.model.queries.similar.length} product pages and cart over as many 3-item carts (drawn towards popular products), for-you with a full profile ` +
    `(${results.map((r) => `${r.model.profile.length} B`).join(", ")}), cards alternately in en and ar.`);
  console.log(out.join("\n"));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
