// End-to-end: the <souk-recommendations> widget on its own, on a Dar Noor product page
// (tests/e2e/fixtures/recommendations.html, with the demo shop's stylesheet, catalogue
// and images) served by a real souk-server, in Debian's Chromium, in English and
// Arabic. The views are made from the demo catalogue as the runtime would make them.
// Any console error or uncaught page error fails a test; axe-core checks both
// languages; screenshots go to tests/e2e/screenshots/ for a person to look at.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { test } from "node:test";
import { ROOT, assertClean, axeViolations, openPage, serverAndBrowser, until } from "./harness.mjs";

const env = serverAndBrowser();
const SHOTS = join(ROOT, "tests/e2e/screenshots");
const FIXTURES = join(ROOT, "tests/e2e/fixtures");
const CHUNK = join(ROOT, "dist/souk_recommendations.js");
mkdirSync(SHOTS, { recursive: true });

const HEADINGS = {
  en: { similar: "You may also like", cart: "Frequently bought together", "for-you": "Picked for you" },
  ar: { similar: "قد يعجبك أيضاً", cart: "يُشترى معاً عادةً", "for-you": "مختارات لك" },
};
const NAMES = {
  en: ["Olive Wood Cutting Board", "Washed Linen Apron", "Stoneware Mixing Bowl", "Glass Spice Jars, Set of 6"],
  ar: null, // read from the catalogue below
};
const catalog = JSON.parse(readFileSync(join(ROOT, "www/shop/catalog.json"), "utf8"));
NAMES.ar = ["p002", "p003", "p004", "p005"].map((id) => catalog.products.find((p) => p.id === id).name.ar);

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const NARROW = { width: 320, height: 640 };
const PRODUCT_PAGE = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Product</title><link rel="icon" href="data:,"></head><body><main><h1>Product</h1></main></body></html>';

/** The fixture page in `lang`, at this viewport, the widget's skeleton showing. */
async function open(lang = "en", options = {}) {
  const opened = await openPage(env.browser, { viewport: DESKTOP, ...options });
  const { page } = opened;
  await page.route("**/fixture/recommendations.*", (route) => {
    const name = new URL(route.request().url()).pathname.split("/").pop();
    const type = name.endsWith(".js") ? "text/javascript" : "text/html; charset=utf-8";
    route.fulfill({ contentType: type, body: readFileSync(join(FIXTURES, name), "utf8") });
  });
  // Where a card leads: a small page, so following a link is quick and quiet.
  await page.route("**/product.html*", (route) => route.fulfill({ contentType: "text/html; charset=utf-8", body: PRODUCT_PAGE }));
  page.on("dialog", (dialog) => {
    opened.log.pageErrors.push("a dialog opened: " + dialog.message());
    dialog.dismiss();
  });
  await page.goto(`${env.server.url}/fixture/recommendations.html?lang=${lang}`);
  await until(page, () => window.fixtureReady === true);
  // The images of the page itself, so that screenshots and boxes are of a page at rest.
  await until(page, () => [...document.images].every((img) => img.complete));
  return opened;
}

/** Renders, then waits for the cards' images. */
async function render(page, ids, extra) {
  await page.evaluate(([ids, extra]) => window.fixture.render(window.fixture.view(ids, extra)), [ids, extra]);
  await until(page, () => [...window.fixture.element().shadowRoot.querySelectorAll("img")].every((img) => img.complete));
}

const box = (page) =>
  page.evaluate(() => {
    const r = window.fixture.element().getBoundingClientRect();
    const f = document.querySelector("footer").getBoundingClientRect();
    return { x: r.x, y: r.y, width: r.width, height: r.height, footer: f.y };
  });

/** What the widget shows: heading, and each card's name, price, link and place. */
const cards = (page) =>
  page.evaluate(() => {
    const root = window.fixture.element().shadowRoot;
    const section = root.querySelector("section");
    return {
      lang: section?.lang,
      dir: section?.dir,
      busy: section?.getAttribute("aria-busy"),
      heading: root.querySelector("h2")?.textContent,
      cards: [...root.querySelectorAll("a")].map((a) => {
        const r = a.getBoundingClientRect();
        return {
          name: a.querySelector(".n").textContent,
          price: a.querySelector(".p").textContent.replace(/\u00a0/g, " "), // Intl's no-break space
          alt: a.querySelector("img")?.alt,
          href: new URL(a.href).pathname + new URL(a.href).search,
          x: r.x,
          y: r.y,
          width: r.width,
        };
      }),
    };
  });

