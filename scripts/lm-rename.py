#!/usr/bin/env python3
"""Writes a copy of a language-model weight file (.lmw) under another model name (the name
every stream records): `scripts/lm-rename.py IN.lmw NAME OUT.lmw`. The weights are unchanged."""
import sys
src, name, dst = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
b = open(src, "rb").read()
assert b[:8] == b"MPQLMW1\0", "not an .lmw file"
n = b[8]
open(dst, "wb").write(b[:8] + bytes([len(name)]) + name + b[9 + n:])
