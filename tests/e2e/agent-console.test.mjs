// The agent console at /agent, in Debian's Chromium against a real souk-server: agents
// added with `souk-server agent add`, shoppers writing over HTTP as the chat widget
// does (with their page, cart and views sent through /v1/batch), and an agent who
// signs in, reads the inbox and the shopper's context, replies, assigns, uses canned
// responses and closes, live, in English and Arabic. Shopper text that looks like HTML
// must stay text. axe-core checks each view; screenshots land in tests/e2e/screenshots/.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ROOT, SERVER_KEY, axeViolations, launchBrowser, openPage, startServer, until } from "./harness.mjs";

const SHOTS = join(ROOT, "tests/e2e/screenshots");
const BIN = process.env.SOUK_SERVER_BIN || join(ROOT, "target/debug/souk-server");
const WRITE_KEY = "souk_demo_write_key";
const SECRET = "souk_demo_identity_secret"; // the demo shop's, which startServer passes
const PASSWORD = "brass-dallah-at-dawn";
const NOOR = { email: "noor@shop.example", name: "Noor Haddad" };
const KARIM = { email: "karim@shop.example", name: "Karim Aziz" };
const AXE = readFileSync(join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8");
const STEP = 10_000;

let server;
let browser;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer({ args: ["--faq", join(ROOT, "www/shop/faq.json")] });
  for (const agent of [NOOR, KARIM]) {
    // While the server runs on the same file, as a shop would do it.
    execFileSync(BIN, ["agent", "add", "--db", server.db, "--email", agent.email, "--name", agent.name], {
      env: { ...process.env, SOUK_AGENT_PASSWORD: PASSWORD },
      stdio: ["ignore", "ignore", "pipe"],
      timeout: STEP,
    });
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// ------------------------------------------------------------------ the shopper's side, over HTTP

const basic = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString("base64")}`;
const userHash = (userId) => createHmac("sha256", SECRET).update(userId).digest("hex");

/** A shopper: an anonymousId, and a verified userId if given. */
function shopper(userId) {
  const who = { anonymousId: `anon-${randomUUID()}` };
  if (userId) Object.assign(who, { userId, userHash: userHash(userId) });
  return who;
}

async function post(path, body, headers = { Authorization: basic }) {
  const response = await fetch(server.url + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(STEP),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** The shopper writes `text` as the widget does; resolves to `{conversationId, seq, id}`. */
async function say(who, text, extra = {}) {
  const answer = await post("/v1/chat/messages", { ...who, id: randomUUID(), text, ...extra });
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  return answer.body;
}

/** What the shopper did on the shop before writing, as the plugin sends it. */
async function browsed(who, { page, viewed, added }) {
  const base = { anonymousId: who.anonymousId, ...(who.userId ? { userId: who.userId } : {}) };
  let minute = 0;
  const at = () => new Date(Date.now() - 30 * 60_000 + minute++ * 60_000).toISOString();
  const batch = [
    { type: "page", messageId: randomUUID(), timestamp: at(), properties: page, ...base },
    ...viewed.map((p) => ({ type: "track", event: "Product Viewed", messageId: randomUUID(), timestamp: at(), properties: p, ...base })),
    ...added.map((p) => ({ type: "track", event: "Product Added", messageId: randomUUID(), timestamp: at(), properties: p, ...base })),
  ];
  const answer = await post("/v1/batch", { batch });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.accepted, batch.length);
}

/** The shopper's conversations, as the widget reads them. */
async function shopperConversations(who) {
  const query = new URLSearchParams({ writeKey: WRITE_KEY, ...who });
  const response = await fetch(`${server.url}/v1/chat/conversations?${query}`, { signal: AbortSignal.timeout(STEP) });
  assert.equal(response.status, 200);
  return (await response.json()).conversations;
}

/** The `message` events of the shopper's stream after `lastEventId`, read for `ms`. */
async function shopperStream(who, lastEventId, ms = 1500) {
  const query = new URLSearchParams({ writeKey: WRITE_KEY, ...who, lastEventId: String(lastEventId) });
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  let text = "";
  try {
    const response = await fetch(`${server.url}/v1/chat/stream?${query}`, { signal: abort.signal });
    const decoder = new TextDecoder();
    for await (const chunk of response.body) text += decoder.decode(chunk, { stream: true });
  } catch (e) {
    if (e.name !== "AbortError") throw e;
  } finally {
    clearTimeout(timer);
  }
  return text
    .split("\n\n")
    .filter((block) => /^event: message$/m.test(block))
    .map((block) => JSON.parse(block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n")));
}

// ------------------------------------------------------------------ the agents' API, to check what the page did

async function agentCookie(agent) {
  const response = await fetch(`${server.url}/v1/agent/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: agent.email, password: PASSWORD }),
    signal: AbortSignal.timeout(STEP),
  });
  assert.equal(response.status, 200);
  return response.headers.get("set-cookie").split(";")[0];
}

