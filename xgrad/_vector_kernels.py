"""Compiled (numba) ufuncs of the vector operators' combinations: one pass, no temporaries.

:mod:`xgrad.combinations` hands a block's (or a cache tile's) derivatives to these, writing
into the engine's result: ``|grad f|``, the Laplacian's metric sum and the flux form's
weighted sums. Imported lazily (the first combination on numpy data), so ``import xgrad``
does not import numba. Every kernel is a numpy ufunc with float32 and float64 loops, without
``fastmath`` (no FMA contraction, no reassociation): the operations of the formulas in
:mod:`xgrad.combinations`, whose NumPy path on whole arrays gives the same bits.

The sums and products are numpy's in the derivatives' dtype, so the Laplacian and the
weighted sums keep the bits of the numpy expressions they replace. ``hypot`` is xgrad's own
(``_hypot32``, ``_hypot64``): numpy's ``hypot`` calls libm, ~10x (float32) to ~20x (float64)
the time of the formulas below.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numba
import numpy as np
from numba import types
from numba.extending import overload

from ._numba_cache import jit as _jit
from ._numba_cache import vectorize
from ._vector_plain import DOWN, HIGH, LOW, UP, square_error

__all__ = ["hypot", "laplacian", "laplacian_loop", "weighted_sum", "weighted_sum_loop"]

_SIGNATURES = ("float32", "float64")


def _vectorize(nargs: int, python: Callable) -> Callable:
    signatures = [f"{t}({', '.join([t] * nargs)})" for t in _SIGNATURES]
    return vectorize(signatures, python)


@numba.njit(inline="always")
def _hypot32(x, y):
    """``|(x, y)|`` of float32 numbers, the float64 square root of the exact float64 sum of
    squares rounded once more to float32 (glibc's ``hypotf``, and its bits: checked over 3e8
    values); inf where either is infinite, even with a NaN (IEEE 754's ``hypot``)."""
    a, b = np.float64(x), np.float64(y)
    h = np.float32(math.sqrt(a * a + b * b))
    return np.float32(np.inf) if (abs(x) == np.inf) | (abs(y) == np.inf) else h


_square_error = numba.njit(inline="always")(square_error)


@numba.njit(inline="always")
def _hypot64(x, y):
    """``|(x, y)|`` of float64 numbers: ``h = sqrt(x^2 + y^2)``, then one Newton step on the
    residual ``x^2 + y^2 - h^2`` computed in double-double (Dekker's products, Knuth's sum):
    within ~0.5 ulp of the exact value, where the plain square root is off by up to 1.2 ulp.
    Without branches (selects only, so the loop vectorizes) and without floating-point
    exceptions numpy would report: inf and NaN are set aside with quiet comparisons, and
    ``max(|x|, |y|)`` outside ``LOW .. HIGH`` is scaled into it by a power of two."""
    ax, ay = abs(x), abs(y)
    infinite = (ax == np.inf) | (ay == np.inf)
    special = infinite | (ax != ax) | (ay != ay)
    ax = 0.0 if special else ax
    ay = 0.0 if special else ay
    m = max(ax, ay)
    # two selects multiplied: a chain of two conditionals here is ~4x slower (not vectorized)
    scale = (DOWN if m > HIGH else 1.0) * (UP if m < LOW else 1.0)
    ax, ay = ax * scale, ay * scale
    px, py = ax * ax, ay * ay
    s = px + py
    t = s - px
    es = (px - (s - t)) + (py - t)
    h = math.sqrt(s)
    ph = h * h
    residual = ((s - ph) - _square_error(h, ph)) + (
        (es + _square_error(ax, px)) + _square_error(ay, py)
    )
    h = (h + residual / (h + h if s > 0.0 else 1.0)) / scale
    return np.inf if infinite else (x + y if special else h)


def _hypot(x, y):
    """Dispatched by the arguments' type (:func:`_typed_hypot`)."""
    raise NotImplementedError  # pragma: no cover - only ever compiled


@overload(_hypot, inline="always")
def _typed_hypot(x, y):
    if x == types.float32:
        return lambda x, y: _hypot32(x, y)
    return lambda x, y: _hypot64(x, y)


def _hypot_ufunc(x, y):
    return _hypot(x, y)


@numba.njit(inline="always")
def _term(role, s, f, m, c, q):
    """One dim's term of the Laplacian: ``s`` (role 0, Cartesian), ``(c s - m f) / q``
    (role 1, latitude: ``c = k^2``, ``m = k tan``, ``q = R^2``), ``s m`` (role 2, longitude:
    ``m = (k sec / R)^2``); ``s`` the second derivative, ``f`` the first."""
    if role == 1:
        return (c * s - m * f) / q
    if role == 2:
        return s * m
    return s


@functools.cache
def laplacian(roles: tuple[int, ...], accumulate: bool = False) -> Callable:
    """The ufunc of one or two terms (:func:`_term`, roles ``roles``), ``t0`` or ``t0 + t1``;
    ``accumulate``: one term added to a running sum, ``acc + t0`` (its first argument)."""
    if accumulate:
        (r0,) = roles

        # named for the operator: numba names the ufunc (and its floating-point warnings,
        # "invalid value encountered in laplacian") after the Python function
        def laplacian(acc, s0, f0, m0, c0, q0):
            return acc + _term(r0, s0, f0, m0, c0, q0)

        return _vectorize(6, laplacian)
    if len(roles) == 1:
        (r0,) = roles

        def laplacian(s0, f0, m0, c0, q0):
            return _term(r0, s0, f0, m0, c0, q0)

        return _vectorize(5, laplacian)
    r0, r1 = roles

    def laplacian(s0, f0, m0, c0, q0, s1, f1, m1, c1, q1):
        return _term(r0, s0, f0, m0, c0, q0) + _term(r1, s1, f1, m1, c1, q1)

    return _vectorize(10, laplacian)


def _nest(element: Callable) -> Callable:
    """A compiled loop nest over blocks viewed as ``(outer, row, inner)``: ``out[a, b, c] =
    element(out[a, b, c], s0, f0, m0[b], c0, q0, s1, f1, m1[b], c1, q1)``, the row weights
    ``m`` read once per row. numba's ufunc loops are not vectorized where an operand is
    broadcast (a metric along the rows, the scalars), this nest is: ~2x faster on a tile.
    ``s``, ``f``: arrays of the block's shape; ``c``, ``q``: scalars; ``out`` may be one of
    the arrays (each element is read before it is written)."""

    @_jit
    def loop(s0, f0, m0, c0, q0, s1, f1, m1, c1, q1, out):  # pragma: no cover - compiled
        for a in range(out.shape[0]):
            for b in range(out.shape[1]):
                r0, r1 = m0[b], m1[b]
                for c in range(out.shape[2]):
                    out[a, b, c] = element(
                        out[a, b, c], s0[a, b, c], f0[a, b, c], r0, c0, q0,
                        s1[a, b, c], f1[a, b, c], r1, c1, q1,
                    )  # fmt: skip

    return loop


@functools.cache
def laplacian_loop(roles: tuple[int, ...], accumulate: bool = False) -> Callable:
    """:func:`laplacian`'s terms as a loop nest (:func:`_nest`; the same operations, so the
    same bits): ``t0 + t1`` (two roles), ``t0`` (one), ``acc + t0`` (``accumulate``: the
    running sum in ``out``). Arguments ``(s0, f0, m0, c0, q0, s1, f1, m1, c1, q1, out)``,
    the second term's ignored with one role."""
    r0, r1 = (*roles, 0)[:2]
    if accumulate:

        def element(acc, s0, f0, m0, c0, q0, s1, f1, m1, c1, q1):
            return acc + _term(r0, s0, f0, m0, c0, q0)
    elif len(roles) == 1:

        def element(acc, s0, f0, m0, c0, q0, s1, f1, m1, c1, q1):
            return _term(r0, s0, f0, m0, c0, q0)
    else:

        def element(acc, s0, f0, m0, c0, q0, s1, f1, m1, c1, q1):
            return _term(r0, s0, f0, m0, c0, q0) + _term(r1, s1, f1, m1, c1, q1)

    return _nest(numba.njit(inline="always")(element))


def _plus_product(t, d, w):
    return t + d * w


def _minus_product(t, d, w):
    return t - d * w


@functools.cache
def weighted_sum_loop(sign: int) -> Callable:
    """:func:`weighted_sum` as a loop nest (:func:`_nest`: ``s0`` the total, ``f0`` the
    derivative, ``m0`` the weight per row; the other arguments unused)."""
    if sign > 0:

        def element(acc, s0, f0, m0, c0, q0, s1, f1, m1, c1, q1):
            return s0 + f0 * m0  # _plus_product
    else:

        def element(acc, s0, f0, m0, c0, q0, s1, f1, m1, c1, q1):
            return s0 - f0 * m0  # _minus_product

    return _nest(numba.njit(inline="always")(element))


@functools.cache
def weighted_sum(sign: int) -> Callable:
    """The ufunc ``t + d * w`` (``sign`` -1: ``t - d * w``)."""
    return _vectorize(3, _plus_product if sign > 0 else _minus_product)


@functools.cache
def hypot() -> Callable:
    """The ufunc ``|(x, y)|`` (:func:`_hypot32`, :func:`_hypot64`)."""
    return _vectorize(2, _hypot_ufunc)
