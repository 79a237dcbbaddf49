// End-to-end: the <souk-consent> widget on its own, on a fixture shop page served by
// a real souk-server, in Debian's Chromium, in English and Arabic. The view-models
// are hand-written here with the words of src/core/i18n.rs. Any console error or
// uncaught page error fails a test; axe-core checks both layers in both languages;
// screenshots go to tests/e2e/screenshots/ for a person to look at.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { after, before, test } from "node:test";
import {
  ROOT, assertClean, axeViolations, cleanup, launchBrowser, openPage, settled, startServer, until,
} from "./harness.mjs";

const SHOTS = join(ROOT, "tests/e2e/screenshots");
const CHUNK = join(ROOT, "dist/souk_consent.js");

const WORDS = {
  en: {
    text: {
      region: "Privacy choices",
      title: "Your privacy, your choice",
      body: "This shop keeps your cart and this choice on your device. With your permission it also runs the chat and loyalty features, learns how the shop is used, personalises what you see, and measures ads. You can change your mind at any time.",
      acceptAll: "Accept all",
      rejectAll: "Reject all",
      choose: "Choose",
      choicesTitle: "Choose what you allow",
      save: "Save my choices",
      alwaysOn: "Always on",
      gpcHonoured: "Your browser sends Global Privacy Control, so marketing stays off unless you switch it on here.",
    },
    categories: [
      ["Strictly necessary", "Your cart, your session and this choice. The shop cannot work without them."],
      ["Functional", "The chat and your loyalty points."],
      ["Analytics", "Sends what you browse and buy to the shop, so it can see how it is used."],
      ["Personalisation", "Keeps a profile on this device to recommend products for you. It never leaves your device."],
      ["Marketing", "Lets advertising tools measure and personalise ads."],
    ],
  },
  ar: {
    text: {
      region: "خيارات الخصوصية",
      title: "خصوصيتك، قرارك",
      body: "يحتفظ هذا المتجر بسلة التسوق وبهذا الاختيار على جهازك. وبإذنك يشغّل أيضًا الدردشة وبرنامج الولاء، ويتعرّف على طريقة استخدام المتجر، ويخصّص ما تراه، ويقيس الإعلانات. يمكنك تغيير رأيك في أي وقت.",
      acceptAll: "قبول الكل",
      rejectAll: "رفض الكل",
      choose: "اختيار",
      choicesTitle: "اختر ما تسمح به",
      save: "حفظ اختياراتي",
      alwaysOn: "مفعّل دائمًا",
      gpcHonoured: "يرسل متصفحك إشارة التحكم العالمي بالخصوصية (GPC)، لذا يبقى التسويق متوقفًا ما لم تفعّله هنا.",
    },
    categories: [
      ["ضروري للغاية", "سلة التسوق وجلستك وهذا الاختيار. لا يعمل المتجر بدونها."],
      ["وظيفي", "الدردشة ونقاط الولاء الخاصة بك."],
      ["التحليلات", "إرسال ما تتصفحه وتشتريه إلى المتجر ليعرف كيف يُستخدم."],
      ["التخصيص", "الاحتفاظ بملف على هذا الجهاز لاقتراح منتجات تناسبك، ولا يغادر جهازك أبدًا."],
      ["التسويق", "السماح لأدوات الإعلان بقياس الإعلانات وتخصيصها."],
    ],
  },
};
const IDS = ["necessary", "functional", "analytics", "personalization", "marketing"];

/** The view-model the Rust core would hand the widget. */
function view(lang, { gpc = false, granted = [] } = {}) {
  const words = WORDS[lang];
  return {
    lang,
    dir: lang === "ar" ? "rtl" : "ltr",
    gpc,
    text: words.text,
    categories: IDS.map((id, i) => ({
      id,
      label: words.categories[i][0],
      description: words.categories[i][1],
      granted: id === "necessary" || granted.includes(id),
      locked: id === "necessary",
    })),
  };
}

