"""Where a combination of two derivatives runs as one compiled pass (:mod:`xgrad._compiled_pairs`).

:func:`xgrad.blocks.block_gradients` asks :func:`run` first when its ``combine`` names a
compiled pair kernel (``combine.pairs``, set by :func:`xgrad._fused.pair_kernel`'s caller).
:func:`run` answers False, having written nothing, unless the block is a numpy array of a
real float dtype, C-contiguous, large enough for the compiled kernels, whose two derivatives
are along its last two axes, each over the whole axis (no halos: an in-memory array, or a
dask block chunked along neither axis), at accuracy 2 with no NaN fallback, with factors the
kernels take in their pass; and the combination's other inputs and result are C-contiguous
arrays of the block's shape and dtype.  The block's rows are split into one contiguous piece
per thread.  Pure Python: numba is imported only when a pass runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .kernels import _compact_scale, _edge_args, _working_dtype, compiled_wanted
from .stencils import AxisPlan
from .threads import in_parallel

__all__ = ["KERNELS", "run"]

#: The combinations with a compiled pair kernel: name -> number of operands.
KERNELS = {"advection": 2}

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def axis_args(f: np.ndarray, plan: AxisPlan) -> tuple | None:
    """``(uniform, periodic, two_dx, a, b, c, kinds, e1, e2)`` of ``plan`` for the kernels
    (``kernels._bulk``'s operand types and ``_edge_args``' edge stencils), or None where the
    bulk kernels would not take them (the tiles' own path is then the only one)."""
    if plan.weights is not None or plan.fallback is not None or plan.order != 1:
        return None
    dummy = np.zeros(1)
    if plan.uniform:
        wt = _working_dtype(f.dtype, plan.two_dx)  # NEP 50 promotion of `diff / (2.*dx)`
        if wt not in _FLOATS:
            return None
        two_dx, coef = wt.type(plan.two_dx), (dummy, dummy, dummy)
    else:
        coef = tuple(np.ascontiguousarray(w) for w in plan.coef)
        wt = _working_dtype(coef[0].dtype, f.dtype)
        if wt not in _FLOATS or any(w.dtype != np.float64 or w.shape != (plan.n,) for w in coef):
            return None
        two_dx = wt.type(1)  # unused: typed as the uniform case's would be
    ends = (0, 0) if plan.periodic else (plan.edge_order, plan.edge_order)
    kinds, e1, e2 = _edge_args(f.dtype, wt, plan, ends)
    if tuple(kinds) != ends:  # the two ends promote differently: the tiles' path
        return None
    return (plan.uniform, plan.periodic, two_dx, *coef, kinds, e1, e2)


def run(
    name: str,
    args: tuple,
    f: Any,
    axes: Sequence[int],
    plans: Sequence[AxisPlan],
    starts: Sequence[int],
    scales: Sequence[Any],
    operands: Sequence[Any],
    results: Sequence[Any],
    threads: int,
) -> bool:
    """Kernel ``name`` of :mod:`xgrad._compiled_pairs` on block ``f`` into ``results``; False
    (nothing written) where it does not apply (module docstring).  ``args``: which of the
    combination's derivative slots the derivative along ``axes[0]`` fills first (``(0, 1)``)
    or second (``(1, 0)``), and the operands it reads, in its order."""
    nd = np.ndim(f)
    if (
        type(f) is not np.ndarray
        or nd < 2
        or f.dtype not in _FLOATS
        or not f.flags.c_contiguous
        or len(axes) != 2
        or sorted(axes) != [nd - 2, nd - 1]
        or any(s != 0 for s in starts)
        or any(f.shape[k] != p.n for k, p in zip(axes, plans))
        or not compiled_wanted(f.size)
        or f.size == 0
    ):
        return False
    order, picks = args
    inputs = [operands[k] for k in picks]
    if len(results) != 1 or len(inputs) != KERNELS[name]:
        return False
    out = results[0]
    for a in (*inputs, out):
        if type(a) is not np.ndarray or a.shape != f.shape or a.dtype != f.dtype:
            return False
        if not a.flags.c_contiguous:
            return False
    x_at = axes.index(nd - 1)  # the derivative along the last axis: axes[x_at]
    y_at = 1 - x_at
    x, y = axis_args(f, plans[x_at]), axis_args(f, plans[y_at])
    if x is None or y is None:
        return False
    compact = []
    for j in (y_at, x_at):
        s = scales[j]
        c = None if s is None else _compact_scale(s, f, out, nd - 2)
        if s is not None and c is None:
            return False
        compact.append(c)
    sy, sx = compact
    # (P, m, Q) views: leading dims folded, y along axis 1, x along axis 2
    P, m, Q = math.prod(f.shape[:-2]), f.shape[-2], f.shape[-1]
    f3, out3 = f.reshape(P, m, Q), out.reshape(P, m, Q)
    inputs3 = [a.reshape(P, m, Q) for a in inputs]
    x_first = order[x_at] == 0  # the derivative along the last axis is the combination's first

    from . import _compiled, _compiled_pairs

    rows = max(1, _compiled_pairs.BAND // max(Q, 1))
    fused = _compiled.FUSED_CMUL
    kernel = getattr(_compiled_pairs, name)

    def piece(bounds: tuple[int, int]) -> None:
        ybuf = np.empty((1, rows + 4, Q), dtype=out.dtype)
        xbuf = np.empty((1, rows, Q), dtype=out.dtype)
        edges = np.zeros(2, dtype=np.int64)
        kernel(f3, *inputs3, out3, y, x, sy, sx, x_first, *bounds, ybuf, xbuf, edges, fused)

    total = P * m
    n = max(1, min(threads, total))
    cuts = [total * k // n for k in range(n + 1)]
    in_parallel(piece, [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a])
    return True
