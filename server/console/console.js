// The agent console: sign in, the inbox, a conversation with the shopper's context,
// live over the agents' Server-Sent Events stream. Plain DOM, no framework, no build.
//
// Everything a shopper or an agent wrote (and everything the shop's pages sent: titles,
// URLs, product names) goes into the page as text nodes only, never as HTML. Signing
// in, the API client, the text and the DOM helpers are the staff pages' own module,
// ./staff.js.

import { $, announce, api, applyText, el, fill, fmtNumber, lang, plural, resume, setLang, showPage, staffSession, t, useText } from "./staff.js";

const LANG_KEY = "souk.agent.lang";
const TYPING_SHOWN_MS = 6000;
const TYPING_NOTICE_MS = 3000;
const RELOAD_DELAY_MS = 250;

const TEXT = {
  en: {
    title: "Agent console",
    brand: "Agent console",
    skip: "Skip to the conversation",
    inbox: "Inbox",
    messages: "Messages",
    filtersLabel: "Filter conversations",
    status: "Status",
    statusOpen: "Open",
    statusClosed: "Closed",
    statusAny: "All",
    assigned: "Assigned",
    assignedAny: "Anyone",
    assignedMe: "Me",
    assignedNone: "Nobody",
    search: "Search",
    searchPlaceholder: "Search shoppers and messages",
    inboxEmpty: "No conversations match these filters.",
    count: plural({ one: "{n} conversation", other: "{n} conversations" }),
    unread: plural({ one: "{n} unread message", other: "{n} unread messages" }),
    loginTitle: "Sign in to the agent console",
    loginIntro: "Answer your shoppers' questions live.",
    pickTitle: "No conversation open",
    pickText: "Choose a conversation from the inbox to read it and reply.",
    notFound: "This conversation does not exist.",
    loading: "Loading…",
    assignMe: "Assign to me",
    assignee: "Assignee",
    assign: "Assign",
    nobody: "Nobody",
    you: "You",
    youName: "{name} (you)",
    close: "Close conversation",
    open: "Open",
    closed: "Closed",
    startedAt: "Started {time}",
    assignedTo: "Assigned to {name}",
    assignedToYou: "Assigned to you",
    unassigned: "Unassigned",
    rated: "Rated {score} of 5",
    ratingComment: "Their comment:",
    canned: "Canned responses",
    cannedTitle: "Canned responses",
    done: "Done",
    cannedEmpty: "No canned responses yet.",
    cannedAdd: "Add a canned response",
    cannedName: "Title",
    cannedText: "Text",
    cannedLang: "Language",
    langAny: "Any",
    langEn: "English",
    langAr: "Arabic",
    cannedSave: "Save",
    cannedInsert: "Insert “{title}” into the reply",
    cannedDelete: "Delete",
    cannedDeleteLong: "Delete “{title}”",
    cannedMissing: "Give the response a title and a text.",
    reply: "Reply to {name}",
    replyPlaceholder: "Write a reply…",
    replyHint: "Enter sends, Shift+Enter starts a new line.",
    send: "Send",
    sending: "Sending…",
    failed: "Not sent",
    retry: "Retry",
    sendClosed: "The conversation is closed, so the reply was not sent.",
    closedNote: "This conversation is closed. The shopper's next message starts a new one.",
    typing: "{name} is typing…",
    typingShort: "typing…",
    automatic: "Automatic (FAQ)",
    visitor: "Visitor {id}",
    previewAgent: "Agent:",
    previewBot: "FAQ:",
    noMessages: "No messages yet.",
    shopper: "Shopper",
    ctxEmpty: "Open a conversation to see who you are talking to.",
    customerId: "Customer",
    visitorId: "Visitor",
    emailLeft: "Email (left outside hours)",
    pageLang: "Page language",
    page: "Current page",
    noPage: "No page seen yet.",
    seen: "seen {time}",
    cart: "Cart",
    cartEmpty: "The cart is empty.",
    cartTotal: "Total",
    checkoutStarted: "Checkout started",
    quantity: "Quantity {n}",
    viewed: "Recently viewed",
    viewedEmpty: "No products viewed yet.",
    loyalty: "Loyalty",
    loyaltyNone: "Not signed in, or no loyalty account.",
    tier: "Tier",
    balance: "Balance",
    points: plural({ one: "{n} point", other: "{n} points" }),
    nextTier: "Next tier: {tier}",
    earlier: "Earlier conversations",
    earlierNone: "No earlier conversations.",
    live: "Live",
    reconnecting: "Reconnecting…",
    announce: "New message from {name}: {text}",
    loadError: "Could not load: {error}",
  },
  ar: {
    title: "لوحة خدمة العملاء",
    brand: "لوحة خدمة العملاء",
    skip: "انتقل إلى المحادثة",
    inbox: "صندوق الوارد",
    messages: "الرسائل",
    filtersLabel: "تصفية المحادثات",
    status: "الحالة",
    statusOpen: "مفتوحة",
    statusClosed: "مغلقة",
    statusAny: "الكل",
    assigned: "المسؤول",
    assignedAny: "أي شخص",
    assignedMe: "أنا",
    assignedNone: "لا أحد",
    search: "بحث",
    searchPlaceholder: "ابحث في المتسوقين والرسائل",
    inboxEmpty: "لا توجد محادثات تطابق هذه التصفية.",
    count: plural({ zero: "لا محادثات", one: "محادثة واحدة", two: "محادثتان", few: "{n} محادثات", many: "{n} محادثة", other: "{n} محادثة" }),
    unread: plural({ zero: "لا رسائل غير مقروءة", one: "رسالة واحدة غير مقروءة", two: "رسالتان غير مقروءتين", few: "{n} رسائل غير مقروءة", many: "{n} رسالة غير مقروءة", other: "{n} رسالة غير مقروءة" }),
    loginTitle: "تسجيل الدخول إلى لوحة خدمة العملاء",
    loginIntro: "أجب عن أسئلة المتسوقين مباشرةً.",
    pickTitle: "لا توجد محادثة مفتوحة",
    pickText: "اختر محادثة من صندوق الوارد لقراءتها والرد عليها.",
    notFound: "هذه المحادثة غير موجودة.",
    loading: "جارٍ التحميل…",
    assignMe: "أسندها إليّ",
    assignee: "المسؤول",
    assign: "إسناد",
    nobody: "لا أحد",
    you: "أنت",
    youName: "{name} (أنت)",
    close: "إغلاق المحادثة",
    open: "مفتوحة",
    closed: "مغلقة",
    startedAt: "بدأت {time}",
    assignedTo: "مُسندة إلى {name}",
    assignedToYou: "مُسندة إليك",
    unassigned: "غير مُسندة",
    rated: "التقييم {score} من 5",
    ratingComment: "تعليق العميل:",
    canned: "الردود الجاهزة",
    cannedTitle: "الردود الجاهزة",
    done: "تم",
    cannedEmpty: "لا توجد ردود جاهزة بعد.",
    cannedAdd: "إضافة رد جاهز",
    cannedName: "العنوان",
    cannedText: "النص",
    cannedLang: "اللغة",
    langAny: "أي لغة",
    langEn: "الإنجليزية",
    langAr: "العربية",
    cannedSave: "حفظ",
    cannedInsert: "أدرج «{title}» في الرد",
    cannedDelete: "حذف",
    cannedDeleteLong: "حذف «{title}»",
    cannedMissing: "أدخل عنوانًا ونصًّا للرد.",
    reply: "الرد على {name}",
    replyPlaceholder: "اكتب ردًّا…",
    replyHint: "زر الإدخال يرسل، وShift مع الإدخال يبدأ سطرًا جديدًا.",
    send: "إرسال",
    sending: "جارٍ الإرسال…",
    failed: "لم يُرسل",
    retry: "إعادة المحاولة",
    sendClosed: "المحادثة مغلقة، لذلك لم يُرسل الرد.",
    closedNote: "هذه المحادثة مغلقة. رسالة المتسوق التالية تبدأ محادثة جديدة.",
    typing: "{name} يكتب…",
    typingShort: "يكتب…",
    automatic: "تلقائي (الأسئلة الشائعة)",
    visitor: "زائر {id}",
    previewAgent: "الموظف:",
    previewBot: "تلقائي:",
    noMessages: "لا توجد رسائل بعد.",
    shopper: "المتسوق",
    ctxEmpty: "افتح محادثة لترى مع من تتحدث.",
    customerId: "العميل",
    visitorId: "الزائر",
    emailLeft: "البريد (تُرك خارج ساعات العمل)",
    pageLang: "لغة الصفحة",
    page: "الصفحة الحالية",
    noPage: "لم تُسجَّل أي صفحة بعد.",
    seen: "شوهدت {time}",
    cart: "سلة التسوق",
    cartEmpty: "السلة فارغة.",
    cartTotal: "الإجمالي",
    checkoutStarted: "بدأ إتمام الشراء",
    quantity: "الكمية {n}",
    viewed: "شوهدت مؤخرًا",
    viewedEmpty: "لم يشاهد أي منتج بعد.",
    loyalty: "برنامج الولاء",
    loyaltyNone: "لم يسجّل الدخول، أو ليس لديه حساب ولاء.",
    tier: "المستوى",
    balance: "الرصيد",
    points: plural({ zero: "{n} نقطة", one: "نقطة واحدة", two: "نقطتان", few: "{n} نقاط", many: "{n} نقطة", other: "{n} نقطة" }),
    nextTier: "المستوى التالي: {tier}",
    earlier: "محادثات سابقة",
    earlierNone: "لا توجد محادثات سابقة.",
    live: "متصل",
    reconnecting: "جارٍ إعادة الاتصال…",
    announce: "رسالة جديدة من {name}: {text}",
    loadError: "تعذّر التحميل: {error}",
  },
};

