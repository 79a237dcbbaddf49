// End-to-end: the <souk-chat> widget on its own, on a Dar Noor product page
// (tests/e2e/fixtures/chat.html, with the demo shop's stylesheet) served by a real
// souk-server, in Debian's Chromium, in English and Arabic. The chunk is built here
// from src/js/widgets/chat.js with esbuild, the way scripts/build.mjs builds the other
// widgets, into a temporary folder. The views are written by hand in the shape the
// runtime hands the element (see the top of chat.js). Any console error or uncaught
// page error fails a test; axe-core checks each state in both languages; screenshots
// go to tests/e2e/screenshots/ for a person to look at.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { after, before, test } from "node:test";
import { build } from "esbuild";
import { ROOT, assertClean, axeViolations, cleanup, openPage, serverAndBrowser, until } from "./harness.mjs";

const env = serverAndBrowser();
const SHOTS = join(ROOT, "tests/e2e/screenshots");
const FIXTURES = join(ROOT, "tests/e2e/fixtures");
const OUT = mkdtempSync(join(tmpdir(), "souk-chat-widget-"));
const CHUNK = join(OUT, "souk_chat.js");
mkdirSync(SHOTS, { recursive: true });

before(async () => {
  await build({
    entryPoints: [join(ROOT, "src/js/widgets/chat.js")], outfile: CHUNK, bundle: true, format: "esm",
    minify: true, legalComments: "none", target: "es2020", logLevel: "warning",
  });
});
after(() => cleanup(OUT));

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 320, height: 640 };
const MIN = 60_000;
const OLD = Date.parse("2026-01-05T06:15:00Z"); // 10:15 in Dubai, the tests' time zone

const T = {
  en: {
    team: "Dar Noor", chat: "Chat with us", unread3: "Chat with us, 3 unread messages", online: "We typically reply in a few minutes",
    back: "We're away — back tomorrow at 9:00 AM", bot: "Automatic answer", human: "Talk to a person", typing: "Noor is typing…",
    sending: "Sending…", failed: "Not sent yet — will retry", sent: "Delivered", read: "Seen", files: "Attachments aren't supported.",
    email: "Leave your email and we'll reply", label: "Your message", send: "Send", close: "Close chat", rate: "How was this conversation?",
    star4: "4 stars", comment: "Anything to add? (optional)", submit: "Send rating", thanks: "Thanks for your feedback",
    again: "Start a new conversation", ended: "This conversation has ended.", retry: "Try again", old: "Jan 5, 10:15 AM",
    texts: [
      "Hi! Does the linen runner come in other lengths?",
      "Our table runners come in 140, 180 and 220 cm. Each product page lists the lengths in stock.",
      "Is the 220 cm one in stock in sand?",
      "Let me check the stockroom for you.",
      "Yes, we have three left in sand. Shall I hold one for you until tomorrow?",
      "Yes please!",
      "Can it be gift-wrapped?",
      "Thank you so much!",
    ],
  },
  ar: {
    team: "دار نور", chat: "تحدث معنا", unread3: "تحدث معنا، 3 رسائل غير مقروءة", online: "نرد عادةً خلال دقائق",
    back: "لسنا متاحين الآن — نعود غدًا الساعة 9:00 ص", bot: "رد تلقائي", human: "التحدث مع أحد موظفينا", typing: "جارٍ كتابة الرد…",
    sending: "جارٍ الإرسال…", failed: "لم تُرسَل بعد — سنعيد المحاولة", sent: "تم التسليم", read: "تمت القراءة", files: "لا يمكن إرسال المرفقات.",
    email: "اترك بريدك الإلكتروني وسنرد عليك", label: "رسالتك", send: "إرسال", close: "إغلاق المحادثة", rate: "ما تقييمك لهذه المحادثة؟",
    star4: "4 نجوم", comment: "هل تود إضافة شيء؟ (اختياري)", submit: "إرسال التقييم", thanks: "شكراً لملاحظاتك",
    again: "بدء محادثة جديدة", ended: "انتهت هذه المحادثة.", retry: "إعادة المحاولة", old: "5 يناير، 10:15 ص",
    texts: [
      "مرحباً، هل يتوفر مفرش الطاولة الكتان بأطوال أخرى؟",
      "تتوفر مفارش الطاولة بأطوال 140 و180 و220 سم، وتجد الأطوال المتوفرة في صفحة كل منتج.",
      "هل مقاس 220 سم متوفر باللون الرملي؟",
      "دعني أتحقق من المستودع.",
      "نعم، بقيت لدينا ثلاث قطع باللون الرملي. هل أحجز لك واحدة حتى الغد؟",
      "نعم، من فضلك!",
      "هل يمكن تغليفه كهدية؟",
      "شكراً جزيلاً!",
    ],
  },
};

