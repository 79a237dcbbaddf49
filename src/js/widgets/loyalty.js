// <souk-loyalty>: the shopper's points. A launcher button the shop places (it shows the
// balance once known) opens a panel with the balance, the tier and the way to the next
// one, how to earn, recent activity, the shopper's codes and the rewards to redeem.
// The widget decides nothing: the runtime fetches, redeems and hands it views to paint;
// the widget hands the shopper's actions back as events.
//
//   <souk-loyalty digits="arab|latn">
//
//   el.render(view) paints (never throws), open or closed:
//     { lang: "en" | "ar", digits?: "arab" | "latn", currency?: "AED",
//       state: "anonymous" | "loading" | "ready" | "error",
//       account?: the GET /v1/loyalty answer as served ({ balance, tier, spend, next,
//                 grace, expiry, rewards: [{ id, name: {en, ar}, cost, affordable, … }],
//                 history, coupons }),
//       rules?: { earn: { points, per }, bonuses: { signup, birthday, review, referral } },
//       loginUrl?, joinUrl?,   (http(s) only, for anonymous shoppers)
//       message? }             (the error state's text; a default otherwise)
//     Money (spend to the next tier, the earn rate) is in minor units of `currency`,
//     shown with that currency's decimals. Digits (ar only): the view's, else the
//     attribute's, else the locale's. Before any view the panel shows a skeleton.
//   el.redeemed({ code, reward, balance, entry? })  the POST /v1/loyalty/redeem answer:
//     shows the code with a Copy button (focused, and announced) and the new balance.
//   el.failed(message?)  the redemption in progress failed: the message is shown next
//     to its reward, and announced.
//   el.open() / el.close()  the panel.
//
// Events (bubbles, composed):
//   souk-loyalty-open    {} the first time the panel opens: time to load the data.
//   souk-loyalty-redeem  { reward } (its id) on "Redeem": the button shows it is busy
//                        until render(), redeemed() or failed().
//   souk-loyalty-retry   {} on "Try again" in the error state.
//
// Theming: set these on `souk-loyalty` or on :root.
//   --souk-loyalty-accent     launcher, panel header, buttons   (#1e5b57)
//   --souk-loyalty-accent-fg  text on the accent                (#fff)
//   --souk-loyalty-bg         panel background                  (#fbf8f3)
//   --souk-loyalty-surface    cards                             (#fff)
//   --souk-loyalty-fg         text                              (#1f2528)
//   --souk-loyalty-muted      secondary text                    (#565d62)
//   --souk-loyalty-border     hairlines                         (#e4dccf)
//   --souk-loyalty-soft       progress track, code box          (#e3efed)
//   --souk-loyalty-star       the star and the progress on the header (#f2c66d)
//   --souk-loyalty-focus      focus ring                        (#b0400f)
//   --souk-loyalty-danger     error text                        (#9b2c1a)
//   --souk-loyalty-radius     corner radius                     (14px)
//   --souk-loyalty-font       font family                       (the page's font)
// Keep accent/accent-fg, fg/bg, muted/bg and danger/surface at 4.5:1 or more (WCAG AA).

