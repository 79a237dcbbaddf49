// <souk-chat>: live chat with the shop. A round launcher button floats in the page's
// bottom-end corner (bottom-right, bottom-left in Arabic) with the unread count; it
// opens a floating panel: the shop's team and whether it is in, the messages, the
// agent's typing, and a composer (or, once the conversation is closed, a rating).
// The widget decides nothing: the runtime talks to the server and hands it views to
// paint; the widget hands the shopper's actions back as events.
//
//   <souk-chat digits="arab|latn">
//
//   el.render(view) paints (never throws):
//     { lang: "en" | "ar", digits?: "arab" | "latn", team?: "Dar Noor",
//       open: bool,          the shop is in (else "We're away — back {backAt}")
//       backAt?: ISO | ms,   when it is back (today: the time; else the day and time)
//       state: "idle" | "loading" | "ready" | "error",
//       messages: [{ id, author: "shopper" | "agent" | "bot", text, at: ISO | ms,
//                    status?: "pending" | "failed" | "sent" | "read"  (the shopper's),
//                    agentName?, faqId? }],   oldest first; painted by id, so a
//                    message keeps its node (and its place in the log) across renders
//       typing?: bool,       an agent is typing
//       closed?: bool,       the conversation ended: a rating replaces the composer
//       rated?: bool,        then "Thanks for your feedback"
//       unread: number,      on the launcher's badge and in its name
//       askEmail?: bool,     show "Leave your email and we'll reply" with the composer
//       expanded?: bool }    open or close the panel (only when it changes from the last
//                            view's; it never moves focus and fires no event)
//     render() never touches the composer: what the shopper is typing, and focus,
//     stay as they are. Digits (ar only): the view's, else the attribute's, else Latin.
//   el.sent()            the runtime took the message: the composer empties.
//   el.failed(message?)  it did not: the message (or a default) shows over the composer,
//                        announced, and the text stays for another try.
//   el.open() / el.close()  the panel, no event; open() puts focus in the composer.
//
// Events (bubbles, composed):
//   souk-chat-open   {} / souk-chat-close {}  the shopper opened or closed the panel
//   souk-chat-send   { text, email? } Enter or the Send button (Shift+Enter is a new
//                    line); text is trimmed, 1–2000 characters; until sent() or
//                    failed() the composer sends nothing more
//   souk-chat-typing {} while the shopper types, at most one per 3 s
//   souk-chat-read   {} the panel is open, the page visible and the log scrolled to
//                    the end while there are unread (or newly arrived) messages
//   souk-chat-human  { faqId } "Talk to a person" under an automatic answer
//   souk-chat-rate   { score: 1–5, comment } / souk-chat-new {} (a new conversation)
//   souk-chat-retry  {} "Try again" in the error state
//
// The panel is a non-modal dialog (role="dialog", aria-modal="false"): a shopper
// chats while reading the product page, so the page stays usable; Escape closes it
// and focus goes back to the launcher. The widget covers nothing outside its own boxes.
//
// Theming: set these on `souk-chat` or on :root.
//   --souk-chat-accent     launcher, header, the shopper's bubbles, buttons (#1e5b57)
//   --souk-chat-accent-fg  text on the accent                               (#fff)
//   --souk-chat-bg         panel background                                 (#fbf8f3)
//   --souk-chat-surface    agent bubbles, composer                          (#fff)
//   --souk-chat-soft       automatic answers                                (#efe8dc)
//   --souk-chat-fg / --souk-chat-muted  text / secondary text  (#1f2528 / #565d62)
//   --souk-chat-border     hairlines                                        (#e4dccf)
//   --souk-chat-focus      focus ring                                       (#b0400f)
//   --souk-chat-danger     errors, the badge                                (#9b2c1a)
//   --souk-chat-star       chosen stars                                     (#a35a00)
//   --souk-chat-radius     corner radius                                    (16px)
//   --souk-chat-font       font family                                (the page's)
//   --souk-chat-z          z-index (2147482000: over the page, under souk's consent banner)
// Keep accent/accent-fg, fg/bg, muted/bg and danger/surface at 4.5:1 or more (WCAG AA).

