"""What the vector operators build from a block's derivatives, inside the engine's pass.

Each function is a ``combine`` of :func:`xgrad.engine.differentiate`: it gets the derivatives
of one block (or cache tile) and the operands cut alike, and writes ``out[0]``, the engine's
result, where it is given. Real float32/float64 numpy arrays go through the compiled ufuncs
and loop nests of :mod:`xgrad._vector_kernels` (one pass over the tile, no temporaries;
imported on first use, so ``import xgrad`` does not import numba); other arrays of those dtypes (cupy), and numpy
arrays below :func:`xgrad.kernels.compiled_wanted`'s size, through the same formulas on whole
arrays (:mod:`xgrad._vector_plain`); anything else (complex, float16) through numpy expressions.

Bits: the Laplacian and the flux sums are numpy's own products and sums in the derivatives'
dtype, unchanged by the kernels. ``|grad f|`` is xgrad's ``hypot``
(:func:`xgrad._vector_kernels._hypot32`/``_hypot64``): on float32 glibc's ``hypotf``, bit
for bit; on float64 within ~0.5 ulp of the exact value (``numpy.hypot``'s libm result differs
in ~0.2% of values, by one ulp), ~5x faster (``tests/test_vector.py::test_hypot_*``).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from ._vector_plain import hypot_plain
from .kernels import compiled_wanted

__all__ = ["hypot", "laplacian_of", "magnitude_of", "weighted_sum"]

_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_ROLES = {None: 0, "latitude": 1, "longitude": 2}  # the roles' codes in _vector_kernels._term


def _compiled(arrays: list, out: list | None) -> Any:
    """``out[0]`` (or None) where ``arrays`` are numpy arrays of one kernel dtype (and
    ``out[0]`` one of that dtype too, or absent): the compiled path; False elsewhere."""
    dtype = arrays[0].dtype
    if dtype not in _KERNEL_DTYPES or not all(
        type(a) is np.ndarray and a.dtype == dtype for a in arrays
    ):
        return False
    if not compiled_wanted(max(a.size for a in arrays)):  # small: numba not even imported
        return False
    if out is not None and type(out[0]) is np.ndarray and out[0].dtype == dtype:
        return out[0]
    return None


def _call(ufunc: Any, args: tuple, target: Any) -> Any:
    return ufunc(*args) if target is None else ufunc(*args, out=target)


def hypot(x: Any, y: Any) -> Any:
    """``|(x, y)|`` elementwise, xgrad's ``hypot`` on float32/float64 (numba on numpy arrays,
    NumPy functions on duck arrays: the same bits), ``numpy.hypot`` on other dtypes."""
    if x.dtype not in _KERNEL_DTYPES or x.dtype != y.dtype:
        return np.hypot(x, y)
    if type(x) is np.ndarray and type(y) is np.ndarray and compiled_wanted(max(x.size, y.size)):
        from . import _vector_kernels

        return _vector_kernels.hypot()(x, y)
    return hypot_plain(x, y)


def magnitude_of(derivatives: list, operands: list, out: list | None = None) -> Any:
    """``|grad f|`` of a block's derivatives: ``hypot`` of the first two, then of that and
    each next one (written into ``out[0]`` where all are numpy arrays)."""
    parts = [np.abs(p) if p.dtype.kind == "c" else p for p in derivatives]
    if len(parts) == 1:
        if out is None or not all(type(a) is np.ndarray for a in (parts[0], out[0])):
            return np.abs(parts[0])
        return np.abs(parts[0], out=out[0])
    target = _compiled(parts, out)
    if target is False:
        return functools.reduce(hypot, parts)
    from . import _vector_kernels

    kernel = _vector_kernels.hypot()
    result = _call(kernel, (parts[0], parts[1]), target)
    for part in parts[2:]:
        result = kernel(result, part, out=result)
    return result


def laplacian_of(
    derivatives: list, operands: list, *, terms: tuple, out: list | None = None
) -> Any:
    """The Laplacian of a block from its second (and latitude first) derivatives; ``terms``
    per dim: ``(role, k, r2, first, metric)``, indices into the derivatives and operands.

    Per dim ``f_ss`` (Cartesian), ``(k^2 f_phiphi - m f_phi) / r2`` (latitude, ``m = k tan``),
    ``f_lambdalambda m`` (longitude, ``m = (k sec / R)^2``), summed in the order of the dims."""
    args = []
    for second, (role, k, r2, first, metric) in zip(derivatives, terms):
        f = derivatives[first] if role == "latitude" else second
        m = operands[metric] if role is not None else second  # (Cartesian: unused)
        args.append((role, second, f, m, k * k, r2))
    scalars = all(type(a[4]) is float and type(a[5]) is float for a in args)
    target = _compiled([*derivatives, *operands], out) if scalars else False
    if target is False:
        return _laplacian_numpy(args)
    roles = tuple(_ROLES[a[0]] for a in args)
    looped = _laplacian_loops(roles, args, target)
    if looped is not None:
        return looped
    from . import _vector_kernels

    head = [x for a in args[:2] for x in a[1:]]
    result = _call(_vector_kernels.laplacian(roles[:2]), tuple(head), target)
    for role, a in zip(roles[2:], args[2:]):
        result = _vector_kernels.laplacian((role,), True)(result, *a[1:], out=result)
    return result


def _row_views(fulls: list, rows: list, target: Any) -> tuple | None:
    """``fulls`` and ``target`` (C-contiguous, of one shape) viewed as ``(outer, row,
    inner)``, ``rows`` (arrays broadcastable against them, None for an unused one) as 1-D
    arrays along ``row``: the axis the rows vary along (the first where none varies); None
    where the arrays do not fit (not C-contiguous, other shapes or dims, rows varying along
    two axes)."""
    shape, dtype = target.shape, target.dtype
    if not target.size or any(x.shape != shape or not x.flags.c_contiguous for x in fulls):
        return None
    if not target.flags.c_contiguous or any(r.ndim != len(shape) for r in rows if r is not None):
        return None
    axes = {k for r in rows if r is not None for k, n in enumerate(r.shape) if n != 1}
    if len(axes) > 1:
        return None
    axis = axes.pop() if axes else 0
    three = (math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1 :]))
    line = tuple(slice(None) if k == axis else 0 for k in range(len(shape)))
    unused = np.zeros(shape[axis], dtype)
    lines = [
        unused if r is None else np.ascontiguousarray(np.broadcast_to(r, shape)[line]) for r in rows
    ]
    return [x.reshape(three) for x in fulls], lines, target.reshape(three)


def _laplacian_loops(roles: tuple, args: list, target: Any) -> Any:
    """:func:`laplacian_of` through :func:`xgrad._vector_kernels.laplacian_loop` (the ufuncs'
    operations, vectorized): the result, or None where the block does not fit the loops."""
    second = args[0][1]
    if target is None:
        target = np.empty(second.shape, second.dtype)
    fulls = [x for a in args for x in a[1:3]]
    views = _row_views(fulls, [None if a[0] is None else a[3] for a in args], target)
    if views is None:
        return None
    fulls, lines, out = views
    scalar = second.dtype.type
    terms = [
        (fulls[2 * i], fulls[2 * i + 1], line, scalar(a[4]), scalar(a[5]))
        for i, (a, line) in enumerate(zip(args, lines))
    ]
    from ._vector_kernels import laplacian_loop

    first = terms[:2] if len(terms) > 1 else terms * 2
    laplacian_loop(roles[:2])(*first[0], *first[1], out)
    for role, term in zip(roles[2:], terms[2:]):
        laplacian_loop((role,), True)(*term, *term, out)
    return target


def _laplacian_numpy(args: list) -> Any:
    """:func:`laplacian_of`'s terms as numpy expressions, on any array."""
    found = []
    for role, second, f, m, c, q in args:
        if role is None:
            found.append(second)
        elif role == "latitude":
            found.append((c * second - m * f) / q)
        else:
            found.append(second * m)
    return sum(found[1:], found[0])


