#!/usr/bin/env python3
"""Computes the expected checksums of the benchmark guests on the host.

Usage: python3 expected.py [sha256|crc32|modexp|qsort] [ROUNDS]
Without arguments prints all four for the ROUNDS the C sources use by default.
Each function mirrors the guest's C code exactly (same LCGs, same chaining).
"""
import hashlib
import sys
import zlib

M32 = 0xFFFFFFFF


def sha256(rounds=300):
    buf = bytearray(8192)
    x = 0x12345678
    for i in range(len(buf)):
        x = (x * 1664525 + 1013904223) & M32
        buf[i] = x >> 24
    d = b""
    for _ in range(rounds):
        d = hashlib.sha256(buf).digest()
        buf[:32] = d
    return d.hex()


def crc32(rounds=2200):
    buf = bytearray(8192)
    x = 0xC0FFEE
    for i in range(len(buf)):
        x = (x * 1103515245 + 12345) & M32
        buf[i] = (x >> 16) & 0xFF
    crc = 0
    for _ in range(rounds):
        crc = zlib.crc32(buf, crc)
    return "%08x" % crc


def modexp(rounds=25):
    state = 0x2545F491

    def lcg():
        nonlocal state
        state = (state * 1664525 + 1013904223) & M32
        return state

    def num(limbs):
        return sum(v << (32 * j) for j, v in enumerate(limbs))

    m = [lcg() for _ in range(16)]
    m[0] |= 1
    m[15] |= 0x80000000
    e = [lcg() for _ in range(16)]
    x = [lcg() for _ in range(16)]
    x[15] &= 0x7FFFFFFF
    m, e, x = num(m), num(e), num(x)
    for _ in range(rounds):
        x = pow(x, e, m)
    return "%0128x" % x


def qsort(rounds=80):
    x = 0xDEADBEEF
    s = 2166136261
    for _ in range(rounds):
        a = []
        for _ in range(8192):
            x = (x * 1664525 + 1013904223) & M32
            a.append(x - (1 << 32) if x & 0x80000000 else x)
        for v in sorted(a):
            s = ((s ^ (v & M32)) * 16777619) & M32
    return "%08x" % s


FUNCS = {"sha256": sha256, "crc32": crc32, "modexp": modexp, "qsort": qsort}

if __name__ == "__main__":
    if len(sys.argv) > 1:
        f = FUNCS[sys.argv[1]]
        print(f(int(sys.argv[2])) if len(sys.argv) > 2 else f())
    else:
        for name, f in FUNCS.items():
            print(name, f())
