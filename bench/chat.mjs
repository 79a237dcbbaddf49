// npm run bench:chat: what the live chat costs a shop's page in bytes, against the
// chat vendors' npm packages, and how long a message takes from one person's Enter to
// the other person's screen, shopper → agent and agent → shopper, between the demo
// shop's <souk-chat> and the agent console, each in its own context of one headless
// Chromium, against a release souk-server on 127.0.0.1. Prints figures; it is no test.
// See bench/README.md.
//
//   node bench/chat.mjs [--no-build]
//
// Environment: BENCH_CHAT_MESSAGES (200 each way), BENCH_CHAT_PER_VISITOR (19),
// BENCH_CHAT_GAP_MS (300 after each message), BENCH_CHAT_SECONDS (300, the measured loop's limit),
// CHROMIUM_BIN.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { startServer, until } from "../tests/e2e/harness.mjs";
import { giveUpAfter, launchLoopbackBrowser, log } from "./common.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const SERVER_BIN = join(ROOT, "target/release/souk-server");
const MESSAGES = Number(process.env.BENCH_CHAT_MESSAGES || 200);
// souk-server lets one visitor send 20 messages at once, then one every 3 s
// (server/src/chat/limit.rs): each visitor opens with one unmeasured message, then
// sends at most 19 measured ones, and the next visitor (a new browser context) goes on.
const PER_VISITOR = Math.min(19, Number(process.env.BENCH_CHAT_PER_VISITOR || 19));
// A pause after each message, as between people: what a message sets off on both
// pages (read receipts, the console's inbox reload 250 ms later) settles before the next.
const GAP_MS = Number(process.env.BENCH_CHAT_GAP_MS ?? 300);
const LOOP_SECONDS = Number(process.env.BENCH_CHAT_SECONDS || 300);
const STEP_MS = 10_000;
const NO_BUILD = process.argv.includes("--no-build");
const AGENT = { email: "noor@shop.example", name: "Noor Haddad", password: "brass-dallah-at-dawn" };

// The whole run is bounded: past this it gives up and says so.
giveUpAfter(10);