const widget = (page) => page.locator("souk-recommendations");

test("the skeleton reserves the cards' space: rendering changes no box and shifts nothing (CLS 0)", async () => {
  for (const lang of ["en", "ar"]) {
    for (const [size, viewport] of [["desktop", { width: 1280, height: 1800 }], ["phone", { width: 390, height: 2600 }], ["narrow", { width: 320, height: 2400 }]]) {
      const { page, log, close } = await open(lang, { viewport });
      const skeleton = await box(page);
      assert.ok(skeleton.height > 200, `${lang} ${size}: the skeleton has its height before any data (${skeleton.height}px)`);
      const state = await cards(page);
      assert.equal(state.busy, "true", "the skeleton is busy");
      assert.equal(state.cards.length, 0);
      assert.equal(await widget(page).getByRole("listitem").count(), 0, "the skeleton is hidden from screen readers");
      assert.equal(await widget(page).getByRole("heading").count(), 0);
      if (lang === "en" && size !== "narrow") {
        await page.screenshot({ path: join(SHOTS, `recommendations-skeleton${size === "phone" ? "-phone" : ""}.png`), fullPage: true });
      }
      await render(page);
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      const rendered = await box(page);
      assert.deepEqual(rendered, skeleton, `${lang} ${size}: the same box before and after render`);
      assert.equal((await cards(page)).cards.length, 4);
      const shifts = await page.evaluate(() => window.shifts);
      assert.deepEqual(shifts, [], `${lang} ${size}: no layout shift at all on the page (CLS 0)`);
      await close();
      assertClean(log);
    }
  }
});

test("fewer cards than the limit keep the reserved space", async () => {
  const { page, log, close } = await open("en", { viewport: PHONE });
  const before = await box(page);
  await render(page, ["p002"]);
  assert.deepEqual(await box(page), before);
  assert.equal(await widget(page).getByRole("listitem").count(), 1, "the fillers are not list items to a screen reader");
  await close();
  assertClean(log);
});