/** A conversation as the runtime would hand it: every author and every status. */
function conversation(lang, extra = {}) {
  const now = Date.now();
  const t = T[lang].texts;
  const agent = lang === "en" ? "Noor" : "نور";
  return {
    lang, team: T[lang].team, open: true, state: "ready", unread: 0,
    messages: [
      { id: "m1", author: "shopper", text: t[0], at: new Date(OLD).toISOString(), status: "read" },
      { id: "m2", author: "bot", text: t[1], at: OLD + 2000, faqId: "runner-sizes" },
      { id: "m3", author: "shopper", text: t[2], at: now - 6 * MIN, status: "read" },
      { id: "m4", author: "agent", agentName: agent, text: t[3], at: now - 5 * MIN },
      { id: "m5", author: "agent", agentName: agent, text: t[4], at: now - 4 * MIN },
      { id: "m6", author: "shopper", text: t[5], at: now - 2 * MIN, status: "sent" },
      { id: "m7", author: "shopper", text: t[6], at: now - MIN, status: "failed" },
      { id: "m8", author: "shopper", text: t[7], at: now, status: "pending" },
    ],
    typing: true,
    ...extra,
  };
}

/** Intl's spaces and bidi marks, made plain for comparing. */
const plain = (text) => String(text).replace(/[\u00a0\u202f]/g, " ").replace(/[\u200e\u200f\u061c\u2066\u2069]/g, "");

async function open(lang = "en", options = {}) {
  const opened = await openPage(env.browser, { viewport: DESKTOP, timezoneId: "Asia/Dubai", reducedMotion: "reduce", ...options });
  const { page } = opened;
  await page.route("**/fixture/*", (route) => {
    const name = new URL(route.request().url()).pathname.split("/").pop();
    const file = name === "souk_chat.js" ? CHUNK : join(FIXTURES, name);
    const type = name.endsWith(".js") ? "text/javascript" : "text/html; charset=utf-8";
    route.fulfill({ contentType: type, body: readFileSync(file, "utf8") });
  });
  page.on("dialog", (dialog) => {
    opened.log.pageErrors.push("a dialog opened: " + dialog.message());
    dialog.dismiss();
  });
  await page.goto(`${env.server.url}/fixture/chat.html?lang=${lang}`);
  await until(page, () => window.fixtureReady === true && Boolean(window.fixture.root()));
  return opened;
}

const render = (page, view) => page.evaluate((view) => window.fixture.element().render(view), view);
const call = (page, method, ...args) => page.evaluate(([method, args]) => window.fixture.element()[method](...args), [method, args]);
const widget = (page) => page.locator("souk-chat");
const launcher = (page) => widget(page).locator("button.l");
const panel = (page) => widget(page).getByRole("dialog");
const composer = (page) => widget(page).locator("textarea#tx");
const events = (page) => page.evaluate(() => window.events.map(({ at, ...event }) => event));
const ofType = async (page, name) => (await events(page)).filter((e) => e.type === "souk-chat-" + name);
const isOpen = (page) => page.evaluate(() => !window.fixture.root().querySelector(".p").hidden);
const live = (page) => page.evaluate(() => window.fixture.root().querySelector("[role=status]").textContent);
/** What has focus, inside the widget's shadow root: its tag, class, name and whether it shows a ring. */
const focus = (page) =>
  page.evaluate(() => {
    const el = document.activeElement === window.fixture.element() ? window.fixture.root().activeElement : document.activeElement;
    const s = el && getComputedStyle(el);
    const ring = el && el.matches(":focus-visible") && s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
    return el && { tag: el.tagName, cls: el.className, name: el.getAttribute("aria-label") || (el.querySelector(".sr") || el).textContent, ring };
  });
/** The shadow root's text of the rendered messages, one [class, name, text, time, status] each. */
const messages = (page) =>
  page.evaluate(() => [...window.fixture.root().querySelectorAll(".m")].map((m) => {
    const [who, text, meta, button] = m.children;
    return { cls: m.className, who: who.textContent, shown: who.className === "nm", text: text.textContent, time: meta.firstChild.textContent, status: meta.lastChild.textContent, button: button ? button.textContent : null };
  }));

async function openPanel(page) {
  await launcher(page).click();
  await until(page, () => !window.fixture.root().querySelector(".p").hidden);
}

const EVENT = (name, detail = {}) => ({ type: "souk-chat-" + name, detail, bubbles: true, composed: true });

