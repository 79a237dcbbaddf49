// npm run build: the plugin's wasm (cargo → wasm-bindgen → wasm-opt) and its JS
// entries (esbuild), into dist/.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { build } from "esbuild";

const run = (cmd, args) => execFileSync(cmd, args, { stdio: "inherit" });
const bin = (name) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;
process.chdir(new URL("..", import.meta.url).pathname);

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist");

// The features rustc enables by default for wasm32; wasm-opt must be told about them.
const features = ["bulk-memory", "mutable-globals", "multivalue", "nontrapping-float-to-int",
  "reference-types", "sign-ext"].map((f) => `--enable-${f}`);
// Three wasm modules: the plugin's main one (souk), the recommendation scorer
// (souk-recommend), loaded only beside the recommendations widget, and the chat
// client (souk-chat), loaded when the shopper opens the chat. One cargo run each, so
// the others' builds of the core leave out the main module's glue.
for (const [crate, name] of [["souk", "souk"], ["souk-recommend", "souk_recommend"], ["souk-chat", "souk_chat"]]) {
  run("cargo", ["build", "--lib", "-p", crate, "--profile", "wasm", "--target", "wasm32-unknown-unknown"]);
  run("wasm-bindgen", [
    "--target", "web", "--out-dir", "target/wasm-bindgen", "--out-name", name,
    `target/wasm32-unknown-unknown/wasm/${name}.wasm`,
  ]);
  run(bin("wasm-opt"), ["-Oz", ...features, `target/wasm-bindgen/${name}_bg.wasm`, "-o", `dist/${name}_bg.wasm`]);
}

const common = { minify: true, legalComments: "none", target: "es2020", logLevel: "warning" };
await Promise.all([
  // The runtime, loaded by both entries on init(): wasm-bindgen's glue and live.js.
  build({
    ...common, entryPoints: ["src/js/runtime.js"], outfile: "dist/souk_runtime.js", bundle: true, format: "esm",
    alias: { "souk-wasm-glue": "./target/wasm-bindgen/souk.js" },
  }),
  // Script tag: one small classic script.
  build({ ...common, entryPoints: ["src/js/loader.js"], outfile: "dist/souk.js", bundle: true, format: "iife" }),
  // npm: ESM, the glue left as its own chunk.
  build({
    ...common, entryPoints: ["src/js/index.js"], outfile: "dist/index.js", bundle: true,
    format: "esm",
    external: ["./souk_*"],
  }),
  build({ ...common, entryPoints: ["src/js/snippet.js"], outfile: "dist/snippet.min.js" }),
  // Widgets: each its own chunk, loaded on first need.
  build({ ...common, entryPoints: ["src/js/widgets/consent.js"], outfile: "dist/souk_consent.js", bundle: true, format: "esm" }),
  build({
    ...common, entryPoints: ["src/js/widgets/recommendations.js"], outfile: "dist/souk_recommendations.js",
    bundle: true, format: "esm",
  }),
  build({ ...common, entryPoints: ["src/js/widgets/loyalty.js"], outfile: "dist/souk_loyalty.js", bundle: true, format: "esm" }),
  // The chat: the launcher, then on first click the panel and the client's glue.
  build({ ...common, entryPoints: ["src/js/chat-launcher.js"], outfile: "dist/souk_chat_launcher.js", format: "esm" }),
  build({ ...common, entryPoints: ["src/js/chat-panel.js"], outfile: "dist/souk_chat.js", bundle: true, format: "esm" }),
  build({
    ...common, entryPoints: ["target/wasm-bindgen/souk_chat.js"], outfile: "dist/souk_chat_client.js",
    bundle: true, format: "esm",
  }),
  // The scorer's wasm-bindgen glue, loaded with the recommendations widget.
  build({
    ...common, entryPoints: ["target/wasm-bindgen/souk_recommend.js"], outfile: "dist/souk_recommend.js",
    bundle: true, format: "esm",
  }),
]);
copyFileSync("src/js/index.d.ts", "dist/index.d.ts");
console.log("built dist/");