useText(TEXT, LANG_KEY);

// ---------------------------------------------------------------------------------
// Language

function applyLang() {
  applyText();
  renderConnection();
  if (state.me) {
    renderWho();
    renderList();
    renderCanned();
    renderView();
  }
}

// ---------------------------------------------------------------------------------
// Formatting, always through Intl for the current language

function fmtMoney(amount, currency) {
  if (typeof amount !== "number" || !Number.isFinite(amount)) return "";
  if (typeof currency === "string" && /^[A-Za-z]{3}$/.test(currency)) {
    try {
      return new Intl.NumberFormat(lang, { style: "currency", currency: currency.toUpperCase() }).format(amount);
    } catch {
      // An unknown currency code: a plain amount below.
    }
  }
  return new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(amount);
}

function fmtRelative(iso) {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return "";
  const seconds = (at - Date.now()) / 1000;
  const abs = Math.abs(seconds);
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: "auto", style: "short" });
  if (abs < 45) return rtf.format(0, "second");
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), "hour");
  if (abs < 7 * 86400) return rtf.format(Math.round(seconds / 86400), "day");
  return new Intl.DateTimeFormat(lang, { dateStyle: "medium" }).format(at);
}

function fmtFull(iso) {
  const at = Date.parse(iso);
  return Number.isNaN(at) ? "" : new Intl.DateTimeFormat(lang, { dateStyle: "full", timeStyle: "short" }).format(at);
}

function fmtClock(iso) {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return "";
  const today = new Date().toDateString() === new Date(at).toDateString();
  const options = today ? { timeStyle: "short" } : { dateStyle: "medium", timeStyle: "short" };
  return new Intl.DateTimeFormat(lang, options).format(at);
}

