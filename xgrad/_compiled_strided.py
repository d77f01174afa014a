"""Compiled (numba) strided kernels: the contiguous kernels of :mod:`xgrad._compiled` for a
block of any memory layout, given as a flat buffer with element strides.

A block that does not fold into a C-contiguous ``(P, m, Q)`` view (a strided view handed out
by ``da.from_array``/``DataArray.chunk()``, a transpose, a negative step, N-D views) comes here
from :mod:`xgrad.layouts`.  ``*_strided_middle``/``*_strided_last`` compute the bulk rows,
``uniform_row_strided``/``weighted_row_strided`` the rows next to a face.  Same operations,
order and operand types as the contiguous kernels (the shared :func:`~xgrad._compiled.mul`
and :func:`~xgrad._compiled.div`), so the same bits: guarded by
``tests/test_kernels.py::test_layouts_match_numpy``.  Imported lazily, like
:mod:`xgrad._compiled`.
"""

from __future__ import annotations

from ._compiled import ACC_PIECE, _jit, div, mul
from ._compiled_weighted import GROUP, terms

# Strided kernels: any layout.  ``f`` and ``out`` are 1-D C-contiguous buffers spanning the
# block's memory, ``fo``/``oo`` the buffer index of the block's first element and ``fs``/``os``
# its strides in elements (any sign), one per loop dimension (``layouts._bulk_strided``).
# numba types a non-contiguous view as layout 'A' and indexes it through its byte strides, which
# LLVM does not vectorise: on a (10, 64, 256) float64 view of a larger array, d/d(axis 0)
# took 213 us as a 4-D 'A' array against 89 us on a contiguous copy, and 98 us here, where
# the innermost loop runs over a contiguous slice of the buffer whenever its stride is 1 in
# both arrays (the common case: a block of a C-ordered array).  Copying the view first never
# pays: the copy alone took 97 us, as long as this kernel.  Other inner strides take the
# plain indexed loop.  The arithmetic is the contiguous kernels' (same operations, order and
# operand types), so the bits are too.


@_jit
def uniform_strided_middle(f, fo, fs, out, oo, os, shape, two_dx, i0, i1):  # pragma: no cover
    """Rows i0 .. i1-1 of dimension 1 of a ``(P, m, R, Q)`` block, Q innermost."""
    P, R, Q = shape[0], shape[2], shape[3]
    fq, oq = fs[3], os[3]
    unit = fq == 1 and oq == 1
    for p in range(P):
        for i in range(i0, i1):
            for r in range(R):
                a = fo + p * fs[0] + (i - 1) * fs[1] + r * fs[2]
                c = a + 2 * fs[1]
                o = oo + p * os[0] + i * os[1] + r * os[2]
                if unit:
                    fa = f[a : a + Q]
                    fc = f[c : c + Q]
                    ov = out[o : o + Q]
                    for q in range(Q):
                        ov[q] = div(fc[q] - fa[q], two_dx)
                else:
                    for q in range(Q):
                        out[o + q * oq] = div(f[c + q * fq] - f[a + q * fq], two_dx)


@_jit
def uniform_strided_last(f, fo, fs, out, oo, os, shape, two_dx, i0, i1):  # pragma: no cover
    """Rows i0 .. i1-1 of the innermost dimension of a ``(P, R, m)`` block."""
    P, R = shape[0], shape[1]
    fi, oi = fs[2], os[2]
    n = i1 - i0
    for p in range(P):
        for r in range(R):
            a = fo + p * fs[0] + r * fs[1]
            o = oo + p * os[0] + r * os[1]
            if fi == 1 and oi == 1:
                fp = f[a + i0 - 1 : a + i1 + 1]
                op = out[o + i0 : o + i1]
                for j in range(n):
                    op[j] = div(fp[j + 2] - fp[j], two_dx)
            else:
                for i in range(i0, i1):
                    out[o + i * oi] = div(f[a + (i + 1) * fi] - f[a + (i - 1) * fi], two_dx)


