// The runtime chunk (dist/souk_runtime.js), loaded on `init()`: wasm-bindgen's glue
// (its default export instantiates the module) and the live client.
export { default } from "souk-wasm-glue";
export { goLive } from "./live.js";
