// The merchant dashboard at /dashboard, in Debian's Chromium against a real souk-server
// whose database is filled through the normal paths by `souk-server crm import-retail`
// (online orders through /v1/batch and /v1/orders, store orders through the POS
// import), then scored by `souk-server crm refresh`. A merchant added with `agent add
// --role merchant` signs in, reads the overview, searches a customer and opens the 360,
// opens a segment and its CSV; a plain agent is refused. It builds, previews, saves,
// opens and deletes a segment of its own, pages through a segment and the search, and
// reads the loyalty programme, the chat figures and the segment history. It sets up
// the abandoned-cart trigger, whose webhook reaches a receiver run here, signed with
// the secret the page showed, and reads it in the delivery log; it downloads a
// customer's data and erases them; it refreshes the segments. English and Arabic,
// axe-clean, at 1280 and 390 px wide; screenshots land in tests/e2e/screenshots/.
//
// The server runs trigger passes every second and retries after 200 ms, so a webhook
// comes within seconds of its moment.
//
// On top of the invoices, `before` posts a few orders through /v1/orders (three that
// reach the silver tier by the scoring date, one that makes a gold member today), one
// shopper's chat message, and refreshes the segments again, so the history has a change.
//
// The data: the synthetic invoices in server/tests/data/ (12 customers, under a second
// to import), small enough to page through and count by hand. The real year is
// tests/e2e/dashboard-real.test.mjs.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ROOT, SERVER_KEY, axeViolations, launchBrowser, openPage, startServer, until } from "./harness.mjs";

