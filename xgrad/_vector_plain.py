"""The plain NumPy path of :mod:`xgrad._vector_kernels`, without numba: ``hypot`` on whole arrays.

For cupy and other duck arrays (numba's ufuncs take numpy arrays only), and for numpy arrays
too small to be worth compiling (:func:`xgrad.kernels.compiled_wanted`: a script of small
arrays never imports numba). The same operations as the compiled kernels on whole arrays
(selects as ``where``), so the same bits on numpy
(``tests/test_vector.py::test_plain_path_same_bits``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["DOWN", "HIGH", "LOW", "UP", "hypot_plain", "square_error"]
#: the fast branch of float64 ``hypot``: where the squares and their Dekker split neither
#: overflow nor lose bits that reach the result (``math.hypot`` elsewhere: 0, inf, NaN, huge,
#: tiny); every nonzero finite float32 lies inside
LOW, HIGH = 1e-145, 1e145
DOWN, UP = 2.0**-600, 2.0**600  # scale factors into LOW .. HIGH (exact: powers of two)
_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's split of a float64 into two 26-bit halves


def square_error(a, p):
    """``a * a - p`` exactly, ``p`` the rounded ``a * a`` (Dekker's product, no FMA): plain
    arithmetic, for numba's kernel (``_vector_kernels._square_error``) and whole arrays alike."""
    s = _SPLIT * a
    hi = s - (s - a)
    lo = a - hi
    return ((hi * hi - p) + hi * lo + lo * hi) + lo * lo


def hypot_plain(x, y):
    """:func:`hypot`'s formulas on whole arrays of one dtype, float32 or float64."""
    with np.errstate(all="ignore"):
        ax, ay = np.abs(x), np.abs(y)
        infinite = np.logical_or(np.equal(ax, np.inf), np.equal(ay, np.inf))
        if x.dtype == np.float32:
            a, b = x.astype(np.float64), y.astype(np.float64)
            h = np.sqrt(a * a + b * b).astype(np.float32)
            return np.where(infinite, np.float32(np.inf), h)
        special = np.logical_or(infinite, np.logical_or(np.not_equal(ax, ax), np.not_equal(ay, ay)))
        ax, ay = np.where(special, 0.0, ax), np.where(special, 0.0, ay)
        m = np.maximum(ax, ay)
        scale = np.where(np.greater(m, HIGH), DOWN, 1.0) * np.where(np.less(m, LOW), UP, 1.0)
        ax, ay = ax * scale, ay * scale
        px, py = ax * ax, ay * ay
        s = px + py
        t = s - px
        es = (px - (s - t)) + (py - t)
        h = np.sqrt(s)
        ph = h * h
        residual = ((s - ph) - square_error(h, ph)) + (
            (es + square_error(ax, px)) + square_error(ay, py)
        )
        h = (h + residual / np.where(np.greater(s, 0.0), h + h, 1.0)) / scale
        return np.where(infinite, np.inf, np.where(special, x + y, h))