/** A `<time>` for `iso`: relative ("5 min. ago", refreshed every half minute) or a clock time. */
function timeEl(iso, kind = "relative") {
  const node = el("time", { className: "time" });
  if (!iso) return node;
  node.dateTime = iso;
  node.dataset.kind = kind;
  node.textContent = kind === "relative" ? fmtRelative(iso) : fmtClock(iso);
  node.title = fmtFull(iso);
  return node;
}

function refreshTimes() {
  for (const node of document.querySelectorAll("time[data-kind=relative]")) node.textContent = fmtRelative(node.dateTime);
}

// ---------------------------------------------------------------------------------
// Links to the shop's pages

/** A link to a shop page `url`, if it is http(s): anything else is shown as text only. */
function safeHref(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    const parsed = new URL(url, location.origin);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

function externalLink(url, text) {
  const href = safeHref(url);
  if (!href) return el("span", { dir: "auto" }, text || url || "");
  return el("a", { href, target: "_blank", rel: "noopener noreferrer", className: "ext", dir: "auto" }, text || url);
}

const conversationPath = (id, rest = "") => `/v1/agent/conversations/${encodeURIComponent(id)}${rest}`;

// ---------------------------------------------------------------------------------
// State

const state = {
  me: null,
  agents: [],
  canned: [],
  /** The inbox: conversation summaries by id, as the server lists them. */
  list: new Map(),
  filters: { status: "open", assigned: "any", q: "" },
  listLoaded: false,
  /** The open conversation: `{id, conversation, shopper, messages: Map(id → message), readSent, loading, error}`. */
  view: null,
  stream: null,
  connection: "idle",
  typingUntil: new Map(),
};

const rows = new Map();
const messageNodes = new Map();

// ---------------------------------------------------------------------------------
// Signing in and out

/** Forgets the signed-in agent's inbox, conversation and stream. */
function leave() {
  state.stream?.close();
  state.stream = null;
  state.me = null;
  state.view = null;
  state.list.clear();
  rows.clear();
  messageNodes.clear();
  $("conversations").replaceChildren();
  state.connection = "idle";
  renderConnection();
}

/** Opens the console for `agent`, signed in. */
function enter(agent) {
  state.me = agent;
  showPage();
  renderWho();
  connectStream();
  loadList();
  loadAgents();
  loadCanned();
  route({ focus: false });
  if (!state.view) $("inbox-title").focus();
}

function renderWho() {
  const who = $("who");
  fill(who, el("span", { className: "avatar", attrs: { "aria-hidden": "true" } }, initials(state.me?.name)), el("span", {}, state.me?.name || ""));
}

function initials(name = "") {
  return name.trim().split(/\s+/).slice(0, 2).map((part) => part[0] || "").join("").toUpperCase();
}

// ---------------------------------------------------------------------------------
// The live stream

function connectStream() {
  state.stream?.close();
  const stream = new EventSource("/v1/agent/stream");
  state.stream = stream;
  let dropped = false;
  stream.addEventListener("open", () => {
    state.connection = "live";
    renderConnection();
    // Also the first time: anything between the first list and the stream's start.
    scheduleReload();
    if (dropped) refreshView();
    dropped = false;
  });
  stream.addEventListener("error", () => {
    if (state.stream !== stream) return;
    dropped = true;
    state.connection = "reconnecting";
    renderConnection();
    if (stream.readyState === EventSource.CLOSED) {
      // Refused (the session ended) or the server is gone: check, then start again.
      setTimeout(async () => {
        if (state.stream !== stream) return;
        try {
          await api("/v1/agent/me");
          connectStream();
          refreshView();
        } catch {
          if (state.me) setTimeout(() => state.stream === stream && connectStream(), 5000);
        }
      }, 2000);
    }
  });
  const on = (name, handle) =>
    stream.addEventListener(name, (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      handle(data);
    });
  on("message", onMessage);
  on("typing", onTyping);
  on("read", onRead);
  on("assigned", onAssigned);
  on("closed", onClosed);
  on("rated", onRated);
}

function renderConnection() {
  const node = $("connection");
  node.hidden = state.connection === "idle";
  node.dataset.state = state.connection;
  $("connection-text").textContent = state.connection === "live" ? t("live") : state.connection === "reconnecting" ? t("reconnecting") : "";
}

function onMessage(message) {
  const summary = state.list.get(message.conversationId);
  const viewing = state.view?.id === message.conversationId;
  if (summary) {
    if ((message.seq ?? 0) > (summary.lastSeq ?? 0)) {
      summary.lastSeq = message.seq;
      summary.lastMessage = { seq: message.seq, author: message.author, text: message.text, receivedAt: message.receivedAt };
      summary.updatedAt = message.receivedAt;
    }
    if (message.author === "shopper") {
      state.typingUntil.delete(message.conversationId);
      if (!(viewing && document.visibilityState === "visible")) summary.unread = (summary.unread || 0) + 1;
    }
    renderList();
  }
  scheduleReload();
  if (viewing) {
    if (message.author === "shopper") hideTyping();
    upsertMessage(message);
    markRead();
  }
  const fromMe = message.author === "agent" && message.agentId === state.me?.id;
  if (!fromMe) {
    const name = message.author === "shopper" ? shopperName(summary ?? state.view?.conversation) : message.author === "bot" ? t("automatic") : message.agentName || "";
    if (viewing || message.author === "shopper") announce(t("announce", { name, text: message.text }));
  }
}

function onTyping(data) {
  if (data.author !== "shopper") return;
  state.typingUntil.set(data.conversationId, Date.now() + TYPING_SHOWN_MS);
  renderList();
  if (state.view?.id === data.conversationId) showTyping();
  setTimeout(() => {
    if ((state.typingUntil.get(data.conversationId) ?? 0) <= Date.now()) {
      state.typingUntil.delete(data.conversationId);
      renderList();
    }
  }, TYPING_SHOWN_MS + 50);
}

function onRead(data) {
  if (data.reader !== "agent") return;
  const summary = state.list.get(data.conversationId);
  if (summary && (data.upToSeq ?? 0) >= (summary.lastSeq ?? 0)) {
    summary.unread = 0;
    renderList();
  }
}

function onAssigned(data) {
  const summary = state.list.get(data.conversationId);
  if (summary) summary.assignedAgent = data.agent ?? null;
  if (state.view?.id === data.conversationId && state.view.conversation) {
    state.view.conversation.assignedAgent = data.agent ?? null;
    renderView();
  }
  renderList();
  scheduleReload();
}

function onClosed(data) {
  const summary = state.list.get(data.conversationId);
  if (summary) {
    summary.status = "closed";
    summary.closedAt = data.closedAt;
  }
  if (state.view?.id === data.conversationId && state.view.conversation) {
    state.view.conversation.status = "closed";
    state.view.conversation.closedAt = data.closedAt;
    renderView();
  }
  renderList();
  scheduleReload();
}

function onRated(data) {
  const rating = { score: data.score, comment: data.comment ?? null };
  const summary = state.list.get(data.conversationId);
  if (summary) summary.rating = rating;
  if (state.view?.id === data.conversationId && state.view.conversation) {
    state.view.conversation.rating = rating;
    renderView();
  }
  renderList();
}

// ---------------------------------------------------------------------------------
// The inbox

let reloadTimer = 0;
function scheduleReload(delay = RELOAD_DELAY_MS) {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(loadList, delay);
}

let listToken = 0;
async function loadList() {
  if (!state.me) return;
  const token = ++listToken;
  const query = new URLSearchParams({ status: state.filters.status, assigned: state.filters.assigned });
  if (state.filters.q.trim()) query.set("q", state.filters.q.trim());
  try {
    const { conversations } = await api(`/v1/agent/conversations?${query}`);
    if (token !== listToken) return;
    state.list = new Map(conversations.map((c) => [c.id, c]));
    state.listLoaded = true;
    // The one on screen is read as it arrives.
    const open = state.view && state.list.get(state.view.id);
    if (open && open.unread > 0 && document.visibilityState === "visible") {
      open.unread = 0;
      state.view.readSent = 0;
      markRead();
    }
    $("load-error").hidden = true;
    renderList();
  } catch (e) {
    if (token !== listToken || e.status === 401) return;
    $("load-error").hidden = false;
    $("load-error").textContent = t("loadError", { error: e.message });
  }
}

function shopperName(summary) {
  const shopper = summary?.shopper;
  if (!shopper) return "";
  if (shopper.userId) return shopper.userId;
  return t("visitor", { id: String(shopper.anonymousId || "").slice(0, 8) });
}

/** The row's second line: "typing…", or the last message (its text isolated, in its own direction). */
function previewOf(summary) {
  if ((state.typingUntil.get(summary.id) ?? 0) > Date.now()) return { parts: [t("typingShort")], typing: true };
  const last = summary.lastMessage;
  if (!last) return { parts: [t("noMessages")] };
  const text = el("bdi", {}, last.text.replace(/\s+/g, " "));
  const prefix = last.author === "agent" ? t("previewAgent") : last.author === "bot" ? t("previewBot") : "";
  return { parts: prefix ? [prefix, " ", text] : [text] };
}

function assigneeName(agent) {
  if (!agent) return "";
  return agent.id === state.me?.id ? t("you") : agent.name || "";
}

function renderRow(summary) {
  let item = rows.get(summary.id);
  if (!item) {
    item = el("li", { className: "conv-item" }, el("a", { className: "row" }));
    rows.set(summary.id, item);
  }
  const link = item.firstChild;
  link.href = `#/c/${encodeURIComponent(summary.id)}`;
  link.dataset.id = summary.id;
  const current = state.view?.id === summary.id;
  if (current) link.setAttribute("aria-current", "true");
  else link.removeAttribute("aria-current");
  const unread = current && document.visibilityState === "visible" ? 0 : summary.unread || 0;
  link.classList.toggle("has-unread", unread > 0);
  link.classList.toggle("is-closed", summary.status === "closed");
  const preview = previewOf(summary);
  const meta = [];
  if (summary.status === "closed") meta.push(el("span", { className: "chip" }, t("closed")));
  if (summary.assignedAgent) meta.push(el("span", { className: "chip assignee" }, el("span", { className: "vh" }, t("assignee") + ": "), assigneeName(summary.assignedAgent)));
  if (summary.rating) meta.push(el("span", { className: "chip" }, "★ " + fmtNumber(summary.rating.score)));
  fill(link,
    el("span", { className: "row-top" }, el("span", { className: "row-name" }, shopperName(summary)), timeEl(summary.lastMessage?.receivedAt || summary.updatedAt)),
    el("span", { className: "row-bottom" },
      el("span", { className: preview.typing ? "row-preview typing-text" : "row-preview" }, preview.parts),
      unread > 0 ? el("span", { className: "badge" }, el("span", { attrs: { "aria-hidden": "true" } }, fmtNumber(unread)), el("span", { className: "vh" }, t("unread", { n: unread }))) : null),
    meta.length ? el("span", { className: "row-meta" }, meta) : null,
  );
  return item;
}

function renderList() {
  if (!state.me) return;
  const list = $("conversations");
  const ordered = [...state.list.values()].sort((a, b) => (b.lastSeq ?? 0) - (a.lastSeq ?? 0));
  const keep = new Set(ordered.map((c) => c.id));
  const focused = document.activeElement;
  for (const [id, item] of rows) {
    if (!keep.has(id)) {
      item.remove();
      rows.delete(id);
    }
  }
  ordered.forEach((summary, index) => {
    const item = renderRow(summary);
    if (list.children[index] !== item) list.insertBefore(item, list.children[index] ?? null);
  });
  if (focused && focused !== document.activeElement && list.contains(focused)) focused.focus({ preventScroll: true });
  $("inbox-empty").hidden = !state.listLoaded || ordered.length > 0;
  $("inbox-count").textContent = state.listLoaded && ordered.length ? t("count", { n: ordered.length }) : "";
}

// ---------------------------------------------------------------------------------
// Routing: #/c/{id} is the open conversation

function route({ focus = true } = {}) {
  const match = /^#\/c\/(.+)$/.exec(location.hash);
  if (!state.me) return;
  if (match) openConversation(decodeURIComponent(match[1]), { focus });
  else closeView();
}

function closeView() {
  state.view = null;
  renderView();
  renderList();
}

let viewToken = 0;
async function openConversation(id, { focus = true } = {}) {
  const same = state.view?.id === id;
  const token = ++viewToken;
  if (!same) {
    state.view = { id, conversation: null, shopper: null, messages: new Map(), readSent: 0, loading: true, error: "" };
    messageNodes.clear();
    $("messages").replaceChildren();
    $("reply").value = "";
    $("send-error").textContent = "";
    hideTyping();
  }
  renderList();
  renderView();
  await loadView(token);
  if (token !== viewToken || !state.view) return;
  if ((state.typingUntil.get(id) ?? 0) > Date.now()) showTyping();
  if (focus) {
    const open = state.view.conversation?.status === "open";
    (open ? $("reply") : $("conv-title")).focus();
  }
  scrollToEnd(true);
}

/** Reads the open conversation again (after a reconnect), keeping what is being sent. */
async function refreshView() {
  if (!state.view) return;
  await loadView(++viewToken);
}

async function loadView(token) {
  const view = state.view;
  try {
    const data = await api(conversationPath(view.id));
    if (token !== viewToken || state.view !== view) return;
    view.conversation = data.conversation;
    view.shopper = data.shopper;
    for (const message of data.messages) upsertMessage(message, { render: false });
    view.loading = false;
    view.error = "";
  } catch (e) {
    if (token !== viewToken || state.view !== view) return;
    view.loading = false;
    view.error = e.status === 404 ? t("notFound") : t("loadError", { error: e.message });
  }
  renderView();
  markRead();
}

function renderView() {
  const view = state.view;
  const ready = Boolean(view?.conversation);
  $("conv-empty").hidden = ready;
  $("conv").hidden = !ready;
  $("ctx").hidden = !ready;
  $("ctx-empty").hidden = ready;
  const emptyTitle = $("conv-empty-title");
  if (!view) {
    emptyTitle.textContent = t("pickTitle");
    emptyTitle.nextElementSibling.textContent = t("pickText");
  } else if (!ready) {
    emptyTitle.textContent = view.error || t("loading");
    emptyTitle.nextElementSibling.textContent = view.error ? t("pickText") : "";
  }
  if (!ready) {
    $("ctx-empty").textContent = t("ctxEmpty");
    return;
  }
  const c = view.conversation;
  const name = shopperName(c);
  const open = c.status === "open";
  fill($("conv-title"),
    el("span", { className: "conv-name" }, name),
    " ",
    el("span", { className: open ? "pill open" : "pill closed" }, open ? t("open") : t("closed")),
  );
  const sub = [t("startedAt", { time: fmtClock(c.createdAt) })];
  const assignedToMe = c.assignedAgent?.id === state.me.id;
  sub.push(assignedToMe ? t("assignedToYou") : c.assignedAgent ? t("assignedTo", { name: c.assignedAgent.name }) : t("unassigned"));
  if (c.rating) sub.push(t("rated", { score: fmtNumber(c.rating.score) }));
  $("conv-sub").textContent = sub.join(" · ");
  // The shopper's words with their rating, as they wrote them (dir auto: either language).
  const comment = c.rating?.comment;
  $("conv-comment").hidden = !comment;
  fill($("conv-comment"), comment ? [t("ratingComment"), " ", el("q", { dir: "auto" }, comment)] : []);
  $("reply-label").textContent = t("reply", { name });

  // Assignment and closing.
  const mine = c.assignedAgent?.id === state.me.id;
  $("assign-me").hidden = mine || !open;
  $("assign-form").hidden = !open;
  $("close-conv").hidden = !open;
  renderAssignee(c);

  // The composer.
  $("closed-note").hidden = open;
  $("closed-note").textContent = open ? "" : t("closedNote");
  for (const id of ["reply", "send", "canned-toggle"]) $(id).disabled = !open;
  if (!open) toggleCanned(false);

  renderMessages();
  renderContext();
}

function renderAssignee(c) {
  const select = $("assignee");
  const options = [el("option", { value: "" }, t("nobody"))];
  const agents = state.agents.length ? state.agents : [state.me];
  for (const agent of agents) {
    options.push(el("option", { value: String(agent.id) }, agent.id === state.me.id ? t("youName", { name: agent.name }) : agent.name));
  }
  if (c.assignedAgent && !agents.some((a) => a.id === c.assignedAgent.id)) {
    options.push(el("option", { value: String(c.assignedAgent.id) }, c.assignedAgent.name || String(c.assignedAgent.id)));
  }
  const focused = document.activeElement === select;
  if (select.dataset.for !== c.id) select.dataset.dirty = "";
  const chosen = select.dataset.dirty === "1" ? select.value : c.assignedAgent ? String(c.assignedAgent.id) : "";
  select.replaceChildren(...options);
  select.value = chosen;
  select.dataset.for = c.id;
  if (focused) select.focus();
  $("assign-apply").disabled = select.value === (c.assignedAgent ? String(c.assignedAgent.id) : "");
}

async function assign(agentId) {
  const view = state.view;
  if (!view?.conversation) return;
  $("send-error").textContent = "";
  try {
    const answer = await api(conversationPath(view.id, "/assign"), { method: "POST", body: { agentId } });
    view.conversation.assignedAgent = answer.assignedAgent;
    const summary = state.list.get(view.id);
    if (summary) summary.assignedAgent = answer.assignedAgent;
    $("assignee").dataset.dirty = "";
    renderView();
    renderList();
    scheduleReload();
  } catch (e) {
    $("send-error").textContent = e.message;
  }
}

async function closeConversation() {
  const view = state.view;
  if (!view?.conversation) return;
  try {
    const answer = await api(conversationPath(view.id, "/close"), { method: "POST", body: {} });
    onClosed({ conversationId: view.id, closedAt: answer.closedAt });
    $("conv-title").focus();
  } catch (e) {
    $("send-error").textContent = e.message;
  }
}

// ---------------------------------------------------------------------------------
// Messages

function upsertMessage(message, { render = true } = {}) {
  const view = state.view;
  if (!view || message.conversationId !== view.id) return;
  const before = view.messages.get(message.id);
  const merged = { ...before, ...message };
  if (message.seq != null) delete merged.pending;
  view.messages.set(message.id, merged);
  if (render) {
    const nearEnd = isNearEnd();
    renderMessages();
    scrollToEnd(nearEnd || message.author === "agent");
  }
}

function orderedMessages() {
  const all = [...state.view.messages.values()];
  return all.sort((a, b) => {
    if (a.seq != null && b.seq != null) return a.seq - b.seq;
    if (a.seq != null) return -1;
    if (b.seq != null) return 1;
    return (a.createdLocal ?? 0) - (b.createdLocal ?? 0);
  });
}

function authorOf(message, conversation) {
  if (message.author === "shopper") return shopperName(conversation);
  if (message.author === "bot") return t("automatic");
  if (message.agentId != null && message.agentId === state.me?.id) return t("you");
  return message.agentName || t("you");
}

function renderMessage(message) {
  let item = messageNodes.get(message.id);
  if (!item) {
    item = el("li");
    messageNodes.set(message.id, item);
  }
  const mine = message.author === "agent" && (message.agentId == null || message.agentId === state.me?.id);
  item.className = ["msg", `from-${message.author}`, mine ? "mine" : "", message.pending ? `is-${message.pending}` : ""].filter(Boolean).join(" ");
  item.dataset.id = message.id;
  if (message.seq != null) item.dataset.seq = String(message.seq);
  const meta = el("p", { className: "msg-meta" },
    el("span", { className: "msg-author" }, authorOf(message, state.view.conversation)),
    timeEl(message.receivedAt || message.sentAt, "clock"),
    message.pending === "sending" ? el("span", { className: "msg-state" }, t("sending")) : null,
    message.pending === "failed" ? el("span", { className: "msg-state failed" }, t("failed")) : null,
  );
  const body = el("div", { className: "bubble" }, meta, el("p", { className: "msg-text", dir: "auto" }, message.text));
  if (message.pending === "failed") {
    body.append(el("p", { className: "msg-failure" },
      message.failure ? el("span", {}, message.failure + " ") : null,
      el("button", { type: "button", className: "button small", onclick: () => sendReply(message.text, message.id) }, t("retry"))));
  }
  fill(item, body);
  return item;
}

function renderMessages() {
  const list = $("messages");
  if (!state.view) return;
  const ordered = orderedMessages();
  const focused = document.activeElement;
  ordered.forEach((message, index) => {
    const item = renderMessage(message);
    if (list.children[index] !== item) list.insertBefore(item, list.children[index] ?? null);
  });
  while (list.children.length > ordered.length) list.lastElementChild.remove();
  if (focused && focused !== document.activeElement && list.contains(focused)) focused.focus({ preventScroll: true });
}

function isNearEnd() {
  const list = $("messages");
  return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}

function scrollToEnd(yes) {
  if (!yes) return;
  const list = $("messages");
  list.scrollTop = list.scrollHeight;
}

let typingTimer = 0;
function showTyping() {
  const view = state.view;
  if (!view?.conversation) return;
  $("typing-text").textContent = t("typing", { name: shopperName(view.conversation) });
  $("typing").hidden = false;
  clearTimeout(typingTimer);
  typingTimer = setTimeout(hideTyping, TYPING_SHOWN_MS);
}

function hideTyping() {
  clearTimeout(typingTimer);
  $("typing").hidden = true;
}

let localOrder = 0;
async function sendReply(text, id = crypto.randomUUID()) {
  const view = state.view;
  if (!view?.conversation) return;
  const conversationId = view.id;
  const existing = view.messages.get(id);
  upsertMessage({
    id,
    conversationId,
    author: "agent",
    agentId: state.me.id,
    agentName: state.me.name,
    text,
    sentAt: existing?.sentAt ?? new Date().toISOString(),
    createdLocal: existing?.createdLocal ?? ++localOrder,
    pending: "sending",
    failure: "",
  });
  $("send-error").textContent = "";
  try {
    const answer = await api(conversationPath(conversationId, "/messages"), { method: "POST", body: { id, text } });
    if (state.view?.id === conversationId) upsertMessage({ id, conversationId, seq: answer.seq });
  } catch (e) {
    if (state.view?.id !== conversationId) return;
    const failure = e.status === 409 ? t("sendClosed") : e.status === 0 ? t("networkError") : e.message;
    upsertMessage({ id, conversationId, pending: "failed", failure });
  }
}

function submitReply(event) {
  event?.preventDefault();
  const reply = $("reply");
  const text = reply.value.trim();
  if (!text || !state.view?.conversation || state.view.conversation.status !== "open") return;
  reply.value = "";
  sendReply(text);
  reply.focus();
}

let typingSent = 0;
function noticeTyping() {
  const view = state.view;
  if (!view?.conversation || view.conversation.status !== "open" || !$("reply").value.trim()) return;
  const now = Date.now();
  if (now - typingSent < TYPING_NOTICE_MS) return;
  typingSent = now;
  api(conversationPath(view.id, "/typing"), { method: "POST", body: {} }).catch(() => {});
}

/** Tells the server the agents read the open conversation, when it is on screen. */
function markRead() {
  const view = state.view;
  if (!view?.conversation || document.visibilityState !== "visible") return;
  let upTo = 0;
  for (const message of view.messages.values()) if (message.seq != null && message.seq > upTo) upTo = message.seq;
  if (upTo <= view.readSent) return;
  view.readSent = upTo;
  const summary = state.list.get(view.id);
  if (summary?.unread) {
    summary.unread = 0;
    renderList();
  }
  api(conversationPath(view.id, "/read"), { method: "POST", body: { upToSeq: upTo } }).catch(() => {
    if (state.view === view && view.readSent === upTo) view.readSent = 0;
  });
}

// ---------------------------------------------------------------------------------
// The shopper's context

function renderContext() {
  const view = state.view;
  if (!view?.conversation) return;
  const c = view.conversation;
  const s = view.shopper || {};

  const facts = [];
  const fact = (term, ...value) => facts.push(el("div", { className: "fact" }, el("dt", {}, term), el("dd", {}, ...value)));
  if (c.shopper.userId) fact(t("customerId"), el("span", { className: "mono", attrs: { dir: "ltr" } }, c.shopper.userId));
  fact(t("visitorId"), el("span", { className: "mono", attrs: { dir: "ltr" } }, c.shopper.anonymousId));
  if (c.shopper.email) {
    fact(t("emailLeft"), el("a", { href: `mailto:${c.shopper.email}`, attrs: { dir: "ltr" } }, c.shopper.email));
  }
  const pageLang = s.page?.lang || c.context?.lang;
  if (pageLang) fact(t("pageLang"), languageName(pageLang));
  fill($("ctx-facts"), ...facts);

  // The page.
  const page = s.page;
  if (page && (page.url || page.title)) {
    fill($("ctx-page"),
      el("p", { className: "ctx-page-title" }, externalLink(page.url, page.title || page.url)),
      page.url ? el("p", { className: "ctx-url muted" }, el("bdi", { dir: "ltr" }, page.url)) : null,
      page.at ? el("p", { className: "muted small" }, t("seen", { time: fmtRelative(page.at) })) : null,
    );
  } else fill($("ctx-page"), el("p", { className: "muted" }, t("noPage")));

  // The cart.
  const cart = s.cart;
  if (cart?.items?.length) {
    let total = 0;
    let priced = true;
    const lines = cart.items.map((item) => {
      const quantity = item.quantity ?? 1;
      const amount = typeof item.price === "number" ? item.price * quantity : null;
      if (amount == null) priced = false;
      else total += amount;
      return el("li", { className: "line" },
        el("span", { className: "line-name", dir: "auto" }, item.name || item.productId),
        el("span", { className: "line-qty" }, el("span", { attrs: { "aria-hidden": "true" } }, "× " + fmtNumber(quantity)), el("span", { className: "vh" }, t("quantity", { n: fmtNumber(quantity) }))),
        el("span", { className: "line-price" }, fmtMoney(amount, cart.currency)));
    });
    fill($("ctx-cart"),
      el("ul", { className: "lines" }, lines),
      priced ? el("p", { className: "line total" }, el("span", { className: "line-name" }, t("cartTotal")), el("span", { className: "line-price" }, fmtMoney(total, cart.currency))) : null,
      cart.checkoutStarted ? el("p", { className: "chip accent" }, t("checkoutStarted")) : null,
    );
  } else fill($("ctx-cart"), el("p", { className: "muted" }, t("cartEmpty")));

  // Recently viewed.
  const viewed = s.recentlyViewed || [];
  fill($("ctx-viewed"), viewed.length
    ? el("ul", { className: "viewed" }, viewed.map((product) => el("li", { className: "line" },
      el("span", { className: "line-name", dir: "auto" }, product.url ? externalLink(product.url, product.name || product.productId) : product.name || product.productId),
      el("span", { className: "line-price" }, fmtMoney(product.price, product.currency)))))
    : el("p", { className: "muted" }, t("viewedEmpty")));

  // Loyalty.
  const loyalty = s.loyalty;
  if (loyalty) {
    const tierName = (tier) => tier?.name?.[lang] || tier?.name?.en || tier?.id || "";
    fill($("ctx-loyalty"),
      el("div", { className: "loyalty" },
        el("span", { className: "tier-badge", dataset: { tier: String(loyalty.tier?.id || "") } }, tierName(loyalty.tier)),
        el("span", { className: "points" }, t("points", { n: loyalty.balance ?? 0 }))),
      loyalty.next?.tier ? el("p", { className: "muted small" }, t("nextTier", { tier: tierName(loyalty.next.tier) })) : null,
    );
  } else fill($("ctx-loyalty"), el("p", { className: "muted" }, t("loyaltyNone")));

  // Earlier conversations.
  const earlier = s.earlier || [];
  fill($("ctx-earlier"), earlier.length
    ? el("ul", { className: "earlier" }, earlier.map((e) => el("li", {},
      el("a", { href: `#/c/${encodeURIComponent(e.id)}`, className: "earlier-link" },
        el("span", { className: "row-top" }, el("span", {}, fmtClock(e.createdAt)), el("span", { className: "chip" }, e.status === "open" ? t("open") : t("closed"))),
        e.lastMessage ? el("span", { className: "row-preview" }, el("bdi", {}, e.lastMessage)) : null))))
    : el("p", { className: "muted" }, t("earlierNone")));
}

function languageName(tag) {
  try {
    return new Intl.DisplayNames([lang], { type: "language" }).of(tag) || tag;
  } catch {
    return tag;
  }
}

// ---------------------------------------------------------------------------------
// Agents and canned responses

async function loadAgents() {
  try {
    state.agents = (await api("/v1/agent/agents")).agents;
    if (state.view?.conversation) renderAssignee(state.view.conversation);
  } catch {
    // Assigning to oneself still works.
  }
}

async function loadCanned() {
  try {
    state.canned = (await api("/v1/agent/canned")).canned;
    renderCanned();
  } catch {
    // The picker stays empty.
  }
}

function renderCanned() {
  const list = $("canned-list");
  const focusedId = document.activeElement?.closest?.("#canned-list li")?.dataset.id;
  fill(list, ...state.canned.map((item) => el("li", { className: "canned-item", dataset: { id: String(item.id) } },
    el("button", { type: "button", className: "canned-use", attrs: { "aria-label": t("cannedInsert", { title: item.title }) }, onclick: () => insertCanned(item) },
      el("span", { className: "canned-name" }, item.title, item.lang ? el("span", { className: "chip" }, languageName(item.lang)) : null),
      el("span", { className: "canned-preview", dir: "auto" }, item.text)),
    el("button", { type: "button", className: "button quiet small", attrs: { "aria-label": t("cannedDeleteLong", { title: item.title }) }, onclick: () => deleteCanned(item) }, t("cannedDelete")))));
  $("canned-empty").hidden = state.canned.length > 0;
  if (focusedId) list.querySelector(`li[data-id="${CSS.escape(focusedId)}"] button`)?.focus();
}

function toggleCanned(open = $("canned-panel").hidden) {
  $("canned-panel").hidden = !open;
  $("canned-toggle").setAttribute("aria-expanded", String(open));
  if (open) ($("canned-list").querySelector("button") || $("canned-name")).focus();
}

function insertCanned(item) {
  const reply = $("reply");
  const start = reply.selectionStart ?? reply.value.length;
  const end = reply.selectionEnd ?? reply.value.length;
  reply.setRangeText(item.text, start, end, "end");
  toggleCanned(false);
  reply.focus();
}

async function addCanned(event) {
  event.preventDefault();
  const title = $("canned-name").value.trim();
  const text = $("canned-text").value.trim();
  const error = $("canned-error");
  if (!title || !text) {
    error.textContent = t("cannedMissing");
    (title ? $("canned-text") : $("canned-name")).focus();
    return;
  }
  error.textContent = "";
  const body = { title, text };
  if ($("canned-lang").value) body.lang = $("canned-lang").value;
  // Cleared at once, so that the next one can be typed while this one is saved.
  $("canned-name").value = "";
  $("canned-text").value = "";
  try {
    const added = await api("/v1/agent/canned", { method: "POST", body });
    state.canned = [...state.canned, added].sort((a, b) => a.title.localeCompare(b.title, lang, { sensitivity: "base" }));
    renderCanned();
    if (!$("canned-name").value && !$("canned-text").value) $("canned-list").querySelector(`li[data-id="${added.id}"] .canned-use`)?.focus();
  } catch (e) {
    error.textContent = e.message;
    if (!$("canned-name").value && !$("canned-text").value) {
      $("canned-name").value = title;
      $("canned-text").value = text;
    }
  }
}

async function deleteCanned(item) {
  try {
    await api(`/v1/agent/canned/${encodeURIComponent(item.id)}`, { method: "DELETE" });
  } catch (e) {
    if (e.status !== 404) {
      $("canned-error").textContent = e.message;
      return;
    }
  }
  state.canned = state.canned.filter((c) => c.id !== item.id);
  renderCanned();
  $("canned-name").focus();
}

// ---------------------------------------------------------------------------------
// Wiring

let searchTimer = 0;
function wire() {
  $("lang").addEventListener("change", (e) => {
    setLang(e.target.value);
    applyLang();
  });
  staffSession({ appClass: "is-console", parts: ["inbox", "conversation", "context", "who", "logout"], enter, leave });
  $("filters").addEventListener("submit", (e) => {
    e.preventDefault();
    loadList();
  });
  $("f-status").addEventListener("change", (e) => {
    state.filters.status = e.target.value;
    loadList();
  });
  $("f-assigned").addEventListener("change", (e) => {
    state.filters.assigned = e.target.value;
    loadList();
  });
  $("f-q").addEventListener("input", (e) => {
    state.filters.q = e.target.value;
    clearTimeout(searchTimer);
    searchTimer = setTimeout(loadList, 250);
  });
  $("composer").addEventListener("submit", submitReply);
  $("reply").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submitReply();
    }
  });
  $("reply").addEventListener("input", noticeTyping);
  $("assign-me").addEventListener("click", () => assign("me"));
  $("assign-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const value = $("assignee").value;
    assign(value ? Number(value) : null);
  });
  $("assignee").addEventListener("change", () => {
    const c = state.view?.conversation;
    $("assignee").dataset.dirty = "1";
    $("assign-apply").disabled = !c || $("assignee").value === (c.assignedAgent ? String(c.assignedAgent.id) : "");
  });
  $("close-conv").addEventListener("click", closeConversation);
  $("canned-toggle").addEventListener("click", () => toggleCanned());
  $("canned-close").addEventListener("click", () => {
    toggleCanned(false);
    $("canned-toggle").focus();
  });
  $("canned-form").addEventListener("submit", addCanned);
  $("canned-panel").addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      toggleCanned(false);
      $("canned-toggle").focus();
    }
  });
  document.querySelector(".skip").addEventListener("click", (e) => {
    e.preventDefault();
    const target = state.view?.conversation ? $("conv-title") : state.me ? $("conversation") : $("login-email");
    target.focus();
  });
  window.addEventListener("hashchange", () => route());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      markRead();
      renderList();
    }
  });
  setInterval(refreshTimes, 30_000);
}

wire();
applyLang();
resume();