for (const lang of ["en", "ar"]) {
  const t = T[lang];
  const dir = lang === "ar" ? "rtl" : "ltr";

  test(`${lang}: the closed launcher floats in the bottom-${lang === "en" ? "right" : "left"} corner with the unread badge in its name`, async () => {
    const { page, log, close } = await open(lang);
    // Before any view: the launcher, named, no badge.
    assert.equal(await page.getByRole("button", { name: t.chat, exact: true }).count(), 1);
    await render(page, { ...conversation(lang), unread: 3, typing: false });
    const button = page.getByRole("button", { name: t.unread3, exact: true });
    assert.equal(await button.count(), 1, "the unread count is in the launcher's name");
    assert.equal(await launcher(page).getAttribute("aria-expanded"), "false");
    assert.equal(await widget(page).locator(".n").textContent(), "3");
    assert.equal(await widget(page).locator(".w").getAttribute("dir"), dir);
    const box = await launcher(page).boundingBox();
    assert.ok(box.y + box.height > DESKTOP.height - 40 && box.y + box.height < DESKTOP.height - 8, JSON.stringify(box));
    if (lang === "en") assert.ok(box.x + box.width > DESKTOP.width - 40 && box.x + box.width < DESKTOP.width - 8, JSON.stringify(box));
    else assert.ok(box.x < 40 && box.x > 8, JSON.stringify(box));
    assert.ok(box.width >= 44 && box.height >= 44, "a 44 px target");
    assert.equal(await isOpen(page), false);
    assert.deepEqual(await ofType(page, "read"), [], "nothing is read while the panel is closed");
    assert.deepEqual(await axeViolations(page), [], "launcher");
    await page.screenshot({ path: join(SHOTS, `chat-launcher-${lang}.png`), clip: { x: lang === "en" ? 980 : 0, y: 600, width: 300, height: 300 } });
    await close();
    assertClean(log);
  });

  test(`${lang}: the open panel: shopper on the ${lang === "en" ? "right" : "left"}, agent and bot on the other side, every status, typing`, async () => {
    const { page, log, close } = await open(lang);
    await render(page, { ...conversation(lang), unread: 2 });
    await openPanel(page);
    const dialog = panel(page);
    assert.equal(await dialog.getAttribute("aria-modal"), "false");
    assert.equal(await page.getByRole("dialog", { name: t.team }).count(), 1, "labelled by the team's name");
    assert.equal(await launcher(page).getAttribute("aria-expanded"), "true");
    assert.equal(plain(await dialog.locator(".on").textContent()), t.online);
    const log_ = dialog.getByRole("log");
    assert.equal(await log_.getAttribute("aria-live"), "polite");
    const list = await messages(page);
    assert.equal(list.length, 8);
    assert.deepEqual(list.map((m) => m.text), t.texts);
    assert.deepEqual(list.map((m) => m.cls), ["m s", "m b", "m s", "m a", "m a g", "m s", "m s g f", "m s g"]);
    assert.deepEqual(list.map((m) => m.status), [t.read, "", t.read, "", "", t.sent, t.failed, t.sending]);
    assert.equal(list[1].who, t.bot);
    assert.equal(list[1].shown, true, "the automatic answer is labelled on screen");
    assert.equal(list[1].button, t.human);
    assert.deepEqual([list[3].who, list[3].shown, list[4].shown], [lang === "en" ? "Noor" : "نور", true, false], "the agent's name once per run");
    assert.equal(list[0].shown, false, "the shopper's own name is for screen readers only");
    assert.equal(plain(list[0].time), t.old);
    assert.match(plain(list[7].time), /\d:\d\d/);
    // Sides: the shopper's bubbles at the end (right in English, left in Arabic).
    const sides = await page.evaluate(() => [...window.fixture.root().querySelectorAll(".m")].map((m) => {
      const box = m.getBoundingClientRect();
      const log = m.parentNode.getBoundingClientRect();
      return [Math.round(box.left - log.left), Math.round(log.right - box.right)];
    }));
    const [start, end] = lang === "en" ? [0, 1] : [1, 0];
    for (const [i, side] of sides.entries()) {
      const shopper = list[i].cls.includes(" s");
      assert.ok(side[shopper ? end : start] <= 17, `message ${i + 1} hugs its side: ${side}`);
      assert.ok(side[shopper ? start : end] > 17, `message ${i + 1} leaves the other side free: ${side}`);
    }
    assert.equal(await dialog.locator(".ty").isVisible(), true);
    assert.equal(plain(await dialog.locator(".ty").textContent()), t.typing);
    assert.equal(await dialog.getByText(t.files).count(), 1, "attachments: the widget says so");
    assert.equal(await dialog.getByRole("textbox", { name: t.label }).count(), 1);
    assert.equal(await dialog.getByRole("button", { name: t.send }).count(), 1);
    assert.deepEqual(await ofType(page, "read"), [EVENT("read")], "opening on unread messages reads them");
    await render(page, conversation(lang)); // the runtime, once it marked them read
    assert.equal(await widget(page).locator(".n").textContent(), "");
    assert.deepEqual(await axeViolations(page), [], "conversation");
    await page.screenshot({ path: join(SHOTS, `chat-widget-${lang}.png`) });
    await dialog.getByRole("button", { name: t.human }).click();
    assert.deepEqual((await events(page)).at(-1), EVENT("human", { faqId: "runner-sizes" }));
    await close();
    assertClean(log);
  });

  test(`${lang}: keyboard only: Tab to the launcher, Enter opens into the composer, Enter sends, Shift+Enter breaks the line, Escape closes and focus returns`, async () => {
    const { page, log, close } = await open(lang);
    await render(page, conversation(lang, { typing: false }));
    await page.focus("#last");
    await page.keyboard.press("Tab");
    assert.deepEqual(await focus(page), { tag: "BUTTON", cls: "l", name: t.chat, ring: true });
    await page.keyboard.press("Enter");
    assert.equal(await isOpen(page), true);
    assert.equal((await focus(page)).tag, "TEXTAREA", "focus is in the composer");
    await page.keyboard.type(lang === "en" ? "Hello" : "مرحباً");
    await page.keyboard.press("Shift+Enter");
    await page.keyboard.type(lang === "en" ? "  is it in stock?  " : "  هل هو متوفر؟  ");
    const typed = lang === "en" ? "Hello\n  is it in stock?  " : "مرحباً\n  هل هو متوفر؟  ";
    assert.equal(await composer(page).inputValue(), typed, "Shift+Enter is a new line");
    assert.equal((await ofType(page, "send")).length, 0);
    await page.keyboard.press("Enter");
    const sent = lang === "en" ? "Hello\n  is it in stock?" : "مرحباً\n  هل هو متوفر؟";
    assert.deepEqual(await ofType(page, "send"), [EVENT("send", { text: sent })], "trimmed, one send");
    assert.equal(await composer(page).inputValue(), typed, "the text stays until the runtime takes it");
    await page.keyboard.press("Enter");
    assert.equal((await ofType(page, "send")).length, 1, "nothing more until sent() or failed()");
    await call(page, "sent");
    assert.equal(await composer(page).inputValue(), "");
    assert.equal((await ofType(page, "typing")).length, 1, "typing, once");
    await page.keyboard.press("Enter");
    assert.equal((await ofType(page, "send")).length, 1, "an empty composer sends nothing");
    // Tab: the send button, then the launcher (now the way to close), then out.
    await page.keyboard.press("Tab");
    assert.deepEqual(await focus(page), { tag: "BUTTON", cls: "sd", name: t.send, ring: true });
    await page.keyboard.press("Tab");
    assert.equal((await focus(page)).cls, "l");
    await page.keyboard.press("Shift+Tab");
    assert.equal((await focus(page)).cls, "sd", "Shift+Tab goes back into the panel");
    await page.keyboard.press("Escape");
    assert.equal(await isOpen(page), false);
    assert.deepEqual(await focus(page), { tag: "BUTTON", cls: "l", name: t.chat, ring: true }, "focus is back on the launcher");
    assert.equal(await launcher(page).getAttribute("aria-expanded"), "false");
    // The close button closes too, and gives focus back the same way.
    await page.keyboard.press("Enter");
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Shift+Tab");
    assert.deepEqual(await focus(page), { tag: "BUTTON", cls: "x", name: t.close, ring: true });
    await page.keyboard.press("Enter");
    assert.equal(await isOpen(page), false);
    assert.equal((await focus(page)).cls, "l");
    const types = (await events(page)).map((e) => e.type.slice(10));
    assert.deepEqual(types.filter((type) => type === "open" || type === "close"), ["open", "close", "open", "close"]);
    await close();
    assertClean(log);
  });

  test(`${lang}: outside hours: "back" when, and an email field with the message`, async () => {
    const { page, log, close } = await open(lang);
    const backAt = await page.evaluate(() => {
      const d = new Date();
      d.setDate(d.getDate() + 1);
      d.setHours(9, 0, 0, 0);
      return d.toISOString();
    });
    await render(page, { lang, team: t.team, open: false, backAt, state: "idle", messages: [], unread: 0, askEmail: true });
    await openPanel(page);
    const dialog = panel(page);
    assert.equal(plain(await dialog.locator(".on").textContent()), t.back);
    assert.equal(await dialog.locator(".hi").isVisible(), true, "a greeting in an empty conversation");
    const email = dialog.getByRole("textbox", { name: t.email });
    assert.equal(await email.count(), 1);
    assert.equal(await email.getAttribute("type"), "email");
    assert.equal(await email.getAttribute("autocomplete"), "email");
    assert.deepEqual(await axeViolations(page), [], "away");
    await email.fill("layla@example");
    await composer(page).fill(lang === "en" ? "Do you ship to Muscat?" : "هل تشحنون إلى مسقط؟");
    await page.screenshot({ path: join(SHOTS, `chat-widget-away-${lang}.png`) });
    await email.fill("not an address");
    await composer(page).press("Enter");
    assert.equal((await ofType(page, "send")).length, 0, "a bad address holds the message");
    assert.equal(await email.getAttribute("aria-invalid"), "true");
    assert.equal((await focus(page)).tag, "INPUT");
    assert.equal(await dialog.locator(".e").isVisible(), true);
    assert.deepEqual(await axeViolations(page), [], "bad email");
    await email.fill("layla@example.com");
    await composer(page).press("Enter");
    const text = lang === "en" ? "Do you ship to Muscat?" : "هل تشحنون إلى مسقط؟";
    assert.deepEqual(await ofType(page, "send"), [EVENT("send", { text, email: "layla@example.com" })]);
    assert.equal(await dialog.locator(".e").isVisible(), false);
    await call(page, "sent");
    // Once the runtime stops asking, the field goes and the email is no longer sent.
    await render(page, { lang, team: t.team, open: false, backAt, state: "ready", unread: 0, messages: [{ id: "a", author: "shopper", text, at: Date.now(), status: "sent" }] });
    assert.equal(await email.count(), 0);
    await composer(page).fill("?");
    await composer(page).press("Enter");
    assert.deepEqual((await ofType(page, "send")).at(-1).detail, { text: "?" });
    await close();
    assertClean(log);
  });

  test(`${lang}: a closed conversation asks for 1–5 stars and a comment, thanks, and offers a new one`, async () => {
    const { page, log, close } = await open(lang);
    await render(page, conversation(lang, { typing: true, closed: true }));
    await openPanel(page);
    const dialog = panel(page);
    assert.equal(await composer(page).isVisible(), false, "no composer in a closed conversation");
    assert.equal(await dialog.locator(".ty").isVisible(), false, "nobody types in it");
    assert.equal(await dialog.getByText(t.ended).count(), 1);
    assert.equal((await focus(page)).tag, "INPUT", "focus goes to the rating");
    const group = dialog.getByRole("group", { name: t.rate });
    assert.equal(await group.getByRole("radio").count(), 5);
    const submit = dialog.getByRole("button", { name: t.submit });
    assert.equal(await submit.isDisabled(), true, "nothing to send before a star is picked");
    await page.keyboard.press(lang === "en" ? "ArrowRight" : "ArrowLeft");
    await page.keyboard.press(lang === "en" ? "ArrowRight" : "ArrowLeft");
    await page.keyboard.press(lang === "en" ? "ArrowRight" : "ArrowLeft");
    assert.equal(await group.getByRole("radio", { name: t.star4 }).isChecked(), true, "arrow keys move along the stars");
    assert.equal(await submit.isDisabled(), false);
    await dialog.getByRole("textbox", { name: t.comment }).fill(lang === "en" ? "  Quick and kind.  " : "  سريع ولطيف.  ");
    const color = await page.evaluate(() => [...window.fixture.root().querySelectorAll(".sa label")].map((l) => getComputedStyle(l).color));
    assert.equal(new Set(color.slice(0, 4)).size, 1);
    assert.notEqual(color[3], color[4], "four stars lit, the fifth not");
    assert.deepEqual(await axeViolations(page), [], "rating");
    await page.screenshot({ path: join(SHOTS, `chat-widget-rating-${lang}.png`) });
    await page.keyboard.press("Tab");
    assert.deepEqual(await focus(page), { tag: "BUTTON", cls: "pb", name: t.submit, ring: true });
    await page.keyboard.press("Enter");
    await page.keyboard.press("Enter");
    assert.deepEqual(await ofType(page, "rate"), [EVENT("rate", { score: 4, comment: lang === "en" ? "Quick and kind." : "سريع ولطيف." })], "once");
    await render(page, conversation(lang, { closed: true, rated: true }));
    assert.equal(await dialog.getByText(t.thanks).isVisible(), true);
    assert.equal(await group.count(), 0);
    assert.deepEqual(await focus(page), { tag: "BUTTON", cls: "q", name: t.again, ring: true }, "focus moves on, not lost");
    await until(page, () => window.fixture.root().querySelector("[role=status]").textContent.length > 0);
    assert.equal(await live(page), t.thanks);
    assert.deepEqual(await axeViolations(page), [], "rated");
    await page.keyboard.press("Enter");
    assert.deepEqual((await events(page)).at(-1), EVENT("new"));
    // The runtime starts the new conversation: the composer is back, with focus.
    await render(page, { lang, team: t.team, open: true, state: "idle", messages: [], unread: 0 });
    assert.equal(await composer(page).isVisible(), true);
    assert.equal((await focus(page)).tag, "TEXTAREA");
    await close();
    assertClean(log);
  });
}