const SHOTS = join(ROOT, "tests/e2e/screenshots");
const BIN = process.env.SOUK_SERVER_BIN || join(ROOT, "target/debug/souk-server");
const DATA = join(ROOT, "server/tests/data/online-retail-synthetic.csv");
const CUSTOMER = "12000"; // a CustomerID of the data
const PASSWORD = "ledger-of-the-souk";
const OWNER = { email: "owner@shop.example", name: "Layla Owner" };
const AGENT = { email: "agent@shop.example", name: "Sami Agent" };
const AXE = readFileSync(join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8");
const STEP = 10_000;
const DAY_MS = 86_400_000;
const PAGE = 25; // the dashboard's page size until the merchant picks another
const SEGMENTS = ["champions", "loyal", "potential-loyalists", "new", "at-risk", "cant-lose", "hibernating", "lost"];
const SILVER = ["12005", "12009", "12011"]; // customers whose orders reach silver by the scoring date
const WRITE_KEY = "souk_demo_write_key";
const SEGMENT_NAMES = {
  en: ["Champions", "Loyal", "Potential loyalists", "New", "At risk", "Can't lose", "Hibernating", "Lost"],
  ar: ["الأبطال", "الأوفياء", "أوفياء محتملون", "جدد", "معرّضون للفقد", "لا يمكن خسارتهم", "خاملون", "مفقودون"],
};

const BASIC = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString("base64")}`; // the shop's write key, as its pages send events
const TRIGGER_KINDS = ["abandoned_cart", "first_purchase", "tier_change", "win_back", "birthday"];
/** The customer whose cart is abandoned, and the one erased. */
const CARTER = { userId: "e2e-carter", anon: "anon-e2e-carter", name: "Rania Carter", email: "rania@shop.example" };
const ERASED = { userId: "e2e-hala", anon: "anon-e2e-hala", name: "Hala Haddad", email: "hala@shop.example" };

let server;
let browser;

const cli = (args, env = {}, timeout = STEP) =>
  execFileSync(BIN, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], timeout, encoding: "utf8" });

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // The webhooks go to a receiver on 127.0.0.1, which a proxy from the environment must not catch.
  for (const name of ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]) delete process.env[name];
  server = await startServer({ args: ["--triggers-every", "1s", "--triggers-retry-base", "200ms"] });
  cli(["crm", "import-retail", "--db", server.db, "--data", DATA], {}, 60_000);
  cli(["crm", "refresh", "--db", server.db], {}, STEP);
  cli(["agent", "add", "--db", server.db, "--email", OWNER.email, "--name", OWNER.name, "--role", "merchant"], { SOUK_AGENT_PASSWORD: PASSWORD });
  cli(["agent", "add", "--db", server.db, "--email", AGENT.email, "--name", AGENT.name], { SOUK_AGENT_PASSWORD: PASSWORD });
  for (const userId of SILVER) await send("/v1/orders", { orderId: `e2e-${userId}`, userId, subtotal: 60_000, currency: "GBP", at: "2011-02-10T10:00:00Z" });
  await send("/v1/orders", { orderId: "e2e-gold", userId: CUSTOMER, subtotal: 250_000, currency: "GBP" });
  await send("/v1/chat/messages", { anonymousId: "anon-e2e-dashboard", id: randomUUID(), text: "Do you ship to Riyadh?" }, { auth: BASIC });
  await send("/v1/crm/refresh", {});
  browser = await launchBrowser();
});

/** POSTs (or `method`s) `body` with the server key (or `auth`); resolves to the JSON answer, failing unless it is a success. */
async function send(path, body, { method = "POST", auth = `Bearer ${SERVER_KEY}` } = {}) {
  const response = await fetch(server.url + path, { method, headers: { Authorization: auth, "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A tab on /dashboard in `locale` (with the language kept as `lang`, if given). */
async function dashboard(locale = "en-GB", lang) {
  const opened = await openPage(browser, { locale, viewport: { width: 1280, height: 900 } });
  if (lang) await opened.context.addInitScript((l) => localStorage.setItem("souk.dashboard.lang", l), lang);
  const response = await opened.page.goto(`${server.url}/dashboard`, { timeout: STEP });
  assert.equal(response.status(), 200);
  assert.match(response.headers()["content-security-policy"], /script-src 'self'/);
  return opened;
}

async function axeClean(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(AXE);
  assert.deepEqual(await axeViolations(page), []);
}

/** No page error, and no console error but the refusals `allowed` (401: "am I signed in?" before signing in). */
function assertClean(log, allowed = /\b401\b/) {
  assert.deepEqual(log.pageErrors, []);
  assert.deepEqual(log.errors.filter((text) => !allowed.test(text)), [], "no console error but the expected refusals");
}

async function signIn(page, who) {
  await page.locator("#login-form").waitFor({ timeout: STEP });
  await page.fill("#login-email", who.email);
  await page.fill("#login-password", PASSWORD);
  await page.click("#login-submit");
}

/** The overview's window of `days` up to the scoring date, as the dashboard computes it. */
async function period(days) {
  const { asOf } = (await server.merchant("/v1/crm/settings")).body;
  const to = Math.ceil(Date.parse(asOf) / DAY_MS) * DAY_MS;
  return { since: new Date(to - days * DAY_MS).toISOString(), to: new Date(to).toISOString() };
}

/**
 * The merchant's session cookie, from the first `merchantAt`: the server allows an
 * account 10 sign-ins a minute, fewer than the views below open, so they share one.
 */
let session;

/** A signed-in merchant's dashboard at `hash`, in `lang` (`width` px wide). */
async function merchantAt(hash, lang = "en", width = 1280) {
  const opened = await openPage(browser, { locale: "en-GB", viewport: { width, height: 900 }, storageState: session });
  await opened.context.addInitScript((l) => localStorage.setItem("souk.dashboard.lang", l), lang);
  await opened.page.goto(`${server.url}/dashboard${hash}`, { timeout: STEP });
  if (!session) await signIn(opened.page, OWNER);
  await opened.page.locator("#tabs").waitFor({ timeout: STEP });
  session ??= { cookies: await opened.context.cookies(), origins: [] };
  return opened;
}

/** Whether the page is wider than its window (something does not fit). */
const overflows = (page) => page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);

/** The preview's count, as a number. */
const previewCount = async (page) => Number((await page.textContent("#seg-preview-count")).match(/\d+/)?.[0]);

/** The overview's segment bars as `[label, size]`. */
const segmentBars = (page) =>
  page.evaluate(() => [...document.querySelectorAll("#segment-bars .bar-row")].map((row) => [row.querySelector(".bar-label").textContent, row.querySelector(".bar-value").textContent]));

test("a plain agent is told the dashboard is for merchants", { timeout: 60_000 }, async () => {
  const { page, log, close } = await dashboard();
  await axeClean(page);
  await signIn(page, AGENT);
  await until(page, () => document.querySelector("#login-error").textContent.length > 0, STEP);
  assert.match(await page.textContent("#login-error"), /not a merchant account/);
  assert.equal(await page.isVisible("#view-overview"), false);
  assert.equal(await page.isVisible("#tabs"), false);
  assertClean(log, /\b40[13]\b/);
  await close();
});

test("a merchant reads the overview, a customer's 360 and a segment, in English", { timeout: 90_000 }, async () => {
  const { page, log, close } = await dashboard();
  await signIn(page, OWNER);
  await page.locator("#view-overview").waitFor({ timeout: STEP });
  await until(page, () => document.querySelectorAll("#segment-bars .bar-row").length === 8, STEP);
  assert.equal(await page.textContent("#who"), OWNER.name);
  assert.equal(await page.evaluate(() => document.cookie), "", "the session cookie is HttpOnly");

  // KPIs: real revenue, orders and AOV over the period.
  const revenue = await page.textContent("#kpi-revenue .kpi-value");
  assert.match(revenue, /£[1-9]/, `revenue ${revenue}`);
  assert.match(await page.textContent("#kpi-orders .kpi-value"), /^[1-9]/);
  assert.match(await page.textContent("#kpi-aov .kpi-value"), /£[1-9]/);

  // The sales chart: SVG bars, with a table for screen readers.
  assert.ok((await page.locator("#sales-chart svg rect.bar").count()) >= 1);
  assert.ok((await page.locator("#sales-chart .vh table tbody tr").count()) >= 1);
  assert.equal(await page.getAttribute("#sales-chart svg", "aria-hidden"), "true");

  // Every segment, with its size (as the API answers it).
  const api = (await server.merchant("/v1/crm/segments")).body;
  const bars = await segmentBars(page);
  assert.deepEqual(bars.map(([label]) => label), SEGMENT_NAMES.en);
  assert.deepEqual(bars.map(([, size]) => Number(size.replace(/,/g, ""))), api.segments.map((s) => s.customers));
  assert.ok(api.segments.some((s) => s.customers > 0));

  // The funnel renders, with its steps and their text alternative.
  const steps = await page.locator("#funnel-chart .bar-row .bar-label").allTextContents();
  assert.deepEqual(steps, ["Viewed a product", "Added to cart", "Started checkout", "Ordered"]);
  assert.equal(await page.locator("#funnel-chart .vh table tbody tr").count(), 4);
  assert.ok((await page.locator("#consent-chart").textContent()).length > 0);

  // The chat card: what /v1/agent/stats answers the merchant's own session since the period began.
  const { since, to } = await period(365);
  const stats = await page.evaluate(async (url) => {
    const response = await fetch(url, { credentials: "same-origin" });
    return { status: response.status, body: await response.json() };
  }, `/v1/agent/stats?${new URLSearchParams({ since })}`);
  assert.equal(stats.status, 200, "a merchant's session reads the chat figures");
  assert.deepEqual(stats.body.conversations, { open: 1, closed: 0, total: 1 });
  assert.equal(await page.textContent("#chat-total"), "1");
  assert.equal(await page.textContent("#chat-open"), "1");
  assert.equal(await page.textContent("#chat-closed"), "0");
  assert.equal(await page.textContent("#chat-csat"), "No ratings yet");
  assert.equal(await page.textContent("#chat-median"), "No replies yet");

  // Segment sizes over time: a stacked column per refresh, a legend, and the table.
  const { history } = (await server.merchant(`/v1/crm/overview?${new URLSearchParams({ from: since, to })}`)).body;
  assert.ok(history.length >= 2, "the refreshes of before");
  assert.equal(await page.getAttribute("#history-chart svg", "aria-hidden"), "true");
  assert.ok((await page.locator("#history-chart svg rect.stack").count()) >= history.length);
  assert.deepEqual(await page.locator("#history-chart .legend .key").allTextContents(), SEGMENT_NAMES.en);
  assert.equal(await page.locator("#history-chart .vh table tbody tr").count(), history.length);
  const latest = await page.locator("#history-chart .vh table tbody tr").last().locator("td").allTextContents();
  assert.deepEqual(latest.map(Number), [...SEGMENTS.map((name) => history.at(-1).segments[name]), Object.values(history.at(-1).segments).reduce((a, b) => a + b)]);
  await axeClean(page);
  await page.screenshot({ path: join(SHOTS, "dashboard-en.png"), fullPage: true });

  // Search a customer of the data, with the keyboard, and open the 360.
  await page.click("#tab-customers");
  await page.locator("#view-customers").waitFor({ timeout: STEP });
  await page.fill("#search-q", CUSTOMER);
  await page.keyboard.press("Enter");
  await until(page, (id) => [...document.querySelectorAll("#results .result-name")].some((a) => a.textContent.includes(id)), STEP, CUSTOMER);
  await axeClean(page);
  await page.locator("#results .result-name", { hasText: CUSTOMER }).first().focus();
  await page.keyboard.press("Enter");
  await page.locator("#view-customer").waitFor({ timeout: STEP });
  await until(page, () => document.querySelectorAll("#customer-body .card").length >= 7, STEP);
  const view = (await server.merchant(`/v1/crm/customers/${CUSTOMER}`)).body;
  assert.match(await page.textContent("#customer-title"), new RegExp(CUSTOMER));
  assert.equal(await page.textContent("#c-orders .kpi-value"), String(view.orders.total));
  assert.match(await page.textContent("#c-orders .kpi-note"), new RegExp(`${view.orders.online} online · ${view.orders.store} in store`));
  const body = await page.textContent("#customer-body");
  for (const heading of ["RFM segment", "Identities", "Why they are one customer", "Latest orders", "Products bought", "Loyalty", "Chat", "Consent"]) assert.ok(body.includes(heading), heading);
  assert.ok(view.rfm, "the customer is scored");
  assert.ok(body.includes(SEGMENT_NAMES.en[["champions", "loyal", "potential-loyalists", "new", "at-risk", "cant-lose", "hibernating", "lost"].indexOf(view.rfm.segment)]));
  assert.equal(await page.evaluate(() => document.activeElement.id), "customer-title", "focus moves to the view");
  await axeClean(page);
  await page.screenshot({ path: join(SHOTS, "dashboard-customer-en.png"), fullPage: true });

  // Segments: sizes, a segment's customers, and its CSV.
  await page.click("#tab-segments");
  await page.locator("#segments-table table").waitFor({ timeout: STEP });
  const biggest = [...api.segments].sort((a, b) => b.customers - a.customers)[0];
  await page.click(`#segments-table a[href="#segment/${biggest.name}"]`);
  await until(page, (n) => document.querySelectorAll("#segment-table tbody tr").length === n, STEP, Math.min(biggest.customers, PAGE));
  assert.equal(await page.textContent("#segment-title"), biggest.label);
  const href = await page.getAttribute("#segment-csv", "href");
  assert.equal(href, `/v1/crm/segments/${biggest.name}.csv`);
  const csv = await page.evaluate(async (url) => {
    const response = await fetch(url, { credentials: "same-origin" });
    return { status: response.status, type: response.headers.get("content-type"), text: await response.text() };
  }, href);
  assert.equal(csv.status, 200);
  assert.match(csv.type, /^text\/csv/);
  assert.equal(csv.text.trim().split("\n").length, biggest.customers + 1, "a header and every customer");
  await axeClean(page);

  assertClean(log);
  await close();
});