const W = {
  en: {
    chat: "Chat with us", sep: ", ", us: "Our team", close: "Close chat",
    unread: { one: "{0} unread message", other: "{0} unread messages" },
    online: "We typically reply in a few minutes", away: "We're away — back {0} at {1}",
    awayAt: "We're away — back at {0}", awayNow: "We're away right now",
    log: "Messages", hello: "Hi! Ask us anything — we're happy to help.", loading: "Loading your conversation…",
    error: "We couldn't load the chat just now.", retry: "Try again",
    you: "You", bot: "Automatic answer", human: "Talk to a person",
    pending: "Sending…", failed: "Not sent yet — will retry", sent: "Delivered", read: "Seen",
    typing: "{0} is typing…", label: "Your message", ph: "Write a message…", send: "Send",
    left: { one: "{0} character left", other: "{0} characters left" },
    files: "Attachments aren't supported.", email: "Leave your email and we'll reply",
    bad: "Please check your email address.", fail: "Your message couldn't be sent. Please try again.",
    ended: "This conversation has ended.", rate: "How was this conversation?",
    stars: { one: "{0} star", other: "{0} stars" }, comment: "Anything to add? (optional)", submit: "Send rating",
    thanks: "Thanks for your feedback", again: "Start a new conversation",
  },
  ar: {
    chat: "تحدث معنا", sep: "، ", us: "فريقنا", close: "إغلاق المحادثة",
    unread: { one: "رسالة واحدة غير مقروءة", two: "رسالتان غير مقروءتين", few: "{0} رسائل غير مقروءة", other: "{0} رسالة غير مقروءة" },
    online: "نرد عادةً خلال دقائق", away: "لسنا متاحين الآن — نعود {0} الساعة {1}",
    awayAt: "لسنا متاحين الآن — نعود الساعة {0}", awayNow: "لسنا متاحين الآن",
    log: "الرسائل", hello: "أهلاً بك! اسألنا عن أي شيء، ويسعدنا أن نساعدك.", loading: "جارٍ تحميل المحادثة…",
    error: "تعذّر تحميل المحادثة الآن.", retry: "إعادة المحاولة",
    you: "أنت", bot: "رد تلقائي", human: "التحدث مع أحد موظفينا",
    pending: "جارٍ الإرسال…", failed: "لم تُرسَل بعد — سنعيد المحاولة", sent: "تم التسليم", read: "تمت القراءة",
    typing: "جارٍ كتابة الرد…", label: "رسالتك", ph: "اكتب رسالتك…", send: "إرسال",
    left: { other: "الأحرف المتبقية: {0}" },
    files: "لا يمكن إرسال المرفقات.", email: "اترك بريدك الإلكتروني وسنرد عليك",
    bad: "يُرجى التحقق من عنوان بريدك الإلكتروني.", fail: "تعذّر إرسال رسالتك. يُرجى المحاولة مرة أخرى.",
    ended: "انتهت هذه المحادثة.", rate: "ما تقييمك لهذه المحادثة؟",
    stars: { one: "نجمة واحدة", two: "نجمتان", few: "{0} نجوم", other: "{0} نجمة" }, comment: "هل تود إضافة شيء؟ (اختياري)", submit: "إرسال التقييم",
    thanks: "شكراً لملاحظاتك", again: "بدء محادثة جديدة",
  },
};
const MAX = 2000;
const STATUS = { pending: 1, failed: 1, sent: 1, read: 1 };

