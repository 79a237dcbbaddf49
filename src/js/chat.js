// Chat in the page, part of the runtime: until the shopper opens it, only a launcher
// (souk_chat_launcher.js) on each <souk-chat>. The first click loads the panel and
// its controller (souk_chat.js) and the chat client (wasm). A shopper who chatted
// before gets the controller at once, for the replies that came meanwhile. Needs
// `functional` consent.

/** The key the chat client keeps its visitor under (chat/src/lib.rs). */
const VISITOR_KEY = "souk:functional:chat:visitor";

/** Starts the chat launchers; `identify(userId, userHash)` says who writes. */
export function startChat({ config, files, handle, fail, whenParsed, widgetLang, functional }) {
  let shopper = null;
  let chat = null;
  const context = { config, files, handle, widgetLang, functional, shopper: () => shopper };
  const start = () => (chat ||= files.load(config, "souk_chat.js").then(({ startChat }) => startChat(context)));
  const open = (element) => start().then((controller) => controller.open(element), fail);

  function scan() {
    const elements = document.querySelectorAll("souk-chat");
    if (!elements.length) return;
    if (!functional()) {
      chat?.then((controller) => controller.stop());
      chat = null;
      return elements.forEach((element) => (element.hidden = true));
    }
    elements.forEach((element) => (element.hidden = false));
    let before = null;
    try {
      before = localStorage.getItem(VISITOR_KEY);
    } catch {}
    if (before || chat) return start().then((controller) => controller.attach(), fail);
    files.load(config, "souk_chat_launcher.js").then(({ launch }) => {
      if (!chat) elements.forEach((element) => launch(element, widgetLang(), open));
    }, fail);
  }

  return {
    scan: () => whenParsed(scan),
    identify(userId, userHash) {
      const signed = typeof userId === "string" && typeof userHash === "string";
      shopper = signed ? { userId: userId.trim(), userHash } : null;
      chat?.then((controller) => controller.identify(), fail);
    },
    reset() {
      shopper = null;
      chat?.then((controller) => controller.forget(), fail);
    },
    stop() {
      chat?.then((controller) => controller.stop());
    },
  };
}