test("typing is announced at most once every 3 s", async () => {
  const { page, log, close } = await open("en");
  await render(page, conversation("en", { typing: false }));
  await openPanel(page);
  await composer(page).pressSequentially("Do you have", { delay: 60 });
  await page.keyboard.type(" it in blue");
  const first = await page.evaluate(() => window.events.filter((e) => e.type === "souk-chat-typing").map((e) => e.at));
  assert.equal(first.length, 1, "one typing event for a burst of keys");
  const wait = first[0] + 3100 - (await page.evaluate(() => Date.now()));
  await page.waitForTimeout(Math.max(0, Math.min(wait, 3200)));
  await page.keyboard.type("?");
  const times = await page.evaluate(() => window.events.filter((e) => e.type === "souk-chat-typing").map((e) => e.at));
  assert.equal(times.length, 2, "a second one after 3 s");
  assert.ok(times[1] - times[0] >= 3000);
  assert.deepEqual((await ofType(page, "typing"))[0], EVENT("typing"));
  await close();
  assertClean(log);
});

test("what the shopper is typing survives render(): text, caret and focus; messages keep their nodes", async () => {
  const { page, log, close } = await open("en");
  const view = conversation("en", { typing: false });
  await render(page, view);
  await openPanel(page);
  await page.keyboard.type("I wanted to ask about delivery");
  await page.evaluate(() => {
    const tx = window.fixture.root().querySelector("textarea");
    tx.setSelectionRange(8, 8);
    window.fixture.root().querySelector(".m")._mark = 1;
  });
  // Mid-typing: a new agent message, typing on, statuses moving, the pending one echoed.
  view.messages[7].status = "sent";
  view.messages[6].status = "sent";
  view.messages.push({ id: "m9", author: "agent", agentName: "Noor", text: "Of course, one moment.", at: Date.now() });
  await render(page, { ...view, typing: true, unread: 1 });
  await render(page, { ...view, typing: false, unread: 0, lang: "en" });
  const state = await page.evaluate(() => {
    const root = window.fixture.root();
    const tx = root.querySelector("textarea");
    return { value: tx.value, caret: tx.selectionStart, focused: root.activeElement === tx, kept: root.querySelector(".m")._mark === 1 };
  });
  assert.deepEqual(state, { value: "I wanted to ask about delivery", caret: 8, focused: true, kept: true });
  await page.keyboard.type(" also");
  assert.equal(await composer(page).inputValue(), "I wanted also to ask about delivery");
  const list = await messages(page);
  assert.equal(list.length, 9);
  assert.deepEqual([list[7].status, list[6].cls, list[8].text], ["Delivered", "m s g", "Of course, one moment."]);
  // A message the runtime drops goes; the order follows the view.
  view.messages.splice(5, 1);
  view.messages.reverse();
  await render(page, view);
  assert.deepEqual((await messages(page)).map((m) => m.text), view.messages.map((m) => m.text));
  assert.equal(await composer(page).inputValue(), "I wanted also to ask about delivery");
  await close();
  assertClean(log);
});

