// What souk-server's staff pages share (the agent console at /agent, the merchant
// dashboard at /dashboard): their text in the page's language, DOM helpers that only
// ever insert text, the API client, and signing in and out with the souk_agent
// session cookie. server/src/pages.rs serves this module next to each page's own
// script, which imports it as "./staff.js".
//
// A page gives its text with `useText`, and how it opens and closes with
// `staffSession`, then calls `resume`. Its markup has the sign-in form (#login,
// #login-form, #login-email, #login-password, #login-submit, #login-error), #logout,
// #lang and #announcer.

// ---------------------------------------------------------------------------------
// Text

/** The text of what this module draws: the sign-in, the sign-out and the language menu. */
const STAFF_TEXT = {
  en: {
    language: "Language",
    logout: "Sign out",
    email: "Email",
    password: "Password",
    signIn: "Sign in",
    signingIn: "Signing in…",
    loginWrong: "Wrong email or password.",
    loginMissing: "Enter your email and password.",
    loginLimited: "Too many attempts. Wait a minute, then try again.",
    sessionEnded: "Your session ended. Please sign in again.",
    networkError: "The server cannot be reached. Check the connection and try again.",
  },
  ar: {
    language: "اللغة",
    logout: "تسجيل الخروج",
    email: "البريد الإلكتروني",
    password: "كلمة المرور",
    signIn: "تسجيل الدخول",
    signingIn: "جارٍ تسجيل الدخول…",
    loginWrong: "البريد الإلكتروني أو كلمة المرور غير صحيحة.",
    loginMissing: "أدخل بريدك الإلكتروني وكلمة المرور.",
    loginLimited: "محاولات كثيرة. انتظر دقيقة ثم حاول مجددًا.",
    sessionEnded: "انتهت جلستك. يُرجى تسجيل الدخول مجددًا.",
    networkError: "تعذّر الوصول إلى الخادم. تحقّق من الاتصال وحاول مجددًا.",
  },
};

let TEXT = STAFF_TEXT;
let langKey = "";

/** The page's language: "en" or "ar". */
export let lang = "en";

/** Takes `text` (`{en, ar}`, each key → a text or a `plural`) as the page's, with this module's own; the language is the one kept under `key`, else the browser's. */
export function useText(text, key) {
  TEXT = { en: { ...STAFF_TEXT.en, ...text.en }, ar: { ...STAFF_TEXT.ar, ...text.ar } };
  langKey = key;
  lang = initialLang();
}

function initialLang() {
  try {
    const kept = localStorage.getItem(langKey);
    if (kept === "en" || kept === "ar") return kept;
  } catch {
    // Storage may be off; the browser's language decides.
  }
  return /^ar\b/i.test(navigator.languages?.[0] || navigator.language || "en") ? "ar" : "en";
}

/** Switches the language to `next` and remembers it; the page then draws itself again. */
export function setLang(next) {
  lang = next;
  try {
    localStorage.setItem(langKey, next);
  } catch {
    // Not remembered; still switched.
  }
}

/** An entry with plural forms (`{zero, one, two, few, many, other}`), `{n}` in them; `t(key, {n})` picks one. */
export const plural = (forms) => (n) => (forms[new Intl.PluralRules(lang).select(n)] ?? forms.other).replace("{n}", fmtNumber(n));

/** The text `key` in the page's language, with `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const entry = TEXT[lang][key] ?? TEXT.en[key] ?? key;
  if (typeof entry === "function") return entry(vars.n ?? 0);
  return entry.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

export function fmtNumber(n) {
  return typeof n === "number" && Number.isFinite(n) ? new Intl.NumberFormat(lang).format(n) : "—";
}

/** Sets the document's language and direction, its title, the language menu, and every `data-i18n` text, placeholder and label. */
export function applyText() {
  const root = document.documentElement;
  root.lang = lang;
  root.dir = lang === "ar" ? "rtl" : "ltr";
  document.title = t("title");
  $("lang").value = lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of document.querySelectorAll("[data-i18n-aria-label]")) node.setAttribute("aria-label", t(node.dataset.i18nAriaLabel));
}

// ---------------------------------------------------------------------------------
// DOM: text only

export const $ = (id) => document.getElementById(id);

/** An element with `props` set as properties (`attrs` as attributes, `dataset` as data-*), and `children` appended as nodes or text. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  const { attrs, dataset, ...rest } = props;
  Object.assign(node, rest);
  for (const [name, value] of Object.entries(attrs || {})) if (value != null && value !== false) node.setAttribute(name, value);
  Object.assign(node.dataset, dataset || {});
  append(node, children);
  return node;
}

/** Appends `children` (nodes, or strings as text nodes; null and false skipped). */
export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces `node`'s children with `children`, as `append` takes them. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

