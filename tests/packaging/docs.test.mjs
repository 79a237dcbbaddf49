// The README's examples are the ones shops copy: check they match the build and
// type-check against the published declarations.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, cleanup } from "../e2e/harness.mjs";

const readme = readFileSync(join(ROOT, "README.md"), "utf8");

/** The first fenced block of `lang` after `heading` in the README. */
function example(heading, lang) {
  const from = readme.indexOf(heading);
  assert.ok(from >= 0, `README has ${heading}`);
  const match = readme.slice(from).match(new RegExp("```" + lang + "\\n([\\s\\S]*?)```"));
  assert.ok(match, `README has a ${lang} block under ${heading}`);
  return match[1];
}

test("the README's snippet is the one the build produces", () => {
  const built = readFileSync(join(ROOT, "dist/snippet.min.js"), "utf8").trim();
  assert.ok(example("### The snippet", "html").includes(built), "run npm run build and update the README");
});

test("the README's npm example type-checks against dist/index.d.ts", () => {
  const dir = mkdtempSync(join(tmpdir(), "souk-types-"));
  const misuse = `import { souk } from "souk";\nsouk.track(42);\n`;
  const wrongPrice = `import { souk } from "souk";\nsouk.track("Product Added", { product_id: "p1", price: "abc" });\n`;
  writeFileSync(join(dir, "example.ts"), example("### npm", "js"));
  writeFileSync(join(dir, "misuse.ts"), misuse);
  const tsconfig = (file) => ({
    compilerOptions: {
      strict: true, noEmit: true, target: "es2020", module: "esnext",
      moduleResolution: "bundler", lib: ["es2020", "dom"], paths: { souk: [join(ROOT, "dist/index.d.ts")] },
    },
    files: [join(dir, file)],
  });
  const tsc = (file) => {
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig(file)));
    return execFileSync(join(ROOT, "node_modules/.bin/tsc"), ["-p", dir], { encoding: "utf8" });
  };
  try {
    tsc("example.ts");
    // The declarations must also catch a wrong call, or the check above proves nothing.
    assert.throws(() => tsc("misuse.ts"), (err) => /TS2345|TS2769/.test(err.stdout));
    // A spec event with a price that is not a number does not compile either.
    writeFileSync(join(dir, "wrong-price.ts"), wrongPrice);
    assert.throws(() => tsc("wrong-price.ts"), (err) => /price/.test(err.stdout));
  } finally {
    cleanup(dir);
  }
});

test("the npm package ships every file its exports map and types point at", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const [{ files }] = JSON.parse(
    execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8" }),
  );
  const packed = new Set(files.map((file) => file.path));
  const targets = [pkg.types, ...Object.values(pkg.exports).flatMap((entry) =>
    typeof entry === "string" ? [entry] : Object.values(entry))];
  for (const target of targets) assert.ok(packed.has(target.replace(/^\.\//, "")), `${target} is packed`);
  for (const chunk of ["dist/souk_runtime.js", "dist/souk_bg.wasm"]) assert.ok(packed.has(chunk), `${chunk} is packed`);
  assert.ok(![...packed].some((path) => path.startsWith("src/") || path.startsWith("target/")), "no sources or build dirs");
});