const W = {
  en: {
    rewards: "Rewards", title: "Your rewards", close: "Close", balance: "Your balance",
    pt: ["{0} point", "{0} points"], tier: "{0} tier", more: "{0} more to {1}", to: "Progress to {0}",
    top: "You're in our top tier.", grace: "You keep {0} until {1}. Spend {2} more by then to stay there.",
    expiry: "{0} expire on {1} unless you earn or redeem before then.", expired: "{0} expired on {1}.",
    earn: "How to earn", rate: "{0} for every {1} you spend", mult: "{0} members earn ×{1}",
    signup: "Creating an account", birthday: "Your birthday", review: "Writing a review", referral: "Referring a friend",
    history: "Recent activity", none: "No activity yet.", order: "Order {0}", orderx: "Order",
    refund: "Refund, order {0}", refundx: "Refund", redemption: "Redeemed: {0}", release: "Points returned",
    expiryk: "Points expired", bonus: "Bonus: {0}",
    list: "Rewards", redeem: "Redeem", busy: "Redeeming…", need: "{0} to go", cost: "Costs {0}",
    codes: "Your codes", yours: "Your code for {0}", copy: "Copy", copied: "Copied",
    copiedSay: "Code {0} copied.", copyFail: "Select the code and copy it.", use: "Use it at checkout.",
    newBal: "New balance: {0}", got: "Your code for {0} is {1}. New balance: {2}.",
    anon: "Log in to see your points", invite: "Join our rewards programme to earn points on every order and spend them on discounts.",
    join: "Join now", login: "Log in", loading: "Loading your points…",
    error: "We couldn't load your points just now.", retry: "Try again",
    failed: "This reward couldn't be redeemed. Please try again.",
  },
  ar: {
    rewards: "المكافآت", title: "مكافآتك", close: "إغلاق", balance: "رصيدك",
    pt: ["{0} نقطة", "{0} نقطة", "{0} نقاط"], tier: "فئة {0}", more: "باقٍ {0} للوصول إلى {1}", to: "التقدم نحو {0}",
    top: "أنت في أعلى فئة لدينا.", grace: "تحتفظ بفئة {0} حتى {1}. أنفق {2} إضافية قبل ذلك للبقاء فيها.",
    expiry: "تنتهي صلاحية {0} في {1} ما لم تكسب نقاطاً أو تستبدلها قبل ذلك.", expired: "انتهت صلاحية {0} في {1}.",
    earn: "كيف تكسب النقاط", rate: "{0} مقابل كل {1} تنفقها", mult: "أعضاء فئة {0} يكسبون ×{1}",
    signup: "إنشاء حساب", birthday: "عيد ميلادك", review: "كتابة مراجعة", referral: "دعوة صديق",
    history: "آخر النشاطات", none: "لا يوجد نشاط بعد.", order: "الطلب {0}", orderx: "طلب",
    refund: "استرداد، الطلب {0}", refundx: "استرداد", redemption: "استبدال: {0}", release: "إعادة نقاط",
    expiryk: "انتهاء صلاحية النقاط", bonus: "مكافأة: {0}",
    list: "المكافآت المتاحة", redeem: "استبدال", busy: "جارٍ الاستبدال…", need: "تحتاج {0} إضافية", cost: "السعر {0}",
    codes: "رموزك", yours: "رمزك لمكافأة {0}", copy: "نسخ", copied: "تم النسخ",
    copiedSay: "تم نسخ الرمز {0}.", copyFail: "حدّد الرمز وانسخه.", use: "استخدمه عند الدفع.",
    newBal: "رصيدك الجديد: {0}", got: "رمزك لمكافأة {0} هو {1}. رصيدك الجديد: {2}.",
    anon: "سجّل الدخول لرؤية نقاطك", invite: "انضم إلى برنامج المكافآت لتكسب نقاطاً مع كل طلب وتستبدلها بخصومات.",
    join: "انضم الآن", login: "تسجيل الدخول", loading: "جارٍ تحميل نقاطك…",
    error: "تعذّر تحميل نقاطك الآن.", retry: "إعادة المحاولة",
    failed: "تعذّر استبدال هذه المكافأة. يُرجى المحاولة مرة أخرى.",
  },
};
const BONUSES = ["signup", "birthday", "review", "referral"];

