// The merchant dashboard: sign in, the overview (sales, funnel, segments, consent),
// customer search and the customer 360, the segments and their customers. Plain DOM,
// no framework, no chart library, no build: the charts are small inline SVGs drawn
// here, each with a table or a summary for screen readers.
//
// Everything the server sends (names, emails, ids, product names) goes into the page
// as text nodes only, never as HTML.

const LANG_KEY = "souk.dashboard.lang";
const SVG = "http://www.w3.org/2000/svg";
const DAY_MS = 86_400_000;
const SEGMENTS = ["champions", "loyal", "potential-loyalists", "new", "at-risk", "cant-lose", "hibernating", "lost"];
const CONSENT = ["necessary", "functional", "analytics", "personalization", "marketing"];
const FUNNEL = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"];

const plural = (forms) => (n, fmt) => {
  const form = forms[new Intl.PluralRules(lang).select(n)] ?? forms.other;
  return form.replace("{n}", fmt(n));
};

const TEXT = {
  en: {
    title: "Shop dashboard",
    brand: "Shop dashboard",
    skip: "Skip to the content",
    sections: "Sections",
    overview: "Overview",
    customers: "Customers",
    segments: "Segments",
    language: "Language",
    logout: "Sign out",
    loginTitle: "Sign in to the shop dashboard",
    loginIntro: "Know your customers: sales, segments and profiles.",
    email: "Email",
    password: "Password",
    signIn: "Sign in",
    signingIn: "Signing in…",
    loginWrong: "Wrong email or password.",
    loginMissing: "Enter your email and password.",
    loginLimited: "Too many attempts. Wait a minute, then try again.",
    notMerchant: "This account is not a merchant account. The dashboard is for staff with the merchant role; ask the shop owner to add you with `souk-server agent add --role merchant`.",
    sessionEnded: "Your session ended. Please sign in again.",
    networkError: "The server cannot be reached. Check the connection and try again.",
    loading: "Loading…",
    loadError: "Could not load: {error}",
    period: "Period",
    period365: "Last 12 months",
    period90: "Last 90 days",
    period30: "Last 30 days",
    periodText: "{from} – {to}, up to the scoring date",
    revenue: "Revenue",
    orders: "Orders",
    aov: "Average order",
    customersKpi: "Scored customers",
    ordersSplit: "{online} online · {store} in store",
    vips: plural({ one: "{n} VIP", other: "{n} VIPs" }),
    salesChart: "Revenue and orders",
    salesSummary: "Revenue and orders by {bucket}, {from} to {to}: {revenue} in {orders} orders; best {best} with {bestRevenue}.",
    day: "day",
    month: "month",
    when: "Period",
    noSales: "No orders in this period.",
    funnel: "Funnel",
    step: "Step",
    profiles: "Customers",
    dropOff: "Drop-off",
    conversion: "Of the first step",
    dropText: "−{pct} from the step before",
    funnelSummary: "Funnel: {steps}.",
    noFunnel: "No shopping events in this period.",
    stepProductViewed: "Viewed a product",
    stepProductAdded: "Added to cart",
    stepCheckoutStarted: "Started checkout",
    stepOrderCompleted: "Ordered",
    abandoned: "Abandoned carts: {n} worth {value}, {recovered} recovered later.",
    segmentSizes: "Segment sizes",
    segmentSummary: "Customers per segment: {list}.",
    segment: "Segment",
    share: "Share",
    noRun: "The segments have not been computed yet: run `souk-server crm refresh`.",
    consentRates: "Consent rates",
    consentSummary: "Of {n} consent decisions in this period: {list}.",
    noConsent: "No consent decisions in this period.",
    category: "Category",
    allowed: "Allowed",
    necessary: "Necessary",
    functional: "Functional",
    analytics: "Analytics",
    personalization: "Personalisation",
    marketing: "Marketing",
    searchLabel: "Search customers",
    searchField: "Name, email, phone or id",
    search: "Search",
    results: plural({ zero: "No customers found.", one: "{n} customer", other: "{n} customers" }),
    topSpenders: "Best spenders first.",
    noResults: "No customer matches “{q}”.",
    customerN: "Customer {id}",
    noSegment: "Not scored",
    vip: "VIP",
    backToCustomers: "Back to customers",
    backToSegments: "Back to segments",
    notFound: "No customer has this id.",
    totalSpent: "Total spent",
    ltv: "Lifetime value",
    visits: "Visits",
    firstLast: "First seen {first}, last seen {last}",
    identities: "Identities",
    whyLinked: "Why they are one customer",
    noLinks: "One id only: nothing to link.",
    linkReason: "{from} ↔ {to}: {reason}",
    kind_user_id: "User id",
    kind_anonymous_id: "Device",
    kind_email: "Email",
    kind_phone: "Phone",
    kind_pos_customer: "Store card",
    reason_same_message: "sent in the same message",
    reason_traits_email: "same email in the profile",
    reason_traits_phone: "same phone in the profile",
    reason_identify: "identified as this customer",
    latestOrders: "Latest orders",
    date: "Date",
    channel: "Channel",
    value: "Value",
    online: "Online",
    store: "In store",
    noOrders: "No orders.",
    products: "Products bought",
    product: "Product",
    times: "Orders",
    quantity: "Quantity",
    noProducts: "No products recorded online.",
    loyalty: "Loyalty",
    tier: "Tier",
    points: "Points",
    nextTier: "Next tier",
    nextTierText: "{tier}, {needed} to go",
    noLoyalty: "No loyalty account.",
    chat: "Chat",
    conversations: "Conversations",
    openChats: "Open",
    lastChat: "Last",
    consent: "Consent",
    consentNow: "Now",
    consentHistory: "History",
    noConsentProfile: "No consent decision recorded.",
    yes: "Yes",
    no: "No",
    rfm: "RFM segment",
    scores: "R {r} · F {f} · M {m}",
    recency: "Days since the last order",
    scoredAsOf: "Scored as of {date}",
    segmentsRun: "{customers} customers and {orders} orders, scored as of {asOf}. VIPs: {rule}.",
    monetary: "Spent",
    avgLtv: "Average lifetime value",
    segVip: "VIPs",
    segAll: "Everyone",
    downloadCsv: "Download CSV",
    segmentCount: plural({ one: "{n} customer, best spenders first.", other: "{n} customers, best spenders first. The first 100 are shown; the CSV has every row." }),
    lastOrder: "Last order",
    customer: "Customer",
    seg_champions: "Champions",
    seg_loyal: "Loyal",
    "seg_potential-loyalists": "Potential loyalists",
    seg_new: "New",
    "seg_at-risk": "At risk",
    "seg_cant-lose": "Can't lose",
    seg_hibernating: "Hibernating",
    seg_lost: "Lost",
    seg_vip: "VIPs",
    seg_all: "Everyone",
  },
  ar: {
    title: "لوحة المتجر",
    brand: "لوحة المتجر",
    skip: "انتقل إلى المحتوى",
    sections: "الأقسام",
    overview: "نظرة عامة",
    customers: "العملاء",
    segments: "الشرائح",
    language: "اللغة",
    logout: "تسجيل الخروج",
    loginTitle: "تسجيل الدخول إلى لوحة المتجر",
    loginIntro: "اعرف عملاءك: المبيعات والشرائح والملفات.",
    email: "البريد الإلكتروني",
    password: "كلمة المرور",
    signIn: "تسجيل الدخول",
    signingIn: "جارٍ تسجيل الدخول…",
    loginWrong: "البريد الإلكتروني أو كلمة المرور غير صحيحة.",
    loginMissing: "أدخل بريدك الإلكتروني وكلمة المرور.",
    loginLimited: "محاولات كثيرة. انتظر دقيقة ثم حاول مجددًا.",
    notMerchant: "هذا الحساب ليس حساب تاجر. اللوحة مخصّصة للموظفين بدور التاجر؛ اطلب من صاحب المتجر إضافتك بالأمر ‎`souk-server agent add --role merchant`‎.",
    sessionEnded: "انتهت جلستك. يُرجى تسجيل الدخول مجددًا.",
    networkError: "تعذّر الوصول إلى الخادم. تحقّق من الاتصال وحاول مجددًا.",
    loading: "جارٍ التحميل…",
    loadError: "تعذّر التحميل: {error}",
    period: "الفترة",
    period365: "آخر 12 شهرًا",
    period90: "آخر 90 يومًا",
    period30: "آخر 30 يومًا",
    periodText: "{from} – {to}، حتى تاريخ التقييم",
    revenue: "الإيرادات",
    orders: "الطلبات",
    aov: "متوسط الطلب",
    customersKpi: "العملاء المقيَّمون",
    ordersSplit: "{online} عبر الإنترنت · {store} في المتجر",
    vips: plural({ zero: "لا عملاء مميزون", one: "عميل مميز واحد", two: "عميلان مميزان", few: "{n} عملاء مميزين", many: "{n} عميلًا مميزًا", other: "{n} عميل مميز" }),
    salesChart: "الإيرادات والطلبات",
    salesSummary: "الإيرادات والطلبات حسب {bucket}، من {from} إلى {to}: {revenue} في {orders} طلب؛ الأفضل {best} بمبلغ {bestRevenue}.",
    day: "اليوم",
    month: "الشهر",
    when: "الفترة",
    noSales: "لا طلبات في هذه الفترة.",
    funnel: "مسار الشراء",
    step: "الخطوة",
    profiles: "العملاء",
    dropOff: "التسرّب",
    conversion: "من الخطوة الأولى",
    dropText: "−{pct} عن الخطوة السابقة",
    funnelSummary: "مسار الشراء: {steps}.",
    noFunnel: "لا أحداث تسوّق في هذه الفترة.",
    stepProductViewed: "شاهد منتجًا",
    stepProductAdded: "أضاف إلى السلة",
    stepCheckoutStarted: "بدأ الدفع",
    stepOrderCompleted: "طلب",
    abandoned: "سلال متروكة: {n} بقيمة {value}، استُعيد منها {recovered} لاحقًا.",
    segmentSizes: "أحجام الشرائح",
    segmentSummary: "العملاء في كل شريحة: {list}.",
    segment: "الشريحة",
    share: "النسبة",
    noRun: "لم تُحسب الشرائح بعد: شغّل ‎`souk-server crm refresh`‎.",
    consentRates: "نسب الموافقة",
    consentSummary: "من {n} قرار موافقة في هذه الفترة: {list}.",
    noConsent: "لا قرارات موافقة في هذه الفترة.",
    category: "الفئة",
    allowed: "مسموح",
    necessary: "ضرورية",
    functional: "وظيفية",
    analytics: "تحليلية",
    personalization: "تخصيص",
    marketing: "تسويق",
    searchLabel: "البحث عن العملاء",
    searchField: "الاسم أو البريد أو الهاتف أو المعرّف",
    search: "بحث",
    results: plural({ zero: "لم يُعثر على عملاء.", one: "عميل واحد", two: "عميلان", few: "{n} عملاء", many: "{n} عميلًا", other: "{n} عميل" }),
    topSpenders: "الأكثر إنفاقًا أولًا.",
    noResults: "لا عميل يطابق «{q}».",
    customerN: "العميل {id}",
    noSegment: "غير مقيَّم",
    vip: "مميز",
    backToCustomers: "العودة إلى العملاء",
    backToSegments: "العودة إلى الشرائح",
    notFound: "لا عميل بهذا المعرّف.",
    totalSpent: "إجمالي الإنفاق",
    ltv: "القيمة الدائمة",
    visits: "الزيارات",
    firstLast: "أول ظهور {first}، آخر ظهور {last}",
    identities: "المعرّفات",
    whyLinked: "لماذا هي عميل واحد",
    noLinks: "معرّف واحد فقط: لا شيء للربط.",
    linkReason: "{from} ↔ {to}: {reason}",
    kind_user_id: "معرّف المستخدم",
    kind_anonymous_id: "جهاز",
    kind_email: "البريد",
    kind_phone: "الهاتف",
    kind_pos_customer: "بطاقة المتجر",
    reason_same_message: "أُرسلا في الرسالة نفسها",
    reason_traits_email: "البريد نفسه في الملف",
    reason_traits_phone: "الهاتف نفسه في الملف",
    reason_identify: "عُرّف بأنه هذا العميل",
    latestOrders: "أحدث الطلبات",
    date: "التاريخ",
    channel: "القناة",
    value: "القيمة",
    online: "عبر الإنترنت",
    store: "في المتجر",
    noOrders: "لا طلبات.",
    products: "المنتجات المشتراة",
    product: "المنتج",
    times: "الطلبات",
    quantity: "الكمية",
    noProducts: "لا منتجات مسجّلة عبر الإنترنت.",
    loyalty: "الولاء",
    tier: "المستوى",
    points: "النقاط",
    nextTier: "المستوى التالي",
    nextTierText: "{tier}، يتبقى {needed}",
    noLoyalty: "لا حساب ولاء.",
    chat: "المحادثات",
    conversations: "المحادثات",
    openChats: "المفتوحة",
    lastChat: "الأخيرة",
    consent: "الموافقة",
    consentNow: "الآن",
    consentHistory: "السجل",
    noConsentProfile: "لا قرار موافقة مسجّل.",
    yes: "نعم",
    no: "لا",
    rfm: "شريحة RFM",
    scores: "R {r} · F {f} · M {m}",
    recency: "أيام منذ آخر طلب",
    scoredAsOf: "مقيَّم حتى {date}",
    segmentsRun: "{customers} عميل و{orders} طلب، مقيَّمون حتى {asOf}. العملاء المميزون: {rule}.",
    monetary: "الإنفاق",
    avgLtv: "متوسط القيمة الدائمة",
    segVip: "المميزون",
    segAll: "الجميع",
    downloadCsv: "تنزيل CSV",
    segmentCount: plural({ zero: "لا عملاء.", one: "عميل واحد.", two: "عميلان، الأكثر إنفاقًا أولًا.", few: "{n} عملاء، الأكثر إنفاقًا أولًا. يظهر أول 100؛ ملف CSV فيه كل الصفوف.", many: "{n} عميلًا، الأكثر إنفاقًا أولًا. يظهر أول 100؛ ملف CSV فيه كل الصفوف.", other: "{n} عميل، الأكثر إنفاقًا أولًا. يظهر أول 100؛ ملف CSV فيه كل الصفوف." }),
    lastOrder: "آخر طلب",
    customer: "العميل",
    seg_champions: "الأبطال",
    seg_loyal: "الأوفياء",
    "seg_potential-loyalists": "أوفياء محتملون",
    seg_new: "جدد",
    "seg_at-risk": "معرّضون للفقد",
    "seg_cant-lose": "لا يمكن خسارتهم",
    seg_hibernating: "خاملون",
    seg_lost: "مفقودون",
    seg_vip: "المميزون",
    seg_all: "الجميع",
  },
};

