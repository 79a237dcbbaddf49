// npm run bench: what tracking costs a shop's page and the wire, souk against
// @segment/analytics-next, in one headless Chromium against one souk-server behind a
// loopback proxy that weighs every request; then souk-server's ingest rate under a
// bounded local load. Prints figures; it is no test and asserts only that the events
// it counts arrived. See bench/README.md.
//
//   node bench/tracking.mjs [--no-build]
//
// Environment: BENCH_CALLS (2000), BENCH_WARMUP (200), BENCH_GAP_MS (0: one call per
// task), BENCH_INGEST_EVENTS (200000), BENCH_INGEST_CONCURRENCY (8), CHROMIUM_BIN.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { startServer as startSoukServer } from "../tests/e2e/harness.mjs";
import { ingestLoad } from "./ingest.mjs";
import { startProxy } from "./proxy.mjs";
import { giveUpAfter, launchLoopbackBrowser, log } from "./common.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const BENCH = new URL(".", import.meta.url).pathname;
const SERVER_BIN = join(ROOT, "target/release/souk-server");
const WRITE_KEY = "souk_demo_write_key";
const CALLS = Number(process.env.BENCH_CALLS || 2000);
const WARMUP = Number(process.env.BENCH_WARMUP || 200);
const GAP_MS = Number(process.env.BENCH_GAP_MS || 0);
const INGEST_EVENTS = Number(process.env.BENCH_INGEST_EVENTS || 200_000);
const INGEST_CONCURRENCY = Number(process.env.BENCH_INGEST_CONCURRENCY || 8);
const NO_BUILD = process.argv.includes("--no-build");
// --profile: also sample the page's CPU (CDP Profiler) during the measured calls and
// print where each library spends it; analytics-next is then bundled unminified, and
// the sampling itself slows the page, so the timings of such a run are not the figures.
const PROFILE = process.argv.includes("--profile");

// The whole run is bounded: past this it gives up and says so.
giveUpAfter(15);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- souk-server

