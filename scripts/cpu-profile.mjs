#!/usr/bin/env node
// A V8 CPU profile of the Worker's isolate under `wrangler dev`, through wrangler's
// inspector port (DevTools protocol): samples for SECONDS while something else drives the
// load, then prints self time per function (and per category: WASM, JS glue, runtime,
// GC, idle) and writes the raw .cpuprofile (open it in Chrome DevTools > Performance).
//
//   node scripts/cpu-profile.mjs INSPECTOR_PORT SECONDS OUT.cpuprofile [TOP]
//
// Used by hand for docs/PERFORMANCE.md ("Where a trivial request's CPU goes"); not part of
// `make test` or `make bench`. WASM functions have names only in a build that keeps the
// name section (worker-build without scripts/wasm-opt.sh, see docs/PERFORMANCE.md).
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const WebSocket = require("ws"); // wrangler's own dependency, in node_modules

const [port, seconds = "5", out = "worker.cpuprofile", top = "40"] = process.argv.slice(2);
if (!port) {
  console.error("usage: node scripts/cpu-profile.mjs INSPECTOR_PORT SECONDS OUT.cpuprofile [TOP]");
  process.exit(2);
}

const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
const target = targets.find((t) => t.webSocketDebuggerUrl) ?? targets[0];
const ws = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((ok, fail) => {
  ws.once("open", ok);
  ws.once("error", fail);
});
let id = 0;
const pending = new Map();
ws.on("message", (data) => {
  const msg = JSON.parse(data.toString());
  if (msg.id && pending.has(msg.id)) {
    pending.get(msg.id)(msg);
    pending.delete(msg.id);
  }
});
const send = (method, params = {}) =>
  new Promise((ok) => {
    id += 1;
    pending.set(id, ok);
    ws.send(JSON.stringify({ id, method, params }));
  });

await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 100 });
await send("Profiler.start");
await new Promise((ok) => setTimeout(ok, Number(seconds) * 1000));
const { result } = await send("Profiler.stop");
ws.close();
const profile = result.profile;
writeFileSync(out, JSON.stringify(profile));

// Self time per node: the time deltas are attributed to the sample they precede.
const self = new Map();
profile.samples.forEach((node, i) => {
  self.set(node, (self.get(node) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const byFunction = new Map();
const byCategory = new Map();
let total = 0;
for (const n of profile.nodes) {
  const t = self.get(n.id) ?? 0;
  if (!t) continue;
  const f = n.callFrame;
  const name = f.functionName || "(anonymous)";
  const where = f.url ? `${f.url.split("/").pop()}:${f.lineNumber + 1}` : "";
  const key = `${name} ${where}`.trim();
  byFunction.set(key, (byFunction.get(key) ?? 0) + t);
  const category = name.startsWith("(")
    ? name
    : f.url.includes("wasm") || name.startsWith("wasm-function") || /\$/.test(name)
      ? "WASM"
      : f.url.includes("index.js") || f.url.includes("shim")
        ? "JS glue (wasm-bindgen, workers-rs shim)"
        : f.url
          ? `JS ${f.url.split("/").pop()}`
          : "runtime builtins (no URL)";
  byCategory.set(category, (byCategory.get(category) ?? 0) + t);
  total += t;
}
const busy = total - (byCategory.get("(idle)") ?? 0);
const pct = (t, of) => ((100 * t) / of).toFixed(1).padStart(5);
console.log(`sampled ${(total / 1e3).toFixed(0)} ms, busy ${(busy / 1e3).toFixed(0)} ms`);
console.log("\nby category (% of busy):");
for (const [k, t] of [...byCategory].sort((a, b) => b[1] - a[1])) {
  if (k !== "(idle)") console.log(`${pct(t, busy)}%  ${(t / 1e3).toFixed(1).padStart(8)} ms  ${k}`);
}
console.log(`\ntop ${top} functions by self time (% of busy):`);
for (const [k, t] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
  if (k !== "(idle)") console.log(`${pct(t, busy)}%  ${(t / 1e3).toFixed(1).padStart(8)} ms  ${k}`);
}
