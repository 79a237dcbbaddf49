// Delivery in the browser, against a real souk-server: the queue lives in
// localStorage, so events survive a reload while the backend is unreachable, and the
// shop's tabs share it. What the server stored is read back with `souk-server events`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertClean, openPage, serverAndBrowser, until } from "./harness.mjs";

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
  assert.ok(identified()[0].anonymousId, "the anonymous history is linked to the user");
  await close();
  assertClean(log);
});