def flux_of(derivatives: list, operands: list, *, sign: int, out: list | None = None) -> Any:
    """The sphere's divergence (``sign`` 1) or curl (-1) from one pass over ``b`` (times
    ``cos(lat)``) with ``a`` as a field, derivatives ``[(b cos)_x, (b cos)_y, a_x, a_y]``:
    ``a_x + (b cos)_y sec`` (``operands``: ``[sec]``), the bits of :func:`weighted_sum` on
    the two passes' results (``vector._fused_flux``)."""
    return weighted_sum(
        [derivatives[1]], [derivatives[2], operands[0]], sign=sign, weighted=True, out=out
    )


def weighted_sum(
    derivatives: list, operands: list, *, sign: int, weighted: bool, out: list | None = None
) -> Any:
    """``operands[0] + d`` (``sign`` -1: ``operands[0] - d``), ``d`` the block's derivative,
    times ``operands[-1]`` (the latitude's ``sec``) when ``weighted``; with no running total
    (one operand or none beside the weight) ``d`` alone."""
    d = derivatives[0]
    total = operands[0] if len(operands) > weighted else None
    target = _compiled([d, *operands], out)
    if target is not False and weighted and total is not None:
        from . import _vector_kernels

        if target is None:
            target = np.empty(d.shape, d.dtype)
        views = _row_views([total, d], [operands[-1]], target)
        if views is not None:  # the weight broadcast along rows: the loop nest
            (t3, d3), (w,), out = views
            zero = d.dtype.type(0)
            _vector_kernels.weighted_sum_loop(sign)(
                t3, d3, w, zero, zero, t3, d3, w, zero, zero, out
            )
            return target
        return _call(_vector_kernels.weighted_sum(sign), (total, d, operands[-1]), target)
    if target is not False and target is not None:  # one ufunc, written in place
        if weighted:
            return np.multiply(d, operands[-1], out=target)
        ufunc = np.add if sign > 0 else np.subtract
        return ufunc(total, d, out=target) if total is not None else d
    if weighted:
        d = d * operands[-1]
    if total is None:
        return d
    return total + d if sign > 0 else total - d
