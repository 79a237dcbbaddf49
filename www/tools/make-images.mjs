#!/usr/bin/env node
// Draws the product and category pictures (flat SVG illustrations, each < 2 KB) into
// www/shop/img/ from the `art` hints in tools/products.mjs, plus the hero picture and
// the favicon. Deterministic: running it twice gives the same files.
// Usage: node www/tools/make-images.mjs
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CATEGORIES, PRODUCTS } from "./products.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const www = join(here, "..");
const imgDir = join(www, "shop", "img");
mkdirSync(imgDir, { recursive: true });

// ---- colour helpers -------------------------------------------------------------
function rgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
function hex([r, g, b]) {
  return "#" + [r, g, b].map((v) => Math.max(0, Math.min(255, Math.round(v))).toString(16).padStart(2, "0")).join("");
}
const mix = (a, b, t) => hex(rgb(a).map((v, i) => v + (rgb(b)[i] - v) * t));
const dark = (c, t = 0.25) => mix(c, "#000000", t);
const light = (c, t = 0.35) => mix(c, "#ffffff", t);

// ---- tiny SVG builders ----------------------------------------------------------
const attrs = (o) => Object.entries(o).map(([k, v]) => ` ${k}="${v}"`).join("");
const el = (tag) => (o) => `<${tag}${attrs(o)}/>`;
const rect = el("rect"), circle = el("circle"), ellipse = el("ellipse"), path = el("path"), line = el("line");
const stroke = (d, color, w, extra = {}) =>
  path({ d, fill: "none", stroke: color, "stroke-width": w, "stroke-linecap": "round", "stroke-linejoin": "round", ...extra });
const flame = (x, y, s = 1) =>
  path({ d: `M${x} ${y}c${-5 * s} ${-7 * s} 0 ${-13 * s} 0 ${-17 * s}c0 ${4 * s} ${6 * s} ${9 * s} 0 ${17 * s}z`, fill: "#f6a623" }) +
  path({ d: `M${x} ${y}c${-2 * s} ${-3 * s} 0 ${-6 * s} 0 ${-8 * s}c0 ${2 * s} ${3 * s} ${4 * s} 0 ${8 * s}z`, fill: "#fde68a" });
const leaf = (x, y, rot, color, len = 22) =>
  path({ d: `M0 0q${len / 2} ${-len / 3} ${len} 0q${-len / 2} ${len / 3} ${-len} 0z`, fill: color, transform: `translate(${x} ${y}) rotate(${rot})` });