const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;
const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "–");
const kb = (bytes) => fmt(bytes / 1024, 1);
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Resolves like `promise`, or rejects after `ms`: no step of the run waits for ever. */
function within(ms, what, promise) {
  let timer;
  const late = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
const version = (pkg) => JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;

// ---------------------------------------------------------------- bytes

/** Bundles `contents` (an entry, importing from node_modules) as a shop's bundler would: minified, for browsers. */
async function bundle(contents, { external = [] } = {}) {
  const result = await build({
    stdin: { contents, resolveDir: ROOT, loader: "js" },
    bundle: true,
    format: "esm",
    minify: true,
    target: "es2020",
    platform: "browser",
    write: false,
    legalComments: "none",
    external,
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "warning",
  });
  return Buffer.from(result.outputFiles[0].contents);
}

async function sizes(distDir) {
  const dist = (name) => readFileSync(join(distDir, name));
  const files = (names) => {
    const raw = names.reduce((sum, name) => sum + dist(name).length, 0);
    const gz = names.reduce((sum, name) => sum + gzip(dist(name)), 0);
    return { raw, gz, names };
  };
  const rows = [];
  rows.push({ what: "souk: the launcher, on the page before any click", ...files(["souk_chat_launcher.js"]), note: "drawn by souk's runtime once `functional` consent is given" });
  const click = files(["souk_chat.js", "souk_chat_client.js", "souk_chat_bg.wasm"]);
  rows.push({ what: "souk: what the first click loads", ...click, note: "the panel + its driver, the chat client's glue and wasm; nothing else is fetched" });
  rows.push({ what: "souk: launcher + first click, the whole chat", raw: rows[0].raw + click.raw, gz: rows[0].gz + click.gz, names: [], note: "" });
  const core = files(["snippet.min.js", "souk.js", "souk_runtime.js", "souk_bg.wasm"]);
  rows.push({ what: "souk core the launcher needs (snippet, loader, runtime, wasm)", ...core, note: "shared with tracking and consent; a shop that uses souk only for chat pays it too" });

  const vendors = [];
  // Crisp's official package wraps `$crisp` and injects the chatbox client from its CDN.
  const crispVersion = version("crisp-sdk-web");
  const crisp = await bundle(`import { Crisp } from "crisp-sdk-web";\nCrisp.configure("00000000-0000-0000-0000-000000000000");\n`);
  vendors.push({
    what: `crisp-sdk-web ${crispVersion} (official), bundled`,
    raw: crisp.length,
    gz: gzip(crisp),
    loads: /https:\/\/client\.crisp\.chat\/l\.js/.test(crisp.toString()) ? "`https://client.crisp.chat/l.js` at runtime" : "a remote script (URL not found in the bundle)",
  });
  // tawk.to's official package is a React component that injects its embed script.
  const tawkVersion = version("@tawk.to/tawk-messenger-react");
  const tawkEntry = `import { createElement } from "react";\nimport { createRoot } from "react-dom/client";\nimport TawkMessengerReact from "@tawk.to/tawk-messenger-react";\n` +
    `createRoot(document.body.appendChild(document.createElement("div"))).render(createElement(TawkMessengerReact, { propertyId: "0", widgetId: "default" }));\n`;
  const tawk = await bundle(tawkEntry, { external: ["react", "react-dom", "react-dom/client"] });
  const tawkLoads = /https:\/\/embed\.\$\{/.test(tawk.toString()) && /tawk\.to/.test(tawk.toString()) ? "`https://embed.tawk.to/{propertyId}/{widgetId}` at runtime" : "a remote script (URL not found in the bundle)";
  vendors.push({ what: `@tawk.to/tawk-messenger-react ${tawkVersion} (official), bundled, React external`, raw: tawk.length, gz: gzip(tawk), loads: tawkLoads, note: "the shop's own React app already carries React" });
  const tawkReact = await bundle(tawkEntry);
  vendors.push({
    what: `@tawk.to/tawk-messenger-react ${tawkVersion} + react ${version("react")} + react-dom ${version("react-dom")}, bundled`,
    raw: tawkReact.length,
    gz: gzip(tawkReact),
    loads: tawkLoads,
    note: "what a shop without React pays to use it",
  });
  return { rows, vendors };
}

// ---------------------------------------------------------------- the two pages

/**
 * In each page: `bench.expect(marker)` before a message is sent; a MutationObserver
 * on `root` records, for each expected marker, `performance.timeOrigin +
 * performance.now()` in the callback of the mutation that first put it in the DOM.
 * `bench.send(text)` fills the composer, fires its `input` (the typing notice), notes
 * the same clock, and dispatches Enter's keydown, which is what both composers listen to.
 */
function installProbe({ root, composer, post }) {
  const now = () => performance.timeOrigin + performance.now();
  // The composer's POST of each message, from Resource Timing: when it was answered.
  const posts = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.initiatorType === "fetch" && post.test(new URL(entry.name).pathname)) {
        posts.push({ start: performance.timeOrigin + entry.startTime, end: performance.timeOrigin + entry.responseEnd });
      }
    }
  }).observe({ type: "resource" });
  const want = new Map();
  const seen = new Map();
  const scope = root();
  const observer = new MutationObserver((mutations) => {
    const at = now();
    if (!want.size) return;
    for (const mutation of mutations) {
      const nodes = mutation.type === "characterData" ? [mutation.target] : mutation.addedNodes;
      for (const node of nodes) {
        const text = node.textContent || "";
        for (const marker of want.keys()) {
          if (text.includes(marker)) {
            seen.set(marker, at);
            want.get(marker)(at);
            want.delete(marker);
          }
        }
      }
    }
  });
  observer.observe(scope, { subtree: true, childList: true, characterData: true });
  window.bench = {
    expect(marker) {
      if (!seen.has(marker) && !want.has(marker)) want.set(marker, () => {});
    },
    /** Resolves to when `marker` reached the DOM, or null after `ms`. */
    arrived(marker, ms) {
      if (seen.has(marker)) return Promise.resolve(seen.get(marker));
      return new Promise((resolve) => {
        const timer = setTimeout(() => (want.delete(marker), resolve(null)), ms);
        want.set(marker, (at) => (clearTimeout(timer), resolve(at)));
      });
    },
    send(text) {
      const field = composer();
      field.focus();
      field.value = text;
      field.dispatchEvent(new Event("input", { bubbles: true, composed: true }));
      const at = now();
      field.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", code: "Enter", bubbles: true, composed: true, cancelable: true }));
      return at;
    },
    /** Resolves to when the first POST started at or after `t` was answered, or null after `ms`. */
    async answered(t, ms) {
      const end = now() + ms;
      for (;;) {
        const found = posts.find((p) => p.start >= t - 1);
        if (found) return found.end;
        if (now() > end) return null;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    /** This page's clock against Date.now(), in ms (the same system clock underneath). */
    skew: () => now() - Date.now(),
    state: () => ({ visibility: document.visibilityState, focus: document.hasFocus() }),
  };
}

const shopperProbe = () => ({
  root: () => document.querySelector("souk-chat").shadowRoot.querySelector("[role=log]"),
  composer: () => document.querySelector("souk-chat").shadowRoot.querySelector("#tx"),
  post: /^\/v1\/chat\/messages$/,
});

const consoleProbe = () => ({
  root: () => document.querySelector("#messages"),
  composer: () => document.querySelector("#reply"),
  post: /^\/v1\/agent\/conversations\/[^/]+\/messages$/,
});

async function openConsole(browser, server) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: "en-US" });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  const problems = [];
  page.on("pageerror", (error) => problems.push(String(error)));
  page.on("console", (m) => m.type() === "error" && !/401/.test(m.text()) && problems.push(m.text()));
  await page.goto(`${server.url}/agent`);
  await page.fill("#login-email", AGENT.email);
  await page.fill("#login-password", AGENT.password);
  await page.press("#login-password", "Enter");
  await page.locator("#inbox").waitFor();
  // The console's CSP refuses Playwright's waitForFunction; `until` polls from outside.
  await until(page, () => document.querySelector("#connection")?.dataset.state === "live", STEP_MS);
  return { context, page, problems };
}