// The fixture: a small shop page in the shopper's language, which loads the widget
// the way the client does and records every action the widget hands back.
const PAGE = `<!doctype html>
<html lang="en" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fixture shop</title>
<link rel="icon" href="data:,">
<style>
  body { margin: 0; font-family: "DejaVu Sans", system-ui, sans-serif; color: #222; background: #faf7f2; line-height: 1.5; }
  header, footer { padding: 1rem 1.5rem; background: #1e5b57; color: #fff; }
  header a, footer a { color: #fff; margin-inline-end: 1rem; }
  main { padding: 1.5rem; max-width: 64rem; margin: 0 auto; }
  h1 { margin-top: 0; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: 1rem; }
  .card { background: #fff; border: 1px solid #e4dccf; border-radius: 12px; padding: 1rem; min-height: 9rem; }
  #privacy { font: inherit; padding: .5rem 1rem; min-height: 44px; border: 1px solid #1e5b57; background: #fff; color: #1e5b57; border-radius: 8px; }
</style>
<script type="module" src="/fixture.js"></script>
</head>
<body>
<header><nav aria-label="Shop"><a href="#" data-t="home"></a><a href="#" data-t="shop"></a></nav></header>
<main>
  <h1 data-t="h1"></h1>
  <p data-t="intro"></p>
  <p><button type="button" id="privacy" data-t="privacy"></button></p>
  <div class="grid">
    <article class="card"><h2 data-t="p1"></h2><p data-t="price"></p></article>
    <article class="card"><h2 data-t="p2"></h2><p data-t="price"></p></article>
    <article class="card"><h2 data-t="p3"></h2><p data-t="price"></p></article>
    <article class="card"><h2 data-t="p4"></h2><p data-t="price"></p></article>
    <article class="card"><h2 data-t="p5"></h2><p data-t="price"></p></article>
    <article class="card"><h2 data-t="p6"></h2><p data-t="price"></p></article>
  </div>
</main>
<footer><p data-t="footer"></p></footer>
</body>
</html>
`;

const FIXTURE = `import { SoukConsent } from "/dist/souk_consent.js";
import { views } from "/views.js";

const WORDS = {
  en: { home: "Home", shop: "Shop", h1: "Dar Noor: handmade lamps", intro: "Brass and glass lamps made in small workshops.", privacy: "Privacy settings",
        p1: "Lantern", p2: "Table lamp", p3: "Pendant", p4: "Candle holder", p5: "Wall light", p6: "Tray", price: "120 AED", footer: "© Dar Noor" },
  ar: { home: "الرئيسية", shop: "المتجر", h1: "دار نور: مصابيح مصنوعة يدويًا", intro: "مصابيح من النحاس والزجاج تُصنع في ورش صغيرة.", privacy: "إعدادات الخصوصية",
        p1: "فانوس", p2: "مصباح طاولة", p3: "مصباح معلّق", p4: "حامل شموع", p5: "مصباح حائط", p6: "صينية", price: "120 درهم", footer: "© دار نور" },
};
const lang = new URLSearchParams(location.search).get("lang") === "ar" ? "ar" : "en";
document.documentElement.lang = lang;
document.documentElement.dir = lang === "ar" ? "rtl" : "ltr";
for (const el of document.querySelectorAll("[data-t]")) el.textContent = WORDS[lang][el.dataset.t];

window.actions = [];
window.fixture = {
  lang,
  views,
  SoukConsent,
  element: () => document.querySelector("souk-consent"),
  /** Shows the banner the way the client does: one element, first in <body>. */
  show(options = {}, view = views[lang]) {
    let el = document.querySelector("souk-consent");
    if (!el) {
      el = document.createElement("souk-consent");
      el.addEventListener("souk-consent-action", (event) => window.actions.push(event.detail));
      document.body.prepend(el);
    }
    el.show(view, options);
    return el;
  },
};
document.getElementById("privacy").addEventListener("click", () => window.fixture.show({ layer: "choices", focus: true }));
window.fixtureReady = true;
`;

let server, browser, www;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  www = mkdtempSync(join(tmpdir(), "souk-consent-www-"));
  const views = {
    en: view("en"),
    ar: view("ar"),
    enGpc: view("en", { gpc: true }),
    arGpc: view("ar", { gpc: true }),
    enGranted: view("en", { granted: ["analytics", "personalization"] }),
  };
  writeFileSync(join(www, "index.html"), PAGE);
  writeFileSync(join(www, "fixture.js"), FIXTURE);
  writeFileSync(join(www, "views.js"), `export const views = ${JSON.stringify(views)};\n`);
  server = await startServer({ www });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (www) cleanup(www);
});