@_jit
def nonuniform_strided_middle(
    f, fo, fs, out, oo, os, shape, wa, wb, wc, i0, i1, fused
):  # pragma: no cover
    """``uniform_strided_middle`` with numpy's non-uniform weights of rows i0 .. i1-1."""
    P, R, Q = shape[0], shape[2], shape[3]
    fq, oq = fs[3], os[3]
    unit = fq == 1 and oq == 1
    for p in range(P):
        for i in range(i0, i1):
            ai = wa[i - i0]
            bi = wb[i - i0]
            ci = wc[i - i0]
            for r in range(R):
                a = fo + p * fs[0] + (i - 1) * fs[1] + r * fs[2]
                b = a + fs[1]
                c = b + fs[1]
                o = oo + p * os[0] + i * os[1] + r * os[2]
                if unit:
                    fa = f[a : a + Q]
                    fb = f[b : b + Q]
                    fc = f[c : c + Q]
                    ov = out[o : o + Q]
                    for q in range(Q):
                        ov[q] = (
                            mul(ai, fa[q], fused) + mul(bi, fb[q], fused) + mul(ci, fc[q], fused)
                        )
                else:
                    for q in range(Q):
                        out[o + q * oq] = (
                            mul(ai, f[a + q * fq], fused)
                            + mul(bi, f[b + q * fq], fused)
                            + mul(ci, f[c + q * fq], fused)
                        )


@_jit
def nonuniform_strided_last(
    f, fo, fs, out, oo, os, shape, wa, wb, wc, i0, i1, fused
):  # pragma: no cover
    P, R = shape[0], shape[1]
    fi, oi = fs[2], os[2]
    n = i1 - i0
    for p in range(P):
        for r in range(R):
            a = fo + p * fs[0] + r * fs[1]
            o = oo + p * os[0] + r * os[1]
            if fi == 1 and oi == 1:
                fp = f[a + i0 - 1 : a + i1 + 1]
                op = out[o + i0 : o + i1]
                for j in range(n):
                    op[j] = (
                        mul(wa[j], fp[j], fused)
                        + mul(wb[j], fp[j + 1], fused)
                        + mul(wc[j], fp[j + 2], fused)
                    )
            else:
                for j in range(n):
                    k = a + (i0 + j - 1) * fi
                    out[o + (i0 + j) * oi] = (
                        mul(wa[j], f[k], fused)
                        + mul(wb[j], f[k + fi], fused)
                        + mul(wc[j], f[k + 2 * fi], fused)
                    )


@_jit
def weighted_strided_middle(
    f, fo, fs, out, oo, os, shape, offsets, columns, i0, i1, acc, fused
):  # pragma: no cover
    """``weighted_middle_axis`` on a ``(P, m, R, Q)`` block: per output row, passes of
    :func:`~xgrad._compiled.terms` (or, for a strided Q, one per stencil point) through the
    scratch row ``acc`` (Q, working dtype), summed left to right."""
    P, R, Q = shape[0], shape[2], shape[3]
    fq, oq = fs[3], os[3]
    shared = columns.shape[1] == 1
    T = offsets.shape[0]
    for p in range(P):
        for i in range(i0, i1):
            row = 0 if shared else i - i0
            for r in range(R):
                base = fo + p * fs[0] + r * fs[2]
                o = oo + p * os[0] + i * os[1] + r * os[2]
                for q0 in range(0, Q, ACC_PIECE):  # acc stays in L1 (weighted_middle_axis)
                    n = min(ACC_PIECE, Q - q0)
                    a = acc[:n]
                    if fq == 1:
                        for t in range(0, T, GROUP):
                            k = min(GROUP, T - t)
                            t1, t2, t3 = min(t + 1, T - 1), min(t + 2, T - 1), min(t + 3, T - 1)
                            w0, w1 = columns[t, row], columns[t1, row]
                            w2, w3 = columns[t2, row], columns[t3, row]
                            b0 = base + (i + offsets[t]) * fs[1] + q0
                            b1 = base + (i + offsets[t1]) * fs[1] + q0
                            b2 = base + (i + offsets[t2]) * fs[1] + q0
                            b3 = base + (i + offsets[t3]) * fs[1] + q0
                            f0, f1 = f[b0 : b0 + n], f[b1 : b1 + n]
                            f2, f3 = f[b2 : b2 + n], f[b3 : b3 + n]
                            if t + k == T and oq == 1:  # the last pass writes the output
                                ov = out[o + q0 : o + q0 + n]
                                terms(ov, a, t == 0, k, w0, w1, w2, w3, f0, f1, f2, f3, fused)
                            else:
                                terms(a, a, t == 0, k, w0, w1, w2, w3, f0, f1, f2, f3, fused)
                        if oq == 1:
                            continue
                    else:
                        for t in range(T):
                            w = columns[t, row]
                            b = base + (i + offsets[t]) * fs[1] + q0 * fq
                            if t == 0:
                                for q in range(n):
                                    a[q] = mul(w, f[b + q * fq], fused)
                            else:
                                for q in range(n):
                                    a[q] = a[q] + mul(w, f[b + q * fq], fused)
                    if oq == 1:
                        ov = out[o + q0 : o + q0 + n]
                        for q in range(n):
                            ov[q] = a[q]
                    else:
                        for q in range(n):
                            out[o + (q0 + q) * oq] = a[q]