// ---------------------------------------------------------------------------------
// Language and formatting

let lang = initialLang();

function initialLang() {
  try {
    const kept = localStorage.getItem(LANG_KEY);
    if (kept === "en" || kept === "ar") return kept;
  } catch {
    // Storage may be off; the browser's language decides.
  }
  return /^ar\b/i.test(navigator.languages?.[0] || navigator.language || "en") ? "ar" : "en";
}

function t(key, vars = {}) {
  const entry = TEXT[lang][key] ?? TEXT.en[key] ?? key;
  if (typeof entry === "function") return entry(vars.n ?? 0, fmtNumber);
  return entry.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

const segmentLabel = (name) => t(`seg_${name}`);

function fmtNumber(n) {
  return typeof n === "number" && Number.isFinite(n) ? new Intl.NumberFormat(lang).format(n) : "—";
}

function fmtPct(share) {
  return typeof share === "number" && Number.isFinite(share) ? new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 }).format(share) : "—";
}

/** The digits after the point in `currency` (2 for GBP, 0 for JPY, 3 for KWD). */
function minorDigits(currency) {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

/** `minor` units of `currency` as money; `compact` for chart axes and big cards. */
function fmtMoney(minor, currency, { compact = false, whole = false } = {}) {
  if (typeof minor !== "number" || !Number.isFinite(minor)) return "—";
  const amount = minor / 10 ** minorDigits(currency || "XXX");
  const options = compact ? { notation: "compact", maximumFractionDigits: 1 } : whole ? { maximumFractionDigits: 0 } : {};
  if (typeof currency === "string" && /^[A-Za-z]{3}$/.test(currency)) {
    try {
      return new Intl.NumberFormat(lang, { style: "currency", currency: currency.toUpperCase(), ...options }).format(amount);
    } catch {
      // An unknown code: a plain number below.
    }
  }
  return new Intl.NumberFormat(lang, { maximumFractionDigits: 2, ...options }).format(amount);
}

function fmtDate(iso, options = { dateStyle: "medium" }) {
  const at = typeof iso === "number" ? iso : Date.parse(iso);
  return Number.isNaN(at) || iso == null ? "—" : new Intl.DateTimeFormat(lang, { timeZone: "UTC", ...options }).format(at);
}

/** A chart bucket (`2011-03` or `2011-03-05`) as a short label. */
function fmtBucket(bucket, long = false) {
  if (/^\d{4}-\d{2}$/.test(bucket)) return fmtDate(`${bucket}-01T00:00:00Z`, long ? { month: "long", year: "numeric" } : { month: "short", year: "2-digit" });
  return fmtDate(`${bucket}T00:00:00Z`, long ? { dateStyle: "medium" } : { day: "numeric", month: "short" });
}

function timeEl(iso) {
  const node = el("time", {}, fmtDate(iso));
  if (iso) node.dateTime = iso;
  return node;
}

// ---------------------------------------------------------------------------------
// DOM: text only

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  const { attrs, dataset, ...rest } = props;
  Object.assign(node, rest);
  for (const [name, value] of Object.entries(attrs || {})) if (value != null && value !== false) node.setAttribute(name, value);
  Object.assign(node.dataset, dataset || {});
  append(node, children);
  return node;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

let announceTimer = 0;
function announce(text) {
  $("announcer").textContent = "";
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => ($("announcer").textContent = text), 60);
}