const CSS = `
:host{display:inline-block;vertical-align:middle}
:host([hidden]){display:none}
.l,dialog{--ac:var(--souk-loyalty-accent,#1e5b57);--af:var(--souk-loyalty-accent-fg,#fff);--bg:var(--souk-loyalty-bg,#fbf8f3);--sf:var(--souk-loyalty-surface,#fff);--fg:var(--souk-loyalty-fg,#1f2528);--mu:var(--souk-loyalty-muted,#565d62);--ln:var(--souk-loyalty-border,#e4dccf);--so:var(--souk-loyalty-soft,#e3efed);--st:var(--souk-loyalty-star,#f2c66d);--fo:var(--souk-loyalty-focus,#b0400f);--er:var(--souk-loyalty-danger,#9b2c1a);--r:var(--souk-loyalty-radius,14px);
font-family:var(--souk-loyalty-font,inherit);font-size:1rem;font-weight:400;font-style:normal;line-height:1.5;letter-spacing:normal;word-spacing:normal;text-align:start;text-transform:none;text-indent:0;text-shadow:none;white-space:normal;visibility:visible}
:lang(ar){line-height:1.7}
*,::before,::after{box-sizing:border-box}
button,a.b{margin:0;font:inherit;font-weight:650;line-height:1.25;letter-spacing:inherit;text-transform:none;cursor:pointer;touch-action:manipulation;border-radius:99px;text-decoration:none;display:inline-flex;align-items:center;justify-content:center;gap:.4em}
:focus-visible{outline:3px solid var(--fo);outline-offset:2px}
:focus:not(:focus-visible){outline:none}
.l{min-block-size:44px;padding:.5em 1.1em;color:var(--af);background:var(--ac);border:0;font-size:.9375em;white-space:nowrap;box-shadow:0 1px 2px rgba(31,37,40,.12);transition:filter .15s}
.l:hover,.p:hover{filter:brightness(1.12)}
.s{color:var(--st)}
dialog{position:fixed;inset-block:1rem auto;inset-inline:auto 1rem;margin:0;padding:0;inline-size:26rem;max-inline-size:calc(100vw - 2rem);max-block-size:calc(100vh - 2rem);max-block-size:calc(100dvh - 2rem);overflow:hidden;color:var(--fg);background:var(--bg);border:0;border-radius:var(--r);box-shadow:0 4px 12px rgba(0,0,0,.1),0 24px 64px rgba(0,0,0,.22)}
dialog[open]{display:flex;flex-direction:column;animation:in .22s cubic-bezier(.2,.8,.2,1)}
dialog::backdrop{background:rgba(20,30,32,.35)}
.sc{overflow:auto;overscroll-behavior:contain;flex:1 1 auto}
.hd{position:relative;padding:1.1rem 1.25rem 1.25rem;color:var(--af);background:var(--ac);background:linear-gradient(150deg,var(--ac),color-mix(in srgb,var(--ac) 78%,#000))}
.hd :focus-visible{outline-color:var(--af)}
h2{margin:0;padding-inline-end:2.75rem;font-size:1.0625em;font-weight:650;line-height:1.4}
.x{position:absolute;inset-block-start:.6rem;inset-inline-end:.6rem;inline-size:44px;block-size:44px;padding:0;color:inherit;background:transparent;border:0;font-size:1.5em;font-weight:400}
.x:hover{background:rgba(255,255,255,.14)}
.bal{display:flex;align-items:baseline;flex-wrap:wrap;gap:.15em .5em;margin:.6rem 0 0}
.bal b{font-size:2.5em;font-weight:750;line-height:1.1;font-variant-numeric:tabular-nums}
.chip{display:inline-block;margin-block-start:.5rem;padding:.1em .7em;font-size:.8125em;font-weight:650;color:var(--ac);background:var(--st);border-radius:99px}
.pg{margin-block-start:1rem}
.pl{display:flex;justify-content:space-between;gap:1em;font-size:.8125em;opacity:.92}
.tr{block-size:.5rem;margin-block:.3rem;background:rgba(255,255,255,.22);border-radius:99px;overflow:hidden}
.fi{display:block;block-size:100%;min-inline-size:.5rem;background:var(--st);border-radius:inherit;transition:inline-size .4s}
.pt{margin:0;font-size:.875em}
.bd{padding:.5rem 1.25rem 1.5rem}
h3{margin:1.25rem 0 .5rem;font-size:.8125em;font-weight:700;letter-spacing:.04em;text-transform:uppercase;color:var(--mu)}
h3:lang(ar){font-size:.9375em;letter-spacing:normal}
p{margin:0}
ul{list-style:none;margin:0;padding:0}
.n{margin-block-start:.75rem;padding:.6rem .8rem;font-size:.875em;background:var(--sf);border:1px solid var(--ln);border-inline-start:3px solid var(--fo);border-radius:calc(var(--r)*.6)}
.cd,.rw{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem .75rem;padding:.75rem .9rem;background:var(--sf);border:1px solid var(--ln);border-radius:calc(var(--r)*.7)}
.rw+.rw,.cd+.cd{margin-block-start:.5rem}
.rw>div,.cd>div{flex:1 1 7rem;min-inline-size:0}
.nm{display:block;font-weight:650;overflow-wrap:anywhere}
.mu{display:block;font-size:.875em;color:var(--mu)}
.no .nm{color:var(--mu)}
.p{min-block-size:44px;padding:.5em 1.1em;color:var(--af);background:var(--ac);border:2px solid var(--ac)}
.q{min-block-size:44px;padding:.5em 1.1em;color:var(--ac);background:var(--sf);border:2px solid var(--ac)}
[aria-disabled=true]{cursor:progress;opacity:.75}
.cd{background:var(--so);border-color:color-mix(in srgb,var(--ac) 30%,var(--so))}
.cd.new{box-shadow:0 0 0 2px var(--ac)}
code{display:block;font:700 1.125em/1.3 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;letter-spacing:.06em;color:var(--fg);direction:ltr;text-align:start;user-select:all;overflow-wrap:anywhere}
.e{flex-basis:100%;font-size:.875em;font-weight:600;color:var(--er)}
.ea li,.hi li{display:flex;gap:.75rem;justify-content:space-between;align-items:baseline;padding-block:.55rem;border-block-end:1px solid var(--ln)}
.ea li:last-child,.hi li:last-child{border:0}
.hi li>span:first-child{min-inline-size:0;overflow-wrap:anywhere}
.v{flex:none;font-weight:700;font-variant-numeric:tabular-nums;white-space:nowrap}
.up{color:#2b6a37}
.an{padding:1.5rem 1.25rem 1.75rem;text-align:center}
.an .big{font-size:2.5rem;line-height:1;color:var(--st);text-shadow:0 1px 0 rgba(0,0,0,.15)}
.an p{margin-block:.5rem 1.25rem;color:var(--mu)}
.an section{margin-block-start:1.75rem;text-align:start}
.hl{margin:.75rem 0 0;font-size:1.125em;letter-spacing:normal;text-transform:none;color:var(--fg)}
.bt{display:flex;flex-wrap:wrap;gap:.6rem;justify-content:center}
.er{padding:1.5rem 1.25rem;text-align:center}
.er p{margin-block:.5rem 1.25rem;color:var(--mu)}
.sk i{display:block;block-size:1rem;margin-block:.6rem;border-radius:99px;background:linear-gradient(90deg,var(--ln) 30%,var(--bg) 50%,var(--ln) 70%) 0 0/300% 100%;animation:sh 1.6s linear infinite}
.hd.sk i{background-image:linear-gradient(90deg,rgba(255,255,255,.18) 30%,rgba(255,255,255,.34) 50%,rgba(255,255,255,.18) 70%)}
.sk i:nth-of-type(2){block-size:2.5rem;inline-size:55%}
.sk i:nth-of-type(3){inline-size:80%}
.sr{position:absolute;inline-size:1px;block-size:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
@media (max-width:30em){dialog{inset:auto .5rem .5rem;inline-size:auto;max-inline-size:none;max-block-size:calc(100dvh - 1rem)}.hd,.bd{padding-inline:1rem}}
@media (forced-colors:active){.fi{background:Highlight}.tr{border:1px solid CanvasText}}
@media (prefers-reduced-motion:reduce){*,::backdrop{animation:none!important;transition:none!important}}
@keyframes in{from{opacity:0;transform:translateY(.75rem)}}
@keyframes sh{from{background-position:100% 0}to{background-position:0 0}}
`;