test("in Arabic the dashboard is right to left, and the language is remembered", { timeout: 60_000 }, async () => {
  const { page, log, close } = await dashboard("en-GB");
  await signIn(page, OWNER);
  await until(page, () => document.querySelectorAll("#segment-bars .bar-row").length === 8, STEP);
  await page.selectOption("#lang", "ar");
  await until(page, () => document.documentElement.dir === "rtl", STEP);
  assert.equal(await page.evaluate(() => localStorage.getItem("souk.dashboard.lang")), "ar");
  assert.equal(await page.textContent("#overview-title"), "نظرة عامة");
  assert.deepEqual((await segmentBars(page)).map(([label]) => label), SEGMENT_NAMES.ar);
  assert.match(await page.textContent("#kpi-orders .kpi-value"), /^[٠-٩0-9]/);
  await axeClean(page);
  await page.screenshot({ path: join(SHOTS, "dashboard-ar.png"), fullPage: true });

  // A new tab opens in Arabic.
  await page.reload({ timeout: STEP });
  await until(page, () => document.documentElement.lang === "ar" && document.querySelectorAll("#segment-bars .bar-row").length === 8, STEP);
  await page.click("#tab-customers");
  await until(page, () => document.querySelectorAll("#results .result").length > 0, STEP);
  await axeClean(page);
  assertClean(log);
  await close();
});

