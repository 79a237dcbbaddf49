// End-to-end: the <souk-loyalty> widget on its own, in a Dar Noor page's header
// (tests/e2e/fixtures/loyalty.html, with the demo shop's stylesheet) served by a real
// souk-server, in Debian's Chromium, in English and Arabic. The views are written by
// hand in the shapes of souk-server's GET /v1/loyalty and POST /v1/loyalty/redeem
// answers (server/src/loyalty.rs), and one test renders the real server's answers.
// Any console error or uncaught page error fails a test; axe-core checks each state
// in both languages; screenshots go to tests/e2e/screenshots/ for a person to look at.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { test } from "node:test";
import { ROOT, SERVER_KEY, assertClean, axeViolations, openPage, serverAndBrowser, until } from "./harness.mjs";

const SECRET = "loyalty-widget-test-identity-secret";
const env = serverAndBrowser({ args: ["--identity-secret", SECRET] });
const SHOTS = join(ROOT, "tests/e2e/screenshots");
const FIXTURES = join(ROOT, "tests/e2e/fixtures");
const CHUNK = join(ROOT, "dist/souk_loyalty.js");
mkdirSync(SHOTS, { recursive: true });

const DESKTOP = { width: 1280, height: 900 };
const NARROW = { width: 320, height: 640 };

const tier = (id, en, ar, threshold, multiplierPermille) => ({ id, name: { en, ar }, threshold, multiplierPermille });
const BRONZE = tier("bronze", "Bronze", "برونزي", 0, 1000);
const SILVER = tier("silver", "Silver", "فضي", 50000, 1250);
const reward = (id, en, ar, cost, affordable, kind) => ({ id, name: { en, ar }, cost, ...kind, affordable });
/** A GET /v1/loyalty answer, as server/src/loyalty.rs writes it. */
const account = () => ({
  userId: "u-1001",
  balance: 1240,
  tier: BRONZE,
  spend: 38000,
  next: { tier: SILVER, needed: 12000 },
  grace: null,
  expiry: { points: 1240, at: "2027-11-02T09:30:00.000Z", due: false },
  rewards: [
    reward("five-off", "5.00 off", "خصم 5.00", 500, true, { type: "fixed_discount", amount: 500 }),
    reward("ten-percent", "10% off", "خصم 10٪", 800, true, { type: "percent_discount", percent: 10, cap: 5000 }),
    reward("free-shipping", "Free shipping", "شحن مجاني", 300, true, { type: "free_shipping" }),
    reward("tote", "Linen tote bag", "حقيبة كتان", 1500, false, { type: "fixed_discount", amount: 4500 }),
  ],
  history: [
    { kind: "order", points: 380, at: "2026-11-02T09:30:00.000Z", orderId: "DN-1042", qualifying: 38000 },
    { kind: "adjustment", points: 760, at: "2026-10-20T12:00:00.000Z", reason: "Welcome back gift" },
    { kind: "bonus", points: 100, at: "2026-10-01T08:00:00.000Z", action: "signup" },
  ],
  coupons: [],
});
const RULES = { earn: { points: 1, per: 100 }, bonuses: { signup: 100, birthday: 200, review: 20, referral: 300 } };
const ready = (lang, extra = {}) => ({ lang, state: "ready", currency: "AED", account: account(), rules: RULES, ...extra });
const anonymous = (lang) => ({ lang, state: "anonymous", rules: RULES, loginUrl: "/account/login", joinUrl: "/account/join" });

const W = {
  en: {
    rewards: "Rewards", points: "1,240 points", title: "Your rewards", more: "AED 120.00 more to Silver", redeem: "Redeem",
    anon: "Log in to see your points", join: "Join now", login: "Log in", retry: "Try again", copy: "Copy", copied: "Copied",
    busy: "Redeeming…", need: "260 points to go", close: "Close",
  },
  ar: {
    rewards: "المكافآت", points: "1,240 نقطة", title: "مكافآتك", more: "باقٍ 120.00 د.إ. للوصول إلى فضي", redeem: "استبدال",
    anon: "سجّل الدخول لرؤية نقاطك", join: "انضم الآن", login: "تسجيل الدخول", retry: "إعادة المحاولة", copy: "نسخ", copied: "تم النسخ",
    busy: "جارٍ الاستبدال…", need: "تحتاج 260 نقطة إضافية", close: "إغلاق",
  },
};
/** Intl's spaces and bidi marks, made plain for comparing. */
const plain = (text) => String(text).replace(/[\u00a0\u202f]/g, " ").replace(/[\u200e\u200f\u061c\u2066\u2069]/g, "");

