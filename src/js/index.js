// The npm entry: `import { souk } from "souk"`. The WebAssembly module, its glue and
// each widget are separate chunks that load on first need, so importing souk costs
// the page almost nothing until `souk.init()`. The literal paths let bundlers find them.
import { pageClient } from "./client.js";

/** Where `publicPath` moved the files to, if it did. */
const moved = (config) => config.publicPath && new URL(config.publicPath, location.href);

// Every chunk and wasm module by name, with literal paths.
const chunks = {
  "souk_runtime.js": () => import("./souk_runtime.js"),
  "souk_consent.js": () => import("./souk_consent.js"),
  "souk_recommendations.js": () => import("./souk_recommendations.js"),
  "souk_recommend.js": () => import("./souk_recommend.js"),
  "souk_loyalty.js": () => import("./souk_loyalty.js"),
  "souk_chat_launcher.js": () => import("./souk_chat_launcher.js"),
  "souk_chat.js": () => import("./souk_chat.js"),
  "souk_chat_client.js": () => import("./souk_chat_client.js"),
};
const modules = {
  "souk_bg.wasm": () => new URL("./souk_bg.wasm", import.meta.url),
  "souk_recommend_bg.wasm": () => new URL("./souk_recommend_bg.wasm", import.meta.url),
  "souk_chat_bg.wasm": () => new URL("./souk_chat_bg.wasm", import.meta.url),
};

/** The page's souk client; see index.d.ts. */
export const souk = pageClient({
  load: (config, file) => (moved(config) ? import(new URL(file, moved(config)).href) : chunks[file]()),
  url: (config, file) => (moved(config) ? new URL(file, moved(config)) : modules[file]()),
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