test("markup from the shopper, agents, bot or shop stays text", async () => {
  const { page, log, close } = await open("en");
  const payloads = ['<img src=x onerror="window.__pwned=1">', "<script>window.__pwned=1</script>", '<svg onload="window.__pwned=1"></svg>'];
  const payload = payloads.join("");
  await render(page, {
    lang: "en", team: payload, open: true, state: "ready", unread: 1, typing: true,
    messages: [
      ...payloads.map((text, i) => ({ id: "x" + i, author: "shopper", text, at: Date.now(), status: "read" })),
      { id: "a", author: "agent", agentName: payload, text: payload, at: Date.now() },
      { id: "b", author: "bot", text: payload, at: Date.now(), faqId: payload },
      { id: payload, author: payload, text: payload, at: payload, status: payload },
    ],
  });
  await openPanel(page);
  await page.waitForTimeout(200);
  const inside = await page.evaluate(() => {
    const root = window.fixture.root();
    return { imgs: root.querySelectorAll("img").length + document.querySelectorAll("img[src=x]").length, scripts: root.querySelectorAll("script").length, svgs: root.querySelectorAll("svg[onload]").length, pwned: window.__pwned };
  });
  assert.deepEqual(inside, { imgs: 0, scripts: 0, svgs: 0, pwned: undefined });
  const list = await messages(page);
  assert.deepEqual(list.slice(0, 3).map((m) => m.text), payloads);
  assert.equal(list[3].who, payload);
  assert.equal(list[5].text, payload);
  assert.equal(await panel(page).locator("h2").textContent(), payload);
  assert.equal(plain(await panel(page).locator(".ty").textContent()), payload + " is typing…");
  await panel(page).getByRole("button", { name: "Talk to a person" }).click();
  assert.deepEqual((await events(page)).at(-1).detail, { faqId: payload });
  await close();
  assertClean(log);
});

