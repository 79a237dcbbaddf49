// The consent audit, in real Chromium on the demo shop against a real souk-server:
// every request and every cookie, localStorage and IndexedDB write is recorded, and
// none may fall outside `necessary` before the shopper says yes, or after a no.
import assert from "node:assert/strict";
import { test } from "node:test";
import { axeViolations, openPage, serverAndBrowser, until } from "./harness.mjs";

const WORDS = {
  en: { region: "Privacy choices", accept: "Accept all", reject: "Reject all", choose: "Choose", save: "Save my choices", analytics: "Analytics", footer: "Privacy choices" },
  ar: { region: "خيارات الخصوصية", accept: "قبول الكل", reject: "رفض الكل", choose: "اختيار", save: "حفظ اختياراتي", analytics: "التحليلات", footer: "خيارات الخصوصية" },
};
// What the shop itself keeps (its cart and language) and what souk keeps as
// `necessary` (the consent record): the only writes allowed without consent.
const NECESSARY = [/^local:shop\.(cart|lang)$/, /^local:souk:necessary:/];

// Runs before any page script: records every storage write the page makes.
function recordWrites() {
  const writes = (window.__writes = []);
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key, value) {
    writes.push((this === window.localStorage ? "local:" : "session:") + key);
    return setItem.call(this, key, value);
  };
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  Object.defineProperty(Document.prototype, "cookie", {
    get() { return cookie.get.call(this); },
    set(value) { writes.push("cookie:" + String(value).split("=")[0]); cookie.set.call(this, value); },
  });
  const open = IDBFactory.prototype.open;
  IDBFactory.prototype.open = function (name, ...rest) {
    writes.push("indexeddb:" + name);
    return open.call(this, name, ...rest);
  };
}

const env = serverAndBrowser();

/** A shopper's tab, with every request to souk's API recorded. */
async function shopper(lang, options = {}) {
  const tab = await openPage(env.browser, { viewport: { width: 1280, height: 900 }, ...options });
  const api = [];
  tab.page.on("request", (request) => {
    const path = new URL(request.url()).pathname;
    if (path.startsWith("/v1/")) api.push({ path, body: request.postData(), query: new URL(request.url()).search });
  });
  await tab.page.addInitScript(recordWrites);
  tab.api = api;
  tab.words = WORDS[lang];
  tab.open = async (path) => {
    await tab.page.goto(`${env.server.url}${path}${path.includes("?") ? "&" : "?"}lang=${lang}`);
    await until(tab.page, () => window.souk && window.souk.ready().then((live) => live));
  };
  tab.writes = () => tab.page.evaluate(() => window.__writes);
  // GET /v1/model is the shop's public recommendation model, the same for everyone,
  // fetched without cookies and carrying nothing about the shopper; "similar products"
  // need no consent. Every other request to souk's API counts.
  tab.calls = () => api.filter((entry) => entry.path !== "/v1/model");
  tab.paths = () => tab.calls().map((entry) => entry.path);
  return tab;
}

const outsideNecessary = (writes) => writes.filter((write) => !NECESSARY.some((rule) => rule.test(write)));

async function addToCart(tab, id = "p001") {
  await tab.open(`/product.html?id=${id}`);
  await tab.page.click(`[data-souk-action="add-to-cart"][data-souk-product-id="${id}"]`);
}

const banner = (tab) => tab.page.getByRole("region", { name: tab.words.region });


