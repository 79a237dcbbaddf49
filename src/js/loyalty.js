// Loyalty in the page, part of the runtime: <souk-loyalty> needs `functional`
// consent. Its chunk loads where the element is; its data comes from the shopper
// endpoints, signed with the userHash the shop's backend gave to identify(), kept in
// memory for this page only.

const EVENTS = ["souk-loyalty-open", "souk-loyalty-redeem", "souk-loyalty-retry"];

/** Starts the loyalty widgets; `identify(userId, userHash)` says who may see points. */
export function startLoyalty({ config, files, handle, guarded, fail, whenParsed, widgetLang, functional }) {
  let shopper = null;
  let chunk = null;
  const fetched = new WeakSet();

  function base() {
    const { currency, digits, loginUrl, joinUrl, rules } = config.loyalty || {};
    return { lang: widgetLang(), currency, digits, loginUrl, joinUrl, rules };
  }

  function scan() {
    const elements = document.querySelectorAll("souk-loyalty");
    if (!elements.length) return;
    if (!functional()) return elements.forEach((element) => (element.hidden = true));
    chunk ||= files.load(config, "souk_loyalty.js");
    chunk.then(() => elements.forEach((element) => show(element).catch(fail)), fail);
  }

  async function show(element) {
    element.hidden = false;
    if (!shopper) return element.render({ ...base(), state: "anonymous" });
    element.render({ ...base(), state: "loading" });
    fetched.add(element);
    const query = new URLSearchParams(shopper);
    const response = await fetch(`${handle.apiHost}/v1/loyalty?${query}`, { credentials: "omit" }).catch(() => null);
    if (response && response.status === 401) return element.render({ ...base(), state: "anonymous" });
    if (response && response.status === 403) return console.warn("souk: loyalty needs souk-server's --identity-secret");
    const account = response && response.ok ? await response.json().catch(() => null) : null;
    if (!account) {
      fetched.delete(element);
      return element.render({ ...base(), state: "error" });
    }
    const rules = account.earn ? { earn: account.earn, bonuses: account.bonuses } : base().rules;
    element.render({ ...base(), state: "ready", account, rules });
  }

  async function redeem(element, reward) {
    const body = JSON.stringify({ ...shopper, reward });
    const init = { method: "POST", body, credentials: "omit", headers: { "Content-Type": "application/json" } };
    const response = shopper && (await fetch(`${handle.apiHost}/v1/loyalty/redeem`, init).catch(() => null));
    const answer = response && response.status === 201 ? await response.json().catch(() => null) : null;
    if (!answer) return element.failed();
    element.redeemed(answer);
    await show(element);
  }

  const onEvent = ({ type, target, detail }) =>
    guarded(() => {
      if (type === "souk-loyalty-redeem") redeem(target, detail.reward).catch(fail);
      else if (type === "souk-loyalty-retry" || !fetched.has(target)) show(target).catch(fail);
    });
  for (const type of EVENTS) document.addEventListener(type, onEvent);

  return {
    scan: () => whenParsed(scan),
    identify(userId, userHash) {
      const signed = typeof userId === "string" && typeof userHash === "string";
      shopper = signed ? { userId: userId.trim(), userHash } : null;
      whenParsed(scan);
    },
    stop() {
      for (const type of EVENTS) document.removeEventListener(type, onEvent);
    },
  };
}