/** A table: `head` cells and `rows` of cells (text or nodes); `caption` names it, `hidden` keeps it for screen readers only. */
function table(caption, head, rows, { hidden = false, numeric = [] } = {}) {
  return el(
    "table",
    { className: hidden ? "vh" : "data" },
    el("caption", { className: hidden ? "" : "vh" }, caption),
    el("thead", {}, el("tr", {}, head.map((h, i) => el("th", { scope: "col", className: numeric.includes(i) ? "num" : "" }, h)))),
    el("tbody", {}, rows.map((row) => el("tr", {}, row.map((cell, i) => (i === 0 ? el("th", { scope: "row" }, cell) : el("td", { className: numeric.includes(i) ? "num" : "" }, cell)))))),
  );
}

const empty = (text) => el("p", { className: "muted empty" }, text);

// ---------------------------------------------------------------------------------
// API

class ApiFailure extends Error {
  constructor(status, message) {
    super(message);
    this.name = "ApiFailure";
    this.status = status;
  }
}

async function api(path, { method = "GET", body } = {}) {
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
    if (response.status === 401 && state.me && path !== "/v1/agent/login") signedOut(t("sessionEnded"));
    throw new ApiFailure(response.status, data?.error || response.statusText || String(response.status));
  }
  return data;
}

