// The chaos test: three tabs of one shopper track thousands of events while a proxy
// between Chromium and souk-server drops, resets, stalls and refuses requests, the
// network goes offline, and tabs reload or close in the middle of a flush. Once the
// storm passes, souk-server's database must hold every event exactly once.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startChaosProxy } from "./chaos-proxy.mjs";
import { ROOT, cleanup, launchBrowser, startServer, until } from "./harness.mjs";

const EVENTS = 6000;
const PER_CALL = 25;
const TABS = 3;
const SEED = Number(process.env.SOUK_CHAOS_SEED) || 20261125;

const SNIPPET = readFileSync(join(ROOT, "dist/snippet.min.js"), "utf8").trim();
const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>chaos</title>
<link rel="icon" href="data:,"><script>${SNIPPET}
souk.init({ writeKey: "souk_demo_write_key", capture: false, consent: { external: true }, flushInterval: 200 });</script>
</head><body><main><h1>Chaos</h1></main></body></html>`;

let server, proxy, browser, www;

before(async () => {
  www = mkdtempSync(join(tmpdir(), "souk-chaos-"));
  writeFileSync(join(www, "index.html"), PAGE);
  server = await startServer({ www });
  proxy = await startChaosProxy(server.url, SEED);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
  await server?.stop();
  cleanup(www);
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Tracks events `from`..`from + count` in `page`; returns the numbers souk refused. */
const trackRange = (page, from, count) =>
  page.evaluate(
    ([from, count]) => {
      const refused = [];
      let n = from;
      const onError = (error) => refused.push(`${n}: ${error.name}: ${error.message}`);
      window.souk.on("error", onError);
      for (; n < from + count; n++) window.souk.track("Chaos Event", { n, tab: window.tabName });
      window.souk.off("error", onError);
      return refused;
    },
    [from, count],
  );

const stats = (page) => page.evaluate(() => window.souk.stats());

test(`${EVENTS} events through drops, resets, stalls, 500s, 429s, offline spells, reloads and closed tabs arrive exactly once`, async () => {
  const context = await browser.newContext();
  const pageErrors = [];
  let tabCount = 0;
  async function openTab() {
    const page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    await page.goto(`${proxy.url}/index.html`);
    await until(page, () => window.souk.ready(), 20_000);
    await page.evaluate((name) => (window.tabName = name), `tab-${++tabCount}`);
    return page;
  }
  const tabs = [await openTab()];
  await tabs[0].evaluate(() => window.souk.consent.set({ analytics: true }));
  while (tabs.length < TABS) tabs.push(await openTab());

  // Waits (briefly) for a POST to be on the wire, so the next action lands mid-flush.
  const midFlush = async () => {
    for (let i = 0; i < 40 && proxy.inFlight === 0; i++) await sleep(25);
  };

  const random = ((seed) => () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31))(SEED);
  const refused = [];
  const actions = { reloads: 0, closes: 0, offline: 0 };
  let offlineUntil = 0;
  for (let n = 0, round = 0; n < EVENTS; round++) {
    const online = Date.now() >= offlineUntil;
    if (online && actions.offline > 0) await context.setOffline(false);
    // Keep the shared queue well under its 1,000 events, as a real shopper would.
    while ((await stats(tabs[0])).queued > 600) {
      if (Date.now() >= offlineUntil) await context.setOffline(false);
      await sleep(100);
    }
    const tab = tabs[round % tabs.length];
    refused.push(...(await trackRange(tab, n, PER_CALL)));
    n += PER_CALL;

    const roll = random();
    if (round % 20 === 10 && actions.offline < 3) {
      actions.offline += 1;
      offlineUntil = Date.now() + 1500 + random() * 1500;
      await context.setOffline(true);
    } else if (online && roll < 0.05) {
      await midFlush();
      await tab.reload();
      await until(tab, () => window.souk.ready(), 20_000);
      await tab.evaluate((name) => (window.tabName = name), `tab-${++tabCount}`);
      actions.reloads += 1;
    } else if (online && roll < 0.08) {
      await midFlush();
      await tab.close();
      tabs.splice(tabs.indexOf(tab), 1, await openTab());
      actions.closes += 1;
    } else {
      await sleep(20);
    }
  }

  // The storm passes: the network is back and the backend answers. One tab is enough.
  await context.setOffline(false);
  proxy.chaos = false;
  for (const tab of tabs.slice(1)) await tab.close();
  const last = tabs[0];
  const stored = () => server.events().filter((event) => event.event === "Chaos Event");
  const deadline = Date.now() + 150_000;
  let events = stored();
  while (events.length < EVENTS && Date.now() < deadline) {
    await last.evaluate(() => window.souk.flush());
    await sleep(1000);
    events = stored();
  }
  await until(last, () => window.souk.stats().queued === 0, 30_000);
  events = stored();
  const report = { seed: SEED, faults: proxy.counts, posts: proxy.posts, actions, stored: events.length };
  console.log("chaos:", JSON.stringify(report));

  assert.deepEqual(refused, [], "the queue never had to refuse an event");
  const times = new Map();
  for (const event of events) times.set(event.properties.n, (times.get(event.properties.n) || 0) + 1);
  const missing = [...Array(EVENTS).keys()].filter((n) => !times.has(n));
  const doubled = [...times].filter(([, count]) => count > 1).map(([n]) => n);
  assert.deepEqual(missing, [], "no event lost");
  assert.deepEqual(doubled, [], "no event stored twice");
  assert.equal(events.length, EVENTS);
  assert.equal(new Set(events.map((event) => event.messageId)).size, EVENTS);
  assert.equal((await stats(last)).dropped, 0);
  assert.deepEqual(pageErrors, [], "nothing was thrown into the page");

  // The storm really happened: every fault and every tab action, more than once.
  for (const [fault, count] of Object.entries(proxy.counts)) assert.ok(count > 0, `fault ${fault} happened`);
  assert.ok(actions.reloads >= 2 && actions.closes >= 2 && actions.offline >= 2, JSON.stringify(actions));
  await context.close();
});
