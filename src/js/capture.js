// Auto-capture, so that most shops need no code: page views (SPA navigations too),
// product views from schema.org Products (JSON-LD, else microdata), the GA4 dataLayer
// e-commerce events a shop already sends to Google, and list views, clicks and cart
// buttons the shop marked up with data-souk-* attributes. The mapping of GA4 and
// schema.org to the spec is the core's; this only watches the page, with one
// capturing click listener and one IntersectionObserver. Switch a source off with
// `capture: { pages: false, jsonLd: false, microdata: false, dataLayer: false,
// attributes: false }`, or all with `capture: false`.

const LIST = "[data-souk-list]";
const PRODUCT = "[data-souk-product]";
/** An element's `data-souk-<name>` attribute, or null. */
const attr = (element, name) => element.getAttribute("data-souk-" + name);
// The product attributes; each fills the spec property of its name (`product`: product_id).
const FIELDS = "product sku name brand category variant price currency quantity position".split(" ");
// Values are text, but price, quantity and position are numbers. A value that is no
// plain decimal (`12`, `12.50`, as the core reads JSON-LD prices) stays text, so the
// core's spec check refuses it with its usual message.
const value = (name, text) =>
  /^(price|quantity|position)$/.test(name) && /^\d{1,15}(\.\d{0,15})?$/.test(text) ? +text : text;

/** The spec properties of an element's product attributes, added to `into`. */
function read(element, into = {}) {
  for (const field of FIELDS) {
    const text = element && attr(element, field);
    if (text != null) into[field == "product" ? "product_id" : field] = value(field, text.trim());
  }
  return into;
}

/** The products of a list (not of a list inside it), with their 1-based positions. */
const productsOf = (list) =>
  [...list.querySelectorAll(PRODUCT)]
    .filter((product) => product.closest(LIST) == list)
    .map((product, i) => [product, read(product, { position: i + 1 })]);

/** A product element's properties, with its list's id and its position there. */
function product(element) {
  const list = element && element.closest(LIST);
  const found = list && productsOf(list).find(([other]) => other == element);
  return found ? { ...found[1], list_id: attr(list, "list") } : read(element);
}

/** The first schema.org type of an element's `itemtype`, e.g. "Product". */
const itemType = (element) =>
  (/(?:^|\s)https?:\/\/(?:www\.)?schema\.org\/(\w+)/.exec(element.getAttribute("itemtype")) || [])[1];

/**
 * A microdata item as the JSON-LD object it stands for (nested items too), so the
 * core maps both the same way. The first value of a property counts.
 */
function microdataItem(scope, depth) {
  const item = { "@type": itemType(scope) };
  for (const element of scope.querySelectorAll("[itemprop]")) {
    if (element.parentElement.closest("[itemscope]") !== scope) continue; // a nested item's own
    const found = element.hasAttribute("itemscope")
      ? depth < 3 && microdataItem(element, depth + 1)
      : element.getAttribute("content") ?? (element.href || element.src || element.textContent.replace(/\s+/g, " ").trim());
    for (const name of element.getAttribute("itemprop").split(/\s+/)) {
      if (found && name && !(name in item)) item[name] = found;
    }
  }
  return item;
}

/**
 * The page's microdata Product, when it describes exactly one that is not part of
 * another (a related product is); a listing describes many, and gives none.
 */
function microdataProduct() {
  const all = [...document.querySelectorAll("[itemscope][itemtype]")].filter((element) => itemType(element) == "Product");
  const products = all.filter((element) => !all.some((other) => other != element && other.contains(element)));
  return products.length == 1 ? microdataItem(products[0], 0) : null;
}

/** Runs `fn` once the document has been parsed. */
const parsed = (fn) =>
  document.readyState === "loading" ? addEventListener("DOMContentLoaded", fn, { once: true }) : fn();

