// One customer's journey, end to end in Debian's Chromium against a real souk-server:
// Mariam browses the demo shop anonymously, accepts the consent banner, signs up,
// buys online through the shop's checkout, then buys in the branch (the POS import,
// matched by her email). The merchant signs in to /dashboard, finds her by email and
// sees one profile: the anonymous browsing, both orders, her consent, and the segment
// the refresh gave her (champions: she is the shop's most recent, frequent and
// biggest spender, next to customers who lapsed).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, SERVER_KEY, assertClean, axeViolations, openPage, serverAndBrowser, until } from "./harness.mjs";

const BIN = process.env.SOUK_SERVER_BIN || join(ROOT, "target/debug/souk-server");
const OWNER = { email: "owner@darnoor.example", name: "Dar Noor", password: "ledger-of-the-souk" };
const MARIAM = { email: "mariam@example.com", name: "Mariam Haddad" };
const AXE = readFileSync(join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8");
const env = serverAndBrowser();

const cli = (args, input) =>
  execFileSync(BIN, args, { input, stdio: ["pipe", "pipe", "pipe"], encoding: "utf8", timeout: 20_000, env: { ...process.env, SOUK_AGENT_PASSWORD: OWNER.password } });

async function merchantPost(path, body) {
  const response = await fetch(env.server.url + path, {
    method: "POST",
    headers: { Authorization: `Bearer ${SERVER_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

/** Waits until the server holds an event `match` accepts; answers it. */
async function stored(match, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = env.server.events().find(match);
    if (found || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

test("browsed anonymously, logged in, bought online and in store: one profile, in the right segment", { timeout: 120_000 }, async () => {
  // The shop's other customers: five who bought once, 100 to 300 days ago, and
  // never came back. RFM scores are quintiles, so they need company.
  for (let i = 1; i <= 5; i += 1) {
    const at = new Date(Date.now() - (50 + 50 * i) * 86_400_000).toISOString();
    await merchantPost("/v1/orders", { orderId: `o-old-${i}`, userId: `lapsed-${i}`, subtotal: 11000 - 1000 * i, currency: "AED", at });
  }

  // Mariam, anonymous: the home page, a product, the cart.
  const shopper = await openPage(env.browser, { viewport: { width: 1280, height: 900 } });
  const { page } = shopper;
  await page.goto(`${env.server.url}/index.html?lang=en`);
  await until(page, () => window.souk?.ready());
  await page.getByRole("button", { name: "Accept all", exact: true }).click();
  await page.goto(`${env.server.url}/product.html?id=p006&lang=en`);
  const anonymousId = await page.evaluate(() => localStorage.getItem("souk:analytics:anonymous_id"));
  assert.ok(anonymousId, "souk gave the visitor an anonymous id");
  const viewed = await stored((e) => e.anonymousId === anonymousId && e.event === "Product Viewed" && !e.userId);
  assert.ok(viewed, "the product view was stored while she was anonymous");

  // She opens an account and buys two of it through the shop's checkout.
  await page.goto(`${env.server.url}/account.html?lang=en`);
  await page.fill("#reg-name", MARIAM.name);
  await page.fill("#reg-email", MARIAM.email);
  await page.fill("#reg-password", "a-long-password");
  await page.click("#register-form [type=submit]");
  const userId = await page.evaluate(() => JSON.parse(localStorage.getItem("shop.user")).id);
  await page.evaluate(() => localStorage.setItem("shop.cart", JSON.stringify([{ id: "p006", qty: 2 }])));
  await page.goto(`${env.server.url}/checkout.html?lang=en`);
  await page.fill("#co-phone", "050 123 4567");
  await page.fill("#co-address", "12 Al Wasl Road");
  await page.fill("#co-city", "Jumeirah");
  await page.click("#checkout-form [type=submit]");
  await page.waitForSelector("[data-order-points]");
  assert.ok(await stored((e) => e.type === "identify" && e.userId === userId && e.traits?.email === MARIAM.email), "the login told souk who she is");
  assert.ok(await stored((e) => e.event === "Order Completed" && e.userId === userId), "the order was tracked");
  assertClean(shopper.log);
  await shopper.close();

  // In the branch, the till knows her by email: the POS import links the sale to her.
  const sales = join(env.server.dir, "branch-sales.csv");
  writeFileSync(sales, `sale_id,sold_at,email,subtotal,currency\nbranch-77,${new Date().toISOString()},${MARIAM.email.toUpperCase()},42000,AED\n`);
  assert.match(cli(["import-pos", "--db", env.server.db, "--file", sales]), /imported 1,/);
  await merchantPost("/v1/crm/refresh", {});

  // The merchant finds her by email, and opens her profile.
  cli(["agent", "add", "--db", env.server.db, "--email", OWNER.email, "--name", OWNER.name, "--role", "merchant"]);
  const merchant = await openPage(env.browser, { viewport: { width: 1280, height: 900 } });
  const dash = merchant.page;
  await dash.goto(`${env.server.url}/dashboard#customers`);
  await dash.fill("#login-email", OWNER.email);
  await dash.fill("#login-password", OWNER.password);
  await dash.click("#login-form [type=submit]");
  await dash.locator("#search-q").waitFor({ state: "visible" });
  await dash.fill("#search-q", MARIAM.email);
  await dash.keyboard.press("Enter");
  const result = dash.locator("#results .result-name", { hasText: MARIAM.name });
  await result.waitFor();
  assert.equal(await dash.locator("#results li").count(), 1, "one customer, not one per channel");
  await result.click();
  await until(dash, () => document.querySelectorAll("#customer-body .card").length >= 7);

  assert.equal(await dash.textContent("#customer-title"), MARIAM.name);
  assert.match(await dash.textContent("#c-orders .kpi-note"), /1 online · 1 in store/);
  assert.equal(await dash.textContent("#c-orders .kpi-value"), "2");
  const body = await dash.textContent("#customer-body");
  for (const id of [anonymousId, userId, MARIAM.email]) assert.ok(body.includes(id), `the profile lists ${id}`);
  assert.ok(body.includes("Cast Iron Skillet"), "what she bought, named from the catalogue");
  assert.match(await dash.textContent("#customer-chips"), /Champions/);

  // The same profile through the API: the anonymous view counts, and why the ids are one.
  const { body: view } = await env.server.merchant(`/v1/crm/customers/${encodeURIComponent(userId)}`);
  assert.equal(view.rfm.segment, "champions");
  assert.equal(view.orders.online, 1);
  assert.equal(view.orders.store, 1);
  assert.ok(Date.parse(view.firstSeen) <= Date.parse(viewed.timestamp), "first seen when she browsed anonymously");
  assert.ok(view.links.some((l) => l.reason === "identify"), JSON.stringify(view.links));
  assert.equal(view.consent.current.categories.marketing, true);
  const { body: lapsed } = await env.server.merchant("/v1/crm/customers/lapsed-5");
  assert.equal(lapsed.rfm.segment, "lost", "300 days gone, one small order");
  await dash.evaluate(AXE); // the dashboard's CSP refuses an injected script tag
  assert.deepEqual(await axeViolations(dash), []);
  await dash.screenshot({ path: join(ROOT, "tests/e2e/screenshots/crm-journey-en.png"), fullPage: true });
  assertClean(merchant.log, /\b401\b/); // "am I signed in?" before signing in
  await merchant.close();
});
