// The chat's chaos test: a shopper on the demo shop writes through <souk-chat> while
// an agent answers over the agent API, and between them and souk-server a proxy
// drops, resets, stalls, refuses and hangs their messages, loses answers the server
// already stored, and cuts or refuses the shopper's event stream; the network goes
// offline and the page reloads, right after a send too. Three moments are set up on
// purpose: the first stream is cut before it brought anything (the live page must
// still catch up), a POST hangs (the chat must give up on it), and the last messages
// are written while a POST is held up (they must go with nothing else to prompt
// them). Once the storm passes, the server, the live page and the page after a
// reload must show the same messages, each once, in the same order, the shopper's in
// the order written and the agent's in the order sent. SOUK_CHAT_CHAOS_SEED replays a
// run's faults.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startChaosProxy } from "./chaos-proxy.mjs";
import { ROOT, launchBrowser, startServer, until } from "./harness.mjs";

/** The shopper's messages: souk-server takes 20 at once and then 20 a minute from one visitor, and the run is short. */
const SHOPPER = 24;
const AGENT = 40;
const SEED = Number(process.env.SOUK_CHAT_CHAOS_SEED) || 20261126;
const BIN = process.env.SOUK_SERVER_BIN || join(ROOT, "target/debug/souk-server");
const AGENT_EMAIL = "noor@shop.example";
const PASSWORD = "brass-dallah-at-dawn";
const OUTBOX = "souk:functional:chat:out:";
/** The message POSTs of both sides get faults; pages, files and reads pass. */
const MESSAGE_POST = /^\/v1\/(chat|agent\/conversations\/[^/?]+)\/messages(\?|$)/;
/**
 * The faults are dealt from this deck, reshuffled when used up, so every kind happens
 * in each 25 messages sent. A hang costs the chat its 10 s timeout, so there is one,
 * planned, where nothing else would unblock the chat: see the shopper's tail.
 */
const DECK = { pass: 14, drop: 2, reset: 1, lostAnswer: 2, error500: 2, tooMany429: 2, stall: 2 };

let server, proxy, browser;