async function open(lang = "en", options = {}) {
  const opened = await openPage(env.browser, { viewport: DESKTOP, timezoneId: "Asia/Dubai", reducedMotion: "reduce", ...options });
  const { page } = opened;
  await page.route("**/fixture/loyalty.*", (route) => {
    const name = new URL(route.request().url()).pathname.split("/").pop();
    const type = name.endsWith(".js") ? "text/javascript" : "text/html; charset=utf-8";
    route.fulfill({ contentType: type, body: readFileSync(join(FIXTURES, name), "utf8") });
  });
  page.on("dialog", (dialog) => {
    opened.log.pageErrors.push("a dialog opened: " + dialog.message());
    dialog.dismiss();
  });
  await page.goto(`${env.server.url}/fixture/loyalty.html?lang=${lang}`);
  await until(page, () => window.fixtureReady === true);
  return opened;
}

const render = (page, view) => page.evaluate((view) => window.fixture.element().render(view), view);
const widget = (page) => page.locator("souk-loyalty");
const launcher = (page) => widget(page).locator("button.l");
const panel = (page) => widget(page).getByRole("dialog");
const events = (page) => page.evaluate(() => window.events);
const live = (page) => page.evaluate(() => window.fixture.root().querySelector("[role=status]").textContent);
/** What has focus, inside the widget's shadow root: its text, and whether it shows a ring. */
const focus = (page) =>
  page.evaluate(() => {
    const el = document.activeElement === window.fixture.element() ? window.fixture.root().activeElement : document.activeElement;
    const s = el && getComputedStyle(el);
    return el && { tag: el.tagName, text: el.textContent, ring: el.matches(":focus-visible") && s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2 };
  });

async function openPanel(page) {
  await launcher(page).click();
  await until(page, () => window.fixture.root().querySelector("dialog").open);
}

