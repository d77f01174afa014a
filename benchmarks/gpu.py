"""xgrad's plain NumPy path on cupy arrays: issue #14's GPU check, ready for a GPU session.

No kernel of xgrad runs on the device: cupy arrays take the NumPy reference path (slices and
ufuncs through ``__array_ufunc__``), in memory and as the blocks of a dask array. This script
measures that path against the device's own copy and ``cupy.gradient``, and checks the values
against xgrad on the same data on the CPU (numpy's bits there):

* per dtype (float64, float32) and axis: ``x.copy()`` (reads and writes what a one-axis
  gradient reads and writes: the bandwidth floor), ``xgrad.gradient(x, axis=k)``,
  ``cupy.gradient(x, axis=k)``, and the same through dask (``da.from_array(x, asarray=False)``,
  chunked along axis 0, persisted, threaded scheduler) against ``map_blocks(copy)``;
* the fraction of the copy's bandwidth xgrad reaches (issue #14's target: >= 0.7 for one
  axis), in memory and through dask;
* values: the device result copied back against the CPU's, bit for bit, else the largest
  difference in units of the last place (a GPU compiler may fuse ``a * b + c`` into one
  rounding where numpy rounds twice; the non-uniform stencil is such a sum).

Each device call is followed by a device synchronisation before the clock stops; medians of
interleaved rounds (``_timing.interleaved``).

    python benchmarks/gpu.py                      # (256, 512, 512), float64 and float32
    python benchmarks/gpu.py --shape 512,512,512 --repeat 9 --json gpu.json
    python benchmarks/gpu.py --smoke              # numpy stands in for cupy: the script runs
"""

from __future__ import annotations

import argparse
import json
import platform
from collections.abc import Callable
from typing import Any

import numpy as np
from _timing import interleaved

TARGET = 0.7  # xgrad's one-axis bandwidth over the device copy's (issue #14)


def device() -> tuple[Any, Callable[[], None], Callable[[Any], np.ndarray], str]:
    """``(xp, sync, to_host, name)`` for cupy on the current GPU."""
    import cupy as cp

    props = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])

    def sync() -> None:
        cp.cuda.Device().synchronize()

    return cp, sync, cp.asnumpy, f"{name}, cupy {cp.__version__}"


def stand_in() -> tuple[Any, Callable[[], None], Callable[[Any], np.ndarray], str]:
    """numpy in cupy's place (``--smoke``): the same calls, on the CPU."""
    return np, lambda: None, np.asarray, f"numpy {np.__version__} standing in for cupy (smoke)"


def ulps(a: np.ndarray, b: np.ndarray) -> float:
    """Largest ``|a - b|`` in units of the last place of ``b`` (0 where both are equal,
    infinity where one is NaN and the other not)."""
    with np.errstate(all="ignore"):
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        gap = np.abs(a.astype(np.float64) - b.astype(np.float64)) / np.spacing(np.abs(b))
    return float(np.max(np.where(same, 0.0, gap), initial=0.0))


def agreement(got: np.ndarray, want: np.ndarray) -> str:
    got, want = np.ascontiguousarray(got), np.ascontiguousarray(want)
    if got.dtype == want.dtype and np.array_equal(got.view(np.uint8), want.view(np.uint8)):
        return "bit-identical"
    return f"max {ulps(got, want):.3g} ulp"