test("a merchant builds a segment with the form, previews, saves, opens and deletes it", { timeout: 120_000 }, async () => {
  const { page, log, close } = await merchantAt("#segments");
  await until(page, () => document.querySelectorAll("#seg-rows .condition").length === 1 && /match/.test(document.querySelector("#seg-preview-count").textContent), STEP);
  const NAME = "silver-regulars";
  const LABEL = "Silver regulars";
  await page.fill("#seg-name", NAME);
  await page.fill("#seg-label", LABEL);

  // Two conditions with the form: orders at least 2, and the silver tier or above.
  const row = (n, part) => `#seg-rows [data-row="${n}"] [data-part="${part}"]`;
  await page.selectOption(row(0, "field"), "orders");
  await page.selectOption(row(0, "op"), ">=");
  await page.fill(row(0, "value"), "2");
  await page.click("#seg-add");
  assert.equal(await page.evaluate(() => document.activeElement.dataset.part), "field", "focus goes to the new condition");
  await page.selectOption(row(1, "field"), "tier");
  await page.selectOption(row(1, "op"), ">=");
  assert.deepEqual(await page.locator(`${row(1, "value")} option`).allTextContents(), ["Bronze", "Silver", "Gold"]);
  await page.selectOption(row(1, "value"), "silver");
  const filter = "orders >= 2 and tier >= silver";
  assert.equal(await page.inputValue("#seg-filter"), filter, "the conditions write the filter");
  assert.deepEqual(await page.locator(`${row(0, "op")} option`).evaluateAll((options) => options.map((o) => o.value)), ["=", "!=", "<", "<=", ">", ">="]);

  // The preview counts what the API counts for the same filter.
  const expected = await send("/v1/crm/custom-segments/preview", { filter });
  assert.equal(expected.customers, SILVER.length);
  await until(page, (n) => document.querySelector("#seg-preview-count").textContent === `${n} customers match`, STEP, expected.customers);
  assert.equal(await page.locator("#seg-preview-list li").count(), expected.customers);
  await axeClean(page);
  await page.screenshot({ path: join(SHOTS, "dashboard-segment-builder-en.png"), fullPage: true });

  // A change to a condition previews again: any of them is everyone with 2 orders.
  await page.selectOption("#seg-join", "or");
  assert.equal(await page.inputValue("#seg-filter"), "orders >= 2 or tier >= silver");
  const either = await send("/v1/crm/custom-segments/preview", { filter: "orders >= 2 or tier >= silver" });
  await until(page, (n) => (document.querySelector("#seg-preview-count").textContent.match(/\d+/)?.[0] ?? "") === String(n), STEP, either.customers);
  await page.selectOption("#seg-join", "and");
  await until(page, (n) => document.querySelector("#seg-preview-count").textContent.startsWith(`${n} `), STEP, expected.customers);

  // Save: the list shows it with its size, as the API does.
  await page.click("#seg-save");
  await until(page, () => document.querySelector("#seg-status").textContent.startsWith("Saved"), STEP);
  assert.equal(await page.textContent("#builder-title"), `Edit “${LABEL}”`);
  assert.equal(await page.evaluate(() => location.hash), `#segments/${NAME}`);
  const [saved] = (await server.merchant("/v1/crm/custom-segments")).body.segments;
  assert.deepEqual([saved.name, saved.label, saved.filter, saved.customers], [NAME, LABEL, filter, expected.customers]);
  assert.equal(await page.textContent("#custom-list .custom-name"), LABEL);
  assert.equal(await page.textContent("#custom-list .custom-count"), `${expected.customers} customers`);

  // Open it: its customers and its CSV.
  await page.click("#seg-status a");
  await until(page, (n) => document.querySelectorAll("#segment-table tbody tr").length === n, STEP, expected.customers);
  assert.equal(await page.textContent("#segment-title"), LABEL);
  assert.match(await page.textContent("#segment-filter"), new RegExp(filter));
  const links = await page.locator("#segment-table tbody th a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  assert.deepEqual(links, expected.sample.map((c) => `#customer/${c.userId}`), "the customers the preview showed, best spenders first");
  const href = await page.getAttribute("#segment-csv", "href");
  assert.equal(href, `/v1/crm/segments/${NAME}.csv`);
  const csv = await page.evaluate(async (url) => (await fetch(url, { credentials: "same-origin" })).text(), href);
  const lines = csv.trim().split("\n");
  assert.equal(lines.length, expected.customers + 1, "a header and every customer");
  for (const userId of SILVER) assert.ok(lines.some((line) => line.includes(`,${userId},`)), userId);
  await axeClean(page);
  await page.screenshot({ path: join(SHOTS, "dashboard-segment-custom-en.png"), fullPage: true });

  // Back to the form, from the segment: it shows the saved conditions.
  await page.click("#segment-filter a");
  await until(page, () => document.activeElement.id === "builder-title", STEP);
  assert.equal(await page.locator("#seg-rows .condition").count(), 2);
  assert.equal(await page.inputValue(row(1, "value")), "silver");
  assert.equal(await page.getAttribute("#seg-name", "readonly"), "");

  // A wrong filter typed by hand: the server's message, next to the field, which is marked invalid.
  const wrong = "orders >= 2 and tier = platinum";
  const refused = await fetch(`${server.url}/v1/crm/custom-segments/preview`, { method: "POST", headers: { Authorization: `Bearer ${SERVER_KEY}`, "Content-Type": "application/json" }, body: JSON.stringify({ filter: wrong }) });
  assert.equal(refused.status, 400);
  const message = (await refused.json()).error.replace(/^filter: /, "");
  assert.match(message, /^at character 24: /);
  await page.fill("#seg-filter", wrong);
  await until(page, () => document.querySelector("#seg-filter-error").textContent !== "", STEP);
  assert.equal(await page.textContent("#seg-filter-error"), `The server cannot read this filter: ${message}`);
  assert.equal(await page.getAttribute("#seg-filter", "aria-invalid"), "true");
  assert.match(await page.getAttribute("#seg-filter", "aria-describedby"), /\bseg-filter-error\b/);
  assert.equal(await page.isVisible("#seg-sync"), true, "the conditions say they cannot show it");
  assert.equal(await page.textContent("#seg-preview-count"), "Correct the filter to see who matches.");
  await axeClean(page);
  await page.screenshot({ path: join(SHOTS, "dashboard-segment-error-en.png"), fullPage: true });
  await page.fill("#seg-filter", "orders >= 2 and tier = gold");
  await until(page, () => !document.querySelector("#seg-filter").hasAttribute("aria-invalid"), STEP);
  assert.equal(await page.textContent("#seg-filter-error"), "");
  assert.equal(await page.isVisible("#seg-sync"), false, "the rows follow a filter they can show");
  assert.equal(await page.inputValue(row(1, "value")), "gold");

  // Delete, with the keyboard: Escape steps back, then yes deletes.
  await page.focus(`#custom-list [data-delete="${NAME}"]`);
  await page.keyboard.press("Enter");
  assert.match(await page.textContent("#custom-list .confirm"), /Delete the segment “Silver regulars”\?/);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.confirm), "no", "focus on Cancel");
  await axeClean(page);
  await page.keyboard.press("Escape");
  assert.equal(await page.locator("#custom-list .confirm").count(), 0);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.delete), NAME, "focus back on Delete");
  await page.keyboard.press("Enter");
  await page.keyboard.press("Shift+Tab");
  assert.equal(await page.evaluate(() => document.activeElement.dataset.confirm), "yes");
  await page.keyboard.press("Enter");
  await until(page, () => document.querySelector("#custom-list").textContent.startsWith("No segments of your own"), STEP);
  assert.equal(await page.evaluate(() => document.activeElement.id), "custom-title");
  assert.equal(await page.textContent("#builder-title"), "New segment", "the form no longer edits it");
  assert.deepEqual((await server.merchant("/v1/crm/custom-segments")).body.segments, []);
  assertClean(log, /\b40[01]\b/);
  await close();
});

test("a segment's customers and the search results come a page at a time", { timeout: 60_000 }, async () => {
  const { page, log, close } = await merchantAt("#segment/all");
  const total = (await server.merchant("/v1/crm/segments/all/customers")).body.total;
  assert.ok(total > 10 && total <= 20, `the data has ${total} customers: two pages of 10`);
  await until(page, (n) => document.querySelectorAll("#segment-table tbody tr").length === n, STEP, Math.min(total, PAGE));
  await page.selectOption("#segment-pages select", "10");
  await until(page, () => document.querySelectorAll("#segment-table tbody tr").length === 10, STEP);
  assert.equal(await page.textContent("#segment-pages .pager-range"), `1–10 of ${total}`);
  assert.equal(await page.isDisabled('#segment-pages [data-control="previous"]'), true);
  const first = await page.locator("#segment-table tbody th").allTextContents();

  await page.focus('#segment-pages [data-control="next"]');
  await page.keyboard.press("Enter");
  await until(page, (n) => document.querySelectorAll("#segment-table tbody tr").length === n, STEP, total - 10);
  assert.equal(await page.textContent("#segment-pages .pager-range"), `11–${total} of ${total}`);
  assert.equal(await page.isDisabled('#segment-pages [data-control="next"]'), true);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.control), "previous", "focus moves off the disabled button");
  const second = await page.locator("#segment-table tbody th").allTextContents();
  assert.equal(new Set([...first, ...second]).size, total, "every customer once");
  await axeClean(page);
  await page.screenshot({ path: join(SHOTS, "dashboard-pages-en.png"), fullPage: true });
  await page.keyboard.press("Enter");
  await until(page, () => document.querySelectorAll("#segment-table tbody tr").length === 10, STEP);
  assert.deepEqual(await page.locator("#segment-table tbody th").allTextContents(), first);

  // The search: every customer, best spenders first, 10 at a time too.
  await page.click("#tab-customers");
  await until(page, () => document.querySelectorAll("#results .result").length === 10, STEP);
  assert.equal(await page.textContent("#results-pages .pager-range"), `1–10 of ${total}`);
  await page.click('#results-pages [data-control="next"]');
  await until(page, (n) => document.querySelectorAll("#results .result").length === n, STEP, total - 10);
  assert.equal(await page.textContent("#results-pages .pager-range"), `11–${total} of ${total}`);
  await axeClean(page);
  assertClean(log);
  await close();
});

