"""How a block's memory reaches the compiled kernels: ``(P, m, Q)`` views or flat strided buffers.

The contiguous kernels of :mod:`xgrad._compiled` take a block folded into a C-contiguous
``(P, m, Q)`` view (the axis in the middle, the other dims merged before and after it):
:func:`_as_3d` folds by stride arithmetic, :func:`_as_3d_pair` also finds the permuted views
of a Fortran-ordered or transposed block.  Any other layout (a block of
``da.from_array(big)``, a negative step, a 4-D view) goes to the strided kernels of
:mod:`xgrad._compiled_strided` as a 1-D buffer with element strides: :func:`_groups` sorts and
merges the other dims, :func:`_bulk_strided` runs the bulk and :func:`_rows_strided` the rows
next to a face.  Split from :mod:`xgrad.kernels`, which decides what to compute and calls
these; nothing here imports it.  The compiled modules are imported lazily (``import xgrad``
does not import numba).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np


def _as_3d(a: np.ndarray, axis: int) -> np.ndarray | None:
    """``a`` as (before, axis, after) without copying, or None if its strides forbid it."""
    shape, strides = a.shape, a.strides
    if a.flags.c_contiguous:  # the usual tile: a reshape is the same view, ~0.3 us against
        # ~6-14 us for as_strided (numpy builds an object with an __array_interface__)
        return a.reshape(math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1 :]))
    folded = [_fold(shape[:axis], strides[:axis]), _fold(shape[axis + 1 :], strides[axis + 1 :])]
    if None in folded:
        return None
    (p, sp), (q, sq) = folded
    # not ``v.shape = ...``: where that fails numpy has made (and dropped) a whole copy first
    return np.lib.stride_tricks.as_strided(a, (p, shape[axis], q), (sp, strides[axis], sq))


def _fold(shape: tuple[int, ...], strides: tuple[int, ...]) -> tuple[int, int] | None:
    """Dims ``shape`` with ``strides`` as one dim ``(size, stride)``, or None where they do
    not fold."""
    dims = [(n, st) for n, st in zip(shape, strides) if n != 1]
    size = math.prod(shape)
    if not dims or size == 0:
        return size, 0  # no stride is ever applied
    for (_, s0), (n1, s1) in zip(dims, dims[1:]):
        if s0 != s1 * n1:
            return None
    return size, dims[-1][1]


def _as_3d_pair(f: np.ndarray, out: np.ndarray, axis: int) -> tuple[Any, Any]:
    """:func:`_as_3d` of ``f`` and ``out``; where that is not C-contiguous but some order of
    the dims is, in both (Fortran order, a transpose), the C-contiguous ``(P, m, Q)`` views
    of that order (same memory: the first kernels' loops then still run along memory)."""
    f3, o3 = _as_3d(f, axis), _as_3d(out, axis)
    if _contiguous(f3, o3):
        return f3, o3
    found = _groups([f, out], axis)
    if found is None:
        return f3, o3
    sa = abs(f.strides[axis])
    inner = [g for g in found[0] if abs(f.strides[g[-1]]) < sa]
    outer = [g for g in found[0] if abs(f.strides[g[-1]]) >= sa]
    if len(inner) > 1 or len(outer) > 1:
        return f3, o3
    p, q = (_size(f, g[0]) if g else 1 for g in (outer, inner))
    views = []
    for a in (f, out):
        it = a.itemsize
        sp, sq = (a.strides[g[0][-1]] if g else 0 for g in (outer, inner))
        if (
            (q > 1 and sq != it)
            or a.strides[axis] != q * it
            or (p > 1 and sp != a.shape[axis] * q * it)
        ):
            return f3, o3
        views.append(
            np.lib.stride_tricks.as_strided(a, (p, a.shape[axis], q), (sp, a.strides[axis], sq))
        )
    return views[0], views[1]


def _dense(a: np.ndarray) -> bool:
    """Whether ``a`` fills its memory without gaps in some order of its dims (C, Fortran, a
    transpose of either; any stride signs)."""
    if a.flags.c_contiguous or a.flags.f_contiguous:  # the usual block: no sort (~3 us)
        return True
    dims = sorted(((abs(st), n) for n, st in zip(a.shape, a.strides) if n != 1), reverse=True)
    if a.size == 0 or not dims:
        return True
    for (s0, _), (s1, n1) in zip(dims, dims[1:]):
        if s0 != s1 * n1:
            return False
    return dims[-1][0] == a.itemsize


def _contiguous(*views: np.ndarray | None) -> bool:
    """Whether the ``(P, m, Q)`` views exist and are C-contiguous: the first kernels' layout
    ('A'-layout arrays compile to loops that do not vectorise; the strided ones take those)."""
    return all(v is not None and v.flags.c_contiguous for v in views)


# Any layout: flat buffers, element strides.  A block that is a strided view (what
# ``da.from_array(big, chunks=...)`` and ``DataArray.chunk()`` hand each task, a transpose,
# a negative step) seldom folds into a C-contiguous ``(P, m, Q)`` view.  Its dims are
# instead sorted by stride, merged where memory allows, and handed to the strided kernels of
# :mod:`._compiled_strided` as a 1-D buffer with element strides, so their innermost loop runs along
# the smallest stride over contiguous slices (the reasons and measurements are there).


def _buffer(a: np.ndarray) -> tuple[np.ndarray, int] | None:
    """``a``'s memory as a 1-D C-contiguous array from its lowest address, and the index
    there of ``a``'s first element; None where a stride is not a whole number of items."""
    it = a.itemsize
    if a.size == 0 or any(st % it for st in a.strides):
        return None
    corner = a[
        tuple(slice(n - 1, n) if st < 0 else slice(0, 1) for n, st in zip(a.shape, a.strides))
    ]
    span = 1 + sum((n - 1) * abs(st) // it for n, st in zip(a.shape, a.strides))
    first = sum((n - 1) * -st // it for n, st in zip(a.shape, a.strides) if st < 0)
    return np.lib.stride_tricks.as_strided(corner, shape=(span,), strides=(it,)), first


def _groups(arrays: list, axis: int) -> tuple[list[list[int]], list] | None:
    """The dims of ``arrays`` (one shape) other than ``axis`` in groups that merge in every
    array, outermost first by the first array's strides; and each array's :func:`_buffer`."""
    a0 = arrays[0]
    bufs = [_buffer(a) for a in arrays]
    if any(b is None for b in bufs) or any(a.shape != a0.shape for a in arrays):
        return None
    dims = [d for d in range(a0.ndim) if d != axis and a0.shape[d] > 1]
    dims.sort(key=lambda d: -abs(a0.strides[d]))
    groups: list[list[int]] = []
    for d in dims:
        if groups and all(a.strides[groups[-1][-1]] == a.strides[d] * a.shape[d] for a in arrays):
            groups[-1].append(d)
        else:
            groups.append([d])
    return groups, bufs


def _size(a: np.ndarray, group: list[int]) -> int:
    return math.prod(a.shape[d] for d in group)


def _element_strides(a: np.ndarray, groups: list) -> np.ndarray:
    """Per group (a list of dims, or an int: that axis alone) ``a``'s stride in items."""
    it = a.itemsize
    strides = [
        a.strides[g] // it if isinstance(g, int) else a.strides[g[-1]] // it if g else 0
        for g in groups
    ]
    return np.array(strides, dtype=np.int64)


def _bulk_strided(f: np.ndarray, axis: int, out: np.ndarray, kernel: str, *args: Any) -> bool:
    """Run ``_compiled_strided.<kernel>_strided_{middle,last}(f, out, ..., *args)`` on any layout.

    The kernel takes ``(P, m, R, Q)`` (some dims have a smaller stride than the axis:
    ``Q`` the smallest, the innermost loop) or ``(P, R, m)`` (the axis has the smallest);
    groups of dims beyond those loop here, one kernel call each (only arrays of 4+ dims
    whose strides merge into no fewer groups get there)."""
    found = _groups([f, out], axis)
    if found is None:
        return False
    from . import _compiled_strided

    groups, ((fb, fo), (ob, oo)) = found
    sa = abs(f.strides[axis])
    inner = [g for g in groups if abs(f.strides[g[-1]]) < sa]
    outer = [g for g in groups if abs(f.strides[g[-1]]) >= sa]
    if inner:
        outer = [[]] * (1 - len(outer)) + outer
        inner = [[]] * (2 - len(inner)) + inner
        loop: list = [outer[-1], axis, inner[-2], inner[-1]]
        extra = outer[:-1] + inner[:-2]
        run = getattr(_compiled_strided, kernel + "_strided_middle")
    else:
        outer = [[]] * (2 - len(outer)) + outer
        loop, extra = [outer[-2], outer[-1], axis], outer[:-2]
        run = getattr(_compiled_strided, kernel + "_strided_last")
    shape = np.array([f.shape[g] if isinstance(g, int) else _size(f, g) for g in loop], np.int64)
    fs, os_ = _element_strides(f, loop), _element_strides(out, loop)
    fx, ox = _element_strides(f, extra), _element_strides(out, extra)
    for idx in itertools.product(*(range(_size(f, g)) for g in extra)):
        step = np.array(idx, dtype=np.int64)
        run(fb, fo + int(step @ fx), fs, ob, oo + int(step @ ox), os_, shape, *args)
    return True


def _rows_strided(axis: int, rows: list, scalars: Any, wt: np.dtype, out: Any) -> bool:
    """``kernels._row_compiled`` and ``kernels._terms_compiled`` on rows of any layout.

    One scalar: ``(rows[1] - rows[0]) / d``; otherwise ``sum_t scalars[t] * rows[t]``,
    summed left to right in a contiguous scratch of the working dtype (the NumPy
    reference's ``a * r0 + b * r1 + c * r2`` rounds each step to that dtype too), then cast
    into ``out`` as the reference's assignment does.  False where more than two groups of
    dims remain (the NumPy path takes those rows)."""
    found = _groups([*rows, out], axis)
    if found is None or len(found[0]) > 2:
        return False
    groups, bufs = found
    groups = [[]] * (2 - len(groups)) + groups  # size-1 loops where fewer groups remain
    shape = np.array([_size(rows[0], g) for g in groups], dtype=np.int64)
    specs = [(buf, off, _element_strides(a, groups)) for a, (buf, off) in zip([*rows, out], bufs)]
    dims = [d for g in groups for d in g]
    from . import _compiled, _compiled_strided

    if len(scalars) == 1:
        _compiled_strided.uniform_row_strided(
            *specs[0], *specs[1], *specs[2], shape, wt.type(scalars[0])
        )
        return True
    acc = np.empty((shape[0], shape[1]), dtype=wt)
    real = np.finfo(wt).dtype.type
    for t, (w, spec) in enumerate(zip(scalars, specs)):
        _compiled_strided.weighted_row_strided(
            acc, real(w), *spec, shape, t == 0, _compiled.FUSED_CMUL
        )
    target = out.transpose(dims + [d for d in range(out.ndim) if d not in dims])
    target[...] = acc.reshape(target.shape)
    return True
