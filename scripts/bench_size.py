#!/usr/bin/env python3
"""WASM size for the bench report: raw, gzip -9 and section sizes of the deployed build, and
of the same wasm-bindgen output through wasm-opt with several settings.

usage: bench_size.py OUT.json BUILD_DIR [NOOPT_BUILD_DIR] [WASM_OPT_BIN] [VARIANTS 0|1] [WORK_DIR]
"""
import concurrent.futures
import gzip
import json
import os
import re
import subprocess
import sys

# What worker-build 0.8.7 passes besides the optimisation level (src/build/mod.rs).
WORKER_BUILD_FEATURES = [
    "--enable-mutable-globals",
    "--enable-sign-ext",
    "--enable-nontrapping-float-to-int",
    "--enable-bulk-memory",
    "--enable-multivalue",
    "--enable-reference-types",
    "--enable-exception-handling",
]

VARIANTS = [
    ("wasm-opt -O (worker-build default; keeps names)", ["-O", "--debuginfo"]),
    ("wasm-opt -Oz (keeps names)", ["-Oz", "--debuginfo"]),
    ("wasm-opt -O3 (keeps names)", ["-O3", "--debuginfo"]),
    ("wasm-opt -Oz --strip-debug (no name section)", ["-Oz", "--strip-debug"]),
]


def leb(b, i):
    r = s = 0
    while True:
        x = b[i]
        i += 1
        r |= (x & 0x7F) << s
        s += 7
        if x < 0x80:
            return r, i


def sections(data):
    """Bytes per section kind: code, data, name, other."""
    out = {"code": 0, "data": 0, "name": 0, "other": 0}
    i = 8
    while i < len(data):
        sid = data[i]
        size, j = leb(data, i + 1)
        if sid == 10:
            out["code"] += size
        elif sid == 11:
            out["data"] += size
        elif sid == 0:
            n, k = leb(data, j)
            out["name" if data[k : k + n] == b"name" else "other"] += size
        else:
            out["other"] += size
        i = j + size
    return out


def read_sections(data):
    """{name: (start, end)} of the payload of each section (custom ones by their name)."""
    out, i = {}, 8
    while i < len(data):
        sid = data[i]
        size, j = leb(data, i + 1)
        if sid == 0:
            n, k = leb(data, j)
            out[data[k : k + n].decode("utf8", "replace")] = (k + n, j + size)
        else:
            out[sid] = (j, j + size)
        i = j + size
    return out


def code_by_crate(data, top=12):
    """Code bytes per crate (first path segment of each function's name in the name
    section), largest first, plus the largest functions. Empty without a name section."""
    secs = read_sections(data)
    if "name" not in secs or 10 not in secs:
        return [], []
    imported = 0
    if 2 in secs:
        p, _ = secs[2]
        count, p = leb(data, p)
        for _ in range(count):
            for _ in range(2):
                n, p = leb(data, p)
                p += n
            kind = data[p]
            p += 1
            if kind == 0:
                _, p = leb(data, p)
                imported += 1
            elif kind == 1:
                p += 1
                flags, p = leb(data, p)
                _, p = leb(data, p)
                if flags & 1:
                    _, p = leb(data, p)
            elif kind == 2:
                flags, p = leb(data, p)
                _, p = leb(data, p)
                if flags & 1:
                    _, p = leb(data, p)
            elif kind == 3:
                p += 2
            elif kind == 4:
                p += 1
                _, p = leb(data, p)
    names = {}
    p, end = secs["name"]
    while p < end:
        sub = data[p]
        size, q = leb(data, p + 1)
        if sub == 1:
            count, r = leb(data, q)
            for _ in range(count):
                idx, r = leb(data, r)
                n, r = leb(data, r)
                names[idx] = data[r : r + n].decode("utf8", "replace")
                r += n
        p = q + size
    p, _ = secs[10]
    count, p = leb(data, p)
    crates, funcs = {}, []
    for f in range(count):
        size, q = leb(data, p)
        p = q + size
        name = names.get(imported + f, "?")
        m = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[[0-9a-f]+\])?::", name)
        crate = m[0] if m else name.split("::")[0][:40]
        crates[crate] = crates.get(crate, 0) + size
        funcs.append((size, name))
    by_crate = sorted(crates.items(), key=lambda kv: -kv[1])[:top]
    largest = [{"bytes": s, "name": n[:140]} for s, n in sorted(funcs, reverse=True)[:8]]
    return [{"crate": c, "bytes": b} for c, b in by_crate], largest


