// Loyalty through the runtime, against a real souk-server: the merchant's backend
// posts an order (server key), the page identifies the shopper with the userHash
// the backend signed, and <souk-loyalty> shows the points, redeems a reward and
// shows its code, which the checkout then consumes once. Only with `functional`
// consent; a forged userHash sees nothing.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, SERVER_KEY, assertClean, axeViolations, openPage, serverAndBrowser, until } from "./harness.mjs";

// The demo shop's identity secret (scripts/demo.sh, www/shop/souk-integration.js).
const SECRET = "souk_demo_identity_secret";
const env = serverAndBrowser();
const SHOTS = join(ROOT, "tests/e2e/screenshots");
const userHash = (userId) => createHmac("sha256", SECRET).update(userId).digest("hex");

/** The merchant's backend: an order of `subtotal` minor units for `userId`. */
async function order(userId, orderId, subtotal) {
  const response = await fetch(`${env.server.url}/v1/orders`, {
    method: "POST",
    headers: { Authorization: `Bearer ${SERVER_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify({ orderId, userId, subtotal, currency: "AED" }),
  });
  assert.equal(response.status, 201, await response.text());
}

/** A shop page with <souk-loyalty>, as `userId` (with `hash`) or anonymous, with or without functional consent. */
async function shopPage({ lang = "en", userId, hash, functional = true } = {}) {
  const tab = await openPage(env.browser, { viewport: { width: 1280, height: 900 } });
  const snippet = readFileSync(join(ROOT, "dist/snippet.min.js"), "utf8").trim();
  // No auto-capture: the widget must not depend on a page view being recorded.
  const config = { writeKey: "souk_demo_write_key", lang, capture: false, consent: { external: true }, loyalty: { currency: "AED" } };
  const who = userId ? `souk.identify(${JSON.stringify(userId)}, {}, { userHash: ${JSON.stringify(hash)} });` : "";
  const html = `<!doctype html><html lang="${lang}" dir="${lang === "ar" ? "rtl" : "ltr"}"><head><meta charset="utf-8"><title>Account</title>
<link rel="icon" href="data:,"><script>${snippet}
souk.init(${JSON.stringify(config)});
souk.consent.set({ functional: ${functional}, analytics: true });
${who}</script></head><body><header><souk-loyalty></souk-loyalty></header><main><h1>Account</h1></main></body></html>`;
  await tab.page.route("**/account-loyalty.html", (route) => route.fulfill({ contentType: "text/html", body: html }));
  await tab.page.goto(`${env.server.url}/account-loyalty.html`);
  await until(tab.page, () => window.souk.ready(), 20_000);
  return tab;
}

const launcherText = (page) =>
  page.evaluate(() => document.querySelector("souk-loyalty").shadowRoot?.querySelector("button.l")?.textContent || "");

test("earn, see, redeem, consume: the points the backend granted, a code the checkout uses once", async () => {
  await order("noor-1", "o-1001", 60000);
  const { page, log, close } = await shopPage({ userId: "noor-1", hash: userHash("noor-1") });
  await until(page, () => (document.querySelector("souk-loyalty").shadowRoot?.querySelector("button.l")?.textContent || "").includes("600"));
  assert.match((await launcherText(page)).replace(/\s/g, " "), /600 points/);
  await page.locator("souk-loyalty button.l").click();
  const redeem = page.locator("souk-loyalty").getByRole("button", { name: /Redeem/ }).first();
  await redeem.click();
  await until(page, () => /[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}/.test(document.querySelector("souk-loyalty").shadowRoot.textContent));
  const code = await page.evaluate(() => document.querySelector("souk-loyalty").shadowRoot.textContent.match(/[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}/)[0]);
  assert.deepEqual(await axeViolations(page), []);

  const { body: account } = await env.server.merchant("/v1/loyalty/customers/noor-1");
  assert.equal(account.balance, 100, "600 points less the 500 of the first reward (5.00 off)");
  assert.equal(account.coupons[0].code, code);
  const consume = (orderId) =>
    fetch(`${env.server.url}/v1/coupons/validate`, {
      method: "POST",
      headers: { Authorization: `Bearer ${SERVER_KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify({ code, orderId, consume: true }),
    });
  assert.equal((await consume("o-1002")).status, 200, "the checkout takes the code");
  assert.equal((await consume("o-1003")).status, 409, "once");
  await close();
  assertClean(log);
});

test("in Arabic the launcher and panel speak Arabic and pass axe", async () => {
  await order("layla-2", "o-2001", 30000);
  const { page, log, close } = await shopPage({ lang: "ar", userId: "layla-2", hash: userHash("layla-2") });
  await until(page, () => /300|٣٠٠/.test(document.querySelector("souk-loyalty").shadowRoot?.querySelector("button.l")?.textContent || ""));
  assert.match(await launcherText(page), /نقطة/);
  await page.locator("souk-loyalty button.l").click();
  assert.deepEqual(await axeViolations(page), []);
  await close();
  assertClean(log);
});

test("a forged userHash sees nothing of the shopper's points", async () => {
  await order("sami-3", "o-3001", 90000);
  const { page, log, close } = await shopPage({ userId: "sami-3", hash: userHash("someone-else") });
  await page.locator("souk-loyalty button.l").click();
  await until(page, () => /Log in/.test(document.querySelector("souk-loyalty").shadowRoot.textContent));
  assert.doesNotMatch(await page.evaluate(() => document.querySelector("souk-loyalty").shadowRoot.textContent), /900/);
  await close();
  assert.deepEqual(log.pageErrors, []);
  assert.ok(log.errors.every((text) => /401/.test(text)), String(log.errors));
});

test("without functional consent the loyalty widget loads nothing", async () => {
  const { page, log, close } = await shopPage({ userId: "noor-1", hash: userHash("noor-1"), functional: false });
  await page.waitForTimeout(500);
  assert.ok(!log.requests.some((path) => path.endsWith("/souk_loyalty.js") || path === "/v1/loyalty"), String(log.requests));
  assert.equal(await page.evaluate(() => document.querySelector("souk-loyalty").hidden), true);
  await close();
  assertClean(log);
});

/** Latin digits, no grouping: what a number reads as in `text`, whichever digits the locale uses. */
const plain = (text) => text.replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x660)).replace(/[,٬\s]/g, "");

