// <souk-recommendations>: a row of product cards. The shop places the element; the
// runtime scores the products (in wasm) and hands the widget a view to paint. The
// widget decides nothing: it shows a skeleton, paints the cards, and hands the
// shopper's clicks back.
//
//   <souk-recommendations surface="similar|cart|for-you" product="p001" limit="4"
//                         heading="optional shop text" digits="arab|latn">
//
//   Until render() it shows a skeleton of exactly the size of `limit` cards (default
//   4, at most 24), so the cards replace it without moving anything on the page.
//   On connect, and when surface, product or limit change, it dispatches
//   `souk-recommendations-request` { surface, product, limit } (bubbles, composed).
//
//   el.render({ lang: "en" | "ar", title, listId, digits?, items: [
//     { id, name, price /* minor units, integer */, currency, url, image, position } ] })
//     paints the cards (at most `limit`). Zero items hide the element (`hidden`).
//     Items without an id, a name or an http(s) url are left out with a warning.
//     Heading: the `heading` attribute, else `title`, else the surface's en/ar default.
//     Digits (ar only): `digits` in the view, else the attribute, else the locale's.
//   el.addEventListener("souk-recommendation-click", (e) => e.detail)
//     → { id, position, listId }, on click or Enter on a card, before the browser
//       follows the link (the widget never prevents it). Bubbles, composed.
//
// Theming: set these on `souk-recommendations` or on :root.
//   --souk-rec-bg        card background                  (#fff)
//   --souk-rec-fg        text                             (#1f2528)
//   --souk-rec-accent    price and focus ring             (#1e5b57)
//   --souk-rec-focus     focus ring                       (the accent)
//   --souk-rec-border    card border                      (#e4dccf)
//   --souk-rec-media-bg  image backdrop and skeleton      (#f3ebdf)
//   --souk-rec-radius    card corner radius               (14px)
//   --souk-rec-font      font family                      (the page's font)
//   --souk-rec-columns   cards a row on wide screens      (4; 2 under 40em, a
//                        scrolling row under 22em)
//   --souk-rec-gap       space between cards              (1.25em)
// Keep accent/bg and fg/bg at 4.5:1 contrast or more (WCAG AA).

const HEADINGS = {
  similar: ["You may also like", "قد يعجبك أيضاً"],
  cart: ["Frequently bought together", "يُشترى معاً عادةً"],
  "for-you": ["Picked for you", "مختارات لك"],
};
const CSS = `
:host{display:block}
:host([hidden]){display:none}
section{--bg:var(--souk-rec-bg,#fff);--fg:var(--souk-rec-fg,#1f2528);--ac:var(--souk-rec-accent,#1e5b57);--fo:var(--souk-rec-focus,var(--ac));--ln:var(--souk-rec-border,#e4dccf);--mb:var(--souk-rec-media-bg,#f3ebdf);--r:var(--souk-rec-radius,14px);--gap:var(--souk-rec-gap,1.25em);
container-type:inline-size;color:var(--fg);font-family:var(--souk-rec-font,inherit);font-size:1rem;font-weight:400;font-style:normal;line-height:1.45;letter-spacing:normal;word-spacing:normal;text-align:start;text-transform:none;text-indent:0;white-space:normal;visibility:visible}
*,::before,::after{box-sizing:border-box}
.h{display:block;margin:0 0 .75em;font-size:1.5em;font-weight:700;line-height:1.5;block-size:1.5em;overflow:hidden;white-space:nowrap;text-overflow:ellipsis}
.g{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:repeat(var(--souk-rec-columns,4),minmax(0,1fr));gap:var(--gap)}
li{display:flex;min-inline-size:0}
.c{position:relative;display:flex;flex-direction:column;inline-size:100%;color:inherit;text-decoration:none;background:var(--bg);border:1px solid var(--ln);border-radius:var(--r);overflow:hidden;transition:box-shadow .2s}
a.c:hover{box-shadow:0 1px 2px rgba(31,37,40,.06),0 6px 20px rgba(31,37,40,.08)}
a.c:hover .n{text-decoration:underline;text-underline-offset:.18em}
a.c:focus-visible{outline:3px solid var(--fo);outline-offset:2px}
a.c:focus:not(:focus-visible){outline:none}
.m{position:relative;display:block;aspect-ratio:1;background:var(--mb)}
.m img{position:absolute;inset:0;inline-size:100%;block-size:100%;object-fit:cover}
.n{display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:2;overflow:hidden;margin:.75rem 1rem 0;font-size:1em;font-weight:650;line-height:1.6;block-size:3.2em}
.p{display:block;margin:.375rem 1rem 1rem;font-weight:700;line-height:1.5;block-size:1.5em;color:var(--ac);white-space:nowrap;overflow:hidden;text-overflow:ellipsis;font-variant-numeric:tabular-nums}
.sk .c{border-color:var(--mb)}
.sk .bar{display:block;block-size:.8em;margin-block-start:.35em;border-radius:99px}
.sk .n .bar+.bar{inline-size:60%}
.sk .h .bar{inline-size:12em;max-inline-size:70%;block-size:.75em;margin-block-start:.4em}
.sk .p .bar{inline-size:35%}
.sk .m,.sk .bar{--sk:color-mix(in srgb,var(--mb) 94%,var(--fg));background:linear-gradient(90deg,var(--sk) 30%,var(--mb) 50%,var(--sk) 70%) 0 0/300% 100% var(--sk);animation:sh 1.6s linear infinite}
.sk .m{--sk:var(--mb);background-image:linear-gradient(90deg,var(--mb) 30%,var(--bg) 50%,var(--mb) 70%)}
.fill{visibility:hidden}
@container (max-width:40em){.g{grid-template-columns:repeat(2,minmax(0,1fr));gap:.75em}.h{font-size:1.3em}.n{margin:.625rem .75rem 0;font-size:.9375em}.p{margin:.25rem .75rem .75rem}}
@container (max-width:22em){.g{grid-template-columns:none;grid-auto-flow:column;grid-auto-columns:72%;overflow-x:auto;scroll-snap-type:inline mandatory;overscroll-behavior-inline:contain;scrollbar-width:thin;padding:5px;margin:-5px}li{scroll-snap-align:start}}
@media (forced-colors:active){.c{border-color:CanvasText}}
@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}
@keyframes sh{from{background-position:100% 0}to{background-position:0 0}}
`;

