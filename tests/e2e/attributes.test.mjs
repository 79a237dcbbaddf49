// Auto-capture from the shop's markup, in Chromium against a real souk-server:
// data-souk-* attributes (list views, clicks, cart buttons, custom events) and
// schema.org microdata, on fixture pages and on the demo shop. What counts is what
// the server stored. Any console error or uncaught page error fails the test.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, assertClean, openPage, serverAndBrowser, until } from "./harness.mjs";

const env = serverAndBrowser();
const FIXTURES = join(ROOT, "tests/e2e/fixtures");
const catalog = JSON.parse(readFileSync(join(ROOT, "www/shop/catalog.json"), "utf8"));

const NEXT = '<!doctype html><html lang="en"><head><meta charset="utf-8"><!-- souk --><title>Next</title></head><body><main><h1>Next</h1></main></body></html>';
const LISTING = `<!doctype html><html lang="en"><head><meta charset="utf-8"><!-- souk --><title>Listing</title></head><body><main>
  <div itemscope itemtype="https://schema.org/Product"><meta itemprop="productID" content="l1"><span itemprop="name">One</span></div>
  <div itemscope itemtype="https://schema.org/Product"><meta itemprop="productID" content="l2"><span itemprop="name">Two</span></div>
</main></body></html>`;

/**
 * A shopper on fixture pages served at /fixture/NAME (files from tests/e2e/fixtures,
 * or the inline pages above), with the current snippet and `init(config)`. The shop's
 * own consent manager grants analytics at once; souk's `track` and `error` events
 * are kept in `window.seen`.
 */
async function fixtureShopper(config = {}) {
  const tab = await openPage(env.browser, { viewport: { width: 1024, height: 768 } });
  const snippet = readFileSync(join(ROOT, "dist/snippet.min.js"), "utf8").trim();
  const init = { writeKey: "souk_demo_write_key", consent: { external: true }, ...config };
  const head =
    `<script>${snippet}\nwindow.seen = [];\nsouk.init(${JSON.stringify(init)});\n` +
    'souk.on("track", function (name) { seen.push("track:" + name); });\n' +
    'souk.on("error", function (error) { seen.push("error:" + error.name + ": " + error.message); });\n' +
    "souk.consent.set({ analytics: true });</script>";
  const inline = { "next.html": NEXT, "listing.html": LISTING };
  await tab.page.route("**/fixture/*", (route) => {
    const name = new URL(route.request().url()).pathname.split("/").pop();
    const html = inline[name] ?? readFileSync(join(FIXTURES, name), "utf8");
    route.fulfill({ contentType: "text/html; charset=utf-8", body: html.replace("<!-- souk -->", head) });
  });
  tab.open = async (name) => {
    await tab.page.goto(`${env.server.url}/fixture/${name}`);
    await until(tab.page, () => window.souk.ready());
    await until(tab.page, () => Boolean(localStorage.getItem("souk:analytics:anonymous_id")));
    tab.anonymousId = await tab.page.evaluate(() => localStorage.getItem("souk:analytics:anonymous_id"));
  };
  return tab;
}

