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
  // souk's loyalty widget shows a shopper's points only with a userHash: the HMAC of
  // their id with the shop's identity secret. A real shop computes it on its server
  // and never ships the secret; Dar Noor has no server, so this demo signs in the
  // page with a demo secret that scripts/demo.sh gives souk-server too.
  var DEMO_IDENTITY_SECRET = "souk_demo_identity_secret";
  function demoUserHash(userId) {
    var bytes = function (text) { return new TextEncoder().encode(text); };
    var key = { name: "HMAC", hash: "SHA-256" };
    return crypto.subtle.importKey("raw", bytes(DEMO_IDENTITY_SECRET), key, false, ["sign"])
      .then(function (k) { return crypto.subtle.sign("HMAC", k, bytes(userId)); })
      .then(function (mac) {
        return Array.from(new Uint8Array(mac), function (b) { return b.toString(16).padStart(2, "0"); }).join("");
      });
  }
  function identify(userId) {
    var signed = crypto.subtle ? demoUserHash(userId) : Promise.resolve(undefined);
    signed.then(function (userHash) {
      withSouk(function (souk) { souk.identify(userId, {}, { userHash: userHash }); });
    });
  }
  document.addEventListener("shop:login", function (event) { identify(event.detail.userId); });
  // A page with the loyalty widget says again who is logged in, for their points.
  var user = null;
  try { user = JSON.parse(localStorage.getItem("shop.user")); } catch (e) {}
  if (user && user.id && document.querySelector("souk-loyalty")) identify(user.id);
  document.addEventListener("shop:logout", function () {
    withSouk(function (souk) { souk.reset(); });
  });
})();