const q = (params) => new URLSearchParams(params).toString();

// ---------------------------------------------------------------------------------
// State and signing in

const state = { me: null, settings: null, segments: null, overview: null, customer: null, results: null, segment: null, route: "overview", token: 0 };

function showLogin(message = "") {
  document.body.classList.remove("is-loading", "is-app");
  document.body.classList.add("is-login");
  for (const view of document.querySelectorAll(".view")) view.hidden = true;
  for (const id of ["tabs", "who", "logout", "load-error"]) $(id).hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("login-submit").disabled = false;
  $("login-submit").textContent = t("signIn");
  $("login-email").focus();
}

function signedOut(message) {
  state.me = null;
  state.settings = state.segments = state.overview = state.customer = state.results = state.segment = null;
  showLogin(message);
}

/** Signs in with the session there is: the CRM answers 403 to a plain agent. */
async function enter() {
  const [{ agent }, settings] = await Promise.all([api("/v1/agent/me"), api("/v1/crm/settings")]);
  state.me = agent;
  state.settings = settings;
  document.body.classList.remove("is-loading", "is-login");
  document.body.classList.add("is-app");
  $("login").hidden = true;
  for (const id of ["tabs", "who", "logout"]) $(id).hidden = false;
  $("who").textContent = agent.name || agent.email || "";
  await route();
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
  $("login-submit").disabled = true;
  $("login-submit").textContent = t("signingIn");
  try {
    await api("/v1/agent/login", { method: "POST", body: { email, password } });
    for (const field of fields) field.removeAttribute("aria-invalid");
    $("login-password").value = "";
    await enter();
  } catch (e) {
    $("login-submit").disabled = false;
    $("login-submit").textContent = t("signIn");
    if (e.status === 403) {
      // Signed in, but not as a merchant: end that session, and say why.
      await api("/v1/agent/logout", { method: "POST", body: {} }).catch(() => {});
      error.textContent = t("notMerchant");
      return;
    }
    error.textContent = e.status === 401 ? t("loginWrong") : e.status === 429 ? t("loginLimited") : e.status === 0 ? t("networkError") : e.message;
    if (e.status === 401) for (const field of fields) field.setAttribute("aria-invalid", "true");
    $("login-password").select();
  }
}

async function logout() {
  await api("/v1/agent/logout", { method: "POST", body: {} }).catch(() => {});
  signedOut("");
}

// ---------------------------------------------------------------------------------
// Routing: #overview, #customers[?q], #customer/{id}, #segments, #segment/{name}

function parseHash() {
  const hash = decodeURIComponent(location.hash.slice(1));
  const [name, ...rest] = hash.split("/");
  const arg = rest.join("/");
  if (name === "customer" && arg) return { view: "customer", arg };
  if (name === "segment" && arg) return { view: "segment", arg };
  if (name === "customers" || name === "segments") return { view: name, arg: "" };
  return { view: "overview", arg: "" };
}

