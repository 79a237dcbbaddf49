// <souk-consent>: the consent banner. It paints the view-model that the Rust core
// computes (state and the en/ar words from core::i18n) and hands the shopper's
// choice back as a `souk-consent-action` event. It decides nothing itself.
//
//   el.show(view, { layer: "first" | "choices", text: overrides, focus: bool })
//   el.addEventListener("souk-consent-action", (e) => e.detail)
//     → { action: "accept_all" | "reject_all" }
//     → { action: "save", choices: { functional, analytics, personalization, marketing } }
//   el.close()   hides and removes the element, and gives focus back
//
// Theming: set these on `souk-consent` or on :root.
//   --souk-consent-bg         card background              (#fff)
//   --souk-consent-fg         text                         (#1b1f23)
//   --souk-consent-accent     buttons and switched-on      (#1f3b57)
//   --souk-consent-accent-fg  text on the accent           (#fff)
//   --souk-consent-border     hairlines                    (fg at 16%)
//   --souk-consent-radius     corner radius                (14px)
//   --souk-consent-font       font family                  (the page's font)
//   --souk-consent-z          z-index of the banner        (2147483000)
// Keep accent/accent-fg and fg/bg at 4.5:1 contrast or more (WCAG AA).

const KEYS = ["functional", "analytics", "personalization", "marketing"];
const CSS = `
:host{display:contents}
.b,dialog{--bg:var(--souk-consent-bg,#fff);--fg:var(--souk-consent-fg,#1b1f23);--ac:var(--souk-consent-accent,#1f3b57);--af:var(--souk-consent-accent-fg,#fff);--r:var(--souk-consent-radius,14px);--ln:var(--souk-consent-border,rgba(27,31,35,.16));--ln:var(--souk-consent-border,color-mix(in srgb,var(--fg) 16%,transparent));--mu:var(--fg);--mu:color-mix(in srgb,var(--fg) 80%,var(--bg));
box-sizing:border-box;background:var(--bg);color:var(--fg);font-family:var(--souk-consent-font);font-size:max(1rem,16px);font-weight:400;font-style:normal;line-height:1.5;letter-spacing:normal;word-spacing:normal;text-align:start;text-transform:none;text-indent:0;text-shadow:none;white-space:normal;visibility:visible;border:1px solid var(--ln);border-radius:var(--r);box-shadow:0 2px 6px rgba(0,0,0,.08),0 16px 48px rgba(0,0,0,.18)}
*,::before,::after{box-sizing:inherit}
.b{position:fixed;z-index:var(--souk-consent-z,2147483000);inset-inline:.75rem;inset-block-end:max(.75rem,env(safe-area-inset-bottom));margin-inline:auto;max-inline-size:44rem;max-block-size:calc(100vh - 1.5rem);max-block-size:calc(100dvh - 1.5rem);overflow:auto;overscroll-behavior:contain;padding:1.25em 1.5em 1.5em;animation:up .3s cubic-bezier(.2,.8,.2,1)}
.b:lang(ar),dialog:lang(ar){line-height:1.7}
h2{margin:0 0 .375em;font-size:1.1875em;font-weight:700;line-height:1.3}
p{margin:0}
.t{font-size:.9375em;color:var(--mu)}
.n{margin-block-start:.875em;padding:.625em .875em;font-size:.875em;border-radius:calc(var(--r)*.6);border-inline-start:3px solid var(--ac);background:var(--bg);background:color-mix(in srgb,var(--ac) 7%,var(--bg))}
.a{display:grid;grid-template-columns:repeat(3,1fr);gap:.625em;margin-block-start:1.125em}
button{margin:0;min-block-size:max(44px,2.75em);padding:.5em .75em;font:inherit;font-size:.9375em;font-weight:600;line-height:1.25;letter-spacing:inherit;text-transform:none;color:var(--af);background:var(--ac);border:2px solid var(--ac);border-radius:calc(var(--r)*.6);cursor:pointer;touch-action:manipulation;transition:filter .15s}
button:hover{filter:brightness(1.15)}
button:active{filter:brightness(.92)}
:focus-visible{outline:3px solid var(--ac);outline-offset:3px}
.b:focus:not(:focus-visible){outline:none}
dialog{inline-size:38rem;max-inline-size:calc(100vw - 1.5rem);max-block-size:calc(100vh - 1.5rem);max-block-size:calc(100dvh - 1.5rem);padding:0;overflow:hidden;animation:in .2s ease-out}
dialog[open]{display:flex;flex-direction:column}
dialog::backdrop{background:rgba(14,18,22,.55)}
dialog h2{padding:1.05em 1.26em .42em;margin:0}
ul{list-style:none;margin:0;padding:0 1.5em;overflow:auto;flex:1 1 auto;min-block-size:0}
li{padding-block:.625em .875em;border-block-end:1px solid var(--ln)}
li:last-child{border:0}
.r{display:flex;align-items:center;gap:.75em}
label{flex:1;display:flex;align-items:center;min-block-size:2.75em;font-weight:600;cursor:pointer}
.k{font-size:.8125em;font-weight:600;padding:.125em .625em;border:1px solid var(--ln);border-radius:99px;white-space:nowrap}
.d{font-size:.875em;color:var(--mu)}
li .n{margin-block-start:.5em}
dialog .a{margin:0;padding:1em 1.5em 1.25em;border-block-start:1px solid var(--ln)}
input{--tr:var(--bg);--th:var(--mu);appearance:none;-webkit-appearance:none;flex:none;margin:0;inline-size:3.25em;block-size:1.875em;border:2px solid var(--mu);border-radius:99px;cursor:pointer;background:radial-gradient(circle closest-side,var(--th) 72%,transparent 78%) 0 50%/1.625em 1.625em no-repeat var(--tr);transition:background-position .15s}
input:checked{--tr:var(--ac);--th:var(--af);border-color:var(--ac);background-position-x:100%}
[dir=rtl] input{background-position-x:100%}
[dir=rtl] input:checked{background-position-x:0}
input:disabled{cursor:default;opacity:.72}
@media (max-width:22.5em){.b>.a{grid-template-columns:1fr}}
@media (max-width:40em){dialog .a{grid-template-columns:1fr}.b{padding:1em 1em 1.125em}.b button{padding-inline:.25em}}
@media (forced-colors:active){input{appearance:auto;-webkit-appearance:auto;inline-size:auto;block-size:auto}}
@media (prefers-reduced-motion:reduce){*,::backdrop{animation:none!important;transition:none!important}}
@media print{.b{display:none}}
@keyframes up{from{opacity:0;transform:translateY(1.5rem)}}
@keyframes in{from{opacity:0;transform:scale(.97)}}
`;