for (const lang of ["en", "ar"]) {
  test(`renders product cards in ${lang}: a named section, a list of links named by product and price`, async () => {
    const { page, log, close } = await open(lang);
    await render(page);
    const state = await cards(page);
    assert.equal(state.lang, lang);
    assert.equal(state.dir, lang === "ar" ? "rtl" : "ltr");
    assert.equal(state.busy, null, "no longer busy");
    assert.equal(state.heading, HEADINGS[lang].similar);
    assert.deepEqual(state.cards.map((c) => c.name), NAMES[lang]);
    assert.deepEqual(state.cards.map((c) => c.alt), NAMES[lang], "each image's alt is the product's name");
    assert.deepEqual(state.cards.map((c) => c.href), ["p002", "p003", "p004", "p005"].map((id) => `/product.html?id=${id}`));
    const prices = state.cards.map((c) => c.price);
    if (lang === "en") assert.deepEqual(prices, ["AED 119.00", "AED 75.00", "AED 95.00", "AED 69.00"]);
    else assert.deepEqual(prices.map((p) => p.replace(/\u200f/g, "")), ["119.00 د.إ.", "75.00 د.إ.", "95.00 د.إ.", "69.00 د.إ."]);

    // One row of four; in Arabic the first card is on the right.
    const ys = new Set(state.cards.map((c) => c.y));
    assert.equal(ys.size, 1, "one row");
    const xs = state.cards.map((c) => c.x);
    const sorted = [...xs].sort((a, b) => a - b);
    assert.deepEqual(xs, lang === "ar" ? sorted.reverse() : sorted, lang === "ar" ? "right to left" : "left to right");

    // What a screen reader meets.
    const region = page.getByRole("region", { name: HEADINGS[lang].similar, exact: true });
    assert.equal(await region.count(), 1, "a section named by its heading");
    assert.equal(await region.getByRole("heading", { level: 2, name: HEADINGS[lang].similar }).count(), 1);
    assert.equal(await region.getByRole("list").count(), 1);
    assert.equal(await region.getByRole("listitem").count(), 4);
    const links = region.getByRole("link");
    assert.equal(await links.count(), 4);
    for (let i = 0; i < 4; i++) {
      const name = NAMES[lang][i];
      const link = region.getByRole("link", { name: `${name} ${prices[i]}`, exact: true });
      assert.equal(await link.count(), 1, `the link's name is "${name} ${prices[i]}"`);
    }
    await page.screenshot({ path: join(SHOTS, `recommendations-${lang}.png`), fullPage: true });
    await close();
    assertClean(log);
  });

  test(`axe finds no violations in ${lang}, rendered and as a skeleton`, async () => {
    const { page, log, close } = await open(lang, { reducedMotion: "reduce" }); // the shimmer never ends otherwise
    assert.deepEqual(await axeViolations(page), [], "skeleton");
    await render(page);
    assert.deepEqual(await axeViolations(page), [], "rendered");
    await close();
    const phone = await open(lang, { viewport: NARROW, reducedMotion: "reduce" });
    await render(phone.page);
    assert.deepEqual(await axeViolations(phone.page), [], "rendered, scrolling row");
    await phone.close();
    assertClean(log);
    assertClean(phone.log);
  });

  test(`phone widths in ${lang}: two columns, then a scrolling row; no page scrolls sideways`, async () => {
    for (const [size, viewport] of [["phone", PHONE], ["320", NARROW]]) {
      const { page, log, close } = await open(lang, { viewport });
      await render(page);
      const state = await cards(page);
      const rows = new Set(state.cards.map((c) => c.y)).size;
      assert.equal(rows, size === "phone" ? 2 : 1, `${size}: ${rows} rows`);
      if (size === "phone") {
        const [a, b] = state.cards;
        assert.ok(lang === "ar" ? a.x > b.x : a.x < b.x, "the first card starts the row");
      }
      assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), viewport.width, "the page does not scroll sideways");
      const row = await page.evaluate(() => {
        const list = window.fixture.element().shadowRoot.querySelector("ul");
        return { scrolls: list.scrollWidth > list.clientWidth, snap: getComputedStyle(list).scrollSnapType };
      });
      if (size === "320") assert.deepEqual(row, { scrolls: true, snap: "inline mandatory" });
      await widget(page).scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SHOTS, `recommendations-${lang}-${size}.png`) });
      if (size === "320") {
        // Keyboard: Tab to the last card scrolls it into view.
        await widget(page).getByRole("link").last().focus();
        await page.waitForTimeout(100);
        const seen = await page.evaluate(() => {
          const root = window.fixture.element().shadowRoot;
          const last = [...root.querySelectorAll("a")].pop().getBoundingClientRect();
          return last.left >= 0 && last.right <= innerWidth;
        });
        assert.ok(seen, "the focused card is scrolled into view");
      }
      await close();
      assertClean(log);
    }
  });
}

test("Arabic digits: the shop picks Arabic-Indic or Latin digits", async () => {
  const { page, log, close } = await open("ar");
  await render(page, undefined, { digits: "arab" });
  const arab = (await cards(page)).cards.map((c) => c.price.replace(/\u200f/g, ""));
  assert.deepEqual(arab, ["١١٩٫٠٠ د.إ.", "٧٥٫٠٠ د.إ.", "٩٥٫٠٠ د.إ.", "٦٩٫٠٠ د.إ."]);
  assert.equal(await widget(page).getByRole("link", { name: `${NAMES.ar[0]} ${(await cards(page)).cards[0].price}` }).count(), 1);
  await page.screenshot({ path: join(SHOTS, "recommendations-ar-arab-digits.png"), fullPage: true });
  await render(page, undefined, { digits: "latn" });
  assert.match((await cards(page)).cards[0].price, /^\u200f?119\.00/);
  // The attribute works too, and English keeps Latin digits.
  await page.evaluate(() => window.fixture.element().setAttribute("digits", "arab"));
  await render(page);
  assert.match((await cards(page)).cards[0].price, /١١٩/);
  await close();
  assertClean(log);
  const en = await open("en");
  await en.page.evaluate(() => window.fixture.element().setAttribute("digits", "arab"));
  await render(en.page);
  assert.equal((await cards(en.page)).cards[0].price, "AED 119.00");
  await en.close();
  assertClean(en.log);
});

