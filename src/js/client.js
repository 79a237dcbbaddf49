// The `souk` object shared by the script-tag loader and the npm entry. It keeps calls
// made before the module is live, replays them in order, and contains every failure:
// nothing souk does may throw into the shop's page.

const KEY = Symbol.for("souk.client");
const PAGE_EVENTS = ["track", "page", "error"];

/**
 * The page's one souk client, created on first use.
 * @param {(config: object) => Promise<{ Souk: Function }>} load loads the wasm glue
 */
export function pageClient(load) {
  return globalThis[KEY] || (globalThis[KEY] = createClient(load));
}

function createClient(load) {
  const listeners = Object.fromEntries(PAGE_EVENTS.map((name) => [name, []]));
  const waiting = [];
  const readiness = [];
  let state = "idle"; // idle → loading → live | off
  let config = null;
  let handle = null;

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

  function settle(live) {
    for (const resolve of readiness.splice(0)) resolve(live);
  }

  function goQuiet(why) {
    if (state === "off") return;
    state = "off";
    handle = null;
    waiting.length = 0;
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

  const live = {
    track(name, properties) {
      handle.track(name, properties);
      emit("track", name, properties);
    },
    page(name, properties) {
      if (name !== null && typeof name === "object") [name, properties] = [undefined, name];
      handle.page(name == null ? undefined : String(name), properties);
      emit("page", name, properties);
    },
    __panic() {
      handle.__panic();
    },
  };

  function run(method, args) {
    if (state === "off") return;
    if (state !== "live") {
      waiting.push([method, args]);
      return;
    }
    const call = live[method];
    if (!call) {
      fail(new Error("souk." + method + "() is not available in this version of souk"));
      return;
    }
    try {
      call(...args);
    } catch (err) {
      fail(err);
    }
  }

  function start(glue) {
    if (state === "off") return;
    try {
      handle = new glue.Souk(config);
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
        .then(() => load(config))
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
  };
  for (const method of ["page", "track", "identify", "alias", "reset", "flush", "__panic"]) {
    client[method] = (...args) => run(method, args);
  }
  Object.defineProperty(client, "__panic", { enumerable: false });
  return client;
}