for (const lang of ["en", "ar"]) {
  const w = W[lang];
  const dir = lang === "ar" ? "rtl" : "ltr";

  test(`${lang}: before any view the launcher says "${w.rewards}"; the first open asks for the data and shows a skeleton`, async () => {
    const { page, log, close } = await open(lang);
    assert.equal(await page.getByRole("button", { name: w.rewards, exact: true }).count(), 1);
    assert.equal(await launcher(page).getAttribute("aria-expanded"), "false");
    assert.equal(await launcher(page).getAttribute("dir"), dir);
    await openPanel(page);
    assert.equal(await launcher(page).getAttribute("aria-expanded"), "true");
    assert.equal(await panel(page).getAttribute("aria-labelledby"), "t");
    assert.equal(await widget(page).locator("[aria-busy=true]").count(), 1, "the skeleton is busy");
    assert.deepEqual(await events(page), [{ type: "souk-loyalty-open", detail: {}, bubbles: true, composed: true }]);
    assert.deepEqual(await axeViolations(page), [], "loading");
    await page.keyboard.press("Escape");
    await openPanel(page);
    await render(page, { lang, state: "loading" });
    assert.equal(await widget(page).locator("[aria-busy=true]").count(), 1, "the loading state is the skeleton too");
    assert.equal((await events(page)).length, 1, "only the first open asks");
    await close();
    assertClean(log);
  });

  test(`${lang}: an anonymous shopper is invited to join or log in`, async () => {
    const { page, log, close } = await open(lang);
    await render(page, anonymous(lang));
    await openPanel(page);
    const dialog = panel(page);
    assert.equal(await dialog.getByRole("heading", { name: w.anon }).count(), 1);
    const hrefs = await page.evaluate(() => [...window.fixture.root().querySelectorAll("a")].map((a) => [a.textContent, new URL(a.href).pathname]));
    assert.deepEqual(hrefs, [[w.join, "/account/join"], [w.login, "/account/login"]]);
    assert.equal(await dialog.getByRole("listitem").count(), 5, "how to earn: the rate and four bonuses");
    assert.deepEqual(await axeViolations(page), [], "anonymous");
    await page.screenshot({ path: join(SHOTS, `loyalty-anonymous-${lang}.png`) });
    // A javascript: link is left out.
    await render(page, { ...anonymous(lang), joinUrl: "javascript:alert(1)" });
    assert.equal(await dialog.getByRole("link").count(), 1);
    await close();
    assertClean(log);
  });

  test(`${lang}: ready: balance, tier progress, notes, how to earn, history, and rewards affordable or not`, async () => {
    const { page, log, close } = await open(lang);
    await render(page, ready(lang));
    const button = page.getByRole("button", { name: lang === "ar" ? /نقطة$/ : /points$/ });
    assert.equal(plain(await button.textContent()), "★" + w.points);
    await page.screenshot({ path: join(SHOTS, `loyalty-launcher-${lang}.png`), clip: { x: 0, y: 0, width: 1280, height: 120 } });
    await openPanel(page);
    const dialog = panel(page);
    assert.equal(await dialog.getAttribute("dir"), dir);
    assert.equal(await dialog.getAttribute("lang"), lang);
    assert.equal(await dialog.getByRole("heading", { level: 2, name: w.title }).count(), 1);
    assert.equal(plain(await dialog.locator(".bal b").textContent()), "1,240");
    assert.equal(await dialog.locator(".chip").textContent(), lang === "en" ? "Bronze tier" : "فئة برونزي");
    const bar = dialog.getByRole("progressbar");
    const values = await bar.evaluate((el) => ["valuemin", "valuemax", "valuenow", "valuetext"].map((a) => el.getAttribute("aria-" + a)));
    assert.deepEqual(values.map(plain), ["0", "50000", "38000", w.more]);
    assert.equal(plain(await dialog.locator(".pt").textContent()), w.more, "the bar's text equivalent is on screen");
    const width = await bar.evaluate((el) => el.firstChild.getBoundingClientRect().width / el.getBoundingClientRect().width);
    assert.ok(Math.abs(width - 0.76) < 0.02, `the bar is 76% full (${width})`);
    const notes = (await dialog.locator(".n").allTextContents()).map(plain);
    assert.equal(notes.length, 1, "the expiry note (no grace)");
    assert.match(notes[0], lang === "en" ? /^1,240 points expire on Nov 2, 2027/ : /^تنتهي صلاحية 1,240 نقطة في/);
    // Rewards: three affordable with Redeem, one showing the points it lacks.
    const redeem = dialog.getByRole("button", { name: new RegExp("^" + w.redeem) });
    assert.equal(await redeem.count(), 3);
    const names = await dialog.locator(".rw .nm").allTextContents();
    assert.equal(names.length, 4);
    assert.equal(plain(await dialog.locator(".rw.no .mu").textContent()), w.need);
    // History: newest first, date, reason and signed points.
    const rows = (await dialog.locator(".hi li").allTextContents()).map(plain);
    assert.equal(rows.length, 3);
    if (lang === "en") {
      assert.deepEqual(rows, ["Nov 2, 2026Order DN-1042+380 points", "Oct 20, 2026Welcome back gift+760 points", "Oct 1, 2026Bonus: Creating an account+100 points"]);
      const earn = (await dialog.locator(".ea li").allTextContents()).map(plain);
      assert.deepEqual(earn, ["1 point for every AED 1.00 you spend", "Creating an account+100 points", "Your birthday+200 points", "Writing a review+20 points", "Referring a friend+300 points"]);
    } else {
      assert.match(rows[0], /الطلب DN-1042\+380 نقطة$/);
    }
    assert.deepEqual(await axeViolations(page), [], "ready");
    await page.screenshot({ path: join(SHOTS, `loyalty-panel-${lang}.png`) });
    await close();
    assertClean(log);
  });

  test(`${lang}: redeem: the event, a busy button, then the code to copy, announced, and the new balance`, async () => {
    const { page, log, close } = await open(lang, { permissions: ["clipboard-read", "clipboard-write"] });
    await render(page, ready(lang));
    await openPanel(page);
    const dialog = panel(page);
    const first = dialog.getByRole("button", { name: new RegExp("^" + w.redeem) }).first();
    await first.focus();
    await page.keyboard.press("Enter");
    assert.deepEqual((await events(page)).at(-1), { type: "souk-loyalty-redeem", detail: { reward: "five-off" }, bubbles: true, composed: true });
    const busy = dialog.locator("[aria-disabled=true]");
    assert.equal(await busy.textContent(), w.busy);
    assert.equal((await focus(page)).text, w.busy, "focus stays on the busy button");
    await busy.click({ force: true });
    await page.keyboard.press("Enter");
    assert.equal((await events(page)).filter((e) => e.type === "souk-loyalty-redeem").length, 1, "a busy button asks once");
    // The runtime's answer: POST /v1/loyalty/redeem's body, as is.
    await page.evaluate(() => window.fixture.element().redeemed({
      code: "K7QM-2XPD", reward: { id: "five-off", name: { en: "5.00 off", ar: "خصم 5.00" }, cost: 500, type: "fixed_discount", amount: 500 },
      entry: { kind: "redemption", points: -500, at: "2026-11-25T10:00:00.000Z", reward: "five-off" }, balance: 740,
    }));
    assert.equal(await dialog.locator("code").textContent(), "K7QM-2XPD");
    assert.equal((await focus(page)).text, w.copy, "focus moves to Copy");
    assert.equal(await dialog.locator(".n").count(), 0, "the expiry note, stale after a redemption, waits for the next fetch");
    await until(page, () => window.fixture.root().querySelector("[role=status]").textContent.includes("K7QM-2XPD"));
    assert.match(plain(await live(page)), lang === "en" ? /^Your code for 5\.00 off is K7QM-2XPD\. New balance: 740 points\.$/ : /K7QM-2XPD.*740 نقطة/);
    assert.match(plain(await launcher(page).textContent()), /740/, "the launcher shows the new balance");
    assert.match(plain(await dialog.locator(".hi li").first().textContent()), lang === "en" ? /Redeemed: 5\.00 off-500 points$/ : /استبدال: خصم 5\.00/);
    assert.equal(await dialog.getByRole("button", { name: new RegExp("^" + w.redeem) }).count(), 2, "800 points no longer affordable");
    await page.keyboard.press("Enter");
    await until(page, () => window.fixture.root().querySelector("[role=status]").textContent.includes("copied") || window.fixture.root().querySelector("[role=status]").textContent.includes("نسخ"));
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), "K7QM-2XPD");
    assert.equal(await dialog.locator("li.cd button").textContent(), w.copied);
    assert.deepEqual(await axeViolations(page), [], "code shown");
    await page.screenshot({ path: join(SHOTS, `loyalty-code-${lang}.png`) });
    // A repaint of the same account keeps the fresh code in view.
    const after = ready(lang);
    after.account.balance = 740;
    after.account.coupons = [{ code: "K7QM-2XPD", reward: "five-off", state: "issued", issuedAt: "2026-11-25T10:00:00.000Z", consumedAt: null, orderId: null }];
    await render(page, after);
    assert.equal(await dialog.locator("li.cd.new code").textContent(), "K7QM-2XPD");
    await close();
    assertClean(log);
  });

  test(`${lang}: a failed redemption is shown next to its reward and announced`, async () => {
    const { page, log, close } = await open(lang);
    await render(page, ready(lang));
    await openPanel(page);
    const dialog = panel(page);
    await dialog.getByRole("button", { name: new RegExp("^" + w.redeem) }).nth(1).click();
    await page.evaluate(() => window.fixture.element().failed("Your balance is too low for this reward."));
    const error = dialog.locator(".rw .e");
    assert.equal(await error.count(), 1);
    assert.equal(await error.textContent(), "Your balance is too low for this reward.");
    const row = await error.evaluate((el) => el.closest("li").querySelector(".nm").textContent);
    assert.equal(row, lang === "en" ? "10% off" : "خصم 10٪", "next to the reward that failed");
    const button = dialog.locator(".rw button[aria-describedby]");
    assert.equal(await button.getAttribute("aria-describedby"), await error.getAttribute("id"));
    assert.equal(await button.getAttribute("aria-disabled"), null, "no longer busy");
    await until(page, () => window.fixture.root().querySelector("[role=status]").textContent.length > 0);
    assert.equal(await live(page), "Your balance is too low for this reward.");
    assert.deepEqual(await axeViolations(page), [], "failed");
    // Without a message, the widget's own words.
    await button.click();
    await page.evaluate(() => window.fixture.element().failed());
    assert.equal(await error.textContent(), lang === "en" ? "This reward couldn't be redeemed. Please try again." : "تعذّر استبدال هذه المكافأة. يُرجى المحاولة مرة أخرى.");
    await close();
    assertClean(log);
  });

  test(`${lang}: an error says so politely and "Try again" hands back a retry`, async () => {
    const { page, log, close } = await open(lang);
    await openPanel(page);
    await render(page, { lang, state: "error", message: lang === "en" ? "Check your connection." : "تحقق من اتصالك." });
    const retry = panel(page).getByRole("button", { name: w.retry });
    assert.equal(await retry.count(), 1);
    await until(page, () => window.fixture.root().querySelector("[role=status]").textContent.length > 0);
    assert.match(await live(page), lang === "en" ? /couldn't load your points.*Check your connection\./ : /تعذّر تحميل نقاطك/);
    assert.deepEqual(await axeViolations(page), [], "error");
    await retry.click();
    assert.deepEqual((await events(page)).at(-1), { type: "souk-loyalty-retry", detail: {}, bubbles: true, composed: true });
    await close();
    assertClean(log);
  });

  test(`${lang}: keyboard only: Tab to the launcher, Enter opens, focus is visible, Escape closes and focus returns`, async () => {
    const { page, log, close } = await open(lang);
    await render(page, ready(lang));
    await page.focus(".brand");
    await page.keyboard.press("Tab");
    assert.deepEqual(await focus(page), { tag: "BUTTON", text: "★" + (lang === "en" ? "1,240 points" : "1,240 نقطة"), ring: true });
    await page.keyboard.press("Enter");
    await until(page, () => window.fixture.root().querySelector("dialog").open);
    assert.equal((await focus(page)).tag, "H2", "the panel's heading takes focus");
    await page.keyboard.press("Tab");
    assert.deepEqual(await focus(page), { tag: "BUTTON", text: "×", ring: true });
    await page.keyboard.press("Tab");
    const next = await focus(page);
    assert.equal(next.text, w.redeem);
    assert.equal(next.ring, true);
    await page.screenshot({ path: join(SHOTS, `loyalty-focus-${lang}.png`) });
    await page.keyboard.press("Escape");
    assert.equal(await page.evaluate(() => window.fixture.root().querySelector("dialog").open), false);
    assert.equal((await focus(page)).tag, "BUTTON");
    assert.equal(await launcher(page).getAttribute("aria-expanded"), "false");
    assert.match((await focus(page)).text, /1,240/, "focus is back on the launcher");
    // The close button, and a click on the backdrop, close it too.
    await openPanel(page);
    await panel(page).getByRole("button", { name: w.close }).click();
    assert.equal(await page.evaluate(() => window.fixture.root().querySelector("dialog").open), false);
    await openPanel(page);
    await page.mouse.click(lang === "ar" ? 1200 : 40, 800);
    assert.equal(await page.evaluate(() => window.fixture.root().querySelector("dialog").open), false);
    await close();
    assertClean(log);
  });

  test(`${lang}: a 320 px phone: the panel fits the screen and scrolls within`, async () => {
    const { page, log, close } = await open(lang, { viewport: NARROW, permissions: ["clipboard-read", "clipboard-write"] });
    await render(page, ready(lang));
    await openPanel(page);
    const box = await panel(page).boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 320 && box.y >= 0 && box.y + box.height <= 640, JSON.stringify(box));
    assert.ok(box.width >= 300, "nearly the whole width");
    const sideways = await page.evaluate(() => {
      const sc = window.fixture.root().querySelector(".sc");
      return { scrolls: sc.scrollHeight > sc.clientHeight, sideways: sc.scrollWidth > sc.clientWidth };
    });
    assert.deepEqual(sideways, { scrolls: true, sideways: false });
    assert.deepEqual(await axeViolations(page), [], "phone");
    await page.screenshot({ path: join(SHOTS, `loyalty-phone-${lang}.png`) });
    await close();
    assertClean(log);
  });
}