const warn = (why) => console.warn("souk: the consent banner " + why);
const obj = (value) => (value && typeof value === "object" ? value : {});
const str = (value) => (typeof value === "string" ? value : "");

/** An element with attributes and, if given, its text (as a text node, never markup). */
function h(tag, attrs, text) {
  const el = document.createElement(tag);
  for (const name in attrs) if (attrs[name] != null) el.setAttribute(name, attrs[name]);
  if (text) el.textContent = text;
  return el;
}

/** The element that has focus, looking inside open shadow roots. */
function focused() {
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  return el;
}

let sheet;

export class SoukConsent extends (globalThis.HTMLElement || Object) {
  show(view, options) {
    try {
      this._show(obj(view), obj(options));
    } catch (err) {
      warn("could not be shown (" + (err && err.message) + ")");
    }
  }

  close() {
    try {
      const back = this._back;
      const inside = document.activeElement === this;
      this._back = this._dlg = null;
      const dialog = this.shadowRoot && this.shadowRoot.querySelector("dialog");
      if (dialog && dialog.open) dialog.close();
      this.remove();
      if (back && back.isConnected && (inside || focused() === document.body)) back.focus();
    } catch (err) {
      warn("could not be closed (" + (err && err.message) + ")");
    }
  }

  _show(view, options) {
    const over = obj(options.text);
    const text = {};
    for (const source of [obj(view.text), over]) {
      for (const key in source) if (str(source[key])) text[key] = source[key];
    }
    const missing = ["title", "acceptAll", "rejectAll", "choose", "choicesTitle", "save"].filter((k) => !text[k]);
    if (missing.length) return warn("was not shown: its view has no text for " + missing.join(", "));

    const lang = str(view.lang);
    const dir = /^(ltr|rtl)$/.test(view.dir) ? view.dir : /^(ar|fa|he|ur)\b/i.test(lang) ? "rtl" : "ltr";
    const overCats = obj(over.categories);
    const cats = (Array.isArray(view.categories) ? view.categories : [])
      .filter((cat) => cat && str(cat.id))
      .map((cat) => {
        const mine = obj({}.hasOwnProperty.call(overCats, cat.id) && overCats[cat.id]);
        const fixed = cat.id === "necessary";
        return {
          id: cat.id,
          label: str(mine.label) || str(cat.label) || cat.id,
          description: str(mine.description) || str(cat.description),
          locked: fixed || !!cat.locked,
          granted: fixed || !!cat.granted,
        };
      });

    // Remember where focus was, to give it back on close(), unless it is already ours.
    if ((options.focus || options.layer === "choices") && document.activeElement !== this) {
      const was = focused();
      this._back = was && was !== document.body ? was : null;
    }
    if (lang) this.lang = lang;
    this.dir = dir;

    const root = this.shadowRoot || this.attachShadow({ mode: "open" });
    root.replaceChildren();
    try {
      if (!sheet) (sheet = new CSSStyleSheet()).replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch {
      root.append(h("style", {}, CSS));
    }

    const emit = (action, choices) => {
      const detail = choices ? { action, choices } : { action };
      this.dispatchEvent(new CustomEvent("souk-consent-action", { bubbles: true, composed: true, detail }));
    };
    const buttons = (list) => {
      const row = h("div", { class: "a" });
      for (const [label, act] of list) {
        const button = h("button", { type: "button" }, label);
        button.addEventListener("click", act);
        row.append(button);
      }
      return row;
    };
    const acceptAll = () => emit("accept_all");
    const rejectAll = () => emit("reject_all");
    const note = (id) => (view.gpc === true && text.gpcHonoured ? h("p", { class: "n", id }, text.gpcHonoured) : null);

    // The choices: a modal dialog, one switch per category.
    const dialog = h("dialog", { "aria-labelledby": "ct", lang: lang || null, dir });
    const list = h("ul");
    const switches = [];
    cats.forEach((cat, i) => {
      const item = h("li");
      const row = h("div", { class: "r" });
      const described = ["d" + i];
      row.append(h("label", { for: "s" + i }, cat.label));
      if (cat.locked && cat.granted && text.alwaysOn) {
        row.append(h("span", { class: "k", id: "k" + i }, text.alwaysOn));
        described.unshift("k" + i);
      }
      const input = h("input", { type: "checkbox", role: "switch", id: "s" + i });
      input.checked = cat.granted;
      input.disabled = cat.locked;
      row.append(input);
      item.append(row, h("p", { class: "d", id: "d" + i }, cat.description));
      const gpc = cat.id === "marketing" && note("g");
      if (gpc) item.append(gpc), described.push("g");
      input.setAttribute("aria-describedby", described.join(" "));
      switches.push([cat, input]);
      list.append(item);
    });
    const save = () => {
      const choices = {};
      for (const key of KEYS) choices[key] = false;
      for (const [cat, input] of switches) if (cat.id !== "necessary") choices[cat.id] = input.checked;
      emit("save", choices);
    };
    dialog.append(h("h2", { id: "ct" }, text.choicesTitle), list,
      buttons([[text.save, save], [text.acceptAll, acceptAll], [text.rejectAll, rejectAll]]));

    // Escape (or the platform's back gesture) leaves the choices unsaved and returns
    // to the first layer.
    // Chrome may skip `cancel` (an Escape without user activation), so `close` is
    // handled too, once.
    let handled = false;
    const back = () => {
      for (const [cat, input] of switches) input.checked = cat.granted;
      choose.focus();
    };
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      handled = true;
      dialog.close();
      back();
    });
    dialog.addEventListener("close", () => {
      if (!handled && this._dlg === dialog && !dialog.open) back();
      handled = false;
    });
    const openChoices = () => {
      // The dialog gives focus back to what had it when it opened: make that "choose".
      if (!dialog.open) choose.focus({ preventScroll: true }), dialog.showModal();
      const first = switches.find(([, input]) => !input.disabled);
      (first ? first[1] : dialog.querySelector("button")).focus();
    };

    // The first layer: a non-modal region fixed to the bottom of the viewport.
    // The landmark's name is the short "privacy choices"; the heading follows inside.
    const name = text.region ? { "aria-label": text.region } : { "aria-labelledby": "t" };
    const banner = h("div", { class: "b", role: "region", ...name, tabindex: "-1", lang: lang || null, dir });
    banner.append(h("h2", { id: "t" }, text.title));
    if (text.body) banner.append(h("p", { class: "t" }, text.body));
    const gpc = note("gn");
    if (gpc) banner.append(gpc);
    const actions = buttons([[text.acceptAll, acceptAll], [text.rejectAll, rejectAll], [text.choose, openChoices]]);
    const choose = actions.lastChild;
    banner.append(actions);

    root.append(banner, dialog);
    this._dlg = dialog;
    if (options.layer === "choices") openChoices();
    else if (options.focus) banner.focus();
  }
}

if (globalThis.customElements && !customElements.get("souk-consent")) {
  customElements.define("souk-consent", SoukConsent);
}