test("the loyalty tab shows the programme and its members per tier", { timeout: 60_000 }, async () => {
  const api = (await server.merchant("/v1/crm/loyalty")).body;
  const perTier = api.members.tiers.map((tier) => tier.customers);
  assert.ok(perTier.filter((n) => n > 0).length >= 2, `members in two tiers at least: ${perTier}`);
  for (const lang of ["en", "ar"]) {
    const { page, log, close } = await merchantAt("#loyalty", lang);
    await until(page, () => document.querySelectorAll("#tier-bars .bar-row").length > 0, STEP);
    assert.equal(await page.getAttribute("#tab-loyalty", "aria-current"), "page");
    const names = api.members.tiers.map((tier) => tier.name[lang]);
    const bars = await page.locator("#tier-bars .bar-row").evaluateAll((rows) => rows.map((row) => [row.querySelector(".bar-label").textContent, row.querySelector(".bar-value").textContent]));
    const digits = (text) => Number(text.replace(/[٠-٩]/g, (d) => "٠١٢٣٤٥٦٧٨٩".indexOf(d)).replace(/\D/g, ""));
    assert.deepEqual(bars.map(([name]) => name), names);
    assert.deepEqual(bars.map(([, n]) => digits(n)), perTier, "members per tier as the API counts them");
    const table = await page.locator("#loyalty-body table.data").first().locator("tbody tr").evaluateAll((rows) => rows.map((row) => [row.cells[0].textContent, row.cells[3].textContent]));
    assert.deepEqual(table.map(([name, n]) => [name, digits(n)]), names.map((name, i) => [name, perTier[i]]));
    assert.equal(digits(await page.textContent("#l-members .kpi-value")), api.members.total);
    assert.equal(digits(await page.textContent("#l-owed .kpi-value")), api.points.owed);
    // The rules, read-only, as the --loyalty-rules file spells them.
    assert.equal(await page.getAttribute(".rules-json", "dir"), "ltr");
    assert.deepEqual(JSON.parse(await page.textContent(".rules-json")), api.rules);
    assert.match(await page.textContent("#loyalty-body"), /--loyalty-rules/);
    await axeClean(page);
    await page.screenshot({ path: join(SHOTS, `dashboard-loyalty-${lang}.png`), fullPage: true });
    assertClean(log);
    await close();
  }
});

test("in Arabic the new views read right to left, and nothing overflows at 390 px", { timeout: 120_000 }, async () => {
  await send("/v1/crm/custom-segments/big-spenders", { label: "كبار المنفقين", filter: "spent >= 500 or vip" }, { method: "PUT" });
  const { page, log, close } = await merchantAt("#segments", "ar");
  await until(page, () => document.querySelector("#custom-list .custom-name")?.textContent === "كبار المنفقين" && !document.querySelector("#seg-preview-count").textContent.endsWith("…"), STEP);
  assert.equal(await page.evaluate(() => document.documentElement.dir), "rtl");
  assert.equal(await page.textContent("#builder-title"), "شريحة جديدة");
  assert.equal(await page.getAttribute("#seg-filter", "dir"), "ltr");
  assert.equal(await page.getAttribute('#seg-rows [data-row="0"] [data-part="field"]', "aria-label"), "حقل الشرط 1");
  await axeClean(page);
  await page.screenshot({ path: join(SHOTS, "dashboard-segment-builder-ar.png"), fullPage: true });
  await page.fill("#seg-filter", "spent >= 500 and tier = platinum");
  await until(page, () => document.querySelector("#seg-filter").getAttribute("aria-invalid") === "true", STEP);
  assert.match(await page.textContent("#seg-filter-error"), /^لا يستطيع الخادم قراءة هذا المرشّح: at character 25: /);
  assert.equal(await page.getAttribute("#seg-filter-error [lang=en]", "dir"), "ltr");
  await axeClean(page);
  await page.click('#custom-list a[href="#segment/big-spenders"]');
  await until(page, () => document.querySelector("#segment-title").textContent === "كبار المنفقين" && document.querySelectorAll("#segment-table tbody tr").length > 0, STEP);
  await axeClean(page);
  await page.screenshot({ path: join(SHOTS, "dashboard-segment-custom-ar.png"), fullPage: true });
  await page.click("#tab-overview");
  await until(page, () => document.querySelectorAll("#history-chart .vh table tbody tr").length > 0 && document.querySelector("#chat-total"), STEP);
  assert.deepEqual(await page.locator("#history-chart .legend .key").allTextContents(), SEGMENT_NAMES.ar);
  assert.equal(await page.textContent("#chat-csat"), "لا تقييمات بعد");
  await axeClean(page);
  assertClean(log, /\b40[01]\b/);
  await close();

  // At 390 px wide, in both languages, every view fits its window.
  for (const lang of ["en", "ar"]) {
    const narrow = await merchantAt("#overview", lang, 390);
    for (const hash of ["#overview", "#customers", "#segments", "#segment/big-spenders", "#segment/all", "#loyalty"]) {
      await narrow.page.evaluate((h) => (location.hash = h), hash);
      await until(narrow.page, (id) => !document.getElementById(id).hidden && !document.getElementById(id).textContent.includes("…"), STEP, `view-${hash.slice(1).split("/")[0]}`);
      await narrow.page.waitForTimeout(400);
      assert.equal(await overflows(narrow.page), false, `${hash} in ${lang} fits 390 px`);
      if (["#segments", "#loyalty", "#overview"].includes(hash)) await narrow.page.screenshot({ path: join(SHOTS, `dashboard-${hash.slice(1)}-${lang}-390.png`), fullPage: true });
    }
    assertClean(narrow.log);
    await narrow.close();
  }
  await send("/v1/crm/custom-segments/big-spenders", undefined, { method: "DELETE" });
});

// ---------------------------------------------------------------------------------
// Triggers, a customer's data, and refreshing the segments

