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
});

export default souk;