// Every shape draws on a 200 x 200 canvas with the floor at y = 168.
const SHAPES = {
  kettle: (c, a) =>
    stroke("M72 124Q50 116 46 94", c, 9) +
    stroke("M127 104Q158 114 129 150", dark(c), 8) +
    path({ d: "M68 166L77 98Q100 88 123 98L132 166Z", fill: c }) +
    path({ d: "M82 94Q100 72 118 94Z", fill: dark(c, 0.15) }) +
    circle({ cx: 100, cy: 78, r: 5, fill: a }) +
    rect({ x: 71, y: 150, width: 58, height: 6, fill: a }) +
    [[86, 120], [110, 132], [96, 142], [116, 112], [84, 138]].map(([x, y]) => circle({ cx: x, cy: y, r: 2, fill: "#fff", opacity: 0.7 })).join(""),
  board: (c, a) =>
    path({ d: "M60 166V70a14 14 0 0 1 14-14h52a14 14 0 0 1 14 14v96z", fill: c }) +
    rect({ x: 92, y: 30, width: 16, height: 34, rx: 8, fill: c }) +
    circle({ cx: 100, cy: 42, r: 4, fill: light(a, 0.6) }) +
    stroke("M74 90q26 10 52 0M72 116q28 12 56 0M74 142q26 8 52 0", a, 2.5, { opacity: 0.55 }) +
    leaf(112, 150, -40, "#5c8a4a", 18) + leaf(112, 150, -95, "#6f9d57", 16),
  apron: (c, a) =>
    stroke("M78 60Q64 40 80 28M122 60Q136 40 120 28", dark(c), 4) +
    stroke("M70 100Q44 104 38 126M130 100Q156 104 162 126", dark(c), 4) +
    path({ d: "M78 58h44l8 36q10 4 10 10l-6 62H66l-6-62q0-6 10-10z", fill: c }) +
    rect({ x: 82, y: 118, width: 36, height: 24, rx: 4, fill: a }) +
    line({ x1: 100, y1: 118, x2: 100, y2: 142, stroke: dark(a, 0.2), "stroke-width": 2 }),
  bowl: (c, a) =>
    path({ d: "M40 104A60 56 0 0 0 160 104Z", fill: c }) +
    rect({ x: 80, y: 156, width: 40, height: 10, rx: 3, fill: dark(c, 0.15) }) +
    ellipse({ cx: 100, cy: 104, rx: 60, ry: 10, fill: dark(c, 0.2) }) +
    stroke("M48 118Q100 134 152 118", a, 5),
  jars: (c, a) =>
    [[52, 34, "#b5532a"], [84, 40, "#d9a73a"], [116, 34, "#6f8f3a"]].map(([x, w, fill], i) => {
      const h = [70, 84, 62][i], y = 166 - h;
      return rect({ x, y, width: w, height: h, rx: 6, fill: c, opacity: 0.95 }) +
        rect({ x: x + 3, y: y + h * 0.35, width: w - 6, height: h * 0.65 - 3, rx: 4, fill }) +
        rect({ x: x - 2, y: y - 10, width: w + 4, height: 12, rx: 3, fill: a }) +
        rect({ x: x + 6, y: y + 14, width: w - 12, height: 10, rx: 2, fill: "#fff" });
    }).join(""),
  pan: (c, a) =>
    stroke("M128 118L182 92", a, 12) +
    circle({ cx: 92, cy: 124, r: 46, fill: c }) +
    circle({ cx: 92, cy: 124, r: 36, fill: light(c, 0.12) }) +
    leaf(80, 118, -20, "#5c8a4a", 16) + circle({ cx: 104, cy: 132, r: 9, fill: "#f2c14e" }),
  spoons: (c, a) =>
    circle({ cx: 100, cy: 52, r: 10, fill: "none", stroke: dark(c), "stroke-width": 4 }) +
    [[-30, 16], [-10, 13], [10, 11], [30, 9]].map(([rot, r]) =>
      `<g transform="rotate(${rot} 100 52)">${rect({ x: 97, y: 60, width: 6, height: 60, rx: 3, fill: c })}${ellipse({ cx: 100, cy: 120 + r, rx: r, ry: r * 1.2, fill: c })}${ellipse({ cx: 100, cy: 120 + r, rx: r * 0.6, ry: r * 0.8, fill: light(c, 0.25) })}</g>`).join(""),
  press: (c, a) =>
    stroke("M128 92h18v56h-18", a, 8) +
    rect({ x: 70, y: 80, width: 60, height: 86, rx: 6, fill: "#dfeef0", opacity: 0.9 }) +
    rect({ x: 74, y: 104, width: 52, height: 58, rx: 4, fill: c }) +
    rect({ x: 66, y: 68, width: 68, height: 14, rx: 4, fill: a }) +
    rect({ x: 97, y: 44, width: 6, height: 26, fill: a }) + circle({ cx: 100, cy: 42, r: 7, fill: a }) +
    rect({ x: 66, y: 160, width: 68, height: 8, rx: 3, fill: a }),
  plate: (c, a) =>
    circle({ cx: 100, cy: 108, r: 62, fill: c }) +
    circle({ cx: 100, cy: 108, r: 44, fill: light(c, 0.25) }) +
    circle({ cx: 100, cy: 108, r: 56, fill: "none", stroke: a, "stroke-width": 2, "stroke-dasharray": "3 6" }),
  teaglass: (c, a) =>
    [[58, 0], [106, 10]].map(([x, dy]) =>
      path({ d: `M${x} ${84 + dy}h36q-2 26-10 36q8 10 8 ${46 - dy}h-32q0-${36 - dy} 8-46q-8-10-10-36z`, fill: "#f4fbfa", stroke: "#8fb3ad", "stroke-width": 2 }) +
      path({ d: `M${x + 4} ${100 + dy}h28q-2 12-8 20q7 10 7 ${42 - dy}h-26q0-${32 - dy} 7-42q-6-8-8-20z`, fill: c }) +
      rect({ x: x - 1, y: 82 + dy, width: 38, height: 4, rx: 2, fill: a })).join(""),
  mug: (c, a) =>
    stroke("M130 96h8a18 18 0 0 1 0 36h-8", dark(c, 0.12), 10) +
    rect({ x: 62, y: 76, width: 72, height: 90, rx: 12, fill: c }) +
    ellipse({ cx: 98, cy: 80, rx: 32, ry: 5, fill: dark(c, 0.1) }) +
    [[76, 100], [92, 120], [110, 96], [120, 140], [84, 148], [104, 150], [118, 116]].map(([x, y]) => circle({ cx: x, cy: y, r: 2.2, fill: a })).join("") +
    stroke("M90 60q-6-10 0-18M106 62q-6-10 0-18", "#ffffff", 3, { opacity: 0.8 }),
  teapot: (c, a) =>
    stroke("M66 124Q42 118 38 96", c, 10) +
    stroke("M136 104q26 8 4 42", dark(c, 0.15), 9) +
    ellipse({ cx: 100, cy: 126, rx: 42, ry: 40, fill: c }) +
    path({ d: "M76 92q24-22 48 0z", fill: dark(c, 0.12) }) + circle({ cx: 100, cy: 78, r: 6, fill: a }) +
    stroke("M62 126q38 16 76 0", a, 5) + rect({ x: 76, y: 162, width: 48, height: 6, rx: 3, fill: dark(c, 0.2) }),
  cutlery: (c, a) =>
    rect({ x: 60, y: 92, width: 8, height: 76, rx: 4, fill: c }) + path({ d: "M52 40v36q0 14 12 16q12-2 12-16V40h-4v30h-4V40h-4v30h-4V40h-4v30h-4V40z", fill: c }) +
    path({ d: "M96 168V40q18 16 14 64h-6v64z", fill: c }) + rect({ x: 96, y: 104, width: 8, height: 64, rx: 4, fill: dark(c, 0.1) }) +
    ellipse({ cx: 140, cy: 62, rx: 13, ry: 22, fill: c }) + rect({ x: 136, y: 80, width: 8, height: 88, rx: 4, fill: c }) +
    ellipse({ cx: 140, cy: 62, rx: 8, ry: 15, fill: light(c, 0.25) }),
  tray: (c, a) =>
    ellipse({ cx: 100, cy: 128, rx: 74, ry: 30, fill: dark(c, 0.2) }) +
    ellipse({ cx: 100, cy: 122, rx: 72, ry: 28, fill: c }) + ellipse({ cx: 100, cy: 122, rx: 62, ry: 21, fill: light(c, 0.15) }) +
    [[70, 118], [84, 126], [98, 116], [80, 110], [94, 130]].map(([x, y]) => ellipse({ cx: x, cy: y, rx: 9, ry: 5, fill: a, transform: `rotate(-20 ${x} ${y})` })).join("") +
    path({ d: "M118 98h28l-4 22h-20z", fill: "#f7f3ea" }) + rect({ x: 118, y: 98, width: 28, height: 3, fill: "#c9a24a" }),
  finjan: (c, a) =>
    [[36, 112], [78, 96], [120, 112]].map(([x, y]) =>
      path({ d: `M${x} ${y}h44l-8 48h-28z`, fill: c, stroke: "#b9ab8f", "stroke-width": 2 }) +
      rect({ x: x - 1, y, width: 46, height: 5, fill: a }) + stroke(`M${x + 10} ${y + 22}l6 7l6-7l6 7l6-7`, a, 2.5)).join(""),
  lamp: (c, a) =>
    ellipse({ cx: 100, cy: 164, rx: 30, ry: 6, fill: dark(c, 0.2) }) + rect({ x: 96, y: 92, width: 8, height: 72, fill: c }) +
    ellipse({ cx: 100, cy: 140, rx: 18, ry: 22, fill: c }) +
    path({ d: "M66 96l12-56h44l12 56z", fill: a }) + rect({ x: 66, y: 94, width: 68, height: 5, fill: dark(a, 0.12) }) +
    path({ d: "M70 100l-16 58h92l-16-58z", fill: "#fff3c4", opacity: 0.45 }),
  lantern: (c, a) =>
    circle({ cx: 100, cy: 118, r: 52, fill: a, opacity: 0.22 }) +
    stroke("M100 30v14", c, 4) + circle({ cx: 100, cy: 28, r: 6, fill: "none", stroke: c, "stroke-width": 3 }) +
    path({ d: "M100 44l30 30H70z", fill: c }) + rect({ x: 72, y: 74, width: 56, height: 82, rx: 4, fill: c }) +
    rect({ x: 80, y: 84, width: 40, height: 62, rx: 20, fill: a }) + rect({ x: 66, y: 154, width: 68, height: 12, rx: 3, fill: dark(c) }) +
    [[90, 96], [110, 96], [100, 110], [90, 124], [110, 124], [100, 138]].map(([x, y]) => circle({ cx: x, cy: y, r: 3, fill: c })).join(""),
  pendant: (c, a) =>
    stroke("M100 0v58", "#3b3b3b", 3) + rect({ x: 94, y: 54, width: 12, height: 10, fill: "#3b3b3b" }) +
    path({ d: "M44 128a56 62 0 0 1 112 0z", fill: c }) +
    stroke("M60 92q40 14 80 0M50 110q50 14 100 0M76 70q24 8 48 0", a, 2.5) +
    stroke("M70 128q0-40 30-62M130 128q0-40-30-62M100 66v62", a, 2) +
    path({ d: "M56 130h88l22 38H34z", fill: "#fff3c4", opacity: 0.5 }),
  stringlights: (c, a) =>
    stroke("M20 60q40 40 80 10t80 10M20 120q40 40 80 10t80 10", c, 2.5) +
    [[34, 74], [58, 82], [84, 76], [110, 66], [136, 68], [162, 76], [34, 134], [58, 142], [84, 136], [110, 126], [136, 128], [162, 136]]
      .map(([x, y]) => circle({ cx: x, cy: y + 6, r: 8, fill: a, opacity: 0.35 }) + circle({ cx: x, cy: y + 6, r: 4.5, fill: light(a, 0.3) })).join(""),
  candle: (c, a) =>
    circle({ cx: 100, cy: 56, r: 26, fill: "#fde68a", opacity: 0.35 }) +
    rect({ x: 72, y: 74, width: 56, height: 92, rx: 6, fill: c }) +
    path({ d: "M72 84q8 10 14 0q8 14 14 0q8 10 14 0q8 12 14 0v-4q0-6-6-6H78q-6 0-6 6z", fill: light(c, 0.3) }) +
    stroke("M100 74v-8", "#3b3b3b", 2) + flame(100, 66, 1.2) +
    stroke("M80 108h40M80 124h40M80 140h40", dark(c, 0.08), 1.5),
  tealight: (c, a) =>
    [[46, c], [86, "#8a8f94"], [126, a]].map(([x, col]) =>
      rect({ x, y: 116, width: 30, height: 50, rx: 5, fill: col, opacity: 0.8 }) +
      rect({ x: x + 5, y: 124, width: 20, height: 8, rx: 2, fill: "#fff" }) + flame(x + 15, 120, 0.8)).join(""),
  floorlamp: (c, a) =>
    stroke("M100 86v70M100 156l-22 12M100 156l22 12M100 156v12", c, 5) +
    path({ d: "M70 88l8-56h44l8 56z", fill: a }) +
    stroke("M82 38l-4 48M94 36l-1 50M106 36l1 50M118 38l4 48", dark(a, 0.1), 1.5) +
    path({ d: "M72 90l-18 70h92l-18-70z", fill: "#fff3c4", opacity: 0.4 }),
  cushion: (c, a) =>
    path({ d: "M44 64q56-16 112 0q-10 48 0 96q-56 14-112 0q10-48 0-96z", fill: c }) +
    path({ d: "M58 96l14 16l14-16l14 16l14-16l14 16l14-16M58 126l14-16l14 16l14-16l14 16l14-16l14 16", fill: "none", stroke: a, "stroke-width": 4, "stroke-linejoin": "round" }) +
    rect({ x: 54, y: 136, width: 92, height: 6, fill: a, opacity: 0.8 }) + rect({ x: 54, y: 80, width: 92, height: 6, fill: a, opacity: 0.8 }),
  throw: (c, a) =>
    rect({ x: 42, y: 126, width: 116, height: 40, rx: 6, fill: dark(c, 0.1) }) +
    rect({ x: 42, y: 98, width: 116, height: 32, rx: 6, fill: c }) + rect({ x: 42, y: 70, width: 116, height: 32, rx: 6, fill: light(c, 0.15) }) +
    stroke("M42 86h116M42 114h116M42 146h116", a, 3) +
    stroke("M158 76h8M158 84h8M158 92h8M158 104h8M158 112h8M158 120h8", dark(c), 2),
  towel: (c, a) =>
    rect({ x: 46, y: 118, width: 108, height: 48, rx: 6, fill: c, stroke: dark(c, 0.08), "stroke-width": 2 }) +
    rect({ x: 52, y: 72, width: 96, height: 48, rx: 6, fill: c, stroke: dark(c, 0.08), "stroke-width": 2 }) +
    rect({ x: 52, y: 100, width: 96, height: 8, fill: a }) + rect({ x: 46, y: 146, width: 108, height: 8, fill: a }) +
    rect({ x: 52, y: 112, width: 96, height: 3, fill: a }),
  runner: (c, a) =>
    `<g transform="rotate(-24 100 110)">${rect({ x: 10, y: 86, width: 180, height: 48, fill: c })}${stroke("M24 86v48M176 86v48", a, 2, { "stroke-dasharray": "2 3" })}${stroke("M10 92h-6M10 100h-6M10 108h-6M10 116h-6M10 124h-6M190 92h6M190 100h6M190 108h6M190 116h6M190 124h6", dark(c, 0.2), 2)}</g>`,
  rug: (c, a) =>
    rect({ x: 40, y: 44, width: 120, height: 120, fill: c }) +
    [60, 84, 108, 132].map((y, i) => rect({ x: 40, y, width: 120, height: i % 2 ? 6 : 12, fill: a })).join("") +
    stroke("M48 44v-8M62 44v-8M76 44v-8M90 44v-8M104 44v-8M118 44v-8M132 44v-8M146 44v-8", dark(c, 0.2), 2),
  napkins: (c, a) =>
    path({ d: "M46 150l54-30l54 30l-54 20z", fill: dark(c, 0.1) }) + path({ d: "M46 134l54-30l54 30l-54 20z", fill: c }) +
    path({ d: "M46 118l54-30l54 30l-54 20z", fill: a }) + path({ d: "M46 102l54-30l54 30l-54 20z", fill: light(c, 0.2) }) +
    ellipse({ cx: 100, cy: 102, rx: 12, ry: 6, fill: "none", stroke: "#b8913f", "stroke-width": 4 }),
  tote: (c, a) =>
    stroke("M74 80q0-44 26-44t26 44", dark(c, 0.25), 6) +
    path({ d: "M56 78h88l6 88H50z", fill: c }) +
    stroke("M100 160V102", a, 3) + [0, 1, 2, 3].map((i) => leaf(100, 108 + i * 13, -35, a, 20) + leaf(100, 108 + i * 13, 215, a, 20)).join(""),
  notebook: (c, a) =>
    rect({ x: 58, y: 42, width: 88, height: 122, rx: 6, fill: light(c, 0.7) }) + rect({ x: 54, y: 38, width: 88, height: 122, rx: 6, fill: c }) +
    rect({ x: 54, y: 38, width: 14, height: 122, fill: dark(c, 0.15) }) + rect({ x: 124, y: 38, width: 6, height: 122, fill: a }) +
    rect({ x: 80, y: 64, width: 34, height: 20, rx: 3, fill: "#f8f4ea" }),
  pen: (c, a) =>
    `<g transform="rotate(-40 100 104)">${rect({ x: 88, y: 20, width: 24, height: 104, rx: 10, fill: c })}${rect({ x: 88, y: 70, width: 24, height: 6, fill: dark(c, 0.25) })}${rect({ x: 108, y: 26, width: 4, height: 36, fill: dark(c, 0.2) })}${path({ d: "M90 124h20l-10 46z", fill: "#c9ced3" })}${stroke("M100 134v20", a, 2)}</g>` +
    stroke("M52 160q20-10 40 0t40 0", a, 3),
  cards: (c, a) =>
    `<g transform="rotate(-8 100 110)">${rect({ x: 40, y: 90, width: 110, height: 70, rx: 3, fill: a })}${path({ d: "M40 90l55 40l55-40", fill: "none", stroke: dark(a, 0.15), "stroke-width": 2 })}</g>` +
    `<g transform="rotate(6 110 90)">${rect({ x: 72, y: 40, width: 76, height: 96, rx: 3, fill: "#fffdf7" })}${circle({ cx: 110, cy: 78, r: 20, fill: c })}${path({ d: "M110 70l4 8l8 1l-6 5l2 8l-8-4l-8 4l2-8l-6-5l8-1z", fill: "#fffdf7" })}${stroke("M92 112h36M98 120h24", dark(c), 2)}</g>`,
  planner: (c, a) =>
    rect({ x: 46, y: 52, width: 108, height: 114, rx: 6, fill: c, stroke: dark(c, 0.12), "stroke-width": 2 }) +
    rect({ x: 46, y: 52, width: 108, height: 18, rx: 6, fill: a }) +
    [60, 76, 92, 108, 124, 140].map((x) => circle({ cx: x, cy: 52, r: 3, fill: "#3b3b3b" })).join("") +
    [86, 106, 126, 146].map((y, i) => rect({ x: 58, y: y - 6, width: 10, height: 10, rx: 2, fill: "none", stroke: a, "stroke-width": 2 }) + stroke(`M76 ${y - 1}h${60 - i * 8}`, dark(c, 0.3), 3)).join("") +
    stroke("M59 80l4 4l6-8", a, 2.5),
  calligraphy: (c, a) =>
    rect({ x: 36, y: 98, width: 96, height: 66, rx: 3, fill: "#fbf6ea", transform: "rotate(-6 84 130)" }) +
    stroke("M52 132q14-14 28 0t28-4M56 146q20-8 40 0", c, 4) +
    path({ d: "M124 130h36l-4 36h-28z", fill: c }) + rect({ x: 132, y: 122, width: 20, height: 10, rx: 2, fill: dark(c, 0.2) }) +
    stroke("M150 124L178 44", a, 6) + path({ d: "M150 124l-3-4l5 0z", fill: "#3b3b3b" }),
  palette: (c, a) =>
    rect({ x: 34, y: 70, width: 132, height: 90, rx: 8, fill: c }) + rect({ x: 40, y: 76, width: 120, height: 78, rx: 5, fill: "#f6f3ec" }) +
    ["#e0574f", "#f2b84b", "#f7e06b", "#6fb35b", "#3f9a8b", "#3f7dbf", "#6b5bb8", "#c76b7e", "#8a5a32", "#2e3236", "#f09a5b", "#9fd0e0"]
      .map((f, i) => rect({ x: 48 + (i % 6) * 18, y: 86 + Math.floor(i / 6) * 30, width: 14, height: 22, rx: 3, fill: f })).join("") +
    stroke("M120 56l40-30", "#8a5a32", 5) + path({ d: "M116 60l8-8l6 6l-10 6z", fill: a }),
  wrap: (c, a) =>
    rect({ x: 30, y: 96, width: 130, height: 50, fill: c }) + ellipse({ cx: 160, cy: 121, rx: 12, ry: 25, fill: dark(c, 0.12) }) +
    ellipse({ cx: 160, cy: 121, rx: 5, ry: 10, fill: dark(c, 0.35) }) +
    [[50, 108], [76, 128], [102, 108], [128, 130], [60, 136], [116, 114]].map(([x, y]) => path({ d: `M${x} ${y - 5}l1.5 3.5l3.5 1.5l-3.5 1.5l-1.5 3.5l-1.5-3.5l-3.5-1.5l3.5-1.5z`, fill: a })).join("") +
    circle({ cx: 60, cy: 160, r: 8, fill: "#e9dcc0", stroke: "#b8a27a", "stroke-width": 3 }) + stroke("M68 160q30 4 40-14", "#b8a27a", 2),
  seal: (c, a) =>
    path({ d: "M60 128q-4-26 22-30q18-14 36 0q26 4 22 30q8 22-18 30q-22 12-44 0q-26-8-18-30z", fill: c }) +
    circle({ cx: 100, cy: 128, r: 24, fill: dark(c, 0.12) }) +
    path({ d: "M106 114a16 16 0 1 0 0 28a13 13 0 1 1 0-28z", fill: light(c, 0.3) }) +
    rect({ x: 136, y: 40, width: 20, height: 56, rx: 10, fill: "#6b4a2b" }) + rect({ x: 132, y: 92, width: 28, height: 14, rx: 3, fill: a }),
  pot: (c, a) =>
    leaf(100, 96, -100, a, 44) + leaf(100, 96, -60, light(a, 0.15), 40) + leaf(100, 96, -140, dark(a, 0.1), 40) + leaf(100, 96, -20, a, 34) + leaf(100, 96, -165, light(a, 0.1), 32) +
    path({ d: "M66 110h68l-10 56H76z", fill: c }) + rect({ x: 60, y: 100, width: 80, height: 16, rx: 3, fill: dark(c, 0.1) }),
  wateringcan: (c, a) =>
    stroke("M76 86q24-40 48 0", dark(c, 0.2), 7) + stroke("M60 140L28 88", c, 8) + rect({ x: 20, y: 78, width: 16, height: 14, rx: 3, fill: a, transform: "rotate(-30 28 85)" }) +
    path({ d: "M62 92h76v66q0 8-8 8H70q-8 0-8-8z", fill: c }) + rect({ x: 62, y: 104, width: 76, height: 5, fill: dark(c, 0.12) }) +
    stroke("M138 104q24 6 8 42", dark(c, 0.2), 7),
  seeds: (c, a) =>
    `<g transform="rotate(-8 80 110)">${rect({ x: 44, y: 60, width: 64, height: 96, rx: 4, fill: c })}${rect({ x: 44, y: 60, width: 64, height: 14, fill: dark(c, 0.15) })}${leaf(60, 120, -50, a, 30)}${leaf(76, 114, 220, a, 26)}${stroke("M76 140v-28", a, 3)}</g>` +
    `<g transform="rotate(10 130 110)">${rect({ x: 100, y: 66, width: 64, height: 96, rx: 4, fill: "#f6efe0" })}${rect({ x: 100, y: 66, width: 64, height: 14, fill: a })}${circle({ cx: 132, cy: 120, r: 16, fill: "#e0574f" })}${leaf(132, 104, -80, a, 14)}</g>`,
  hanging: (c, a) =>
    circle({ cx: 100, cy: 24, r: 8, fill: "none", stroke: dark(c, 0.25), "stroke-width": 4 }) +
    stroke("M96 32L70 110M104 32l26 78M100 32v78M84 72l16 12l16-12", dark(c, 0.15), 3) +
    path({ d: "M70 108h60l-8 40H78z", fill: "#c4673f" }) +
    leaf(80, 110, -120, a, 30) + leaf(118, 110, -60, a, 30) + stroke("M86 146q-12 18-4 24M114 146q10 14 4 22", a, 3) + leaf(82, 166, 120, light(a, 0.2), 14) + leaf(118, 164, 60, light(a, 0.2), 14),
  shears: (c, a) =>
    path({ d: "M100 106L60 34q20 4 40 50z", fill: a }) + path({ d: "M100 106L140 34q-20 4-40 50z", fill: light(a, 0.2) }) +
    circle({ cx: 100, cy: 104, r: 6, fill: dark(a, 0.3) }) +
    path({ d: "M96 110l-28 54q10 6 16-2l18-48z", fill: c }) + path({ d: "M104 110l28 54q-10 6-16-2l-18-48z", fill: dark(c, 0.12) }),
  birdhouse: (c, a) =>
    stroke("M100 16v22", "#5a4636", 3) + path({ d: "M56 80l44-40l44 40z", fill: a }) +
    rect({ x: 64, y: 78, width: 72, height: 74, fill: c }) + circle({ cx: 100, cy: 104, r: 12, fill: dark(c, 0.5) }) +
    stroke("M100 126v10", dark(c, 0.4), 4) + rect({ x: 56, y: 150, width: 88, height: 10, rx: 3, fill: dark(c, 0.2) }) +
    [[70, 148], [80, 146], [122, 147]].map(([x, y]) => circle({ cx: x, cy: y, r: 2.5, fill: "#e9c46a" })).join(""),
  stacker: (c, a) =>
    rect({ x: 68, y: 156, width: 64, height: 12, rx: 4, fill: "#c99a5b" }) + rect({ x: 96, y: 44, width: 8, height: 114, rx: 4, fill: "#c99a5b" }) +
    [["#e0574f", 56], ["#f09a5b", 50], [a, 44], ["#6fb35b", 38], ["#3f9a8b", 32], ["#3f7dbf", 26], ["#8a7bb8", 20]]
      .map(([f, rx], i) => ellipse({ cx: 100, cy: 146 - i * 14, rx: rx * 0.8, ry: 8, fill: i === 0 ? c : f })).join("") + circle({ cx: 100, cy: 44, r: 9, fill: "#c99a5b" }),
  camel: (c, a) =>
    stroke("M72 136v28M86 138v28M118 138v28M132 136v28", dark(c, 0.15), 9) +
    ellipse({ cx: 102, cy: 122, rx: 40, ry: 24, fill: c }) + ellipse({ cx: 102, cy: 100, rx: 22, ry: 18, fill: c }) +
    path({ d: "M134 118q12-40 10-60q10-8 22-2q4 8-6 10q-6 20-14 52z", fill: c }) +
    circle({ cx: 156, cy: 60, r: 2.5, fill: "#2e2e2e" }) + rect({ x: 86, y: 104, width: 34, height: 10, rx: 3, fill: a }) +
    stroke("M64 118q-8 6-6 18", dark(c, 0.15), 4),
  boat: (c, a) =>
    stroke("M20 160q20-8 40 0t40 0t40 0t40 0", "#4f8fbf", 4) +
    path({ d: "M34 132h132l-20 24H58z", fill: c }) + rect({ x: 34, y: 128, width: 132, height: 6, fill: dark(c, 0.2) }) +
    stroke("M100 132V40", "#5a4636", 4) + path({ d: "M104 44q52 36 46 84H104z", fill: a }) + path({ d: "M96 62q-40 30-36 66h36z", fill: light(a, 0.1), opacity: 0.9 }),
  blocks: (c, a) => {
    const cube = (x, y, s, f1, f2, f3, mark) =>
      path({ d: `M${x} ${y}l${s} ${-s / 2}l${s} ${s / 2}l${-s} ${s / 2}z`, fill: f1 }) +
      path({ d: `M${x} ${y}v${s}l${s} ${s / 2}v${-s}z`, fill: f2 }) +
      path({ d: `M${x + s} ${y + s / 2}v${s}l${s} ${-s / 2}v${-s}z`, fill: f3 }) + mark(x, y, s);
    return cube(40, 120, 32, light(c, 0.3), c, dark(c, 0.15), (x, y, s) => circle({ cx: x + s / 2, cy: y + s * 0.8, r: 6, fill: "#fff" })) +
      cube(104, 120, 32, light(a, 0.3), a, dark(a, 0.15), (x, y, s) => rect({ x: x + s * 1.3, y: y + s * 0.7, width: 10, height: 10, fill: "#fff" })) +
      cube(72, 72, 32, light("#e0574f", 0.3), "#e0574f", dark("#e0574f", 0.15), (x, y, s) => path({ d: `M${x + s / 2} ${y + s * 0.5}l6 12h-12z`, fill: "#fff" }));
  },
  kite: (c, a) =>
    path({ d: "M100 22l40 50l-40 70l-40-70z", fill: c }) + path({ d: "M100 22l40 50H60z", fill: a }) +
    stroke("M100 22v120M60 72h80", dark(c, 0.3), 2) +
    stroke("M100 142q-16 12 0 22t-8 18", "#5a4636", 2) +
    [[92, 154, "#f2b84b"], [100, 170, a]].map(([x, y, f]) => path({ d: `M${x - 7} ${y - 5}l14 10M${x - 7} ${y + 5}l14-10`, stroke: f, "stroke-width": 4, "stroke-linecap": "round" })).join(""),
  puzzle: (c, a) => {
    const piece = (x, y, f, rot) =>
      path({ d: "M0 0h18a8 8 0 1 1 16 0h18v18a8 8 0 1 0 0 16v18h-18a8 8 0 1 1-16 0H0v-18a8 8 0 1 0 0-16z", fill: f, transform: `translate(${x} ${y}) rotate(${rot} 26 26)` });
    return piece(46, 56, c, 0) + piece(104, 60, a, 10) + piece(60, 112, "#e0574f", -12) + piece(114, 116, light(c, 0.3), 6);
  },
  top: (c, a) =>
    [[58, 128, 0.8, c], [142, 128, 0.8, "#f2b84b"], [100, 112, 1.1, a]].map(([x, y, s, f]) =>
      `<g transform="translate(${x} ${y}) scale(${s})">${rect({ x: -4, y: -52, width: 8, height: 22, rx: 3, fill: "#8a5a32" })}${path({ d: "M-30-30h60q0 20-30 60q-30-40-30-60z", fill: f })}${rect({ x: -30, y: -34, width: 60, height: 8, rx: 4, fill: dark(f, 0.2) })}${stroke("M-22-14h44", "#fff", 3)}</g>`).join(""),
  mobile: (c, a) =>
    stroke("M100 14v20M44 36h112", "#5a4636", 3) + stroke("M52 36v44M100 36v70M148 36v50", "#8a8f94", 1.5) +
    ellipse({ cx: 52, cy: 96, rx: 20, ry: 13, fill: c }) + ellipse({ cx: 48, cy: 82, rx: 7, ry: 8, fill: c }) + stroke("M66 94q6-10 6-20", c, 5) +
    path({ d: "M100 106l6 12l13 2l-10 9l3 13l-12-7l-12 7l3-13l-10-9l13-2z", fill: "#f2b84b" }) +
    stroke("M148 86v42", "#8a5a32", 4) + leaf(148, 88, -150, a, 22) + leaf(148, 88, -30, a, 22) + leaf(148, 88, -90, dark(a, 0.1), 18),
  candlejar: (c, a) =>
    circle({ cx: 100, cy: 72, r: 24, fill: "#fde68a", opacity: 0.35 }) +
    rect({ x: 66, y: 90, width: 68, height: 76, rx: 10, fill: c }) +
    stroke("M78 96v64M90 96v64M102 96v64M114 96v64M126 96v64", light(c, 0.12), 3) +
    rect({ x: 76, y: 118, width: 48, height: 26, rx: 3, fill: a }) + rect({ x: 66, y: 90, width: 68, height: 8, rx: 4, fill: light(c, 0.25) }) +
    stroke("M100 90v-6", "#3b3b3b", 2) + flame(100, 84, 1),
  diffuser: (c, a) =>
    stroke("M94 96L70 30M98 96L92 24M102 96l18-66M106 96l34-54", "#6b4a2b", 3) +
    path({ d: "M70 112q0-16 30-16t30 16v46q0 8-8 8H78q-8 0-8-8z", fill: c, opacity: 0.9 }) +
    rect({ x: 86, y: 90, width: 28, height: 10, rx: 2, fill: a }) + rect({ x: 80, y: 124, width: 40, height: 24, rx: 3, fill: "#fbf6ea" }) +
    circle({ cx: 100, cy: 136, r: 5, fill: c }),
  bakhoor: (c, a) =>
    path({ d: "M58 110h84l-6 56H64z", fill: c }) + path({ d: "M62 110q38-44 76 0z", fill: dark(c, 0.15) }) +
    circle({ cx: 100, cy: 80, r: 7, fill: a }) + rect({ x: 58, y: 106, width: 84, height: 8, rx: 3, fill: a }) +
    stroke("M74 132l8 8l8-8l8 8l8-8l8 8l8-8", a, 3) +
    [[38, 158], [46, 162], [154, 160], [162, 156], [148, 164]].map(([x, y]) => ellipse({ cx: x, cy: y, rx: 6, ry: 3, fill: "#5a3a22", transform: `rotate(25 ${x} ${y})` })).join(""),
  burner: (c, a) =>
    stroke("M100 70q-12-14 0-26t0-26M110 72q10-12 0-22", "#9aa0a6", 3, { opacity: 0.8 }) +
    path({ d: "M66 74h68l-8 40H74z", fill: c }) + rect({ x: 62, y: 70, width: 76, height: 8, rx: 2, fill: dark(c, 0.15) }) +
    path({ d: "M82 114h36l-6 20H88z", fill: dark(c, 0.1) }) + path({ d: "M74 134h52l10 32H64z", fill: c }) +
    stroke("M80 92h40M84 102h32", dark(c, 0.25), 2) + circle({ cx: 100, cy: 150, r: 6, fill: a }),
  soap: (c, a) =>
    rect({ x: 44, y: 108, width: 112, height: 58, rx: 16, fill: dark(c, 0.12) }) + rect({ x: 44, y: 100, width: 112, height: 56, rx: 16, fill: c }) +
    rect({ x: 84, y: 100, width: 34, height: 66, fill: a }) + leaf(92, 134, -60, "#6f8f3a", 16) + leaf(104, 134, -120, "#6f8f3a", 16) +
    circle({ cx: 146, cy: 82, r: 6, fill: "#fff", opacity: 0.8 }) + circle({ cx: 158, cy: 70, r: 4, fill: "#fff", opacity: 0.8 }),
  perfume: (c, a) =>
    rect({ x: 88, y: 44, width: 24, height: 22, rx: 3, fill: a }) + rect({ x: 94, y: 64, width: 12, height: 10, fill: "#c9a24a" }) +
    path({ d: "M66 92l14-18h40l14 18v66q0 8-8 8H74q-8 0-8-8z", fill: c }) +
    path({ d: "M80 74h40l14 18H66z", fill: light(c, 0.25) }) + rect({ x: 80, y: 116, width: 40, height: 26, rx: 2, fill: "#fbf6ea" }) +
    stroke("M88 129h24", a, 2),
  spray: (c, a) =>
    rect({ x: 92, y: 54, width: 16, height: 18, fill: "#3b3b3b" }) + path({ d: "M108 58h18v8h-18z", fill: "#3b3b3b" }) +
    stroke("M132 62h10M132 54l8-4M132 70l8 4", "#9aa0a6", 2) +
    rect({ x: 86, y: 70, width: 28, height: 10, rx: 2, fill: "#c9a24a" }) +
    rect({ x: 70, y: 80, width: 60, height: 86, rx: 12, fill: c }) + rect({ x: 80, y: 104, width: 40, height: 40, rx: 4, fill: a }) +
    circle({ cx: 100, cy: 124, r: 8, fill: "#fff", stroke: c, "stroke-width": 3 }),
  oils: (c, a) =>
    [[48, "#8a7bb8"], [86, "#5c9a8a"], [124, "#f09a5b"]].map(([x, lab], i) => {
      const h = [60, 70, 56][i];
      return rect({ x: x + 8, y: 166 - h - 30, width: 12, height: 18, rx: 2, fill: "#2e2e2e" }) + circle({ cx: x + 14, cy: 166 - h - 32, r: 6, fill: "#2e2e2e" }) +
        rect({ x, y: 166 - h - 14, width: 28, height: h + 14, rx: 5, fill: c }) + rect({ x: x + 3, y: 166 - h + 10, width: 22, height: 20, rx: 2, fill: lab });
    }).join(""),
};

