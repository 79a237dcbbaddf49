// The npm entry: `import { souk } from "souk"`. The WebAssembly module and its glue
// load on `souk.init()`, as a separate chunk, so importing souk costs the page almost
// nothing until then.
import { pageClient } from "./client.js";

/** The page's souk client; see index.d.ts. */
export const souk = pageClient(async (config) => {
  const glue = await import("./souk_glue.js");
  const wasm = config.publicPath
    ? new URL("souk_bg.wasm", new URL(config.publicPath, location.href))
    : new URL("./souk_bg.wasm", import.meta.url);
  await glue.default({ module_or_path: wasm });
  return glue;
});

export default souk;
