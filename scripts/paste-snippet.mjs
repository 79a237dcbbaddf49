// Puts the current snippet (dist/snippet.min.js, from npm run build) into the demo
// shop's pages, between `<!-- souk -->` and `<!-- /souk -->` (or in place of a
// `<!-- souk:snippet -->` placeholder).
import { readFileSync, readdirSync, writeFileSync } from "node:fs";

process.chdir(new URL("..", import.meta.url).pathname);
const snippet = readFileSync("dist/snippet.min.js", "utf8").trim();
const block = `<!-- souk -->
<script>${snippet}
souk.init({ writeKey: "souk_demo_write_key" });</script>
<!-- /souk -->`;
const old = /<!-- souk:snippet -->|<!-- souk -->[\s\S]*?<!-- \/souk -->/;

for (const name of readdirSync("www").filter((name) => name.endsWith(".html"))) {
  const page = readFileSync(`www/${name}`, "utf8");
  const next = page.replace(old, block);
  if (next !== page) {
    writeFileSync(`www/${name}`, next);
    console.log(`snippet in www/${name}`);
  }
}
