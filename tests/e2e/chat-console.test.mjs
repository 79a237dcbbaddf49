// A whole conversation between the shopper's page and the agent console, in two
// browser contexts of Debian's Chromium against one real souk-server (with the demo
// shop's FAQ): the shopper, on a product page of the demo shop, accepts the consent
// banner, opens <souk-chat> and asks what the FAQ does not answer; the agent, signed
// in at /agent through the form, sees it arrive live in the inbox with the page the
// shopper is on, types (the shopper's panel shows it) and replies; the reply and the
// shopper's answer arrive live on the other side; the agent closes the conversation,
// the shopper's panel asks for a rating, the shopper gives 5 stars with a comment, and
// the console and GET /v1/agent/stats show it. Both sides end with the same messages
// in the same order. In English and in Arabic (the shop's ?lang=ar, the console from
// the browser's ar-AE), axe-clean on both sides; screenshots land in
// tests/e2e/screenshots/chat-conversation-{en,ar}-{shopper,agent}.png.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ROOT, assertClean, axeViolations, launchBrowser, openPage, startServer, until } from "./harness.mjs";

const SHOTS = join(ROOT, "tests/e2e/screenshots");
const BIN = process.env.SOUK_SERVER_BIN || join(ROOT, "target/debug/souk-server");
const PASSWORD = "brass-dallah-at-dawn";
const NOOR = { email: "noor@shop.example", name: "Noor Haddad" };
const AXE = readFileSync(join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8");
/** The longest any one step may take. */
const STEP = 10_000;
/** The shopper's panel sends a typing notice at most once per 3 s (widgets/chat.js). */
const SHOPPER_TYPING_EVERY_MS = 3000;

let server;
let browser;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer({ args: ["--faq", join(ROOT, "www/shop/faq.json")] });
  // While the server runs on the same file, as a shop would do it.
  execFileSync(BIN, ["agent", "add", "--db", server.db, "--email", NOOR.email, "--name", NOOR.name], {
    env: { ...process.env, SOUK_AGENT_PASSWORD: PASSWORD },
    stdio: ["ignore", "ignore", "pipe"],
    timeout: STEP,
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const WORDS = {
  en: {
    locale: "en-US",
    accept: "Accept all",
    chat: "Chat with us",
    question: "Can the speckled enamel coffee pot go on an induction hob?",
    reply: "Yes, it works on induction, gas and electric hobs.",
    answer: "Great, thank you! I'll order it today.",
    comment: "Quick and clear, thank you.",
    rate: "How was this conversation?",
    send: "Send rating",
    thanks: "Thanks for your feedback",
    typing: /is typing/,
    rated: /Rated 5 of 5/,
    closed: "Closed",
  },
  ar: {
    locale: "ar-AE",
    accept: "قبول الكل",
    chat: "تحدث معنا",
    question: "هل يصلح إبريق القهوة المنقّط للاستخدام على موقد الحث؟",
    reply: "نعم، يصلح لمواقد الحث والغاز والكهرباء.",
    answer: "رائع، شكرًا لك! سأطلبه اليوم.",
    comment: "رد سريع وواضح، شكرًا.",
    rate: "ما تقييمك لهذه المحادثة؟",
    send: "إرسال التقييم",
    thanks: "شكراً لملاحظاتك",
    typing: /جارٍ كتابة الرد|يكتب/,
    rated: /التقييم (5|٥) من 5/,
    closed: "مغلقة",
  },
};

// ------------------------------------------------------------------ the shopper's side

/** The texts of the shopper's panel, in the order it shows them. */
const shopperTexts = (page) =>
  page.evaluate(() => [...document.querySelector("souk-chat").shadowRoot.querySelectorAll("[role=log] .m .bb")].map((n) => n.textContent));

const panelHas = (page, text) =>
  until(page, (t) => [...document.querySelector("souk-chat").shadowRoot.querySelectorAll("[role=log] .m .bb")].some((n) => n.textContent === t), STEP, text);

/** The panel's part `selector` is shown (not hidden, nor inside something hidden). */
const panelShows = (page, selector) =>
  until(page, (s) => {
    const node = document.querySelector("souk-chat").shadowRoot.querySelector(s);
    return Boolean(node && node.checkVisibility());
  }, STEP, selector);

async function shopperTab(lang) {
  const w = WORDS[lang];
  const tab = await openPage(browser, { viewport: { width: 1280, height: 900 }, locale: w.locale });
  tab.page.setDefaultTimeout(STEP);
  await tab.page.goto(`${server.url}/product.html?id=p001&lang=${lang}`);
  await until(tab.page, () => window.souk.ready(), 20_000);
  await tab.page.getByRole("button", { name: w.accept, exact: true }).click();
  await tab.page.locator("souk-chat").getByRole("button", { name: w.chat }).click();
  await tab.page.locator("souk-chat #tx").waitFor();
  return tab;
}

// ------------------------------------------------------------------ the agent's side

const row = (page, text) => page.locator("#conversations .row", { hasText: text });
const message = (page, text) => page.locator("#messages .msg", { has: page.locator(".msg-text", { hasText: text }) });
const consoleTexts = (page) => page.locator("#messages .msg-text").allTextContents();

async function consoleTab(lang) {
  const tab = await openPage(browser, { viewport: { width: 1440, height: 900 }, locale: WORDS[lang].locale });
  tab.page.setDefaultTimeout(STEP);
  tab.dialogs = [];
  tab.page.on("dialog", (dialog) => {
    tab.dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  await tab.page.goto(`${server.url}/agent`);
  await tab.page.locator("#login-form").waitFor();
  assert.deepEqual(await tab.page.evaluate(() => [document.documentElement.lang, document.documentElement.dir]), [lang, lang === "ar" ? "rtl" : "ltr"]);
  await tab.page.fill("#login-email", NOOR.email);
  await tab.page.fill("#login-password", PASSWORD);
  await tab.page.press("#login-password", "Enter");
  await tab.page.locator("#inbox").waitFor();
  await until(tab.page, () => document.querySelector("#connection")?.dataset.state === "live", STEP);
  return tab;
}

/** axe-core in the console: added with page.evaluate, as its CSP allows no other script. */
async function consoleAxe(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(AXE);
  return axeViolations(page);
}

/** The console's only expected errors: the 401 of "am I signed in?" before the form. */
function assertConsoleClean(log, dialogs) {
  assert.deepEqual(log.pageErrors, [], "no uncaught page error in the console");
  assert.deepEqual(dialogs, [], "no dialog opened");
  assert.deepEqual(log.errors.filter((text) => !/401/.test(text)), [], "no console error but the expected 401");
}

// ------------------------------------------------------------------ the conversation

for (const lang of ["en", "ar"]) {
  test(`a shopper and an agent talk live, close and rate, each in their own browser (${lang})`, { timeout: 60_000 }, async () => {
    const w = WORDS[lang];
    const started = new Date(Date.now() - 1000).toISOString();
    const agent = await consoleTab(lang);
    const shopper = await shopperTab(lang);
    const [a, s] = [agent.page, shopper.page];
    const composer = s.locator("souk-chat #tx");

    // The shopper asks what the FAQ does not answer.
    const askedAt = Date.now();
    await composer.fill(w.question);
    await composer.press("Enter");
    await panelHas(s, w.question);

    // It arrives in the agent's inbox, live, and opens with the shopper's page beside it.
    const inboxRow = row(a, w.question);
    await inboxRow.waitFor();
    await inboxRow.click();
    await message(a, w.question).waitFor();
    const page = await s.evaluate(() => ({ url: location.href, title: document.title }));
    await until(a, (title) => document.querySelector("#ctx-page")?.textContent.includes(title), STEP, page.title);
    assert.equal(await a.locator("#ctx-page a").getAttribute("href"), page.url, "the page the shopper is on");

    // The agent types: the shopper's panel says so; the reply arrives live and the
    // typing line goes.
    await a.fill("#reply", w.reply);
    await panelShows(s, ".ty");
    assert.match(await s.evaluate(() => document.querySelector("souk-chat").shadowRoot.querySelector(".ty").textContent), w.typing);
    await a.press("#reply", "Enter");
    await panelHas(s, w.reply);
    await until(s, () => document.querySelector("souk-chat").shadowRoot.querySelector(".ty").hidden, STEP);
    assert.equal(await a.inputValue("#reply"), "");

    // The shopper types (the console says so) and answers; it arrives live.
    await s.waitForTimeout(Math.max(0, askedAt + SHOPPER_TYPING_EVERY_MS + 100 - Date.now()));
    await composer.fill(w.answer);
    await a.locator("#typing").waitFor({ state: "visible" });
    await composer.press("Enter");
    await message(a, w.answer).waitFor();
    await until(a, () => document.querySelector("#typing").hidden, STEP);

    // Both sides show the same messages in the same order, nothing automatic among them.
    const expected = [w.question, w.reply, w.answer];
    await until(a, (n) => document.querySelectorAll("#messages .msg[data-seq]").length === n, STEP, expected.length);
    assert.deepEqual(await consoleTexts(a), expected);
    assert.deepEqual(await shopperTexts(s), expected);
    assert.equal(await a.locator("#messages .msg.from-bot").count(), 0, "the FAQ did not answer");
    assert.deepEqual(await consoleAxe(a), [], "the console is axe-clean with the conversation open");

    // The agent closes it: the shopper's panel asks for a rating instead of a message.
    await a.click("#close-conv");
    await a.locator("#conv-title .pill.closed", { hasText: w.closed }).waitFor();
    await panelShows(s, ".en form");
    assert.equal(await s.evaluate(() => document.querySelector("souk-chat").shadowRoot.querySelector("legend").textContent), w.rate);
    assert.equal(await s.evaluate(() => document.querySelector("souk-chat").shadowRoot.querySelector("form.c").hidden), true, "no composer once closed");

    // Five stars and a comment.
    await s.locator("souk-chat .sa label").nth(4).click();
    await s.locator("souk-chat #cm").fill(w.comment);
    // The rating is taller than the composer it replaces: the last messages stay in view.
    const hidden = await s.evaluate(() => {
      const lg = document.querySelector("souk-chat").shadowRoot.querySelector("[role=log]");
      return lg.scrollHeight - lg.scrollTop - lg.clientHeight;
    });
    assert.ok(hidden < 2, `the log shows its end above the rating (${hidden}px of it below)`);
    // The shopper's screenshot is the rating, filled in, under the whole conversation.
    assert.deepEqual(await axeViolations(s), [], "the shopper's page is axe-clean with the rating open");
    await s.screenshot({ path: join(SHOTS, `chat-conversation-${lang}-shopper.png`) });
    await s.locator("souk-chat").getByRole("button", { name: w.send }).click();
    await panelShows(s, ".ok");
    assert.equal(await s.evaluate(() => document.querySelector("souk-chat").shadowRoot.querySelector(".ok").textContent), w.thanks);

    // The console shows the rating, live; the stats count it.
    await until(a, (re) => new RegExp(re).test(document.querySelector("#conv-sub").textContent), STEP, w.rated.source);
    assert.equal(await a.textContent("#conv-comment q"), w.comment, "and the shopper's comment");
    const api = (path) => a.evaluate((p) => fetch(p).then((r) => r.json()), path);
    const conversationId = decodeURIComponent(new URL(a.url()).hash.replace(/^#\/c\//, ""));
    const stored = await api(`/v1/agent/conversations/${encodeURIComponent(conversationId)}`);
    assert.deepEqual({ score: stored.conversation.rating?.score, comment: stored.conversation.rating?.comment }, { score: 5, comment: w.comment });
    const stats = await api(`/v1/agent/stats?since=${encodeURIComponent(started)}`);
    assert.deepEqual(stats.csat, { count: 1, average: 5 });
    assert.equal(stats.conversations.closed, 1);

    // The same messages on both sides at the end, in the same order.
    assert.deepEqual(await consoleTexts(a), expected);
    assert.deepEqual(await shopperTexts(s), expected);
    assert.deepEqual(stored.messages.map((m) => m.text), expected);

    assert.deepEqual(await axeViolations(s), [], "the shopper's page is axe-clean");
    assert.deepEqual(await consoleAxe(a), [], "the console is axe-clean");
    await a.screenshot({ path: join(SHOTS, `chat-conversation-${lang}-agent.png`) });

    await shopper.close();
    await agent.close();
    assertClean(shopper.log);
    assertConsoleClean(agent.log, agent.dialogs);
  });
}
