// Auto-capture, so that most shops need no code: page views (SPA navigations too),
// product views from schema.org Product JSON-LD, and the GA4 dataLayer e-commerce
// events a shop already sends to Google. The mapping to the spec names is the
// core's; this only watches the page. Switch a source off with
// `capture: { pages: false, jsonLd: false, dataLayer: false }`, or all with `capture: false`.

/** Starts every source the shop left on; `view()` captures the current page again. */
export function startCapture({ config, handle, emit, guarded, schedule, page }) {
  const on = (source) => config.capture !== false && (!config.capture || config.capture[source] !== false);
  const recorded = (name) => {
    emit("track", name);
    schedule();
  };

  function productView() {
    for (const script of document.querySelectorAll('script[type="application/ld+json"]')) {
      let document_;
      try {
        document_ = JSON.parse(script.textContent);
      } catch {
        continue; // the shop's own broken JSON-LD is not ours to report
      }
      if (handle.captureJsonLd(document_)) return recorded("Product Viewed");
    }
  }

  const view = () => {
    if (on("pages")) page();
    if (on("jsonLd")) productView();
  };
  view();

  if (on("pages") || on("jsonLd")) {
    // Single-page shops change the URL with the History API instead of loading pages.
    let shown = location.pathname + location.search;
    const navigated = () => {
      const now = location.pathname + location.search;
      if (now !== shown) {
        shown = now;
        guarded(view);
      }
    };
    for (const method of ["pushState", "replaceState"]) {
      const original = history[method];
      history[method] = function (...args) {
        const result = original.apply(this, args);
        // After the shop's router has rendered the new view (and its JSON-LD).
        setTimeout(navigated, 0);
        return result;
      };
    }
    addEventListener("popstate", () => setTimeout(navigated, 0));
  }

  if (on("dataLayer")) {
    // gtag("event", name, params) pushes its arguments; Tag Manager pushes
    // { event, ecommerce }. Entries pushed before souk was live are read too.
    const read = (entry) =>
      guarded(() => {
        const gtag = entry && typeof entry === "object" && entry[0] === "event";
        const name = gtag ? entry[1] : entry && entry.event;
        if (typeof name !== "string") return;
        const spec = handle.captureGa4(name, (gtag ? entry[2] : entry.ecommerce) || {});
        if (spec) recorded(spec);
      });
    const layer = (globalThis.dataLayer = globalThis.dataLayer || []);
    layer.forEach(read);
    const push = layer.push;
    layer.push = function (...entries) {
      const result = push.apply(this, entries);
      entries.forEach(read);
      return result;
    };
  }
  return { view };
}