const warn = (why) => console.warn("souk: the loyalty widget " + why);
const obj = (value) => (value && typeof value === "object" ? value : {});
const arr = (value) => (Array.isArray(value) ? value : []);
const str = (value) => (typeof value === "string" ? value : "");
const int = (value) => (typeof value === "number" && isFinite(value) ? value : 0);
const fill = (text, ...args) => text.replace(/\{(\d)\}/g, (_, i) => args[i]);

/** An element with attributes and, if given, its text (as a text node, never markup). */
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const name in attrs) if (attrs[name] != null) el.setAttribute(name, attrs[name]);
  el.append(...kids.filter((kid) => kid != null && kid !== ""));
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

/** The element that has focus, looking inside open shadow roots. */
function focused() {
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  return el;
}

const formats = new Map();
let sheet;

export class SoukLoyalty extends (globalThis.HTMLElement || Object) {
  static get observedAttributes() {
    return ["digits"];
  }

  connectedCallback() {
    this._paint();
  }

  attributeChangedCallback() {
    if (this.shadowRoot) this._paint();
  }

  /** Paints the view; see the top of this file. Never throws. */
  render(view) {
    this._try(() => {
      if (!view || typeof view !== "object") return warn("got no view to render");
      const was = obj(obj(this._view).account).userId;
      this._view = view;
      this._busy = this._error = null;
      // A fresh code stays in view across repaints of the same shopper's account.
      if (view.state !== "ready" || obj(view.account).userId !== was) this._fresh = null;
      this._paint();
    });
  }