/** A new visitor: a fresh context on a product page, consent accepted, the chat open. */
async function openShopper(browser, server) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  const problems = [];
  const requests = [];
  const statuses = {};
  page.on("pageerror", (error) => problems.push(String(error)));
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  page.on("request", (r) => requests.push(new URL(r.url()).pathname));
  page.on("response", (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith("/v1/chat/")) statuses[r.status()] = (statuses[r.status()] || 0) + 1;
  });
  await page.goto(`${server.url}/product.html?id=p001&lang=en`);
  // souk.ready() raced with a timer: a page that never gets ready must not hold the run.
  await until(page, () => Promise.race([window.souk.ready(), new Promise((r) => setTimeout(() => r(false), 1000))]), 20_000);
  await page.getByRole("button", { name: "Accept all", exact: true }).click();
  await page.locator("souk-chat").getByRole("button", { name: "Chat with us" }).waitFor();
  const beforeClick = requests.filter((p) => p.includes("souk_chat"));
  await page.locator("souk-chat").getByRole("button", { name: "Chat with us" }).click();
  await page.locator("souk-chat #tx").waitFor();
  const onClick = requests.filter((p) => p.includes("souk_chat") && !beforeClick.includes(p));
  await page.evaluate(`(${installProbe})((${shopperProbe})())`);
  return { context, page, problems, statuses, beforeClick, onClick };
}

// ---------------------------------------------------------------- latency

async function latency(server) {
  const browser = await launchLoopbackBrowser();
  const out = { toAgent: [], toShopper: [], postUp: [], postDown: [], lost: { toAgent: 0, toShopper: 0 }, visitors: 0, problems: [], statuses: {}, skews: [], states: [] };
  try {
    const agent = await openConsole(browser, server);
    const a = agent.page;
    const tag = randomBytes(3).toString("hex");
    const deadline = Date.now() + LOOP_SECONDS * 1000;
    let n = 0;
    while (n < MESSAGES && Date.now() < deadline && !out.error) {
      const visitor = ++out.visitors;
      log(`visitor ${visitor}: opening the shop's page and the chat`);
      let shopper;
      try {
        shopper = await within(60_000, "opening the shop's page", openShopper(browser, server));
      } catch (error) {
        out.error = `visitor ${visitor}: ${error.message}`;
        break;
      }
      try {
        n = await converse(a, shopper, { visitor, tag, n, deadline, out });
      } catch (error) {
        out.error = `visitor ${visitor}, after ${out.toAgent.length + out.toShopper.length} measured messages: ${error.message.split("\n")[0]}`;
      }
      for (const [status, count] of Object.entries(shopper.statuses)) out.statuses[status] = (out.statuses[status] || 0) + count;
      out.problems.push(...shopper.problems);
      await within(STEP_MS, "closing the shopper's context", shopper.context.close()).catch(() => {});
    }
    out.problems.push(...agent.problems);
    out.chromium = browser.version();
    await agent.context.close();
  } finally {
    await browser.close();
  }
  return out;
}

/**
 * One visitor's conversation: an unmeasured opener, which the agent opens in the
 * console, then turns (shopper → agent, agent → shopper) until PER_VISITOR, MESSAGES
 * or the deadline. Resolves to the count of measured turns so far.
 */