async function open(lang = "en", options = {}) {
  const opened = await openPage(browser, { viewport: { width: 1280, height: 800 }, ...options });
  await opened.page.goto(`${server.url}/index.html?lang=${lang}`);
  await until(opened.page, () => window.fixtureReady === true);
  return opened;
}



/** What has focus, looking into shadow roots: its role-ish description and name. */
const focusedInfo = (page) =>
  page.evaluate(() => {
    let el = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    const name = el.labels?.[0]?.textContent ?? (el.getAttribute("role") === "region" ? el.getAttribute("aria-label") : el.textContent);
    return { tag: el.tagName.toLowerCase(), role: el.getAttribute("role"), id: el.id, name, inWidget: document.activeElement?.tagName === "SOUK-CONSENT" };
  });

/** Waits until focus is on the element with this tag and name. */
async function focusMovesTo(page, tag, name) {
  const deadline = Date.now() + 2000;
  let f;
  while (Date.now() < deadline) {
    f = await focusedInfo(page);
    if (f.tag === tag && f.name === name) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`focus is on ${f.tag} "${f.name}", not ${tag} "${name}"`);
}


const region = (page, lang) => page.getByRole("region", { name: WORDS[lang].text.region, exact: true });
const dialog = (page, lang) => page.getByRole("dialog", { name: WORDS[lang].text.choicesTitle, exact: true });