  /** The redemption in progress succeeded: `answer` is POST /v1/loyalty/redeem's. */
  redeemed(answer) {
    this._try(() => {
      const { code, reward, balance, entry } = obj(answer);
      const account = obj(obj(this._view).account);
      if (!str(code) || !this._view) return warn("got no code to show");
      const id = str(obj(reward).id) || str(reward) || this._busy;
      this._busy = this._error = null;
      if (typeof balance === "number") {
        account.balance = balance;
        for (const r of arr(account.rewards)) if (r && typeof r === "object") r.affordable = int(r.cost) <= balance;
      }
      // Redeeming restarts the expiry clock: the old note would be wrong until the
      // runtime fetches the account again.
      account.expiry = null;
      if (entry && typeof entry === "object") account.history = [entry, ...arr(account.history)];
      account.coupons = [{ code, reward: id, state: "issued", issuedAt: str(obj(entry).at) }, ...arr(account.coupons).filter((c) => obj(c).code !== code)];
      this._fresh = code;
      this._paint("copy:" + code);
      const w = this._w;
      this._say(fill(w.got, this._reward(id), code, this._pts(account.balance)));
    });
  }

  /** The redemption in progress failed; `message` is shown next to its reward. */
  failed(message) {
    this._try(() => {
      if (!this._busy) return warn("was told a redemption failed, but none was in progress");
      this._error = { reward: this._busy, message: str(message) || this._w.failed };
      this._busy = null;
      this._paint();
      this._say(this._error.message);
    });
  }

  open() {
    this._try(() => {
      this._paint();
      const dialog = this._dlg;
      if (dialog.open) return;
      this._back = focused();
      dialog.showModal();
      this._btn.setAttribute("aria-expanded", "true");
      this.shadowRoot.querySelector("h2").focus();
      if (!this._opened) {
        this._opened = true;
        this._emit("souk-loyalty-open", {});
      }
    });
  }

  close() {
    this._try(() => {
      if (this._dlg && this._dlg.open) this._dlg.close();
    });
  }

  _try(fn) {
    try {
      fn();
    } catch (err) {
      warn("could not be shown (" + (err && err.message) + ")");
    }
  }