/** A webhook receiver on 127.0.0.1 that answers 200 and keeps what it got: `{headers, body}` each. */
async function startReceiver() {
  const hooks = [];
  const http = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      hooks.push({ headers: request.headers, body });
      response.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
    });
  });
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${http.address().port}/hooks/souk`, hooks, close: () => new Promise((resolve) => http.close(resolve)) };
}

/** Waits until `check()` (in the test, not the page) resolves to something true, and answers it. */
async function eventually(check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await check();
    if (answer) return answer;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${check}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const iso = (ms) => new Date(ms).toISOString();

/** Version `atMs` of `who`'s consent record: everything but personalisation, and marketing as `marketing` says. */
const consentRecord = (who, atMs, marketing) => ({
  consentId: `c-${who.userId}`,
  anonymousId: who.anon,
  userId: who.userId,
  revision: "1",
  language: "en",
  source: "banner",
  categories: { necessary: true, functional: true, analytics: true, personalization: false, marketing },
  firstAt: iso(atMs),
  updatedAt: iso(atMs),
  gpc: false,
});

/** `who` signs in on the shop and says their name and email. */
const identify = (who, atMs) => ({ type: "identify", messageId: `id-${who.userId}`, anonymousId: who.anon, userId: who.userId, timestamp: iso(atMs), traits: { name: who.name, email: who.email } });

/** `who` puts a teapot in the cart. */
const added = (who, atMs) => ({
  type: "track",
  event: "Product Added",
  messageId: `add-${who.userId}`,
  anonymousId: who.anon,
  userId: who.userId,
  timestamp: iso(atMs),
  properties: { product_id: "teapot", name: "Brass teapot", price: 40, currency: "AED", quantity: 1 },
});

/** `Souk-Signature: t=…,v1=…` checked as the README says: HMAC-SHA256 of `${t}.${body}` keyed with the secret. */
function signatureVerifies(hook, secret) {
  const { t, v1 } = Object.fromEntries(hook.headers["souk-signature"].split(",").map((part) => part.split("=", 2)));
  return /^\d+$/.test(t) && v1 === createHmac("sha256", secret).update(`${t}.${hook.body}`).digest("hex");
}

test("a merchant sets up a trigger in the dashboard; its webhook comes once, signed with the secret shown, and the log shows it", { timeout: 120_000 }, async () => {
  const receiver = await startReceiver();
  const { page, log, close } = await merchantAt("#triggers");
  await until(page, (n) => document.querySelectorAll("#trigger-cards .trigger").length === n && document.querySelector("#log-count").textContent !== "", STEP, TRIGGER_KINDS.length);
  assert.equal(await page.getAttribute("#tab-triggers", "aria-current"), "page");
  assert.deepEqual(await page.locator("#trigger-cards h2").allTextContents(), ["Abandoned cart", "First purchase", "Loyalty tier change", "Win-back", "Birthday"]);
  assert.match(await page.textContent("#trig-abandoned_cart-card"), /Sent only to customers who allow Marketing\. This trigger is marketing/);
  assert.deepEqual(await page.locator("#trig-tier_change-consent option").evaluateAll((options) => options.filter((o) => o.selected).map((o) => o.value)), ["functional"], "tier_change may use another category");
  assert.deepEqual([await page.getAttribute("#trig-win_back-days", "min"), await page.getAttribute("#trig-win_back-days", "max")], ["1", "730"]);
  assert.equal(await page.textContent("#log-count"), "No webhooks yet: they show here as the triggers fire.");
  assert.equal(await page.getAttribute("#view-triggers pre.code", "dir"), "ltr");
  await axeClean(page);

  // A wrong address: the server's own message next to the field, which is marked invalid; nothing is saved.
  const bad = "ftp://shop.example/hooks";
  const refused = await fetch(`${server.url}/v1/crm/triggers/abandoned_cart`, { method: "PUT", headers: { Authorization: `Bearer ${SERVER_KEY}`, "Content-Type": "application/json" }, body: JSON.stringify({ enabled: true, minutes: 1, url: bad }) });
  assert.equal(refused.status, 400);
  const message = (await refused.json()).error;
  assert.match(message, /^url: must start with http:\/\/ or https:\/\//);
  await page.check("#trig-abandoned_cart-enabled");
  await page.fill("#trig-abandoned_cart-minutes", "1");
  await page.fill("#trig-abandoned_cart-url", bad);
  await page.click("#trig-abandoned_cart-save");
  await until(page, () => document.querySelector("#trig-abandoned_cart-url-error")?.textContent, STEP);
  assert.equal(await page.textContent("#trig-abandoned_cart-url-error"), `Not saved: ${message.replace(/^url: /, "")}`);
  assert.equal(await page.getAttribute("#trig-abandoned_cart-url", "aria-invalid"), "true");
  assert.match(await page.getAttribute("#trig-abandoned_cart-url", "aria-describedby"), /\btrig-abandoned_cart-url-error\b/);
  assert.equal(await page.evaluate(() => document.activeElement.id), "trig-abandoned_cart-url", "focus on the field the server named");
  assert.equal(await page.isChecked("#trig-abandoned_cart-enabled"), true, "what was typed stays");
  const untouched = (await server.merchant("/v1/crm/triggers/abandoned_cart")).body;
  assert.deepEqual([untouched.enabled, untouched.url, untouched.secret], [false, null, null]);
  await axeClean(page);

  // The receiver's address: saved, and the secret made for it shown this once.
  await page.fill("#trig-abandoned_cart-url", receiver.url);
  await page.click("#trig-abandoned_cart-save");
  await until(page, () => document.querySelector("#trig-abandoned_cart-secret")?.value, STEP);
  const secret = await page.inputValue("#trig-abandoned_cart-secret");
  assert.match(secret, /^whsec_[0-9a-f]{64}$/);
  assert.equal(await page.getAttribute("#trig-abandoned_cart-secret", "readonly"), "");
  assert.match(await page.textContent("#trig-abandoned_cart-secret-note"), /will not be shown again/);
  assert.equal(await page.evaluate(() => document.activeElement.id), "trig-abandoned_cart-secret", "focus on the secret to copy");
  assert.equal(await page.getAttribute("#trig-abandoned_cart-url", "aria-invalid"), null);
  assert.equal(await page.textContent("#trig-abandoned_cart-card .chip"), "On");
  const saved = (await server.merchant("/v1/crm/triggers/abandoned_cart")).body;
  assert.deepEqual([saved.enabled, saved.minutes, saved.url, saved.consent, saved.secret], [true, 1, receiver.url, "marketing", `whsec_…${secret.slice(-4)}`]);
  await axeClean(page);
  await page.screenshot({ path: join(SHOTS, "dashboard-triggers-secret-en.png"), fullPage: true });

  // A shopper who allows marketing leaves a teapot in the cart: its minute without activity
  // ends two seconds from now (after the trigger was switched on, so it is not the past).
  const idleEnds = Math.max(Date.now(), Date.parse(saved.enabledAt)) + 2000;
  await send("/v1/consent", consentRecord(CARTER, idleEnds - 120_000, true), { auth: BASIC });
  await send("/v1/batch", { batch: [identify(CARTER, idleEnds - 61_000), added(CARTER, idleEnds - 60_000)] }, { auth: BASIC });
  await eventually(() => receiver.hooks.length > 0);
  const delivered = await eventually(async () => (await server.merchant("/v1/crm/triggers/log")).body.deliveries.find((d) => d.state === "delivered"));
  await new Promise((resolve) => setTimeout(resolve, 3000)); // three more passes
  assert.equal(receiver.hooks.length, 1, "exactly one webhook");
  const [hook] = receiver.hooks;
  assert.ok(signatureVerifies(hook, secret), "signed with the secret the page showed");
  assert.equal(hook.headers["souk-event"], "abandoned_cart");
  const body = JSON.parse(hook.body);
  assert.equal(hook.headers["idempotency-key"], body.idempotencyKey);
  assert.deepEqual([body.kind, body.customer.userId, body.customer.email, body.details.value], ["abandoned_cart", CARTER.userId, CARTER.email, 4000]);

  // The log: delivered, one attempt, and its details behind a disclosure button, with the keyboard.
  await page.click("#log-reload");
  await until(page, () => document.querySelectorAll("#log-table table.log > tbody > tr:not(.delivery-details)").length === 1, STEP);
  assert.equal(await page.textContent("#log-count"), "1 webhook, newest first.");
  const cells = await page.locator("#log-table table.log > tbody > tr:not(.delivery-details) > *").allTextContents();
  assert.deepEqual(cells.slice(2), ["Abandoned cart", CARTER.name, "Delivered", "1", "HTTP 200", "—"]);
  const toggle = `#log-table [data-delivery="${delivered.id}"]`;
  assert.equal(await page.getAttribute(toggle, "aria-expanded"), "false");
  assert.equal(await page.isVisible(`#delivery-${delivered.id}`), false);
  await page.focus(toggle);
  await page.keyboard.press("Enter");
  assert.equal(await page.getAttribute(toggle, "aria-expanded"), "true");
  assert.equal(await page.getAttribute(toggle, "aria-controls"), `delivery-${delivered.id}`);
  assert.equal(await page.isVisible(`#delivery-${delivered.id}`), true);
  const attempts = await page.locator(`#delivery-${delivered.id} table tbody tr`).evaluateAll((rows) => rows.map((row) => [row.cells[0].textContent, row.cells[2].textContent]));
  assert.deepEqual(attempts, [["1", "HTTP 200"]]);
  assert.equal(await page.getAttribute(`#delivery-${delivered.id} pre`, "dir"), "ltr");
  assert.deepEqual(JSON.parse(await page.textContent(`#delivery-${delivered.id} pre`)), body, "the body as the receiver got it");
  await axeClean(page);
  await page.screenshot({ path: join(SHOTS, "dashboard-triggers-log-en.png"), fullPage: true });

  // Filters: by state, then all again (the row stays open).
  await page.selectOption("#log-state", "failed");
  await until(page, () => document.querySelector("#log-count").textContent === "No webhooks match these filters.", STEP);
  assert.equal(await page.locator("#log-table table").count(), 0);
  await page.selectOption("#log-state", "delivered");
  await page.selectOption("#log-kind", "abandoned_cart");
  await until(page, () => document.querySelectorAll("#log-table table.log > tbody > tr:not(.delivery-details)").length === 1, STEP);
  assert.equal(await page.isVisible(`#delivery-${delivered.id}`), true);
  await page.selectOption("#log-state", "");
  await page.selectOption("#log-kind", "");

  // Coming back, the secret is masked; it is nowhere in the page.
  await page.click("#tab-overview");
  await page.click("#tab-triggers");
  await until(page, () => document.querySelector("#trig-abandoned_cart-card code"), STEP);
  assert.equal(await page.textContent("#trig-abandoned_cart-card code"), `whsec_…${secret.slice(-4)}`);
  assert.equal((await page.content()).includes(secret), false);

  // Rotate the secret, with the keyboard: Escape steps back, then yes makes a new one, shown once.
  const rotate = "#trig-abandoned_cart-secret-rotate";
  await page.focus(rotate);
  await page.keyboard.press("Enter");
  assert.match(await page.textContent("#trig-abandoned_cart-card .confirm"), /Make a new signing secret for Abandoned cart\?/);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.confirm), "no", "focus on Cancel");
  await axeClean(page);
  await page.keyboard.press("Escape");
  assert.equal(await page.locator("#trig-abandoned_cart-card .confirm").count(), 0);
  assert.equal(await page.evaluate(() => document.activeElement.id), "trig-abandoned_cart-secret-rotate");
  await page.keyboard.press("Enter");
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Enter");
  await until(page, () => document.querySelector("#trig-abandoned_cart-secret")?.value, STEP);
  const rotated = await page.inputValue("#trig-abandoned_cart-secret");
  assert.match(rotated, /^whsec_[0-9a-f]{64}$/);
  assert.notEqual(rotated, secret);
  assert.equal((await server.merchant("/v1/crm/triggers/abandoned_cart")).body.secret, `whsec_…${rotated.slice(-4)}`);
  assert.equal(await page.evaluate(() => document.activeElement.id), "trig-abandoned_cart-secret");
  await axeClean(page);
  assertClean(log, /\b40[01]\b/);
  await close();
  await receiver.close();
});

