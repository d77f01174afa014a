"""Compiled (numba) weighted kernels: accuracy 4/6 stencils, ``sum_t w_t * f[i + offset_t]``.

The bulk rows of a block for the weighted stencils of :mod:`xgrad.stencils`, summed left to
right in numpy's working dtype of ``w * f`` (float64 for float32 data: the weights are
float64) and rounded once into the output, as the NumPy reference in :mod:`xgrad.kernels`
does; guarded by ``tests/test_kernels.py``.  :func:`terms` is the one inner loop, shared with
the strided kernels of :mod:`xgrad._compiled_strided`.  Imported lazily, like
:mod:`xgrad._compiled`, whose :data:`~xgrad._compiled._jit`, :func:`~xgrad._compiled.mul` and
:data:`~xgrad._compiled.ACC_PIECE` it uses.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload

from ._compiled import ACC_PIECE, _inline, _jit, mul

#: Stencil points one pass of :func:`terms` sums in registers.
GROUP = 4


def at(w, j):  # pragma: no cover - the compiled overload below is what runs
    """``w[j]`` for an array of per-element weights, ``w`` itself for a scalar."""
    return w


@overload(at, jit_options={"error_model": "numpy"})
def _at_impl(w, j):  # pragma: no cover - compiled
    if isinstance(w, types.Array):
        return lambda w, j: w[j]
    return lambda w, j: w


@_inline
def terms(dst, acc, first, k, w0, w1, w2, w3, f0, f1, f2, f3, fused):  # pragma: no cover
    """``dst[j] = [acc[j] +] w0 * f0[j] + ... `` over ``k`` (1 to :data:`GROUP`) terms, summed
    left to right in numpy's working dtype and rounded once into ``dst``.

    The weighted kernels sum a stencil of ``T`` points in passes of up to :data:`GROUP`
    terms, the partial sum kept in registers and stored (unrounded: ``acc`` has the working
    dtype) only between passes, the last pass writing the output itself.  One pass per
    point, through ``acc``, made float32 data (summed in float64) compute-bound: d/d(axis 0)
    of a (30, 512, 1024) array at accuracy 4, one thread, 3.4x a copy against float64's 2.6x
    (benchmarks/float_kernels.py).  ``w*`` are scalars or per-element arrays (:func:`at`);
    terms past ``k`` are ignored (pass any array of the right type).
    """
    n = dst.shape[0]
    if first:
        if k == 1:
            for j in range(n):
                dst[j] = mul(at(w0, j), f0[j], fused)
        elif k == 2:
            for j in range(n):
                dst[j] = mul(at(w0, j), f0[j], fused) + mul(at(w1, j), f1[j], fused)
        elif k == 3:
            for j in range(n):
                dst[j] = (
                    mul(at(w0, j), f0[j], fused)
                    + mul(at(w1, j), f1[j], fused)
                    + mul(at(w2, j), f2[j], fused)
                )
        else:
            for j in range(n):
                dst[j] = (
                    mul(at(w0, j), f0[j], fused)
                    + mul(at(w1, j), f1[j], fused)
                    + mul(at(w2, j), f2[j], fused)
                    + mul(at(w3, j), f3[j], fused)
                )
    elif k == 1:
        for j in range(n):
            dst[j] = acc[j] + mul(at(w0, j), f0[j], fused)
    elif k == 2:
        for j in range(n):
            dst[j] = acc[j] + mul(at(w0, j), f0[j], fused) + mul(at(w1, j), f1[j], fused)
    elif k == 3:
        for j in range(n):
            dst[j] = (
                acc[j]
                + mul(at(w0, j), f0[j], fused)
                + mul(at(w1, j), f1[j], fused)
                + mul(at(w2, j), f2[j], fused)
            )
    else:
        for j in range(n):
            dst[j] = (
                acc[j]
                + mul(at(w0, j), f0[j], fused)
                + mul(at(w1, j), f1[j], fused)
                + mul(at(w2, j), f2[j], fused)
                + mul(at(w3, j), f3[j], fused)
            )


@_inline
def _passes_scalar(dst, a, ff, s, L, stride, offsets, w, r, fused):  # pragma: no cover
    """``dst = sum_t w[t, r] * ff[s + offsets[t] * stride :][:L]`` in passes of :func:`terms`
    (``a``: the partial sums, ``L`` elements of the working dtype)."""
    T = offsets.shape[0]
    for t in range(0, T, GROUP):
        k = min(GROUP, T - t)
        t1, t2, t3 = min(t + 1, T - 1), min(t + 2, T - 1), min(t + 3, T - 1)
        b0, b1 = s + offsets[t] * stride, s + offsets[t1] * stride
        b2, b3 = s + offsets[t2] * stride, s + offsets[t3] * stride
        f0, f1, f2, f3 = ff[b0 : b0 + L], ff[b1 : b1 + L], ff[b2 : b2 + L], ff[b3 : b3 + L]
        w0, w1, w2, w3 = w[t, r], w[t1, r], w[t2, r], w[t3, r]
        terms(a, a, t == 0, k, w0, w1, w2, w3, f0, f1, f2, f3, fused)
    for j in range(L):
        dst[j] = a[j]


@_inline
def _passes_vector(dst, a, ff, s, L, stride, offsets, w, r, fused):  # pragma: no cover
    """:func:`_passes_scalar` with per-element weights ``w[t, r : r + L]``."""
    T = offsets.shape[0]
    for t in range(0, T, GROUP):
        k = min(GROUP, T - t)
        t1, t2, t3 = min(t + 1, T - 1), min(t + 2, T - 1), min(t + 3, T - 1)
        b0, b1 = s + offsets[t] * stride, s + offsets[t1] * stride
        b2, b3 = s + offsets[t2] * stride, s + offsets[t3] * stride
        f0, f1, f2, f3 = ff[b0 : b0 + L], ff[b1 : b1 + L], ff[b2 : b2 + L], ff[b3 : b3 + L]
        w0, w1, w2, w3 = w[t, r : r + L], w[t1, r : r + L], w[t2, r : r + L], w[t3, r : r + L]
        terms(a, a, t == 0, k, w0, w1, w2, w3, f0, f1, f2, f3, fused)
    for j in range(L):
        dst[j] = a[j]


def weighted_bulk(f, out, offsets, columns, i0, i1, acc, whole, fused):
    """Rows i0 .. i1-1 of the C-contiguous ``(P, m, Q)`` block ``f``: ``sum_t columns[t, r] *
    f[i + offsets[t]]``, summed left to right, by the kernel for its shape (each compiles on
    first use only: the short-row ones cost seconds that C-ordered data never pays).

    ``columns`` (``(T, rows)``) has one column per output row (non-uniform) or a single shared
    one (uniform); ``acc`` (``max(ACC_PIECE, i1 - i0)`` elements of the working dtype) holds
    the partial sums between passes of :func:`terms`, in the same order as the NumPy
    reference (guarded by test_kernels.py).  ``whole``: the caller rewrites the rows outside
    ``i0 .. i1-1`` afterwards (their edge stencils): see :func:`weighted_last_axis`.
    """
    P, m, Q = f.shape
    if Q > 1 and Q < ACC_PIECE // 2:
        weighted_middle_runs(f, out, offsets, columns, i0, i1, acc, fused)
    elif Q > 1:
        weighted_middle_axis(f, out, offsets, columns, i0, i1, acc, fused)
    else:
        runs = whole and P > 1 and m < ACC_PIECE // 2
        weighted_last_axis(f[:, :, 0], out[:, :, 0], offsets, columns, i0, i1, acc, runs, fused)


@_jit
def weighted_middle_axis(f, out, offsets, columns, i0, i1, acc, fused):  # pragma: no cover
    """:func:`weighted_bulk` along a middle axis (``Q >= ACC_PIECE // 2``)."""
    P, m, Q = f.shape
    shared = columns.shape[1] == 1
    for p in range(P):
        ff = f[p].reshape(m * Q)
        of = out[p].reshape(m * Q)
        # Q in pieces of ACC_PIECE, each taken through all rows: ``acc`` stays in L1 across
        # the passes and the rows a piece's stencils share stay in L2 (d/d(axis 0) of a
        # (30, 512, 1024) float32 array at accuracy 4, one thread: 297 ms per call with whole
        # rows of Q, which went to memory and back once per stencil point, 155-175 ms in
        # pieces, on a shared 2-core machine)
        for q0 in range(0, Q, ACC_PIECE):
            n = min(ACC_PIECE, Q - q0)
            for i in range(i0, i1):
                s = i * Q + q0
                r = 0 if shared else i - i0
                _passes_scalar(of[s : s + n], acc[:n], ff, s, n, Q, offsets, columns, r, fused)


@_jit
def weighted_middle_runs(f, out, offsets, columns, i0, i1, acc, fused):  # pragma: no cover
    """:func:`weighted_bulk` along a middle axis with short rows (``Q < ACC_PIECE // 2``).

    Fortran order along axis 1, Q = 30: a pass per row cost more in calls than in work
    (2.5x the time of whole pieces).  Here B rows at a time are one flat run of B * Q
    elements, each row's weights repeated Q times in ``wexp``, built once per run for all P.
    """
    P, m, Q = f.shape
    shared = columns.shape[1] == 1
    B = ACC_PIECE // Q
    wexp = np.empty((offsets.shape[0], B * Q))
    for ib in range(i0, i1, B):
        L = min(B, i1 - ib) * Q
        if not shared:
            for t in range(offsets.shape[0]):
                for j in range(L):
                    wexp[t, j] = columns[t, ib - i0 + j // Q]
        for p in range(P):
            ff = f[p].reshape(m * Q)
            dst = out[p].reshape(m * Q)[ib * Q : ib * Q + L]
            if shared:
                _passes_scalar(dst, acc[:L], ff, ib * Q, L, Q, offsets, columns, 0, fused)
            else:
                _passes_vector(dst, acc[:L], ff, ib * Q, L, Q, offsets, wexp, 0, fused)


@_jit
def weighted_last_axis(f, out, offsets, columns, i0, i1, acc, runs, fused):  # pragma: no cover
    """:func:`weighted_bulk` along a contiguous last axis (``(P, m)``): passes along each row,
    so the inner loops run along memory and vectorise.

    ``runs`` (the caller rewrites rows outside ``i0 .. i1-1`` afterwards, and rows are
    short): B rows at a time are one flat run from the first row's ``i0`` to the last row's
    ``i1``, which also writes the elements between them, with weights 0 there (Fortran order
    along axis 0, rows of 30: a pass per row took 6x a copy, in calls more than work)."""
    P, m = f.shape
    n = i1 - i0
    shared = columns.shape[1] == 1
    B = ACC_PIECE // m if runs else 1
    wexp = np.zeros((offsets.shape[0], B * m if runs else 1))  # weights by run element
    if runs and not shared:
        for t in range(offsets.shape[0]):
            for b in range(B):
                wexp[t, b * m + i0 : b * m + i1] = columns[t, :n]
    w, r = (wexp, i0) if runs else (columns, 0)
    ff = f.reshape(P * m)
    of = out.reshape(P * m)
    for p in range(0, P, B):
        s = p * m + i0
        L = (min(B, P - p) - 1) * m + n  # first row's i0 .. last row's i1
        if shared:
            _passes_scalar(of[s : s + L], acc[:L], ff, s, L, 1, offsets, columns, 0, fused)
        else:
            _passes_vector(of[s : s + L], acc[:L], ff, s, L, 1, offsets, w, r, fused)