def embedded_files(data, src="src"):
    """Files the Worker embeds with include_str!/include_bytes! and that appear verbatim in
    the WASM: (path, raw bytes, gzip bytes)."""
    found = []
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rs = os.path.join(root, f)
            for m in re.finditer(r'include_(?:str|bytes)!\(\s*"([^"]+)"\s*\)', open(rs).read()):
                path = os.path.normpath(os.path.join(root, m.group(1)))
                try:
                    body = open(path, "rb").read()
                except OSError:
                    continue
                if body and body in data and path not in [x["path"] for x in found]:
                    found.append(
                        {"path": path, "raw": len(body), "gzip": len(gzip.compress(body, 9))}
                    )
    return sorted(found, key=lambda x: -x["raw"])


def measure(path):
    data = open(path, "rb").read()
    return {
        "raw": len(data),
        "gzip": len(gzip.compress(data, 9)),
        "sections": sections(data),
    }


def main():
    out, build = sys.argv[1], sys.argv[2]
    noopt = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
    wasm_opt = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
    want_variants = len(sys.argv) > 5 and sys.argv[5] == "1"
    work = sys.argv[6] if len(sys.argv) > 6 else "target/bench-work/size"
    os.makedirs(work, exist_ok=True)

    wasm = measure(os.path.join(build, "index_bg.wasm"))
    deployed = open(os.path.join(build, "index_bg.wasm"), "rb").read()
    by_crate, largest = code_by_crate(deployed)
    section_gzip = {}
    for key, label in ((10, "code"), (11, "data"), ("name", "name")):
        span = read_sections(deployed).get(key)
        if span:
            section_gzip[label] = len(gzip.compress(deployed[span[0] : span[1]], 9))
    js = open(os.path.join(build, "index.js"), "rb").read()
    result = {
        "kind": "size",
        "wasm_raw": wasm["raw"],
        "wasm_gzip": wasm["gzip"],
        "wasm_sections": wasm["sections"],
        "wasm_sections_gzip": section_gzip,
        "code_by_crate": by_crate,
        "largest_functions": largest,
        "embedded_files": embedded_files(deployed),
        "js_raw": len(js),
        "js_gzip": len(gzip.compress(js, 9)),
        "wasm_opt_used": bool(wasm_opt),
    }
    variants = []
    if noopt and os.path.exists(os.path.join(noopt, "index_bg.wasm")):
        src = os.path.join(noopt, "index_bg.wasm")
        variants.append({"name": "no wasm-opt (`--no-opt`)", **measure(src)})
        if wasm_opt:
            result["wasm_opt_version"] = subprocess.run(
                [wasm_opt, "--version"], capture_output=True, text=True
            ).stdout.strip()
        if wasm_opt and want_variants:

            def run(v):
                name, flags = v
                dst = os.path.join(work, "v%d.wasm" % VARIANTS.index(v))
                cmd = [wasm_opt, src, "-o", dst, *flags, *WORKER_BUILD_FEATURES]
                subprocess.run(cmd, check=True, capture_output=True)
                return {"name": name, "flags": " ".join(flags), **measure(dst)}

            with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
                variants.extend(pool.map(run, VARIANTS))
    variants.append({"name": "**deployed build** (`make build`)", **wasm})
    result["variants"] = variants
    if not wasm_opt:
        result["note"] = (
            "wasm-opt was not available, so the deployed build is unoptimised by binaryen "
            "(worker-build `--no-opt`)."
        )
    json.dump(result, open(out, "w"), indent=2)


if __name__ == "__main__":
    main()