for (const lang of ["en", "ar"]) {
  const t = WORDS[lang].text;

  test(`first layer in ${lang}: a labelled region with accept all, reject all and choose of equal weight`, async () => {
    const { page, log, close } = await open(lang);
    await page.evaluate(() => window.fixture.show({ layer: "first", focus: false }));
    await settled(page);

    const host = await page.evaluate(() => [window.fixture.element().lang, window.fixture.element().dir]);
    assert.deepEqual(host, lang === "ar" ? ["ar", "rtl"] : ["en", "ltr"]);

    const banner = region(page, lang);
    await banner.waitFor();
    assert.equal(await banner.getByRole("heading", { name: t.title }).count(), 1);
    assert.match(await banner.textContent(), new RegExp(t.body.slice(0, 20)));
    const names = await banner.getByRole("button").allTextContents();
    assert.deepEqual(names, [t.acceptAll, t.rejectAll, t.choose], "three buttons, in this order");
    for (const name of names) assert.equal(await banner.getByRole("button", { name, exact: true }).count(), 1);

    // Equal weight: the same size, colours, type and border; no button is pushed.
    const looks = await page.evaluate(() => {
      const buttons = [...window.fixture.element().shadowRoot.querySelector("[role=region]").querySelectorAll("button")];
      return buttons.map((b) => {
        const s = getComputedStyle(b);
        const r = b.getBoundingClientRect();
        return {
          width: Math.round(r.width), height: Math.round(r.height), color: s.color, background: s.backgroundColor,
          fontSize: s.fontSize, fontWeight: s.fontWeight, border: s.border, radius: s.borderRadius,
          padding: s.padding, shadow: s.boxShadow, decoration: s.textDecorationLine,
        };
      });
    });
    assert.equal(looks.length, 3);
    assert.deepEqual(looks[1], looks[0], "reject all looks like accept all");
    assert.deepEqual(looks[2], looks[0], "choose looks like accept all");
    assert.ok(looks[0].height >= 44, `touch target ${looks[0].height}px high`);

    // Fixed to the bottom of the viewport, as a centred card.
    const place = await page.evaluate(() => {
      const el = window.fixture.element().shadowRoot.querySelector("[role=region]");
      const r = el.getBoundingClientRect();
      return { position: getComputedStyle(el).position, left: r.left, right: innerWidth - r.right, bottom: innerHeight - r.bottom, width: r.width };
    });
    assert.equal(place.position, "fixed");
    assert.ok(place.bottom >= 0 && place.bottom < 40, `bottom gap ${place.bottom}`);
    assert.ok(Math.abs(place.left - place.right) <= 1, "centred");
    assert.ok(place.width <= 720, `max width ${place.width}`);

    // Reading order: in Arabic the first button is on the right.
    const xs = await banner.getByRole("button").evaluateAll((els) => els.map((el) => el.getBoundingClientRect().x));
    if (lang === "ar") assert.ok(xs[0] > xs[2], `accept all (${xs[0]}) is right of choose (${xs[2]})`);
    else assert.ok(xs[0] < xs[2], `accept all (${xs[0]}) is left of choose (${xs[2]})`);

    // No GPC note when the browser sent no GPC signal.
    assert.equal(await page.getByText(t.gpcHonoured).count(), 0);
    await close();
    assertClean(log);
  });

  test(`choices layer in ${lang}: a modal dialog with one labelled, described switch per category`, async () => {
    const { page, log, close } = await open(lang);
    await page.evaluate(() => window.fixture.show({ layer: "first", focus: false }));
    await region(page, lang).getByRole("button", { name: t.choose, exact: true }).click();
    const choices = dialog(page, lang);
    await choices.waitFor();
    assert.equal(await page.evaluate(() => window.fixture.element().shadowRoot.querySelector("dialog").matches(":modal")), true);

    const switches = choices.getByRole("switch");
    assert.equal(await switches.count(), 5);
    const cats = WORDS[lang].categories;
    const details = await page.evaluate(() => {
      const root = window.fixture.element().shadowRoot;
      return [...root.querySelectorAll("[role=switch]")].map((input) => ({
        label: input.labels[0].textContent,
        labelVisible: input.labels[0].getBoundingClientRect().height > 0,
        description: input.getAttribute("aria-describedby").split(" ").map((id) => root.getElementById(id).textContent),
        checked: input.checked,
        disabled: input.disabled,
        type: input.type,
      }));
    });
    details.forEach((d, i) => {
      assert.equal(d.label, cats[i][0]);
      assert.ok(d.labelVisible, `${d.label} has a visible label`);
      assert.equal(d.type, "checkbox");
      assert.ok(d.description.includes(cats[i][1]), `${d.label} is described`);
    });
    assert.deepEqual(details.map((d) => [d.checked, d.disabled]), [[true, true], [false, false], [false, false], [false, false], [false, false]]);
    assert.ok(details[0].description.includes(t.alwaysOn), "necessary is described as always on");
    assert.equal(await choices.getByText(t.alwaysOn, { exact: true }).isVisible(), true, "always on is visible");
    for (let i = 0; i < 5; i++) {
      assert.equal(await choices.getByRole("switch", { name: cats[i][0], exact: true }).count(), 1);
    }
    assert.equal(await choices.getByRole("switch", { name: cats[0][0] }).isDisabled(), true);
    assert.equal(await choices.getByRole("switch", { name: cats[0][0] }).isChecked(), true);

    const names = await choices.getByRole("button").allTextContents();
    assert.deepEqual(names, [t.save, t.acceptAll, t.rejectAll]);
    const looks = await choices.getByRole("button").evaluateAll((els) =>
      els.map((b) => {
        const s = getComputedStyle(b);
        const r = b.getBoundingClientRect();
        return [Math.round(r.width), Math.round(r.height), s.color, s.backgroundColor, s.fontWeight, s.fontSize, s.border];
      }),
    );
    assert.deepEqual(looks[1], looks[0]);
    assert.deepEqual(looks[2], looks[0]);
    await close();
    assertClean(log);
  });

  test(`axe finds no violations on either layer in ${lang}`, async () => {
    const { page, log, close } = await open(lang);
    await page.evaluate(() => window.fixture.show({ layer: "first", focus: false }, window.fixture.views[window.fixture.lang + "Gpc"]));
    await settled(page);
    assert.deepEqual(await axeViolations(page), [], "first layer");
    await region(page, lang).getByRole("button", { name: t.choose, exact: true }).click();
    await settled(page);
    assert.deepEqual(await axeViolations(page), [], "choices layer");
    await close();
    assertClean(log);
  });

  test(`screenshots of both layers in ${lang}, desktop and phone`, async () => {
    for (const [size, viewport] of [["desktop", { width: 1280, height: 800 }], ["phone", { width: 390, height: 844 }]]) {
      const { page, log, close } = await open(lang, { viewport });
      await page.evaluate(() => window.fixture.show({ layer: "first", focus: false }, window.fixture.views[window.fixture.lang + "Gpc"]));
      await settled(page);
      await page.screenshot({ path: join(SHOTS, `consent-first-${lang}-${size}.png`) });
      await page.keyboard.press("Tab");
      await page.keyboard.press("Tab");
      await page.keyboard.press("Tab");
      await page.keyboard.press("Enter");
      await settled(page);
      await page.keyboard.press("Space");
      await settled(page);
      await page.screenshot({ path: join(SHOTS, `consent-choices-${lang}-${size}.png`) });
      const fits = await page.evaluate(() => {
        const root = window.fixture.element().shadowRoot;
        return [root.querySelector("[role=region]"), root.querySelector("dialog")].map((el) => {
          const r = el.getBoundingClientRect();
          return r.left >= 0 && r.right <= innerWidth && r.top >= 0 && r.bottom <= innerHeight;
        });
      });
      assert.deepEqual(fits, [true, true], `both layers fit the ${size} viewport`);
      await close();
      assertClean(log);
    }
  });
}

