// The merchant dashboard at /dashboard, in Debian's Chromium against a real souk-server
// whose database is filled through the normal paths by `souk-server crm import-retail`
// (online orders through /v1/batch and /v1/orders, store orders through the POS
// import), then scored by `souk-server crm refresh`. A merchant added with `agent add
// --role merchant` signs in, reads the overview, searches a customer and opens the 360,
// opens a segment and its CSV; a plain agent is refused. It builds, previews, saves,
// opens and deletes a segment of its own, pages through a segment and the search, and
// reads the loyalty programme, the chat figures and the segment history. English and
// Arabic, axe-clean, at 1280 and 390 px wide; screenshots land in tests/e2e/screenshots/.
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
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
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

let server;
let browser;

const cli = (args, env = {}, timeout = STEP) =>
  execFileSync(BIN, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], timeout, encoding: "utf8" });

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer();
  cli(["crm", "import-retail", "--db", server.db, "--data", DATA], {}, 60_000);
  cli(["crm", "refresh", "--db", server.db], {}, STEP);
  cli(["agent", "add", "--db", server.db, "--email", OWNER.email, "--name", OWNER.name, "--role", "merchant"], { SOUK_AGENT_PASSWORD: PASSWORD });
  cli(["agent", "add", "--db", server.db, "--email", AGENT.email, "--name", AGENT.name], { SOUK_AGENT_PASSWORD: PASSWORD });
  for (const userId of SILVER) await send("/v1/orders", { orderId: `e2e-${userId}`, userId, subtotal: 60_000, currency: "GBP", at: "2011-02-10T10:00:00Z" });
  await send("/v1/orders", { orderId: "e2e-gold", userId: CUSTOMER, subtotal: 250_000, currency: "GBP" });
  const basic = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString("base64")}`;
  await send("/v1/chat/messages", { anonymousId: "anon-e2e-dashboard", id: randomUUID(), text: "Do you ship to Riyadh?" }, { auth: basic });
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

/** A signed-in merchant's dashboard at `hash`, in `lang` (`width` px wide). */
async function merchantAt(hash, lang = "en", width = 1280) {
  const opened = await openPage(browser, { locale: "en-GB", viewport: { width, height: 900 } });
  await opened.context.addInitScript((l) => localStorage.setItem("souk.dashboard.lang", l), lang);
  await opened.page.goto(`${server.url}/dashboard${hash}`, { timeout: STEP });
  await signIn(opened.page, OWNER);
  await opened.page.locator("#tabs").waitFor({ timeout: STEP });
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