test("Arabic-Indic digits when the shop picks them; English keeps Latin digits", async () => {
  const { page, log, close } = await open("ar");
  await render(page, ready("ar", { digits: "arab" }));
  assert.equal(plain(await launcher(page).textContent()), "★١٬٢٤٠ نقطة");
  await openPanel(page);
  const text = await panel(page).getByRole("progressbar").getAttribute("aria-valuetext");
  assert.equal(plain(text), "باقٍ ١٢٠٫٠٠ د.إ. للوصول إلى فضي");
  assert.match(plain(await panel(page).locator(".hi li").first().textContent()), /^٢ نوفمبر ٢٠٢٦/);
  assert.deepEqual(await axeViolations(page), []);
  await page.screenshot({ path: join(SHOTS, "loyalty-panel-ar-arab-digits.png") });
  await render(page, ready("ar", { digits: "latn" }));
  assert.equal(plain(await launcher(page).textContent()), "★1,240 نقطة");
  await page.evaluate(() => window.fixture.element().setAttribute("digits", "arab"));
  await render(page, ready("ar"));
  assert.equal(plain(await launcher(page).textContent()), "★١٬٢٤٠ نقطة", "the attribute works too");
  await close();
  assertClean(log);
  const en = await open("en");
  await render(en.page, ready("en", { digits: "arab" }));
  assert.equal(plain(await launcher(en.page).textContent()), "★1,240 points");
  await en.close();
  assertClean(en.log);
});