test("keyboard: Tab reaches the buttons, choose opens the dialog, Space toggles, Escape goes back, save hands back the choices", async () => {
  const { page, log, close } = await open("en");
  await page.evaluate(() => window.fixture.show({ layer: "first", focus: false }));
  assert.equal(await page.evaluate(() => document.activeElement === document.body), true, "an automatic show does not take focus");

  // The element is first in <body>, so its buttons come first in tab order.
  for (const name of ["Accept all", "Reject all", "Choose"]) {
    await page.keyboard.press("Tab");
    assert.deepEqual(await focusedInfo(page).then((f) => [f.tag, f.name, f.inWidget]), ["button", name, true]);
  }
  const ring = await page.evaluate(() => {
    const root = window.fixture.element().shadowRoot;
    const s = getComputedStyle(root.activeElement);
    return [root.activeElement.matches(":focus-visible"), s.outlineStyle, parseFloat(s.outlineWidth)];
  });
  assert.deepEqual(ring, [true, "solid", 3], "a visible focus ring");

  await page.keyboard.press("Enter");
  assert.equal(await dialog(page, "en").isVisible(), true);
  assert.deepEqual(await focusedInfo(page).then((f) => [f.role, f.name]), ["switch", "Functional"], "focus on the first switch");
  await page.keyboard.press("Space");
  assert.equal(await page.getByRole("switch", { name: "Functional" }).isChecked(), true, "Space toggles");

  // Escape discards the unsaved toggles and returns to the first layer.
  await page.keyboard.press("Escape");
  assert.equal(await dialog(page, "en").isVisible(), false);
  assert.equal(await region(page, "en").isVisible(), true);
  await focusMovesTo(page, "button", "Choose");
  assert.deepEqual(await page.evaluate(() => window.actions), [], "Escape decides nothing");

  await page.keyboard.press("Enter");
  assert.equal(await page.getByRole("switch", { name: "Functional" }).isChecked(), false, "the unsaved toggle was dropped");
  await page.keyboard.press("Space"); // functional on
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  assert.deepEqual(await focusedInfo(page).then((f) => [f.role, f.name]), ["switch", "Personalisation"]);
  await page.keyboard.press("Space"); // personalization on
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  assert.deepEqual(await focusedInfo(page).then((f) => [f.tag, f.name]), ["button", "Save my choices"]);
  await page.keyboard.press("Enter");
  assert.deepEqual(await page.evaluate(() => window.actions), [
    { action: "save", choices: { functional: true, analytics: false, personalization: true, marketing: false } },
  ]);

  // The modal keeps focus out of the page: past the last button, Tab goes to the
  // browser's own UI (document.body here) and then back into the dialog.
  const seen = new Set();
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press("Tab");
    const f = await focusedInfo(page);
    assert.ok(f.inWidget || f.tag === "body", `focus stays in the dialog, not on ${f.tag} ${f.name}`);
    if (f.inWidget) seen.add(f.name);
  }
  assert.ok(seen.has("Functional") && seen.has("Reject all"), "Tab cycles through the dialog");
  await close();
  assertClean(log);
});

