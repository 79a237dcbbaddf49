/** A property value souk can record: what JSON can carry (a `Date` becomes its ISO string). */
export type PropertyValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | Date
  | PropertyValue[]
  | { [key: string]: PropertyValue };

/** An event's properties, such as `{ product_id: "p001", price: 24 }`. */
export type Properties = { [key: string]: PropertyValue };

/** A product in the Segment e-commerce spec v2. Money is a non-negative number. */
export interface Product {
  product_id?: string | number;
  sku?: string;
  name?: string;
  brand?: string;
  category?: string;
  variant?: string;
  price?: number;
  currency?: string;
  quantity?: number;
  position?: number;
  coupon?: string;
  url?: string;
  image_url?: string;
}

/** An order in the Segment e-commerce spec v2. */
export interface Order {
  order_id?: string | number;
  checkout_id?: string;
  total?: number;
  subtotal?: number;
  revenue?: number;
  shipping?: number;
  tax?: number;
  discount?: number;
  coupon?: string;
  currency?: string;
  products?: Product[];
}

/** A list of products, as shown or searched. */
export interface ProductList {
  list_id?: string;
  category?: string;
  query?: string;
  products?: Product[];
}

/**
 * The Segment e-commerce spec v2 events and their properties: `track()` checks
 * these at compile time (and souk at run time). Extra properties are allowed.
 */
export interface EcommerceEvents {
  "Products Searched": ProductList;
  "Product List Viewed": ProductList;
  "Product List Filtered": ProductList;
  "Product Clicked": Product & { list_id?: string };
  "Product Viewed": Product;
  "Product Added": Product & { cart_id?: string };
  "Product Removed": Product & { cart_id?: string };
  "Product Added to Wishlist": Product & { wishlist_id?: string };
  "Cart Viewed": { cart_id?: string; products?: Product[] };
  "Checkout Started": Order;
  "Checkout Step Viewed": { checkout_id?: string; step?: number };
  "Checkout Step Completed": { checkout_id?: string; step?: number };
  "Payment Info Entered": { checkout_id?: string; order_id?: string | number; payment_method?: string };
  "Order Completed": Order;
  "Order Updated": Order;
  "Order Refunded": Order;
  "Order Cancelled": Order;
  "Coupon Applied": { order_id?: string | number; cart_id?: string; coupon_id?: string; coupon_name?: string; discount?: number };
  "Promotion Viewed": Promotion;
  "Promotion Clicked": Promotion;
}

/** An internal promotion (a banner, a deal of the day). */
export interface Promotion {
  promotion_id?: string;
  creative?: string;
  name?: string;
  position?: number;
}

/** What `souk.init()` takes. */
export interface SoukConfig {
  /** The shop's public write key (letters, digits, `_` and `-`). Required. */
  writeKey: string;
  /** Base URL of the merchant's backend. Defaults to the page's own origin. */
  apiHost?: string;
  /**
   * Where `souk_runtime.js`, `souk_bg.wasm` and the widget chunks are served from. Defaults to beside
   * `souk.js` (script tag) or to the bundler's asset URL (npm).
   */
  publicPath?: string;
  /** Also print refused calls on the console. */
  debug?: boolean;
  /** The banner's language (`en` or `ar`); defaults to the page's `<html lang>`. */
  lang?: string;
  /** How souk asks for consent. */
  consent?: ConsentConfig;
  /**
   * How long, in ms, an event waits for others to share its request (0 to 60000).
   * Default 1000. A full batch (100 events or 60 KB) goes at once, and leaving the
   * page sends what waits.
   */
  flushInterval?: number;
  /** After how many idle minutes (1 to 1440) a cart with items is recorded as "Cart Abandoned". Default 30. */
  cart?: { idleMinutes?: number };
  /** `<souk-loyalty>`: the shop's currency, digits, and where to log in or join. */
  loyalty?: { currency?: string; digits?: "arab" | "latn"; loginUrl?: string; joinUrl?: string };
  /** `<souk-chat>`: the team's name in the panel's header, and Arabic-Indic digits. */
  chat?: { team?: string; digits?: "arab" | "latn" };
  /** The shop's rules for `<souk-recommendations>`: product ids pinned first or never shown, and only these categories. */
  recommendations?: { pinned?: string[]; excluded?: string[]; categories?: string[] };
  /** Auto-capture sources, all on by default; `false` turns them all off. */
  capture?: false | CaptureConfig;
}

