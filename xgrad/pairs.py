"""Where two horizontal derivatives and their combination run as one compiled pass
(:mod:`xgrad._compiled_pairs`).

:func:`xgrad.blocks.block_gradients` asks :func:`run` first when its ``combine`` names a
compiled pair kernel (``combine.pairs = (name, picks)``, set by the kinematics'
``_Fused.run`` and by :mod:`xgrad.vector` for the divergence, curl, magnitude and
Laplacian). :func:`run` answers False, having written nothing, unless the block is a numpy
array of a real float dtype, C-contiguous, large enough for the compiled kernels, whose
derivatives are along its last two axes (the Laplacian: two second derivatives and the
latitude's first), each over the whole axis (no halos: an in-memory array, or a dask block
chunked along neither axis), at accuracy 2 with no NaN fallback, with factors the kernels
take in their pass; and the combination's other inputs and result are C-contiguous arrays
of the block's shape and dtype.  The block's rows are split into one contiguous piece
per thread.  Pure Python: numba is imported only when a pass runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .kernels import _compact_scale, _edge_args, _row_terms, bulk_args, compiled_wanted
from .stencils import AxisPlan
from .threads import in_parallel

__all__ = ["KERNELS", "run", "second_args"]

#: The combinations with a compiled pair kernel: name -> (fields beside the block, results).
KERNELS = {
    "advection": (0, 1),
    "deformation": (1, 3),
    "vector_gradient": (1, 4),
    "frontogenesis": (2, 1),
    "flux": (1, 1),
    "magnitude": (0, 1),
    "laplacian": (0, 1),
}

#: The kernels whose ``picks`` start with the winds' operands (u, v).
_WINDS = ("advection", "deformation", "vector_gradient", "frontogenesis")

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def axis_args(f: np.ndarray, plan: AxisPlan) -> tuple | None:
    """``(uniform, periodic, two_dx, a, b, c, kinds, e1, e2)`` of ``plan`` for the kernels
    (:func:`xgrad.kernels.bulk_args`' operand types, ``_edge_args``' edge stencils), or None
    where the bulk kernels would not take them (the tiles' own path is then the only one)."""
    if plan.weights is not None or plan.fallback is not None or plan.order != 1:
        return None
    coef = None if plan.uniform else tuple(np.ascontiguousarray(w) for w in plan.coef)
    wt, args = bulk_args(f.dtype, plan, coef)  # the tiles' operand types
    if wt not in _FLOATS:
        return None
    if plan.uniform:
        dummy = np.zeros(1)
        (two_dx,), coef = args, (dummy, dummy, dummy)
    else:
        if any(w.dtype != np.float64 or w.shape != (plan.n,) for w in coef):
            return None
        two_dx = wt.type(1)  # unused: typed as the uniform case's would be
    ends = (0, 0) if plan.periodic else (plan.edge_order, plan.edge_order)
    kinds, e1, e2 = _edge_args(f.dtype, wt, plan, ends)
    if tuple(kinds) != ends:  # the two ends promote differently: the tiles' path
        return None
    return (plan.uniform, plan.periodic, two_dx, *coef, kinds, e1, e2)


def second_args(f: np.ndarray, plan: AxisPlan) -> tuple | None:
    """``(offsets, weights, columns, ends, h)`` of an accuracy-2 second-derivative plan for
    the weighted kernels, as the tiles build them (``kernels._bulk_weighted``,
    ``_weighted_compiled``): the bulk rows' offsets and weights (one shared row where the
    plan is uniform), the same as ``(3, n - 2h)`` columns for the last axis, and every row
    outside the bulk as ``ends = (rows, index, weights, counts)`` (``_row_terms``' terms; a
    periodic seam's indices wrapped), or None where the tiles' own path is the only one."""
    if plan.order != 2 or plan.accuracy != 2 or plan.fallback is not None:
        return None
    n, h = plan.n, plan.accuracy // 2
    if plan.uniform:
        terms = _row_terms(plan, h)
        offsets = np.array([o for o, _ in terms], dtype=np.int64)
        weights = np.array([[w for _, w in terms]])
    else:
        offsets = np.arange(-h, h + 1, dtype=np.int64)
        weights = np.ascontiguousarray(plan.weights[:, : 2 * h + 1])
    if n <= 2 * h or offsets.shape[0] != 3 or weights.dtype != np.float64:
        return None
    bulk = weights if plan.uniform else weights[h : n - h]
    columns = np.ascontiguousarray(np.broadcast_to(bulk, (n - 2 * h, 3)).T)
    rows = [*range(h), *range(n - h, n)]
    found = [[(g + off, w) for off, w in _row_terms(plan, g)] for g in rows]
    width = max(len(t) for t in found)
    index = np.zeros((len(rows), width), dtype=np.int64)
    coef = np.zeros((len(rows), width))
    for e, terms in enumerate(found):
        at = [k % n if plan.periodic else k for k, _ in terms]
        if not all(0 <= k < n for k in at):
            return None
        index[e, : len(terms)] = at
        coef[e, : len(terms)] = [w for _, w in terms]
    counts = np.array([len(t) for t in found], dtype=np.int64)
    ends = (np.array(rows, dtype=np.int64), index, coef, counts)
    return offsets, weights, columns, ends, h


def run(
    name: str,
    picks: tuple,
    f: Any,
    fields: Sequence[Any],
    axes: Sequence[int],
    plans: Sequence[AxisPlan],
    starts: Sequence[int],
    scales: Sequence[Any],
    operands: Sequence[Any],
    results: Sequence[Any],
    premultiply: Any,
    threads: int,
) -> bool:
    """Kernel ``name`` of :mod:`xgrad._compiled_pairs` on block ``f`` (and ``fields``, other
    blocks differentiated alongside) into ``results``; False (nothing written) where it does
    not apply (module docstring).  The formula's x is the derivative along ``axes[0]``.
    ``picks``: the operands the kernel reads, by index: ``(u, v)`` for ``advection``, ``(u,
    v, tan)`` for the kinematics (``tan`` None without the sphere's metric terms), ``(sec,
    sign)`` for ``flux`` (the divergence or curl of ``fields[0]`` along x and ``f *
    premultiply`` along y; ``premultiply`` is for ``flux`` only), ``()`` for
    ``magnitude``."""
    nd = np.ndim(f)
    if (
        type(f) is not np.ndarray
        or nd < 2
        or f.dtype not in _FLOATS
        or sorted(set(axes)) != [nd - 2, nd - 1]
        or any(s != 0 for s in starts)
        or any(f.shape[k] != p.n for k, p in zip(axes, plans))
        or not compiled_wanted(f.size)
        or f.size == 0
        or len(fields) != KERNELS[name][0]
        or len(results) != KERNELS[name][1]
        or (premultiply is not None) != (name == "flux")
    ):
        return False
    if name == "laplacian":
        return _laplacian(picks, f, axes, plans, scales, operands, results[0], threads)
    if len(axes) != 2:
        return False
    flux = name == "flux"
    winds = [operands[k] for k in picks[:2]] if name in _WINDS else []
    full = [f, *fields, *winds, *results]
    if not all(_fits(a, f) for a in full):
        return False
    x_first = axes[0] == nd - 1  # the formula's x is the derivative along the last axis
    x_at = 0 if x_first else 1
    y_at = 1 - x_at
    x, y = axis_args(f, plans[x_at]), axis_args(f, plans[y_at])
    if x is None or y is None:
        return False
    compact = []
    for j in (y_at, x_at):
        s = scales[j]
        c = None if s is None else _compact_scale(s, f, results[0], nd - 2)
        if s is not None and c is None:
            return False
        compact.append(c)
    # (P, m, Q) views: leading dims folded, y along axis 1, x along axis 2
    P, m, Q = math.prod(f.shape[:-2]), f.shape[-2], f.shape[-1]
    extra: tuple = ()
    if flux:  # cos and sec of the latitude, along axis -2, the sign
        lines = [_metric_line(a, nd, m, f.dtype) for a in (premultiply, operands[picks[0]])]
        if not x_first or y[1] or any(a is None for a in lines):
            return False
        extra = (*lines, picks[1])
    elif len(picks) == 3:  # the metric terms' tan(phi)/N per row of axis -2
        tan = None if picks[2] is None else operands[picks[2]]
        line = _metric_line(tan, nd, m, f.dtype) if x_first or tan is None else None
        if line is None:  # tan along the last axis, or not a line of the working dtype
            return False
        extra = (line, tan is not None)
    arrays = [a.reshape(P, m, Q) for a in full]
    ins, outs = arrays[: len(full) - len(results)], arrays[len(full) - len(results) :]

    from . import _compiled, _compiled_pairs

    rows = max(1, _compiled_pairs.BAND // max(Q, 1))
    kernel = getattr(_compiled_pairs, name)
    sources = 1 + len(fields)

    def piece(bounds: tuple[int, int]) -> None:
        # per source its y band (with the edge rows) and x band; for flux f's y band, the
        # field's x band and the rows of f * premultiply
        ys, xs = (1, rows + 4, Q), (1, rows, Q)
        shapes = [ys, xs, ys] if flux else [ys, xs] * sources
        bufs = [np.empty(shape, f.dtype) for shape in shapes]
        edges = np.zeros(2, dtype=np.int64)
        # (sources, winds, [tan line, metric], results, ...)
        grid = (y, x, *compact, x_first)
        args = (*ins, *extra, *outs, grid, *bounds, tuple(bufs), edges)
        kernel(*args, _compiled.FUSED_CMUL)

    return _split(piece, P * m, threads)


#: The Laplacian's roles the kernel takes (``combinations.laplacian_of``'s terms, the codes
#: of ``_vector_kernels._term``): along axis -2 Cartesian or the latitude, along axis -1
#: Cartesian or the longitude (their metric lines vary along the latitude, axis -2).
_ROLES_Y = {None: 0, "latitude": 1}
_ROLES_X = {None: 0, "longitude": 2}


def _laplacian(
    terms: tuple,
    f: np.ndarray,
    axes: Sequence[int],
    plans: Sequence[AxisPlan],
    scales: Sequence[Any],
    operands: Sequence[Any],
    out: Any,
    threads: int,
) -> bool:
    """``_compiled_pairs.laplacian``: ``terms`` are :func:`xgrad.combinations.laplacian_of`'s
    (per dim ``(role, k, r2, first, metric)``), the second derivatives along ``axes[:2]``,
    the latitude's first derivative (where there is one) along ``axes[2]``."""
    nd = f.ndim
    if len(terms) != 2 or any(s is not None for s in scales) or not _fits(out, f):
        return False
    y_at = 0 if axes[0] == nd - 2 else 1
    (ry, ky, r2y, first, my), (rx, kx, r2x, _, mx) = terms[y_at], terms[1 - y_at]
    if ry not in _ROLES_Y or rx not in _ROLES_X or len(axes) != 2 + (ry is not None):
        return False
    scalars = (ky * ky, r2y, kx * kx, r2x)
    if not all(type(c) is float for c in scalars):  # laplacian_of's loops take these alone
        return False
    y2, x2 = second_args(f, plans[y_at]), second_args(f, plans[1 - y_at])
    m = f.shape[-2]
    y1, tan, metric = None, np.zeros(m, f.dtype), np.zeros(m, f.dtype)
    if ry is not None:  # the latitude's first derivative and tan(phi) k per row
        if first != 2 or axes[2] != nd - 2:
            return False
        y1 = axis_args(f, plans[2])
        tan = _metric_line(operands[my], nd, m, f.dtype)
    if rx is not None:
        metric = _metric_line(operands[mx], nd, m, f.dtype)
    if any(a is None for a in (y2, x2, tan, metric)) or (ry is not None and y1 is None):
        return False
    P, Q = math.prod(f.shape[:-2]), f.shape[-1]
    f3, out3 = f.reshape(P, m, Q), out.reshape(P, m, Q)
    coef = np.array(scalars, dtype=f.dtype)  # the loops' `scalar(c)`, `scalar(q)`
    grid = (y2, x2, y1, _ROLES_Y[ry], _ROLES_X[rx], y_at == 0)

    from . import _compiled, _compiled_pairs

    rows = max(1, _compiled_pairs.BAND // max(Q, 1))

    def piece(bounds: tuple[int, int]) -> None:
        bufs = (
            np.empty((1, rows + 4, Q), f.dtype),  # the second derivative along axis -2
            np.empty((1, rows, Q), f.dtype),  # along axis -1
            np.empty((1, rows + 4, Q), f.dtype),  # the first along axis -2
            np.empty(Q, np.float64),  # the weighted kernels' scratch (unused at 3 points)
        )
        edges = np.zeros(2, dtype=np.int64)
        args = (f3, tan, metric, coef, out3, grid, *bounds, bufs, edges)
        _compiled_pairs.laplacian(*args, _compiled.FUSED_CMUL)

    return _split(piece, P * m, threads)


def _split(piece: Any, total: int, threads: int) -> bool:
    """``piece((row0, row1))`` over ``total`` flat rows in one contiguous piece per thread."""
    n = max(1, min(threads, total))
    cuts = [total * k // n for k in range(n + 1)]
    in_parallel(piece, [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a])
    return True


def _fits(a: Any, f: np.ndarray) -> bool:
    """Whether ``a`` is a C-contiguous numpy array of ``f``'s shape and dtype."""
    return (
        type(a) is np.ndarray and a.shape == f.shape and a.dtype == f.dtype and a.flags.c_contiguous
    )


def _metric_line(tan: Any, nd: int, m: int, dtype: np.dtype) -> np.ndarray | None:
    """``tan`` (broadcastable, varying along axis -2 only) as a C-contiguous line of ``m``
    values of ``dtype``; zeros where there is none; None where it is something else."""
    if tan is None:
        return np.zeros(m, dtype)
    if type(tan) is not np.ndarray or tan.dtype != dtype or tan.ndim > nd:
        return None
    shape = (1,) * (nd - tan.ndim) + tan.shape
    if shape[-2] not in (1, m) or any(k != 1 for i, k in enumerate(shape) if i != nd - 2):
        return None
    return np.ascontiguousarray(np.broadcast_to(tan.reshape(shape[-2:]), (m, 1))[:, 0])