const warn = (why) => console.warn("souk: the recommendations " + why);
const obj = (value) => (value && typeof value === "object" ? value : {});
const str = (value) => (typeof value === "string" ? value : "");

/** An element with attributes and, if given, its text (as a text node, never markup). */
function h(tag, attrs, text) {
  const el = document.createElement(tag);
  for (const name in attrs) if (attrs[name] != null) el.setAttribute(name, attrs[name]);
  if (text) el.textContent = text;
  return el;
}

/** The address if it is http(s) (relative ones resolve against the page), else null. */
function safeUrl(value) {
  try {
    const url = new URL(str(value), document.baseURI);
    return /^https?:$/.test(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

const formats = new Map();
/** A price in minor units, in the shopper's language, with the currency's own decimals. */
function money(lang, digits, minor, currency) {
  if (typeof minor !== "number" || !isFinite(minor) || minor < 0) return "";
  const key = lang + " " + digits + " " + currency;
  let format = formats.get(key);
  if (!format) {
    const options = { style: "currency", currency };
    if (lang === "ar" && /^(arab|latn)$/.test(digits)) options.numberingSystem = digits;
    try {
      format = new Intl.NumberFormat(lang === "ar" ? "ar-AE" : "en", options);
    } catch {
      format = null; // not a currency Intl knows
    }
    formats.set(key, format);
  }
  if (!format) return "";
  return format.format(minor / 10 ** format.resolvedOptions().maximumFractionDigits);
}

/** One skeleton card: the same boxes as a real one, empty. */
function blank(fill) {
  const card = h("div", { class: "c" });
  const name = h("span", { class: "n" });
  name.append(h("span", { class: "bar" }), h("span", { class: "bar" }));
  const price = h("span", { class: "p" });
  price.append(h("span", { class: "bar" }));
  card.append(h("span", { class: "m" }), name, price);
  const li = h("li", fill ? { class: "fill", "aria-hidden": "true" } : {});
  li.append(card);
  return li;
}

let sheet;

export class SoukRecommendations extends (globalThis.HTMLElement || Object) {
  static get observedAttributes() {
    return ["surface", "product", "cart", "limit", "heading", "digits"];
  }

  connectedCallback() {
    this._paint();
    this._request();
  }

  attributeChangedCallback(name, was, now) {
    if (!this.shadowRoot || was === now) return;
    this._paint();
    if (name === "surface" || name === "product" || name === "cart" || name === "limit") this._request();
  }

  /** Paints the view; see the top of this file. Never throws. */
  render(view) {
    try {
      if (!view || typeof view !== "object") return warn("got no view to render");
      this._view = view;
      this._paint();
    } catch (err) {
      warn("could not be shown (" + (err && err.message) + ")");
    }
  }

  get limit() {
    const n = Number(this.getAttribute("limit"));
    return Number.isInteger(n) && n > 0 ? Math.min(n, 24) : 4;
  }

  get surface() {
    const surface = this.getAttribute("surface");
    return HEADINGS[surface] ? surface : "similar";
  }

  _request() {
    const detail = { surface: this.surface, product: this.getAttribute("product") || null, limit: this.limit };
    queueMicrotask(() => {
      if (this.isConnected) this.dispatchEvent(new CustomEvent("souk-recommendations-request", { bubbles: true, composed: true, detail }));
    });
  }

  _paint() {
    const root = this.shadowRoot || this.attachShadow({ mode: "open" });
    try {
      if (!sheet) (sheet = new CSSStyleSheet()).replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch {
      if (!root.querySelector("style")) root.append(h("style", {}, CSS));
    }
    const style = root.querySelector("style");
    const view = this._view;
    const limit = this.limit;
    // The shopper's language: the view's, else the nearest lang on the page.
    const near = (this.closest("[lang]") || document.documentElement).lang || "";
    const lang = /^(en|ar)$/.test(view && view.lang) ? view.lang : /^ar\b/i.test(near) ? "ar" : "en";
    const dir = lang === "ar" ? "rtl" : "ltr";
    const section = h("section", { lang, dir });
    const list = h("ul", { class: "g" });

    if (!view) {
      // The skeleton: busy, and nothing in it for a screen reader.
      section.setAttribute("aria-busy", "true");
      section.className = "sk";
      const heading = h("span", { class: "h", "aria-hidden": "true" });
      heading.append(h("span", { class: "bar" }));
      list.setAttribute("aria-hidden", "true");
      for (let i = 0; i < limit; i++) list.append(blank());
      section.append(heading, list);
      this.hidden = false;
      root.replaceChildren(...(style ? [style] : []), section);
      return;
    }

    const listId = str(view.listId);
    const digits = str(view.digits) || this.getAttribute("digits") || "";
    const items = (Array.isArray(view.items) ? view.items : []).filter((item) => {
      const ok = item && str(item.id) && str(item.name) && safeUrl(item.url);
      if (!ok) warn("left out an item without an id, a name or an http(s) url");
      return ok;
    }).slice(0, limit);

    this.hidden = !items.length;
    if (!items.length) return root.replaceChildren(...(style ? [style] : []));

    const title = this.getAttribute("heading") || str(view.title) || HEADINGS[this.surface][lang === "ar" ? 1 : 0];
    section.setAttribute("aria-labelledby", "h");
    section.append(h("h2", { class: "h", id: "h" }, title), list);
    items.forEach((item, i) => {
      const position = Number.isInteger(item.position) ? item.position : i + 1;
      const link = h("a", { class: "c", href: safeUrl(item.url), "aria-labelledby": `n${i} p${i}` });
      const media = h("span", { class: "m" });
      const src = safeUrl(item.image);
      if (src) media.append(h("img", { src, alt: item.name, width: "400", height: "400", loading: "lazy", decoding: "async" }));
      // The space keeps name and price two words for tools that read the visible text.
      link.append(media, h("span", { class: "n", id: "n" + i }, item.name), " ",
        h("span", { class: "p", id: "p" + i }, money(lang, digits, item.price, str(item.currency).toUpperCase())));
      const clicked = (event) => {
        if (event.type === "auxclick" && event.button !== 1) return;
        this.dispatchEvent(new CustomEvent("souk-recommendation-click", {
          bubbles: true, composed: true, detail: { id: item.id, position, listId },
        }));
      };
      link.addEventListener("click", clicked);
      link.addEventListener("auxclick", clicked);
      const li = h("li");
      li.append(link);
      list.append(li);
    });
    // Fewer cards than `limit` keep the reserved space: invisible fillers.
    for (let i = items.length; i < limit; i++) list.append(blank(true));
    root.replaceChildren(...(style ? [style] : []), section);
  }
}

if (globalThis.customElements && !customElements.get("souk-recommendations")) {
  customElements.define("souk-recommendations", SoukRecommendations);
}
