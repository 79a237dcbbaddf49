// Recommendations end to end on the demo shop: souk-server imports the catalogue,
// takes shoppers' events, and rebuilds its model every second; the page loads the
// widget and the scorer only where a <souk-recommendations> element is, and scores
// on the device. Checked in en and ar, with axe, with and without personalisation.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, assertClean, axeViolations, openPage, serverAndBrowser, settled, until } from "./harness.mjs";

const env = serverAndBrowser({ args: ["--model-every", "1s"] });
const SHOTS = join(ROOT, "tests/e2e/screenshots");
const live = () => window.souk && window.souk.ready();

// Other shoppers: many who view the coffee pot (p001) also view the French press
// (p008); some buy the pot with the spice jars (p005); one looks at a lamp (p017).
let seeded;
const seed = () => (seeded ||= seedEvents());
async function seedEvents() {
  const batch = [];
  const message = (person, event, properties) => ({
    type: "track", event, properties, anonymousId: `shopper-${person}`,
    messageId: `seed-${batch.length}`, timestamp: new Date().toISOString(),
  });
  for (let person = 0; person < 12; person++) {
    batch.push(message(person, "Product Viewed", { product_id: "p001" }));
    batch.push(message(person, "Product Viewed", { product_id: "p008" }));
  }
  for (let person = 12; person < 18; person++) {
    const products = [{ product_id: "p001", price: 89, quantity: 1 }, { product_id: "p005", price: 69, quantity: 1 }];
    batch.push(message(person, "Order Completed", { order_id: `o-${person}`, products }));
  }
  batch.push(message(30, "Product Viewed", { product_id: "p001" }), message(30, "Product Viewed", { product_id: "p017" }));
  const response = await fetch(`${env.server.url}/v1/batch`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ writeKey: "souk_demo_write_key", batch }),
  });
  assert.equal(response.status, 200);
  // Browsers keep a model for 5 minutes, so wait for one built after these events:
  // the second new one since (the first may have started before they were stored).
  const etag = async () => (await fetch(`${env.server.url}/v1/model`)).headers.get("etag");
  let [last, changes] = [await etag(), 0];
  const deadline = Date.now() + 20_000;
  while (changes < 2) {
    assert.ok(Date.now() < deadline, "souk-server rebuilds its model every second (--model-every 1s)");
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = await etag();
    if (now !== last) [last, changes] = [now, changes + 1];
  }
  mkdirSync(SHOTS, { recursive: true });
}

/** The product ids of the cards a widget shows (empty while it is hidden). */
const cards = (page, surface) =>
  page.evaluate((surface) => {
    const element = document.querySelector(`souk-recommendations[surface="${surface}"]`);
    if (!element || element.hidden || !element.shadowRoot) return [];
    const links = [...element.shadowRoot.querySelectorAll("li a[href]")];
    return links.map((link) => new URL(link.href).searchParams.get("id"));
  }, surface);

/** Opens `path` and waits until the model has what the seeded shoppers did. */
async function showing(page, path, surface, expected, timeoutMs = 20_000) {
  await seed();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.goto(`${env.server.url}${path}`);
    await until(page, live);
    let shown = [];
    for (let i = 0; i < 30 && shown.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      shown = await cards(page, surface);
    }
    if (expected.every((id) => shown.includes(id)) || Date.now() > deadline) return shown;
  }
}

test("a product page shows similar products before any consent, and never the product itself", async () => {
  const { page, log, close } = await openPage(env.browser, { viewport: { width: 1280, height: 900 } });
  const shown = await showing(page, "/product.html?id=p001&lang=en", "similar", ["p008", "p005"]);
  assert.ok(shown.length > 0 && shown.length <= 4, String(shown));
  assert.deepEqual(shown.slice(0, 2).sort(), ["p005", "p008"], `the co-viewed and co-bought come first: ${shown}`);
  assert.ok(!shown.includes("p001"));
  const requests = await page.evaluate(() => performance.getEntriesByType("resource").map((r) => new URL(r.name).pathname));
  assert.ok(requests.includes("/dist/souk_recommend_bg.wasm") && requests.includes("/v1/model"), String(requests));
  assert.equal(await page.evaluate(() => localStorage.getItem("souk:personalization:profile")), null, "no profile without consent");
  const heading = await page.evaluate(() => document.querySelector("souk-recommendations").shadowRoot.querySelector("h2").textContent);
  assert.equal(heading, "You may also like");
  await page.getByRole("button", { name: "Reject all", exact: true }).click();
  assert.deepEqual(await axeViolations(page), []);
  await page.locator("souk-recommendations").scrollIntoViewIfNeeded();
  await settled(page);
  await page.screenshot({ path: join(SHOTS, "product-recommendations-en.png"), fullPage: true });
  await close();
  assertClean(log);
});