before(async () => {
  server = await startServer();
  execFileSync(BIN, ["agent", "add", "--db", server.db, "--email", AGENT_EMAIL, "--name", "Noor"], {
    env: { ...process.env, SOUK_AGENT_PASSWORD: PASSWORD },
    stdio: ["ignore", "ignore", "pipe"],
  });
  proxy = await startChaosProxy(server.url, SEED, {
    faulty: (req) => req.method === "POST" && MESSAGE_POST.test(req.url),
    deck: DECK,
    cutStreams: true,
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
  await server?.stop();
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Seeded, so a failing run replays with SOUK_CHAT_CHAOS_SEED. */
const random = ((seed) => () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31))(SEED);

/** The agent, signed in through the proxy; its replies retry with the same id until the server has them, as the console does. */
async function signIn() {
  const login = await fetch(`${proxy.url}/v1/agent/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: AGENT_EMAIL, password: PASSWORD }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(login.status, 200);
  const cookie = login.headers.get("set-cookie").split(";")[0];
  const agent = { attempts: 0, failures: 0 };
  agent.get = async (path) => {
    const response = await fetch(proxy.url + path, { headers: { Cookie: cookie }, signal: AbortSignal.timeout(10_000) });
    assert.ok(response.ok, `${path}: ${response.status}`);
    return response.json();
  };
  agent.reply = async (conversationId, id, text) => {
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      agent.attempts += 1;
      const response = await fetch(`${proxy.url}/v1/agent/conversations/${conversationId}/messages`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Cookie: cookie },
        body: JSON.stringify({ id, text }),
        signal: AbortSignal.timeout(4000), // the proxy's hang
      }).catch(() => null);
      if (response?.ok) return;
      assert.ok(!response || response.status >= 500 || response.status === 429, `agent reply: ${response?.status}`);
      agent.failures += 1;
      const after = Number(response?.headers.get("Retry-After")) * 1000;
      await sleep(after || 150 + random() * 250);
    }
    throw new Error(`the agent's reply ${id} did not get through in 30 s`);
  };
  return agent;
}

/** The messages <souk-chat> shows, in order: text and the shopper's status line. */
const shown = (page) =>
  page.evaluate(() =>
    [...(document.querySelector("souk-chat")?.shadowRoot?.querySelectorAll("[role=log] div.m") || [])].map((m) => ({
      text: m.querySelector(".bb")?.textContent,
      status: m.querySelector(".mt span")?.textContent || "",
    })),
  );

const outboxSize = (page) => page.evaluate((prefix) => Object.keys(localStorage).filter((key) => key.startsWith(prefix)).length, OUTBOX);

/** Waits for souk and the chat on a freshly loaded page, and opens the panel. */
async function openChat(page) {
  await until(page, () => window.souk?.ready(), 20_000);
  await page.waitForFunction(() => document.querySelector("souk-chat")?.shadowRoot?.querySelector("button"), null, { timeout: 10_000 });
  await page.locator("souk-chat").getByRole("button", { name: /Chat with us/ }).first().click({ timeout: 10_000 });
  await page.locator("souk-chat #tx").waitFor({ state: "visible", timeout: 10_000 });
}

test(`${SHOPPER} shopper and ${AGENT} agent messages through drops, resets, lost answers, stalls, hangs, cut streams, offline spells and reloads end the same on both sides`, { timeout: 120_000 }, async () => {
  const started = Date.now();
  console.log(`chat chaos: seed ${SEED}`);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  await page.goto(`${proxy.url}/index.html?lang=en`);
  await until(page, () => window.souk.ready(), 20_000);
  await page.getByRole("button", { name: "Accept all", exact: true }).click();
  await openChat(page);
  const agent = await signIn();

  const written = [];
  const sent = [];
  const actions = { reloads: 0, reloadsWithUnsent: 0, offline: 0, writtenOffline: 0 };
  let conversationId;
  let offline = 0; // messages still to write offline
  const onServer = async () => {
    conversationId ||= (await agent.get("/v1/agent/conversations?status=any")).conversations[0]?.id;
    return conversationId ? (await agent.get(`/v1/agent/conversations/${conversationId}`)).messages : [];
  };
  const texts = (messages) => messages.map((m) => m.text);

  /** The shopper writes message `i` through the widget, which takes one at a time. */
  async function write(i) {
    const text = `shopper ${String(i).padStart(2, "0")}: is the brass lantern ${["in stock", "gift wrapped", "handmade", "on sale"][i % 4]}?`;
    const composer = page.locator("souk-chat #tx");
    await composer.fill(text);
    await composer.press("Enter");
    // The composer empties once the chat has kept the message.
    await until(page, () => document.querySelector("souk-chat").shadowRoot.querySelector("#tx").value === "", 5_000).catch(async (error) => {
      const said = await page.evaluate(() => document.querySelector("souk-chat").shadowRoot.querySelector("#e").textContent);
      throw new Error(`message ${i}: the composer kept the text (${said || "no error shown"}): ${error.message}`);
    });
    written.push(text);
    if (offline > 0) {
      actions.writtenOffline += 1;
      if (--offline === 0) await context.setOffline(false);
    }
  }

  /** Waits (at most `ms`) until the live page has caught up with what the server held when asked. */
  async function caughtUp(ms, what) {
    const held = texts(await onServer());
    let live = [];
    for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(100)) {
      live = texts(await shown(page));
      if (held.every((text, k) => live[k] === text)) return;
    }
    assert.deepEqual(live.slice(0, held.length), held, what);
  }

  /** Waits (at most `ms`) until the page's outbox is empty and it shows nothing pending. */
  async function drained(ms, what) {
    for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(100)) {
      const pending = (await shown(page)).filter((m) => /Sending|Not sent/.test(m.status));
      if (!pending.length && (await outboxSize(page)) === 0) return;
    }
    assert.fail(`${what}: still waiting after ${ms / 1000} s: ${JSON.stringify((await shown(page)).filter((m) => /Sending|Not sent/.test(m.status)))}`);
  }

  const shopperPost = (req) => req.url.startsWith("/v1/chat/messages");
  // After which messages the page reloads (at once, or once a POST is on the wire) or
  // the network goes away for the next two.
  const reloadAfter = new Map([[3, "at once"], [7, "mid-POST"], [12, "at once"], [16, "mid-POST"]]);
  const offlineAfter = new Set([4, 9, 13]);
  const TAIL = 6;

  const shopper = (async () => {
    // The first stream is cut before it brought anything, so the browser reconnects it
    // with no Last-Event-ID; the first messages go meanwhile. Streams then pass until the
    // live page has caught up with the server (a refused stream would make the chat
    // read the conversation again, which hides a gap).
    for (const deadline = Date.now() + 10_000; proxy.streams.cut === 0; await sleep(25)) {
      assert.ok(Date.now() < deadline, `the first stream was cut: ${JSON.stringify(proxy.streams)}`);
    }
    proxy.cutStreams = false;
    for (let i = 0; i < SHOPPER - TAIL; i++) {
      await write(i);
      if (i === 3) {
        await caughtUp(15_000, "before the first reload, the live page caught up with the server");
        proxy.cutStreams = true;
      }
      if (offlineAfter.has(i)) {
        actions.offline += 1;
        offline = 2;
        await context.setOffline(true);
      }
      if (reloadAfter.has(i)) {
        if (reloadAfter.get(i) === "mid-POST") for (let t = 0; t < 40 && proxy.inFlight === 0; t++) await sleep(25);
        if ((await outboxSize(page)) > 0) actions.reloadsWithUnsent += 1;
        await page.reload();
        actions.reloads += 1;
        await openChat(page);
      } else {
        await sleep(300 + random() * 600);
      }
    }
    // The tail, with nothing after it to prompt the chat: the shopper's next POST is never
    // answered while two more are written; then one is held up while the last two are.
    proxy.plan("hang", shopperPost);
    for (let i = SHOPPER - TAIL; i < SHOPPER - 3; i++) await write(i).then(() => sleep(400));
    await drained(30_000, "the chat gave up on the unanswered POST and sent its messages again");
    proxy.plan("stall", shopperPost);
    for (let i = SHOPPER - 3; i < SHOPPER; i++) await write(i);
  })();

  const agentSide = (async () => {
    // The agent answers once the shopper's first message opened the conversation.
    for (const deadline = Date.now() + 20_000; !conversationId; await sleep(200)) {
      assert.ok(Date.now() < deadline, "the shopper's first message opened a conversation");
      conversationId = (await agent.get("/v1/agent/conversations?status=any")).conversations[0]?.id;
    }
    for (let j = 0; j < AGENT; j++) {
      const text = `agent ${String(j).padStart(2, "0")}: let me check that for you`;
      await agent.reply(conversationId, `a-${SEED}-${j}`, text);
      sent.push(text);
      await sleep(100 + random() * 300);
    }
  })();

  await Promise.all([shopper, agentSide]);
  const storm = Date.now() - started;

  // The storm passes: the network is back and the proxy passes everything.
  await context.setOffline(false);
  proxy.chaos = false;
  let messages = [];
  let live = [];
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(250)) {
    messages = await onServer();
    live = await shown(page);
    const same = live.length === messages.length && live.every((m, k) => m.text === messages[k].text && !/Sending|Not sent/.test(m.status));
    if (messages.length >= SHOPPER + AGENT && same) break;
  }
  const quiet = Date.now() - started - storm;
  console.log(
    `chat chaos: seed ${SEED}; ${proxy.posts} message POSTs ${JSON.stringify(proxy.counts)}; streams ${JSON.stringify(proxy.streams)};`,
    `agent ${agent.attempts} attempts (${agent.failures} failed); ${JSON.stringify(actions)}; storm ${(storm / 1000).toFixed(1)} s, quiet after ${(quiet / 1000).toFixed(1)} s`,
  );

  // The server: every message once, the shopper's in the order written, the agent's in the order sent.
  const serverTexts = texts(messages);
  assert.equal(new Set(messages.map((m) => m.id)).size, messages.length, "no id stored twice");
  assert.equal(new Set(serverTexts).size, serverTexts.length, "no text stored twice");
  assert.deepEqual(messages.filter((m) => m.author === "shopper").map((m) => m.text), written, "the shopper's messages, each once, in the order written");
  assert.deepEqual(messages.filter((m) => m.author === "agent").map((m) => m.text), sent, "the agent's messages, each once, in the order sent");
  assert.equal(messages.length, SHOPPER + AGENT);
  assert.ok(messages.every((m, i) => i === 0 || m.seq > messages[i - 1].seq), "the server's messages in seq order");

  // The live page, then the page after a reload: the server's messages, in its order.
  assert.deepEqual(live.map((m) => m.text), serverTexts, "the live page shows the server's messages in its order");
  assert.deepEqual(live.filter((m) => /Sending|Not sent/.test(m.status)), [], "nothing left pending on the live page");
  await page.reload();
  await openChat(page);
  let reloaded = [];
  for (const deadline = Date.now() + 15_000; Date.now() < deadline && reloaded.length < serverTexts.length; await sleep(100)) reloaded = await shown(page);
  assert.deepEqual(reloaded.map((m) => m.text), serverTexts, "the reloaded page shows the server's messages in its order");
  assert.equal(await outboxSize(page), 0, "the outbox is empty");
  assert.deepEqual(pageErrors, [], "nothing was thrown into the page");

  // The storm really happened: every fault and every tab action.
  for (const [fault, count] of Object.entries(proxy.counts)) assert.ok(count > 0, `fault ${fault} happened`);
  assert.ok(proxy.streams.cut > 0 && proxy.streams.refused > 0, `the stream was cut and refused: ${JSON.stringify(proxy.streams)}`);
  assert.ok(actions.reloads >= 4 && actions.reloadsWithUnsent >= 1, JSON.stringify(actions));
  assert.ok(actions.offline >= 3 && actions.writtenOffline >= 2, JSON.stringify(actions));
  await context.close();
});