/** The auto-capture sources; each is on unless set to `false`. */
export interface CaptureConfig {
  /** A page view on load and on each SPA navigation (History API). */
  pages?: boolean;
  /** "Product Viewed" from a schema.org `Product` in JSON-LD (also inside `@graph`). */
  jsonLd?: boolean;
  /**
   * "Product Viewed" from schema.org `Product` microdata (`itemscope
   * itemtype="https://schema.org/Product"`) when the page describes exactly one
   * Product that is not part of another (a listing of many gives none). JSON-LD wins
   * when the page has both: one product view per page view.
   */
  microdata?: boolean;
  /** The GA4 e-commerce events the shop pushes to `dataLayer` (gtag or Tag Manager). */
  dataLayer?: boolean;
  /**
   * Lists, clicks and cart buttons marked up with `data-souk-*` attributes:
   * `data-souk-list` containers with `data-souk-product` children give
   * "Product List Viewed" and "Product Clicked"; `data-souk-add-to-cart` and
   * `data-souk-remove-from-cart` give "Product Added" and "Product Removed";
   * `data-souk-track="Event"` with `data-souk-prop-*` gives your own event.
   */
  attributes?: boolean;
}

/** The consent categories. `necessary` is always granted. */
export type Category = "necessary" | "functional" | "analytics" | "personalization" | "marketing";

/** The shop's own words for the banner in one language; any key given replaces souk's. */
export interface BannerText {
  title?: string;
  body?: string;
  acceptAll?: string;
  rejectAll?: string;
  choose?: string;
  choicesTitle?: string;
  save?: string;
  categories?: Partial<Record<Category, { label?: string; description?: string }>>;
}

/** How souk asks for consent. */
export interface ConsentConfig {
  /** Your privacy policy's revision; a new one asks the shopper again. Default `"1"`. */
  revision?: string;
  /** How long a decision lasts, 1 to 395 days. Default 182. */
  maxAgeDays?: number;
  /** Your own banner text, by language tag (`en`, `ar`). */
  text?: Record<string, BannerText>;
  /** Your own consent manager asks: souk shows no banner and waits for `consent.set()`. */
  external?: boolean;
  /** Keep events from before the first decision in memory, to send on a yes. Default `false`. */
  bufferBeforeDecision?: boolean;
}

/** The shopper's standing consent, as `souk.consent.get()` returns it. */
export interface ConsentState {
  /** What each category may do now. */
  categories: Record<Category, boolean>;
  /** Whether a decision stands (else only `necessary` works and the banner asks). */
  decided: boolean;
  /** Ties every version of this decision together. */
  consentId?: string;
  /** Where the decision came from. */
  source?: "banner" | "api" | "tcf";
  /** The policy revision it was made under. */
  revision?: string;
  /** When it was last made, RFC 3339. */
  updatedAt?: string;
  /** Whether the browser sends Global Privacy Control. */
  gpc: boolean;
}

/** Reading and setting consent. */
export interface Consent {
  /** The standing consent, or `null` until souk is live. */
  get(): ConsentState | null;
  /** Applies a decision from the shop's consent manager; unnamed categories keep their state. */
  set(choices: Partial<Record<Exclude<Category, "necessary">, boolean>>): void;
  /** Opens the shopper's choices. */
  show(): void;
  /** Calls `listener` with the new state after each decision that changed something. */
  on(event: "change", listener: (state: ConsentState) => void): void;
  /** Stops calling `listener`. */
  off(event: "change", listener: (state: ConsentState) => void): void;
}

/**
 * Errors souk reports to `error` listeners; it never throws into the page.
 * - `SoukConfigError`: `init()` was given a configuration it cannot use.
 * - `SoukEventError`: a call was refused; the message names the field and the problem.
 * - `SoukQueueFull`: too many events are waiting (1,000, or 1 MB); this one was not
 *   recorded, and `stats().dropped` counts it.
 * - `SoukConsentError`: `consent.set()` named an unknown category or a non-boolean choice.
 */
export interface SoukError extends Error {
  name: "SoukConfigError" | "SoukEventError" | "SoukQueueFull" | "SoukConsentError" | "Error";
}

/** What each listener receives. */
export interface SoukEvents {
  /** A `track()` call was recorded. */
  track: (event: string, properties?: Properties) => void;
  /** A `page()` call was recorded. */
  page: (name?: string, properties?: Properties) => void;
  /** A call was refused. */
  error: (error: SoukError) => void;
  /** A consent decision changed something. */
  consent: (state: ConsentState) => void;
}