let announceTimer = 0;
/** Says `text` through the polite live region #announcer. */
export function announce(text) {
  const region = $("announcer");
  region.textContent = "";
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => (region.textContent = text), 60);
}

// ---------------------------------------------------------------------------------
// API

export class ApiFailure extends Error {
  constructor(status, message) {
    super(message);
    this.name = "ApiFailure";
    this.status = status;
  }
}

/** Calls the page's own API with the session cookie; resolves to the JSON answer, or throws an ApiFailure (status 0: no connection). A 401 while signed in ends the session here. */
export async function api(path, { method = "GET", body } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiFailure(0, t("networkError"));
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // No JSON body: the status says enough.
  }
  if (!response.ok) {
    if (response.status === 401 && signedIn && path !== "/v1/agent/login") signOut(t("sessionEnded"));
    throw new ApiFailure(response.status, data?.error || response.statusText || String(response.status));
  }
  return data;
}

// ---------------------------------------------------------------------------------
// Signing in and out

const page = { appClass: "", parts: [], enter: async () => {}, refused: () => null, leave: () => {} };
let signedIn = false;

/**
 * Wires the sign-in form and the sign-out button. `options`: `appClass`, the body's
 * class while signed in; `parts`, the ids of what shows only then; `enter(agent)`,
 * opens the page for the agent signed in (calling `showPage`), and may throw an
 * ApiFailure; `refused(e)`, why this account may not use the page, or null; `leave()`,
 * forgets what the page showed.
 */
export function staffSession(options) {
  Object.assign(page, options);
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
}

/** Opens the page for the session there is, else shows the sign-in form. */
export async function resume() {
  try {
    const { agent } = await api("/v1/agent/me");
    await open(agent);
  } catch (e) {
    showLogin(e.status === 401 ? "" : page.refused(e) ?? e.message);
  }
}

async function open(agent) {
  signedIn = true;
  try {
    await page.enter(agent);
  } catch (e) {
    signedIn = false;
    throw e;
  }
}

/** Shows the signed-in page: the sign-in form goes, the page's parts come. */
export function showPage() {
  document.body.classList.remove("is-loading", "is-login");
  document.body.classList.add(page.appClass);
  $("login").hidden = true;
  for (const id of page.parts) $(id).hidden = false;
}

function showLogin(message = "") {
  document.body.classList.remove("is-loading", page.appClass);
  document.body.classList.add("is-login");
  $("login").hidden = false;
  for (const id of page.parts) $(id).hidden = true;
  $("login-error").textContent = message;
  submitting(false);
  $("login-email").focus();
}

/** Ends the session here: the page forgets what it showed, and the sign-in form says `message`. */
function signOut(message) {
  signedIn = false;
  page.leave();
  showLogin(message);
}

function submitting(yes) {
  $("login-submit").disabled = yes;
  $("login-submit").textContent = t(yes ? "signingIn" : "signIn");
}

async function login(event) {
  event.preventDefault();
  const email = $("login-email").value.trim();
  const password = $("login-password").value;
  const fields = [$("login-email"), $("login-password")];
  const error = $("login-error");
  if (!email || !password) {
    error.textContent = t("loginMissing");
    for (const field of fields) field.setAttribute("aria-invalid", String(!field.value));
    (email ? $("login-password") : $("login-email")).focus();
    return;
  }
  error.textContent = "";
  submitting(true);
  try {
    const { agent } = await api("/v1/agent/login", { method: "POST", body: { email, password } });
    for (const field of fields) field.removeAttribute("aria-invalid");
    $("login-password").value = "";
    await open(agent);
  } catch (e) {
    submitting(false);
    const refusal = page.refused(e);
    if (refusal) {
      // Signed in, but this account may not use this page: end that session, and say why.
      await api("/v1/agent/logout", { method: "POST", body: {} }).catch(() => {});
      error.textContent = refusal;
      return;
    }
    error.textContent = e.status === 401 ? t("loginWrong") : e.status === 429 ? t("loginLimited") : e.status === 0 ? t("networkError") : e.message;
    if (e.status === 401) for (const field of fields) field.setAttribute("aria-invalid", "true");
    $("login-password").select();
  }
}

async function logout() {
  // Signed out here even if the server cannot be told: the cookie expires by itself.
  await api("/v1/agent/logout", { method: "POST", body: {} }).catch(() => {});
  if (location.hash) history.replaceState(null, "", location.pathname);
  signOut("");
}
