#!/usr/bin/env python3
"""Machine, tool versions and build settings for the bench report (env.json).

usage: bench_env.py OUT.json WORKERD WORKER_BUILD WASM_OPT_BIN
"""
import datetime
import json
import platform
import re
import subprocess
import sys


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def toml_section(text, name):
    """The `key = value` lines of one [section] of a TOML file, joined by ', '."""
    out, on = [], False
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("["):
            on = s == "[" + name + "]"
        elif on and s and not s.startswith("#"):
            out.append(re.sub(r"\s+", " ", s))
    return ", ".join(out)


def main():
    out, workerd, worker_build, wasm_opt = sys.argv[1:5]
    cargo = open("Cargo.toml").read()
    os_name = ""
    try:
        os_name = next(
            l.split("=", 1)[1].strip().strip('"')
            for l in open("/etc/os-release")
            if l.startswith("PRETTY_NAME=")
        )
    except (OSError, StopIteration):
        pass
    cpu = platform.machine()
    try:
        cpu = next(
            l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    flags = toml_section(cargo, "package.metadata.wasm-pack.profile.release") or "wasm-opt = -O (worker-build default)"
    json.dump(
        {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": sh("git", "rev-parse", "--short", "HEAD"),
            "dirty": bool(sh("git", "status", "--porcelain", "--untracked-files=no")),
            "cpu": cpu,
            "cores": sh("nproc"),
            "os": f"{os_name}, Linux {platform.release()}".strip(", "),
            "wrangler": json.load(open("node_modules/wrangler/package.json"))["version"],
            "workerd": sh(workerd, "--version"),
            "rustc": sh("rustc", "--version"),
            "worker_build": sh(worker_build, "--version"),
            "node": sh("node", "--version"),
            "profile": toml_section(cargo, "profile.release"),
            "wasm_opt": f"{sh(wasm_opt, '--version')} ({flags}, plus worker-build's feature flags; scripts/wasm-opt.sh drops its --debuginfo)"
            if wasm_opt
            else None,
        },
        open(out, "w"),
        indent=2,
    )


if __name__ == "__main__":
    main()