async function converse(a, shopper, { visitor, tag, n, deadline, out }) {
  const s = shopper.page;
  const step = (what, promise) => within(STEP_MS * 2, what, promise);
  if (visitor === 1) [out.beforeClick, out.onClick] = [shopper.beforeClick, shopper.onClick];
  const opener = `Hello, I have a question about my order (visitor ${visitor}, ${tag})`;
  await step("the shopper's opener", s.evaluate((text) => window.bench.send(text), opener));
  const rowOf = a.locator("#conversations .row", { hasText: `(visitor ${visitor}, ${tag})` });
  await rowOf.waitFor();
  await rowOf.click();
  await a.locator("#messages .msg-text", { hasText: `(visitor ${visitor}, ${tag})` }).waitFor();
  await step("the console's probe", a.evaluate(`(${installProbe})((${consoleProbe})())`));

  /** One message from `from` to `to`: [arrival − send, POST answered − send], or null if it never arrived. */
  async function message(from, to, text, marker) {
    await step("expect", to.evaluate((m) => window.bench.expect(m), marker));
    const sent = await step("send", from.evaluate((t) => window.bench.send(t), text));
    const seen = await step("arrival", to.evaluate(([m, ms]) => window.bench.arrived(m, ms), [marker, STEP_MS]));
    const answered = await step("the POST's answer", from.evaluate(([t, ms]) => window.bench.answered(t, ms), [sent, STEP_MS]));
    await sleep(GAP_MS);
    return seen == null ? null : [seen - sent, answered == null ? NaN : answered - sent];
  }

  let lostInARow = 0;
  const record = (result, times, posts, direction) => {
    if (result) [times.push(result[0]), posts.push(result[1])];
    else out.lost[direction]++;
    lostInARow = result ? 0 : lostInARow + 1;
    if (lostInARow >= 3) throw new Error(`${lostInARow} messages in a row did not arrive within ${STEP_MS} ms`);
  };
  for (let i = 0; i < PER_VISITOR && n < MESSAGES && Date.now() < deadline; i++) {
    n++;
    const up = await message(s, a, `Could you check the size of item ${n}? [${tag}-s${n}]`, `[${tag}-s${n}]`);
    record(up, out.toAgent, out.postUp, "toAgent");
    const down = await message(a, s, `Of course, item ${n} runs true to size. [${tag}-a${n}]`, `[${tag}-a${n}]`);
    record(down, out.toShopper, out.postDown, "toShopper");
  }
  out.skews.push(await step("skew", s.evaluate(() => window.bench.skew())), await step("skew", a.evaluate(() => window.bench.skew())));
  out.states.push(await step("state", s.evaluate(() => window.bench.state())), await step("state", a.evaluate(() => window.bench.state())));
  return n;
}

function stats(values) {
  const s = values.filter(Number.isFinite).sort((x, y) => x - y);
  return {
    n: s.length,
    median: pct(s, 50),
    p95: pct(s, 95),
    p99: pct(s, 99),
    max: s[s.length - 1],
    mean: s.reduce((a, b) => a + b, 0) / (s.length || 1),
  };
}

// ---------------------------------------------------------------- main

async function main() {
  if (!NO_BUILD) {
    log("npm run build (the plugin, into dist/)");
    execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: ["ignore", process.stderr, process.stderr] });
    log("cargo build --release -p souk-server");
    execFileSync("cargo", ["build", "--release", "-p", "souk-server"], { cwd: ROOT, stdio: ["ignore", process.stderr, process.stderr] });
  }
  // dist/ copied once: the bytes measured are the bytes served, whatever rebuilds dist/ meanwhile.
  const distDir = mkdtempSync(join(tmpdir(), "souk-bench-dist-"));
  cpSync(join(ROOT, "dist"), distDir, { recursive: true });
  log("bundling the vendors' packages with esbuild");
  const bytes = await sizes(distDir);

  log("starting the release souk-server with the demo shop's FAQ");
  const server = await startServer({ bin: SERVER_BIN, dist: distDir, args: ["--faq", join(ROOT, "www/shop/faq.json")] });
  let result;
  try {
    execFileSync(SERVER_BIN, ["agent", "add", "--db", server.db, "--email", AGENT.email, "--name", AGENT.name], {
      env: { ...process.env, SOUK_AGENT_PASSWORD: AGENT.password },
      stdio: ["ignore", "ignore", process.stderr],
    });
    result = await latency(server);
  } finally {
    await server.stop();
    rmSync(distDir, { recursive: true, force: true });
  }
  report(bytes, result);
  if (result.error) console.error(`bench: stopped early: ${result.error}`);
  if (result.lost.toAgent || result.lost.toShopper || result.error) process.exitCode = 1;
}