for (const lang of ["en", "ar"]) {
  test(`consent audit in ${lang}: nothing before a decision or after a no; events after yes; purge on withdrawal`, async () => {
    const tab = await shopper(lang);
    const { page, words } = tab;

    // Before any decision: the banner asks, and nothing leaves or stays.
    await tab.open("/index.html");
    await banner(tab).waitFor();
    assert.equal(await page.evaluate(() => document.querySelector("souk-consent").getAttribute("dir") ||
      document.querySelector("souk-consent").shadowRoot.querySelector("[dir]")?.getAttribute("dir")), lang === "ar" ? "rtl" : "ltr");
    assert.deepEqual(await axeViolations(page), [], "the banner's first layer passes axe");
    await addToCart(tab);
    await page.waitForTimeout(300);
    assert.deepEqual(tab.paths(), [], "no request to the backend before a decision");
    const model = tab.api.filter((entry) => entry.path === "/v1/model");
    assert.ok(model.every((entry) => !entry.body && !entry.query), "the model request says nothing about the shopper");
    assert.deepEqual(outsideNecessary(await tab.writes()), []);

    // Reject all: only the proof of consent goes out; still nothing else.
    await banner(tab).getByRole("button", { name: words.reject, exact: true }).click();
    await until(page, () => !document.querySelector("souk-consent"));
    await waitFor(() => tab.paths().includes("/v1/consent"));
    // Confirmed, so the next page has no proof left to send again.
    await until(page, () => localStorage.getItem("souk:necessary:unsent_proofs") === null);
    await addToCart(tab, "p002");
    await page.waitForTimeout(300);
    assert.deepEqual(tab.paths(), ["/v1/consent"], "after reject all: the proof only");
    assert.match(tab.calls()[0].body, /"analytics":false/);
    assert.deepEqual(outsideNecessary(await tab.writes()), []);
    assert.equal(await page.locator("souk-consent").count(), 0, "a decision stands across pages");

    // Accept all from the footer's privacy choices: events flow and are stored.
    await page.getByRole("button", { name: words.footer, exact: true }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    assert.deepEqual(await axeViolations(page), [], "the choices layer passes axe");
    await dialog.getByRole("button", { name: words.accept, exact: true }).click();
    await addToCart(tab, "p003");
    const anonymousId = await page.evaluate(() => localStorage.getItem("souk:analytics:anonymous_id"));
    const mine = (event) =>
      env.server.events().filter((e) => e.event === event && e.anonymousId === anonymousId).map((e) => e.properties.product_id);
    await waitFor(() => mine("Product Added").includes("p003"));
    assert.deepEqual(mine("Product Added"), ["p003"], "stored once; nothing done before consent");
    // The page the shopper said yes on counts (its product view); the pages before it do not.
    assert.deepEqual(mine("Product Viewed").sort(), ["p002", "p003"]);
    const stored = await page.evaluate(() => Object.keys(localStorage));
    assert.ok(stored.includes("souk:analytics:anonymous_id"), String(stored));

    // Withdraw analytics: sending stops, and what it kept is gone.
    await page.getByRole("button", { name: words.footer, exact: true }).click();
    await dialog.waitFor();
    await dialog.getByRole("switch", { name: words.analytics }).uncheck();
    await dialog.getByRole("button", { name: words.save, exact: true }).click();
    const before = tab.paths().filter((path) => path === "/v1/batch").length;
    await addToCart(tab, "p004");
    await page.waitForTimeout(300);
    assert.equal(tab.paths().filter((path) => path === "/v1/batch").length, before, "no event after withdrawal");
    const left = await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith("souk:")));
    // Personalisation is still granted: its profile stays, on the device only.
    const kept = left.filter((key) => !key.startsWith("souk:necessary:") && key !== "souk:personalization:profile");
    assert.deepEqual(kept, [], String(left));
    assert.ok(left.includes("souk:necessary:consent"));
    const state = await page.evaluate(() => window.souk.consent.get());
    assert.equal(state.categories.analytics, false);
    assert.equal(state.source, "banner");

    await tab.close();
    assert.deepEqual(tab.log.pageErrors, []);
    assert.deepEqual(tab.log.errors, []);
  });
}