test("in Arabic and at 390 px the triggers read right to left, fit, and the log's row opens", { timeout: 120_000 }, async () => {
  for (const lang of ["en", "ar"]) {
    for (const width of [1280, 390]) {
      const { page, log, close } = await merchantAt("#triggers", lang, width);
      await until(page, () => document.querySelectorAll("#log-table [data-delivery]").length > 0, STEP);
      await page.click("#log-table [data-delivery]");
      assert.equal(await page.evaluate(() => document.documentElement.dir), lang === "ar" ? "rtl" : "ltr");
      if (lang === "ar") {
        assert.equal(await page.textContent("#tab-triggers"), "المحفّزات");
        assert.equal(await page.textContent("#trig-abandoned_cart-title"), "سلة متروكة");
        assert.equal(await page.textContent("#log-table .state-delivered"), "وصل");
        assert.equal(await page.getAttribute("#trig-abandoned_cart-url", "dir"), "ltr");
      }
      await page.waitForTimeout(300);
      assert.equal(await overflows(page), false, `#triggers in ${lang} fits ${width} px`);
      await axeClean(page);
      await page.screenshot({ path: join(SHOTS, `dashboard-triggers-${lang}-${width}.png`), fullPage: true });
      assertClean(log);
      await close();
    }
  }
});

