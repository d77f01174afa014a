"""Layer 2: apply an :class:`~xgrad.stencils.AxisPlan` along one axis of an in-memory block.

A *block* is rows ``[start, start + m)`` of the global axis.  Its rows ``1 .. m-2`` read only
the block itself (the *bulk*, done by a compiled kernel or by the NumPy reference);
its first and last rows read one neighbour across the block face, given as a thin *halo*
(``before``: rows just before the block, ``after``: rows just after).  Only the global first
and last rows get numpy's one-sided edge stencils, so the same code is right for a whole
array (no halos) and for any block of any chunking.  The NaN fallback (``nan="one-sided"``)
and time data beyond numpy's stencils are the driver's (:mod:`xgrad.blocks`).

Every formula is numpy.gradient's own expression on the same operand types, so the results
are bit-for-bit numpy's.  The compiled and the NumPy paths give the same bits
(``tests/test_kernels.py``); the NumPy path serves duck arrays (cupy), subclasses (masked
arrays) and dtypes the kernels do not take (float16, datetime).  How a block of any memory
layout reaches the compiled kernels (views, strides) is :mod:`xgrad.layouts`.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from .arrays import asarray_like
from .layouts import _as_3d, _as_3d_pair, _bulk_strided, _contiguous, _groups, _rows_strided
from .stencils import AxisPlan

__all__ = ["axis_gradient", "compiled", "compiled_wanted", "working_array"]

_COMPILED_DTYPES = tuple(map(np.dtype, (np.float32, np.float64, np.complex64, np.complex128)))
# Below this many elements the NumPy path is as fast and avoids importing numba at all, so
# a script of small arrays never pays for it (docs/performance.md, "First-call latency").
_MIN_COMPILED_SIZE = 32_768
_state = threading.local()


@contextlib.contextmanager
def compiled(mode: bool | None) -> Iterator[None]:
    """Force (True), forbid (False) or auto-select (None) the compiled bulk kernels.

    For tests and benchmarks; both paths give identical bits.
    """
    old = getattr(_state, "mode", None)
    _state.mode = mode
    try:
        yield
    finally:
        _state.mode = old


def compiled_wanted(size: int) -> bool:
    """Whether numpy arrays of ``size`` elements go to compiled code (numba) or stay on the
    NumPy path (the same bits): as the kernels decide, for :func:`compiled` and for
    :data:`_MIN_COMPILED_SIZE` (small arrays never import numba)."""
    mode = getattr(_state, "mode", None)
    return mode is not False and (mode is True or size >= _MIN_COMPILED_SIZE)


def working_array(f: Any) -> Any:
    """What numpy.gradient differentiates: datetime64 viewed as timedelta64, ints as float64."""
    if f is None:
        return None
    kind = f.dtype.kind
    if kind == "M":
        return f.view(np.dtype(f.dtype.name.replace("datetime", "timedelta")))
    if kind in "iu":
        return f.astype(np.float64)
    return f


def _index(ndim: int, axis: int, i: Any) -> tuple:
    return (slice(None),) * axis + (i,) + (slice(None),) * (ndim - axis - 1)


def axis_gradient(
    f: Any,
    axis: int,
    plan: AxisPlan,
    start: int,
    before: Any,
    after: Any,
    out: Any,
    rows: tuple[int, int] | None = None,
    scale: Any = None,
) -> None:
    """Write d f / d(axis) for the block ``f`` (global rows ``start .. start+m-1``) into ``out``.

    ``before``/``after`` hold the rows just before/after the block along ``axis`` (same shape
    as ``f`` elsewhere), at least as many as ``plan.rows_needed(start, m)``; ``None`` where
    none are needed.  ``out`` must have ``f``'s shape and the output dtype.  ``rows=(i0, i1)``
    computes only those local rows (the tiled driver walks a block in pieces this way).
    ``scale`` (None, a number, or an array broadcastable against ``f`` whose product with
    ``out`` keeps ``out``'s dtype: a metric factor) multiplies the rows written, with the bits
    of ``out * scale``: inside the compiled kernels' pass where they take it (each row while
    it is in L1), afterwards elsewhere.

    The plan's regular stencils only: a plan's NaN fallback (``plan.fallback``) is applied
    by the driver, :func:`xgrad.blocks.block_gradients`, once every row exists.
    """
    f, before, after = working_array(f), working_array(before), working_array(after)
    m = f.shape[axis]
    i0, i1 = (0, m) if rows is None else rows
    b0, b1 = (1, m - 1) if plan.weights is None else _weighted_range(plan, start, m)
    b0, b1 = max(b0, i0), min(b1, i1)
    scaled = False  # whether the bulk kernel multiplied its rows by `scale`
    if b1 > b0:
        done: tuple[int, ...] = ()
        if plan.weights is None:
            ends = _global_ends(plan, start, m, i0, i1)
            done, scaled = _bulk(f, axis, plan, start, out, b0, b1, ends, scale)
        else:
            done, scaled = _bulk_weighted(f, axis, plan, start, out, b0, b1, (i0, i1), scale)
        edges: Any = [i for i in (*range(i0, b0), *range(b1, i1)) if i not in done]
    else:
        edges = range(i0, i1)
    if not _numpy_ends(f, axis, plan, start, out, edges):
        for i in edges:
            _row(f, axis, plan, start, before, after, out, i)
    if scale is None:
        return
    nd = f.ndim
    for lo, hi in [(i, i + 1) for i in edges] if scaled else [(i0, i1)]:
        scale_in_place(out[_index(nd, axis, slice(lo, hi))], _rows_of(scale, nd, axis, lo, hi))


def scale_in_place(out: Any, scale: Any) -> None:
    """``out *= scale`` with the bits of ``out * scale`` (numpy's same ufunc loop).

    Duck arrays need not take ``out=`` in a ufunc: they get ``out[...] = out * scale``."""
    if scale is None:
        return
    if isinstance(out, np.ndarray):
        np.multiply(out, scale, out=out)
    else:
        out[...] = out * scale


def _rows_of(scale: Any, nd: int, axis: int, lo: int, hi: int) -> Any:
    """The part of ``scale`` (broadcastable against an ``nd``-dim block, trailing dims
    aligned) that meets the block's rows ``lo .. hi-1`` along ``axis``."""
    k = axis - nd + np.ndim(scale)  # the scale's dim under the block's `axis`
    if k < 0 or np.shape(scale)[k] == 1:
        return scale
    return scale[(slice(None),) * k + (slice(lo, hi),)]


def _global_ends(plan: AxisPlan, start: int, m: int, i0: int, i1: int) -> tuple[int, int]:
    """Per end of the block: the edge order if it is a global end whose whole stencil lies in
    the block and in rows ``i0 .. i1-1``, else 0 (the bulk kernel may then do it in passing)."""
    if plan.periodic or m <= plan.edge_order:
        return 0, 0
    first = plan.edge_order if start == 0 and i0 == 0 else 0
    last = plan.edge_order if start + m == plan.n and i1 == m else 0
    return first, last


def _weighted_range(plan: AxisPlan, start: int, m: int) -> tuple[int, int]:
    """Local rows whose (central) stencil lies inside the block."""
    h = plan.accuracy // 2
    if plan.periodic:
        return h, m - h
    return max(h, h - start), min(m - h, plan.n - h - start)


def _numpy_ends(f: Any, axis: int, plan: AxisPlan, start: int, out: Any, edges: Any) -> bool:
    """Where ``edges`` are the two global ends of a whole small axis (the NumPy path): numpy's
    edge stencils written as :func:`_row` writes them, without its per-row setup (a
    ``xgrad.gradient`` of a (50, 60) array spent 24 of its 111 us on its four edge rows in
    ``_row``).  False, having written nothing, anywhere else."""
    m = f.shape[axis]
    if (
        plan.weights is not None
        or plan.periodic
        or start != 0
        or m != plan.n
        or len(edges) != 2
        or edges[0] != 0
        or edges[1] != m - 1
        or _rows_compiled(f, m)
    ):
        return False
    nd, e = f.ndim, plan.edge_order
    for i, k, scalars in ((0, 0, plan.first_edge), (m - 1, m - 1 - e, plan.last_edge)):
        rows = [f[_index(nd, axis, j)] for j in range(k, k + e + 1)]
        out[_index(nd, axis, i)] = _edge_stencil(rows, scalars)
    return True


def _rows_compiled(f: Any, m: int) -> bool:
    """Whether the rows of block ``f`` (``m`` along the axis) go to the compiled row kernels:
    where a row is large enough for them (:func:`_row_views`); small arrays skip building
    their views and probing the dtypes."""
    return m > 0 and compiled_wanted(64 * (f.size // m))


def _edge_stencil(r: list, scalars: tuple) -> Any:
    """numpy's edge stencil on rows ``r`` (indexed with an integer, as numpy does):
    ``(f[1] - f[0]) / dx``, or ``a * f[0] + b * f[1] + c * f[2]``."""
    if len(scalars) == 1:
        return (r[1] - r[0]) / scalars[0]
    a, b, c = scalars
    return a * r[0] + b * r[1] + c * r[2]


def _row(f: Any, axis: int, plan: AxisPlan, start: int, before: Any, after: Any, out: Any, i: int):
    """One row next to a block face: a global edge stencil or a central one across the face."""
    nd = f.ndim
    m = f.shape[axis]

    def row(j: int, keep: bool = True) -> Any:
        if j < 0:
            src, jj = before, before.shape[axis] + j
        else:
            src, jj = (f, j) if j < m else (after, j - m)
        # numpy indexes edge rows with an integer (a scalar for 1-D input) and computes the
        # interior with slices; do the same so scalar and array arithmetic line up.
        return src[_index(nd, axis, slice(jj, jj + 1) if keep else jj)]

    g = start + i
    fast = _rows_compiled(f, m)
    target = out[_index(nd, axis, slice(i, i + 1))] if fast else None
    if plan.weights is not None:
        terms = _row_terms(plan, g)
        if fast and _terms_compiled(axis, [(w, row(i + off)) for off, w in terms], target):
            return
        value = terms[0][1] * row(i + terms[0][0])
        for off, w in terms[1:]:
            value = value + w * row(i + off)
    elif not plan.periodic and (g == 0 or g == plan.n - 1):
        # numpy's edge stencils: (f[1] - f[0]) / dx, or a * f[0] + b * f[1] + c * f[2]
        scalars = plan.first_edge if g == 0 else plan.last_edge
        k = i if g == 0 else i - plan.edge_order  # the stencil's first row
        points = range(k, k + plan.edge_order + 1)
        if fast and _row_compiled(axis, [row(j) for j in points], scalars, target):
            return
        out[_index(nd, axis, i)] = _edge_stencil([row(j, False) for j in points], scalars)
        return
    elif plan.uniform:
        if fast and _row_compiled(axis, [row(i - 1), row(i + 1)], (plan.two_dx,), target):
            return
        value = (row(i + 1) - row(i - 1)) / plan.two_dx
    else:
        a, b, c = (w[g] for w in plan.coef)
        if fast and _row_compiled(axis, [row(i - 1), row(i), row(i + 1)], (a, b, c), target):
            return
        value = a * row(i - 1) + b * row(i) + c * row(i + 1)
    out[_index(nd, axis, slice(i, i + 1))] = value


def _row_views(
    axis: int, rows: list, scalars: Any, out: Any
) -> tuple[list | None, np.dtype] | None:
    """``(P, Q)`` views of ``rows`` and ``out`` for the compiled row kernels (None in their
    place where those would not be C-contiguous: the strided row kernels take them), with
    numpy's working dtype of ``rows`` and ``scalars`` (NEP 50: Python floats are weak,
    numpy's strong); None where the compiled path does not apply."""
    wt = _row_dtype(rows, scalars, out)
    if wt is None:
        return None
    views = [_as_3d(r, axis) for r in (*rows, out)]
    if any(v is None or not v.flags.c_contiguous for v in views):
        return None, wt
    return [v[:, 0, :] for v in views], wt


def _row_dtype(rows: list, scalars: Any, out: Any) -> np.dtype | None:
    """numpy's working dtype of ``rows`` and ``scalars`` (NEP 50: Python floats are weak,
    numpy's strong) where the compiled row kernels apply, else None."""
    f = rows[0]
    if not all(type(r) is np.ndarray and r.dtype == f.dtype for r in rows):
        return None
    if any(np.iscomplexobj(s) for s in scalars):  # the kernels' weights are real
        return None
    wt = _working_dtype(f.dtype, *scalars)
    # one row: the compiled call pays off at far fewer elements than a block (its NumPy
    # alternative makes temporaries; docs/performance.md), hence the scaled size
    if wt is None or not _use_compiled(f, out, wt, size=f.size * 64):
        return None
    return wt


def _face_views(arrays: list) -> list:
    """Same-shape arrays of at most 3 dims as 3-D views (leading length-1 dims added), their
    dims in one order: length-1 dims first, then the last array's strides, largest first."""
    out = arrays[-1]
    order = sorted(range(out.ndim), key=lambda d: (out.shape[d] > 1, -abs(out.strides[d])))
    pad = (None,) * (3 - out.ndim) + (...,)
    return [a.transpose(order)[pad] for a in arrays]


def _row_compiled(axis: int, rows: list, scalars: tuple, out: Any) -> bool:
    """One row with the compiled kernels: ``(rows[1] - rows[0]) / d`` for one scalar ``d``,
    ``a * rows[0] + b * rows[1] + c * rows[2]`` for three (numpy's formulas and operand
    types; False where the compiled path does not apply)."""
    if out.ndim <= 3:  # any layout: 3-D views, no flat buffers (_compiled_strided)
        wt = _row_dtype(rows, scalars, out)
        if wt is None:
            return False
        from . import _compiled, _compiled_strided

        views = _face_views([*rows, out])
        if len(scalars) == 1:
            _compiled_strided.uniform_face(*views, wt.type(scalars[0]))
        else:
            real = np.finfo(wt).dtype.type
            _compiled_strided.nonuniform_face(*views, *map(real, scalars), _compiled.FUSED_CMUL)
        return True
    found = _row_views(axis, rows, scalars, out)
    if found is None:
        return False
    flat, wt = found
    from . import _compiled

    if flat is None:
        return _rows_strided(axis, rows, scalars, wt, out)
    if len(scalars) == 1:
        _compiled.uniform_row(*flat, wt.type(scalars[0]))
    else:
        real = np.finfo(wt).dtype.type  # numpy casts a real weight to complex data's type
        _compiled.nonuniform_row(*flat, *map(real, scalars), _compiled.FUSED_CMUL)
    return True


def _terms_compiled(axis: int, terms: list[tuple[Any, Any]], out: Any) -> bool:
    """``sum_t w_t * row_t`` (an accuracy 4/6 row next to a face) with the compiled kernels:
    one pass per term into a scratch row of numpy's working dtype, no temporaries."""
    weights = [w for w, _ in terms]
    rows = [r for _, r in terms]
    if out.ndim <= 3:  # any layout: 3-D views (as _row_compiled)
        wt = _row_dtype(rows, weights, out)
        if wt is None:
            return False
        from . import _compiled, _compiled_strided

        *views, target = _face_views([*rows, out])
        acc = np.empty(target.shape, dtype=wt)
        real = np.finfo(wt).dtype.type
        for t, (w, r) in enumerate(zip(weights, views)):
            _compiled_strided.weighted_face(acc, real(w), r, t == 0, _compiled.FUSED_CMUL)
        target[...] = acc  # the reference's `out[...] = value`: the same cast
        return True
    found = _row_views(axis, rows, weights, out)
    if found is None:
        return False
    flat, wt = found
    if flat is None:
        return _rows_strided(axis, rows, weights, wt, out)
    from . import _compiled

    acc = np.empty(flat[-1].shape, dtype=wt)
    real = np.finfo(wt).dtype.type
    for t, (w, r) in enumerate(zip(weights, flat)):
        _compiled.weighted_row(acc, real(w), r, t == 0, _compiled.FUSED_CMUL)
    flat[-1][...] = acc  # the reference's `out[...] = value`: the same cast
    return True


def _row_terms(plan: AxisPlan, g: int) -> list[tuple[int, Any]]:
    """(offset, weight) of row ``g``'s stencil; uniform plans skip exact zeros (the centre)."""
    off = int(plan.offsets[g])
    ws = plan.weights[g, : plan.lengths[g]]
    return [(off + t, w) for t, w in enumerate(ws) if not (plan.uniform and w == 0.0)]


def _bulk_weighted(
    f: Any,
    axis: int,
    plan: AxisPlan,
    start: int,
    out: Any,
    i0: int,
    i1: int,
    rows: tuple[int, int] | None = None,
    scale: Any = None,
) -> tuple[tuple[int, ...], bool]:
    """Rows i0 .. i1-1 (central stencils inside the block) of an accuracy 4/6 plan; returns
    the other rows of ``rows`` (local, from .. to) it did too (:func:`_inner_ends`) and
    whether it multiplied them all by ``scale`` (as :func:`_bulk`)."""
    h = plan.accuracy // 2
    if plan.uniform:
        terms = _row_terms(plan, start + i0)
        offsets = np.array([o for o, _ in terms], dtype=np.int64)
        weights = np.array([[w for _, w in terms]])
    else:
        offsets = np.arange(-h, h + 1, dtype=np.int64)
        weights = plan.weights[start + i0 : start + i1, : 2 * h + 1]
    wt = _working_dtype(f.dtype, weights.dtype)
    if _use_compiled(f, out, wt):
        ends = None if rows is None else (plan, start, f.shape[axis], rows, (i0, i1))
        found = _weighted_compiled(f, axis, out, offsets, weights, i0, i1, ends, scale)
        if found is not None:
            return found
    nd = f.ndim
    shape = [1] * nd
    shape[axis] = -1

    def term(t: int) -> Any:
        w = weights[0, t] if plan.uniform else asarray_like(weights[:, t].reshape(shape), f)
        o = int(offsets[t])
        return w * f[_index(nd, axis, slice(i0 + o, i1 + o))]

    acc = term(0)
    for t in range(1, len(offsets)):
        acc = acc + term(t)
    out[_index(nd, axis, slice(i0, i1))] = acc
    return (), False


def _inner_ends(
    plan: AxisPlan, start: int, m: int, rows: tuple[int, int], bulk: tuple[int, int]
) -> list[tuple[int, list[tuple[int, Any]]]]:
    """``(local row, [(local index, weight), ...])`` of the rows of ``rows`` outside ``bulk``
    whose whole stencil (:func:`_row_terms`) lies inside the block: rows near a global end."""
    found = []
    for i in (*range(rows[0], bulk[0]), *range(bulk[1], rows[1])):
        terms = [(i + off, w) for off, w in _row_terms(plan, start + i)]
        if terms and 0 <= terms[0][0] and terms[-1][0] < m:
            found.append((i, terms))
    return found


def _bulk(
    f: Any,
    axis: int,
    plan: AxisPlan,
    start: int,
    out: Any,
    i0: int,
    i1: int,
    ends: tuple[int, int] = (0, 0),
    scale: Any = None,
) -> tuple[tuple[int, ...], bool]:
    """Rows i0 .. i1-1 (within 1 .. m-2) of the block: every stencil point inside the block.

    ``ends`` (from :func:`_global_ends`) offers the global edge rows too; returns the local
    rows of those it did, and whether it multiplied its rows by ``scale``
    (:func:`axis_gradient`'s; the C-contiguous compiled kernels take it).  The compiled
    kernels take the edge rows: along a contiguous last axis an edge "row" is a column, one
    element per cache line, cheap only while the bulk has the line in cache; elsewhere it
    saves a Python call per edge row and tile.
    """
    coef = None if plan.uniform else tuple(w[start + i0 : start + i1] for w in plan.coef)
    if compiled_wanted(f.size):  # small arrays skip the dtype probes
        wt, args = bulk_args(f.dtype, plan, coef)
        if _use_compiled(f, out, wt):
            ends_args = _edge_args(f.dtype, wt, plan, ends)
            found = _bulk_compiled(f, axis, out, plan, args, i0, i1, ends_args, scale)
            if found is not None:
                return found
    lead = (slice(None),) * axis
    s0, s1, s2 = (lead + (slice(i0 - 1 + k, i1 - 1 + k),) for k in range(3))  # trailing dims: all
    if plan.uniform:
        out[s1] = (f[s2] - f[s0]) / plan.two_dx
    else:
        shape = [1] * f.ndim
        shape[axis] = -1
        a, b, c = (asarray_like(w.reshape(shape), f) for w in coef)
        out[s1] = a * f[s0] + b * f[s1] + c * f[s2]
    return (), False


def bulk_args(dtype: np.dtype, plan: AxisPlan, coef: tuple | None) -> tuple[Any, tuple]:
    """``(wt, args)`` of the accuracy-2 bulk kernels for ``dtype`` data: numpy's working dtype
    (None where there is none) and, uniform, ``(two_dx,)`` as a scalar of it (NEP 50
    promotion of ``diff / (2.*dx)``; ``()`` where ``wt`` is not a compiled dtype), else the
    coefficient arrays ``coef`` (``plan.coef``'s rows the kernel computes)."""
    if not plan.real_weights:  # the kernels' weights are real float32/float64
        return None, ()
    if plan.uniform:
        wt = _working_dtype(dtype, plan.two_dx)
        ok = wt is not None and wt in _COMPILED_DTYPES
        return wt, ((wt.type(plan.two_dx),) if ok else ())
    return _working_dtype(coef[0].dtype, dtype), coef


def _edge_args(dtype: np.dtype, wt: np.dtype, plan: AxisPlan, ends: tuple[int, int]) -> tuple:
    """``(edges, e1, e2)`` for the compiled bulk kernels (see ``_compiled._edge_planes``).

    Each end's scalars are promoted with the data as numpy promotes them (Python floats are
    weak); where the two ends would differ, neither is offered."""
    kinds = list(ends)
    if any(kinds):
        edges = (plan.first_edge, plan.last_edge)
        types = {_working_dtype(dtype, *s) for k, s in zip(kinds, edges) if k}
        if len(types) != 1 or None in types:
            kinds = [0, 0]
        else:
            (wt,) = types
    real = np.finfo(wt).dtype
    e1 = np.ones(2, dtype=wt)
    e2 = np.zeros((2, 3), dtype=real)
    for side, (kind, scalars) in enumerate(zip(kinds, (plan.first_edge, plan.last_edge))):
        if kind == 1:
            e1[side] = scalars[0]
        elif kind == 2:
            e2[side] = scalars
    return np.array(kinds, dtype=np.int64), e1, e2


def _working_dtype(*operands: Any) -> np.dtype | None:
    """numpy's promotion of the operands, or None where the compiled path cannot apply
    (timedelta data, whose promotion with a float is not defined, goes the NumPy way)."""
    try:
        return np.result_type(*operands)
    except TypeError:  # DTypePromotionError subclasses TypeError
        return None


def _use_compiled(f: Any, out: Any, wt: np.dtype | None, size: int | None = None) -> bool:
    # `wt is not None` first: `None in _COMPILED_DTYPES` is True (np.dtype("float64") == None)
    return (
        wt is not None
        and type(f) is np.ndarray
        and type(out) is np.ndarray
        and f.dtype in _COMPILED_DTYPES
        and out.dtype in _COMPILED_DTYPES
        and wt in _COMPILED_DTYPES
        and compiled_wanted(f.size if size is None else size)
    )


def _weighted_compiled(
    f, axis, out, offsets, weights, i0, i1, ends, scale
) -> tuple[tuple[int, ...], bool] | None:
    """The compiled weighted bulk: the rows of :func:`_inner_ends` (``ends``: its arguments,
    or None) it did too and whether it multiplied by ``scale`` (:func:`_bulk`), or None
    where it cannot apply."""
    from . import _compiled

    if offsets.shape[0] < 3:  # the kernels sum a stencil's first three terms at once
        return None
    f3, o3 = _as_3d_pair(f, out, axis)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    fused = _compiled.FUSED_CMUL
    wt = np.result_type(f.dtype, weights.dtype)  # numpy sums `w * f` terms in this dtype
    if not _contiguous(f3, o3):
        if not _groups([f, out], axis):
            return None
        # the scratch row: pieces of Q (the middle kernel) or the axis' rows (the last)
        acc = np.empty(max(_compiled.ACC_PIECE, i1 - i0), dtype=wt)
        ran = _bulk_strided(f, axis, out, "weighted", offsets, weights, i0, i1, acc, fused)
        return ((), False) if ran else None
    s3 = None if scale is None else _compact_scale(scale, f, out, axis)
    if f3.shape[2] == 1:  # the rows near a global end are columns here: take them along
        ends = [] if ends is None else _inner_ends(*ends)
        acc = np.empty(i1 - i0, dtype=wt)
        columns = np.ascontiguousarray(np.broadcast_to(weights, (i1 - i0, len(offsets))).T)
        width = max((len(terms) for _, terms in ends), default=1)
        rows = np.array([i for i, _ in ends], dtype=np.int64)
        index = np.zeros((len(ends), width), dtype=np.int64)
        coef = np.zeros((len(ends), width))
        counts = np.array([len(terms) for _, terms in ends], dtype=np.int64)
        for e, (_, terms) in enumerate(ends):
            index[e, : len(terms)] = [k for k, _ in terms]
            coef[e, : len(terms)] = [w for _, w in terms]
        _compiled.weighted_last_axis(
            f3[:, :, 0],
            o3[:, :, 0],
            offsets,
            columns,
            i0,
            i1,
            acc,
            (rows, index, coef, counts),
            fused,
            None if s3 is None else s3[:, :, 0],
        )
        return tuple(int(i) for i in rows), s3 is not None
    acc = np.empty(min(f3.shape[2], _compiled.ROW_PIECE), dtype=wt)
    _compiled.weighted_middle_axis(f3, o3, offsets, weights, i0, i1, acc, fused, s3)
    return (), s3 is not None


def _bulk_compiled(
    f: np.ndarray,
    axis: int,
    out: np.ndarray,
    plan: AxisPlan,
    args: tuple,
    i0: int,
    i1: int,
    edge_args: tuple,
    scale: Any = None,
) -> tuple[tuple[int, ...], bool] | None:
    """The compiled bulk: the local edge rows it also did and whether it multiplied by
    ``scale`` (:func:`_bulk`), or None where it cannot apply."""
    from . import _compiled

    f3, o3 = _as_3d_pair(f, out, axis)
    s3 = None
    if not _contiguous(f3, o3):
        # any other layout: the strided kernels, the global edge rows too
        kind = "uniform" if plan.uniform else "nonuniform"
        if not _bulk_strided(f, axis, out, kind, *args, i0, i1, *edge_args, _compiled.FUSED_CMUL):
            return None
    else:
        s3 = None if scale is None else _compact_scale(scale, f, out, axis)
        if f3.shape[2] == 1:  # axis is the last one: keep the inner loop along it
            last = _compiled.uniform_last_axis, _compiled.nonuniform_last_axis
            kernel = last[0] if plan.uniform else last[1]
            f3, o3 = f3[:, :, 0], o3[:, :, 0]
            s3 = None if s3 is None else s3[:, :, 0]
        else:
            middle = _compiled.uniform_middle_axis, _compiled.nonuniform_middle_axis
            kernel = middle[0] if plan.uniform else middle[1]
        kernel(f3, o3, *args, i0, i1, *edge_args, _compiled.FUSED_CMUL, s3)
    first, last = edge_args[0]
    return (0,) * bool(first) + (f.shape[axis] - 1,) * bool(last), s3 is not None


def _compact_scale(scale: Any, f: np.ndarray, out: np.ndarray, axis: int) -> Any:
    """``scale`` (see :func:`axis_gradient`) for the C-contiguous kernels: a C-contiguous
    ``(P', m', Q')`` array of ``out``'s dtype over the block folded as ``(P, m, Q)``, each dim
    1 where the scale does not vary over it (the sphere's ``1/(R cos(lat))``: 1 along the
    longitude); None where the kernels do not take it (complex output: numpy multiplies by
    ``scale + 0j``; a layout not C-contiguous; a scale varying over so much of the block
    that compacting it would cost about what the multiply after the pass does).

    In the pass, ``along("lat", "lon")`` on the sphere, float32 ``(32, 721, 1440)``: 76.9 ->
    69.7 ms in memory, 76.0 -> 69.4 ms on dask blocks of 4 steps; float64 ``(8, 361, 720)``
    in memory 10.4 -> 9.1 ms (in-process A/B against the multiply after each tile, medians
    of 9-11 rounds; the kernel alone on 16.6 MB: 1.5-2 ms less than a multiply after it).
    The weighted kernels too: the same float32 array at ``accuracy=4``, 118.7 -> 94.6 ms in
    memory, 110.4 -> 97.7 ms on dask blocks (medians of 9)."""
    if out.dtype.kind != "f" or not (f.flags.c_contiguous and out.flags.c_contiguous):
        return None
    if np.ndim(scale) == 0:
        if not isinstance(scale, float | int | np.floating | np.integer | np.ndarray):
            return None
        return np.full((1, 1, 1), scale, dtype=out.dtype)  # `out * 0.1`: 0.1 in out's dtype
    if type(scale) is not np.ndarray or scale.ndim > f.ndim:
        return None
    nd = f.ndim
    s = scale.reshape((1,) * (nd - scale.ndim) + scale.shape)
    groups = (range(axis), range(axis, axis + 1), range(axis + 1, nd))
    target = [1] * nd
    for group in groups:
        if any(s.shape[d] > 1 for d in group):
            for d in group:
                target[d] = f.shape[d]
    if math.prod(target) > max(4096, f.size // 8):
        return None
    dense = np.ascontiguousarray(np.broadcast_to(s, target), dtype=out.dtype)
    return dense.reshape([math.prod(target[d] for d in group) for group in groups])