/** Starts the release souk-server on a fresh SQLite file; resolves once it listens. */
async function startServer() {
  const www = mkdtempSync(join(tmpdir(), "souk-bench-www-"));
  const server = await startSoukServer({ www, bin: SERVER_BIN });
  return {
    ...server,
    /** How many messages are stored, through `souk-server events --format csv` to a file. */
    count() {
      const file = join(server.dir, "events.csv");
      execFileSync(SERVER_BIN, ["events", "--db", server.db, "--format", "csv", "--out", file]);
      const bytes = readFileSync(file);
      let lines = 0;
      for (const byte of bytes) if (byte === 10) lines++;
      rmSync(file);
      return lines - 1; // the header
    },
    dbBytes: () => statSync(server.db).size,
    async stop() {
      await server.stop();
      rmSync(www, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- pages

const html = (title, head) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>${head}</head>` +
  `<body><h1>${title}</h1><p>A page of the tracking bench.</p></body></html>`;

/** The shop's page with souk: the README's snippet, init, consent granted by the shop's code. */
function soukPage(snippet) {
  return html(
    "bench: souk",
    `<script>${snippet}\nsouk.init({ writeKey: ${JSON.stringify(WRITE_KEY)}, apiHost: location.origin });</script>` +
      `<script src="/bench/page.js"></script>` +
      `<script>
souk.on("error", (error) => bench.errors.push(error.name + ": " + error.message));
bench.setup(async () => {
  souk.consent.set({ analytics: true });
  if (!(await souk.ready())) throw new Error("souk went quiet");
  return { track: window.souk.track };
});
</script>`,
  );
}

/** The same page with analytics-next, loaded the npm way; `options` picks its delivery. */
function ajsPage(options) {
  return html(
    "bench: analytics-next",
    `<script src="/bench/page.js"></script><script src="/bench/analytics-next.js"></script>` +
      `<script>
bench.setup(async () => {
  const analytics = AnalyticsBrowser.load({ writeKey: ${JSON.stringify(WRITE_KEY)}, cdnURL: location.origin }, ${JSON.stringify(options)});
  analytics.on("error", (error) => bench.errors.push(String(error && (error.code || error.reason) || error)));
  await analytics.ready();
  analytics.page();
  return { track: analytics.track, version: analytics.VERSION };
});
</script>`,
  );
}

/** The harness alone, timing an empty function: what the loop itself costs the page. */
const baselinePage = () =>
  html("bench: baseline", `<script src="/bench/page.js"></script><script>bench.setup(() => ({ track() {} }));</script>`);

/** What cdn.segment.com would answer for the write key: only the Segment.io destination, pointed here. */
function ajsSettings(proxyHost) {
  return (writeKey) => ({
    integrations: {
      "Segment.io": {
        apiKey: writeKey,
        apiHost: `${proxyHost}/v1`,
        protocol: "http",
        unbundledIntegrations: [],
        addBundledMetadata: true,
        maybeBundledConfigIds: {},
      },
    },
    plan: {},
    edgeFunction: {},
    analyticsNextEnabled: true,
    middlewareSettings: {},
    enabledMiddleware: {},
    // Segment's remote metrics (a beacon of its own to <host>/m) stay off here.
    metrics: { sampleRate: 0 },
    legacyVideoPluginsEnabled: false,
    remotePlugins: [],
  });
}

// ---------------------------------------------------------------- measuring

const sorted = (values) => [...values].sort((a, b) => a - b);
const percentile = (values, p) => values[Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1))];

async function taskSeconds(cdp) {
  const { metrics } = await cdp.send("Performance.getMetrics");
  const get = (name) => metrics.find((m) => m.name === name)?.value ?? NaN;
  return { task: get("TaskDuration"), script: get("ScriptDuration") };
}

/**
 * Waits until the proxy has seen `target` messages stored, or until nothing new has
 * arrived for `quietMs` (then the count stays short and the report says so).
 */
async function waitStored(proxy, target, { quietMs = 8000, maxMs = 90_000 } = {}) {
  const started = Date.now();
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const stored = proxy.counters().delivery.stored;
    if (stored >= target) return stored;
    if (stored !== last) [last, lastChange] = [stored, Date.now()];
    if (Date.now() - lastChange > quietMs || Date.now() - started > maxMs) return stored;
    await sleep(50);
  }
}

/** One library in a fresh browser context: warm-up, measured calls, delivery, figures. */
async function measure(browser, proxy, server, { label, path, noop = false }) {
  log(`${label}: loading ${path}`);
  const context = await browser.newContext();
  const page = await context.newPage();
  const foreign = [];
  const problems = [];
  page.on("request", (request) => {
    if (new URL(request.url()).host !== proxy.host) foreign.push(request.url());
  });
  page.on("pageerror", (error) => problems.push("page error: " + error));
  page.on("console", (message) => message.type() === "error" && problems.push("console: " + message.text()));
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");

  const storedBefore = server.count();
  proxy.reset();
  await page.goto(proxy.url + path);
  const ready = await page.evaluate(() => window.bench.ready);
  const perCall = noop ? 0 : 1;
  const setupEvents = noop ? 0 : 1; // the page view: souk's own on consent, analytics.page() for analytics-next

  await page.evaluate((o) => window.bench.run(o).then(() => null), { calls: WARMUP, gapMs: GAP_MS, noop, offset: 0 });
  await waitStored(proxy, setupEvents + WARMUP * perCall);

  if (PROFILE) {
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
    await cdp.send("Profiler.start");
  }
  const m0 = await taskSeconds(cdp);
  const { samples, start, end } = await page.evaluate((o) => window.bench.run(o), { calls: CALLS, gapMs: GAP_MS, noop, offset: WARMUP });
  const loopDone = Date.now();
  const storedInPage = await waitStored(proxy, setupEvents + (WARMUP + CALLS) * perCall);
  const deliveredMs = Date.now() - loopDone;
  await sleep(300);
  const m1 = await taskSeconds(cdp);
  const profile = PROFILE ? topFunctions((await cdp.send("Profiler.stop")).profile) : null;
  const longTasks = await page.evaluate((since) => window.bench.longTasksSince(since), start);
  const libraryErrors = await page.evaluate(() => window.bench.errors.slice());
  await context.close();
  await sleep(300); // anything sent on pagehide
  const counters = proxy.reset();

  const all = server.events();
  const arrived = all.slice(storedBefore);
  const byType = {};
  for (const m of arrived) {
    const key = m.type === "track" ? `track "${m.event}"` : m.type;
    byType[key] = (byType[key] || 0) + 1;
  }
  const libraries = [...new Set(arrived.map((m) => m.context?.library && `${m.context.library.name} ${m.context.library.version}`))];
  const s = sorted(samples);
  return {
    label,
    ready,
    calls: CALLS,
    medianUs: percentile(s, 50) * 1000,
    p95Us: percentile(s, 95) * 1000,
    meanUs: (samples.reduce((a, b) => a + b, 0) / samples.length) * 1000,
    maxUs: s[s.length - 1] * 1000,
    loopMs: end - start,
    busyMs: (m1.task - m0.task) * 1000,
    busyUsPerCall: ((m1.task - m0.task) / CALLS) * 1e6,
    scriptUsPerCall: ((m1.script - m0.script) / CALLS) * 1e6,
    longTasks,
    deliveredMs,
    allStoredInPage: storedInPage >= setupEvents + (WARMUP + CALLS) * perCall,
    counters,
    expected: setupEvents + (WARMUP + CALLS) * perCall,
    arrived: arrived.length,
    byType,
    libraries,
    sampleMessage: arrived.find((m) => m.type === "track"),
    foreign,
    problems,
    libraryErrors,
    profile,
  };
}

/** The functions with the most self time in a CPU profile: [{ name, ms, share }]. */
function topFunctions(profile, count = 15) {
  const self = new Map();
  const intervals = profile.timeDeltas;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)" || functionName === "(program)") return;
    const file = url ? url.slice(url.lastIndexOf("/") + 1) : "";
    const key = `${functionName || "(anonymous)"} ${file}${url ? ":" + (lineNumber + 1) : ""}`;
    const us = intervals[i + 1] ?? intervals[i] ?? 0;
    self.set(key, (self.get(key) || 0) + us);
    total += us;
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, ms: us / 1000, share: us / total }));
}

// ---------------------------------------------------------------- reporting

const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : "n/a");

function bytesPerEvent(r) {
  const d = r.counters.delivery;
  return { total: (d.headBytes + d.bodyBytes) / r.arrived, head: d.headBytes / r.arrived, body: d.bodyBytes / r.arrived, cookie: d.cookieBytes / r.arrived };
}

function gzipKB(buffers) {
  return buffers.reduce((sum, b) => sum + gzipSync(b, { level: 9 }).length, 0) / 1024;
}

function gitDescribe() {
  try {
    const sha = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: ROOT, encoding: "utf8" }).trim();
    return sha + (dirty ? " + uncommitted changes" : "");
  } catch {
    return "unknown commit";
  }
}

// ---------------------------------------------------------------- main

async function main() {
  if (!NO_BUILD) {
    log("npm run build (the plugin, into dist/)");
    execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: ["ignore", process.stderr, process.stderr] });
    log("cargo build --release -p souk-server");
    execFileSync("cargo", ["build", "--release", "-p", "souk-server"], { cwd: ROOT, stdio: ["ignore", process.stderr, process.stderr] });
  }

  const ajsVersion = JSON.parse(readFileSync(join(ROOT, "node_modules/@segment/analytics-next/package.json"), "utf8")).version;
  const soukVersion = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
  const serverVersion = execFileSync(SERVER_BIN, ["--version"], { encoding: "utf8" }).trim();
  const snippet = readFileSync(join(ROOT, "dist/snippet.min.js"), "utf8").trim();

  log("bundling @segment/analytics-next with esbuild");
  const bundled = await build({
    entryPoints: [join(BENCH, "ajs-entry.js")],
    bundle: true,
    format: "iife",
    minify: !PROFILE,
    target: "es2020",
    platform: "browser",
    write: false,
    legalComments: "none",
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "warning",
  });
  const ajsBundle = Buffer.from(bundled.outputFiles[0].contents);

  const server = await startServer();
  const files = new Map([
    ["/bench/page.js", { type: "text/javascript", body: readFileSync(join(BENCH, "page.js")) }],
    ["/bench/analytics-next.js", { type: "text/javascript", body: ajsBundle }],
  ]);
  let settingsFor = () => ({});
  const proxy = await startProxy({ upstream: server.url, files, settings: (key) => settingsFor(key) });
  settingsFor = ajsSettings(proxy.host);
  files.set("/bench/baseline.html", { type: "text/html; charset=utf-8", body: baselinePage() });
  files.set("/bench/souk.html", { type: "text/html; charset=utf-8", body: soukPage(snippet) });
  files.set("/bench/ajs-default.html", { type: "text/html; charset=utf-8", body: ajsPage({}) });
  files.set("/bench/ajs-batching.html", {
    type: "text/html; charset=utf-8",
    body: ajsPage({ integrations: { "Segment.io": { deliveryStrategy: { strategy: "batching" } } } }),
  });

  const browser = await launchLoopbackBrowser();
  const chromiumVersion = browser.version();

  let results;
  let ingest;
  try {
    const baseline = await measure(browser, proxy, server, { label: "harness only (empty function)", path: "/bench/baseline.html", noop: true });
    const souk = await measure(browser, proxy, server, { label: `souk ${soukVersion}`, path: "/bench/souk.html" });
    const ajsDefault = await measure(browser, proxy, server, { label: `analytics-next ${ajsVersion}, default delivery`, path: "/bench/ajs-default.html" });
    const ajsBatching = await measure(browser, proxy, server, { label: `analytics-next ${ajsVersion}, batching (size 10, 5 s)`, path: "/bench/ajs-batching.html" });
    results = { baseline, souk, ajsDefault, ajsBatching };
  } finally {
    await browser.close();
    await proxy.stop();
    await server.stop();
  }

  log(`ingest: ${INGEST_EVENTS} events in batches of 100 from ${INGEST_CONCURRENCY} clients, fresh SQLite file`);
  const ingestServer = await startServer();
  try {
    ingest = await ingestLoad({ url: ingestServer.url, writeKey: WRITE_KEY, total: INGEST_EVENTS, concurrency: INGEST_CONCURRENCY });
    ingest.stored = ingestServer.count();
    ingest.dbMB = ingestServer.dbBytes() / 1048576;
  } finally {
    await ingestServer.stop();
  }

  report(results, ingest, { chromiumVersion, ajsVersion, soukVersion, serverVersion, ajsBundle });
  const short = Object.values(results).filter((r) => r.arrived !== r.expected || r.foreign.length);
  if (short.length) {
    console.error(`bench: ${short.map((r) => r.label).join(", ")}: not every event arrived, or a request left loopback`);
    process.exitCode = 1;
  }
}

function report({ baseline, souk, ajsDefault, ajsBatching }, ingest, versions) {
  const libs = [souk, ajsDefault, ajsBatching];
  const net = (r) => r.busyUsPerCall - baseline.busyUsPerCall;
  const out = [];
  const p = (line = "") => out.push(line);

  p("## Events that arrived at souk-server (souk-server events --format jsonl)");
  p();
  for (const r of libs) {
    const kinds = Object.entries(r.byType).map(([k, n]) => `${n} ${k}`).join(", ");
    p(`- ${r.label}: ${r.arrived} of ${r.expected} expected (${kinds}); context.library ${r.libraries.join(", ")}`);
    const d = r.counters.delivery;
    p(`  - ${d.requests} delivery requests (${Object.entries(d.paths).map(([k, n]) => `${n}× ${k}`).join(", ")}), HTTP ${JSON.stringify(d.statuses)}`);
    p(`  - measured loop ${fmt(r.loopMs, 0)} ms (${fmt((CALLS / r.loopMs) * 1000, 0)} calls/s); ${r.allStoredInPage ? `last event stored ${r.deliveredMs} ms after the loop` : `NOT all stored while the page was open (gave up waiting after ${r.deliveredMs} ms; the rest came on pagehide or not at all)`}; main-thread busy ${fmt(r.busyMs, 0)} ms from the loop's start until then (harness alone: ${fmt(baseline.busyMs, 0)} ms)`);
    if (r.counters.consent.requests) p(`  - plus ${r.counters.consent.requests} consent proof request(s), ${r.counters.consent.headBytes + r.counters.consent.bodyBytes} bytes, not counted per event`);
    if (r.counters.settings.requests) p(`  - plus ${r.counters.settings.requests} settings request(s) to the local stand-in for cdn.segment.com`);
    if (r.foreign.length) p(`  - REQUESTS OFF LOOPBACK: ${r.foreign.join(", ")}`);
    if (r.libraryErrors.length) p(`  - library errors: ${r.libraryErrors.slice(0, 5).join(" | ")}${r.libraryErrors.length > 5 ? " …" : ""}`);
    if (r.problems.length) p(`  - page problems: ${r.problems.slice(0, 5).join(" | ")}`);
  }
  p();
  // What each library puts in a message: the byte figure is only fair read with this.
  const shape = (m) => (m ? `${JSON.stringify(m).length} bytes as stored; fields ${Object.keys(m).sort().join(", ")}; context ${Object.keys(m.context || {}).sort().join(", ")}` : "none stored");
  p(`One track message, souk: ${shape(souk.sampleMessage)}`);
  p(`One track message, analytics-next: ${shape(ajsDefault.sampleMessage)}`);
  p();

  p(`## Tracking: ${CALLS} \`track("Product Added", …)\` calls after ${WARMUP} warm-up, one per task (setTimeout(${GAP_MS}))`);
  p();
  p("| library | track() sync median µs | p95 µs | mean µs | max µs | main-thread busy / call µs (net of harness) | long tasks (n, ms) | ready at ms | delivery requests | bytes / event on the wire (headers + body) | of which headers (cookie) | events arrived |");
  p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of [baseline, ...libs]) {
    const b = r.arrived ? bytesPerEvent(r) : null;
    const lt = r.longTasks ? `${r.longTasks[0]}, ${fmt(r.longTasks[1], 0)}` : "n/a";
    const busy = r === baseline ? `${fmt(r.busyUsPerCall)} (raw)` : `${fmt(net(r))} (raw ${fmt(r.busyUsPerCall)})`;
    p(
      `| ${r.label} | ${fmt(r.medianUs)} | ${fmt(r.p95Us)} | ${fmt(r.meanUs)} | ${fmt(r.maxUs, 0)} | ${busy} | ${lt} | ${fmt(r.ready.readyAtMs, 0)} | ` +
        `${r.counters.delivery.requests} | ${b ? fmt(b.total, 0) : "–"} | ${b ? `${fmt(b.head, 0)} (${fmt(b.cookie, 0)})` : "–"} | ${r.arrived} / ${r.expected} |`,
    );
  }
  p();
  p("| ratio (analytics-next ÷ souk) | track() sync median | p95 | main-thread busy / call (net) | bytes / event |");
  p("|---|---:|---:|---:|---:|");
  for (const r of [ajsDefault, ajsBatching]) {
    p(`| ${r.label} | ${ratio(r.medianUs, souk.medianUs)} | ${ratio(r.p95Us, souk.p95Us)} | ${ratio(net(r), net(souk))} | ${ratio(bytesPerEvent(r).total, bytesPerEvent(souk).total)} |`);
  }
  p();
  p(`Code the page loads, gzip -9: souk ${fmt(gzipKB(["dist/souk.js", "dist/souk_runtime.js", "dist/souk_bg.wasm"].map((f) => readFileSync(join(ROOT, f)))))} KB ` +
    `(snippet inline, loader, runtime, wasm; the banner chunk only when asked) · analytics-next ${fmt(gzipKB([versions.ajsBundle]))} KB (esbuild bundle, minified)`);
  p();

  p(`## souk-server ingest: ${ingest.total} events, POST /v1/batch of ${ingest.batchSize}, ${ingest.concurrency} concurrent clients, fresh SQLite file (release build)`);
  p();
  p("| events | requests | wall s | events / s | request p50 ms | p99 ms | max ms | stored (export) | body bytes / event | db MB |");
  p("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  p(`| ${ingest.total} | ${ingest.requests} | ${fmt(ingest.seconds, 2)} | ${fmt(ingest.eventsPerSecond, 0)} | ${fmt(ingest.p50, 1)} | ${fmt(ingest.p99, 1)} | ${fmt(ingest.max, 1)} | ${ingest.stored} | ${fmt(ingest.bodyBytesPerEvent, 0)} | ${fmt(ingest.dbMB, 1)} |`);
  p();

  const cpu = cpus();
  p("## Machine and versions");
  p();
  p(`- ${cpu.length} cores (${cpu[0]?.model.trim()}), ${fmt(totalmem() / 2 ** 30, 0)} GiB; the load generator, the proxy and the server share them`);
  p(`- Chromium ${versions.chromiumVersion} headless (${process.env.CHROMIUM_BIN || "/usr/bin/chromium"}), playwright-core, cross-origin isolated page: ${souk.ready.isolated} (performance.now() to 5 µs when true, 100 µs when not)`);
  p(`- Node ${process.version}`);
  p(`- souk ${versions.soukVersion} (${gitDescribe()}), ${versions.serverVersion}`);
  p(`- @segment/analytics-next ${versions.ajsVersion} (reports VERSION ${ajsDefault.ready.version}), bundled with esbuild`);
  if (PROFILE) {
    for (const r of libs) {
      p(`### CPU profile, measured calls: ${r.label} (self time, sampled every 200 µs)`);
      p();
      for (const f of r.profile) p(`- ${fmt(f.ms, 1)} ms (${fmt(f.share * 100, 0)} %) ${f.name}`);
      p();
    }
  }
  console.log(out.join("\n"));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