async function waitFor(check, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for " + check);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

for (const gpc of [true, false]) {
  test(`Global Privacy Control ${gpc}: ${gpc ? "the banner says it is honoured" : "no note"}, and nothing is granted`, async () => {
    const tab = await shopper("en");
    await tab.page.addInitScript((on) => {
      Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => on });
    }, gpc);
    await tab.open("/index.html");
    await banner(tab).waitFor();
    assert.equal(/Global Privacy Control/.test(await banner(tab).textContent()), gpc);
    const state = await tab.page.evaluate(() => window.souk.consent.get());
    assert.equal(state.gpc, gpc);
    assert.equal(state.decided, false);
    assert.ok(Object.entries(state.categories).every(([name, on]) => on === (name === "necessary")), "a GPC of either value is no consent");
    await tab.close();
    assert.deepEqual(tab.log.errors, []);
  });
}

test("Google Consent Mode gets denied defaults first, then the shopper's update", async () => {
  const tab = await shopper("en");
  await tab.page.addInitScript(() => {
    window.dataLayer = [];
    window.gtag = function () { window.dataLayer.push([...arguments]); };
  });
  await tab.open("/index.html");
  await banner(tab).getByRole("button", { name: "Accept all", exact: true }).click();
  await until(tab.page, () => window.dataLayer.some((call) => call[1] === "update"));
  const calls = await tab.page.evaluate(() => window.dataLayer.filter((call) => call[0] === "consent"));
  assert.equal(calls[0][1], "default");
  assert.ok(Object.values(calls[0][2]).filter((v) => v === "denied").length === 6, JSON.stringify(calls[0]));
  const update = calls.find((call) => call[1] === "update")[2];
  assert.equal(update.ad_user_data, "granted");
  assert.equal(update.analytics_storage, "granted");
  await tab.close();
  assert.deepEqual(tab.log.errors, []);
});

test("souk.consent.set from the shop's own consent manager applies, and a bad choice is refused by name", async () => {
  const tab = await shopper("en");
  await tab.open("/index.html");
  const result = await tab.page.evaluate(async () => {
    const errors = [];
    const changes = [];
    window.souk.on("error", (error) => errors.push(error.name + ": " + error.message));
    window.souk.consent.on("change", (state) => changes.push(state.categories));
    window.souk.consent.set({ analytics: true, ads: true });
    window.souk.consent.set({ analytics: true });
    return { errors, changes, state: window.souk.consent.get() };
  });
  assert.deepEqual(result.errors, [
    "SoukConsentError: consent: unknown category `ads`; the categories are necessary, functional, analytics, personalization and marketing",
  ]);
  assert.equal(result.changes.length, 1);
  assert.equal(result.state.categories.analytics, true);
  assert.equal(result.state.categories.marketing, false);
  assert.equal(result.state.source, "api");
  await until(tab.page, () => !document.querySelector("souk-consent"));
  await tab.close();
});

test("an IAB TCF v2.2 CMP decides instead of souk's banner, read-only, once per change", async () => {
  const tab = await shopper("en");
  await tab.page.addInitScript(() => {
    // A stand-in CMP: it answers addEventListener the way TCF v2.2 CMPs do.
    window.__tcfapi = (command, version, callback) => {
      if (command !== "addEventListener" || version !== 2) return;
      window.tcfListener = callback;
      callback({ eventStatus: "cmpuishown", gdprApplies: true, purpose: { consents: {} } }, true);
    };
  });
  await tab.open("/index.html");
  assert.equal(await tab.page.locator("souk-consent").count(), 0, "the CMP asks, not souk");
  const tcData = { eventStatus: "useractioncomplete", gdprApplies: true, purpose: { consents: { 1: true, 8: true, 3: true } } };
  const state = await tab.page.evaluate((data) => {
    window.tcfListener(data, true);
    window.tcfListener({ ...data, eventStatus: "tcloaded" }, true);
    return window.souk.consent.get();
  }, tcData);
  assert.deepEqual(state.categories, { necessary: true, functional: false, analytics: true, personalization: false, marketing: false });
  assert.equal(state.source, "tcf");
  await waitFor(() => tab.paths().includes("/v1/consent"));
  await tab.page.waitForTimeout(300);
  assert.equal(tab.paths().filter((path) => path === "/v1/consent").length, 1, "a repeated TCF state adds no version");
  await tab.close();
  assert.deepEqual(tab.log.errors, []);
});
