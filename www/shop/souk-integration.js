/*
 * How Dar Noor tells souk what happens in the shop: what a merchant's developer
 * writes once. The shop's own script (shop.js) announces cart and order events on
 * `document`; this forwards them to souk with the Segment e-commerce names, and
 * opens souk's privacy choices from the footer. Pages with the snippet have
 * `window.souk` at once; account.html imports souk as an ES module instead.
 */
(function () {
  function withSouk(use) {
    var ready = window.souk
      ? Promise.resolve(window.souk)
      : import("/dist/index.js").then(function (module) { return module.souk; });
    ready.then(use).catch(function () { /* souk is optional for the shop */ });
  }

  function product(detail) {
    return {
      product_id: detail.productId,
      sku: detail.sku,
      quantity: detail.quantity,
      price: detail.price,
      currency: detail.currency,
    };
  }

  withSouk(function (souk) { souk.page(); });

  document.addEventListener("shop:add-to-cart", function (event) {
    withSouk(function (souk) { souk.track("Product Added", product(event.detail)); });
  });
  document.addEventListener("shop:remove-from-cart", function (event) {
    withSouk(function (souk) { souk.track("Product Removed", product(event.detail)); });
  });
  document.addEventListener("shop:purchase", function (event) {
    var order = event.detail;
    withSouk(function (souk) {
      souk.track("Order Completed", {
        order_id: order.orderId,
        total: order.total,
        revenue: order.subtotal,
        shipping: order.delivery,
        currency: order.currency,
        products: order.items.map(function (item) {
          return { product_id: item.productId, sku: item.sku, quantity: item.quantity, price: item.price };
        }),
      });
    });
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-privacy-choices]")) {
      withSouk(function (souk) { souk.consent.show(); });
    }
  });
})();