/** Starts every source the shop left on; `view()` captures the current page again. */
export function startCapture({ config, handle, emit, guarded, schedule, page }) {
  const on = (source) => config.capture !== false && (!config.capture || config.capture[source] !== false);
  const recorded = (name, properties) => {
    emit("track", name, properties);
    schedule();
  };
  // Each event on its own: one the core refuses goes to `error` listeners and
  // stops nothing else.
  const track = (name, properties) =>
    guarded(() => {
      if (handle.track(name, properties)) recorded(name, properties);
    });

  // One list of the page's schema.org documents, JSON-LD first: the core takes the
  // first Product in it, so JSON-LD wins over microdata and a page has one product view.
  function productView() {
    const documents = [];
    if (on("jsonLd")) {
      for (const script of document.querySelectorAll('script[type="application/ld+json"]')) {
        try {
          documents.push(...[].concat(JSON.parse(script.textContent)));
        } catch {
          // the shop's own broken JSON-LD is not ours to report
        }
      }
    }
    const item = on("microdata") && microdataProduct();
    if (item) documents.push(item);
    if (documents.length && handle.captureJsonLd(documents)) recorded("Product Viewed");
  }

  // A list is viewed when half of it is in the viewport, or, for a list too tall
  // for that, when it fills half the viewport: once per list and page view.
  let viewed = new WeakSet();
  const lists =
    on("attributes") &&
    typeof IntersectionObserver === "function" &&
    new IntersectionObserver(
      (entries) =>
        entries.forEach(({ target: list, isIntersecting, intersectionRatio, intersectionRect, rootBounds }) =>
          guarded(() => {
            const half = (rootBounds ? rootBounds.height : innerHeight) / 2;
            if (viewed.has(list) || !isIntersecting || (intersectionRatio < 0.5 && intersectionRect.height < half)) return;
            const products = productsOf(list).map(([, properties]) => properties);
            if (!products.length) return; // an empty list may fill up later
            viewed.add(list);
            lists.unobserve(list);
            const category = attr(list, "category");
            track("Product List Viewed", { list_id: attr(list, "list"), ...(category != null && { category }), products });
          }),
        ),
      { threshold: [0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5] },
    );
  /** Watches the page's lists; `fresh` starts a new page view, where each list counts again. */
  function watchLists(fresh) {
    if (!lists) return;
    if (fresh) {
      viewed = new WeakSet();
      lists.disconnect();
    }
    for (const list of document.querySelectorAll(LIST)) if (!viewed.has(list)) lists.observe(list);
  }

  const view = () => {
    if (on("pages")) guarded(page);
    parsed(() => {
      guarded(productView);
      guarded(watchLists, true);
    });
  };
  view();

  if (["pages", "jsonLd", "microdata", "attributes"].some(on)) {
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

  if (on("attributes")) {
    // Lists that scripts rendered after the page was parsed.
    if (document.readyState !== "complete") addEventListener("load", () => guarded(watchLists), { once: true });
    // Capturing, on document: elements added later count, and a shop's
    // stopPropagation does not hide a click. Nothing is prevented: links navigate.
    document.addEventListener(
      "click",
      ({ target }) =>
        guarded(() => {
          if (!target || !target.closest) return;
          const action = target.closest("[data-souk-add-to-cart],[data-souk-remove-from-cart],[data-souk-track]");
          const custom = action && attr(action, "track");
          if (custom != null) {
            const properties = {};
            for (const { name, value: text } of action.attributes) {
              const key = name.startsWith("data-souk-prop-") && name.slice(15).replace(/-/g, "_");
              if (key) properties[key] = value(key, text.trim());
            }
            return track(custom.trim(), properties);
          }
          if (action) {
            // The nearest product gives the product; the element's own attributes win.
            const properties = read(action, { quantity: 1, ...product(action.closest(PRODUCT)) });
            return track(attr(action, "add-to-cart") != null ? "Product Added" : "Product Removed", properties);
          }
          const item = target.closest(PRODUCT);
          if (!item || !item.closest(LIST)) return;
          // A control inside the card (a wishlist button, a size picker) is not a product click.
          const control = target.closest("button,input,select,textarea,label");
          if (control && item.contains(control)) return;
          track("Product Clicked", product(item));
        }),
      true,
    );
  }

  if (on("dataLayer")) {
    // gtag("event", name, params) pushes its arguments; Tag Manager pushes
    // { event, ecommerce }. Entries pushed before souk was live are read too.
    const readEntry = (entry) =>
      guarded(() => {
        const gtag = entry && typeof entry === "object" && entry[0] === "event";
        const name = gtag ? entry[1] : entry && entry.event;
        if (typeof name !== "string") return;
        const spec = handle.captureGa4(name, (gtag ? entry[2] : entry.ecommerce) || {});
        if (spec) recorded(spec);
      });
    const layer = (globalThis.dataLayer = globalThis.dataLayer || []);
    layer.forEach(readEntry);
    const push = layer.push;
    layer.push = function (...entries) {
      const result = push.apply(this, entries);
      entries.forEach(readEntry);
      return result;
    };
  }
  return { view };
}