test("a dialog the platform closes without a cancel event also returns to the first layer", async () => {
  const { page, log, close } = await open("en");
  await page.evaluate(() => window.fixture.show({ layer: "first" }));
  await region(page, "en").getByRole("button", { name: "Choose" }).click();
  await dialog(page, "en").getByRole("switch", { name: "Analytics" }).check();
  await page.evaluate(() => window.fixture.element().shadowRoot.querySelector("dialog").close());
  await focusMovesTo(page, "button", "Choose");
  await region(page, "en").getByRole("button", { name: "Choose" }).click();
  assert.equal(await dialog(page, "en").getByRole("switch", { name: "Analytics" }).isChecked(), false, "unsaved toggles dropped");
  assert.deepEqual(await page.evaluate(() => window.actions), []);
  await close();
  assertClean(log);
});

test("accept all and reject all hand back their actions, from both layers", async () => {
  const { page, log, close } = await open("ar");
  const t = WORDS.ar.text;
  await page.evaluate(() => window.fixture.show({ layer: "first", focus: false }));
  await region(page, "ar").getByRole("button", { name: t.acceptAll, exact: true }).click();
  await region(page, "ar").getByRole("button", { name: t.rejectAll, exact: true }).focus();
  await page.keyboard.press("Enter");
  await region(page, "ar").getByRole("button", { name: t.choose, exact: true }).click();
  await dialog(page, "ar").getByRole("button", { name: t.acceptAll, exact: true }).click();
  await dialog(page, "ar").getByRole("button", { name: t.rejectAll, exact: true }).click();
  await dialog(page, "ar").getByRole("switch", { name: WORDS.ar.categories[4][0] }).check();
  await dialog(page, "ar").getByRole("button", { name: t.save, exact: true }).click();
  assert.deepEqual(await page.evaluate(() => window.actions), [
    { action: "accept_all" },
    { action: "reject_all" },
    { action: "accept_all" },
    { action: "reject_all" },
    { action: "save", choices: { functional: false, analytics: false, personalization: false, marketing: true } },
  ]);
  await close();
  assertClean(log);
});

test("switches start from what the view grants", async () => {
  const { page, log, close } = await open("en");
  await page.evaluate(() => window.fixture.show({ layer: "choices", focus: true }, window.fixture.views.enGranted));
  const checked = await dialog(page, "en").getByRole("switch").evaluateAll((els) => els.map((el) => el.checked));
  assert.deepEqual(checked, [true, false, true, true, false]);
  await dialog(page, "en").getByRole("button", { name: "Save my choices" }).click();
  assert.deepEqual(await page.evaluate(() => window.actions.at(-1)), {
    action: "save", choices: { functional: false, analytics: true, personalization: true, marketing: false },
  });
  await close();
  assertClean(log);
});

test("focus: true moves focus into the banner, and close() removes it and gives focus back", async () => {
  const { page, log, close } = await open("en");
  await page.focus("#privacy");
  await page.evaluate(() => window.fixture.show({ layer: "first", focus: true }));
  const f = await focusedInfo(page);
  assert.deepEqual([f.inWidget, f.role, f.name], [true, "region", "Privacy choices"]);
  await page.evaluate(() => window.fixture.element().close());
  assert.equal(await page.evaluate(() => document.querySelector("souk-consent")), null, "removed");
  assert.equal(await page.evaluate(() => document.activeElement.id), "privacy", "focus is back where it was");

  // The shopper reopens their choice from the page: straight to the choices.
  await page.click("#privacy");
  assert.deepEqual(await focusedInfo(page).then((x) => [x.role, x.name]), ["switch", "Functional"]);
  await dialog(page, "en").getByRole("button", { name: "Reject all" }).click();
  await page.evaluate(() => window.fixture.element().close());
  assert.equal(await page.evaluate(() => document.querySelector("souk-consent")), null);
  assert.equal(await page.evaluate(() => document.activeElement.id), "privacy");

  // Reopened over an automatic banner (the client reuses the element): Escape returns
  // to the first layer with focus on choose; close() then gives focus back.
  await page.evaluate(() => window.fixture.show({ layer: "first", focus: false }));
  await page.click("#privacy");
  assert.equal(await page.evaluate(() => document.querySelectorAll("souk-consent").length), 1);
  await page.evaluate(() => {
    window.privacyFocused = 0;
    document.getElementById("privacy").addEventListener("focus", () => window.privacyFocused++);
  });
  await page.keyboard.press("Escape");
  await focusMovesTo(page, "button", "Choose");
  assert.equal(await page.evaluate(() => window.privacyFocused), 0, "no stop on the page's button on the way back");
  await page.evaluate(() => window.fixture.element().close());
  assert.equal(await page.evaluate(() => document.activeElement.id), "privacy");
  await close();
  assertClean(log);
});