const CSS = `
:host{display:contents}
:host([hidden]),[hidden]{display:none!important}
.w{--ac:var(--souk-chat-accent,#1e5b57);--af:var(--souk-chat-accent-fg,#fff);--bg:var(--souk-chat-bg,#fbf8f3);--sf:var(--souk-chat-surface,#fff);--so:var(--souk-chat-soft,#efe8dc);--fg:var(--souk-chat-fg,#1f2528);--mu:var(--souk-chat-muted,#565d62);--ln:var(--souk-chat-border,#e4dccf);--fo:var(--souk-chat-focus,#b0400f);--er:var(--souk-chat-danger,#9b2c1a);--st:var(--souk-chat-star,#a35a00);--r:var(--souk-chat-radius,16px);
position:fixed;z-index:var(--souk-chat-z,2147482000);inset-block-end:1.25rem;inset-inline-end:1.25rem;display:flex;flex-direction:column;align-items:end;gap:.75rem;pointer-events:none;
font-family:var(--souk-chat-font,inherit);font-size:1rem;font-weight:400;font-style:normal;line-height:1.5;letter-spacing:normal;word-spacing:normal;text-align:start;text-transform:none;text-indent:0;text-shadow:none;white-space:normal;color:var(--fg);visibility:visible}
.w>*{pointer-events:auto}
:lang(ar){line-height:1.7}
*,::before,::after{box-sizing:border-box}
p,h2,fieldset{margin:0}
button,input,textarea{margin:0;font:inherit;color:inherit;letter-spacing:inherit}
button{cursor:pointer;touch-action:manipulation}
:focus-visible{outline:3px solid var(--fo);outline-offset:2px}
:focus:not(:focus-visible){outline:none}
svg{inline-size:22px;block-size:22px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
.l{position:relative;display:grid;place-items:center;inline-size:58px;block-size:58px;padding:0;color:var(--af);background:var(--ac);border:2px solid transparent;border-radius:50%;box-shadow:0 2px 6px rgba(0,0,0,.16),0 8px 24px rgba(0,0,0,.18);transition:transform .15s}
.l:hover{transform:scale(1.05)}
.l svg{inline-size:28px;block-size:28px}
.l[aria-expanded=true] .i1,.l[aria-expanded=false] .i2{display:none}
[dir=rtl] .i1{transform:scaleX(-1)}
.n{position:absolute;inset-block-start:-6px;inset-inline-end:-6px;min-inline-size:24px;block-size:24px;padding-inline:6px;font-size:.75rem;font-weight:700;line-height:20px;text-align:center;color:#fff;background:var(--er);border:2px solid #fff;border-radius:99px}
.n:empty{display:none}
.p{display:flex;flex-direction:column;inline-size:24rem;max-inline-size:calc(100vw - 2.5rem);block-size:min(38rem,calc(100vh - 7rem));block-size:min(38rem,calc(100dvh - 7rem));overflow:hidden;background:var(--bg);border-radius:var(--r);box-shadow:0 4px 12px rgba(0,0,0,.1),0 24px 64px rgba(0,0,0,.22);transform-origin:100% 100%;animation:in .2s cubic-bezier(.2,.8,.2,1)}
[dir=rtl] .p{transform-origin:0 100%}
.hd{display:flex;align-items:center;gap:.5rem;padding-block:.85rem;padding-inline:1.25rem .5rem;color:var(--af);background:var(--ac)}
.hd>div{flex:1;min-inline-size:0}
.hd :focus-visible{outline-color:var(--af);outline-offset:-4px}
h2{font-size:1.0625em;font-weight:650;line-height:1.35;overflow-wrap:anywhere}
.on{display:flex;align-items:center;gap:.45em;font-size:.8125em;line-height:1.4}
.on::before{content:"";flex:none;inline-size:.55rem;block-size:.55rem;border-radius:50%;background:#7ee29a}
.off::before{background:#c9cdd0}
.x{flex:none;display:grid;place-items:center;inline-size:44px;block-size:44px;padding:0;background:none;border:0;border-radius:50%}
.x:hover{background:rgba(255,255,255,.15)}
.lg{flex:1;display:flex;flex-direction:column;overflow-y:auto;overscroll-behavior:contain;padding:.5rem 1rem 1rem}
.lg:focus-visible{outline-offset:-3px}
.hi{align-self:center;max-inline-size:90%;margin-block:.5rem;font-size:.9375em;text-align:center;color:var(--mu)}
.hi:last-child{margin-block:auto;font-size:1.0625em}
.m{max-inline-size:85%;margin-block-start:1rem;align-self:start}
.m.s{align-self:end;text-align:end}
.m.g{margin-block-start:.3rem}
.nm{display:block;margin-block-end:.2rem;font-size:.8125em;font-weight:650;color:var(--mu)}
.bb{padding:.5rem .85rem;text-align:start;white-space:pre-wrap;overflow-wrap:anywhere;background:var(--sf);border:1px solid var(--ln);border-radius:var(--r);border-end-start-radius:4px}
.s .bb{color:var(--af);background:var(--ac);border-color:var(--ac);border-radius:var(--r);border-end-end-radius:4px}
.b .bb{background:var(--so);border-color:var(--so)}
.s.f .bb{color:var(--fg);background:var(--sf);border:1px dashed var(--er)}
.mt{margin-block-start:.2rem;font-size:.75em;color:var(--mu)}
.mt span:not(:empty)::before{content:"·"/"";margin-inline:.4em}
.f .mt span{color:var(--er);font-weight:650}
.q,.pb{min-block-size:44px;padding:.45em 1.1em;font-size:.9375em;font-weight:650;line-height:1.25;color:var(--ac);background:var(--sf);border:2px solid var(--ac);border-radius:99px}
.m .q{min-block-size:36px;margin-block-start:.4rem;font-size:.875em}
.q:hover{background:color-mix(in srgb,var(--ac) 9%,var(--sf))}
.pb{color:var(--af);background:var(--ac)}
.pb:disabled{opacity:.5;cursor:not-allowed}
.ty{display:flex;align-items:center;gap:4px;padding:0 1rem .5rem;font-size:.8125em;color:var(--mu)}
.ty i{inline-size:6px;block-size:6px;border-radius:50%;background:currentColor;animation:bl 1.2s infinite}
.ty i:nth-child(2){animation-delay:.2s}
.ty i:nth-child(3){animation-delay:.4s}
.ty span{margin-inline-start:.4rem}
.sx{padding:1.25rem 1rem;text-align:center;color:var(--mu)}
.sx p{margin-block-end:.75rem}
.c,.en{padding:.75rem 1rem;background:var(--sf);border-block-start:1px solid var(--ln)}
.e{margin-block-end:.5rem;font-size:.875em;font-weight:650;color:var(--er)}
.e:empty{display:none}
.ml{display:block;margin-block-end:.6rem;font-size:.875em;font-weight:650}
input[type=email],textarea{display:block;inline-size:100%;min-block-size:44px;margin-block-start:.25rem;padding:.55rem .8rem;font-weight:400;line-height:1.4;color:var(--fg);background:var(--sf);border:1px solid #7d858a;border-radius:12px}
.rw{display:flex;align-items:end;gap:.5rem}
.rw textarea{flex:1;min-inline-size:0;margin:0;max-block-size:8.5em;resize:none;field-sizing:content}
::placeholder{color:#6b7276;opacity:1}
.sd{flex:none;display:grid;place-items:center;inline-size:44px;block-size:44px;padding:0;color:var(--af);background:var(--ac);border:0;border-radius:50%}
.sd[aria-disabled=true]{opacity:.6;cursor:progress}
.ft{display:flex;flex-wrap:wrap;justify-content:space-between;gap:0 1rem;margin-block-start:.35rem;font-size:.75em;color:var(--mu)}
.ft span+span{font-weight:650}
.en>p:first-child{font-weight:650}
fieldset{min-inline-size:0;padding:0;border:0}
legend{margin-block-start:.5rem;padding:0;font-size:.9375em}
.sa{display:flex;gap:2px;margin-inline-start:-6px}
.sa label{display:grid;place-items:center;inline-size:44px;block-size:44px;font-size:1.9rem;line-height:1;color:#7d858a;cursor:pointer;border-radius:10px}
.sa label:has(:focus-visible){outline:3px solid var(--fo);outline-offset:-2px}
.sa:not(:hover) label:has(~label :checked),.sa:not(:hover) label:has(:checked),.sa label:hover,.sa label:has(~label:hover){color:var(--st)}
.cl{display:block;margin-block-start:.5rem;font-size:.875em;font-weight:650}
.cl+textarea{resize:vertical}
.bt{display:flex;flex-wrap:wrap;gap:.5rem;margin-block-start:.75rem}
.ok{margin-block:.5rem .25rem;font-weight:650;color:var(--ac)}
.en .q{margin-block-start:.5rem}
.sr{position:absolute;inline-size:1px;block-size:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
@media (max-width:30em){.w{inset-block-end:.75rem;inset-inline-end:.75rem}.p{position:fixed;inset:.5rem;inline-size:auto;max-inline-size:none;block-size:auto}.o .l{display:none}}
@media (forced-colors:active){.n,.bb{border:1px solid}}
@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}
@keyframes in{from{opacity:0;transform:translateY(.75rem) scale(.97)}}
@keyframes bl{50%{opacity:.2}}
`;

