#!/usr/bin/env python3
"""Builds a realistic root file system for benchmarks: about 20,000 files and
200 MB copied from this machine's /usr (binaries, libraries, text), with the
same deterministic choice every run. Usage: make-rootfs.py DIR [FILES] [MB]"""
import os
import random
import shutil
import sys

dest = sys.argv[1]
want_files = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
want_bytes = (int(sys.argv[3]) if len(sys.argv) > 3 else 200) * 1000 * 1000

candidates = []
for top in ("/usr/bin", "/usr/sbin", "/usr/lib", "/usr/share", "/usr/libexec", "/usr/include"):
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(root, f)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if os.path.isfile(p) and not os.path.islink(p) and 0 < st.st_size <= 8 << 20:
                candidates.append((p, st.st_size))
random.Random(42).shuffle(candidates)

small_budget = want_bytes * 0.75
picked, total = [], 0
for p, size in candidates:
    if len(picked) >= want_files:
        break
    if size <= 48 << 10 and total + size <= small_budget:
        picked.append(p)
        total += size
for p, size in sorted(candidates, key=lambda c: -c[1]):
    if total >= want_bytes:
        break
    if p not in picked and total + size <= want_bytes * 1.02:
        picked.append(p)
        total += size

if os.path.exists(dest):
    shutil.rmtree(dest)
for p in picked:
    target = os.path.join(dest, p.lstrip("/"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copy2(p, target)
print(f"{dest}: {len(picked)} files, {total / 1e6:.1f} MB")