test("grace and lapsed points are explained; the top tier has no bar", async () => {
  const { page, log, close } = await open("en");
  const view = ready("en");
  Object.assign(view.account, {
    tier: SILVER, spend: 42000, next: null,
    grace: { qualified: BRONZE, until: "2027-01-15T00:00:00.000Z", needed: 8000 },
    expiry: { points: 90, at: "2026-11-01T00:00:00.000Z", due: true },
  });
  await render(page, view);
  await openPanel(page);
  const notes = (await panel(page).locator(".n").allTextContents()).map(plain);
  assert.deepEqual(notes, ["You keep Silver until Jan 15, 2027. Spend AED 80.00 more by then to stay there.", "90 points expired on Nov 1, 2026."]);
  assert.equal(await panel(page).getByRole("progressbar").count(), 0);
  assert.equal(await panel(page).getByText("You're in our top tier.").count(), 1);
  assert.equal(plain(await panel(page).locator(".ea li").nth(1).textContent()), "Silver members earn ×1.25");
  await close();
  assertClean(log);
});

test("markup in a reward name or a history reason stays text", async () => {
  const { page, log, close } = await open("en");
  const payload = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>';
  const view = ready("en");
  view.account.rewards[0].name.en = payload;
  view.account.history[1].reason = payload;
  view.account.coupons = [{ code: payload, reward: "five-off", state: "issued", issuedAt: "2026-11-25T10:00:00.000Z" }];
  await render(page, view);
  await openPanel(page);
  await page.waitForTimeout(200);
  const inside = await page.evaluate(() => {
    const root = window.fixture.root();
    return { imgs: root.querySelectorAll("img").length, scripts: root.querySelectorAll("script").length, pwned: window.pwned ?? 0 };
  });
  assert.deepEqual(inside, { imgs: 0, scripts: 0, pwned: 0 });
  assert.equal(await panel(page).locator(".rw .nm").first().textContent(), payload);
  assert.equal(await panel(page).getByText("Welcome back").count(), 0);
  assert.ok((await panel(page).locator(".hi li").nth(1).textContent()).includes(payload));
  await close();
  assertClean(log);
});

