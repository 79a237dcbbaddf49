/*
 * Dar Noor's souk-specific code: the footer's "Privacy choices" link reopens souk's
 * consent choices, and login and logout tell souk who the shopper is. Everything
 * else souk records here it captures by
 * itself: page views, product views from the JSON-LD, list views, product clicks
 * and additions to the cart from the data-souk-* markup shop.js renders, and
 * removals from the cart and orders from the GA4 dataLayer (ga4.js). Pages with the
 * snippet have `window.souk` at once; account.html imports souk as an ES module
 * instead.
 */
(function () {
  function withSouk(use) {
    var ready = window.souk
      ? Promise.resolve(window.souk)
      : import("/dist/index.js").then(function (module) { return module.souk; });
    ready.then(use).catch(function () { /* souk is optional */ });
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-privacy-choices]")) {
      withSouk(function (souk) { souk.consent.show(); });
    }
  });
  // Who the shopper is can only come from the shop: tell souk at login and logout.
  // souk's loyalty widget shows a shopper's points only with their userHash, which
  // the shop's session gives (shop.js).
  function identify() {
    if (!window.shop || !window.shop.session) return;
    window.shop.session().then(function (shopper) {
      if (!shopper) return;
      // The traits let the merchant's CRM find them by name or email, and match
      // their in-store sales (POS import by email) to this profile.
      var traits = { email: shopper.email, name: shopper.name };
      withSouk(function (souk) { souk.identify(shopper.userId, traits, { userHash: shopper.userHash }); });
    });
  }
  document.addEventListener("shop:login", identify);
  // A page with the loyalty widget says again who is logged in, for their points.
  if (document.querySelector("souk-loyalty")) identify();
  document.addEventListener("shop:logout", function () {
    withSouk(function (souk) { souk.reset(); });
  });
})();
