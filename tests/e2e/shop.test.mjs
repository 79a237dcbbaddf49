// End-to-end: the demo shop on a real souk-server, in Debian's Chromium, in English
// and Arabic. Any console error or uncaught page error fails the test; axe-core
// checks each page; screenshots go to tests/e2e/screenshots/ for a person to look at.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { ROOT, assertClean, axeViolations, openPage, serverAndBrowser, until } from "./harness.mjs";

const SHOTS = join(ROOT, "tests/e2e/screenshots");
const catalog = JSON.parse(readFileSync(join(ROOT, "www/shop/catalog.json"), "utf8"));
const products = catalog.products;
const firstCategory = catalog.categories[0].slug;
const inStock = products.find((product) => product.availability === "in_stock");

const PAGES = {
  home: "/index.html",
  category: `/category.html?c=${firstCategory}`,
  product: `/product.html?id=${inStock.id}`,
  cart: "/cart.html",
  checkout: "/checkout.html",
  account: "/account.html",
};

const env = serverAndBrowser();
before(() => mkdirSync(SHOTS, { recursive: true }));

/** souk's readiness on the page: the script-tag client, or the npm module's. */
const soukReady = () =>
  window.souk ? window.souk.ready() : import("/dist/index.js").then(({ souk }) => souk.ready());

for (const lang of ["en", "ar"]) {
  for (const [name, path] of Object.entries(PAGES)) {
    test(`${name} page in ${lang}: souk live, ${lang === "ar" ? "right-to-left" : "left-to-right"}, accessible`, async () => {
      const { page, log, close } = await openPage(env.browser, { viewport: { width: 1280, height: 900 } });
      await page.goto(`${env.server.url}${path}${path.includes("?") ? "&" : "?"}lang=${lang}`);
      assert.equal(await page.evaluate(soukReady), true, "souk is live on the page");
      // A new shopper is asked for consent: axe checks the page with the banner on it.
      await until(page, () => document.querySelector("souk-consent")?.shadowRoot?.querySelector("[role=region]"));
      const root = await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir]);
      assert.deepEqual(root, lang === "ar" ? ["ar", "rtl"] : ["en", "ltr"]);
      assert.deepEqual(await axeViolations(page), []);
      await page.screenshot({ path: join(SHOTS, `${name}-${lang}.png`), fullPage: true });
      await close();
      assertClean(log);
    });
  }
}

test("a shopper finds a product, adds it to the cart and places an order", async () => {
  const { page, log, close } = await openPage(env.browser, { viewport: { width: 390, height: 844 } });
  await page.goto(`${env.server.url}/category.html?c=${inStock.category}`);
  await page.click(`a[data-souk-product-id="${inStock.id}"]`);
  await page.waitForURL(/product\.html/);
  await page.click(`[data-souk-action="add-to-cart"][data-souk-product-id="${inStock.id}"]`);
  await until(page, () => document.querySelector("[data-cart-count]").textContent.trim() === "1");
  await page.goto(`${env.server.url}/cart.html`);
  assert.match(await page.textContent("main"), new RegExp(inStock.name.en.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  await page.screenshot({ path: join(SHOTS, "cart-with-item-mobile-en.png"), fullPage: true });
  await page.goto(`${env.server.url}/checkout.html`);
  for (const input of await page.$$("form input[required]")) {
    const type = await input.getAttribute("type");
    await input.fill(type === "email" ? "shopper@example.com" : type === "tel" ? "+971500000000" : "Test");
  }
  await page.click("form [type=submit]");
  await until(page, () => /\bDN-?\w+/.test(document.querySelector("main").textContent));
  await page.screenshot({ path: join(SHOTS, "order-confirmed-mobile-en.png"), fullPage: true });
  assert.equal(await page.evaluate(() => JSON.parse(localStorage.getItem("shop.cart") || "[]").length), 0);
  await close();
  assertClean(log);
});

test("the language switch flips the page to Arabic, right-to-left", async () => {
  const { page, log, close } = await openPage(env.browser);
  await page.goto(`${env.server.url}/index.html?lang=en`);
  await page.click("[data-lang-switch]");
  await until(page, () => document.documentElement.dir === "rtl");
  assert.equal(await page.evaluate(() => document.documentElement.lang), "ar");
  assert.match(await page.textContent("h1"), /[\u0600-\u06FF]/, "the heading is in Arabic");
  await close();
  assertClean(log);
});

test("product pages carry schema.org Product JSON-LD from the catalogue", async () => {
  const { page, log, close } = await openPage(env.browser);
  await page.goto(`${env.server.url}/product.html?id=${inStock.id}`);
  const ld = await page.evaluate(() =>
    [...document.querySelectorAll('script[type="application/ld+json"]')].map((s) => JSON.parse(s.textContent)),
  );
  const product = ld.find((item) => item["@type"] === "Product");
  assert.ok(product, "a Product JSON-LD block");
  assert.equal(product.sku, inStock.sku);
  assert.equal(Number(product.offers.price), inStock.price);
  assert.equal(product.offers.priceCurrency, inStock.currency);
  assert.equal(product.offers.availability, "https://schema.org/InStock");
  await close();
  assertClean(log);
});

test("the catalogue has 60+ products in several categories, in English and Arabic, with local pictures", () => {
  assert.ok(products.length >= 60, `${products.length} products`);
  assert.ok(new Set(products.map((p) => p.category)).size >= 6);
  for (const product of products) {
    for (const field of ["name", "description"]) {
      assert.ok(product[field].en.trim(), `${product.id} ${field}.en`);
      assert.match(product[field].ar, /[\u0600-\u06FF]/, `${product.id} ${field}.ar is Arabic`);
    }
    assert.ok(existsSync(join(ROOT, "www", product.image)), `${product.image} exists`);
  }
});

test("shop pages carry the current snippet, and one page imports souk as ESM", () => {
  const snippet = readFileSync(join(ROOT, "dist/snippet.min.js"), "utf8").trim();
  const pages = readdirSync(join(ROOT, "www")).filter((name) => name.endsWith(".html"));
  const esm = pages.filter((name) => /import \{ souk \} from "\/dist\/index\.js"/.test(readFileSync(join(ROOT, "www", name), "utf8")));
  assert.deepEqual(esm, ["account.html"]);
  for (const name of pages.filter((name) => !esm.includes(name))) {
    const html = readFileSync(join(ROOT, "www", name), "utf8");
    assert.ok(html.includes(snippet), `www/${name} has the current snippet (run node scripts/paste-snippet.mjs)`);
  }
});