async function agentGet(cookie, path) {
  const response = await fetch(server.url + path, { headers: { Cookie: cookie }, signal: AbortSignal.timeout(STEP) });
  assert.equal(response.status, 200, path);
  return response.json();
}

// ------------------------------------------------------------------ the browser

/** A tab on /agent in `locale`, recording dialogs; axe is added from outside, as the page's CSP allows no other script. */
async function consoleTab(locale) {
  const tab = await openPage(browser, { viewport: { width: 1440, height: 900 }, locale });
  tab.page.setDefaultTimeout(STEP);
  tab.dialogs = [];
  tab.page.on("dialog", (dialog) => {
    tab.dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  const response = await tab.page.goto(`${server.url}/agent`);
  const headers = response.headers();
  assert.match(headers["content-type"], /^text\/html/);
  assert.equal(headers["cache-control"], "no-cache");
  assert.equal(headers["x-frame-options"], "DENY");
  assert.equal(
    headers["content-security-policy"],
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  );
  return tab;
}

async function axeClean(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(AXE);
  assert.deepEqual(await axeViolations(page), []);
}

async function signIn(page, agent, password = PASSWORD) {
  await page.fill("#login-email", agent.email);
  await page.fill("#login-password", password);
  await page.press("#login-password", "Enter");
}

/** The only page errors allowed: the 401s of "am I signed in?" and of a wrong password. */
function assertOnlyExpected(log, dialogs) {
  assert.deepEqual(log.pageErrors, [], "no uncaught page error");
  assert.deepEqual(dialogs, [], "no dialog opened");
  const unexpected = log.errors.filter((text) => !/401/.test(text));
  assert.deepEqual(unexpected, [], "no console error but the expected 401s");
}

/** Resolves once `check()` (async) is true; throws after STEP. */
async function eventually(check) {
  const end = Date.now() + STEP;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${check}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const row = (page, name) => page.locator("#conversations .row", { has: page.locator(".row-name", { hasText: name }) });
const message = (page, text) => page.locator("#messages .msg", { hasText: text });
const plain = (text) => text.replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x660)).replace(/[,٬\s]/g, "");

// ------------------------------------------------------------------ English: the whole job

test("an agent signs in, reads the shopper's context, replies live, assigns, uses canned responses and closes (en)", { timeout: 120_000 }, async () => {
  // A known customer with points, a page, views and a cart, and an earlier conversation.
  const huda = shopper("huda-1");
  const order = await post("/v1/orders", { orderId: `o-${randomUUID()}`, userId: "huda-1", subtotal: 60000, currency: "AED" }, { Authorization: `Bearer ${SERVER_KEY}` });
  assert.equal(order.status, 201);
  await browsed(huda, {
    page: { url: `${server.url}/product.html?id=p006`, title: "Cast Iron Skillet · Dar Noor" },
    viewed: [
      { product_id: "p001", name: "Speckled Enamel Coffee Pot", price: 89, currency: "AED", url: "/product.html?id=p001" },
      { product_id: "p006", name: "Cast Iron Skillet", price: 185, currency: "AED", url: "/product.html?id=p006" },
    ],
    added: [
      { product_id: "p006", name: "Cast Iron Skillet", price: 185, currency: "AED", quantity: 1 },
      { product_id: "p007", name: "Copper Measuring Spoons", price: 45, currency: "AED", quantity: 2 },
    ],
  });
  const noorApi = await agentCookie(NOOR);
  const old = await say(huda, "Do you have the skillet in a larger size?");
  await post(`/v1/agent/conversations/${old.conversationId}/close`, {}, { Cookie: noorApi });
  const context = { url: `${server.url}/product.html?id=p006`, title: "Cast Iron Skillet · Dar Noor", lang: "en" };
  const asked = await say(huda, "How long does delivery take?", { context });
  const second = await say(huda, "I would also like it gift-wrapped, with a card for my sister.", { context });
  assert.equal(second.conversationId, asked.conversationId);
  const conversationId = asked.conversationId;

  // Someone whose messages and page look like HTML.
  const mallory = shopper();
  const xss = ['<img src=x onerror="window.__xss=1;alert(1)">', "<script>window.__xss=2</script><b>bold?</b>"];
  await say(mallory, xss[0], { context: { url: "javascript:alert(3)", title: '<img src=y onerror="window.__xss=3">', lang: "en" } });
  await say(mallory, xss[1]);

  const { page, log, close, dialogs } = await consoleTab("en-US");
  assert.deepEqual(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir]), ["en", "ltr"]);

  // Sign in: a wrong password says so, and nothing else happens.
  await page.locator("#login-form").waitFor();
  await axeClean(page);
  await signIn(page, NOOR, "not-the-password");
  await until(page, () => document.querySelector("#login-error").textContent.length > 0, STEP);
  assert.equal(await page.textContent("#login-error"), "Wrong email or password.");
  assert.equal(await page.isVisible("#inbox"), false);
  await signIn(page, NOOR);
  await page.locator("#inbox").waitFor();
  assert.equal(await page.evaluate(() => document.cookie), "", "the session cookie is HttpOnly, and nothing else is kept");

  // The inbox: latest activity first, with the unread count.
  const hudaRow = row(page, "huda-1");
  await hudaRow.waitFor();
  assert.equal(await hudaRow.locator(".badge [aria-hidden]").textContent(), "2", "two unread shopper messages");
  assert.match(await hudaRow.locator(".badge").textContent(), /2 unread messages/);
  const names = await page.locator("#conversations .row-name").allTextContents();
  assert.equal(names[0], `Visitor ${mallory.anonymousId.slice(0, 8)}`, "the latest activity first");
  assert.ok(names.includes("huda-1"));

  // Open it: messages in order, the FAQ's automatic answer marked, the context beside.
  await hudaRow.click();
  await page.locator("#conv-title", { hasText: "huda-1" }).waitFor();
  assert.equal(await hudaRow.getAttribute("aria-current"), "true");
  await message(page, "gift-wrapped").waitFor();
  const texts = await page.locator("#messages .msg-text").allTextContents();
  assert.equal(texts[0], "How long does delivery take?");
  assert.match(texts[1], /working days/, "the FAQ's answer comes right after the question");
  const bot = page.locator("#messages .msg.from-bot .msg-author");
  assert.ok((await bot.count()) >= 1);
  assert.equal(await bot.first().textContent(), "Automatic (FAQ)");
  assert.equal(await page.evaluate(() => document.activeElement.id), "reply", "ready to type");
  const ctx = (id) => page.locator(id).textContent();
  assert.match(await ctx("#ctx-page"), /Cast Iron Skillet · Dar Noor/);
  assert.equal(await page.locator("#ctx-page a").getAttribute("href"), context.url);
  const cart = await ctx("#ctx-cart");
  assert.match(cart, /Cast Iron Skillet/);
  assert.match(cart, /Copper Measuring Spoons/);
  assert.match(cart, /× 2/);
  assert.match(cart, /AED\s?90\.00/, "a line's amount: 2 × 45");
  assert.match(cart, /AED\s?275\.00/, "the total of 185 + 2 × 45");
  const viewed = await page.locator("#ctx-viewed li").allTextContents();
  assert.equal(viewed.length, 2);
  assert.match(viewed[0], /Cast Iron Skillet/, "the latest view first");
  assert.match(await ctx("#ctx-loyalty"), /600 points/);
  assert.match(await ctx("#ctx-loyalty"), /Bronze|Silver|Gold/);
  assert.equal(await page.locator("#ctx-earlier a").count(), 1);
  assert.equal(await page.locator("#ctx-earlier a").getAttribute("href"), `#/c/${encodeURIComponent(old.conversationId)}`);

  // Seen: the badge goes, and the server keeps the read mark.
  await until(page, () => !document.querySelector("#conversations .row[aria-current] .badge"), STEP);
  const unread = async () => (await agentGet(noorApi, "/v1/agent/conversations?status=open")).conversations.find((c) => c.id === conversationId).unread;
  await eventually(async () => (await unread()) === 0);

  // Reply with Enter: shown at once, then confirmed; the shopper gets it exactly once.
  const reply = "Yes, we gift-wrap for free. Shall I add a card that says “For Maya”?";
  await page.fill("#reply", reply);
  await page.press("#reply", "Enter");
  await message(page, reply).waitFor();
  await until(page, (text) => [...document.querySelectorAll("#messages .msg")].some((m) => m.textContent.includes(text) && !m.classList.contains("is-sending") && m.dataset.seq), STEP, reply);
  assert.equal(await message(page, reply).count(), 1, "the echo on the stream does not repeat it");
  assert.equal(await page.inputValue("#reply"), "");
  const ours = (await shopperConversations(huda)).find((c) => c.id === conversationId);
  const agentMessages = ours.messages.filter((m) => m.author === "agent");
  assert.deepEqual(agentMessages.map((m) => m.text), [reply]);
  assert.equal(agentMessages[0].agentName, NOOR.name);
  const streamed = await shopperStream(huda, second.seq);
  assert.equal(streamed.filter((m) => m.text === reply).length, 1, "once on the shopper's stream");
  // The first reply assigned it to the agent who wrote it.
  await until(page, () => /Assigned to you/.test(document.querySelector("#conv-sub").textContent), STEP);

  // Live: the shopper types, then writes; no reload.
  assert.equal((await post("/v1/chat/typing", { ...huda, conversationId })).status, 202);
  await page.locator("#typing", { hasText: "huda-1 is typing" }).waitFor();
  const live = "Yes please, “For Maya” is perfect. Thank you!";
  await say(huda, live, { conversationId });
  await message(page, live).waitFor();
  await until(page, () => document.querySelector("#typing").hidden, STEP);
  await until(page, () => /New message from huda-1: Yes please/.test(document.querySelector("#announcer").textContent), STEP);

  // Assign: to nobody, to me, to a colleague, back to me.
  const assigned = async () => (await agentGet(noorApi, `/v1/agent/conversations/${conversationId}`)).conversation.assignedAgent?.name ?? null;
  await page.selectOption("#assignee", "");
  await page.click("#assign-apply");
  await until(page, () => /Unassigned/.test(document.querySelector("#conv-sub").textContent), STEP);
  assert.equal(await assigned(), null);
  await page.click("#assign-me");
  await until(page, () => /Assigned to you/.test(document.querySelector("#conv-sub").textContent), STEP);
  assert.equal(await assigned(), NOOR.name);
  await page.selectOption("#assignee", { label: KARIM.name });
  await page.click("#assign-apply");
  await until(page, (name) => document.querySelector("#conv-sub").textContent.includes(`Assigned to ${name}`), STEP, KARIM.name);
  assert.equal(await assigned(), KARIM.name);
  assert.match(await hudaRow.locator(".row-meta").textContent(), /Karim Aziz/);
  await page.click("#assign-me");
  await until(page, () => /Assigned to you/.test(document.querySelector("#conv-sub").textContent), STEP);

  // Canned responses: add two, delete one, insert the other and send it.
  await page.click("#canned-toggle");
  assert.equal(await page.getAttribute("#canned-toggle", "aria-expanded"), "true");
  await page.fill("#canned-name", "Wrapping");
  await page.fill("#canned-text", "Gift wrapping is free, and we add a handwritten card.");
  await page.click("#canned-save");
  await page.locator("#canned-list li", { hasText: "Wrapping" }).waitFor();
  await page.fill("#canned-name", "Zz temporary");
  await page.fill("#canned-text", "To be deleted.");
  await page.press("#canned-name", "Enter");
  await page.locator("#canned-list li", { hasText: "Zz temporary" }).waitFor();
  await page.click('#canned-list button[aria-label="Delete “Zz temporary”"]');
  await until(page, () => !document.querySelector("#canned-list").textContent.includes("Zz temporary"), STEP);
  const canned = (await agentGet(noorApi, "/v1/agent/canned")).canned;
  assert.deepEqual(canned.map((c) => c.title), ["Wrapping"]);
  await page.keyboard.press("Escape");
  assert.equal(await page.isVisible("#canned-panel"), false, "Escape closes the panel");
  assert.equal(await page.evaluate(() => document.activeElement.id), "canned-toggle", "and gives focus back");
  await page.click("#canned-toggle");
  await page.click('#canned-list button[aria-label="Insert “Wrapping” into the reply"]');
  assert.equal(await page.inputValue("#reply"), "Gift wrapping is free, and we add a handwritten card.");
  assert.equal(await page.evaluate(() => document.activeElement.id), "reply");
  // Shift+Enter is a new line, not a send.
  await page.press("#reply", "Shift+Enter");
  await page.keyboard.type("See you soon!");
  await page.press("#reply", "Enter");
  const cannedReply = "Gift wrapping is free, and we add a handwritten card.\nSee you soon!";
  await until(page, (text) => [...document.querySelectorAll("#messages .msg-text")].some((m) => m.textContent === text), STEP, cannedReply);
  const afterCanned = async () => (await shopperConversations(huda)).find((c) => c.id === conversationId).messages.filter((m) => m.author === "agent").map((m) => m.text);
  await eventually(async () => (await afterCanned()).length === 2);
  assert.deepEqual(await afterCanned(), [reply, cannedReply]);

  // The whole console as it rests, in English.
  await page.locator("#messages").evaluate((list) => (list.scrollTop = list.scrollHeight));
  await axeClean(page);
  await page.screenshot({ path: join(SHOTS, "agent-console-en.png") });

  // A reply that fails stays on screen, marked, and Retry sends it again with the same id.
  const ids = [];
  const replies = "**/v1/agent/conversations/*/messages";
  await page.route(replies, async (route) => {
    ids.push(route.request().postDataJSON().id);
    if (ids.length === 1) await route.fulfill({ status: 503, contentType: "application/json", body: JSON.stringify({ error: "the database is busy" }) });
    else await route.continue();
  });
  const errorsBefore = log.errors.length;
  const flaky = "Your parcel leaves tomorrow morning.";
  await page.fill("#reply", flaky);
  await page.press("#reply", "Enter");
  const failed = page.locator("#messages .msg.is-failed", { hasText: flaky });
  await failed.waitFor();
  assert.match(await failed.textContent(), /Not sent/);
  assert.match(await failed.textContent(), /the database is busy/);
  await failed.getByRole("button", { name: "Retry" }).click();
  await until(page, (text) => [...document.querySelectorAll("#messages .msg")].some((m) => m.textContent.includes(text) && m.dataset.seq && !/is-(sending|failed)/.test(m.className)), STEP, flaky);
  await page.unroute(replies);
  assert.equal(ids.length, 2);
  assert.equal(ids[0], ids[1], "the retry keeps the message's id");
  assert.equal(await message(page, flaky).count(), 1);
  const stored = (await shopperConversations(huda)).find((c) => c.id === conversationId).messages.filter((m) => m.text === flaky);
  assert.deepEqual(stored.map((m) => m.id), [ids[0]], "stored once, under its id");
  assert.ok(log.errors.slice(errorsBefore).every((text) => /503/.test(text)), String(log.errors));
  log.errors.splice(errorsBefore);

  // Keyboard: Tab from the conversation list reaches the open conversation's link.
  await page.focus("#f-q");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.closest("#conversations") !== null), true, "Tab goes from the search to the list");

  // Close it: the composer goes, the shopper's side says closed.
  await page.click("#close-conv");
  await page.locator("#conv-title .pill.closed").waitFor();
  assert.equal(await page.isVisible("#closed-note"), true);
  assert.equal(await page.isDisabled("#reply"), true);
  assert.equal((await shopperConversations(huda)).find((c) => c.id === conversationId).status, "closed");
  // The filters: it is now among the closed ones (with the earlier one), not the open.
  await page.selectOption("#f-status", "closed");
  await until(page, () => [...document.querySelectorAll("#conversations .row-name")].filter((n) => n.textContent === "huda-1").length === 2, STEP);
  await page.selectOption("#f-status", "open");
  await hudaRow.first().waitFor({ state: "detached" });
  await page.selectOption("#f-status", "any");
  await hudaRow.first().waitFor();

  // Text that looks like HTML stays text: nothing runs, nothing is injected.
  const malloryRow = row(page, `Visitor ${mallory.anonymousId.slice(0, 8)}`);
  await malloryRow.click();
  await message(page, "bold?").waitFor();
  const shown = await page.locator("#messages .msg-text").allTextContents();
  assert.deepEqual(shown, xss);
  assert.equal(await page.locator("#messages img, #messages script, #messages b, #ctx img").count(), 0, "no element from shopper text");
  assert.match(await ctx("#ctx-page"), /<img src=y onerror=/);
  assert.equal(await page.locator("#ctx-page a").count(), 0, "a javascript: URL is not a link");
  await page.fill("#reply", "<img src=z onerror=\"window.__xss=4\">");
  await page.press("#reply", "Enter");
  await message(page, "<img src=z").waitFor();
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__xss), undefined, "no script ran");

  // Search finds by message text.
  await page.fill("#f-q", "handwritten");
  await until(page, () => document.querySelectorAll("#conversations .row").length === 1, STEP);
  assert.equal(await page.locator("#conversations .row-name").textContent(), "huda-1");

  // Open the earlier conversation from the context panel.
  await page.fill("#f-q", "");
  await hudaRow.first().click();
  await page.locator("#ctx-earlier a").click();
  await message(page, "larger size").waitFor();
  assert.equal(new URL(page.url()).hash, `#/c/${encodeURIComponent(old.conversationId)}`);

  await close();
  assertOnlyExpected(log, dialogs);
});

