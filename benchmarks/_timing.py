"""Shared timing loop of the benchmark scripts: interleaved rounds, medians.

Each function is called once per round, in turn, after a warm-up round, so bursts of machine
noise hit every method alike (docs/performance.md, "Method").
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any


def interleaved(
    fns: dict[str, Callable[[], Any]], repeat: int, run: Callable[[Callable[[], Any]], Any]
) -> dict[str, float]:
    """Median seconds of ``run(fn)`` per function, each called once per round."""
    for fn in fns.values():
        run(fn)
    gc.collect()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for key, fn in fns.items():
            t0 = time.perf_counter()
            result = run(fn)
            times[key].append(time.perf_counter() - t0)
            del result
            gc.collect()
    return {k: statistics.median(v) for k, v in times.items()}
