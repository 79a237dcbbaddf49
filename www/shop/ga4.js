/*
 * Dar Noor's Google Analytics 4 e-commerce tagging, for the cart and checkout:
 * what a shop that uses GA4 already has. shop.js announces cart and order events on
 * `document`; this pushes removals from the cart and orders to window.dataLayer in
 * GA4's shape. There is no souk code here: souk reads the dataLayer by itself.
 *
 * Adding to the cart is not pushed here: the browsing pages (home, category,
 * product) showcase souk's data-souk-* markup instead (lists, clicks and
 * add-to-cart buttons, rendered by shop.js), and pushing add_to_cart as well
 * would count every addition twice.
 */
(function () {
  window.dataLayer = window.dataLayer || [];

  function item(detail) {
    return { item_id: detail.productId, price: detail.price, quantity: detail.quantity };
  }

  document.addEventListener("shop:remove-from-cart", function (event) {
    var d = event.detail;
    window.dataLayer.push({ event: "remove_from_cart", ecommerce: { currency: d.currency, value: d.price * d.quantity, items: [item(d)] } });
  });
  document.addEventListener("shop:purchase", function (event) {
    var order = event.detail;
    window.dataLayer.push({
      event: "purchase",
      ecommerce: {
        transaction_id: order.orderId,
        value: order.total,
        shipping: order.delivery,
        currency: order.currency,
        items: order.items.map(function (line) {
          return { item_id: line.productId, price: line.price, quantity: line.quantity };
        }),
      },
    });
  });
})();
