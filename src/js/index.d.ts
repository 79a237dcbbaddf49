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
}

/**
 * Errors souk reports to `error` listeners; it never throws into the page.
 * - `SoukConfigError`: `init()` was given a configuration it cannot use.
 * - `SoukEventError`: a call was refused; the message names the field and the problem.
 * - `SoukQueueFull`: too many events are waiting; this one was not recorded.
 */
export interface SoukError extends Error {
  name: "SoukConfigError" | "SoukEventError" | "SoukQueueFull" | "Error";
}

/** What each listener receives. */
export interface SoukEvents {
  /** A `track()` call was recorded. */
  track: (event: string, properties?: Properties) => void;
  /** A `page()` call was recorded. */
  page: (name?: string, properties?: Properties) => void;
  /** A call was refused. */
  error: (error: SoukError) => void;
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
  /** Records a named action, such as "Product Added". */
  track(event: string, properties?: Properties): void;
  /** Listens to souk's events. */
  on<K extends keyof SoukEvents>(event: K, listener: SoukEvents[K]): void;
  /** Stops listening. */
  off<K extends keyof SoukEvents>(event: K, listener: SoukEvents[K]): void;
}

/** The page's souk client. */
export declare const souk: Souk;
export default souk;
