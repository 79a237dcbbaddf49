// The script-tag entry (dist/souk.js), loaded by the snippet. It finds its own URL
// so the module and widgets load from beside it, takes over the stub's recorded
// calls, and replaces `window.souk` with the real client.
import { pageClient } from "./client.js";

(function () {
  const stub = window.souk;
  if (stub && !Array.isArray(stub._calls)) return; // a live client is already here
  const script = document.currentScript;
  const base = new URL(".", (script && script.src) || location.href).href;
  const at = (config, file) => new URL(file, config.publicPath ? new URL(config.publicPath, location.href) : base);

  const client = pageClient({
    runtime: (config) => import(at(config, "souk_runtime.js").href),
    wasm: (config) => at(config, "souk_bg.wasm"),
    consent: (config) => import(at(config, "souk_consent.js").href),
    recommendations: (config) => import(at(config, "souk_recommendations.js").href),
    scorer: (config) => import(at(config, "souk_recommend.js").href),
    scorerWasm: (config) => at(config, "souk_recommend_bg.wasm"),
    loyalty: (config) => import(at(config, "souk_loyalty.js").href),
  });
  window.souk = client;
  for (const [method, args] of (stub && stub._calls) || []) {
    const [scope, name] = method.startsWith("consent.") ? [client.consent, method.slice(8)] : [client, method];
    if (method === "ready") client.ready().then(args[0]);
    else if (typeof scope[name] === "function") scope[name](...args);
  }
})();
