"""Graph construction with dask's legacy graphs and with its array expressions, side by side.

dask arrays are moving to expressions ("query planning", ``DASK_ARRAY__QUERY_PLANNING=True``,
opt-in in dask 2026.8). The mode is fixed when dask is imported, so each mode runs in its own
process; each builds ``xgrad.gradient`` of a lazy ``da.zeros`` with 100,000 chunks (one axis,
all three) and materialises the graph, as the scheduler would. ``dask.array.gradient`` is timed
in the legacy mode only (with expressions it raises "not implemented for dask-expr").

    python benchmarks/expressions.py               # 100,000 chunks
    python benchmarks/expressions.py --smoke       # 1,000 chunks, seconds
    python benchmarks/expressions.py --write-docs  # and rewrite the table in docs/guide/engines.md
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

import _docs

CHILD = """
import gc, json, math, sys, time
import dask.array as da
import xgrad
shape, chunks = json.loads(sys.argv[1])
z = da.zeros(shape, chunks=chunks)
small = da.zeros((8, 8, 8), chunks=4)
rows = {}
methods = [("xgrad", xgrad.gradient)]
if not type(z).__module__.startswith("dask.array._array_expr"):
    methods.append(("dask.array.gradient", da.gradient))
for name, fn in methods:
    for axis in (0, None):
        fn(small, axis=axis)  # warm-up: imports and first-call caches
        t0 = time.perf_counter()
        out = fn(z, axis=axis)
        t1 = time.perf_counter()
        keys = set()
        for o in out if isinstance(out, (tuple, list)) else (out,):
            keys.update(dict(o.__dask_graph__()))
        t2 = time.perf_counter()
        rows[f"{name}, {'axis 0' if axis == 0 else '3 axes'}"] = [t1 - t0, t2 - t0, len(keys)]
        del out, keys
        gc.collect()
print(json.dumps(rows))
"""


def run(mode: bool, shape: list[int], chunks: list[int]) -> dict:
    env = dict(os.environ, DASK_ARRAY__QUERY_PLANNING=str(mode))
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps([shape, chunks])],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    return json.loads(proc.stdout)


DOC = os.path.join("docs", "guide", "engines.md")
DOC_BLOCK = "expressions-table"


def table(legacy: dict, expressions: dict, nchunks: int, chunks: list[int], info: str) -> str:
    """The measured rows as the markdown table that docs/guide/engines.md quotes."""
    lines = [
        f"Measured by `benchmarks/expressions.py --write-docs` ({nchunks:,} chunks "
        f"{tuple(chunks)}; {info}).",
        "",
        "| method | mode | build [s] | build + materialise [s] | tasks |",
        "|---|---|---|---|---|",
    ]
    for mode, rows in (("legacy", legacy), ("expressions", expressions)):
        for name, (build, materialise, tasks) in rows.items():
            lines.append(f"| {name} | {mode} | {build:.2f} | {materialise:.2f} | {tasks:,} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="1,000 chunks instead of 100,000")
    _docs.add_arguments(ap, DOC)
    args = ap.parse_args(argv)
    shape, chunks = (
        ([100, 100, 100], [10, 10, 10])
        if args.smoke
        else (
            [1000, 1000, 1000],
            [10, 20, 50],
        )
    )
    nchunks = math.prod(-(-n // c) for n, c in zip(shape, chunks))
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0]
    legacy, expressions = run(False, shape, chunks), run(True, shape, chunks)
    load1 = os.getloadavg()[0]
    print(f"graph construction, {tuple(shape)} zeros in {nchunks:,} chunks {tuple(chunks)}")
    print(f"{'method':34}{'mode':>13}{'build [s]':>11}{'+ materialise [s]':>19}{'tasks':>11}")
    for mode, rows in (("legacy", legacy), ("expressions", expressions)):
        for name, (build, materialise, tasks) in rows.items():
            print(f"{name:34}{mode:>13}{build:11.2f}{materialise:19.2f}{tasks:11,}")
    for case in ("axis 0", "3 axes"):
        a, b = legacy[f"xgrad, {case}"], expressions[f"xgrad, {case}"]
        print(
            f"xgrad, {case}: expressions / legacy: build {b[0] / a[0]:.2f}x, with "
            f"materialise {b[1] / a[1]:.2f}x, tasks {b[2] / a[2]:.2f}x"
        )
    # the load says how far the times can be trusted on a shared machine
    print(f"total {time.perf_counter() - t0:.0f} s; 1-min load average {load0:.1f} -> {load1:.1f}")
    if args.write_docs:
        import dask

        info = (
            f"dask {dask.__version__}, {os.cpu_count()} CPUs, 1-min load average "
            f"{load0:.1f} at the start and {load1:.1f} at the end, {time.strftime('%Y-%m-%d')}"
        )
        text = table(legacy, expressions, nchunks, chunks, info)
        (path,) = _docs.write_blocks(args.docs_root, [(DOC, DOC_BLOCK, text)])
        print(f"wrote the table into {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