test("showing the banner shifts nothing on the page", async () => {
  for (const lang of ["en", "ar"]) {
    const { page, log, close } = await open(lang);
    const boxes = () =>
      page.evaluate(() => [
        scrollX, scrollY, document.documentElement.scrollWidth, document.documentElement.scrollHeight,
        ...[...document.body.querySelectorAll("*")].filter((el) => el.tagName !== "SOUK-CONSENT")
          .map((el) => { const r = el.getBoundingClientRect(); return `${el.tagName} ${r.x},${r.y},${r.width},${r.height}`; }),
      ]);
    const before = await boxes();
    await page.evaluate(() => window.fixture.show({ layer: "first", focus: false }, window.fixture.views[window.fixture.lang + "Gpc"]));
    await settled(page);
    assert.deepEqual(await boxes(), before, `no layout shift in ${lang}`);
    await close();
    assertClean(log);
  }
});

test("the GPC note appears only when the browser sent GPC", async () => {
  for (const lang of ["en", "ar"]) {
    const note = WORDS[lang].text.gpcHonoured;
    const { page, log, close } = await open(lang);
    await page.evaluate(() => window.fixture.show({ layer: "first" }));
    assert.equal(await page.getByText(note).count(), 0);
    await page.evaluate(() => window.fixture.show({ layer: "first" }, window.fixture.views[window.fixture.lang + "Gpc"]));
    assert.equal(await region(page, lang).getByText(note).isVisible(), true, "the note is on the first layer");
    await region(page, lang).getByRole("button", { name: WORDS[lang].text.choose }).click();
    const marketing = await page.evaluate(() => {
      const root = window.fixture.element().shadowRoot;
      const input = root.querySelectorAll("[role=switch]")[4];
      return input.getAttribute("aria-describedby").split(" ").map((id) => root.getElementById(id).textContent);
    });
    assert.ok(marketing.includes(note), "and describes the marketing switch");
    await close();
    assertClean(log);
  }
});

test("the shop's own text replaces the view's", async () => {
  const { page, log, close } = await open("en");
  await page.evaluate(() =>
    window.fixture.show({
      layer: "first",
      text: {
        title: "Cookies at Dar Noor",
        acceptAll: "Allow all",
        body: 42, // not text: ignored
        categories: { analytics: { label: "Statistics", description: "Counts visits, nothing more." }, marketing: null },
      },
    }),
  );
  const banner = page.getByRole("region", { name: "Privacy choices", exact: true });
  assert.equal(await banner.getByRole("heading", { name: "Cookies at Dar Noor" }).isVisible(), true);
  assert.deepEqual(await banner.getByRole("button").allTextContents(), ["Allow all", "Reject all", "Choose"]);
  assert.match(await banner.textContent(), /This shop keeps your cart/);
  await banner.getByRole("button", { name: "Choose" }).click();
  const dlg = dialog(page, "en");
  assert.equal(await dlg.getByRole("switch", { name: "Statistics", exact: true }).count(), 1);
  assert.equal(await dlg.getByRole("switch", { name: "Marketing", exact: true }).count(), 1);
  assert.equal(await dlg.getByText("Counts visits, nothing more.").isVisible(), true);
  assert.equal(await dlg.getByRole("button", { name: "Allow all", exact: true }).count(), 1);
  await close();
  assertClean(log);
});