/** Checks out the demo shop's cart through its form, with `coupon` if given. */
async function checkout(page, lang, { lines, coupon = "" }) {
  await page.evaluate((cart) => localStorage.setItem("shop.cart", JSON.stringify(cart)), lines);
  await page.goto(`${env.server.url}/checkout.html?lang=${lang}`);
  await page.fill("#co-phone", "050 123 4567");
  await page.fill("#co-address", "12 Al Wasl Road");
  await page.fill("#co-city", "Jumeirah");
  await page.fill("#co-coupon", coupon);
  await page.click("#checkout-form [type=submit]");
}

for (const lang of ["en", "ar"]) {
  test(`the demo shop's loop (${lang}): buy and earn, see the points, redeem a code, spend it once at checkout`, async () => {
    const { page, log, close } = await openPage(env.browser, { viewport: { width: 1280, height: 900 } });
    await page.goto(`${env.server.url}/account.html?lang=${lang}`);
    await until(page, () => import("/dist/index.js").then(({ souk }) => souk.ready()));
    await page.getByRole("button", { name: lang === "en" ? "Accept all" : "قبول الكل", exact: true }).click();
    await page.fill("#login-email", `huda-${lang}@example.com`);
    await page.fill("#login-password", "a-long-password");
    await page.click("#login-form [type=submit]");
    const userId = await page.evaluate(() => JSON.parse(localStorage.getItem("shop.user")).id);
    const account = async () => (await env.server.merchant(`/v1/loyalty/customers/${userId}`)).body;

    // Buy: three of a 185.00 product. The shop's backend prices it and earns points.
    await checkout(page, lang, { lines: [{ id: "p006", qty: 3 }] });
    await page.waitForSelector("[data-order-points]");
    const first = await account();
    const earned = first.history.find((e) => e.kind === "order").points;
    assert.ok(earned >= 555, `555.00 of goods earn at least 555 points, got ${earned}`);
    assert.equal(first.balance, earned);
    assert.match(plain(await page.textContent("[data-order-points]")), new RegExp(String(earned)));

    // See and redeem: the account page's widget shows the balance and gives a code.
    await page.goto(`${env.server.url}/account.html?lang=${lang}`);
    await until(page, (n) => (document.querySelector("souk-loyalty").shadowRoot?.querySelector("button.l")?.textContent || "")
      .replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x660)).replace(/[,٬\s]/g, "").includes(n), 15_000, String(earned));
    await page.locator("souk-loyalty button.l").click();
    await page.locator("souk-loyalty").getByRole("button", { name: lang === "en" ? "Redeem" : "استبدال" }).first().click();
    const pattern = /[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}/;
    await until(page, (p) => new RegExp(p).test(document.querySelector("souk-loyalty").shadowRoot.textContent), 15_000, pattern.source);
    const code = (await page.evaluate(() => document.querySelector("souk-loyalty").shadowRoot.textContent)).match(pattern)[0];
    const redeemed = await account();
    assert.equal(redeemed.balance, earned - 500, "the first reward costs 500 points");

    // Spend it: 5.00 comes off the next order, and that order earns on what was paid.
    await checkout(page, lang, { lines: [{ id: "p007", qty: 1 }], coupon: code.toLowerCase() });
    await page.waitForSelector("[data-order-discount]");
    assert.match(plain(await page.textContent("[data-order-discount]")), /5\.00|5٫00/);
    const spent = await account();
    const second = spent.history.find((e) => e.kind === "order" && e.points !== earned) ?? spent.history[0];
    assert.equal(spent.balance, earned - 500 + second.points);
    assert.equal(spent.coupons.find((c) => c.code === code).state, "consumed");
    assert.deepEqual(await axeViolations(page), []);
    await page.screenshot({ path: join(SHOTS, `checkout-loyalty-${lang}.png`), fullPage: true });

    // Once: the same code on another order is refused, and no order is placed.
    await checkout(page, lang, { lines: [{ id: "p007", qty: 1 }], coupon: code });
    await page.waitForSelector("#co-coupon-error:not([hidden])");
    assert.equal(await page.getAttribute("#co-coupon-error", "data-error-key"), "errCouponUsed");
    assert.equal(await page.isVisible("[data-order-confirmation]"), false);
    assert.equal((await account()).balance, spent.balance);
    assert.deepEqual(await axeViolations(page), []);
    await close();
    assert.deepEqual(log.pageErrors, []);
    assert.ok(log.errors.every((text) => /409/.test(text)), String(log.errors));
  });
}