const warn = (why) => console.warn("souk: the chat widget " + why);
const str = (value) => (typeof value === "string" ? value : "");
const int = (value) => (typeof value === "number" && value > 0 ? Math.floor(value) : 0);
const fill = (text, ...args) => text.replace(/\{(\d)\}/g, (_, i) => args[i]);
const date = (value) => new Date(typeof value === "number" ? value : str(value));
const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate());
/** Sets a text (as a text node, never markup) only if it changed, so the log stays quiet. */
const set = (el, text) => el.textContent !== text && (el.textContent = text);
const shown = (el) => el && el.getClientRects().length > 0;

/** An element with attributes and, if given, its children (strings become text nodes). */
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const name in attrs) el.setAttribute(name, attrs[name]);
  el.append(...kids);
  return el;
}

function icon(d, cls = "") {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", cls);
  svg.append(document.createElementNS(svg.namespaceURI, "path"));
  svg.firstChild.setAttribute("d", d);
  return svg;
}

const formats = new Map();
let sheet;

export class SoukChat extends (globalThis.HTMLElement || Object) {
  static get observedAttributes() {
    return ["digits"];
  }

  connectedCallback() {
    this._try(() => {
      if (!this.shadowRoot) this._init();
      this._paint();
      document.addEventListener("visibilitychange", this._vis);
    });
  }

