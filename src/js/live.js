// What souk does once its module is live, loaded with the wasm glue on `init()` so
// that it costs the page's load path nothing: delivery to the backend, the consent
// banner and Google Consent Mode. The decisions are the core's; this only carries
// them out in the browser.
import { Souk } from "souk-wasm-glue";
import { startCapture } from "./capture.js";

const RETRY_MS = [1000, 2000, 5000, 15000, 60000];

/**
 * What an answer means for a request: delivered; refused for good (a 4xx other than
 * 408 and 429: retrying cannot help, so it is dropped and reported); or to retry,
 * after `Retry-After` when the server gave one.
 */
async function verdict(response) {
  if (response.ok) {
    // A batch can be taken while some of its messages were refused, each with its reason.
    const answer = await response.json().catch(() => ({}));
    return { done: true, rejected: answer.rejected };
  }
  const { status } = response;
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { done: true, refused: status };
  const seconds = Number(response.headers.get("Retry-After"));
  return { done: false, waitMs: seconds > 0 ? Math.min(seconds, 3600) * 1000 : 0 };
}

/** Starts the core for the client; throws SoukConfigError for a config it refuses. */
export function goLive({ config, files, emit, fail, guarded, isLive }) {
  const handle = new Souk(config);
  let flushTimer = 0;
  let failures = 0;
  let banner = null;
  let analyticsOn = JSON.parse(handle.consentState()).categories.analytics;

  const lang = () => config.lang || document.documentElement.lang || navigator.language || "en";

  // Posts what the core hands over. Bodies go as text/plain, which needs no CORS
  // preflight and is what sendBeacon sends; the write key is in the body.
  function post({ id, path, body }) {
    const url = handle.apiHost + path;
    return fetch(url, { method: "POST", body, keepalive: body.length < 60000, headers: { "Content-Type": "text/plain" } })
      .then(verdict, () => ({ done: false, waitMs: 0 }))
      .then(({ done, refused, rejected, waitMs }) =>
        guarded(() => {
          if (!isLive()) return;
          handle.settle(id, done);
          if (refused) fail(new Error(`souk: the backend refused ${path} with HTTP ${refused}; dropped`));
          for (const { messageId, error } of Array.isArray(rejected) ? rejected : []) {
            fail(new Error(`souk: the backend refused message ${messageId}: ${error}; dropped`));
          }
          failures = done ? 0 : failures + 1;
          // Exponential backoff with jitter, so many tabs do not retry in step.
          const backoff = RETRY_MS[Math.min(failures, RETRY_MS.length) - 1] * (0.5 + Math.random());
          schedule(done ? 0 : Math.max(waitMs, backoff));
        }),
      );
  }

  // On the way out (pagehide) sendBeacon hands the request to the browser, which
  // sends it after the page is gone.
  function beacon({ id, path, body }) {
    handle.settle(id, navigator.sendBeacon(handle.apiHost + path, new Blob([body], { type: "text/plain" })));
  }

  // The queue is shared by the shop's tabs (it lives in localStorage): one tab at a
  // time flushes it, under a Web Lock; the others look again later.
  function deliver(leaving) {
    clearTimeout(flushTimer);
    flushTimer = 0;
    if (!isLive()) return;
    if (leaving && navigator.sendBeacon) return void handle.flush().forEach(beacon);
    const sendAll = () => Promise.all(handle.flush().map(post));
    if (!navigator.locks) return void sendAll();
    navigator.locks
      .request("souk:flush", { ifAvailable: true }, (lock) => (lock ? sendAll() : schedule(2000)))
      .catch(fail);
  }

  // Called during start-up too, before the client counts souk as live: deliver()
  // checks liveness when the timer fires.
  function schedule(ms = 0) {
    if (!flushTimer) flushTimer = setTimeout(() => guarded(deliver, false), ms);
  }

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
    // Granting starts what it allows: the page the shopper said yes on counts too.
    if (state.categories.analytics && !analyticsOn) capture.view();
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
    await files.consent(config);
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
  const onPageHide = () => guarded(deliver, true);

  const methods = {
    track(name, properties) {
      if (handle.track(name, properties)) schedule();
      emit("track", name, properties);
    },
    page(name, properties) {
      if (name !== null && typeof name === "object") [name, properties] = [undefined, name];
      if (handle.page(name == null ? undefined : String(name), properties)) schedule();
      emit("page", name, properties);
    },
    identify(userId, traits) {
      if (handle.identify(userId, traits)) schedule();
    },
    alias(userId, previousId) {
      if (handle.alias(userId, previousId == null ? undefined : String(previousId))) schedule();
    },
    reset: () => handle.reset(),
    "consent.set": (choices) => decide("current", choices, "api"),
    "consent.show": () => showBanner("choices", true),
    flush: () => deliver(false),
    __panic: () => handle.__panic(),
  };
  const capture = startCapture({ config, handle, emit, guarded, schedule, page: () => methods.page() });

  // With the shop's own consent manager (TCF, or `consent.external`), it asks, not souk.
  const tcf = typeof globalThis.__tcfapi === "function";
  gtag("default");
  if (tcf) globalThis.__tcfapi("addEventListener", 2, (tcData, success) => guarded(readTcf, tcData, success));
  if (handle.needsDecision() && !tcf && !(config.consent && config.consent.external)) showBanner("first", false);
  addEventListener("pagehide", onPageHide);
  schedule();

  return {
    methods,
    consentState,
    stop() {
      clearTimeout(flushTimer);
      removeEventListener("pagehide", onPageHide);
      closeBanner();
    },
  };
}