test("bad input never throws into the page", async () => {
  const { page, log, close } = await open("en");
  const thrown = await page.evaluate(() => {
    const el = window.fixture.element();
    const out = [];
    const views = [undefined, null, 7, "x", { state: "ready" }, { state: "ready", account: { balance: "lots", rewards: [null, 3, { id: 5 }], history: "no", tier: 4 } }, { state: "nope", lang: "fr" }];
    for (const view of views) {
      try { el.render(view); el.open(); el.redeemed(null); el.failed(); el.close(); } catch (err) { out.push(String(err)); }
    }
    return out;
  });
  assert.deepEqual(thrown, []);
  assert.ok(log.warnings.some((text) => text.startsWith("souk: the loyalty widget")), "refusals are souk: warnings");
  await close();
  assertClean(log);
});

test("the real souk-server's answers paint as they are: GET /v1/loyalty, then POST /v1/loyalty/redeem", async () => {
  const userId = "loyalty-widget-shopper";
  const userHash = createHmac("sha256", SECRET).update(userId, "utf8").digest("hex");
  const order = await fetch(env.server.url + "/v1/orders", {
    method: "POST", headers: { Authorization: `Bearer ${SERVER_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify({ orderId: "W-1", userId, subtotal: 123400, currency: "AED" }),
  });
  assert.equal(order.status, 201);
  const { page, log, close } = await open("en", { permissions: ["clipboard-read", "clipboard-write"] });
  // The page does what the runtime will: fetch with the shop's userId and userHash.
  await page.evaluate(async ([userId, userHash]) => {
    const el = window.fixture.element();
    document.addEventListener("souk-loyalty-open", async () => {
      const answer = await (await fetch(`/v1/loyalty?userId=${encodeURIComponent(userId)}&userHash=${userHash}`)).json();
      el.render({ lang: "en", state: "ready", currency: "AED", account: answer });
    });
    document.addEventListener("souk-loyalty-redeem", async (event) => {
      const response = await fetch("/v1/loyalty/redeem", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ userId, userHash, reward: event.detail.reward }) });
      const answer = await response.json();
      if (response.status === 201) el.redeemed(answer);
      else el.failed(answer.error);
    });
  }, [userId, userHash]);
  await openPanel(page);
  await until(page, () => Boolean(window.fixture.root().querySelector("[role=progressbar]")));
  assert.equal(plain(await launcher(page).textContent()), "★1,234 points");
  assert.equal(plain(await panel(page).locator(".hi li").first().textContent()).endsWith("Order W-1+1,234 points"), true);
  await panel(page).getByRole("button", { name: /^Redeem/ }).first().click();
  await until(page, () => Boolean(window.fixture.root().querySelector("code")));
  const code = await panel(page).locator("code").first().textContent();
  assert.match(code, /^[A-Z0-9]{4}(-[A-Z0-9]{4})+$/);
  const balance = (await env.server.merchant(`/v1/loyalty/customers/${userId}`)).body.balance;
  assert.match(plain(await launcher(page).textContent()), new RegExp(balance.toLocaleString("en")));
  assert.deepEqual(await axeViolations(page), []);
  await close();
  assertClean(log);
});

test("reduced motion stops the skeleton's shimmer and the panel's entrance", async () => {
  for (const reducedMotion of ["no-preference", "reduce"]) {
    const { page, log, close } = await open("en", { reducedMotion });
    await openPanel(page);
    const names = await page.evaluate(() => [getComputedStyle(window.fixture.root().querySelector(".bd i")).animationName, getComputedStyle(window.fixture.root().querySelector("dialog")).animationName]);
    assert.deepEqual(names, reducedMotion === "reduce" ? ["none", "none"] : ["sh", "in"]);
    await close();
    assertClean(log);
  }
});

test("the chunk stays small", () => {
  const gzip = gzipSync(readFileSync(CHUNK), { level: 9 }).length;
  console.log(`dist/souk_loyalty.js: ${gzip} B gzip`);
  assert.ok(gzip <= 10 * 1024, `${gzip} B gzip, budget 10 KB`);
});