def measure(
    xp: Any,
    sync: Callable[[], None],
    to_host: Callable[[Any], np.ndarray],
    shape: tuple[int, ...],
    dtype: str,
    chunk: int,
    repeat: int,
) -> list[dict[str, Any]]:
    """One dtype: every axis in memory and through dask; rows of results."""
    import dask
    import dask.array as da

    import xgrad

    rng = np.random.default_rng(0)
    host = rng.standard_normal(shape).astype(dtype)
    coord = np.cumsum(rng.uniform(0.5, 1.5, shape[0]))
    x = xp.asarray(host)
    lazy = da.from_array(x, chunks=(chunk,) + shape[1:], asarray=False)
    (lazy,) = dask.persist(lazy, scheduler="threads")

    def call(fn: Callable[[], Any]) -> Any:
        result = fn()
        sync()
        return result

    def persisted(fn: Callable[[], Any]) -> Any:
        (result,) = dask.persist(fn(), scheduler="threads")
        sync()
        return result

    rows = []
    cases = [(k, (), f"axis {k}") for k in range(len(shape))] + [(0, (coord,), "axis 0 coord")]
    for axis, spacing, label in cases:
        cupy_gradient = (
            (lambda s=spacing, a=axis: xp.gradient(x, *(xp.asarray(c) for c in s), axis=a))
            if hasattr(xp, "gradient")
            else None
        )
        memory = {
            "copy": lambda: x.copy(),
            "xgrad": lambda s=spacing, a=axis: xgrad.gradient(x, *s, axis=a),
            **({"cupy.gradient": cupy_gradient} if cupy_gradient else {}),
        }
        chunked = {
            "dask copy": lambda: lazy.map_blocks(lambda b: b.copy(), dtype=lazy.dtype),
            "dask xgrad": lambda s=spacing, a=axis: xgrad.gradient(lazy, *s, axis=a),
        }
        med = interleaved(memory, repeat, call)
        med.update(interleaved(chunked, repeat, persisted))
        want = xgrad.gradient(host, *spacing, axis=axis)
        got = to_host(xgrad.gradient(x, *spacing, axis=axis))
        got_dask = to_host(
            dask.compute(xgrad.gradient(lazy, *spacing, axis=axis), scheduler="threads")[0]
        )
        rows.append(
            {
                "dtype": dtype,
                "case": label,
                "ms": {k: v * 1e3 for k, v in med.items()},
                "bandwidth": med["copy"] / med["xgrad"],
                "dask bandwidth": med["dask copy"] / med["dask xgrad"],
                "values": agreement(got, want),
                "dask values": agreement(got_dask, want),
            }
        )
    return rows


def report(rows: list[dict[str, Any]], nbytes: int) -> None:
    head = f"{'dtype':8}{'case':14}{'copy':>9}{'xgrad':>9}{'cupy':>9}{'dask copy':>11}"
    print(head + f"{'dask xgrad':>12}{'xgrad/copy bw':>15}{'dask':>7}  values (memory; dask)")
    for r in rows:
        ms = r["ms"]
        cupy = f"{ms['cupy.gradient']:9.2f}" if "cupy.gradient" in ms else f"{'-':>9}"
        print(
            f"{r['dtype']:8}{r['case']:14}{ms['copy']:9.2f}{ms['xgrad']:9.2f}{cupy}"
            f"{ms['dask copy']:11.2f}{ms['dask xgrad']:12.2f}{r['bandwidth']:15.2f}"
            f"{r['dask bandwidth']:7.2f}  {r['values']}; {r['dask values']}"
        )
    print(f"times in ms (medians); copy moves {2 * nbytes / 1e9:.2f} GB per float64 call")
    print("== target (issue #14): xgrad >= 0.7 of the device copy's bandwidth, one axis ==")
    for where, key in (("in memory", "bandwidth"), ("through dask", "dask bandwidth")):
        worst = min(rows, key=lambda r: r[key])
        ok = "MET" if worst[key] >= TARGET else "NOT MET"
        print(f"  [{ok:>7}] {where}: lowest {worst[key]:.2f} ({worst['dtype']}, {worst['case']})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--shape", default="256,512,512", help="array shape, e.g. 512,512,512")
    ap.add_argument("--chunk", type=int, default=0, help="dask chunk along axis 0 (0: shape/4)")
    ap.add_argument("--repeat", type=int, default=7, help="interleaved rounds (medians)")
    ap.add_argument("--json", help="write every row to this file")
    ap.add_argument("--smoke", action="store_true", help="tiny, numpy standing in for cupy")
    args = ap.parse_args()
    shape = (8, 16, 32) if args.smoke else tuple(int(s) for s in args.shape.split(","))
    repeat = 1 if args.smoke else args.repeat
    chunk = args.chunk or max(1, shape[0] // 4)
    xp, sync, to_host, name = stand_in() if args.smoke else device()
    print(f"gpu benchmark: {name}; {shape}, dask chunks of {chunk} along axis 0; {platform.node()}")
    rows = []
    for dtype in ("float64", "float32"):
        rows += measure(xp, sync, to_host, shape, dtype, chunk, repeat)
    report(rows, int(np.prod(shape)) * 8)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"device": name, "shape": shape, "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
