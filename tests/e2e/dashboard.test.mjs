// The merchant dashboard at /dashboard, in Debian's Chromium against a real souk-server
// whose database is filled through the normal paths by `souk-server crm import-retail`
// (online orders through /v1/batch and /v1/orders, store orders through the POS
// import), then scored by `souk-server crm refresh`. A merchant added with `agent add
// --role merchant` signs in, reads the overview, searches a customer and opens the 360,
// opens a segment and its CSV; a plain agent is refused. English and Arabic, axe-clean;
// screenshots land in tests/e2e/screenshots/.
//
// The data: the synthetic invoices in server/tests/data/ (12 customers, under a second
// to import), because the full UCI year takes ~105 s to import with the debug build.
// SOUK_DASHBOARD_DATA=full uses ../shared/data/online-retail/online-retail.csv.gz.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ROOT, axeViolations, launchBrowser, openPage, startServer, until } from "./harness.mjs";

const SHOTS = join(ROOT, "tests/e2e/screenshots");
const BIN = process.env.SOUK_SERVER_BIN || join(ROOT, "target/debug/souk-server");
const FULL = process.env.SOUK_DASHBOARD_DATA === "full";
const DATA = FULL ? join(ROOT, "../shared/data/online-retail/online-retail.csv.gz") : join(ROOT, "server/tests/data/online-retail-synthetic.csv");
const CUSTOMER = FULL ? "15513" : "12000"; // a CustomerID of the data
const PASSWORD = "ledger-of-the-souk";
const OWNER = { email: "owner@shop.example", name: "Layla Owner" };
const AGENT = { email: "agent@shop.example", name: "Sami Agent" };
const AXE = readFileSync(join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8");
const STEP = 10_000;
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
  cli(["crm", "import-retail", "--db", server.db, "--data", DATA], {}, FULL ? 300_000 : 60_000);
  cli(["crm", "refresh", "--db", server.db], {}, FULL ? 60_000 : STEP);
  cli(["agent", "add", "--db", server.db, "--email", OWNER.email, "--name", OWNER.name, "--role", "merchant"], { SOUK_AGENT_PASSWORD: PASSWORD });
  cli(["agent", "add", "--db", server.db, "--email", AGENT.email, "--name", AGENT.name], { SOUK_AGENT_PASSWORD: PASSWORD });
  browser = await launchBrowser();
});

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
  assert.ok((await page.locator("#sales-chart table.vh tbody tr").count()) >= 1);
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
  assert.equal(await page.locator("#funnel-chart table.vh tbody tr").count(), 4);
  assert.ok((await page.locator("#consent-chart").textContent()).length > 0);
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
  await until(page, (n) => document.querySelectorAll("#segment-table tbody tr").length === n, STEP, Math.min(biggest.customers, 100));
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
