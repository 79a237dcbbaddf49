// <souk-chat>'s launcher, the only part of the chat a page loads until the shopper
// opens it (budget: 1 KB gzip). It draws the panel chunk's button, in the same
// place; the chunk takes over the element's shadow root when it loads.

const LABEL = { en: "Chat with us", ar: "تحدث معنا" };

/** Draws the launcher in `element`; the first click calls `open(element)`. */
export function launch(element, lang, open) {
  const root = element.shadowRoot || element.attachShadow({ mode: "open" });
  root.innerHTML =
    "<style>b{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}" +
    "button{position:fixed;z-index:2147482000;inset-block-end:1.25rem;inset-inline-end:1.25rem;display:grid;place-items:center;" +
    "width:58px;height:58px;padding:0;border:2px solid transparent;border-radius:50%;cursor:pointer;" +
    "color:var(--souk-chat-accent-fg,#fff);background:var(--souk-chat-accent,#1e5b57);box-shadow:0 2px 6px #0003,0 8px 24px #0003}" +
    ":focus-visible{outline:3px solid var(--souk-chat-focus,#b0400f);outline-offset:2px}" +
    "svg{width:28px;height:28px;fill:none;stroke:currentColor;stroke-width:2;stroke-linejoin:round}:dir(rtl) svg{transform:scaleX(-1)}</style>" +
    '<button type="button" part="launcher"><svg viewBox="0 0 24 24" aria-hidden="true">' +
    '<path d="M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12z"/></svg><b></b></button>';
  root.querySelector("b").textContent = LABEL[lang] || LABEL.en;
  root.querySelector("button").addEventListener("click", () => open(element), { once: true });
}