test("Arabic-Indic digits when the shop picks them; English keeps Latin digits", async () => {
  const { page, log, close } = await open("ar");
  await render(page, { ...conversation("ar", { digits: "arab" }), unread: 3 });
  assert.equal(await widget(page).locator(".n").textContent(), "٣");
  assert.equal(await page.getByRole("button", { name: "تحدث معنا، ٣ رسائل غير مقروءة", exact: true }).count(), 1);
  await openPanel(page);
  assert.equal(plain((await messages(page))[0].time), "٥ يناير، ١٠:١٥ ص");
  await composer(page).fill("ب".repeat(1850));
  assert.equal(await panel(page).locator("#cn").textContent(), "الأحرف المتبقية: ١٥٠");
  assert.deepEqual(await axeViolations(page), []);
  await page.screenshot({ path: join(SHOTS, "chat-widget-ar-arab-digits.png") });
  await page.evaluate(() => window.fixture.element().setAttribute("digits", "latn"));
  await render(page, { ...conversation("ar"), unread: 3 });
  assert.equal(await widget(page).locator(".n").textContent(), "3", "the attribute, without digits in the view");
  await close();
  assertClean(log);
  const en = await open("en");
  await render(en.page, { ...conversation("en", { digits: "arab" }), unread: 120 });
  assert.equal(await widget(en.page).locator(".n").textContent(), "99+");
  assert.equal(await en.page.getByRole("button", { name: "Chat with us, 120 unread messages", exact: true }).count(), 1);
  await en.close();
  assertClean(en.log);
});

