// The `souk` object shared by the script-tag loader and the npm entry: the part that
// is on every page load, so it stays small. It keeps calls made before souk is live
// and replays them in order, loads the runtime (wasm + live.js) on `init()`, and
// contains every failure: nothing souk does may throw into the shop's page.

const KEY = Symbol.for("souk.client");
const EVENTS = ["track", "page", "error", "consent"];

/**
 * The page's one souk client, created on first use.
 * @param {{ load(config, file: string): Promise<object>, url(config, file: string): URL }} files
 *   loads a chunk (the runtime, a widget, a wasm module's glue) and locates a wasm
 *   module, by file name, wherever `publicPath` or the loader's own URL puts them
 */
export function pageClient(files) {
  return globalThis[KEY] || (globalThis[KEY] = createClient(files));
}

function createClient(files) {
  const listeners = Object.fromEntries(EVENTS.map((name) => [name, []]));
  const waiting = [];
  const readiness = [];
  let state = "idle"; // idle → loading → live | off
  let config = null;
  let live = null;

  const warn = (why) => console.warn("souk: " + why);

  function emit(name, ...args) {
    for (const listener of listeners[name].slice()) {
      try {
        listener(...args);
      } catch (err) {
        // The shop's own listener failed: report it the way browsers report
        // uncaught errors, without stopping souk or the caller.
        (globalThis.reportError || console.error)(err);
      }
    }
  }

  function settle(isLive) {
    for (const resolve of readiness.splice(0)) resolve(isLive);
  }

  function goQuiet(why) {
    if (state === "off") return;
    state = "off";
    waiting.length = 0;
    try {
      live?.stop();
    } catch {}
    live = null;
    warn(why + "; souk is off on this page, and the page is unaffected");
    settle(false);
  }

  // Typed errors (SoukConfigError, SoukEventError, ...) go to `error` listeners;
  // a trap in the module means it is dead, so souk goes quiet.
  function fail(err) {
    if (typeof WebAssembly === "object" && err instanceof WebAssembly.RuntimeError) {
      goQuiet("stopped after an internal error (" + err.message + ")");
      return;
    }
    if (config && config.debug) console.error(err);
    emit("error", err);
  }

  function guarded(fn, ...args) {
    try {
      return fn(...args);
    } catch (err) {
      fail(err);
    }
  }

  function run(method, args) {
    if (state === "off") return;
    if (state !== "live") {
      waiting.push([method, args]);
      return;
    }
    const call = live.methods[method];
    if (call) guarded(call, ...args);
    else fail(new Error("souk." + method + "() is not available in this version of souk"));
  }

  function start(runtime) {
    if (state === "off") return;
    try {
      live = runtime.goLive({ config, files, emit, fail, guarded, isLive: () => state === "live" });
    } catch (err) {
      fail(err);
      goQuiet("init was refused: " + (err && err.message));
      return;
    }
    state = "live";
    for (const [method, args] of waiting.splice(0)) run(method, args);
    settle(true);
  }

  function whyNotLoaded(err) {
    const message = String((err && err.message) || err);
    if (/unsafe-eval|Content.Security.Policy|CSP/i.test(message)) {
      return "WebAssembly is blocked by this page's Content-Security-Policy (allow 'wasm-unsafe-eval' in script-src)";
    }
    return "could not load its WebAssembly module (" + message + ")";
  }

  const client = {
    init(options) {
      if (config) {
        warn("init() was called more than once; the first configuration stays");
        return;
      }
      config = Object.assign({}, options);
      if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
        goQuiet("WebAssembly is not available in this browser");
        return;
      }
      state = "loading";
      Promise.resolve()
        .then(async () => {
          const runtime = await files.load(config, "souk_runtime.js");
          await runtime.default({ module_or_path: files.url(config, "souk_bg.wasm") });
          return runtime;
        })
        .then(start, (err) => goQuiet(whyNotLoaded(err)));
    },
    ready() {
      if (state === "live" || state === "off") return Promise.resolve(state === "live");
      return new Promise((resolve) => readiness.push(resolve));
    },
    on(name, listener) {
      if (listeners[name] && typeof listener === "function") listeners[name].push(listener);
    },
    off(name, listener) {
      const list = listeners[name] || [];
      const at = list.indexOf(listener);
      if (at >= 0) list.splice(at, 1);
    },
    stats: () => (state === "live" ? guarded(live.stats) ?? null : null),
    consent: {
      get: () => (state === "live" ? guarded(live.consentState) ?? null : null),
      set: (choices) => run("consent.set", [choices]),
      show: () => run("consent.show", []),
      on: (event, listener) => event === "change" && client.on("consent", listener),
      off: (event, listener) => event === "change" && client.off("consent", listener),
    },
  };
  for (const method of ["page", "track", "identify", "alias", "reset", "flush", "__panic"]) {
    client[method] = (...args) => run(method, args);
  }
  Object.defineProperty(client, "__panic", { enumerable: false });
  return client;
}