  disconnectedCallback() {
    document.removeEventListener("visibilitychange", this._vis);
  }

  attributeChangedCallback() {
    if (this.$) this._try(() => this._paint());
  }

  /** Paints the view; see the top of this file. Never throws. */
  render(view) {
    this._try(() => {
      if (!view || typeof view !== "object") return warn("got no view to render");
      this._v = view;
      this._rs = 0;
      if (!this.$) this._init();
      this._paint();
    });
  }

  /** The runtime accepted the message: empties the composer. */
  sent() {
    this._try(() => {
      this._free();
      this.$.tx.value = "";
      this._count();
    });
  }

  /** The runtime could not take the message: says so; the text stays. */
  failed(message) {
    this._try(() => {
      this._free();
      this._err(str(message) || this._w.fail);
    });
  }

  open() {
    this._try(() => this._show(true, 0, 1));
  }

  close() {
    this._try(() => this._show(false, 0, 1));
  }

  _try(fn) {
    try {
      fn();
    } catch (err) {
      warn("could not be shown (" + (err && err.message) + ")");
    }
  }

  _emit(name, detail = {}) {
    this.dispatchEvent(new CustomEvent(name, { bubbles: true, composed: true, detail }));
  }

  /** Says `text` in the polite live region (again, if it is the same text). */
  _say(text) {
    const live = this.$.say;
    live.textContent = "";
    setTimeout(() => (live.textContent = text), 50);
  }

  _err(text) {
    set(this.$.e, text);
    if (text) this._say(text);
  }

  _free() {
    this._busy = 0;
    this.$.sd.removeAttribute("aria-disabled");
    this._err("");
  }

  _init() {
    // The runtime's launcher (souk_chat_launcher.js) may have drawn its button here.
    const root = this.shadowRoot || this.attachShadow({ mode: "open" });
    root.replaceChildren();
    try {
      if (!sheet) (sheet = new CSSStyleSheet()).replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch {
      root.append(h("style", {}, CSS));
    }
    const $ = (this.$ = {});
    const on = (el, type, fn) => (el.addEventListener(type, (event) => this._try(() => fn(event))), el);
    const emit = (el, name) => on(el, "click", () => this._emit(name));
    this._m = new Map();
    this._vis = () => this._try(() => this._seen());

    $.l = on(h("button", { class: "l", type: "button", "aria-expanded": "false", "aria-controls": "p", part: "launcher" },
      icon("M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12z", "i1"), icon("M6 9l6 6 6-6", "i2"),
      ($.ln = h("span", { class: "sr" })), ($.n = h("span", { class: "n", "aria-hidden": "true" }))), "click", () => this._show($.p.hidden, 1, 1));
    $.t = h("h2", { id: "t" });
    $.on = h("p", { class: "on" });
    $.x = on(h("button", { class: "x", type: "button", "data-a": "close" }, icon("M6 6l12 12M18 6L6 18")), "click", () => this._show(false, 1, 1));
    $.hi = h("p", { class: "hi", "data-w": "hello" });
    $.lg = on(h("div", { class: "lg", role: "log", "aria-live": "polite", "aria-relevant": "additions", "data-a": "log", tabindex: "0" }, $.hi), "scroll", this._vis);
    $.sx = h("div", { class: "sx" }, ($.sm = h("p")), ($.rb = emit(h("button", { class: "q", type: "button", "data-w": "retry" }), "souk-chat-retry")));
    $.ty = h("div", { class: "ty" }, h("i"), h("i"), h("i"), ($.tt = h("span")));

    $.e = h("p", { class: "e", id: "e" });
    $.em = h("input", { type: "email", autocomplete: "email", "aria-describedby": "e" });
    $.tx = h("textarea", { id: "tx", rows: "1", maxlength: MAX, "aria-describedby": "e cn nf" });
    $.sd = h("button", { class: "sd", type: "submit", "data-a": "send" }, icon("M12 19V5M6 11l6-6 6 6"));
    $.cn = h("span", { id: "cn" });
    $.c = on(h("form", { class: "c" }, $.e, ($.ml = h("label", { class: "ml" }, h("span", { "data-w": "email" }), $.em)),
      h("div", { class: "rw" }, h("label", { class: "sr", for: "tx", "data-w": "label" }), $.tx, $.sd),
      h("p", { class: "ft" }, h("span", { id: "nf", "data-w": "files" }), $.cn)), "submit", (event) => {
      event.preventDefault();
      this._send();
    });
    on($.tx, "keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this._send();
      }
    });
    on($.tx, "input", () => {
      this._count();
      const now = Date.now();
      if ($.tx.value.trim() && !(now - this._ty < 3000)) {
        this._ty = now;
        this._emit("souk-chat-typing");
      }
    });