/** The shopper's stored events, once `done(events)` holds (it polls the server). */
async function storedFor(anonymousId, done, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const events = env.server.events().filter((e) => e.anonymousId === anonymousId);
    if (done(events)) return events;
    if (Date.now() > deadline) throw new Error("timed out; stored: " + JSON.stringify(events.map((e) => e.event ?? e.type)));
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

// The server lists a batch's events by messageId, so order is compared by product id.
const named = (events, name) =>
  events.filter((e) => e.event === name).sort((a, b) => String(a.properties.product_id).localeCompare(b.properties.product_id));

/** Sends a last marker event and waits until the server has it: everything before it is stored too. */
async function drain(tab) {
  await tab.page.evaluate(() => window.souk.track("Test Done"));
  return storedFor(tab.anonymousId, (events) => named(events, "Test Done").length === 1);
}

test("data-souk-* markup gives list views, clicks, cart events and custom events, with their properties", async () => {
  const tab = await fixtureShopper();
  const { page } = tab;
  await tab.open("attributes.html");

  // The list is in view: one Product List Viewed, with 1-based positions unless given.
  const [list] = named(await storedFor(tab.anonymousId, (e) => named(e, "Product List Viewed").length > 0), "Product List Viewed");
  assert.equal(list.properties.list_id, "summer");
  assert.equal(list.properties.category, "Summer sale");
  assert.deepEqual(list.properties.products, [
    { position: 1, product_id: "s1", sku: "SKU-S1", name: "Straw Hat", brand: "Palm", price: 45.5, currency: "AED" },
    { position: 7, product_id: "s2", name: "Sandals", price: 120 },
  ]);

  await page.click("#hat-add");
  await page.click("#hat-wish"); // a control inside the product: no product click
  await page.click("#remove");
  await page.click("#custom");
  await page.click("#sandals-link");

  // Elements added after load count too: a product appended to the list, and a new button.
  await page.evaluate(() => {
    document.querySelector('[data-souk-list="summer"]').insertAdjacentHTML(
      "beforeend",
      '<li data-souk-product="s4" data-souk-price="5"><span id="late-product">Sunscreen</span></li>',
    );
    document.querySelector("#later").innerHTML =
      '<button type="button" id="late-add" data-souk-add-to-cart data-souk-product="s5" data-souk-price="7.25" data-souk-quantity="3">Add</button>';
  });
  await page.click("#late-product");
  await page.click("#late-add");
  const events = await drain(tab);

  assert.equal(named(events, "Product List Viewed").length, 1, "once per list and page view");
  const added = named(events, "Product Added").map((e) => e.properties);
  assert.deepEqual(added, [
    // The button's product is its nearest data-souk-product, with its list and position.
    { quantity: 2, position: 1, product_id: "s1", sku: "SKU-S1", name: "Straw Hat", brand: "Palm", price: 45.5, currency: "AED", list_id: "summer" },
    { quantity: 3, product_id: "s5", price: 7.25 },
  ]);
  assert.deepEqual(named(events, "Product Removed").map((e) => e.properties), [{ quantity: 1, product_id: "s3", price: 9 }]);
  assert.deepEqual(named(events, "Newsletter Signed Up").map((e) => e.properties), [{ list_name: "weekly", position: 3 }]);
  const clicked = named(events, "Product Clicked").map((e) => e.properties);
  assert.deepEqual(clicked, [
    { position: 7, product_id: "s2", name: "Sandals", price: 120, list_id: "summer" },
    { position: 3, product_id: "s4", price: 5, list_id: "summer" },
  ]);
  await tab.close();
  assertClean(tab.log);
});

test("a click on a product link still navigates, and the click is stored", async () => {
  const tab = await fixtureShopper();
  await tab.open("attributes.html");
  await Promise.all([tab.page.waitForURL(/\/fixture\/next\.html$/), tab.page.click("#hat-link")]);
  await until(tab.page, () => window.souk.ready());
  const pages = (events) => events.filter((e) => e.type === "page").length;
  const events = await storedFor(tab.anonymousId, (e) => named(e, "Product Clicked").length > 0 && pages(e) === 2);
  assert.deepEqual(named(events, "Product Clicked").map((e) => e.properties), [
    { position: 1, product_id: "s1", sku: "SKU-S1", name: "Straw Hat", brand: "Palm", price: 45.5, currency: "AED", list_id: "summer" },
  ]);
  await tab.close();
  assertClean(tab.log);
});

test("a price that is not a number is refused with the core's message, and the page is unaffected", async () => {
  const tab = await fixtureShopper();
  await tab.open("attributes.html");
  await tab.page.click("#bad-price");
  await until(tab.page, () => window.seen.some((entry) => entry.startsWith("error:")));
  const errors = (await tab.page.evaluate(() => window.seen)).filter((entry) => entry.startsWith("error:"));
  assert.deepEqual(errors, ['error:SoukEventError: Product Added: price must be a non-negative number, got "abc"']);
  const events = await drain(tab);
  assert.deepEqual(named(events, "Product Added"), [], "nothing recorded");
  await tab.close();
  assertClean(tab.log);
});

test("capture: { attributes: false } turns the markup source off, and only it", async () => {
  const tab = await fixtureShopper({ capture: { attributes: false } });
  await tab.open("attributes.html");
  for (const button of ["#hat-add", "#remove", "#custom", "#sandals-link"]) await tab.page.click(button);
  const events = await drain(tab);
  const names = events.map((e) => e.event ?? e.type).sort();
  assert.deepEqual(names, ["Test Done", "page"], "a page view, and nothing from the markup");
  await tab.close();
  assertClean(tab.log);
});

test("schema.org microdata gives one Product Viewed; JSON-LD wins when a page has both; a listing gives none", async () => {
  const tab = await fixtureShopper();
  await tab.open("microdata.html");
  let events = await drain(tab);
  const viewed = named(events, "Product Viewed").map((e) => e.properties);
  assert.deepEqual(viewed, [
    {
      product_id: "m1",
      sku: "DN-KIT-001",
      name: "Enamel Pot",
      brand: "Ember",
      category: "kitchen",
      image_url: `${env.server.url}/shop/img/p001.svg`,
      price: 89,
      currency: "AED",
    },
  ]);

  await tab.open("microdata-jsonld.html");
  await tab.open("listing.html");
  events = await storedFor(tab.anonymousId, (e) => e.filter((x) => x.type === "page").length === 3);
  events = await drain(tab);
  assert.deepEqual(named(events, "Product Viewed").map((e) => [e.properties.product_id, e.properties.price]), [
    ["j1", 12],
    ["m1", 89],
  ]);

  // With microdata off, the microdata page has no product view.
  const off = await fixtureShopper({ capture: { microdata: false } });
  await off.open("microdata.html");
  assert.deepEqual(named(await drain(off), "Product Viewed"), []);
  await off.close();
  await tab.close();
  assertClean(tab.log);
  assertClean(off.log);
});

test("the demo shop: list views and clicks from its markup, one Product Added and one Product Viewed", async () => {
  const product = catalog.products.find((p) => p.availability === "in_stock" && p.category === catalog.categories[1].slug);
  const slug = product.category;
  const { page, log, close } = await openPage(env.browser, { viewport: { width: 1280, height: 900 } });
  await page.goto(`${env.server.url}/category.html?c=${slug}&lang=en`);
  await until(page, () => window.souk && window.souk.ready());
  await page.getByRole("button", { name: "Accept all", exact: true }).click();
  const anonymousId = await page.evaluate(() => localStorage.getItem("souk:analytics:anonymous_id"));

  let events = await storedFor(anonymousId, (e) => named(e, "Product List Viewed").length > 0);
  const [list] = named(events, "Product List Viewed");
  const shown = catalog.products.filter((p) => p.category === slug);
  assert.equal(list.properties.list_id, `category-${slug}`);
  assert.equal(list.properties.category, slug);
  assert.deepEqual(
    list.properties.products.map((p) => [p.position, p.product_id, p.price, p.currency]),
    shown.map((p, i) => [i + 1, p.id, p.price, p.currency]),
  );

  const position = shown.indexOf(product) + 1;
  await Promise.all([page.waitForURL(/product\.html/), page.click(`a.card-link[data-souk-product-id="${product.id}"]`)]);
  await until(page, () => window.souk.ready());
  await page.click(`[data-souk-add-to-cart][data-souk-product-id="${product.id}"]`);
  await until(page, () => document.querySelector("[data-cart-count]").textContent.trim() === "1");
  await page.evaluate(() => window.souk.track("Test Done"));
  events = await storedFor(anonymousId, (e) => named(e, "Test Done").length === 1);

  const [click] = named(events, "Product Clicked");
  assert.deepEqual(
    [click.properties.list_id, click.properties.position, click.properties.product_id, click.properties.price, click.properties.name],
    [`category-${slug}`, position, product.id, product.price, product.name.en],
  );
  // The product page has JSON-LD and microdata: one product view. Adding is marked
  // up, and ga4.js no longer pushes add_to_cart: one Product Added.
  assert.deepEqual(named(events, "Product Viewed").map((e) => e.properties.product_id), [product.id]);
  const added = named(events, "Product Added").map((e) => e.properties);
  assert.equal(added.length, 1, JSON.stringify(added));
  assert.deepEqual([added[0].product_id, added[0].price, added[0].quantity, added[0].sku], [product.id, product.price, 1, product.sku]);
  await close();
  assertClean(log);
});

test("a list too tall to be half in view counts once it fills half the viewport", async () => {
  // On a short phone screen the list of all products starts below the middle.
  const { page, log, close } = await openPage(env.browser, { viewport: { width: 390, height: 600 } });
  await page.goto(`${env.server.url}/category.html?lang=en`);
  await until(page, () => window.souk && window.souk.ready());
  await page.getByRole("button", { name: "Accept all", exact: true }).click();
  const anonymousId = await page.evaluate(() => localStorage.getItem("souk:analytics:anonymous_id"));
  const height = await page.evaluate(() => document.querySelector('[data-souk-list="category-all"]').offsetHeight);
  assert.ok(height > 600 * 10, `the list of all products is ${height}px tall`);
  await page.evaluate(() => window.souk.track("Test Done"));
  let events = await storedFor(anonymousId, (e) => named(e, "Test Done").length === 1);
  assert.deepEqual(named(events, "Product List Viewed"), [], "its top is not yet half the viewport");
  await page.evaluate(() => document.querySelector('[data-souk-list="category-all"]').scrollIntoView());
  events = await storedFor(anonymousId, (e) => named(e, "Product List Viewed").length > 0);
  const [list] = named(events, "Product List Viewed");
  assert.equal(list.properties.list_id, "category-all");
  assert.equal(list.properties.products.length, catalog.products.length);
  await page.mouse.wheel(0, 3000);
  await page.evaluate(() => window.souk.track("Test Done"));
  events = await storedFor(anonymousId, (e) => named(e, "Test Done").length === 2);
  assert.equal(named(events, "Product List Viewed").length, 1, "once per page view");
  await close();
  assertClean(log);
});
