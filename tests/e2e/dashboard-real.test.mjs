// The merchant dashboard on a real shop's year: the UCI Online Retail invoices in
// ../shared/data/online-retail/ (4,334 customers, 18,402 orders), imported through the
// normal paths by `souk-server crm import-retail` (browsing sessions and orders through
// /v1/batch and /v1/orders, store sales through the POS import) and scored as of the
// day after the last invoice. In Debian's Chromium: the overview's figures and charts
// are the API's, the segments are the year's, a customer who bought online and in
// store is one profile, and a segment of the merchant's own over real products counts
// what the API counts. English and Arabic, axe-clean. The import takes about two
// minutes with the debug build.
//
// The data set is not in the repository; without it this file says so and skips.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ROOT, SERVER_KEY, assertClean, axeViolations, launchBrowser, openPage, startServer, until } from "./harness.mjs";

const DATA = join(ROOT, "../shared/data/online-retail/online-retail.csv.gz");
const BIN = process.env.SOUK_SERVER_BIN || join(ROOT, "target/debug/souk-server");
const SHOTS = join(ROOT, "tests/e2e/screenshots");
const AXE = readFileSync(join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8");
const OWNER = { email: "owner@retail.example", name: "Retail Owner", password: "a-year-of-invoices" };
const STEP = 20_000;
const skip = existsSync(DATA) ? false : `the real invoices are not at ${DATA}`;
if (skip) console.log(`# dashboard-real: skipped, ${skip}`);

let server;
let browser;

const cli = (args, timeout = STEP) =>
  execFileSync(BIN, args, { env: { ...process.env, SOUK_AGENT_PASSWORD: OWNER.password }, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", timeout });

async function merchant(path, body) {
  const response = await fetch(server.url + path, {
    method: body ? "POST" : "GET",
    headers: { Authorization: `Bearer ${SERVER_KEY}`, "Content-Type": "application/json" },
    body: body && JSON.stringify(body),
  });
  const answer = await response.json();
  assert.equal(response.status, 200, `${path}: ${JSON.stringify(answer)}`);
  return answer;
}

before(async () => {
  if (skip) return;
  server = await startServer();
  cli(["crm", "import-retail", "--db", server.db, "--data", DATA], 600_000);
  cli(["crm", "refresh", "--db", server.db], 120_000);
  cli(["agent", "add", "--db", server.db, "--email", OWNER.email, "--name", OWNER.name, "--role", "merchant"]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signedIn(lang) {
  const tab = await openPage(browser, { viewport: { width: 1280, height: 900 } });
  await tab.context.addInitScript((l) => localStorage.setItem("souk.dashboard.lang", l), lang);
  await tab.page.goto(`${server.url}/dashboard`);
  await tab.page.fill("#login-email", OWNER.email);
  await tab.page.fill("#login-password", OWNER.password);
  await tab.page.click("#login-submit");
  await tab.page.locator("#view-overview").waitFor({ timeout: STEP });
  return tab;
}

async function axeClean(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(AXE);
  assert.deepEqual(await axeViolations(page), []);
}

const number = (text) => Number(text.replace(/[^\d.]/g, ""));

test("the real year: its segments, its overview and a customer of both channels", { skip, timeout: 180_000 }, async () => {
  // The year's segments, scored as of 2011-12-10 in GBP (the README's figures).
  const { run, segments, vip } = await merchant("/v1/crm/segments");
  assert.equal(run.customers, 4334);
  assert.deepEqual(run.orders, { total: 18402, online: 11057, store: 7345 });
  assert.deepEqual(
    Object.fromEntries(segments.map((s) => [s.name, s.customers])),
    { champions: 1091, loyal: 776, "potential-loyalists": 593, new: 119, "at-risk": 607, "cant-lose": 49, hibernating: 408, lost: 691 },
  );
  assert.equal(vip.customers, 217);

  const { page, log, close } = await signedIn("en");
  await until(page, () => document.querySelectorAll("#segment-chart .bar-row").length === 8, STEP);
  const bars = await page.locator("#segment-chart .bar-row .bar-value").allTextContents();
  assert.deepEqual(bars.map(number), segments.map((s) => s.customers), "the chart shows the year's segments");
  // The KPIs are the overview's for the last 12 months up to the scoring date.
  const to = run.asOf.slice(0, 10);
  const from = new Date(Date.parse(run.asOf) - 365 * 86_400_000).toISOString().slice(0, 10);
  const overview = await merchant(`/v1/crm/overview?from=${from}&to=${to}`);
  const gbp = overview.sales.byCurrency.find((c) => c.currency === "GBP");
  assert.ok(gbp.orders > 15000, `a year of orders: ${gbp.orders}`);
  await until(page, (n) => document.querySelector("#kpi-orders .kpi-value")?.textContent.replace(/\D/g, "") === String(n), STEP, gbp.orders);
  assert.match(await page.textContent("#kpi-revenue .kpi-value"), /£/);
  assert.ok((await page.locator("#sales-chart svg rect.bar").count()) >= 12, "a bar per month");
  await axeClean(page);
  await page.screenshot({ path: join(SHOTS, "dashboard-real-en.png"), fullPage: true });

  // A champion who bought online and in store: one profile in the 360.
  const { customers } = await merchant("/v1/crm/segments/champions/customers?limit=100");
  const both = customers.find((c) => c.onlineOrders > 0 && c.storeOrders > 0);
  assert.ok(both, "some champions buy in both channels");
  await page.goto(`${server.url}/dashboard#customer/${both.userId}`);
  await until(page, () => document.querySelectorAll("#customer-body .card").length >= 7, STEP);
  assert.equal(await page.textContent("#c-orders .kpi-value"), String(both.orders));
  assert.match(await page.textContent("#c-orders .kpi-note"), new RegExp(`${both.onlineOrders} online · ${both.storeOrders} in store`));
  assert.match(await page.textContent("#customer-chips"), /Champions/);
  await axeClean(page);
  assertClean(log, /\b401\b/); // "am I signed in?" before signing in
  await close();
});

test("a segment of the merchant's own over real products counts what the API counts", { skip, timeout: 120_000 }, async () => {
  const filter = "product = 85123A and last_order_days > 30 and orders >= 5";
  const { customers } = await merchant("/v1/crm/custom-segments/preview", { filter });
  assert.ok(customers > 10, `the white hanging heart's lapsed regulars: ${customers}`);
  const { page, log, close } = await signedIn("ar");
  await page.goto(`${server.url}/dashboard#segments`);
  // The builder is ready once it previewed its first condition.
  await until(page, () => /[\d٠-٩]/.test(document.querySelector("#seg-preview-count")?.textContent || ""), STEP);
  await page.fill("#seg-filter", filter);
  const shown = (n) => {
    const text = document.querySelector("#seg-preview-count")?.textContent || "";
    const latin = text.replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x660)).replace(/[^\d]/g, "");
    return latin === String(n);
  };
  await until(page, shown, STEP, customers);
  assert.equal(await page.getAttribute("html", "dir"), "rtl");
  await axeClean(page);
  await page.screenshot({ path: join(SHOTS, "dashboard-real-builder-ar.png"), fullPage: true });
  assertClean(log, /\b401\b/);
  await close();
});