// ------------------------------------------------------------------ Arabic: right to left, and the language switch

test("in Arabic the console is right-to-left, mirrored, accessible, and the language choice is kept (ar)", { timeout: 120_000 }, async () => {
  const layla = shopper("layla-2");
  await browsed(layla, {
    page: { url: `${server.url}/product.html?id=p001&lang=ar`, title: "إبريق قهوة من المينا المنقّطة · دار نور" },
    viewed: [
      { product_id: "p008", name: "كبّاسة قهوة فرنسية", price: 110, currency: "AED", url: "/product.html?id=p008" },
      { product_id: "p001", name: "إبريق قهوة من المينا المنقّطة", price: 89, currency: "AED", url: "/product.html?id=p001" },
    ],
    added: [{ product_id: "p001", name: "إبريق قهوة من المينا المنقّطة", price: 89, currency: "AED", quantity: 1 }],
  });
  const context = { url: `${server.url}/product.html?id=p001&lang=ar`, title: "إبريق قهوة من المينا المنقّطة · دار نور", lang: "ar" };
  const asked = await say(layla, "هل يتوفر هذا الإبريق باللون الأزرق؟", { context });

  // The browser speaks Arabic: so does the console, before anything is chosen.
  const { page, log, close, dialogs } = await consoleTab("ar-AE");
  await page.locator("#login-form").waitFor();
  assert.deepEqual(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir, document.title]), ["ar", "rtl", "لوحة خدمة العملاء"]);
  assert.equal(await page.textContent("#login-submit"), "تسجيل الدخول");
  await signIn(page, KARIM, "wrong-password-here");
  await until(page, () => document.querySelector("#login-error").textContent.length > 0, STEP);
  assert.equal(await page.textContent("#login-error"), "البريد الإلكتروني أو كلمة المرور غير صحيحة.");
  await axeClean(page);
  await signIn(page, KARIM);

  const laylaRow = row(page, "layla-2");
  await laylaRow.waitFor();
  assert.equal(plain(await laylaRow.locator(".badge [aria-hidden]").textContent()), "1");
  await laylaRow.click();
  await message(page, "باللون الأزرق").waitFor();
  assert.match(await page.textContent("#ctx-cart"), /إبريق قهوة/);
  assert.match(await page.textContent("#ctx-viewed"), /كبّاسة قهوة فرنسية/);
  assert.match(await page.textContent("#ctx-page"), /دار نور/);
  assert.match(await page.textContent("#ctx-loyalty"), /برونزي/, "a known customer, in the first tier, named in Arabic");

  const reply = "نعم، متوفر باللون الأزرق. هل أضيفه إلى سلتك؟";
  await page.fill("#reply", reply);
  await page.press("#reply", "Enter");
  await until(page, (text) => [...document.querySelectorAll("#messages .msg")].some((m) => m.textContent.includes(text) && m.dataset.seq), STEP, reply);
  const theirs = (await shopperConversations(layla)).find((c) => c.id === asked.conversationId);
  assert.deepEqual(theirs.messages.filter((m) => m.author === "agent").map((m) => m.text), [reply]);
  await say(layla, "نعم من فضلك، شكرًا!", { conversationId: asked.conversationId });
  await message(page, "نعم من فضلك").waitFor();

  // Mirrored: the inbox on the right, the context on the left, the agent's own bubble at the left.
  const box = async (selector) => page.locator(selector).first().boundingBox();
  const [inbox, main, aside] = [await box("#inbox"), await box("main"), await box("#context")];
  assert.ok(inbox.x > main.x && main.x > aside.x, `inbox | conversation | context from the right: ${inbox.x}, ${main.x}, ${aside.x}`);
  const mine = await box("#messages .msg.mine .bubble");
  const theirsBubble = await box("#messages .msg.from-shopper .bubble");
  assert.ok(mine.x < theirsBubble.x, "the agent's reply sits at the end side, the left in Arabic");
  assert.match(await page.textContent("#conv-sub"), /مُسندة إليك/);
  await axeClean(page);
  await page.screenshot({ path: join(SHOTS, "agent-console-ar.png") });

  // Switch to English: left-to-right at once, kept across a reload (still signed in).
  await page.selectOption("#lang", "en");
  assert.deepEqual(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir, localStorage.getItem("souk.agent.lang")]), ["en", "ltr", "en"]);
  assert.equal(await page.textContent("#inbox-title"), "Inbox");
  const [inboxEn, asideEn] = [await box("#inbox"), await box("#context")];
  assert.ok(inboxEn.x < asideEn.x, "the inbox back on the left");
  await page.reload();
  await page.locator("#inbox").waitFor();
  await message(page, "نعم من فضلك").waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.dir), "ltr");
  assert.equal(await page.textContent("#inbox-title"), "Inbox");

  // A narrow screen stacks the columns, with no sideways scrolling.
  await page.setViewportSize({ width: 390, height: 844 });
  const [inboxNarrow, mainNarrow] = [await box("#inbox"), await box("main")];
  assert.ok(inboxNarrow.y < mainNarrow.y, "stacked");
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), "no horizontal scroll");
  await page.screenshot({ path: join(SHOTS, "agent-console-phone-en.png"), fullPage: true });

  // Sign out: back to the form; the session is gone.
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.click("#logout");
  await page.locator("#login-form").waitFor();
  assert.equal(await page.evaluate(() => fetch("/v1/agent/me").then((r) => r.status)), 401);
  await close();
  assertOnlyExpected(log, dialogs);
});