test("in Arabic the row reads right to left, with Arabic names", async () => {
  const { page, log, close } = await openPage(env.browser, { viewport: { width: 390, height: 844 } });
  const shown = await showing(page, "/product.html?id=p001&lang=ar", "similar", ["p008"]);
  assert.ok(shown.includes("p008"));
  const view = await page.evaluate(() => {
    const root = document.querySelector("souk-recommendations").shadowRoot;
    return { dir: root.querySelector("section").getAttribute("dir"), heading: root.querySelector("h2").textContent, text: root.textContent };
  });
  assert.equal(view.dir, "rtl");
  assert.equal(view.heading, "قد يعجبك أيضاً");
  assert.match(view.text, /قهوة فرنسية/, "the French press's Arabic name");
  await page.getByRole("button", { name: "رفض الكل", exact: true }).click();
  assert.deepEqual(await axeViolations(page), []);
  await page.locator("souk-recommendations").scrollIntoViewIfNeeded();
  await settled(page);
  await page.screenshot({ path: join(SHOTS, "product-recommendations-ar-phone.png"), fullPage: true });
  await close();
  assertClean(log);
});

test("a list in view is one impression, a click on a card is Product Clicked with its list and position, and the card still navigates", async () => {
  const { page, log, close } = await openPage(env.browser, { viewport: { width: 1280, height: 900 } });
  await showing(page, "/product.html?id=p001&lang=en", "similar", ["p008"]);
  await page.getByRole("button", { name: "Accept all", exact: true }).click();
  const card = page.locator("souk-recommendations").getByRole("link").first();
  const id = (await cards(page, "similar"))[0];
  await Promise.all([page.waitForURL(`**/product.html?id=${id}*`), card.click()]);
  const deadline = Date.now() + 10_000;
  const clicked = () => env.server.events().filter((e) => e.event === "Product Clicked" && e.properties.list_id === "souk-similar");
  while (clicked().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.equal(clicked().length, 1);
  assert.deepEqual([clicked()[0].properties.product_id, clicked()[0].properties.position], [id, 1]);
  // The list seen before the click is its impression: the merchant's click-through rate.
  const viewed = env.server.events().filter((e) => e.event === "Product List Viewed" && e.properties.list_id === "souk-similar");
  assert.equal(viewed.length, 1, "one impression for the list shown");
  assert.deepEqual(viewed[0].properties.products[0], { product_id: id, position: 1 });
  const { body: funnel } = await env.server.merchant("/v1/crm/funnel");
  const similar = funnel.recommendations.find((r) => r.surface === "similar");
  assert.deepEqual([similar.impressions, similar.clicks, similar.ctr], [1, 1, 1]);
  await close();
  assertClean(log);
});

test("picked for you needs personalisation: hidden on a no, made from what the shopper viewed on a yes", async () => {
  const { page, log, close } = await openPage(env.browser, { viewport: { width: 1280, height: 900 } });
  await page.goto(`${env.server.url}/index.html?lang=en`);
  await until(page, live);
  await page.getByRole("button", { name: "Reject all", exact: true }).click();
  await until(page, () => document.querySelector("souk-recommendations").hidden === true);
  await close();

  const second = await openPage(env.browser, { viewport: { width: 1280, height: 900 } });
  await second.page.goto(`${env.server.url}/product.html?id=p001&lang=en`);
  await until(second.page, live);
  await second.page.getByRole("button", { name: "Accept all", exact: true }).click();
  await until(second.page, () => localStorage.getItem("souk:personalization:profile")?.includes("p001"));
  const shown = await showing(second.page, "/index.html?lang=en", "for-you", ["p008"]);
  assert.ok(shown.includes("p008"), `the pot's neighbour, for a shopper who viewed the pot: ${shown}`);
  assert.equal(await second.page.evaluate(() => document.querySelector("souk-recommendations").shadowRoot.querySelector("h2").textContent), "Picked for you");
  await second.close();
  assertClean(log);
  assertClean(second.log);
});

test("the cart page suggests what is bought with the cart, never what is in it", async () => {
  const { page, log, close } = await openPage(env.browser, { viewport: { width: 1280, height: 900 } });
  await page.goto(`${env.server.url}/index.html?lang=en`);
  await page.evaluate(() => localStorage.setItem("shop.cart", JSON.stringify([{ id: "p001", qty: 1 }])));
  const shown = await showing(page, "/cart.html?lang=en", "cart", ["p005"]);
  assert.ok(shown.includes("p005") && !shown.includes("p001"), String(shown));
  assert.equal(await page.evaluate(() => document.querySelector("souk-recommendations").getAttribute("cart")), "p001");
  await page.getByRole("button", { name: "Reject all", exact: true }).click();
  assert.deepEqual(await axeViolations(page), []);
  await close();
  assertClean(log);
});
