// The npm entry: `import { souk } from "souk"`. The WebAssembly module, its glue and
// each widget are separate chunks that load on first need, so importing souk costs
// the page almost nothing until `souk.init()`. The literal paths let bundlers find them.
import { pageClient } from "./client.js";

/** Where `publicPath` moved the files to, if it did. */
const moved = (config) => config.publicPath && new URL(config.publicPath, location.href);

/** The page's souk client; see index.d.ts. */
export const souk = pageClient({
  runtime: (config) =>
    moved(config) ? import(new URL("souk_runtime.js", moved(config)).href) : import("./souk_runtime.js"),
  wasm: (config) => (moved(config) ? new URL("souk_bg.wasm", moved(config)) : new URL("./souk_bg.wasm", import.meta.url)),
  consent: (config) =>
    moved(config) ? import(new URL("souk_consent.js", moved(config)).href) : import("./souk_consent.js"),
  recommendations: (config) =>
    moved(config)
      ? import(new URL("souk_recommendations.js", moved(config)).href)
      : import("./souk_recommendations.js"),
  scorer: (config) =>
    moved(config) ? import(new URL("souk_recommend.js", moved(config)).href) : import("./souk_recommend.js"),
  scorerWasm: (config) =>
    moved(config) ? new URL("souk_recommend_bg.wasm", moved(config)) : new URL("./souk_recommend_bg.wasm", import.meta.url),
  loyalty: (config) =>
    moved(config) ? import(new URL("souk_loyalty.js", moved(config)).href) : import("./souk_loyalty.js"),
});

export default souk;

// One typed helper per e-commerce spec event, for shops that prefer
// `productAdded({ ... })` to `souk.track("Product Added", { ... })`. Unused ones are
// dropped by the shop's bundler.
const helper = (event) => (properties) => souk.track(event, properties);
export const productsSearched = /* @__PURE__ */ helper("Products Searched");
export const productListViewed = /* @__PURE__ */ helper("Product List Viewed");
export const productListFiltered = /* @__PURE__ */ helper("Product List Filtered");
export const productClicked = /* @__PURE__ */ helper("Product Clicked");
export const productViewed = /* @__PURE__ */ helper("Product Viewed");
export const productAdded = /* @__PURE__ */ helper("Product Added");
export const productRemoved = /* @__PURE__ */ helper("Product Removed");
export const productAddedToWishlist = /* @__PURE__ */ helper("Product Added to Wishlist");
export const cartViewed = /* @__PURE__ */ helper("Cart Viewed");
export const checkoutStarted = /* @__PURE__ */ helper("Checkout Started");
export const checkoutStepViewed = /* @__PURE__ */ helper("Checkout Step Viewed");
export const checkoutStepCompleted = /* @__PURE__ */ helper("Checkout Step Completed");
export const paymentInfoEntered = /* @__PURE__ */ helper("Payment Info Entered");
export const orderCompleted = /* @__PURE__ */ helper("Order Completed");
export const orderUpdated = /* @__PURE__ */ helper("Order Updated");
export const orderRefunded = /* @__PURE__ */ helper("Order Refunded");
export const orderCancelled = /* @__PURE__ */ helper("Order Cancelled");
export const couponApplied = /* @__PURE__ */ helper("Coupon Applied");
export const promotionViewed = /* @__PURE__ */ helper("Promotion Viewed");
export const promotionClicked = /* @__PURE__ */ helper("Promotion Clicked");
