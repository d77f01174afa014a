"""Compiled (numba) elementwise kernels that combine the kinematics' derivatives in one pass.

:mod:`xgrad.kinematics` gets the derivatives from the engine (one pass per input) and then
needs a few products and sums per point (the metric terms, the deformations, frontogenesis).
Written as numpy expressions each operation allocates and fills a full-size temporary; these
kernels read their inputs once and write one output, with no temporaries. Imported lazily (the
first kinematics call), so ``import xgrad`` does not import numba.

The operations and their order are those of the formulas in :mod:`xgrad.kinematics`, without
``fastmath`` (no FMA contraction, no reassociation), so numpy, dask and every chunking give the
same bits (``tests/test_kinematics.py::test_chunked_is_bit_identical_and_lazy``). Each is a
numpy ufunc (broadcasting, any layout, ``out=``) with float32 and float64 loops, built by
:func:`kernel` on first use (compiled once, then loaded from numba's on-disk cache:
:mod:`xgrad._numba_cache`). The caller casts every array to one of the two dtypes, so numpy
never picks a float64 loop for float32 data by casting (as it would with a ufunc compiled
lazily per dtype).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from ._numba_cache import vectorize
from .kernels import compiled_wanted

__all__ = ["combine", "kernel"]

#: name -> (number of float arguments, whether a trailing boolean flag follows)
_ARGUMENTS = {
    "minus_product": (3, False),
    "plus_product": (3, False),
    "stretching": (4, True),
    "shearing": (4, True),
    "advection": (4, False),
    "frontogenesis": (9, True),
    "hypot": (2, False),
}


@functools.cache
def kernel(name: str) -> Callable:
    """The float32/float64 ufunc ``name`` (one of the functions below)."""
    nargs, flag = _ARGUMENTS[name]

    def signature(t: str) -> str:
        return f"{t}({', '.join([t] * nargs + ['boolean'] * flag)})"

    python = globals()[name]
    return vectorize([signature("float32"), signature("float64")], python)


@numba.njit(inline="always")
def _hypot(x, y):
    """``sqrt(x^2 + y^2)`` in float64 where neither square can overflow or lose precision that
    matters (``1e-145 < max(|x|, |y|) < 1e145``: every nonzero float32); elsewhere (zero, huge,
    tiny, NaN) libm's ``hypot``, which is ~5x slower. Within 1 ulp of ``numpy.hypot``."""
    x, y = np.float64(x), np.float64(y)
    ax, ay = abs(x), abs(y)
    if ax != ax or ay != ay:  # NaN: quiet comparisons only (`<` on NaN sets "invalid")
        return math.hypot(x, y)
    m = max(ax, ay)
    if 1e-145 < m < 1e145:
        return math.sqrt(x * x + y * y)
    return math.hypot(x, y)


def hypot(x, y):
    """``|(x, y)|``: the total deformation."""
    return _hypot(x, y)


def minus_product(d, w, tan):
    """``d - w * tan``: du/dx with its metric term (``w = v``)."""
    return d - w * tan


def plus_product(d, w, tan):
    """``d + w * tan``: dv/dx with its metric term (``w = u``)."""
    return d + w * tan


def stretching(ux, v, tan, vy, metric):
    """``(du/dx - v tan) - dv/dy``; without ``metric`` (Cartesian) ``du/dx - dv/dy``."""
    if metric:
        ux = ux - v * tan
    return ux - vy


def shearing(vx, u, tan, uy, metric):
    """``(dv/dx + u tan) + du/dy``; without ``metric`` ``dv/dx + du/dy``."""
    if metric:
        vx = vx + u * tan
    return vx + uy


def advection(fx, u, fy, v):
    """``-(u df/dx + v df/dy)``."""
    return -(fx * u + fy * v)


def _front_numerator(fx, fy, ux, uy, vx, vy, u, v, tan, metric):
    """``-(fx^2 ux + fx fy (uy + vx) + fy^2 vy)``, the metric terms first: plain arithmetic,
    so the one formula serves numba's kernel (:data:`_front_numerator_jit`) and the NumPy
    path on whole arrays."""
    if metric:
        ux = ux - v * tan
        vx = vx + u * tan
    return -(fx * fx * ux + fx * fy * (uy + vx) + fy * fy * vy)


_front_numerator_jit = numba.njit(inline="always")(_front_numerator)


def frontogenesis(fx, fy, ux, uy, vx, vy, u, v, tan, metric):
    """``-(fx^2 ux + fx fy (uy + vx) + fy^2 vy) / |grad f|`` (0 where ``grad f`` is 0)."""
    numerator = _front_numerator_jit(fx, fy, ux, uy, vx, vy, u, v, tan, metric)
    size = _hypot(fx, fy)
    # where grad f is exactly zero the numerator is (signed) zero: 0, as MetPy gives
    return numerator / size if size != 0 else numerator