test("prices come in minor units and use the currency's own decimals", async () => {
  const { page, log, close } = await open("en");
  await page.evaluate(() => {
    const item = (id, price, currency) => ({ id, name: id, price, currency, url: "/product.html?id=" + id, image: "/shop/img/p001.svg", position: 1 });
    window.fixture.render({ lang: "en", listId: "x", items: [item("a", 1500, "JPY"), item("b", 12345, "KWD"), item("c", 8950, "aed"), item("d", 5, "XYZW")] });
  });
  const prices = (await cards(page)).cards.map((c) => c.price);
  assert.deepEqual(prices, ["¥1,500", "KWD 12.345", "AED 89.50", ""], "a currency Intl does not know shows no price");
  await close();
  assertClean(log);
});

test("a click hands back { id, position, listId } before the browser follows the link", async () => {
  const { page, log, close } = await open("en");
  await render(page);
  await Promise.all([page.waitForURL("**/product.html?id=p003"), widget(page).getByRole("link").nth(1).click()]);
  const clicks = await page.evaluate(() => JSON.parse(sessionStorage.getItem("clicks")));
  assert.deepEqual(clicks, [{ id: "p003", position: 2, listId: "similar:p001", at: "/fixture/recommendations.html?lang=en", defaultPrevented: false }]);
  await close();
  assertClean(log);
});

test("keyboard: Tab reaches each card with a visible focus ring, and Enter hands back the click and follows the link", async () => {
  const { page, log, close } = await open("ar");
  await render(page);
  const focusedCard = () =>
    page.evaluate(() => {
      const el = window.fixture.element();
      const a = document.activeElement === el ? el.shadowRoot.activeElement : null;
      if (!a) return null;
      const s = getComputedStyle(a);
      return { name: a.querySelector(".n").textContent, ring: [a.matches(":focus-visible"), s.outlineStyle, parseFloat(s.outlineWidth)] };
    });
  await page.evaluate(() => document.querySelector(".product-description").setAttribute("tabindex", "-1"));
  await page.focus(".product-description");
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press("Tab");
    assert.deepEqual(await focusedCard(), { name: NAMES.ar[i], ring: [true, "solid", 3] });
  }
  await page.screenshot({ path: join(SHOTS, "recommendations-ar-focus.png"), clip: await widget(page).boundingBox() });
  await page.keyboard.press("Shift+Tab");
  await Promise.all([page.waitForURL("**/product.html?id=p004"), page.keyboard.press("Enter")]);
  const clicks = await page.evaluate(() => JSON.parse(sessionStorage.getItem("clicks")));
  assert.deepEqual(clicks.map((c) => [c.id, c.position, c.listId, c.at]), [["p004", 3, "similar:p001", "/fixture/recommendations.html?lang=ar"]]);
  await close();
  assertClean(log);
});

test("a catalogue name with markup stays text, and a javascript: link is left out", async () => {
  const { page, log, close } = await open("en");
  const payload = '<img src=x onerror=alert(1)><script>alert(2)</script>';
  await page.evaluate((payload) => {
    window.pwned = 0;
    const items = window.fixture.view().items;
    items[0].name = payload.replace(/alert/g, "window.pwned++;alert");
    items[1].url = "javascript:window.pwned++";
    items[2].image = "javascript:window.pwned++";
    window.fixture.render({ lang: "en", listId: "l", items });
  }, payload);
  await page.waitForTimeout(300);
  const state = await cards(page);
  assert.equal(state.cards[0].name, payload.replace(/alert/g, "window.pwned++;alert"), "shown as text");
  assert.deepEqual(state.cards.map((c) => c.href), ["/product.html?id=p002", "/product.html?id=p004", "/product.html?id=p005"]);
  const inside = await page.evaluate(() => {
    const root = window.fixture.element().shadowRoot;
    return { imgs: [...root.querySelectorAll("img")].map((i) => new URL(i.src).pathname), scripts: root.querySelectorAll("script").length, pwned: window.pwned };
  });
  assert.deepEqual(inside, { imgs: ["/shop/img/p002.svg", "/shop/img/p005.svg"], scripts: 0, pwned: 0 });
  assert.equal(await widget(page).getByText(payload.replace(/alert/g, "window.pwned++;alert")).isVisible(), true);
  assert.ok(log.warnings.some((w) => w.startsWith("souk: the recommendations left out")), "the left-out item is a souk: warning");
  await close();
  assertClean(log);
});

