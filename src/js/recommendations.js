// Recommendations in the page, part of the runtime: the widget's chunk, the scorer (a
// wasm module of its own) and the model load only where a <souk-recommendations>
// element is. The model stays in the scorer's memory; the widget gets the cards to
// show. What the scorer may use (the cart; the profile only with `personalization`)
// comes from the main module, which owns consent and storage.

/** Starts watching for recommendation elements; `scan()` looks at the page again. */
export function startRecommendations({ config, files, handle, guarded, fail, whenParsed, widgetLang, track }) {
  let recommender = null;
  const filled = new WeakMap(); // element → what it shows, so a second look changes nothing
  // One impression per list shown, once half of it is in view (or clicked before the
  // observer said so): the merchant's click-through rate per surface
  // (`Product List Viewed`, then `Product Clicked`).
  const lists = new WeakMap(); // element → the list it shows, until it is seen
  const seen = (element) => {
    const list = lists.get(element);
    if (!list) return;
    lists.delete(element);
    viewer.unobserve(element);
    guarded(track, "Product List Viewed", list);
  };
  const viewer =
    typeof IntersectionObserver === "function" &&
    new IntersectionObserver((entries) => entries.forEach(({ isIntersecting, target }) => isIntersecting && seen(target)), { threshold: 0.5 });
  // "Picked for you" is made from the profile: without personalisation it shows nothing.
  const personal = () => handle.profileText() !== undefined;

  function load() {
    const scorer = files.load(config, "souk_recommend.js").then((glue) =>
      glue.default({ module_or_path: files.url(config, "souk_recommend_bg.wasm") }).then(() => glue),
    );
    const model = fetch(handle.apiHost + "/v1/model", { credentials: "omit" }).then((response) => {
      if (response.ok) return response.arrayBuffer();
      throw new Error(`souk: no recommendation model (GET /v1/model answered HTTP ${response.status})`);
    });
    return Promise.all([scorer, model, files.load(config, "souk_recommendations.js")]).then(
      ([glue, bytes]) => new glue.Recommender(new Uint8Array(bytes)),
    );
  }

  function show(elements) {
    if (!elements.length) return;
    recommender ||= load();
    recommender.then(
      (scorer) => elements.forEach((element) => guarded(fill, scorer, element)),
      (err) => {
        recommender = null;
        fail(err);
      },
    );
  }

  function scan() {
    const elements = [...document.querySelectorAll("souk-recommendations")];
    const forYou = (element) => element.getAttribute("surface") === "for-you";
    // Without personalisation "for you" needs nothing loaded: it stays hidden.
    if (!personal()) elements.filter(forYou).forEach((element) => (element.hidden = true));
    show(personal() ? elements : elements.filter((element) => !forYou(element)));
  }

  function fill(scorer, element) {
    const asked = ["surface", "product", "cart", "limit"].map((name) => element.getAttribute(name)).join("|") + widgetLang();
    if (filled.get(element) === asked) return;
    filled.set(element, asked);
    const surface = element.getAttribute("surface") || "similar";
    const cart = element.getAttribute("cart");
    const subject = surface === "cart" ? cart && cart.split(/[\s,]+/).filter(Boolean) : element.getAttribute("product");
    const limit = Math.min(Number(element.getAttribute("limit")) || 4, 12);
    const profile = handle.profileText();
    const items =
      surface === "for-you" && profile === undefined
        ? []
        : scorer.recommend(surface, subject || undefined, handle.cartProducts(), profile, Date.now(), limit, widgetLang(), config.recommendations || {});
    const listId = element.getAttribute("list-id") || "souk-" + surface;
    element.render({ lang: widgetLang(), items, listId });
    if (viewer && items.length) {
      lists.set(element, { list_id: listId, products: items.map((item, i) => ({ product_id: item.id, position: i + 1 })) });
      viewer.observe(element);
    }
  }

  // An element added or changed after the page loaded asks for its cards.
  const onRequest = ({ target }) => guarded(show, [target]);
  const onClick = ({ target, detail }) => {
    guarded(seen, target);
    guarded(track, "Product Clicked", { product_id: detail.id, position: detail.position, list_id: detail.listId });
  };
  document.addEventListener("souk-recommendations-request", onRequest);
  document.addEventListener("souk-recommendation-click", onClick);

  return {
    scan: () => whenParsed(scan),
    stop() {
      if (viewer) viewer.disconnect();
      document.removeEventListener("souk-recommendations-request", onRequest);
      document.removeEventListener("souk-recommendation-click", onClick);
    },
  };
}
