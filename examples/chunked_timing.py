"""Chunked vs in-memory: time of a 3-axis gradient against array size, with the same bits.

Compares xgrad on numpy input (threaded compiled kernels), xgrad on a persisted dask array,
numpy.gradient and dask.array.gradient, and a plain copy as the memory-bandwidth floor.
Timings are medians of a few runs on this machine; see docs/performance.md for the full suite.
"""

from __future__ import annotations

import time

import dask
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
from _gallery import parse, save

import xgrad


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    args = parse(__doc__.splitlines()[0], "chunked_timing.png")
    edges = [32, 64, 96] if args.fast else [64, 128, 192, 256, 320]
    repeat = 1 if args.fast else 7  # medians: this VM shows rare 10x page-fault spikes
    rows = {
        k: []
        for k in ("copy", "numpy.gradient", "dask.array.gradient", "xgrad (numpy)", "xgrad (dask)")
    }
    mbytes = []
    for n in edges:
        a = np.random.default_rng(0).standard_normal((n, n, n))
        x = da.from_array(a, chunks=(max(n // 8, 1), n, n)).persist()
        mbytes.append(a.nbytes / 2**20)
        xgrad.gradient(a[:4])  # compile outside the timing
        got = dask.compute(*xgrad.gradient(x))
        assert all((g == e).all() for g, e in zip(got, np.gradient(a)))  # same bits
        methods = {
            "copy": a.copy,
            "numpy.gradient": lambda a=a: np.gradient(a),
            "dask.array.gradient": lambda x=x: dask.persist(*da.gradient(x)),
            "xgrad (numpy)": lambda a=a: xgrad.gradient(a),
            "xgrad (dask)": lambda x=x: dask.persist(*xgrad.gradient(x)),
        }
        for name, method in methods.items():
            rows[name].append(median_time(method, repeat))
        print(
            f"{a.nbytes / 2**20:7.0f} MiB: "
            + ", ".join(f"{k} {v[-1]:.3f}s" for k, v in rows.items())
        )
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for name, times in rows.items():
        ax.plot(mbytes, np.array(mbytes) / 1024 / np.array(times), "-o", label=name, ms=4)
    ax.set_xscale("log")
    ax.set_yscale("log")  # small copies run from cache and would squash the rest
    ax.set_xlabel("array size [MiB] (float64, 3-D)")
    ax.set_ylabel("throughput [GiB of input per s]")
    ax.set_title("3-axis gradient: xgrad vs numpy and dask (same bits)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, args.out)


if __name__ == "__main__":
    main()
