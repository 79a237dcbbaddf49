// The script-tag entry (dist/souk.js), loaded by the snippet. It finds its own URL
// so the module loads from beside it, takes over the stub's recorded calls, and
// replaces `window.souk` with the real client.
import { pageClient } from "./client.js";

(function () {
  const stub = window.souk;
  if (stub && !Array.isArray(stub._calls)) return; // a live client is already here
  const script = document.currentScript;
  const base = new URL(".", (script && script.src) || location.href).href;

  const client = pageClient(async (config) => {
    const path = config.publicPath ? new URL(config.publicPath, location.href).href : base;
    const glue = await import(new URL("souk_glue.js", path).href);
    await glue.default({ module_or_path: new URL("souk_bg.wasm", path) });
    return glue;
  });
  window.souk = client;
  for (const [method, args] of (stub && stub._calls) || []) {
    if (method === "ready") client.ready().then(args[0]);
    else if (typeof client[method] === "function") client[method](...args);
  }
})();