def combine(
    derivatives: list,
    operands: list,
    *,
    steps: tuple,
    keep: tuple,
    dtype: str,
    loop: tuple | None = None,
    out: list | None = None,
) -> Any:
    """The kernels ``steps`` on one block, for :func:`xgrad.engine.differentiate`'s ``combine``.

    Each step is ``(name, args)``, each arg ``("d", i)`` derivative ``i``, ``("o", i)`` operand
    ``i`` (both cast to ``dtype`` first, as :func:`xgrad.local_frame.fused` casts every array),
    ``("r", i)`` the result of step ``i`` or ``("c", value)`` a constant; ``keep`` names what is
    returned the same way (``("D", i)``: derivative ``i`` as it came, not cast).

    ``out`` (the engine's views of its results, one per ``keep``): a kept step writes into its
    view (the ufunc's ``out=``, the same loop and bits) instead of a new array that the engine
    would then copy in; later steps read it from there. ``loop`` (``(name, axis, metric)``
    of :func:`xgrad._fused_loops.run`): the same steps as one compiled loop, where the block
    fits it (C-contiguous, the working dtype, :func:`xgrad.kernels.compiled_wanted`'s size)
    and there are views to write.
    """
    # the loop compiles one more kernel per method (a second or so on a first call): only
    # for blocks the kernels compile for too
    if loop is not None and out is not None and compiled_wanted(derivatives[0].size):
        from . import _fused_loops

        name, axis, metric = loop
        if _fused_loops.run(
            name, derivatives, operands, out, dtype=dtype, axis=axis, metric=metric
        ):
            return tuple(out) if len(out) > 1 else out[0]
    found = {
        "D": derivatives,
        "d": [a.astype(dtype, copy=False) for a in derivatives],
        "o": [a.astype(dtype, copy=False) if hasattr(a, "astype") else a for a in operands],
        "r": [],
    }
    into = {
        i: target
        for (s, i), target in zip(keep, out or ())
        if s == "r" and type(target) is np.ndarray and target.dtype == dtype
    }
    for n, (name, args) in enumerate(steps):
        values = (i if s == "c" else found[s][i] for s, i in args)
        found["r"].append(apply(name, *values, out=into.get(n)))
    result = tuple(found[s][i] for s, i in keep)
    return result if len(result) > 1 else result[0]


# --- the plain NumPy path: cupy and other duck arrays ---------------------------------------
# numba's ufuncs take numpy arrays only. Duck arrays (cupy) get the same formulas on whole
# arrays through NumPy's protocols (``__array_ufunc__``/``__array_function__``), every operand
# cast to the working dtype first as the ufunc's signature casts it, and the result cast back as
# its output is: the same bits on numpy (tests/test_kinematics.py::test_plain_path_same_bits).


def _hypot_plain(x: Any, y: Any) -> Any:
    """:func:`_hypot` on whole arrays: the same two branches, chosen per element."""
    x, y = x.astype(np.float64), y.astype(np.float64)
    m = np.maximum(np.abs(x), np.abs(y))  # NaN propagates and fails both tests: hypot
    fast = np.logical_and(np.greater(m, 1e-145), np.less(m, 1e145))
    with np.errstate(all="ignore"):
        return np.where(fast, np.sqrt(x * x + y * y), np.hypot(x, y))


def _frontogenesis_plain(fx, fy, ux, uy, vx, vy, u, v, tan, metric):
    numerator = _front_numerator(fx, fy, ux, uy, vx, vy, u, v, tan, metric)
    size = _hypot_plain(fx, fy)
    with np.errstate(all="ignore"):
        return np.where(np.not_equal(size, 0), numerator / size, numerator)


_PLAIN = {"hypot": lambda x, y: _hypot_plain(x, y), "frontogenesis": _frontogenesis_plain}


def apply(name: str, *args: Any, out: Any = None) -> Any:
    """Kernel ``name`` on ``args``: numba's ufunc on numpy arrays, the same formulas with NumPy
    functions on any other array (cupy), with the ufunc's casts; the same bits on numpy.
    ``out`` (numpy arrays only: a numpy array of the working dtype) receives the result."""
    arrays = [a for a in args if hasattr(a, "dtype") and getattr(a, "ndim", 0) > 0]
    if all(type(a) is np.ndarray for a in arrays):
        return kernel(name)(*args) if out is None else kernel(name)(*args, out=out)
    dtype = arrays[0].dtype  # the caller cast every array to one dtype (float32 or float64)

    def cast(a: Any) -> Any:
        if isinstance(a, (bool, np.bool_)):
            return a  # the trailing flag
        return a.astype(dtype) if getattr(a, "ndim", 0) > 0 else dtype.type(a)

    result = _PLAIN.get(name, globals()[name])(*map(cast, args))
    return result.astype(dtype)
