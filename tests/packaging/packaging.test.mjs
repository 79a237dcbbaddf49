// Packaging smoke tests: each way a shop can load souk, in real Chromium, against a
// real souk-server. Every page must finish with no page error and no console error.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ROOT, cleanup, launchBrowser, openPage, soukWarnings, startServer, until } from "../e2e/harness.mjs";

const SNIPPET = readFileSync(join(ROOT, "dist/snippet.min.js"), "utf8").trim();
const snippet = (src = "/dist/souk.js") => SNIPPET.replace('"/dist/souk.js"', JSON.stringify(src));

// Records every souk event the page sees, in order, on window.seen.
const RECORD = `window.seen = [];
for (const kind of ["track", "page", "error"])
  souk.on(kind, (what, props) => seen.push(kind + ":" + (kind === "error" ? what.name + ":" + what.message : what)));`;

const html = (head, body = "") => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>souk packaging</title><link rel="icon" href="data:,">${head}</head><body><main><h1>Shop</h1>${body}</main></body></html>`;

const PAGES = {
  "esm.html": html("", `<script type="module">
import { souk } from "/dist/index.js";
${RECORD}
souk.init({ writeKey: "souk_test_key", capture: false });
souk.track("Before Live");
window.live = await souk.ready();
souk.track("After Live", { price: 3 });
</script>`),
  "early-calls.html": html(`<script>${snippet()}
${RECORD}
souk.init({ writeKey: "souk_test_key", capture: false });
souk.track("First", { product_id: "p001" });
souk.page("Home");
souk.track("Second");
window.stubbed = Array.isArray(souk._calls);
souk.ready().then((live) => (window.live = live));
</script>`),
  "twice.html": html(`<script>${snippet()}
souk.init({ writeKey: "first_key", capture: false });</script>
<script>${snippet()}
souk.init({ writeKey: "second_key" });
${RECORD}
souk.track("Once");
souk.ready().then((live) => (window.live = live));</script>`),
  "csp.html": html(`<meta http-equiv="Content-Security-Policy" content="script-src 'self' 'unsafe-inline'">
<script>${snippet()}
souk.init({ writeKey: "souk_test_key" });
souk.track("Blocked");
souk.ready().then((live) => (window.live = live));</script>`),
  "no-wasm.html": html(`<script>delete window.WebAssembly;</script>
<script>${snippet()}
souk.init({ writeKey: "souk_test_key" });
souk.track("Nowhere");
souk.ready().then((live) => (window.live = live));</script>`),
  "crash.html": html(`<script>${snippet()}
${RECORD}
souk.init({ writeKey: "souk_test_key", capture: false });
souk.ready().then((live) => {
  window.live = live;
  souk.__panic();
  souk.track("After Crash");
  window.done = true;
});</script>`),
  "bad-input.html": html(`<script>${snippet()}
${RECORD}
souk.init({ writeKey: "souk_test_key", capture: false });
souk.track("Product Added", { price: NaN });
souk.track("Product Added", { price: "abc" });
souk.track("");
souk.track("Product Added", { price: 12 });
souk.ready().then((live) => (window.live = live));</script>`),
  "bad-config.html": html(`<script>${snippet()}
${RECORD}
souk.init({ apiHost: "https://shop.example" });
souk.track("Lost");
souk.ready().then((live) => (window.live = live));</script>`),
  "external-consent.html": html(`<script>${snippet()}
souk.init({ writeKey: "souk_demo_write_key", consent: { external: true } });
window.seen = [];
souk.consent.on("change", (state) => seen.push("consent:" + state.categories.analytics));
souk.ready().then(async (live) => {
  window.live = live;
  seen.push("banner:" + Boolean(document.querySelector("souk-consent")));
  souk.consent.set({ analytics: true }); // what a CMP's callback would do
  souk.track("Product Viewed", { product_id: "p001" });
  souk.flush();
  await new Promise((resolve) => setTimeout(resolve, 500));
  window.done = true;
});</script>`),
  "refused.html": html(`<script>${snippet()}
souk.init({ writeKey: "souk_test_key", apiHost: location.origin + "/nowhere", consent: { external: true } });
${RECORD}
souk.ready().then(async (live) => {
  window.live = live;
  souk.consent.set({ analytics: true });
  souk.track("Product Viewed");
  await new Promise((resolve) => setTimeout(resolve, 1500));
  window.done = true;
});</script>`),
  "spa.html": html(`<script>${snippet()}
