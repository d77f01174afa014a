"""``nan="one-sided"``: derivatives next to missing data (land masks, gaps).

After the regular stencils have run, every point that is not itself NaN but got a NaN
derivative (a stencil point was missing) is recomputed with the first usable stencil of
the plan's fallback list: central 3-point, forward then backward 2nd order, forward then
backward 1st order.  A stencil is usable when all its points exist on the axis and are not
NaN; a point with no usable stencil stays NaN, and a NaN point stays NaN.  Every stencil is
exact on linear fields.  The fix reads at most two rows beyond a block (the plan widens its
halo to 2), so results do not depend on chunking (``tests/test_missing.py``).

Time data: NaT is the missing value; the fallback stencils run on the data as float64 tick
counts and each patched point is rounded to a tick once (regular rows keep numpy's integer
timedelta arithmetic).  ndarray subclasses are patched through a plain view of their data
(``np.matrix`` would make ``w * f`` a matrix product), so the output keeps its type; a masked
array's masked points count as missing for the fallback and its mask stays numpy's
(``tests/test_missing.py``).

Duck arrays (cupy) refuse numpy operands, so everything that meets the data stays in its
array library: masks are computed from the data, the plan's weights are converted.  Only the
small per-row bookkeeping (which rows to fix, their global positions and weights) is numpy;
the row numbers come back from the device through the library's own explicit copy
(``tests/test_duck.py::test_one_sided_same_bits_as_numpy``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .arrays import asarray_like, plain_array, ticks_from_numbers, time_as_numbers
from .stencils import AxisPlan

__all__ = ["fill_missing"]


def fill_missing(
    f: Any, axis: int, plan: AxisPlan, start: int, before: Any, after: Any, out: Any
) -> None:
    """Patch ``out`` (the block's regular derivative) where NaN came from a missing neighbour.

    Arguments as :func:`xgrad.kernels.axis_gradient`'s, after it ran on every row of ``f``;
    ``f`` is the data as the kernels differentiate it (datetime64 viewed as timedelta64).
    """
    time = out.dtype.kind == "m"
    res = plain_array(out)  # writes land in out's memory
    missing = np.isnan(plain_array(f))  # NaT too
    res[missing] = np.timedelta64("NaT") if time else np.nan
    bad = np.isnan(res) & ~missing
    other = tuple(k for k in range(f.ndim) if k != axis)
    rows = _host(np.flatnonzero(bad.any(axis=other) if other else bad))
    if rows.size == 0:
        return
    parts = [_readable(p) for p in (before, f, after) if p is not None]
    ext = np.concatenate(parts, axis=axis) if len(parts) > 1 else parts[0]
    nbefore = 0 if before is None else before.shape[axis]
    g = start + rows  # global rows to fix
    shape = [1] * f.ndim
    shape[axis] = -1
    todo = np.take(bad, rows, axis=axis)
    original = np.take(res, rows, axis=axis)
    result = time_as_numbers(original)
    for first, weights in plan.fallback:  # in the plan's cascade order
        usable = todo.copy()
        acc = None
        for t in range(weights.shape[1]):
            at = g + first + t
            inside = np.ones_like(at, dtype=bool) if plan.periodic else (at >= 0) & (at < plan.n)
            idx = np.clip(rows + nbefore + first + t, 0, ext.shape[axis] - 1)
            vals = np.take(ext, idx, axis=axis)
            w = weights[g, t]
            ok = inside & np.isfinite(w)
            usable &= ~np.isnan(vals) & asarray_like(ok.reshape(shape), ext)
            term = asarray_like(np.where(ok, w, 0.0).reshape(shape), ext) * vals
            acc = term if acc is None else acc + term
        result = np.where(usable, acc, result)
        todo &= ~usable
    result = np.where(todo, np.nan, result)
    if time:  # one rounding per patched point; the others keep numpy's integer results
        patched = np.take(bad, rows, axis=axis)
        result = np.where(patched, ticks_from_numbers(result, res.dtype), original)
    index = [slice(None)] * f.ndim
    index[axis] = rows
    res[tuple(index)] = result


def _readable(x: Any) -> Any:
    """What a fallback stencil reads: time as float64 tick counts, NaN where a point is
    missing (NaN, NaT, or masked in a masked array), as a plain array of the data's library."""
    numbers = time_as_numbers(x)
    if isinstance(numbers, np.ma.MaskedArray):
        return np.where(np.ma.getmaskarray(numbers), np.nan, numbers.data)
    return plain_array(numbers)


def _host(rows: Any) -> np.ndarray:
    """Row numbers (a few, 1-D) as numpy: cupy copies them off the device only when asked
    (``.get()``; it refuses ``np.asarray``); other duck arrays convert as usual."""
    if isinstance(rows, np.ndarray):
        return rows
    get = getattr(rows, "get", None)
    return np.asarray(get() if callable(get) else rows)
