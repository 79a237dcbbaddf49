// Shared by the end-to-end and packaging tests: a real souk-server on a free port
// with its own SQLite file, and Debian's Chromium driven by playwright-core.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { chromium } from "playwright-core";

export const ROOT = new URL("../..", import.meta.url).pathname;
const SERVER = process.env.SOUK_SERVER_BIN || join(ROOT, "target/debug/souk-server");

/** The merchant's secret the test servers run with, for the merchant endpoints. */
export const SERVER_KEY = "souk_test_server_key";

/**
 * Starts souk-server (`bin`: the debug build unless SOUK_SERVER_BIN says otherwise)
 * on a fresh SQLite file, serving `www` (and dist/); resolves once it listens.
 */
export async function startServer({ www = join(ROOT, "www"), dist = join(ROOT, "dist"), bin = SERVER, args: extra = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "souk-e2e-"));
  const db = join(dir, "souk.db");
  const args = ["serve", "--addr", "127.0.0.1:0", "--db", db, "--www", www, "--dist", dist];
  args.push("--server-key", SERVER_KEY, ...extra);
  // The demo shop runs with its catalogue, so it has a recommendation model.
  if (www === join(ROOT, "www") && !extra.includes("--catalog")) args.push("--catalog", join(ROOT, "www/shop/catalog.json"));
  // And with the identity secret its pages sign shoppers with (www/shop/shop.js).
  if (www === join(ROOT, "www") && !extra.includes("--identity-secret")) args.push("--identity-secret", "souk_demo_identity_secret");
  // And with its checkout backend, as scripts/demo.sh runs it.
  if (www === join(ROOT, "www")) args.push("--demo-shop");
  const env = { ...process.env, RUST_LOG: process.env.RUST_LOG || "warn" };
  const child = spawn(bin, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("souk-server did not start in 20 s:\n" + stderr)), 20_000);
    let stdout = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const match = stdout.match(/listening on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`souk-server exited with ${code}:\n${stderr}`)));
  });
  return {
    url,
    dir,
    db,
    /** What the server stored, through `souk-server events`: one message per entry. */
    events() {
      const jsonl = execFileSync(bin, ["events", "--db", db, "--format", "jsonl"], { encoding: "utf8", maxBuffer: 1 << 30 });
      return jsonl.split("\n").filter(Boolean).map((line) => JSON.parse(line));
    },
    /** GETs a merchant endpoint with the server key; resolves to the JSON answer. */
    async merchant(path) {
      const response = await fetch(url + path, { headers: { Authorization: `Bearer ${SERVER_KEY}` } });
      return { status: response.status, body: await response.json() };
    },
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a souk-server on the demo shop (with `options` for startServer) and Chromium
 * before a test file's tests, and stops both after them. The returned object holds `server` and `browser` once started.
 */
export function serverAndBrowser(options) {
  const env = {};
  before(async () => {
    env.server = await startServer(options);
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}

/** Launches headless Chromium from Debian's package (plus `extraArgs`); no browser is downloaded. */
export function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
      "--disable-background-networking", "--disable-component-update", "--no-first-run",
      ...extraArgs,
    ],
  });
}

/**
 * Opens a page that records everything the console and the page report, so a test
 * can fail on any console error or uncaught page error.
 */
export async function openPage(browser, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const log = { errors: [], warnings: [], pageErrors: [], requests: [] };
  page.on("console", (message) => {
    if (message.type() === "error") log.errors.push(message.text());
    if (message.type() === "warning") log.warnings.push(message.text());
  });
  page.on("pageerror", (error) => log.pageErrors.push(String(error)));
  page.on("request", (request) => log.requests.push(new URL(request.url()).pathname));
  page.on("response", (response) => {
    if (response.status() >= 400) log.errors.push(`HTTP ${response.status()} ${response.url()}`);
  });
  return { page, context, log, close: () => context.close() };
}

/**
 * Waits until `predicate` is true in the page. It polls from outside with
 * `page.evaluate`, which a page's Content-Security-Policy does not block (Playwright's
 * own waitForFunction evaluates strings, which a strict CSP refuses). `arg` is passed
 * to the predicate.
 */
export async function until(page, predicate, timeoutMs = 10_000, arg = undefined) {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate(predicate, arg))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${predicate}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Souk's own console warnings. */
export const soukWarnings = (log) => log.warnings.filter((text) => text.startsWith("souk:"));

/** Removes the test's temporary folders. */
export const cleanup = (dir) => rmSync(dir, { recursive: true, force: true });

/** Fails the test on any uncaught page error or console error the page logged, but the ones `allowed` matches. */
export function assertClean(log, allowed = null) {
  assert.deepEqual(log.pageErrors, [], "no uncaught page error");
  assert.deepEqual(allowed ? log.errors.filter((text) => !allowed.test(text)) : log.errors, [], "no console error");
}

/** Lets running animations finish, in the page and in souk's widgets' shadow roots. */
export const settled = (page) =>
  page.evaluate(() => {
    const roots = [document, ...[...document.querySelectorAll("souk-consent")].map((el) => el.shadowRoot)];
    const animations = roots.flatMap((root) => (root ? root.getAnimations() : []));
    return Promise.all(animations.map((a) => a.finished.catch(() => {}))); // a cancelled transition rejects
  });

/** axe-core's violations on the page as it rests (after animations), one line each. */
export async function axeViolations(page) {
  await settled(page);
  if (!(await page.evaluate(() => Boolean(window.axe)))) {
    await page.addScriptTag({ path: join(ROOT, "node_modules/axe-core/axe.min.js") });
  }
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target).join(", ")}`);
}