    const stars = h("div", { class: "sa" });
    for (let i = 1; i < 6; i++) {
      stars.append(h("label", {}, h("input", { type: "radio", name: "score", value: i, class: "sr" }),
        h("span", { "aria-hidden": "true" }, "★"), h("span", { class: "sr", "data-s": i })));
    }
    $.sb = h("button", { class: "pb", type: "submit", disabled: "", "data-w": "submit" });
    $.cm = h("textarea", { id: "cm", rows: "2", maxlength: MAX });
    $.rt = on(on(h("form", {}, h("fieldset", {}, h("legend", { "data-w": "rate" }), stars),
      h("label", { class: "cl", for: "cm", "data-w": "comment" }), $.cm, h("div", { class: "bt" }, $.sb)),
    "change", () => ($.sb.disabled = !$.rt.querySelector(":checked"))), "submit", (event) => {
      event.preventDefault();
      const score = $.rt.querySelector(":checked");
      if (score && !this._rs) {
        this._rs = 1;
        this._emit("souk-chat-rate", { score: +score.value, comment: $.cm.value.trim() });
      }
    });
    $.ok = h("p", { class: "ok", "data-w": "thanks" });
    $.nw = emit(h("button", { class: "q", type: "button", "data-w": "again" }), "souk-chat-new");
    $.en = h("div", { class: "en" }, h("p", { "data-w": "ended" }), $.rt, $.ok, $.nw);