function report({ rows, vendors }, r) {
  const out = [];
  const p = (line = "") => out.push(line);

  p("## The chat's bytes (gzip -9)");
  p();
  p("| what | raw bytes | gzip -9 bytes | gzip KB | |");
  p("|---|---:|---:|---:|---|");
  for (const row of rows) p(`| ${row.what}${row.names.length ? ` (${row.names.map((n) => `\`${n}\``).join(" + ")})` : ""} | ${row.raw} | ${row.gz} | ${kb(row.gz)} | ${row.note} |`);
  for (const v of vendors) p(`| ${v.what} | ${v.raw} | ${v.gz} | ${kb(v.gz)} | then fetches ${v.loads}, **not included** (a lower bound)${v.note ? `; ${v.note}` : ""} |`);
  p();
  p("The vendors' rows are their official npm packages, bundled and minified by esbuild as a shop's bundler would " +
    "(`import` the package, call its setup). Each is a thin wrapper: the real chat widget client is fetched from the " +
    "vendor's CDN at runtime, which this machine cannot reach, so it is not in these figures and each vendor row is a " +
    "lower bound on what the page really loads. Chatwoot publishes no web widget on npm (its SDK is served by each " +
    "Chatwoot installation; `@chatwoot/react-native-widget` is for React Native), so it has no row.");
  if (r.beforeClick) {
    p();
    p(`Checked in the page: chat files requested before the click: ${r.beforeClick.map((f) => `\`${f.split("/").pop()}\``).join(", ") || "none"}; ` +
      `on the first click: ${r.onClick.map((f) => `\`${f.split("/").pop()}\``).join(", ") || "none"}.`);
  }
  p();

  const up = stats(r.toAgent);
  const down = stats(r.toShopper);
  p(`## From Enter to the other person's screen (${up.n + down.n} messages, ${r.visitors} visitors, release souk-server, headless Chromium)`);
  p();
  const postUp = stats(r.postUp);
  const postDown = stats(r.postDown);
  p("| direction | messages | median ms | p95 ms | p99 ms | max ms | mean ms | lost | sender's POST answered, median / p99 ms |");
  p("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  p(`| shopper → agent (souk-chat → console) | ${up.n} | ${fmt(up.median)} | ${fmt(up.p95)} | ${fmt(up.p99)} | ${fmt(up.max)} | ${fmt(up.mean)} | ${r.lost.toAgent} | ${fmt(postUp.median)} / ${fmt(postUp.p99)} |`);
  p(`| agent → shopper (console → souk-chat) | ${down.n} | ${fmt(down.median)} | ${fmt(down.p95)} | ${fmt(down.p99)} | ${fmt(down.max)} | ${fmt(down.mean)} | ${r.lost.toShopper} | ${fmt(postDown.median)} / ${fmt(postDown.p99)} |`);
  p();
  if (r.error) p(`**The run stopped early**: ${r.error}.\n`);
  p("The last column is when the sender's own POST of the message came back (Resource Timing `responseEnd`), from the same Enter: " +
    "the server has stored the message (SQLite, WAL, `synchronous=FULL`) by then; the rest of the way is the push over the other side's " +
    "Server-Sent Events stream and that page's rendering.");
  p();
  const skew = Math.max(...r.skews.map(Math.abs));
  p(`Both pages run in one Chromium on this machine, so their clocks are one: each time is \`performance.timeOrigin + performance.now()\` ` +
    `(the send just before Enter's keydown reaches the composer; the arrival in the MutationObserver callback of the mutation that put the text in the DOM). ` +
    `Largest gap between that clock and Date.now() in either page: ${fmt(skew, 2)} ms (Date.now() counts whole ms). ` +
    `Pages: ${[...new Set(r.states.map((st) => `${st.visibility}${st.focus ? ", focused" : ""}`))].join(" / ")}. ` +
    `Chat API answers seen by the shopper pages: ${Object.entries(r.statuses).map(([k, v]) => `${v}× ${k}`).join(", ")}. ` +
    `Page problems: ${r.problems.length ? r.problems.slice(0, 5).join(" | ") : "none"}.`);
  p();
  const cpu = cpus();
  p(`Machine: ${cpu.length} cores (${cpu[0]?.model.trim()}), ${fmt(totalmem() / 2 ** 30, 0)} GiB, load average ${loadavg().map((l) => fmt(l, 2)).join(" ")} at the end; ` +
    `Node ${process.version}; Chromium ${r.chromium} headless (${process.env.CHROMIUM_BIN || "/usr/bin/chromium"}); the server, both pages and the bench share the cores. ` +
    `${MESSAGES} messages each way asked, ${PER_VISITOR} per visitor after an unmeasured opener, ${GAP_MS} ms after each message, loop limit ${LOOP_SECONDS} s.`);
  console.log(out.join("\n"));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
