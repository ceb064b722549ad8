// Prints the gzipped size of the JavaScript the first page load needs (the
// entry chunk and the chunks it imports statically) and fails the build when
// it is over the budget. Lazy route chunks are listed apart.
import { readFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const budget = 300 * 1024;
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const initial = new Set();
for (const m of html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)) initial.add(m[1]);
// Static imports of the entry (import "./x.js" / from "./x.js") load with it.
const queue = [...initial];
while (queue.length) {
  const f = queue.pop();
  const src = readFileSync(join(dist, f), "utf8");
  for (const m of src.matchAll(/(?:^|[;\n}])\s*import\s*(?:[^"'()]*?from\s*)?["']\.\/([^"']+\.js)["']/g)) {
    const dep = "assets/" + m[1];
    if (!initial.has(dep)) {
      initial.add(dep);
      queue.push(dep);
    }
  }
}
const gz = (f) => gzipSync(readFileSync(join(dist, f))).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
let total = 0;
for (const f of initial) total += gz(f);
const lazy = readdirSync(join(dist, "assets")).filter((f) => f.endsWith(".js") && !initial.has("assets/" + f));
console.log(`initial JS: ${kb(total)} gzipped in ${initial.size} file(s) (budget ${kb(budget)})`);
for (const f of lazy) console.log(`  lazy ${f}: ${kb(gz("assets/" + f))} gzipped`);
if (total > budget) {
  console.error(`initial JS is over the budget: ${kb(total)} > ${kb(budget)}`);
  process.exit(1);
}
