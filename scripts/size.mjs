// npm run size: gzip bytes of what a shop's page loads, checked against size-budget.json.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

process.chdir(new URL("..", import.meta.url).pathname);
const gzipped = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
const { groups } = JSON.parse(readFileSync("size-budget.json", "utf8"));

let over = 0;
for (const [name, { files, limit }] of Object.entries(groups)) {
  const sizes = files.map((file) => [file, gzipped(file)]);
  const total = sizes.reduce((sum, [, bytes]) => sum + bytes, 0);
  const verdict = total <= limit ? "ok" : "OVER BUDGET";
  console.log(`${name}: ${total} B gzip of ${limit} B (${verdict})`);
  for (const [file, bytes] of sizes) console.log(`  ${file}: ${bytes} B`);
  if (total > limit) over++;
}
console.log(`npm entry (dist/index.js, before init): ${gzipped("dist/index.js")} B gzip`);
process.exit(over ? 1 : 0);
