// Delivery in the browser, against a real souk-server: the queue lives in
// localStorage, so events survive a reload while the backend is unreachable, and the
// shop's tabs share it. What the server stored is read back with `souk-server events`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, assertClean, openPage, serverAndBrowser, until } from "./harness.mjs";

const env = serverAndBrowser();

const live = () => window.souk && window.souk.ready();
const queuedKeys = () => Object.keys(localStorage).filter((key) => key.startsWith("souk:analytics:q:"));

/** A shopper who accepted everything, in a fresh browser context. */
async function consentingShopper() {
  const tab = await openPage(env.browser);
  await tab.page.goto(`${env.server.url}/index.html?lang=en`);
  await until(tab.page, live);
  await tab.page.getByRole("button", { name: "Accept all", exact: true }).click();
  return tab;
}

/** Tracks `Product Added` for each id, as the shop would. */
const addAll = (page, ids) =>
  page.evaluate((list) => list.forEach((id) => window.souk.track("Product Added", { product_id: id })), ids);

/** Waits until the server holds each id's event, and returns how many times each is there. */
async function stored(ids) {
  const counts = () => {
    const events = env.server.events().filter((e) => e.event === "Product Added");
    return ids.map((id) => events.filter((e) => e.properties.product_id === id).length);
  };
  const deadline = Date.now() + 15_000;
  while (counts().some((n) => n === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  return counts();
}

test("events tracked while the backend is unreachable survive a reload and arrive once", async () => {
  const { page, log, close } = await consentingShopper();
  await page.route("**/v1/batch", (route) => route.abort());
  const ids = ["reload-1", "reload-2", "reload-3"];
  await addAll(page, ids);
  await until(page, () => Object.keys(localStorage).filter((k) => k.startsWith("souk:analytics:q:")).length >= 3);
  await page.unroute("**/v1/batch");
  await page.reload();
  await until(page, live);
  assert.deepEqual(await stored(ids), [1, 1, 1]);
  await until(page, () => Object.keys(localStorage).every((k) => !k.startsWith("souk:analytics:q:")));
  await close();
  assert.deepEqual(log.pageErrors, []);
  assert.ok(log.errors.every((text) => /ERR_FAILED|v1\/batch/.test(text)), String(log.errors));
});

test("the shop's tabs share one queue: another tab delivers what one could not", async () => {
  const first = await consentingShopper();
  await first.page.route("**/v1/batch", (route) => route.abort());
  const ids = ["tab-1", "tab-2"];
  await addAll(first.page, ids);
  assert.ok((await first.page.evaluate(queuedKeys)).length >= 2);

  const second = await first.page.context().newPage();
  await second.goto(`${env.server.url}/cart.html?lang=en`);
  await until(second, live);
  assert.deepEqual(await stored(ids), [1, 1], "each event exactly once");
  await until(second, () => Object.keys(localStorage).every((k) => !k.startsWith("souk:analytics:q:")));
  await first.close();
  assert.deepEqual(first.log.pageErrors, []);
});

test("a rejected consent leaves the queue empty in storage", async () => {
  const { page, log, close } = await openPage(env.browser);
  await page.goto(`${env.server.url}/index.html?lang=en`);
  await until(page, live);
  await page.getByRole("button", { name: "Reject all", exact: true }).click();
  await addAll(page, ["never"]);
  assert.deepEqual(await page.evaluate(queuedKeys), []);
  await close();
  assertClean(log);
});

test("logging in to the shop identifies the shopper to souk, on the ESM page too", async () => {
  const { page, log, close } = await openPage(env.browser);
  await page.goto(`${env.server.url}/account.html?lang=en`);
  const ready = () => import("/dist/index.js").then(({ souk }) => souk.ready());
  await until(page, ready);
  await page.getByRole("button", { name: "Accept all", exact: true }).click();
  await page.fill("#login-email", "layla@example.com");
  await page.fill("#login-password", "a-long-password");
  await page.click("#login-form [type=submit]");
  const userId = await page.evaluate(() => JSON.parse(localStorage.getItem("shop.user")).id);
  const deadline = Date.now() + 10_000;
  const identified = () => env.server.events().filter((e) => e.type === "identify" && e.userId === userId);
  while (identified().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.equal(identified().length, 1);
  const { anonymousId } = identified()[0];
  assert.ok(anonymousId);

  // The server's identity graph puts the anonymous browsing and the customer in one profile.
  const { status, body: profile } = await env.server.merchant(`/v1/profiles?user_id=${encodeURIComponent(userId)}`);
  assert.equal(status, 200);
  const ids = profile.identities.map(({ kind, value }) => `${kind}:${value}`);
  assert.ok(ids.includes(`anonymous_id:${anonymousId}`) && ids.includes(`user_id:${userId}`), ids.join(", "));
  // Linked by the identify call, and the email the shop sent with it.
  assert.deepEqual(profile.links.map(({ reason, status }) => `${reason}:${status}`), ["identify:merged", "traits.email:merged"]);
  assert.ok(ids.includes("email:layla@example.com"), ids.join(", "));
  const before = env.server.events().filter((e) => e.anonymousId === anonymousId && !e.userId);
  assert.ok(before.length >= 1, "the page view before login was anonymous");
  assert.ok(profile.events.count > before.length, "and it counts in the customer's profile");
  await close();
  assertClean(log);
});

test("a cart left idle is recorded as abandoned once, dated when it went idle, even with two tabs open", async () => {
  const { page, log, close } = await consentingShopper();
  await page.evaluate(() =>
    window.souk.track("Product Added", { product_id: "p007", name: "Oud candle", price: 24.5, quantity: 2, currency: "AED" }),
  );
  await until(page, () => localStorage.getItem("souk:analytics:cart") !== null);
  // The shopper left 40 minutes ago: move the cart's last activity back.
  const idleSince = await page.evaluate(() => {
    const [header, ...items] = localStorage.getItem("souk:analytics:cart").split("\n");
    const fields = header.split("\t");
    fields[2] = String(Date.now() - 40 * 60_000);
    localStorage.setItem("souk:analytics:cart", [fields.join("\t"), ...items].join("\n"));
    return Number(fields[2]) + 30 * 60_000;
  });
  const other = await page.context().newPage();
  await Promise.all([page.reload(), other.goto(`${env.server.url}/index.html?lang=en`)]);
  const abandoned = () => env.server.events().filter((e) => e.event === "Cart Abandoned");
  const deadline = Date.now() + 15_000;
  while (abandoned().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 1500)); // time for a second copy, if any, to arrive
  assert.equal(abandoned().length, 1);
  const [event] = abandoned();
  assert.equal(event.properties.value, 49);
  assert.equal(event.properties.currency, "AED");
  assert.deepEqual(event.properties.products.map((p) => [p.product_id, p.quantity]), [["p007", 2]]);
  assert.equal(Date.parse(event.timestamp), idleSince);
  await close();
  assert.deepEqual(log.pageErrors, []);
});

test("page views say where they are; with bufferBeforeDecision the page is counted once after a yes", async () => {
  const { page, log, close } = await openPage(env.browser);
  const snippet = readFileSync(join(ROOT, "dist/snippet.min.js"), "utf8").trim();
  const config = { writeKey: "souk_demo_write_key", consent: { bufferBeforeDecision: true } };
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Buffered</title>
<script>${snippet}\nsouk.init(${JSON.stringify(config)});</script></head><body><main><h1>Buffered</h1></main></body></html>`;
  await page.route("**/buffered.html?*", (route) => route.fulfill({ contentType: "text/html", body: html }));
  await page.goto(`${env.server.url}/buffered.html?campaign=spring`);
  await until(page, live);
  await page.getByRole("button", { name: "Accept all", exact: true }).click();
  const views = () => env.server.events().filter((e) => e.type === "page" && e.properties.path === "/buffered.html");
  const deadline = Date.now() + 10_000;
  while (views().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 1500)); // time for a second copy, if any
  assert.equal(views().length, 1, "the buffered view, not a second capture on the yes");
  const { properties } = views()[0];
  assert.equal(properties.url, `${env.server.url}/buffered.html?campaign=spring`);
  assert.equal(properties.search, "?campaign=spring");
  assert.equal(properties.title, "Buffered");
  await close();
  assertClean(log);
});