    $.p = h("div", { class: "p", id: "p", role: "dialog", "aria-modal": "false", "aria-labelledby": "t", hidden: "", part: "panel" },
      h("div", { class: "hd" }, h("div", {}, $.t, $.on), $.x), $.lg, $.sx, $.ty, $.c, $.en);
    $.say = h("p", { class: "sr", role: "status" });
    // The panel comes first: Tab from its end reaches the launcher, which closes it.
    $.w = on(h("div", { class: "w" }, $.p, $.l, $.say), "keydown", (event) => {
      if (event.key === "Escape" && !$.p.hidden) this._show(false, 1, 1);
    });
    root.append($.w);
  }

  get _w() {
    return W[this._lang] || W.en;
  }

  /** A number or date format for the widget's language and digits. */
  _f(options) {
    const lang = this._lang;
    if (lang === "ar" && this._dg) options.numberingSystem = this._dg;
    const key = lang + JSON.stringify(options);
    let format = formats.get(key);
    if (!format) {
      const Format = options.hour || options.weekday ? Intl.DateTimeFormat : Intl.NumberFormat;
      formats.set(key, (format = new Format(lang === "ar" ? "ar-AE" : "en", options)));
    }
    return format;
  }

  /** The plural form of `forms` for `n`, with `n` in the widget's digits. */
  _pl(forms, n) {
    return fill(forms[new Intl.PluralRules(this._lang).select(n)] || forms.other, this._f({}).format(n));
  }

  _time(at) {
    const d = date(at);
    if (isNaN(d)) return "";
    const today = +day(d) === +day(new Date());
    return this._f(today ? { hour: "numeric", minute: "2-digit" } : { day: "numeric", month: "short", hour: "numeric", minute: "2-digit" }).format(d);
  }

  /** "We're away — back …": at a time today, tomorrow, on a weekday, or on a date. */
  _back(at) {
    const w = this._w;
    const d = date(at);
    if (isNaN(d)) return w.awayNow;
    const days = Math.round((day(d) - day(new Date())) / 864e5);
    const time = this._f({ hour: "numeric", minute: "2-digit" }).format(d);
    if (days < 1) return fill(w.awayAt, time);
    const when = days < 2 ? new Intl.RelativeTimeFormat(this._lang, { numeric: "auto" }).format(1, "day")
      : this._f(days < 7 ? { weekday: "long" } : { weekday: "long", day: "numeric", month: "long" }).format(d);
    return fill(w.away, when, time);
  }

  _count() {
    const left = MAX - this.$.tx.value.length;
    set(this.$.cn, left > 200 ? "" : this._pl(this._w.left, left));
  }

  _send() {
    const $ = this.$;
    const text = $.tx.value.trim();
    if (!text || this._busy) return;
    const email = $.ml.hidden ? "" : $.em.value.trim();
    if (email && !$.em.checkValidity()) {
      $.em.setAttribute("aria-invalid", "true");
      this._err(this._w.bad);
      return $.em.focus();
    }
    $.em.removeAttribute("aria-invalid");
    this._err("");
    this._busy = 1;
    $.sd.setAttribute("aria-disabled", "true");
    this._emit("souk-chat-send", email ? { text, email } : { text });
  }

  /** Opens or closes the panel; `user`: the shopper did, so say so; `focus`: move it. */
  _show(on, user, focus) {
    const $ = this.$;
    if (on !== $.p.hidden) return;
    const inside = $.p.contains(this.shadowRoot.activeElement);
    $.p.hidden = !on;
    $.w.classList.toggle("o", on);
    $.l.setAttribute("aria-expanded", on);
    if (on) {
      $.lg.scrollTop = $.lg.scrollHeight;
      if (focus) this._focus();
    } else if (focus || inside) $.l.focus();
    if (user) this._emit(on ? "souk-chat-open" : "souk-chat-close");
    if (on) this._seen();
  }

  /** Focus into the panel: the composer, else the rating, else what is there. */
  _focus() {
    const $ = this.$;
    const target = [$.tx, $.rt.querySelector("input"), $.nw, $.rb, $.x].find(shown);
    if (target) target.focus();
  }

  /** Tells the runtime the shopper has seen the messages, once they can. */
  _seen() {
    const lg = this.$.lg;
    if (this._pr && !this.$.p.hidden && document.visibilityState === "visible" && lg.scrollHeight - lg.scrollTop - lg.clientHeight < 48) {
      this._pr = 0;
      this._emit("souk-chat-read");
    }
  }

  _paint() {
    const v = this._v || {};
    const o = this._o || {};
    const $ = this.$;
    const root = this.shadowRoot;
    const near = (this.closest("[lang]") || document.documentElement).lang || "";
    const lang = (this._lang = /^(en|ar)$/.test(v.lang) ? v.lang : /^ar\b/i.test(near) ? "ar" : "en");
    const digits = str(v.digits) || this.getAttribute("digits");
    this._dg = lang === "ar" && /^(arab|latn)$/.test(digits) ? digits : "";
    const w = this._w;
    $.w.lang = lang;
    $.w.dir = lang === "ar" ? "rtl" : "ltr";
    if (this._k !== lang + this._dg) {
      this._k = lang + this._dg;
      for (const el of root.querySelectorAll("[data-w]")) set(el, w[el.dataset.w]);
      for (const el of root.querySelectorAll("[data-a]")) el.setAttribute("aria-label", w[el.dataset.a]);
      for (const el of root.querySelectorAll("[data-s]")) set(el, this._pl(w.stars, +el.dataset.s));
      $.tx.placeholder = w.ph;
      this._count();
    }
    const had = $.p.contains(root.activeElement);
    const state = str(v.state) || "idle";
    const closed = !!v.closed;
    const rated = !!v.rated;
    const unread = int(v.unread);
    const team = str(v.team);

    // The name is the launcher's (hidden) text, not aria-label: Arabic says "two" in
    // words where the badge shows the digit.
    set($.ln, w.chat + (unread ? w.sep + this._pl(w.unread, unread) : ""));
    set($.n, unread ? this._f({}).format(Math.min(unread, 99)) + (unread > 99 ? "+" : "") : "");
    set($.t, team || w.chat);
    $.on.className = v.open === false ? "on off" : "on";
    set($.on, v.open === false ? this._back(v.backAt) : w.online);

    const busy = state === "loading" || state === "error";
    $.sx.hidden = !busy;
    $.hi.hidden = busy;
    $.rb.hidden = state !== "error";
    set($.sm, state === "error" ? w.error : w.loading);
    $.lg.setAttribute("aria-busy", state === "loading");
    if (state === "error" && o.state !== "error" && !$.p.hidden) this._say(w.error);

    // The messages, by id: a message keeps its node, so the log announces only new ones.
    const lg = $.lg;
    const atEnd = lg.scrollHeight - lg.scrollTop - lg.clientHeight < 48;
    // Messages in the first view are history; later ones arrive (and are unread).
    const first = !this._v0;
    this._v0 = this._v;
    const keep = new Set();
    let prev = $.hi;
    let last = {};
    let agent = "";
    let mine = 0;
    for (const m of Array.isArray(v.messages) ? v.messages : []) {
      if (!m || typeof m !== "object") continue;
      const key = String(m.id != null ? m.id : [m.at, m.author, m.text]);
      if (keep.has(key)) continue;
      keep.add(key);
      const author = /^(shopper|bot)$/.test(m.author) ? m.author : "agent";
      let n = this._m.get(key);
      if (!n || n._a !== author) {
        if (n) n.remove();
        n = h("div", {}, h("span"), h("p", { class: "bb" }), h("p", { class: "mt" }, h("time"), h("span")));
        n._a = author;
        if (author === "bot") {
          const button = h("button", { class: "q", type: "button" });
          button.addEventListener("click", () => this._emit("souk-chat-human", { faqId: button.parentNode._f }));
          n.append(button);
        }
        this._m.set(key, n);
        if (author === "shopper") mine = 1;
        else if (!first) this._pr = 1;
      }
      n._f = m.faqId != null ? m.faqId : null;
      const name = str(m.agentName);
      if (author === "agent") agent = name;
      const again = last.author === m.author && (author !== "agent" || str(last.agentName) === name);
      const status = author === "shopper" && STATUS[m.status] ? m.status : "";
      n.className = "m " + author[0] + (again ? " g" : "") + (status === "failed" ? " f" : "");
      const [who, text, meta, human] = n.children;
      who.className = author === "shopper" || (again && author === "agent") ? "sr" : "nm";
      set(who, author === "shopper" ? w.you : author === "bot" ? w.bot : name || team || w.us);
      set(text, str(m.text));
      const d = date(m.at);
      if (!isNaN(d)) meta.firstChild.setAttribute("datetime", d.toISOString());
      set(meta.firstChild, this._time(m.at));
      set(meta.lastChild, status ? w[status] : "");
      if (human) set(human, w.human);
      if (prev.nextSibling !== n) prev.after(n);
      prev = n;
      last = m;
    }
    for (const [key, n] of this._m) if (!keep.has(key)) n.remove(), this._m.delete(key);
    if (unread) this._pr = 1;

    $.ty.hidden = !v.typing || closed;
    set($.tt, fill(w.typing, agent || team || w.us));
    $.c.hidden = closed;
    $.ml.hidden = !v.askEmail;
    $.en.hidden = !closed;
    $.rt.hidden = rated;
    $.ok.hidden = !rated;
    if (closed && !o.closed) {
      $.rt.reset();
      $.sb.disabled = true;
    }
    // After the typing line, composer and rating have changed the log's height: the
    // rating is taller than the composer, and would otherwise hide the last messages.
    if (atEnd || mine) lg.scrollTop = lg.scrollHeight;
    if (rated && !o.rated && !$.p.hidden) this._say(w.thanks);
    // What had focus may have gone (the rating, once sent): focus what replaced it.
    if (had && !shown(root.activeElement)) this._focus();
    this._o = { expanded: v.expanded, closed, rated, state };
    if (typeof v.expanded === "boolean" && v.expanded !== o.expanded) this._show(v.expanded);
    this._seen();
  }
}

if (globalThis.customElements && !customElements.get("souk-chat")) {
  customElements.define("souk-chat", SoukChat);
}