// ---- picture frame ----------------------------------------------------------------
function picture(bg, shape, main, accent, seed) {
  const draw = SHAPES[shape];
  if (!draw) throw new Error(`no shape ${shape}`);
  const dx = [150, 44, 156, 52, 140, 60][seed % 6];
  const dy = [44, 50, 150, 40, 56, 152][seed % 6];
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" width="400" height="400">` +
    rect({ width: 200, height: 200, fill: bg }) +
    circle({ cx: dx, cy: dy, r: 46, fill: light(bg, 0.45) }) +
    ellipse({ cx: 100, cy: 168, rx: 70, ry: 7, fill: dark(bg, 0.08) }) +
    draw(main, accent) + `</svg>\n`;
}

let biggest = 0;
const write = (name, svg) => {
  if (svg.length > 2048) throw new Error(`${name} is ${svg.length} bytes (limit 2048)`);
  biggest = Math.max(biggest, svg.length);
  writeFileSync(join(imgDir, name), svg);
};

PRODUCTS.forEach((p, i) => {
  const id = "p" + String(i + 1).padStart(3, "0");
  const cat = CATEGORIES.find((c) => c.slug === p.category);
  const [shape, main, accent] = p.art;
  write(`${id}.svg`, picture(cat.bg, shape, main, accent, i));
});
CATEGORIES.forEach((c, i) => {
  const [shape, main, accent] = c.art;
  write(`cat-${c.slug}.svg`, picture(c.bg, shape, main, accent, i + 3));
});

