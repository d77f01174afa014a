"""Compiled (numba) bulk kernels: the interior rows ``1 .. m-2`` of a block along one axis.

Imported lazily by :mod:`xgrad.kernels` the first time a block is large enough to pay for
it, so ``import xgrad`` does not import numba.

Bit-exactness with numpy.gradient rests on three choices, each guarded by
``tests/test_kernels.py::test_compiled_matches_reference``:

* the same operations in the same order as numpy's expressions (no reassociation, no
  reciprocal multiply), and no ``fastmath`` (which would allow FMA contraction);
* operand types fixed by the caller: ``d2`` arrives as a NumPy scalar of the dtype numpy's
  NEP 50 promotion gives ``(f[2:] - f[:-2]) / (2. * dx)``, so numba's typing of
  ``float32 - float32`` then ``/ d2`` follows numpy's;
* ``error_model="numpy"``: division by a zero spacing gives inf/nan as in numpy instead of
  raising ZeroDivisionError.

Kernels compute a range of rows ``i0 .. i1-1`` so a block can be processed in cache-sized
pieces without sub-block views.  Arrays are viewed as ``(P, m, Q)`` (axis in the middle) or, when the axis is the contiguous
last one, ``(P, m)`` so the innermost loop runs along memory in both cases.
"""

from __future__ import annotations

import numba

_jit = numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)


@_jit
def uniform3(f, out, d2, i0, i1):  # pragma: no cover - compiled
    # rows i0 .. i1-1, all with both neighbours inside the block (1 <= i0, i1 <= m-1)
    P, m, Q = f.shape
    for p in range(P):
        for i in range(i0, i1):
            for q in range(Q):
                out[p, i, q] = (f[p, i + 1, q] - f[p, i - 1, q]) / d2


@_jit
def uniform2(f, out, d2, i0, i1):  # pragma: no cover - compiled
    # zero-based loops over row slices: with ``range(i0, i1)`` and ``i +- 1`` indices LLVM did
    # not vectorise this loop (3.6 ns per element instead of 0.45; docs/performance.md)
    P, m = f.shape
    n = i1 - i0
    for p in range(P):
        fp = f[p, i0 - 1 : i1 + 1]
        op = out[p, i0:i1]
        for j in range(n):
            op[j] = (fp[j + 2] - fp[j]) / d2


@_jit
def nonuniform3(f, out, a, b, c, i0, i1):  # pragma: no cover - compiled
    # a, b, c hold the weights of local rows i0 .. i1-1 (index i - i0)
    P, m, Q = f.shape
    for p in range(P):
        for i in range(i0, i1):
            ai = a[i - i0]
            bi = b[i - i0]
            ci = c[i - i0]
            for q in range(Q):
                out[p, i, q] = ai * f[p, i - 1, q] + bi * f[p, i, q] + ci * f[p, i + 1, q]


@_jit
def nonuniform2(f, out, a, b, c, i0, i1):  # pragma: no cover - compiled
    P, m = f.shape
    n = i1 - i0
    for p in range(P):
        fp = f[p, i0 - 1 : i1 + 1]
        op = out[p, i0:i1]
        for j in range(n):
            op[j] = a[j] * fp[j] + b[j] * fp[j + 1] + c[j] * fp[j + 2]


@_jit
def weighted3(f, out, offsets, weights, i0, i1, acc):  # pragma: no cover - compiled
    """Rows i0 .. i1-1: ``sum_t weights[r, t] * f[i + offsets[t]]``, summed left to right.

    ``weights`` has one row per output row (non-uniform) or a single shared row (uniform);
    ``acc`` is a scratch row of the working dtype so the sum runs over contiguous memory in
    the same order as the NumPy reference (guarded by test_kernels.py).
    """
    P, m, Q = f.shape
    shared = weights.shape[0] == 1
    T = offsets.shape[0]
    for p in range(P):
        for i in range(i0, i1):
            r = 0 if shared else i - i0
            w = weights[r, 0]
            o = i + offsets[0]
            for q in range(Q):
                acc[q] = w * f[p, o, q]
            for t in range(1, T):
                w = weights[r, t]
                o = i + offsets[t]
                for q in range(Q):
                    acc[q] = acc[q] + w * f[p, o, q]
            for q in range(Q):
                out[p, i, q] = acc[q]


@_jit
def weighted2(f, out, offsets, weights, i0, i1):  # pragma: no cover - compiled
    P, m = f.shape
    shared = weights.shape[0] == 1
    T = offsets.shape[0]
    for p in range(P):
        for i in range(i0, i1):
            r = 0 if shared else i - i0
            s = weights[r, 0] * f[p, i + offsets[0]]
            for t in range(1, T):
                s = s + weights[r, t] * f[p, i + offsets[t]]
            out[p, i] = s


@_jit
def uniform_row(prev, nxt, out, d2):  # pragma: no cover - compiled
    """One row next to a face, its neighbours in other arrays (halo, previous tile): (P, Q)."""
    P, Q = out.shape
    for p in range(P):
        for q in range(Q):
            out[p, q] = (nxt[p, q] - prev[p, q]) / d2


@_jit
def nonuniform_row(prev, cur, nxt, out, a, b, c):  # pragma: no cover - compiled
    P, Q = out.shape
    for p in range(P):
        for q in range(Q):
            out[p, q] = a * prev[p, q] + b * cur[p, q] + c * nxt[p, q]