test("the counter shows near the 2000 limit, which the composer keeps", async () => {
  const { page, log, close } = await open("en");
  await render(page, conversation("en"));
  await openPanel(page);
  const counter = panel(page).locator("#cn");
  await composer(page).fill("a".repeat(1700));
  assert.equal(await counter.textContent(), "");
  await composer(page).fill("a".repeat(1999));
  assert.equal(await counter.textContent(), "1 character left");
  await composer(page).fill("a".repeat(2500));
  assert.equal((await composer(page).inputValue()).length, 2000);
  assert.equal(await counter.textContent(), "0 characters left");
  assert.equal(await composer(page).getAttribute("aria-describedby"), "e cn nf", "the counter, errors and the attachments note describe the composer");
  await close();
  assertClean(log);
});

test("read: once the panel is open and the new messages are in view", async () => {
  const { page, log, close } = await open("en");
  const view = conversation("en", { typing: false });
  await render(page, { ...view, unread: 2 });
  await render(page, { ...view, unread: 2 });
  assert.equal((await ofType(page, "read")).length, 0, "closed panel: not read");
  await openPanel(page);
  assert.equal((await ofType(page, "read")).length, 1);
  await render(page, view);
  assert.equal((await ofType(page, "read")).length, 1, "nothing new: no read");
  view.messages.push({ id: "n1", author: "agent", agentName: "Noor", text: "Here is the link.", at: Date.now() });
  await render(page, view);
  assert.equal((await ofType(page, "read")).length, 2, "a new answer in view is read");
  view.messages.push({ id: "n2", author: "shopper", text: "Thanks", at: Date.now(), status: "pending" });
  await render(page, view);
  assert.equal((await ofType(page, "read")).length, 2, "the shopper's own message is not a read");
  // Scrolled up in the history, a new answer waits until the shopper scrolls down.
  await page.evaluate(() => (window.fixture.root().querySelector(".lg").scrollTop = 0));
  view.messages.push({ id: "n3", author: "agent", agentName: "Noor", text: "Anything else?", at: Date.now() });
  await render(page, view);
  assert.equal((await ofType(page, "read")).length, 2);
  await page.evaluate(() => { const lg = window.fixture.root().querySelector(".lg"); lg.scrollTop = lg.scrollHeight; });
  await until(page, () => window.events.filter((e) => e.type === "souk-chat-read").length === 3, 2000);
  // Closed: new answers wait for the next open.
  await page.keyboard.press("Escape");
  view.messages.push({ id: "n4", author: "agent", agentName: "Noor", text: "Bye!", at: Date.now() });
  await render(page, { ...view, unread: 1 });
  assert.equal((await ofType(page, "read")).length, 3);
  await openPanel(page);
  assert.equal((await ofType(page, "read")).length, 4);
  await close();
  assertClean(log);
});

test("loading, error with Try again, and a send the runtime could not take", async () => {
  const { page, log, close } = await open("en");
  await render(page, { lang: "en", team: "Dar Noor", open: true, state: "loading", messages: [], unread: 0 });
  await openPanel(page);
  assert.equal(await panel(page).getByRole("log").getAttribute("aria-busy"), "true");
  assert.equal(await panel(page).getByText("Loading your conversation…").isVisible(), true);
  assert.deepEqual(await axeViolations(page), [], "loading");
  await render(page, { lang: "en", team: "Dar Noor", open: true, state: "error", messages: [], unread: 0 });
  assert.equal(await panel(page).getByRole("log").getAttribute("aria-busy"), "false");
  await until(page, () => window.fixture.root().querySelector("[role=status]").textContent.length > 0);
  assert.equal(await live(page), "We couldn't load the chat just now.");
  assert.deepEqual(await axeViolations(page), [], "error");
  await panel(page).getByRole("button", { name: "Try again" }).click();
  assert.deepEqual((await events(page)).at(-1), EVENT("retry"));
  await render(page, conversation("en"));
  assert.equal(await panel(page).getByRole("button", { name: "Try again" }).count(), 0);
  await composer(page).fill("Where is my order?");
  await panel(page).getByRole("button", { name: "Send" }).click();
  assert.equal(await panel(page).locator(".sd").getAttribute("aria-disabled"), "true");
  await call(page, "failed", "You're sending messages too fast. Wait a minute.");
  assert.equal(await panel(page).locator(".e").textContent(), "You're sending messages too fast. Wait a minute.");
  assert.equal(await composer(page).inputValue(), "Where is my order?", "the text stays");
  assert.equal(await panel(page).locator(".sd").getAttribute("aria-disabled"), null);
  await until(page, () => window.fixture.root().querySelector("[role=status]").textContent.includes("too fast"));
  assert.deepEqual(await axeViolations(page), [], "failed");
  await panel(page).getByRole("button", { name: "Send" }).click();
  await call(page, "failed");
  assert.equal(await panel(page).locator(".e").textContent(), "Your message couldn't be sent. Please try again.");
  await panel(page).getByRole("button", { name: "Send" }).click();
  assert.equal(await panel(page).locator(".e").isVisible(), false, "a new try clears the error");
  assert.equal((await ofType(page, "send")).length, 3);
  await close();
  assertClean(log);
});