test("zero items hide the widget entirely; items again show it", async () => {
  const { page, log, close } = await open("en");
  const footer = (await box(page)).footer;
  await page.evaluate(() => window.fixture.render({ lang: "en", title: "Nothing", listId: "l", items: [] }));
  const hidden = await page.evaluate(() => {
    const el = window.fixture.element();
    const r = el.getBoundingClientRect();
    return { hidden: el.hidden, height: r.height, display: getComputedStyle(el).display };
  });
  assert.deepEqual(hidden, { hidden: true, height: 0, display: "none" });
  assert.equal(await page.getByText("Nothing").count(), 0, "no empty heading");
  assert.equal(await page.getByRole("region").count(), 0);
  assert.ok((await box(page)).footer < footer, "the reserved space collapsed");
  await render(page);
  assert.equal(await page.evaluate(() => window.fixture.element().hidden), false);
  assert.equal((await cards(page)).cards.length, 4);
  await close();
  assertClean(log);
});

test("headings: each surface's own in en and ar, the view's title, and the shop's heading first", async () => {
  for (const lang of ["en", "ar"]) {
    const { page, log, close } = await open(lang);
    for (const surface of ["similar", "cart", "for-you"]) {
      await page.evaluate((s) => window.fixture.element().setAttribute("surface", s), surface);
      await render(page);
      assert.equal((await cards(page)).heading, HEADINGS[lang][surface]);
      assert.equal(await page.getByRole("region", { name: HEADINGS[lang][surface] }).count(), 1);
    }
    await render(page, undefined, { title: "From the core" });
    assert.equal((await cards(page)).heading, "From the core");
    await page.evaluate(() => window.fixture.element().setAttribute("heading", "Goes well with your pot"));
    assert.equal((await cards(page)).heading, "Goes well with your pot", "an attribute change repaints");
    await close();
    assertClean(log);
  }
});

test("the element asks for its products on connect and when surface, product or limit change", async () => {
  const { page, log, close } = await open("en");
  const requests = await page.evaluate(async () => {
    const el = document.createElement("souk-recommendations");
    el.setAttribute("surface", "cart");
    el.setAttribute("limit", "2");
    document.querySelector("main .container").append(el);
    await Promise.resolve();
    el.setAttribute("product", "p009");
    el.setAttribute("heading", "Not a reason to ask");
    await Promise.resolve();
    return window.requests;
  });
  assert.deepEqual(requests, [
    { surface: "similar", product: "p001", limit: 4 },
    { surface: "cart", product: null, limit: 2 },
    { surface: "cart", product: "p009", limit: 2 },
  ]);
  await close();
  assertClean(log);
});

test("respects prefers-reduced-motion: the skeleton's shimmer stops", async () => {
  for (const reducedMotion of ["no-preference", "reduce"]) {
    const { page, log, close } = await open("en", { reducedMotion });
    const names = await page.evaluate(() => getComputedStyle(window.fixture.element().shadowRoot.querySelector(".m")).animationName);
    assert.equal(names, reducedMotion === "reduce" ? "none" : "sh");
    await close();
    assertClean(log);
  }
});

test("bad input never throws into the page", async () => {
  const { page, log, close } = await open("en");
  const outcome = await page.evaluate(async () => {
    const el = window.fixture.element();
    const thrown = [];
    for (const view of [undefined, null, 42, "x", { items: "nope" }, { lang: "fr", items: [null, 7, { id: 1 }, { id: "a", name: "A", url: "/a", price: "12" }] }]) {
      try {
        el.render(view);
      } catch (err) {
        thrown.push(String(err));
      }
    }
    const root = el.shadowRoot;
    const again = await import("/dist/souk_recommendations.js?copy=2");
    return {
      thrown,
      names: [...root.querySelectorAll("a .n")].map((n) => n.textContent),
      price: root.querySelector("a .p")?.textContent,
      lang: root.querySelector("section")?.lang,
      again: typeof again.SoukRecommendations,
      defined: customElements.get("souk-recommendations") === window.fixture.SoukRecommendations,
    };
  });
  assert.deepEqual(outcome, { thrown: [], names: ["A"], price: "", lang: "en", again: "function", defined: true });
  assert.ok(log.warnings.filter((w) => w.startsWith("souk:")).length >= 4, "each refusal is a souk: warning");
  await close();
  assertClean(log);
});

test("the chunk stays small", () => {
  const gzip = gzipSync(readFileSync(CHUNK), { level: 9 }).length;
  console.log(`dist/souk_recommendations.js: ${gzip} B gzip`);
  assert.ok(gzip <= 6 * 1024, `${gzip} B gzip, budget 6 KB`);
});