@_jit
def weighted_strided_last(
    f, fo, fs, out, oo, os, shape, offsets, columns, i0, i1, acc, fused
):  # pragma: no cover
    """``weighted_last_axis`` on a ``(P, R, m)`` block (``acc``: i1 - i0, working dtype)."""
    P, R = shape[0], shape[1]
    fi, oi = fs[2], os[2]
    n = i1 - i0
    T = offsets.shape[0]
    shared = columns.shape[1] == 1
    a = acc[:n]
    for p in range(P):
        for r in range(R):
            base = fo + p * fs[0] + r * fs[1]
            o = oo + p * os[0] + r * os[1]
            if fi == 1:
                for t in range(0, T, GROUP):
                    k = min(GROUP, T - t)
                    t1, t2, t3 = min(t + 1, T - 1), min(t + 2, T - 1), min(t + 3, T - 1)
                    b0, b1 = base + i0 + offsets[t], base + i0 + offsets[t1]
                    b2, b3 = base + i0 + offsets[t2], base + i0 + offsets[t3]
                    f0, f1 = f[b0 : b0 + n], f[b1 : b1 + n]
                    f2, f3 = f[b2 : b2 + n], f[b3 : b3 + n]
                    last = t + k == T and oi == 1  # the last pass writes the output
                    if shared:
                        w0, w1 = columns[t, 0], columns[t1, 0]
                        w2, w3 = columns[t2, 0], columns[t3, 0]
                        if last:
                            op = out[o + i0 : o + i1]
                            terms(op, a, t == 0, k, w0, w1, w2, w3, f0, f1, f2, f3, fused)
                        else:
                            terms(a, a, t == 0, k, w0, w1, w2, w3, f0, f1, f2, f3, fused)
                    else:
                        c0, c1, c2, c3 = columns[t], columns[t1], columns[t2], columns[t3]
                        if last:
                            op = out[o + i0 : o + i1]
                            terms(op, a, t == 0, k, c0, c1, c2, c3, f0, f1, f2, f3, fused)
                        else:
                            terms(a, a, t == 0, k, c0, c1, c2, c3, f0, f1, f2, f3, fused)
                if oi == 1:
                    continue
            else:
                for t in range(T):
                    b = base + (i0 + offsets[t]) * fi
                    for j in range(n):
                        v = mul(columns[t, 0 if shared else j], f[b + j * fi], fused)
                        a[j] = v if t == 0 else a[j] + v
            if oi == 1:
                op = out[o + i0 : o + i1]
                for j in range(n):
                    op[j] = a[j]
            else:
                for j in range(n):
                    out[o + (i0 + j) * oi] = a[j]


@_jit
def uniform_row_strided(prev, po, ps, nxt, no, ns, out, oo, os, shape, two_dx):  # pragma: no cover
    """``uniform_row`` on strided ``(P, Q)`` rows, each its own buffer, offset and strides."""
    P, Q = shape[0], shape[1]
    unit = ps[1] == 1 and ns[1] == 1 and os[1] == 1
    for p in range(P):
        a, c, o = po + p * ps[0], no + p * ns[0], oo + p * os[0]
        if unit:
            fa, fc, ov = prev[a : a + Q], nxt[c : c + Q], out[o : o + Q]
            for q in range(Q):
                ov[q] = div(fc[q] - fa[q], two_dx)
        else:
            for q in range(Q):
                out[o + q * os[1]] = div(nxt[c + q * ns[1]] - prev[a + q * ps[1]], two_dx)


@_jit
def weighted_row_strided(acc, w, row, ro, rs, shape, first, fused):  # pragma: no cover
    """``weighted_row`` of one strided ``(P, Q)`` row into the contiguous scratch ``acc``:
    also numpy's three-point non-uniform and edge rows, one term per call."""
    P, Q = shape[0], shape[1]
    for p in range(P):
        a = ro + p * rs[0]
        ap = acc[p]
        if rs[1] == 1:
            fr = row[a : a + Q]
            if first:
                for q in range(Q):
                    ap[q] = mul(w, fr[q], fused)
            else:
                for q in range(Q):
                    ap[q] = ap[q] + mul(w, fr[q], fused)
        elif first:
            for q in range(Q):
                ap[q] = mul(w, row[a + q * rs[1]], fused)
        else:
            for q in range(Q):
                ap[q] = ap[q] + mul(w, row[a + q * rs[1]], fused)
