// The chat chunk (dist/souk_chat.js), loaded on the shopper's first click: the
// <souk-chat> panel and what drives it. The chat client (wasm, chat/src/lib.rs)
// keeps the thread and the outbox; this file does the network: POST each message
// until the server has it, and follow the stream (Server-Sent Events, resumed from
// the last sequence number after any gap).
import "./widgets/chat.js";

/** What "Talk to a person" sends for the shopper. */
const HUMAN = { en: "I'd like to talk to a person, please.", ar: "أودّ التحدث إلى أحد الموظفين من فضلك." };
const MAX_WAIT_MS = 30000;
/** A request unanswered this long is given up (and a message sent again, with its id). */
const REQUEST_TIMEOUT_MS = 10000;

/** Starts the chat for this page; answers its controller. */
export async function startChat({ config, files, handle, widgetLang, functional, shopper }) {
  const glue = await files.load(config, "souk_chat_client.js");
  await glue.default({ module_or_path: files.url(config, "souk_chat_bg.wasm") });
  const client = new glue.ChatClient(functional());
  const api = handle.apiHost;
  const elements = new Set();
  const stored = new Set(); // ids the server answered for, not yet back on the stream
  const failed = new Set(); // ids whose last attempt failed; retried
  const closed = new Set(); // conversations the team closed
  const rated = new Set();
  let status = { open: true };
  let agentRead = 0;
  let typing = false;
  let typingTimer;
  let expanded = false;
  let email;
  let source = null;
  let wait = 1000;
  let retryTimer;
  let flushing = null;
  let stopped = false;

  const who = () => {
    const signed = shopper();
    const visitor = { anonymousId: client.visitor(handle.anonymousId) };
    return signed ? { ...visitor, ...signed } : visitor;
  };
  const query = (extra = {}) => new URLSearchParams({ writeKey: config.writeKey, ...who(), ...extra });
  const post = (path, body) =>
    fetch(api + path, {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ writeKey: config.writeKey, ...who(), ...body }),
      signal: AbortSignal.timeout ? AbortSignal.timeout(REQUEST_TIMEOUT_MS) : undefined,
    }).catch(() => null);

  function view() {
    const current = client.conversation();
    const messages = JSON.parse(client.messages()).map((m) => {
      const own = m.author === "shopper";
      const state = m.seq != null || stored.has(m.id) ? (m.seq != null && m.seq <= agentRead ? "read" : "sent") : failed.has(m.id) ? "failed" : "pending";
      return { id: m.id, author: m.author, text: m.text, at: m.sentAt, agentName: m.agentName, faqId: m.faqId, status: own ? state : undefined };
    });
    return {
      lang: widgetLang(),
      digits: config.chat?.digits,
      team: config.chat?.team,
      open: status.open !== false,
      backAt: status.opensAt,
      state: "ready",
      messages,
      typing,
      closed: closed.has(current),
      rated: rated.has(current),
      unread: client.unread(),
      askEmail: status.open === false && !email,
      expanded,
    };
  }

  function render() {
    if (stopped) return;
    if (expanded && client.unread() > 0) markRead();
    const shown = view();
    for (const element of elements) element.render(shown);
  }

  function markRead() {
    const seq = client.lastSeq();
    client.markRead(seq);
    const conversationId = client.conversation();
    if (conversationId) post("/v1/chat/read", { conversationId, upToSeq: seq });
  }

  /** Sends what waits, in order, until the server has it all or a try fails. */
  function flush() {
    return (flushing ||= (async () => {
      // What waits is read again after each message: one written meanwhile joins this
      // flush (its own flush() found this one running).
      const done = new Set();
      let message;
      while ((message = JSON.parse(client.unsent()).find((m) => !done.has(m.id)))) {
        done.add(message.id);
        const conversationId = client.conversation() || undefined;
        const context = { url: location.href, title: document.title, lang: widgetLang() };
        const body = { id: message.id, text: message.text, sentAt: message.sentAt, conversationId, context, email };
        const response = await post("/v1/chat/messages", body);
        if (response && response.ok) {
          client.stored(message.id);
          stored.add(message.id);
          failed.delete(message.id);
          wait = 1000;
          continue;
        }
        if (response && response.status >= 400 && response.status < 500 && ![408, 429].includes(response.status)) {
          // Refused for good (a signed shopper's hash, a conversation not theirs): say so.
          client.stored(message.id);
          const answer = await response.json().catch(() => ({}));
          for (const element of elements) element.failed(answer.error);
          continue;
        }
        failed.add(message.id);
        const after = Number(response && response.headers.get("Retry-After")) * 1000;
        retry(Math.max(after || 0, wait));
        wait = Math.min(wait * 2, MAX_WAIT_MS);
        break;
      }
    })().finally(() => {
      flushing = null;
      render();
    }));
  }

  function retry(ms) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => navigator.onLine !== false && flush(), ms);
  }

  /** Reads the shopper's conversations, then follows the stream from the last of them. */
  async function connect() {
    source?.close();
    const response = await fetch(`${api}/v1/chat/conversations?${query()}`, { credentials: "omit" }).catch(() => null);
    const answer = response && response.ok ? await response.json().catch(() => null) : null;
    if (answer) {
      status = answer.status || status;
      for (const conversation of answer.conversations || []) {
        for (const message of conversation.messages || []) client.receive(JSON.stringify(message));
        if (conversation.status === "closed") closed.add(conversation.id);
        if (conversation.rating) rated.add(conversation.id);
        agentRead = Math.max(agentRead, conversation.agentReadUpToSeq || 0);
        if (conversation.readUpToSeq) client.markRead(conversation.readUpToSeq);
      }
    }
    render();
    if (stopped) return;
    // Resume after what the listing held (without one, from the start): a stream opened
    // with no resume point starts from now, and if it drops before its first message the
    // browser reconnects it the same way, skipping what came in between.
    const last = Math.max(client.lastSeq(), Number(answer?.lastSeq) || 0);
    source = new EventSource(`${api}/v1/chat/stream?${query({ lastEventId: last })}`);
    const on = (type, handler) =>
      source.addEventListener(type, (event) => {
        try {
          handler(JSON.parse(event.data || "null"));
        } catch {}
        render();
      });
    on("message", (message) => {
      client.receive(JSON.stringify(message));
      stored.delete(message.id);
      if (message.author !== "shopper") typing = false;
    });
    on("typing", () => {
      typing = true;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => ((typing = false), render()), 4000);
    });
    on("read", (read) => (agentRead = Math.max(agentRead, read.upToSeq || 0)));
    on("closed", (event) => closed.add(event.conversationId));
    // The browser reconnects by itself, with Last-Event-ID; only a refusal ends it.
    source.onerror = () => source.readyState === EventSource.CLOSED && !stopped && setTimeout(reconnect, wait);
  }

  // Nothing the chat does may throw into the shop's page.
  const reconnect = () => connect().catch(() => {});

  const onOnline = () => {
    wait = 1000;
    flush();
    if (!source || source.readyState === EventSource.CLOSED) reconnect();
  };
  addEventListener("online", onOnline);

  const actions = {
    "souk-chat-open": () => (expanded = true),
    "souk-chat-close": () => (expanded = false),
    "souk-chat-send": ({ text, email: given }, element) => {
      if (given) email = given;
      try {
        client.write(text);
      } catch (error) {
        return element.failed(error.message);
      }
      element.sent();
      flush();
    },
    "souk-chat-human": (_, element) => actions["souk-chat-send"]({ text: HUMAN[widgetLang()] }, element),
    "souk-chat-typing": () => client.conversation() && post("/v1/chat/typing", { conversationId: client.conversation() }),
    "souk-chat-read": () => markRead(),
    "souk-chat-rate": async ({ score, comment }) => {
      const conversationId = client.conversation();
      const response = await post("/v1/chat/rating", { conversationId, score, comment });
      if (response && (response.ok || response.status === 409)) rated.add(conversationId);
    },
    "souk-chat-new": () => closed.delete(client.conversation()),
    "souk-chat-retry": () => connect(),
  };
  const onAction = (event) => {
    const act = actions[event.type];
    Promise.resolve(act && act(event.detail || {}, event.target))
      .catch(() => {})
      .then(render);
  };
  for (const type of Object.keys(actions)) document.addEventListener(type, onAction);

  await connect();
  flush();

  return {
    /** Shows the chat in every <souk-chat> (the launchers become the panel's). */
    attach() {
      client.keep = functional();
      document.querySelectorAll("souk-chat").forEach((element) => elements.add(element));
      render();
    },
    /** Opens the panel of `element`. */
    open(element) {
      this.attach();
      expanded = true;
      element.open();
      render();
    },
    /** The shopper logged in or out: their conversations follow who they are. */
    identify: reconnect,
    /** At logout: nothing of the old shopper's chat stays on the device. */
    forget() {
      client.forget();
      stored.clear();
      failed.clear();
      reconnect();
    },
    stop() {
      stopped = true;
      source?.close();
      clearTimeout(retryTimer);
      removeEventListener("online", onOnline);
      for (const type of Object.keys(actions)) document.removeEventListener(type, onAction);
      for (const element of elements) element.hidden = true;
    },
  };
}