test("the customer 360 downloads a customer's data, and erases them once their id or email is typed", { timeout: 120_000 }, async () => {
  const t0 = Date.now() - 3 * DAY_MS;
  await send("/v1/consent", consentRecord(ERASED, t0, false), { auth: BASIC });
  await send("/v1/consent", consentRecord(ERASED, t0 + DAY_MS, true), { auth: BASIC });
  await send("/v1/batch", { batch: [identify(ERASED, t0)] }, { auth: BASIC });
  await send("/v1/orders", { orderId: "e2e-hala-1", userId: ERASED.userId, subtotal: 18_000, currency: "AED", at: iso(t0 + DAY_MS) });
  const view = (await server.merchant(`/v1/crm/customers/${ERASED.userId}`)).body;
  assert.ok(view.loyalty?.next, "a tier to reach");

  const { page, log, close } = await merchantAt("#customers");
  await page.fill("#search-q", ERASED.email);
  await page.keyboard.press("Enter");
  await until(page, (id) => document.querySelector(`#results a[href="#customer/${id}"]`), STEP, ERASED.userId);
  await page.click(`#results a[href="#customer/${ERASED.userId}"]`);
  await until(page, () => document.querySelector("#privacy-card") && document.querySelector("#consent-history"), STEP);

  // The next tier is in the customer's own currency; the consent history fits its card.
  assert.match(await page.textContent("#c-next-tier"), /AED/);
  assert.equal(await page.locator("#consent-history tbody tr").count(), 2);
  assert.ok(await page.evaluate(() => {
    const region = document.querySelector("#consent-history");
    return region.scrollWidth <= region.clientWidth && region.closest(".card").scrollWidth <= region.closest(".card").clientWidth;
  }), "the consent history fits at 1280 px");
  await axeClean(page);
  await page.screenshot({ path: join(SHOTS, "dashboard-customer-data-en.png"), fullPage: true });
  await page.setViewportSize({ width: 390, height: 900 });
  await page.waitForTimeout(300);
  assert.equal(await overflows(page), false, "the customer with their consent history fits 390 px");
  await page.setViewportSize({ width: 1280, height: 900 });

  // Download: a JSON file of everything held about them.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-customer")]);
  assert.match(download.suggestedFilename(), new RegExp(`^customer-${ERASED.userId}-\\d{4}-\\d{2}-\\d{2}\\.json$`));
  const exported = JSON.parse(readFileSync(await download.path(), "utf8"));
  assert.equal(exported.key, ERASED.userId);
  assert.ok(JSON.stringify(exported.profile).includes(ERASED.userId));
  assert.equal(exported.tables.consents.length, 2);

  // Erase, with the keyboard: the button works once their id or email is typed; Escape steps back.
  await page.focus("#erase-customer");
  await page.keyboard.press("Enter");
  assert.equal(await page.evaluate(() => document.activeElement.id), "erase-typed");
  const confirm = await page.textContent("#privacy-card .confirm");
  assert.match(confirm, new RegExp(`Erase ${ERASED.name}\\?`));
  assert.match(confirm, /are deleted.*without naming them.*pseudonym/s);
  const yes = '#privacy-card [data-confirm="yes"]';
  assert.equal(await page.isDisabled(yes), true);
  await page.keyboard.type("someone-else");
  assert.equal(await page.isDisabled(yes), true);
  await page.keyboard.press("Escape");
  assert.equal(await page.locator("#privacy-card .confirm").count(), 0);
  assert.equal(await page.evaluate(() => document.activeElement.id), "erase-customer");
  await page.keyboard.press("Enter");
  await page.keyboard.type(ERASED.email.toUpperCase());
  assert.equal(await page.isDisabled(yes), false, "the email, in any case");
  await axeClean(page);
  await page.keyboard.press("Enter");

  // Back on the search: what was done, and the consent proof key to keep.
  await until(page, () => location.hash === "#customers" && !document.querySelector("#erased").hidden && document.activeElement.id === "erased-title", 30_000);
  assert.equal(await page.textContent("#erased-title"), `Erased ${ERASED.name}`);
  const done = Object.fromEntries(await page.locator("#erased-body table tbody tr").evaluateAll((rows) => rows.map((row) => [row.cells[0].textContent, row.cells[1].textContent])));
  assert.equal(done["Events"], "Deleted");
  assert.equal(done["Consent records"], "Pseudonymised");
  assert.equal(done["Loyalty points"], "Anonymised");
  assert.match(await page.inputValue("#proof-key"), /^[0-9a-f]{64}$/);
  assert.match(await page.textContent("#proof-key-note"), /Keep this key safe/);
  await until(page, (q) => document.querySelector("#search-count").textContent === `No customer matches “${q}”.`, STEP, ERASED.email);
  assert.equal((await server.merchant(`/v1/crm/customers/${ERASED.userId}`)).status, 404);
  assert.equal((await server.merchant(`/v1/crm/customers/${ERASED.userId}/export`)).status, 404);
  await axeClean(page);
  await page.screenshot({ path: join(SHOTS, "dashboard-erased-en.png"), fullPage: true });
  // Elsewhere, the receipt is gone.
  await page.click("#tab-overview");
  await page.click("#tab-customers");
  await until(page, () => document.querySelector("#erased").hidden && document.activeElement.id === "customers-title", STEP);
  assertClean(log);
  await close();
});

test("the erasure's confirmation reads right to left in Arabic and fits 390 px", { timeout: 120_000 }, async () => {
  const { name } = (await server.merchant(`/v1/crm/customers/${CUSTOMER}`)).body;
  for (const lang of ["en", "ar"]) {
    for (const width of [1280, 390]) {
      const { page, log, close } = await merchantAt(`#customer/${CUSTOMER}`, lang, width);
      await until(page, () => document.querySelector("#privacy-card"), STEP);
      await page.click("#erase-customer");
      await page.keyboard.type(CUSTOMER);
      assert.equal(await page.isDisabled('#privacy-card [data-confirm="yes"]'), false);
      if (lang === "ar") assert.ok((await page.textContent("#privacy-card .confirm")).startsWith(`أتمحو ${name}؟`));
      await page.waitForTimeout(300);
      assert.equal(await overflows(page), false, `the customer in ${lang} fits ${width} px`);
      await axeClean(page);
      await page.screenshot({ path: join(SHOTS, `dashboard-erase-${lang}-${width}.png`), fullPage: true });
      await page.keyboard.press("Escape");
      assert.equal(await page.locator("#privacy-card .confirm").count(), 0);
      assertClean(log);
      await close();
    }
  }
  assert.equal((await server.merchant(`/v1/crm/customers/${CUSTOMER}`)).status, 200, "still there");
});

test("the segments say when they were last refreshed, and refresh now on demand", { timeout: 60_000 }, async () => {
  const before = (await server.merchant("/v1/crm/segments")).body.run;
  const { page, log, close } = await merchantAt("#segments");
  await until(page, () => document.querySelector("#refresh-text").textContent !== "", STEP);
  const was = await page.textContent("#refresh-text");
  assert.match(was, /^Last refreshed .+ UTC, in \d+(\.\d)? (milliseconds?|seconds?)\.$/);
  await page.focus("#refresh-now");
  await page.keyboard.press("Enter");
  await until(page, () => document.querySelector("#announcer").textContent.startsWith("Refreshed in "), 30_000);
  assert.equal(await page.getAttribute("#refresh-now", "aria-disabled"), null);
  assert.equal(await page.textContent("#refresh-now"), "Refresh now");
  assert.equal(await page.evaluate(() => document.activeElement.id), "refresh-now", "focus stays on the button");
  const after = (await server.merchant("/v1/crm/segments")).body.run;
  assert.ok(after.id > before.id, "a new run");
  assert.notEqual(await page.textContent("#refresh-text"), was);
  await axeClean(page);
  assertClean(log);
  await close();
});