// Hero: a little still life (lamp, plant, mug, cushion) on a shelf. Allowed to be larger.
const g = (x, y, s, inner) => `<g transform="translate(${x} ${y}) scale(${s})">${inner}</g>`;
const hero = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 600 440" width="600" height="440">` +
  rect({ width: 600, height: 440, fill: "#efe3d0" }) +
  path({ d: "M170 440V190a130 130 0 0 1 260 0v250z", fill: "#e4d2b8" }) +
  circle({ cx: 470, cy: 90, r: 38, fill: "#f4c76a" }) +
  rect({ x: 0, y: 360, width: 600, height: 80, fill: "#d9c3a2" }) +
  rect({ x: 0, y: 352, width: 600, height: 10, fill: "#b9976b" }) +
  g(60, 176, 1.0, SHAPES.lamp("#b8863b", "#1e5b57")) +
  g(200, 196, 0.85, SHAPES.pot("#c4673f", "#3f8a4f")) +
  g(300, 212, 0.75, SHAPES.mug("#f3ece0", "#54636b")) +
  g(380, 180, 0.95, SHAPES.cushion("#a8324a", "#f7e6c4")) +
  `</svg>\n`;
writeFileSync(join(imgDir, "hero.svg"), hero);

// Favicon and logo mark: an arched doorway with a star of light.
const mark = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="32" height="32">` +
  rect({ width: 32, height: 32, rx: 8, fill: "#1e5b57" }) +
  path({ d: "M9 27V15a7 7 0 0 1 14 0v12z", fill: "#f6efe3" }) +
  path({ d: "M16 11l1.4 3.2l3.2 1.4l-3.2 1.4l-1.4 3.2l-1.4-3.2l-3.2-1.4l3.2-1.4z", fill: "#c0572e" }) +
  `</svg>\n`;
writeFileSync(join(www, "favicon.svg"), mark);

console.log(`make-images: ${PRODUCTS.length} product + ${CATEGORIES.length} category pictures, largest ${biggest} bytes`);
