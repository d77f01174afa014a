"""The kinematics' per-block combinations as compiled loops over contiguous blocks.

:func:`xgrad._fused.combine` runs the formulas of :mod:`xgrad._fused` as numba ufuncs, one
ufunc per step, on any layout. Two things make those slow where it matters: numba's ufunc
loops are vectorized only where every argument is unit-strided (``tan(phi)/N``, broadcast
along the longitude, and the trailing ``metric`` flag never are), and ``_hypot`` calls
``math.hypot`` in a branch, so no loop that holds it is vectorized. Here a pass's whole
combination is one loop nest over the block viewed as ``(outer, lat, inner)``, ``tan`` read
once per row, every output written while its inputs are in registers; the total deformation
takes ``sqrt(x*x + y*y)`` everywhere (a loop the compiler vectorizes, counting the elements
outside ``_hypot``'s fast range as it goes) and redoes only those with ``math.hypot``.

Same operations in the same order as the ufuncs, no ``fastmath``: the same bits
(``tests/test_kinematics.py::test_loops_same_bits``). :func:`run` answers False where the
layout does not fit (outputs that are not C-contiguous, a dtype other than the working one,
an empty block; inputs that are not C-contiguous are copied first); :func:`xgrad._fused.combine` then runs the ufuncs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._numba_cache import jit as _jit

__all__ = ["run"]


@_jit
def _minus_pair(d0, d1, w, tan, out0, out1):  # pragma: no cover - compiled
    """``out0 = d0 - w * tan`` (du/dx, ``w = v``), ``out1 = d1`` (du/dy)."""
    for a in range(d0.shape[0]):
        for b in range(d0.shape[1]):
            t = tan[b]
            for c in range(d0.shape[2]):
                out0[a, b, c] = d0[a, b, c] - w[a, b, c] * t
                out1[a, b, c] = d1[a, b, c]


@_jit
def _plus_pair(d0, d1, w, tan, out0, out1):  # pragma: no cover - compiled
    """``out0 = d0 + w * tan`` (dv/dx, ``w = u``), ``out1 = d1`` (dv/dy)."""
    for a in range(d0.shape[0]):
        for b in range(d0.shape[1]):
            t = tan[b]
            for c in range(d0.shape[2]):
                out0[a, b, c] = d0[a, b, c] + w[a, b, c] * t
                out1[a, b, c] = d1[a, b, c]


@_jit
def _outside(x, y):  # pragma: no cover - compiled
    """Whether ``_fused._hypot`` takes ``math.hypot`` for ``(x, y)`` (float64): NaN, both
    below 1e-145 or either above 1e145. Quiet comparisons of NaN are False."""
    ax, ay = abs(x), abs(y)
    inside = (ax < 1e145) & (ay < 1e145) & ((ax > 1e-145) | (ay > 1e-145))
    return not inside


@_jit
def _deformation(vx, vy, ux, uy, u, v, tan, metric, out0, out1, out2):  # pragma: no cover
    """Stretching, shearing and total deformation (``_fused.stretching``, ``shearing``,
    ``hypot``)."""
    outside = 0
    for a in range(vx.shape[0]):
        for b in range(vx.shape[1]):
            t = tan[b]
            for c in range(vx.shape[2]):
                if metric:
                    s = (ux[a, b, c] - v[a, b, c] * t) - vy[a, b, c]
                    h = (vx[a, b, c] + u[a, b, c] * t) + uy[a, b, c]
                else:
                    s = ux[a, b, c] - vy[a, b, c]
                    h = vx[a, b, c] + uy[a, b, c]
                out0[a, b, c] = s
                out1[a, b, c] = h
                x, y = np.float64(s), np.float64(h)
                outside += _outside(x, y)
                out2[a, b, c] = math.sqrt(x * x + y * y)
    if outside:
        for a in range(vx.shape[0]):
            for b in range(vx.shape[1]):
                for c in range(vx.shape[2]):
                    x, y = np.float64(out0[a, b, c]), np.float64(out1[a, b, c])
                    if _outside(x, y):
                        out2[a, b, c] = math.hypot(x, y)


def _fits(arrays: Sequence[Any], shape: tuple, dtype: np.dtype) -> bool:
    return all(type(a) is np.ndarray and a.shape == shape and a.dtype == dtype for a in arrays)


def run(
    name: str,
    derivatives: Sequence[Any],
    operands: Sequence[Any],
    out: Sequence[Any],
    *,
    dtype: str,
    axis: int,
    metric: bool,
) -> bool:
    """Loop ``name`` of one block (or tile) into ``out``; False (nothing written) where the
    arrays do not fit it.

    ``"minus_pair"``/``"plus_pair"``: derivatives ``(d0, d1)``, operands ``(w, tan)``;
    ``"pairs"``: derivatives ``(ux, uy, vx, vy)``, operands ``(v, u, tan)``, both pairs;
    ``"deformation"``: derivatives ``(vx, vy)``, operands ``(ux, uy, u, v[, tan])``. ``tan``
    broadcasts against the block and varies along ``axis`` only (absent without ``metric``).
    """
    dtype = np.dtype(dtype)
    full = list(derivatives) + list(out) + list(operands[: len(operands) - metric])
    shape = full[0].shape
    if not full[0].size or not _fits(full, shape, dtype):
        return False
    if not all(a.flags.c_contiguous for a in out):
        return False  # the loops write C-contiguous views; inputs are copied where not
    if metric:
        tan = operands[-1]
        if type(tan) is not np.ndarray or tan.dtype != dtype or tan.ndim != len(shape):
            return False
        line = tuple(slice(None) if k == axis else 0 for k in range(len(shape)))
        tan = np.ascontiguousarray(np.broadcast_to(tan, shape)[line])
    else:
        axis, tan = 0, np.zeros(shape[0], dtype)
    three = (math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1 :]))
    views = [np.ascontiguousarray(a).reshape(three) for a in full]  # outs: views
    n = len(derivatives)
    ds, outs, ops = views[:n], views[n : n + len(out)], views[n + len(out) :]
    if name == "deformation":
        _deformation(*ds, *ops, tan, metric, *outs)
    elif name == "pairs":  # both components' pairs, from one pass over u and v
        _minus_pair(ds[0], ds[1], ops[0], tan, outs[0], outs[1])
        _plus_pair(ds[2], ds[3], ops[1], tan, outs[2], outs[3])
    else:
        (_minus_pair if name == "minus_pair" else _plus_pair)(*ds, *ops, tan, *outs)
    return True
