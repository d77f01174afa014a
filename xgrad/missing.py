"""``nan="one-sided"``: derivatives next to missing data (land masks, gaps).

After the regular stencils have run, every point that is not itself NaN but got a NaN
derivative (a stencil point was missing) is recomputed with the first usable stencil of
the plan's fallback list: central 3-point, forward then backward 2nd order, forward then
backward 1st order.  A stencil is usable when all its points exist on the axis and are not
NaN; a point with no usable stencil stays NaN, and a NaN point stays NaN.  Every stencil is
exact on linear fields.  The fix reads at most two rows beyond a block (the plan widens its
halo to 2), so results do not depend on chunking (``tests/test_missing.py``).

Duck arrays (cupy) refuse numpy operands, so everything that meets the data stays in its
array library: masks are computed from the data, the plan's weights are converted.  Only the
small per-row bookkeeping (which rows to fix, their global positions and weights) is numpy;
the row numbers come back from the device through the library's own explicit copy
(``tests/test_duck.py::test_one_sided_same_bits_as_numpy``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .kernels import _like
from .stencils import AxisPlan

__all__ = ["fill_missing"]


def fill_missing(f: Any, axis: int, plan: AxisPlan, start: int, lo: Any, hi: Any, out: Any) -> None:
    """Patch ``out`` (the block's regular derivative) where NaN came from a missing neighbour."""
    missing = np.isnan(f)
    out[missing] = np.nan
    bad = np.isnan(out) & ~missing
    other = tuple(k for k in range(f.ndim) if k != axis)
    rows = _host(np.flatnonzero(bad.any(axis=other) if other else bad))
    if rows.size == 0:
        return
    parts = [p for p in (lo, f, hi) if p is not None]
    ext = np.concatenate(parts, axis=axis) if len(parts) > 1 else f
    nlo = 0 if lo is None else lo.shape[axis]
    g = start + rows  # global rows to fix
    shape = [1] * f.ndim
    shape[axis] = -1
    todo = np.take(bad, rows, axis=axis)
    result = np.take(out, rows, axis=axis)
    for first, weights in plan.fallback.values():  # in the plan's cascade order
        usable = todo.copy()
        acc = None
        for t in range(weights.shape[1]):
            at = g + first + t
            inside = np.ones_like(at, dtype=bool) if plan.periodic else (at >= 0) & (at < plan.n)
            idx = np.clip(rows + nlo + first + t, 0, ext.shape[axis] - 1)
            vals = np.take(ext, idx, axis=axis)
            w = weights[g, t]
            ok = inside & np.isfinite(w)
            usable &= ~np.isnan(vals) & _like(ok.reshape(shape), f)
            term = _like(np.where(ok, w, 0.0).reshape(shape), f) * vals
            acc = term if acc is None else acc + term
        result = np.where(usable, acc, result)
        todo &= ~usable
    result = np.where(todo, np.nan, result)
    index = [slice(None)] * f.ndim
    index[axis] = rows
    out[tuple(index)] = result


def _host(rows: Any) -> np.ndarray:
    """Row numbers (a few, 1-D) as numpy: cupy copies them off the device only when asked
    (``.get()``; it refuses ``np.asarray``); other duck arrays convert as usual."""
    if isinstance(rows, np.ndarray):
        return rows
    get = getattr(rows, "get", None)
    return np.asarray(get() if callable(get) else rows)