test("the widget blocks nothing outside its own boxes; expanded in a view opens it without taking focus", async () => {
  const { page, log, close } = await open("en");
  await render(page, conversation("en", { expanded: false }));
  const hit = (x, y) => page.evaluate(([x, y]) => document.elementFromPoint(x, y).tagName, [x, y]);
  const l = await launcher(page).boundingBox();
  assert.equal(await hit(l.x + l.width / 2, l.y + l.height / 2), "SOUK-CHAT");
  assert.notEqual(await hit(l.x - 30, l.y + l.height / 2), "SOUK-CHAT", "beside the launcher is the page");
  await page.focus("#last");
  await render(page, conversation("en", { expanded: true }));
  assert.equal(await isOpen(page), true);
  assert.equal(await page.evaluate(() => document.activeElement.id), "last", "focus stays in the page");
  assert.equal((await ofType(page, "open")).length, 0, "a view's expanded fires no event");
  await render(page, conversation("en", { expanded: true }));
  await page.keyboard.press("Escape");
  assert.equal(await isOpen(page), true, "Escape in the page is the page's");
  const p = await panel(page).boundingBox();
  assert.equal(await hit(p.x + 10, p.y + 10), "SOUK-CHAT");
  assert.notEqual(await hit(p.x + 10, l.y + l.height / 2), "SOUK-CHAT", "the strip beside the launcher, under the panel, is the page's");
  assert.notEqual(await hit(p.x - 10, p.y + 10), "SOUK-CHAT");
  const z = await page.evaluate(() => getComputedStyle(window.fixture.root().querySelector(".w")).zIndex);
  assert.equal(z, "2147482000");
  // The same expanded again is no change: the shopper's own close stands.
  await launcher(page).click();
  await render(page, conversation("en", { expanded: true }));
  assert.equal(await isOpen(page), false);
  await render(page, conversation("en", { expanded: false }));
  await render(page, conversation("en", { expanded: true }));
  assert.equal(await isOpen(page), true);
  await call(page, "close");
  assert.equal(await isOpen(page), false);
  await call(page, "open");
  assert.equal((await focus(page)).tag, "TEXTAREA", "open() puts focus in the composer");
  await close();
  assertClean(log);
});

test("a 320 px phone: the panel fills the screen, the launcher steps aside, Escape brings it back", async () => {
  for (const lang of ["en", "ar"]) {
    const { page, log, close } = await open(lang, { viewport: PHONE });
    await render(page, conversation(lang));
    await openPanel(page);
    const box = await panel(page).boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 320 && box.y >= 0 && box.y + box.height <= 640, JSON.stringify(box));
    assert.ok(box.width >= 300, "nearly the whole width");
    assert.equal(await launcher(page).isVisible(), false);
    const sideways = await page.evaluate(() => {
      const lg = window.fixture.root().querySelector(".lg");
      return lg.scrollWidth > lg.clientWidth;
    });
    assert.equal(sideways, false);
    assert.deepEqual(await axeViolations(page), [], "phone");
    await page.screenshot({ path: join(SHOTS, `chat-phone-${lang}.png`) });
    await page.keyboard.press("Escape");
    assert.equal(await launcher(page).isVisible(), true);
    assert.equal((await focus(page)).cls, "l");
    await close();
    assertClean(log);
  }
});

test("reduced motion stops the typing dots and the panel's entrance", async () => {
  for (const reducedMotion of ["no-preference", "reduce"]) {
    const { page, log, close } = await open("en", { reducedMotion });
    await render(page, conversation("en"));
    await openPanel(page);
    const names = await page.evaluate(() => [getComputedStyle(window.fixture.root().querySelector(".ty i")).animationName, getComputedStyle(window.fixture.root().querySelector(".p")).animationName]);
    assert.deepEqual(names, reducedMotion === "reduce" ? ["none", "none"] : ["bl", "in"]);
    await close();
    assertClean(log);
  }
});

test("bad input never throws into the page", async () => {
  const { page, log, close } = await open("en");
  const thrown = await page.evaluate(() => {
    const el = window.fixture.element();
    const out = [];
    const views = [undefined, null, 7, "x", { messages: "no" }, { messages: [null, 3, { id: {} }, { author: "hacker", text: 5, at: "never", status: "lost" }] },
      { state: "nope", lang: "fr", unread: -3, backAt: "soon", open: false, team: 4, typing: "yes", closed: 1 }];
    for (const view of views) {
      try { el.render(view); el.open(); el.sent(); el.failed(3); el.close(); } catch (err) { out.push(String(err)); }
    }
    const loose = document.createElement("souk-chat");
    try { loose.sent(); loose.failed(); loose.render({ lang: "ar", messages: [] }); loose.open(); } catch (err) { out.push(String(err)); }
    return out;
  });
  assert.deepEqual(thrown, []);
  assert.ok(log.warnings.some((text) => text.startsWith("souk: the chat widget")), "refusals are souk: warnings");
  await close();
  assertClean(log);
});

test("the chunk stays small", () => {
  const gzip = gzipSync(readFileSync(CHUNK), { level: 9 }).length;
  console.log(`souk_chat.js (built as scripts/build.mjs builds widgets): ${gzip} B gzip`);
  assert.ok(gzip <= 9 * 1024, `${gzip} B gzip, target 9 KB`);
});