async function route({ focus = true } = {}) {
  if (!state.me) return;
  const { view, arg } = parseHash();
  const token = ++state.token;
  const tab = view === "customer" ? "customers" : view === "segment" ? "segments" : view;
  for (const name of ["overview", "customers", "segments"]) {
    const link = $(`tab-${name}`);
    if (name === tab) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  for (const node of document.querySelectorAll(".view")) node.hidden = node.id !== `view-${view}`;
  $("load-error").hidden = true;
  state.route = view;
  try {
    if (view === "overview") await loadOverview(token);
    if (view === "customers") await loadResults(token, $("search-q").value.trim());
    if (view === "customer") await loadCustomer(token, arg);
    if (view === "segments") await loadSegments(token);
    if (view === "segment") await loadSegment(token, arg);
  } catch (e) {
    if (token !== state.token || e.status === 401) return;
    $("load-error").hidden = false;
    $("load-error").textContent = e.status === 404 && view === "customer" ? t("notFound") : t("loadError", { error: e.message });
  }
  if (focus && token === state.token) {
    const heading = $(`view-${view}`).querySelector("h1");
    heading?.focus();
  }
}

function render() {
  if (!state.me) return;
  if (state.route === "overview" && state.overview) renderOverview();
  if (state.route === "customers" && state.results) renderResults();
  if (state.route === "customer" && state.customer) renderCustomer();
  if (state.route === "segments" && state.segments) renderSegments();
  if (state.route === "segment" && state.segment) renderSegment();
}

// ---------------------------------------------------------------------------------
// Overview

/** The window the overview shows: `days` up to the scoring date (or now). */
function windowOf(days) {
  const asOf = Date.parse(state.settings?.asOf ?? "") || Date.now();
  const to = Math.ceil(asOf / DAY_MS) * DAY_MS;
  return { from: new Date(to - days * DAY_MS).toISOString(), to: new Date(to).toISOString() };
}

async function loadOverview(token) {
  const window = windowOf(Number($("period").value) || 365);
  const [overview, segments] = await Promise.all([api(`/v1/crm/overview?${q(window)}`), api("/v1/crm/segments")]);
  if (token !== state.token) return;
  state.overview = overview;
  state.segments = segments;
  renderOverview();
}

/** The currency with the most revenue in the window (or the RFM one). */
function mainCurrency(sales) {
  const sorted = [...(sales?.byCurrency ?? [])].sort((a, b) => b.revenue - a.revenue);
  return sorted[0] ?? { currency: state.segments?.currency ?? "GBP", orders: 0, online: 0, store: 0, revenue: 0, aov: null };
}

function kpi(label, value, note, id) {
  return el("div", { className: "kpi", attrs: { id } }, el("p", { className: "kpi-label" }, label), el("p", { className: "kpi-value" }, value), note ? el("p", { className: "kpi-note muted small" }, note) : null);
}

function renderOverview() {
  const o = state.overview;
  const main = mainCurrency(o.sales);
  const toDay = new Date(Date.parse(o.to) - 1).toISOString();
  $("period-text").textContent = t("periodText", { from: fmtDate(o.from), to: fmtDate(toDay) });
  const run = state.segments?.run;
  fill(
    $("kpis"),
    kpi(t("revenue"), fmtMoney(main.revenue, main.currency, { whole: true }), null, "kpi-revenue"),
    kpi(t("orders"), fmtNumber(main.orders), t("ordersSplit", { online: fmtNumber(main.online), store: fmtNumber(main.store) }), "kpi-orders"),
    kpi(t("aov"), fmtMoney(main.aov, main.currency), null, "kpi-aov"),
    kpi(t("customersKpi"), fmtNumber(run?.customers ?? 0), run ? t("vips", { n: run.vip?.customers ?? 0 }) : null, "kpi-customers"),
  );
  fill($("sales-chart"), salesChart(o.sales, main.currency));
  fill($("funnel-chart"), funnelChart(o.funnel));
  fill($("segment-chart"), segmentChart(state.segments));
  fill($("consent-chart"), consentChart(o.consent));
}

/** Revenue as columns and orders as a line, over the buckets of the window. */
function salesChart(sales, currency) {
  const series = (sales?.series ?? []).filter((p) => p.currency === currency);
  if (!series.length) return empty(t("noSales"));
  const W = 720, H = 260, pad = { top: 16, bottom: 34, side: 68 };
  const plotW = W - 2 * pad.side, plotH = H - pad.top - pad.bottom;
  const maxRevenue = Math.max(...series.map((p) => p.revenue), 1);
  const maxOrders = Math.max(...series.map((p) => p.orders), 1);
  const rtl = lang === "ar";
  const step = plotW / series.length;
  const x = (i) => (rtl ? W - pad.side - (i + 0.5) * step : pad.side + (i + 0.5) * step);
  const yRev = (v) => pad.top + plotH - (v / maxRevenue) * plotH;
  const yOrd = (v) => pad.top + plotH - (v / maxOrders) * plotH;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", "aria-hidden": "true", focusable: "false" });
  const revenueEdge = rtl ? W - pad.side + 8 : pad.side - 8;
  const ordersEdge = rtl ? pad.side - 8 : W - pad.side + 8;
  for (const f of [0, 0.5, 1]) {
    const y = pad.top + plotH - f * plotH;
    chart.append(svg("line", { x1: pad.side, x2: W - pad.side, y1: y, y2: y, class: "grid-line" }));
    chart.append(svg("text", { x: revenueEdge, y: y + 4, class: "axis revenue-axis", "text-anchor": "end", direction: rtl ? "rtl" : "ltr" }, fmtMoney(maxRevenue * f, currency, { compact: true })));
    chart.append(svg("text", { x: ordersEdge, y: y + 4, class: "axis orders-axis", "text-anchor": rtl ? "end" : "start" }, fmtNumber(Math.round(maxOrders * f))));
  }
  const barW = Math.max(2, Math.min(36, step * 0.62));
  const labelEvery = Math.ceil(series.length / 12);
  series.forEach((p, i) => {
    chart.append(svg("rect", { x: x(i) - barW / 2, y: yRev(p.revenue), width: barW, height: Math.max(0, pad.top + plotH - yRev(p.revenue)), rx: 3, class: "bar revenue" }));
    if (i % labelEvery === 0) chart.append(svg("text", { x: x(i), y: H - 12, class: "axis", "text-anchor": "middle" }, fmtBucket(p.at)));
  });
  const points = series.map((p, i) => `${x(i).toFixed(1)},${yOrd(p.orders).toFixed(1)}`).join(" ");
  chart.append(svg("polyline", { points, class: "line orders" }));
  series.forEach((p, i) => chart.append(svg("circle", { cx: x(i), cy: yOrd(p.orders), r: 3.5, class: "dot orders" })));
  const total = series.reduce((sum, p) => sum + p.revenue, 0);
  const count = series.reduce((sum, p) => sum + p.orders, 0);
  const best = series.reduce((a, b) => (b.revenue > a.revenue ? b : a));
  const summary = t("salesSummary", {
    bucket: t(sales.bucket === "day" ? "day" : "month"),
    from: fmtBucket(series[0].at, true),
    to: fmtBucket(series.at(-1).at, true),
    revenue: fmtMoney(total, currency, { whole: true }),
    orders: fmtNumber(count),
    best: fmtBucket(best.at, true),
    bestRevenue: fmtMoney(best.revenue, currency, { whole: true }),
  });
  return el(
    "figure",
    { className: "figure" },
    chart,
    el("figcaption", { className: "legend" }, el("span", { className: "key revenue" }, t("revenue")), el("span", { className: "key orders" }, t("orders")), el("span", { className: "vh" }, summary)),
    table(t("salesChart"), [t("when"), t("revenue"), t("orders"), t("aov")], series.map((p) => [fmtBucket(p.at, true), fmtMoney(p.revenue, currency), fmtNumber(p.orders), fmtMoney(p.aov, currency)]), { hidden: true }),
  );
}

/** A row of a horizontal bar chart: label, an SVG bar of `share` (0 to 1), and the value text. */
function barRow(label, share, value, note, kind = "") {
  const width = Math.max(0, Math.min(1, share || 0)) * 100;
  const bar = svg("svg", { viewBox: "0 0 100 10", preserveAspectRatio: "none", class: "hbar", "aria-hidden": "true", focusable: "false" }, svg("rect", { x: 0, y: 0, width: 100, height: 10, rx: 2, class: "track" }), width > 0 ? svg("rect", { x: 0, y: 0, width, height: 10, rx: 2, class: `fill ${kind}` }) : null);
  return el("li", { className: "bar-row" }, el("span", { className: "bar-label" }, label), bar, el("span", { className: "bar-value" }, value), note ? el("span", { className: "bar-note muted small" }, note) : null);
}

function stepLabel(event) {
  return t(`step${event.replace(/\s+/g, "")}`) || event;
}

function funnelChart(funnel) {
  const steps = funnel?.steps ?? [];
  if (!steps.length || !steps[0].profiles) return empty(t("noFunnel"));
  const first = steps[0].profiles || 1;
  const list = el(
    "ol",
    { className: "bars funnel", attrs: { "aria-hidden": "true" } },
    steps.map((s) => barRow(stepLabel(s.event), s.profiles / first, fmtNumber(s.profiles), !s.dropOff ? null : t("dropText", { pct: fmtPct(s.dropOff) }), "funnel")),
  );
  const summary = t("funnelSummary", { steps: steps.map((s) => `${stepLabel(s.event)} ${fmtNumber(s.profiles)}${s.dropOff == null ? "" : ` (${t("dropOff")} ${fmtPct(s.dropOff)})`}`).join(lang === "ar" ? "، " : ", ") });
  const carts = funnel.abandonedCarts;
  const value = carts?.value?.[0];
  return el(
    "div",
    {},
    list,
    table(t("funnel"), [t("step"), t("profiles"), t("conversion"), t("dropOff")], steps.map((s) => [stepLabel(s.event), fmtNumber(s.profiles), fmtPct(s.conversion), fmtPct(s.dropOff)]), { hidden: true }),
    el("p", { className: "vh" }, summary),
    carts?.count ? el("p", { className: "muted small note" }, t("abandoned", { n: fmtNumber(carts.count), value: fmtMoney(value?.total, value?.currency, { whole: true }), recovered: fmtNumber(carts.recovered) })) : null,
  );
}

function segmentChart(segments) {
  const rows = segments?.segments ?? [];
  if (!segments?.run) return empty(t("noRun"));
  const max = Math.max(...rows.map((s) => s.customers), 1);
  const list = el("ul", { className: "bars", attrs: { "aria-hidden": "true" } }, rows.map((s) => barRow(segmentLabel(s.name), s.customers / max, fmtNumber(s.customers), fmtPct(s.share), `seg-${s.name}`)));
  list.id = "segment-bars";
  return el(
    "div",
    {},
    list,
    table(t("segmentSizes"), [t("segment"), t("customers"), t("share")], rows.map((s) => [segmentLabel(s.name), fmtNumber(s.customers), fmtPct(s.share)]), { hidden: true }),
  );
}

function consentChart(consent) {
  if (!consent?.records) return empty(t("noConsent"));
  const rows = CONSENT.map((name) => [name, consent.rates?.[name]]);
  return el(
    "div",
    {},
    el("ul", { className: "bars", attrs: { "aria-hidden": "true" } }, rows.map(([name, rate]) => barRow(t(name), rate, fmtPct(rate), null, "consent"))),
    table(t("consentSummary", { n: fmtNumber(consent.records), list: rows.map(([name, rate]) => `${t(name)} ${fmtPct(rate)}`).join(", ") }), [t("category"), t("allowed")], rows.map(([name, rate]) => [t(name), fmtPct(rate)]), { hidden: true }),
  );
}

// ---------------------------------------------------------------------------------
// Customers

async function loadResults(token, query) {
  const found = await api(`/v1/crm/customers?${q({ q: query, limit: 50 })}`);
  if (token !== state.token) return;
  state.results = found;
  renderResults();
}

const customerKey = (c) => c.userId || String(c.profileId);
const customerName = (c) => c.name || t("customerN", { id: c.userId || c.profileId });

function segmentChip(segment, vip) {
  return [segment ? el("span", { className: `chip seg-${segment}` }, segmentLabel(segment)) : el("span", { className: "chip" }, t("noSegment")), vip ? el("span", { className: "chip vip" }, t("vip")) : null];
}

function renderResults() {
  const r = state.results;
  $("search-count").textContent = r.q && !r.total ? t("noResults", { q: r.q }) : `${t("results", { n: r.total })}${r.q ? "" : ` ${t("topSpenders")}`}`;
  fill(
    $("results"),
    r.customers.map((c) =>
      el(
        "li",
        { className: "result" },
        el("a", { href: `#customer/${encodeURIComponent(customerKey(c))}`, className: "result-name", dir: "auto" }, customerName(c)),
        el("span", { className: "result-meta muted small" }, [c.email, c.phone, c.userId ? `#${c.userId}` : null].filter(Boolean).map((text, i) => [i ? " · " : "", el("bdi", {}, text)])),
        el("span", { className: "result-chips" }, segmentChip(c.rfm?.segment, c.rfm?.vip)),
        el("span", { className: "result-money" }, c.rfm ? `${fmtNumber(c.rfm.orders)} ${t("orders")} · ${fmtMoney(c.rfm.monetary, state.settings?.currency || "GBP")}` : ""),
      ),
    ),
  );
}

async function loadCustomer(token, key) {
  fill($("customer-title"), t("loading"));
  fill($("customer-kpis"));
  fill($("customer-body"));
  fill($("customer-chips"));
  const customer = await api(`/v1/crm/customers/${encodeURIComponent(key)}`);
  if (token !== state.token) return;
  state.customer = customer;
  renderCustomer();
}

const card = (title, ...body) => el("section", { className: "card" }, el("h2", {}, title), ...body);

function facts(pairs) {
  return el("dl", { className: "facts" }, pairs.filter(Boolean).map(([term, value]) => el("div", {}, el("dt", {}, term), el("dd", {}, value))));
}

const kindLabel = (kind) => TEXT[lang][`kind_${kind}`] ?? kind;
const reasonLabel = (reason) => TEXT[lang][`reason_${String(reason).replace(/[^a-z]+/gi, "_")}`] ?? reason;

function renderCustomer() {
  const c = state.customer;
  fill($("customer-title"), el("bdi", {}, customerName(c)));
  fill($("customer-chips"), segmentChip(c.rfm?.segment, c.rfm?.vip));
  const money = c.orders?.byCurrency?.[0];
  fill(
    $("customer-kpis"),
    kpi(t("orders"), fmtNumber(c.orders?.total ?? 0), t("ordersSplit", { online: fmtNumber(c.orders?.online ?? 0), store: fmtNumber(c.orders?.store ?? 0) }), "c-orders"),
    kpi(t("totalSpent"), fmtMoney(money?.total ?? 0, money?.currency), money ? `${t("aov")} ${fmtMoney(money.average, money.currency)}` : null, "c-total"),
    kpi(t("ltv"), c.rfm ? fmtMoney(c.rfm.ltv, c.rfm.currency) : "—", null, "c-ltv"),
    kpi(t("visits"), fmtNumber(c.visits?.count ?? 0), t("firstLast", { first: fmtDate(c.firstSeen), last: fmtDate(c.lastSeen) }), "c-visits"),
  );
  const identities = card(
    t("identities"),
    el("ul", { className: "ids" }, (c.identities ?? []).map((id) => el("li", {}, el("span", { className: "chip" }, kindLabel(id.kind)), " ", el("bdi", { className: "mono" }, id.value), " ", el("span", { className: "muted small" }, timeEl(id.firstSeen))))),
    el("h3", {}, t("whyLinked")),
    c.links?.length
      ? el("ul", { className: "links" }, c.links.map((l) => el("li", {}, el("bdi", { className: "mono" }, l.from?.value ?? ""), " ↔ ", el("bdi", { className: "mono" }, l.to?.value ?? ""), el("span", { className: "muted small block" }, `${reasonLabel(l.reason)} · `, timeEl(l.at)))))
      : empty(t("noLinks")),
  );
  const orders = card(
    t("latestOrders"),
    c.orders?.latest?.length
      ? table(t("latestOrders"), [t("date"), t("channel"), t("value")], c.orders.latest.map((o) => [timeEl(o.at), t(o.channel === "store" ? "store" : "online"), fmtMoney(o.value, o.currency)]), { numeric: [2] })
      : empty(t("noOrders")),
  );
  const products = card(
    t("products"),
    c.products?.length
      ? table(t("products"), [t("product"), t("times"), t("quantity")], c.products.map((p) => [el("bdi", {}, p.name || p.productId), fmtNumber(p.orders), fmtNumber(p.quantity)]), { numeric: [1, 2] })
      : empty(t("noProducts")),
  );
  const tierName = (tier) => tier?.name?.[lang] || tier?.name?.en || tier?.id || "—";
  const loyalty = card(
    t("loyalty"),
    c.loyalty
      ? facts([
          [t("tier"), tierName(c.loyalty.tier)],
          [t("points"), fmtNumber(c.loyalty.balance)],
          c.loyalty.next ? [t("nextTier"), t("nextTierText", { tier: tierName(c.loyalty.next.tier), needed: fmtMoney(c.loyalty.next.needed, state.settings?.currency || "GBP") })] : null,
        ])
      : empty(t("noLoyalty")),
  );
  const chat = card(t("chat"), facts([[t("conversations"), fmtNumber(c.chat?.conversations ?? 0)], [t("openChats"), fmtNumber(c.chat?.open ?? 0)], c.chat?.last ? [t("lastChat"), timeEl(c.chat.last.at || c.chat.last.updatedAt || c.chat.last.startedAt)] : null]));
  const yesNo = (v) => t(v ? "yes" : "no");
  const current = c.consent?.current;
  const consent = card(
    t("consent"),
    current
      ? [
          facts(CONSENT.map((name) => [t(name), yesNo(current.categories?.[name])])),
          el("h3", {}, t("consentHistory")),
          table(t("consentHistory"), [t("date"), ...CONSENT.slice(1).map((n) => t(n))], c.consent.history.map((h) => [timeEl(h.updatedAt), ...CONSENT.slice(1).map((n) => yesNo(h.categories?.[n]))])),
        ]
      : empty(t("noConsentProfile")),
  );
  const rfm = card(
    t("rfm"),
    c.rfm
      ? [
          el("p", { className: "rfm-segment" }, segmentChip(c.rfm.segment, c.rfm.vip)),
          facts([
            [t("segment"), segmentLabel(c.rfm.segment)],
            ["RFM", el("bdi", {}, t("scores", { r: c.rfm.r, f: c.rfm.f, m: c.rfm.m }))],
            [t("recency"), fmtNumber(c.rfm.recencyDays)],
            [t("monetary"), fmtMoney(c.rfm.monetary, c.rfm.currency)],
          ]),
          el("p", { className: "muted small" }, t("scoredAsOf", { date: fmtDate(c.rfm.asOf) })),
        ]
      : empty(t("noSegment")),
  );
  fill($("customer-body"), rfm, identities, orders, products, loyalty, chat, consent);
}

// ---------------------------------------------------------------------------------
// Segments

async function loadSegments(token) {
  const segments = await api("/v1/crm/segments");
  if (token !== state.token) return;
  state.segments = segments;
  renderSegments();
}

function renderSegments() {
  const s = state.segments;
  const run = s.run;
  $("segments-run").textContent = run ? t("segmentsRun", { customers: fmtNumber(run.customers), orders: fmtNumber(run.orders?.total), asOf: fmtDate(run.asOf), rule: s.vip?.rule ?? "" }) : t("noRun");
  const link = (name) => el("a", { href: `#segment/${name}` }, segmentLabel(name));
  const rows = s.segments.map((x) => [link(x.name), fmtNumber(x.customers), fmtPct(x.share), fmtMoney(x.monetary, s.currency, { whole: true }), fmtMoney(x.averageLtv, s.currency)]);
  if (run) {
    rows.push([link("vip"), fmtNumber(s.vip?.customers), fmtPct(run.customers ? s.vip.customers / run.customers : null), "", ""]);
    rows.push([link("all"), fmtNumber(run.customers), fmtPct(1), "", ""]);
  }
  fill($("segments-table"), table(t("segments"), [t("segment"), t("customers"), t("share"), t("monetary"), t("avgLtv")], rows, { numeric: [1, 2, 3, 4] }));
}

async function loadSegment(token, name) {
  fill($("segment-title"), segmentLabel(name));
  fill($("segment-table"));
  $("segment-count").textContent = t("loading");
  $("segment-csv").href = `/v1/crm/segments/${encodeURIComponent(name)}.csv`;
  const found = await api(`/v1/crm/segments/${encodeURIComponent(name)}/customers?limit=100`);
  if (token !== state.token) return;
  state.segment = found;
  renderSegment();
}

function renderSegment() {
  const s = state.segment;
  fill($("segment-title"), segmentLabel(s.segment));
  $("segment-count").textContent = t("segmentCount", { n: s.total });
  const rows = s.customers.map((c) => [
    el("a", { href: `#customer/${encodeURIComponent(customerKey(c))}`, dir: "auto" }, customerName(c)),
    fmtNumber(c.orders),
    fmtMoney(c.monetary, c.currency),
    fmtMoney(c.ltv, c.currency),
    timeEl(c.lastOrderAt),
    el("bdi", {}, `${c.r}·${c.f}·${c.m}`),
  ]);
  fill($("segment-table"), table(segmentLabel(s.segment), [t("customer"), t("orders"), t("monetary"), t("ltv"), t("lastOrder"), "RFM"], rows, { numeric: [1, 2, 3] }));
}

// ---------------------------------------------------------------------------------
// Language switching and start

function setLang(next) {
  lang = next;
  try {
    localStorage.setItem(LANG_KEY, next);
  } catch {
    // Not remembered; still switched.
  }
  applyLang();
}

function applyLang() {
  const root = document.documentElement;
  root.lang = lang;
  root.dir = lang === "ar" ? "rtl" : "ltr";
  document.title = t("title");
  $("lang").value = lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-aria-label]")) node.setAttribute("aria-label", t(node.dataset.i18nAriaLabel));
  render();
}

function wire() {
  $("lang").addEventListener("change", (e) => setLang(e.target.value));
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("period").addEventListener("change", () => route({ focus: false }));
  $("search-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = ++state.token;
    try {
      await loadResults(token, $("search-q").value.trim());
      announce($("search-count").textContent);
    } catch (e) {
      $("search-count").textContent = t("loadError", { error: e.message });
    }
  });
  window.addEventListener("hashchange", () => route());
}

async function start() {
  wire();
  applyLang();
  try {
    await enter();
  } catch (e) {
    showLogin(e.status === 401 ? "" : e.status === 403 ? t("notMerchant") : e.message);
  }
}

start();