  _emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { bubbles: true, composed: true, detail }));
  }

  /** Says `text` in the polite live region (again, if it is the same text). */
  _say(text) {
    const live = this._live;
    live.textContent = "";
    setTimeout(() => (live.textContent = text), 50);
  }

  _init() {
    const root = this.attachShadow({ mode: "open" });
    try {
      if (!sheet) (sheet = new CSSStyleSheet()).replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch {
      root.append(h("style", {}, CSS));
    }
    this._btn = h("button", { class: "l", type: "button", "aria-haspopup": "dialog", "aria-expanded": "false", part: "launcher" });
    this._btn.addEventListener("click", () => this.open());
    this._dlg = h("dialog", { "aria-labelledby": "t", part: "panel" });
    this._live = h("p", { class: "sr", role: "status" });
    this._dlg.addEventListener("close", () => {
      this._btn.setAttribute("aria-expanded", "false");
      const back = this._back;
      this._back = null;
      const lost = focused();
      if (!lost || lost === document.body || lost === this) (back && back.isConnected && back !== document.body ? back : this._btn).focus();
    });
    // A click on the backdrop (the dialog itself, outside its content) closes it.
    this._dlg.addEventListener("click", (event) => event.target === this._dlg && this.close());
    root.append(this._btn, this._dlg);
  }

  get _w() {
    return W[this._lang] || W.en;
  }

  _num(n, options = {}) {
    const lang = this._lang;
    if (lang === "ar" && /^(arab|latn)$/.test(this._digits)) options.numberingSystem = this._digits;
    const key = lang + JSON.stringify(options);
    let format = formats.get(key);
    if (!format) {
      try {
        format = options.month
          ? new Intl.DateTimeFormat(lang === "ar" ? "ar-AE" : "en", options)
          : new Intl.NumberFormat(lang === "ar" ? "ar-AE" : "en", options);
      } catch {
        format = null; // a currency Intl does not know
      }
      formats.set(key, format);
    }
    return format;
  }

  _pts(n, sign) {
    n = int(n);
    const forms = this._w.pt;
    const rule = new Intl.PluralRules(this._lang).select(n);
    const text = forms[rule === "one" ? 0 : rule === "few" && forms[2] ? 2 : 1];
    // A sign keeps its place in Arabic when the number is isolated as left-to-right.
    return fill(text, sign ? "\u2066" + this._num(n, { signDisplay: "exceptZero" }).format(n) + "\u2069" : this._num(n).format(n));
  }

  _money(minor) {
    const currency = str(obj(this._view).currency).toUpperCase();
    const format = currency && this._num(0, { style: "currency", currency });
    if (format) return format.format(int(minor) / 10 ** format.resolvedOptions().maximumFractionDigits);
    return this._num(0, { minimumFractionDigits: 2 }).format(int(minor) / 100);
  }

  _date(iso) {
    const date = new Date(str(iso));
    return isNaN(date) ? "" : this._num(0, { day: "numeric", month: "short", year: "numeric" }).format(date);
  }

  /** A name in the shopper's language: `{en, ar}` or a plain string. */
  _name(value) {
    return typeof value === "string" ? value : str(obj(value)[this._lang]) || str(obj(value).en);
  }

  _reward(id) {
    const reward = arr(obj(obj(this._view).account).rewards).find((r) => obj(r).id === id);
    return reward ? this._name(reward.name) : str(id);
  }

  _paint(focusKey) {
    if (!this.shadowRoot) this._init();
    const view = obj(this._view);
    const near = (this.closest("[lang]") || document.documentElement).lang || "";
    const lang = (this._lang = /^(en|ar)$/.test(view.lang) ? view.lang : /^ar\b/i.test(near) ? "ar" : "en");
    this._digits = str(view.digits) || this.getAttribute("digits") || "";
    const w = this._w;
    const dir = lang === "ar" ? "rtl" : "ltr";
    const state = this._view ? str(view.state) : "loading";
    const account = obj(view.account);
    const ready = state === "ready" && this._view.account;

    for (const el of [this._btn, this._dlg]) el.setAttribute("lang", lang), el.setAttribute("dir", dir);
    this._btn.replaceChildren(h("span", { class: "s", "aria-hidden": "true" }, "★"), ready ? this._pts(account.balance) : w.rewards);

    // What had focus in the panel, to give it back after the repaint.
    const root = this.shadowRoot;
    const had = root.activeElement && root.activeElement.closest("dialog") ? root.activeElement.dataset.k : null;
    const old = root.querySelector(".sc");
    const top = old ? old.scrollTop : 0;

    const head = h("div", { class: "hd" }, h("h2", { id: "t", tabindex: "-1", "data-k": "t" }, ready ? w.title : w.rewards));
    const close = h("button", { class: "x", type: "button", "aria-label": w.close, "data-k": "x" }, "×");
    close.addEventListener("click", () => this.close());
    head.append(close);
    const body = h("div", { class: "bd" });
    const scroll = h("div", { class: "sc" }, head, body);

    if (ready) this._ready(head, body, account);
    else if (state === "anonymous") this._anonymous(body, view);
    else if (state === "error") {
      const retry = h("button", { class: "p", type: "button", "data-k": "retry" }, w.retry);
      retry.addEventListener("click", () => this._emit("souk-loyalty-retry", {}));
      body.className = "er";
      body.append(h("h3", { class: "hl" }, w.error), h("p", {}, str(view.message)), retry);
      if (this._dlg.open && this._state !== "error") this._say(w.error + " " + str(view.message));
    } else {
      // Loading: a skeleton, busy, with one line for a screen reader.
      head.classList.add("sk");
      head.append(h("i", { "aria-hidden": "true" }), h("i", { "aria-hidden": "true" }), h("i", { "aria-hidden": "true" }));
      body.className = "bd sk";
      body.setAttribute("aria-busy", "true");
      body.append(h("p", { class: "sr" }, w.loading));
      for (let i = 0; i < 5; i++) body.append(h("i", { "aria-hidden": "true" }));
    }
    this._state = state;
    this._dlg.replaceChildren(scroll, this._live);
    scroll.scrollTop = top;
    const key = focusKey || had;
    if (key && this._dlg.open) {
      const target = [...root.querySelectorAll("[data-k]")].find((el) => el.dataset.k === key) || root.querySelector("h2");
      target.focus();
    }
  }

  _anonymous(body, view) {
    const w = this._w;
    body.className = "an";
    const buttons = h("div", { class: "bt" });
    const join = safeUrl(view.joinUrl);
    const login = safeUrl(view.loginUrl);
    if (join) buttons.append(h("a", { class: "b p", href: join }, w.join));
    if (login) buttons.append(h("a", { class: "b q", href: login }, w.login));
    body.append(h("div", { class: "big", "aria-hidden": "true" }, "★"), h("h3", { class: "hl" }, w.anon), h("p", {}, w.invite), buttons);
    const earn = this._earn(view.rules, null);
    if (earn) body.append(earn);
  }

  _ready(head, body, account) {
    const w = this._w;
    const tier = obj(account.tier);
    const next = obj(account.next);
    head.append(
      h("p", { class: "bal" }, h("span", { class: "sr" }, w.balance + " "), h("b", {}, this._num(int(account.balance)).format(int(account.balance))),
        h("span", {}, this._pts(account.balance).replace(/^\S+\s*/, ""))),
      tier.id ? h("span", { class: "chip" }, fill(w.tier, this._name(tier.name))) : "",
    );
    if (next.tier) {
      const to = this._name(next.tier.name);
      const min = int(tier.threshold);
      const max = Math.max(int(next.tier.threshold), min + 1);
      const now = Math.min(Math.max(int(account.spend), min), max);
      const text = fill(w.more, this._money(next.needed), to);
      const bar = h("div", {
        class: "tr", role: "progressbar", "aria-valuemin": min, "aria-valuemax": max, "aria-valuenow": now,
        "aria-valuetext": text, "aria-label": fill(w.to, to),
      }, h("span", { class: "fi" }));
      bar.firstChild.style.inlineSize = ((now - min) * 100) / (max - min) + "%";
      head.append(h("div", { class: "pg" },
        h("div", { class: "pl", "aria-hidden": "true" }, h("span", {}, this._name(tier.name)), h("span", {}, to)),
        bar, h("p", { class: "pt" }, text)));
    } else if (tier.id) head.append(h("p", { class: "pt pg" }, w.top));

    const grace = obj(account.grace);
    if (grace.until) body.append(h("p", { class: "n" }, fill(w.grace, this._name(tier.name), this._date(grace.until), this._money(grace.needed))));
    const expiry = obj(account.expiry);
    if (int(expiry.points) > 0 && expiry.at) body.append(h("p", { class: "n" }, fill(expiry.due ? w.expired : w.expiry, this._pts(expiry.points), this._date(expiry.at))));

    // The shopper's unused codes, the one just redeemed first.
    const codes = arr(account.coupons).filter((c) => obj(c).state === "issued" && str(c.code));
    if (codes.length) {
      const list = h("ul");
      for (const coupon of codes) {
        const fresh = coupon.code === this._fresh;
        const cid = "c-" + codes.indexOf(coupon);
        const copy = h("button", { class: "q", type: "button", "data-k": "copy:" + coupon.code, "aria-describedby": cid }, w.copy);
        copy.addEventListener("click", () => this._copy(coupon.code, copy));
        list.append(h("li", { class: "cd" + (fresh ? " new" : "") },
          h("div", {}, h("span", { class: "mu" }, fill(w.yours, this._reward(coupon.reward))), h("code", { id: cid }, coupon.code),
            fresh ? h("span", { class: "mu" }, w.use + " " + fill(w.newBal, this._pts(account.balance))) : ""),
          copy));
      }
      body.append(h("section", { "aria-labelledby": "hc" }, h("h3", { id: "hc" }, w.codes), list));
    }

    const rewards = arr(account.rewards).filter((r) => obj(r).id);
    if (rewards.length) {
      const list = h("ul");
      for (const reward of rewards) {
        const id = str(reward.id);
        const row = h("li", { class: "rw" + (reward.affordable ? "" : " no") });
        const error = this._error && this._error.reward === id ? this._error.message : "";
        const eid = "e-" + rewards.indexOf(reward);
        row.append(h("div", {}, h("span", { class: "nm" }, this._name(reward.name)),
          h("span", { class: "mu" }, reward.affordable ? fill(w.cost, this._pts(reward.cost)) : fill(w.need, this._pts(int(reward.cost) - int(account.balance))))));
        if (reward.affordable) {
          const busy = this._busy === id;
          const button = h("button", {
            class: "p", type: "button", "data-k": "redeem:" + id, "aria-disabled": busy ? "true" : null,
            "aria-describedby": error ? eid : null, "aria-label": (busy ? w.busy : w.redeem) + " " + this._name(reward.name),
          }, busy ? w.busy : w.redeem);
          button.addEventListener("click", () => {
            if (this._busy) return;
            this._busy = id;
            this._error = null;
            this._paint();
            this._emit("souk-loyalty-redeem", { reward: id });
          });
          row.append(button);
        }
        if (error) row.append(h("p", { class: "e", id: eid }, error));
        list.append(row);
      }
      body.append(h("section", { "aria-labelledby": "hr" }, h("h3", { id: "hr" }, w.list), list));
    }

    const earn = this._earn(obj(this._view).rules, tier);
    if (earn) body.append(earn);

    const history = h("ul", { class: "hi" });
    for (const entry of arr(account.history).filter((e) => e && typeof e === "object")) {
      const points = int(entry.points);
      history.append(h("li", {},
        h("span", {}, h("span", { class: "mu" }, this._date(entry.at)), h("span", { class: "nm" }, this._why(entry))),
        h("span", { class: "v" + (points > 0 ? " up" : "") }, this._pts(points, true))));
    }
    body.append(h("section", { "aria-labelledby": "hh" }, h("h3", { id: "hh" }, w.history), history.firstChild ? history : h("p", { class: "mu" }, w.none)));
  }

  /** "How to earn": the earn rate, the tier's multiplier and the bonuses. */
  _earn(rules, tier) {
    const w = this._w;
    const { earn, bonuses } = obj(rules);
    const list = h("ul", { class: "ea" });
    if (int(obj(earn).points) > 0 && int(obj(earn).per) > 0) {
      list.append(h("li", {}, h("span", {}, fill(w.rate, this._pts(earn.points), this._money(earn.per)))));
    }
    const permille = int(obj(tier).multiplierPermille);
    if (permille > 1000) list.append(h("li", {}, h("span", {}, fill(w.mult, this._name(tier.name), this._num(0, { maximumFractionDigits: 3 }).format(permille / 1000)))));
    for (const action of BONUSES) {
      const points = int(obj(bonuses)[action]);
      if (points > 0) list.append(h("li", {}, h("span", {}, w[action]), h("span", { class: "v up" }, this._pts(points, true))));
    }
    return list.firstChild ? h("section", { "aria-labelledby": "he" }, h("h3", { id: "he" }, w.earn), list) : null;
  }

  /** Why a ledger entry moved the points. */
  _why(entry) {
    const w = this._w;
    const order = str(entry.orderId);
    switch (entry.kind) {
      case "order": return order ? fill(w.order, order) : w.orderx;
      case "refund": return order ? fill(w.refund, order) : w.refundx;
      case "bonus": return w[entry.action] && BONUSES.includes(entry.action) ? fill(w.bonus, w[entry.action]) : fill(w.bonus, str(entry.action));
      case "redemption": return fill(w.redemption, this._reward(str(entry.reward)));
      case "release": return w.release;
      case "expiry": return w.expiryk;
      default: return str(entry.reason);
    }
  }

  async _copy(code, button) {
    const w = this._w;
    let ok = false;
    try {
      await navigator.clipboard.writeText(code);
      ok = true;
    } catch {
      // No Clipboard API here (or no permission): the old way, from a selected field.
      const field = h("textarea", { class: "sr", "aria-hidden": "true", tabindex: "-1" });
      field.value = code;
      this._dlg.append(field);
      field.select();
      try {
        ok = document.execCommand("copy");
      } catch {}
      field.remove();
      button.focus();
    }
    if (!ok) {
      const shown = [...this.shadowRoot.querySelectorAll("code")].find((el) => el.textContent === code);
      if (shown) getSelection().selectAllChildren(shown);
    }
    this._say(ok ? fill(w.copiedSay, code) : w.copyFail);
    if (ok) {
      button.textContent = w.copied;
      clearTimeout(this._copiedTimer);
      this._copiedTimer = setTimeout(() => button.isConnected && (button.textContent = w.copy), 2000);
    }
  }
}

if (globalThis.customElements && !customElements.get("souk-loyalty")) {
  customElements.define("souk-loyalty", SoukLoyalty);
}