souk.init({ writeKey: "souk_demo_write_key", consent: { external: true } });
window.seen = [];
souk.on("page", () => seen.push("page:" + location.pathname));
souk.on("track", (name) => seen.push("track:" + name));
window.dataLayer = [{ event: "view_item_list", ecommerce: { items: [{ item_id: "p1" }, { item_id: "p2" }] } }];
souk.ready().then(async () => {
  souk.consent.set({ analytics: true });
  history.pushState({}, "", "/spa/cart");
  await new Promise((resolve) => setTimeout(resolve, 50));
  function gtag() { dataLayer.push(arguments); }
  gtag("event", "add_to_cart", { currency: "AED", items: [{ item_id: "p1", price: 10 }] });
  dataLayer.push({ event: "gtm.click" });
  history.replaceState({}, "", "/spa/cart"); // the same URL: no new page view
  await new Promise((resolve) => setTimeout(resolve, 50));
  window.done = true;
});</script>`),
  "public-path.html": html(`<script>${snippet("/cdn-loader-only/souk.js")}
souk.init({ writeKey: "souk_test_key", publicPath: "/dist/" });
souk.ready().then((live) => (window.live = live));</script>`),
  "beside.html": html(`<script>${snippet("/cdn/souk.js")}
souk.init({ writeKey: "souk_test_key" });
souk.ready().then((live) => (window.live = live));</script>`),
};

let server, browser, www;

before(async () => {
  www = mkdtempSync(join(tmpdir(), "souk-packaging-"));
  for (const [name, body] of Object.entries(PAGES)) writeFileSync(join(www, name), body);
  cpSync(join(ROOT, "dist"), join(www, "cdn"), { recursive: true });
  mkdirSync(join(www, "cdn-loader-only"));
  cpSync(join(ROOT, "dist/souk.js"), join(www, "cdn-loader-only/souk.js"));
  server = await startServer({ www });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  cleanup(www);
});

/** Opens `name`, waits until `done` holds in the page, and returns what it logged. */
async function visit(name, done = () => window.live !== undefined) {
  const { page, log, close } = await openPage(browser);
  await page.goto(`${server.url}/${name}`);
  await until(page, done);
  const seen = await page.evaluate(() => window.seen);
  const live = await page.evaluate(() => window.live);
  await close();
  return { log, seen, live };
}

const assertClean = (log) => {
  assert.deepEqual(log.pageErrors, [], "no uncaught error may reach the page");
  assert.deepEqual(log.errors, [], "no console error");
};

test("an ESM import loads souk, and calls before it is live are replayed", async () => {
  const { log, seen, live } = await visit("esm.html", () => window.seen?.length === 2);
  assertClean(log);
  assert.equal(live, true);
  assert.deepEqual(seen, ["track:Before Live", "track:After Live"]);
  assert.ok(log.requests.includes("/dist/souk_runtime.js"), "the glue loads as its own chunk");
});

test("calls made through the snippet before the wasm loads are replayed in order", async () => {
  const { page, log, close } = await openPage(browser);
  await page.goto(`${server.url}/early-calls.html`);
  await until(page, () => window.live !== undefined);
  const state = await page.evaluate(() => ({
    seen: window.seen,
    stubbed: window.stubbed,
    asyncLoader: document.querySelector('script[src="/dist/souk.js"]').async,
    replaced: !("_calls" in window.souk),
  }));
  await close();
  assertClean(log);
  assert.deepEqual(state.seen, ["track:First", "page:Home", "track:Second"]);
  assert.equal(state.stubbed, true, "the calls were made while window.souk was still the stub");
  assert.equal(state.asyncLoader, true, "the loader never blocks parsing");
  assert.equal(state.replaced, true, "the stub is replaced by the live client");
});

test("a snippet pasted twice keeps one live instance", async () => {
  const { log, seen, live } = await visit("twice.html");
  assertClean(log);
  assert.equal(live, true);
  assert.deepEqual(seen, ["track:Once"]);
  assert.equal(log.requests.filter((path) => path.endsWith("/souk.js")).length, 1);
  assert.equal(log.requests.filter((path) => path.endsWith("/souk_bg.wasm")).length, 1);
  assert.deepEqual(soukWarnings(log), [
    "souk: init() was called more than once; the first configuration stays",
  ]);
});

test("a CSP that forbids wasm leaves the page unbroken, with one warning", async () => {
  const { log, live } = await visit("csp.html");
  assert.deepEqual(log.pageErrors, []);
  assert.equal(live, false);
  const warnings = soukWarnings(log);
  assert.equal(warnings.length, 1, String(warnings));
  assert.match(warnings[0], /Content-Security-Policy/);
  // Chromium itself reports the CSP violation; souk adds no error of its own.
  assert.ok(log.errors.every((text) => /Content Security Policy/.test(text)), String(log.errors));
});

test("a browser without WebAssembly gets one warning and no error", async () => {
  const { log, live } = await visit("no-wasm.html");
  assertClean(log);
  assert.equal(live, false);
  assert.deepEqual(soukWarnings(log), [
    "souk: WebAssembly is not available in this browser; souk is off on this page, and the page is unaffected",
  ]);
  assert.ok(!log.requests.some((path) => path.endsWith(".wasm")), "nothing more is fetched");
});

test("a crash inside the module never breaks the page", async () => {
  const { log, seen, live } = await visit("crash.html", () => window.done === true);
  assertClean(log);
  assert.equal(live, true);
  assert.deepEqual(seen, [], "calls after the crash are dropped quietly");
  const warnings = soukWarnings(log);
  assert.equal(warnings.length, 1, String(warnings));
  assert.match(warnings[0], /stopped after an internal error/);
});

test("invalid calls reach error listeners with the field and the problem", async () => {
  const { log, seen, live } = await visit("bad-input.html", () => window.seen?.length === 4);
  assertClean(log);
  assert.equal(live, true);
  assert.deepEqual(seen, [
    "error:SoukEventError:Product Added: property `price` must be a finite number",
    'error:SoukEventError:Product Added: price must be a non-negative number, got "abc"',
    "error:SoukEventError:track: the event name must be a non-empty string",
    "track:Product Added",
  ]);
});

test("a configuration without a write key is refused clearly", async () => {
  const { log, seen, live } = await visit("bad-config.html");
  assertClean(log);
  assert.equal(live, false);
  assert.equal(seen.length, 1);
  assert.match(seen[0], /^error:SoukConfigError:init: `writeKey` is required/);
  assert.equal(soukWarnings(log).length, 1);
});

test("the module loads from beside souk.js, or from publicPath", async () => {
  const beside = await visit("beside.html");
  assertClean(beside.log);
  assert.equal(beside.live, true);
  assert.ok(beside.log.requests.includes("/cdn/souk_bg.wasm"), String(beside.log.requests));

  const moved = await visit("public-path.html");
  assertClean(moved.log);
  assert.equal(moved.live, true);
  assert.ok(moved.log.requests.includes("/dist/souk_bg.wasm"), String(moved.log.requests));
});

test("with consent.external, souk shows no banner and the shop's manager decides", async () => {
  const { log, seen, live } = await visit("external-consent.html", () => window.done === true);
  assertClean(log);
  assert.equal(live, true);
  assert.deepEqual(seen, ["banner:false", "consent:true"]);
  assert.ok(log.requests.includes("/v1/batch"), "events flow once the manager said yes");
  assert.ok(!log.requests.some((path) => path.endsWith("souk_consent.js")), "the banner chunk never loads");
});

test("a request the backend refuses for good is dropped and reported, not retried forever", async () => {
  const { log, seen } = await visit("refused.html", () => window.done === true);
  assert.deepEqual(log.pageErrors, []);
  const refused = seen.filter((entry) => entry.startsWith("error:"));
  assert.deepEqual(refused.sort(), [
    "error:Error:souk: the backend refused /v1/batch with HTTP 405; dropped",
    "error:Error:souk: the backend refused /v1/consent with HTTP 405; dropped",
  ]);
  assert.equal(log.requests.filter((path) => path === "/nowhere/v1/batch").length, 1, "sent once");
  assert.ok(log.errors.every((text) => /405/.test(text)), String(log.errors));
});

test("auto-capture: SPA navigations are page views, and GA4 dataLayer events map to the spec", async () => {
  const { log, seen } = await visit("spa.html", () => window.done === true);
  assertClean(log);
  // The first page view and the early list view came before consent and were
  // dropped (the list view is not even announced); the grant re-captures the page.
  assert.deepEqual(seen, ["page:/spa.html", "page:/spa.html", "page:/spa/cart", "track:Product Added"]);
  assert.ok(log.requests.includes("/v1/batch"));
});
