/*
 * The one piece of souk-specific code in Dar Noor: the footer's "Privacy choices"
 * link reopens souk's consent choices. Everything souk records here it captures by
 * itself: page views, product views from the JSON-LD, and cart and order events
 * from the GA4 dataLayer (ga4.js). Pages with the snippet have `window.souk` at
 * once; account.html imports souk as an ES module instead.
 */
(function () {
  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("[data-privacy-choices]")) return;
    var ready = window.souk
      ? Promise.resolve(window.souk)
      : import("/dist/index.js").then(function (module) { return module.souk; });
    ready.then(function (souk) { souk.consent.show(); }).catch(function () { /* souk is optional */ });
  });
})();
