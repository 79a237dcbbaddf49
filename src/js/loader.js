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
    load: (config, file) => import(at(config, file).href),
    url: at,
  });
  window.souk = client;
  for (const [method, args] of (stub && stub._calls) || []) {
    const [scope, name] = method.startsWith("consent.") ? [client.consent, method.slice(8)] : [client, method];
    if (method === "ready") client.ready().then(args[0]);
    else if (typeof scope[name] === "function") scope[name](...args);
  }
})();