test("bad input never throws into the page", async () => {
  const { page, log, close } = await open("en");
  const outcome = await page.evaluate(async () => {
    const el = document.createElement("souk-consent");
    document.body.prepend(el);
    const calls = [
      () => el.show(),
      () => el.show(null, null),
      () => el.show(42, "x"),
      () => el.show({ text: { title: "Only a title" } }),
      () => el.show({ lang: "en", text: window.fixture.views.en.text, categories: "nope" }, { layer: "bogus", text: 7 }),
    ];
    const thrown = [];
    for (const call of calls) {
      try {
        call();
      } catch (err) {
        thrown.push(String(err));
      }
    }
    const shown = !!el.shadowRoot?.querySelector("[role=region]");
    const events = [];
    el.addEventListener("souk-consent-action", (e) => events.push(e.detail));
    el.shadowRoot.querySelector("[role=region] button:nth-child(3)").click();
    el.shadowRoot.querySelector("dialog button").click();
    el.close();
    el.close();
    // A second copy of the module must not redefine the element.
    const again = await import("/dist/souk_consent.js?copy=2");
    return { thrown, shown, events, dialogOpen: el.shadowRoot.querySelector("dialog").open, same: customElements.get("souk-consent") !== undefined, again: typeof again.SoukConsent };
  });
  assert.deepEqual(outcome.thrown, []);
  assert.equal(outcome.shown, true, "a view with text but no categories still shows");
  assert.deepEqual(outcome.events, [{ action: "save", choices: { functional: false, analytics: false, personalization: false, marketing: false } }]);
  assert.equal(outcome.dialogOpen, false);
  assert.equal(outcome.again, "function");
  assert.ok(log.warnings.filter((w) => w.startsWith("souk:")).length >= 4, "each refusal is a souk: warning");
  await close();
  assertClean(log);
});

test("works at 320 px wide, with 44 px touch targets and no horizontal scroll", async () => {
  for (const lang of ["en", "ar"]) {
    const { page, log, close } = await open(lang, { viewport: { width: 320, height: 640 } });
    await page.evaluate(() => window.fixture.show({ layer: "first" }, window.fixture.views[window.fixture.lang + "Gpc"]));
    await settled(page);
    const measure = () =>
      page.evaluate(() => {
        const root = window.fixture.element().shadowRoot;
        const layer = root.querySelector("dialog[open]") || root.querySelector("[role=region]");
        const r = layer.getBoundingClientRect();
        const targets = [...layer.querySelectorAll("button, label")].map((el) => el.getBoundingClientRect());
        return {
          inside: r.left >= 0 && r.right <= innerWidth,
          scroll: document.documentElement.scrollWidth,
          smallest: Math.min(...targets.map((t) => Math.min(t.height, t.width))),
        };
      });
    const first = await measure();
    assert.deepEqual([first.inside, first.scroll], [true, 320]);
    assert.ok(first.smallest >= 44, `smallest target ${first.smallest}px`);
    await page.screenshot({ path: join(SHOTS, `consent-first-${lang}-320.png`) });
    await region(page, lang).getByRole("button", { name: WORDS[lang].text.choose }).click();
    await settled(page);
    const second = await measure();
    assert.deepEqual([second.inside, second.scroll], [true, 320]);
    assert.ok(second.smallest >= 44, `smallest target ${second.smallest}px`);
    await page.screenshot({ path: join(SHOTS, `consent-choices-${lang}-320.png`) });
    await close();
    assertClean(log);
  }
});

test("respects prefers-reduced-motion", async () => {
  const { page, log, close } = await open("en", { reducedMotion: "reduce" });
  await page.evaluate(() => window.fixture.show({ layer: "first" }));
  const names = await page.evaluate(() => getComputedStyle(window.fixture.element().shadowRoot.querySelector("[role=region]")).animationName);
  assert.equal(names, "none");
  await close();
  assertClean(log);
});

test("the chunk stays small", () => {
  const gzip = gzipSync(readFileSync(CHUNK), { level: 9 }).length;
  console.log(`dist/souk_consent.js: ${gzip} B gzip`);
  assert.ok(gzip <= 6 * 1024, `${gzip} B gzip, budget 6 KB (the hard limit is 12 KB)`);
});