/** The page's souk client. Calls made before the module is live are kept and replayed in order. */
export interface Souk {
  /** Starts souk; only the first call counts. */
  init(config: SoukConfig): void;
  /**
   * Resolves `true` once souk is live, or `false` if it went quiet (no WebAssembly,
   * a Content-Security-Policy that blocks it, a refused configuration).
   */
  ready(): Promise<boolean>;
  /** Records a page view. */
  page(name?: string, properties?: Properties): void;
  page(properties: Properties): void;
  /** Records a named action, such as "Product Added". Without `analytics` consent it is dropped. */
  track<E extends keyof EcommerceEvents>(event: E, properties?: EcommerceEvents[E] & Properties): void;
  /** Any other event: your own names and properties. */
  track<N extends string>(event: N extends keyof EcommerceEvents ? never : N, properties?: Properties): void;
  /**
   * Says who the shopper is, as your shop knows them (at login or signup), with their
   * traits. Later events carry the user id; the backend links the anonymous history
   * to the customer.
   */
  identify(userId: string, traits?: Properties, options?: { userHash?: string }): void;
  /** Says that the customer known as `previousId` (default: the current id) is now `userId`. */
  alias(userId: string, previousId?: string): void;
  /** Forgets the user (at logout) and starts a new anonymous id. */
  reset(): void;
  /** Sends what is waiting now. */
  flush(): void;
  /** The delivery queue, shared by the shop's tabs; `null` until souk is live. */
  stats(): DeliveryStats | null;
  /** Reading and setting consent. */
  consent: Consent;
  /** Listens to souk's events. */
  on<K extends keyof SoukEvents>(event: K, listener: SoukEvents[K]): void;
  /** Stops listening. */
  off<K extends keyof SoukEvents>(event: K, listener: SoukEvents[K]): void;
}

/** The delivery queue, as `souk.stats()` returns it. */
export interface DeliveryStats {
  /** Events waiting for delivery, from every tab of the shop. */
  queued: number;
  /**
   * Events the full queue refused, over the shop's tabs and reloads, since `analytics`
   * was granted. When full, souk keeps the events it has and refuses new ones.
   */
  dropped: number;
}

/** One card of `<souk-recommendations>`; prices in minor units. */
export interface RecommendationItem {
  id: string;
  name: string;
  price: number;
  currency: string;
  url: string;
  image?: string;
  position?: number;
}

/** What `<souk-recommendations>` paints (souk's runtime calls `render` itself). */
export interface RecommendationsView {
  lang: "en" | "ar";
  title?: string;
  listId: string;
  digits?: "arab" | "latn";
  items: RecommendationItem[];
}

/** The `<souk-recommendations surface="similar|cart|for-you">` element. */
export interface SoukRecommendationsElement extends HTMLElement {
  render(view: RecommendationsView): void;
}

/** The `<souk-loyalty>` element: a launcher and a panel; souk's runtime feeds it. */
export interface SoukLoyaltyElement extends HTMLElement {
  open(): void;
  close(): void;
}

/** The `<souk-chat>` element: a launcher and a chat panel; souk's runtime feeds it. */
export interface SoukChatElement extends HTMLElement {
  open(): void;
  close(): void;
}

declare global {
  interface HTMLElementTagNameMap {
    "souk-recommendations": SoukRecommendationsElement;
    "souk-loyalty": SoukLoyaltyElement;
    "souk-chat": SoukChatElement;
  }
  interface HTMLElementEventMap {
    /** A shopper chose a recommended product (souk records "Product Clicked"). */
    "souk-recommendation-click": CustomEvent<{ id: string; position: number; listId: string }>;
  }
}

/** The page's souk client. */
export declare const souk: Souk;
export default souk;

/** Records a spec event with typed properties: `productAdded(p)` is `souk.track("Product Added", p)`. */
type Helper<E extends keyof EcommerceEvents> = (properties?: EcommerceEvents[E] & Properties) => void;
export declare const productsSearched: Helper<"Products Searched">;
export declare const productListViewed: Helper<"Product List Viewed">;
export declare const productListFiltered: Helper<"Product List Filtered">;
export declare const productClicked: Helper<"Product Clicked">;
export declare const productViewed: Helper<"Product Viewed">;
export declare const productAdded: Helper<"Product Added">;
export declare const productRemoved: Helper<"Product Removed">;
export declare const productAddedToWishlist: Helper<"Product Added to Wishlist">;
export declare const cartViewed: Helper<"Cart Viewed">;
export declare const checkoutStarted: Helper<"Checkout Started">;
export declare const checkoutStepViewed: Helper<"Checkout Step Viewed">;
export declare const checkoutStepCompleted: Helper<"Checkout Step Completed">;
export declare const paymentInfoEntered: Helper<"Payment Info Entered">;
export declare const orderCompleted: Helper<"Order Completed">;
export declare const orderUpdated: Helper<"Order Updated">;
export declare const orderRefunded: Helper<"Order Refunded">;
export declare const orderCancelled: Helper<"Order Cancelled">;
export declare const couponApplied: Helper<"Coupon Applied">;
export declare const promotionViewed: Helper<"Promotion Viewed">;
export declare const promotionClicked: Helper<"Promotion Clicked">;
