// What souk does once its module is live, loaded with the wasm glue on `init()` so
// that it costs the page's load path nothing: delivery to the backend, the consent
// banner and Google Consent Mode. The decisions are the core's; this only carries
// them out in the browser.
import { Souk } from "souk-wasm-glue";
import { startCapture } from "./capture.js";
import { startChat } from "./chat.js";
import { startLoyalty } from "./loyalty.js";
import { startRecommendations } from "./recommendations.js";

const REQUEST_TIMEOUT_MS = 15000;
const BEACON = -1;

/**
 * Reads an answer for the core, which decides what it means: the status (0 for no
 * answer), `Retry-After`, and the messages a taken batch refused, with reasons.
 */
async function answer(response) {
  const body = response.ok ? await response.json().catch(() => ({})) : {};
  const retryAfter = Number(response.headers.get("Retry-After")) || undefined;
  return { status: response.status, retryAfter, rejected: Array.isArray(body.rejected) ? body.rejected : [] };
}

/** Starts the core for the client; throws SoukConfigError for a config it refuses. */
export function goLive({ config, files, emit, fail, guarded, isLive }) {
  const handle = new Souk(config);
  // Events wait this long for others to share their request, unless a full batch waits.
  const interval = config.flushInterval >= 0 ? Math.min(config.flushInterval, 60000) : 1000;
  let flushTimer = 0;
  let flushAt = Infinity;
  let banner = null;
  let analyticsOn = JSON.parse(handle.consentState()).categories.analytics;

  const lang = () => config.lang || document.documentElement.lang || navigator.language || "en";

  // Posts what the core hands over. Bodies go as text/plain, which needs no CORS
  // preflight and is what sendBeacon sends; the write key is in the body. A request
  // that hangs is given up after a while, so the batch can go again.
  function post({ id, path, body }) {
    const url = handle.apiHost + path;
    const signal = AbortSignal.timeout ? AbortSignal.timeout(REQUEST_TIMEOUT_MS) : undefined;
    const init = { method: "POST", body, signal, keepalive: body.length < 60000, headers: { "Content-Type": "text/plain" } };
    return fetch(url, init)
      .then(answer, () => ({ status: 0, rejected: [] }))
      .then(({ status, retryAfter, rejected }) =>
        guarded(() => {
          if (!isLive()) return;
          const wait = handle.settle(id, status, retryAfter);
          if (status >= 400 && wait < 0) fail(new Error(`souk: the backend refused ${path} with HTTP ${status}; dropped`));
          for (const { messageId, error } of rejected) {
            fail(new Error(`souk: the backend refused message ${messageId}: ${error}; dropped`));
          }
          if (wait >= 0) schedule(wait);
          else recorded(handle.queued > 0);
        }),
      );
  }

  // On the way out (pagehide) sendBeacon hands the request to the browser, which
  // sends it after the page is gone. Its fate is unknown, so the messages stay
  // queued: the next page sends them again, and the backend keeps each once.
  function beacon({ id, path, body }) {
    navigator.sendBeacon(handle.apiHost + path, new Blob([body], { type: "text/plain" }));
    handle.settle(id, BEACON);
  }

  // The queue is shared by the shop's tabs (it lives in localStorage): one tab at a
  // time flushes it, under a Web Lock; the others look again later. Offline, nothing
  // is tried until the browser says it is back online.
  function deliver(leaving) {
    clearTimeout(flushTimer);
    flushTimer = 0;
    flushAt = Infinity;
    if (!isLive() || navigator.onLine === false) return;
    if (leaving && navigator.sendBeacon) return void handle.flush().forEach(beacon);
    const sendAll = () => Promise.all(handle.flush().map(post));
    if (!navigator.locks) return void sendAll();
    navigator.locks
      .request("souk:flush", { ifAvailable: true }, (lock) => (lock ? sendAll() : schedule(2000)))
      .catch(fail);
  }

  // Delivers in `ms`, or sooner if a delivery is already due sooner. Called during
  // start-up too, before the client counts souk as live: deliver() checks liveness.
  function schedule(ms = 0) {
    if (Date.now() + ms >= flushAt) return;
    clearTimeout(flushTimer);
    flushAt = Date.now() + ms;
    flushTimer = setTimeout(() => guarded(deliver, false), ms);
  }

  /** After a call was queued: deliver at once if a batch is full, else after the interval. */
  const recorded = (queued) => queued && schedule(handle.due ? 0 : interval);

  // An idle cart is noticed while the page stays open, too.
  const checkCart = () => guarded(() => recorded(handle.checkCart()));

  function gtag(command) {
    if (typeof globalThis.gtag === "function") globalThis.gtag("consent", command, JSON.parse(handle.googleConsent()));
  }

  const consentState = () => JSON.parse(handle.consentState());

  // After a decision that changed something: close the banner, mirror it to Google
  // Consent Mode, tell listeners, deliver.
  function decided(changed) {
    closeBanner();
    if (!changed) return;
    gtag("update");
    const state = consentState();
    emit("consent", state);
    loyalty.scan();
    chat.scan();
    // Granting starts what it allows: the page the shopper said yes on counts too.
    // (With bufferBeforeDecision it was captured already, and waited for this yes.)
    if (state.categories.analytics && !analyticsOn && !config.consent?.bufferBeforeDecision) capture.view();
    analyticsOn = state.categories.analytics;
    schedule();
  }

  const decide = (base, choices, source) => decided(handle.decide(base, choices || {}, source, lang()));

  // An IAB TCF v2.2 CMP on the page decides; souk only reads it (it is no CMP).
  function readTcf(tcData, success) {
    const settled = tcData && (tcData.eventStatus === "tcloaded" || tcData.eventStatus === "useractioncomplete");
    if (success && settled && tcData.gdprApplies !== false) {
      decided(handle.decideTcf((tcData.purpose && tcData.purpose.consents) || {}, lang()));
    }
  }

  function closeBanner() {
    banner?.close();
    banner = null;
  }

  async function openBanner(layer, focus) {
    await files.load(config, "souk_consent.js");
    // A decision may have come (a consent manager, souk.consent.set) while it loaded.
    if (!isLive() || (layer === "first" && !handle.needsDecision())) return;
    if (!banner) {
      banner = document.createElement("souk-consent");
      banner.addEventListener("souk-consent-action", ({ detail }) =>
        guarded(() => {
          const base = detail.action === "accept_all" ? "all" : "none";
          decide(base, detail.action === "save" ? detail.choices : null, "banner");
        }),
      );
      document.body.prepend(banner);
    }
    const view = JSON.parse(handle.bannerView(lang()));
    banner.show(view, { layer, text: config.consent?.text?.[view.lang], focus });
  }

  const showBanner = (layer, focus) => openBanner(layer, focus).catch(fail);

  const whenParsed = (fn) =>
    document.readyState === "loading"
      ? addEventListener("DOMContentLoaded", () => guarded(fn), { once: true })
      : guarded(fn);

  // The language widgets speak: Arabic or English.
  const widgetLang = () => (lang().toLowerCase().startsWith("ar") ? "ar" : "en");
  const parts = { config, files, handle, guarded, fail, whenParsed, widgetLang };
  // `methods` comes below: reach it when a list is seen or clicked.
  const recommendations = startRecommendations({ ...parts, track: (name, properties) => methods.track(name, properties) });
  const functional = () => consentState().categories.functional;
  const loyalty = startLoyalty({ ...parts, functional });
  const chat = startChat({ ...parts, functional });

  const onPageHide = () => guarded(deliver, true);
  // Hidden is often the last moment a page is sure to run: send what waits.
  const onHidden = () => document.visibilityState === "hidden" && guarded(deliver, false);
  const onOnline = () =>
    guarded(() => {
      handle.online();
      schedule();
    });

  const methods = {
    track(name, properties) {
      recorded(handle.track(name, properties));
      emit("track", name, properties);
    },
    page(name, properties) {
      if (name !== null && typeof name === "object") [name, properties] = [undefined, name];
      // Where the page is, as Segment's clients record it; the shop's own properties win.
      const { pathname: path, href: url, search } = location;
      const plain = properties == null || (typeof properties === "object" && !Array.isArray(properties));
      if (plain) properties = { path, url, search, title: document.title, referrer: document.referrer, ...properties };
      recorded(handle.page(name == null ? undefined : String(name), properties));
      emit("page", name, properties);
      // A new page (an SPA's too) may show recommendations.
      recommendations.scan();
    },
    identify(userId, traits, options) {
      recorded(handle.identify(userId, traits));
      loyalty.identify(userId, options && options.userHash);
      chat.identify(userId, options && options.userHash);
    },
    alias(userId, previousId) {
      recorded(handle.alias(userId, previousId == null ? undefined : String(previousId)));
    },
    reset() {
      handle.reset();
      loyalty.identify(null);
      chat.reset();
    },
    "consent.set": (choices) => decide("current", choices, "api"),
    "consent.show": () => showBanner("choices", true),
    flush: () => deliver(false),
    __panic: () => handle.__panic(),
  };
  const capture = startCapture({ config, handle, emit, guarded, schedule: () => recorded(true), page: () => methods.page() });

  // With the shop's own consent manager (TCF, or `consent.external`), it asks, not souk.
  const tcf = typeof globalThis.__tcfapi === "function";
  gtag("default");
  if (tcf) globalThis.__tcfapi("addEventListener", 2, (tcData, success) => guarded(readTcf, tcData, success));
  if (handle.needsDecision() && !tcf && !(config.consent && config.consent.external)) showBanner("first", false);
  addEventListener("pagehide", onPageHide);
  addEventListener("visibilitychange", onHidden);
  addEventListener("online", onOnline);
  const cartTimer = setInterval(checkCart, 60000);
  recommendations.scan();
  loyalty.scan();
  chat.scan();
  checkCart();
  schedule();

  return {
    methods,
    consentState,
    stats: () => ({ queued: handle.queued, dropped: handle.dropped }),
    stop() {
      clearTimeout(flushTimer);
      clearInterval(cartTimer);
      removeEventListener("pagehide", onPageHide);
      removeEventListener("visibilitychange", onHidden);
      removeEventListener("online", onOnline);
      recommendations.stop();
      loyalty.stop();
      chat.stop();
      closeBanner();
    },
  };
}
