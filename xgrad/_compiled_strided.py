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

from ._compiled import ACC_PIECE, _jit, div, edge_row, mul
from ._numba_cache import inline

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
def uniform_strided_middle(
    f, fo, fs, out, oo, os, shape, two_dx, i0, i1, edges, e1, e2, fused
):  # pragma: no cover
    """Rows i0 .. i1-1 of dimension 1 of a ``(P, m, R, Q)`` block, Q innermost, and the
    global edge rows ``edges`` asks for (``_compiled._edge_planes``): per strip of rows, the
    first before the strip goes down ``i`` and the last after it (:func:`_edge_strip`)."""
    P, R, Q = shape[0], shape[2], shape[3]
    fq, oq = fs[3], os[3]
    unit = fq == 1 and oq == 1
    rb = _strip_rows(Q)
    for p in range(P):
        fp, op = fo + p * fs[0], oo + p * os[0]
        for r0 in range(0, R, rb):  # a strip of rows, down every i (_strip_rows)
            r1 = min(R, r0 + rb)
            _edge_strip(f, fp, fs, out, op, os, shape, r0, r1, 0, edges, e1, e2, fused)
            for i in range(i0, i1):
                for r in range(r0, r1):
                    a = fp + (i - 1) * fs[1] + r * fs[2]
                    c = a + 2 * fs[1]
                    o = op + i * os[1] + r * os[2]
                    if unit:
                        fa = f[a : a + Q]
                        fc = f[c : c + Q]
                        ov = out[o : o + Q]
                        for q in range(Q):
                            ov[q] = div(fc[q] - fa[q], two_dx)
                    else:
                        for q in range(Q):
                            out[o + q * oq] = div(f[c + q * fq] - f[a + q * fq], two_dx)
            _edge_strip(f, fp, fs, out, op, os, shape, r0, r1, 1, edges, e1, e2, fused)


@_jit
def uniform_strided_last(
    f, fo, fs, out, oo, os, shape, two_dx, i0, i1, edges, e1, e2, fused
):  # pragma: no cover
    """Rows i0 .. i1-1 of the innermost dimension of a ``(P, R, m)`` block, and the global
    edge elements ``edges`` asks for, after each row while it is in cache."""
    P, R = shape[0], shape[1]
    fi, oi = fs[2], os[2]
    n = i1 - i0
    ends = _hoisted(edges, e1, e2)
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
            _line_ends(f, a, fi, out, o, oi, shape[2], ends, fused)


@_jit
def nonuniform_strided_middle(
    f, fo, fs, out, oo, os, shape, wa, wb, wc, i0, i1, edges, e1, e2, fused
):  # pragma: no cover
    """``uniform_strided_middle`` with numpy's non-uniform weights of rows i0 .. i1-1."""
    P, R, Q = shape[0], shape[2], shape[3]
    fq, oq = fs[3], os[3]
    unit = fq == 1 and oq == 1
    rb = _strip_rows(Q)
    for p in range(P):
        fp, op = fo + p * fs[0], oo + p * os[0]
        for r0 in range(0, R, rb):  # a strip of rows, down every i (_strip_rows)
            r1 = min(R, r0 + rb)
            _edge_strip(f, fp, fs, out, op, os, shape, r0, r1, 0, edges, e1, e2, fused)
            for i in range(i0, i1):
                ai = wa[i - i0]
                bi = wb[i - i0]
                ci = wc[i - i0]
                for r in range(r0, r1):
                    a = fp + (i - 1) * fs[1] + r * fs[2]
                    b = a + fs[1]
                    c = b + fs[1]
                    o = op + i * os[1] + r * os[2]
                    if unit:
                        fa = f[a : a + Q]
                        fb = f[b : b + Q]
                        fc = f[c : c + Q]
                        ov = out[o : o + Q]
                        for q in range(Q):
                            ov[q] = (
                                mul(ai, fa[q], fused)
                                + mul(bi, fb[q], fused)
                                + mul(ci, fc[q], fused)
                            )
                    else:
                        for q in range(Q):
                            out[o + q * oq] = (
                                mul(ai, f[a + q * fq], fused)
                                + mul(bi, f[b + q * fq], fused)
                                + mul(ci, f[c + q * fq], fused)
                            )
            _edge_strip(f, fp, fs, out, op, os, shape, r0, r1, 1, edges, e1, e2, fused)


@_jit
def nonuniform_strided_last(
    f, fo, fs, out, oo, os, shape, wa, wb, wc, i0, i1, edges, e1, e2, fused
):  # pragma: no cover
    P, R = shape[0], shape[1]
    fi, oi = fs[2], os[2]
    n = i1 - i0
    ends = _hoisted(edges, e1, e2)
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
            _line_ends(f, a, fi, out, o, oi, shape[2], ends, fused)


@inline
def _hoisted(edges, e1, e2):  # pragma: no cover - compiled
    """The edge stencils' kinds and coefficients as scalars, read once per kernel call (per
    row, their loads and branches cost the (15, 256, 512) view's last-axis kernel ~15%)."""
    return (
        edges[0], edges[1], e1[0], e1[1],
        e2[0, 0], e2[0, 1], e2[0, 2], e2[1, 0], e2[1, 1], e2[1, 2],
    )  # fmt: skip


@inline
def _line_ends(f, a, fi, out, o, oi, m, ends, fused):  # pragma: no cover - compiled
    """numpy's edge stencils at both ends of one line of ``m`` points (``f`` from ``a``,
    ``fi`` apart; ``out`` from ``o``, ``oi`` apart); ``ends``: :func:`_hoisted`."""
    k0, k1, d0, d1, a0, b0, c0, a1, b1, c1 = ends
    if k0 != 0:
        out[o] = _edge_value(f, a, fi, k0, d0, a0, b0, c0, fused)
    if k1 != 0:
        last = a + (m - 1 - k1) * fi  # the stencil's first point
        out[o + (m - 1) * oi] = _edge_value(f, last, fi, k1, d1, a1, b1, c1, fused)


@inline
def _edge_value(f, k, fi, kind, d, wa, wb, wc, fused):  # pragma: no cover - compiled
    """numpy's edge stencil on the points ``k, k + fi (, k + 2 fi)`` of ``f``:
    ``(f[k + fi] - f[k]) / d`` (``kind`` 1) or ``wa f[k] + wb f[k + fi] + wc f[k + 2 fi]``
    (``kind`` 2): ``_compiled.edge_row`` on one element."""
    if kind == 1:
        return div(f[k + fi] - f[k], d)
    return mul(wa, f[k], fused) + mul(wb, f[k + fi], fused) + mul(wc, f[k + 2 * fi], fused)


@_jit
def _edge_strip(f, fo, fs, out, oo, os, shape, r0, r1, s, edges, e1, e2, fused):  # pragma: no cover
    """Global edge row ``s`` (0 the first, 1 the last; where ``edges[s]`` asks for it) of
    rows ``r0 .. r1-1`` of one ``(m, R, Q)`` slab of a strided middle-axis block (``fo``,
    ``oo``: the buffer index of its first element): done next to the rows the strip's bulk
    reads, so they are in cache (after every strip, a (15, 256, 512) block viewed in a (60,
    512, 2048) float64 array re-read its first and last two planes from memory: 4.5 ms along
    axis 0 against 3.3 for the bulk alone, one thread)."""
    if edges[s] == 0:
        return
    for r in range(r0, r1):
        a, o = fo + r * fs[2], oo + r * os[2]
        _edge_end(
            f, a, fs[1], fs[3], out, o, os[1], os[3], shape[1], shape[3], s, edges, e1, e2, fused
        )


@inline
def _edge_end(f, a, fi, fq, out, o, oi, oq, m, n, s, edges, e1, e2, fused):  # pragma: no cover
    """numpy's edge stencil (:func:`_edge_value`) at end ``s`` (0 the first, 1 the last) of
    ``n`` lines of ``m`` points: line ``q`` starts at ``a + q * fq`` in ``f`` (points ``fi``
    apart) and at ``o + q * oq`` in ``out`` (``oi`` apart).  Lines one element apart in both
    run over slices (vectorised)."""
    kind = edges[s]
    if kind == 0:
        return
    t = o + (0 if s == 0 else m - 1) * oi
    k = a if s == 0 else a + (m - 1 - kind) * fi  # the stencil's first point
    d, wa, wb, wc = e1[s], e2[s, 0], e2[s, 1], e2[s, 2]
    if fq == 1 and oq == 1:
        x0, x1, ov = f[k : k + n], f[k + fi : k + fi + n], out[t : t + n]
        x2 = f[k + 2 * fi : k + 2 * fi + n] if kind == 2 else x1
        edge_row(ov, x0, x1, x2, kind, d, wa, wb, wc, fused)
    else:
        for q in range(n):
            out[t + q * oq] = _edge_value(f, k + q * fq, fi, kind, d, wa, wb, wc, fused)


@_jit
def weighted_strided_middle(
    f, fo, fs, out, oo, os, shape, offsets, weights, i0, i1, acc, fused
):  # pragma: no cover
    """``weighted_middle_axis`` on a ``(P, m, R, Q)`` block: per output row, one pass per
    stencil point into the scratch row ``acc`` (Q, working dtype), summed left to right."""
    P, R, Q = shape[0], shape[2], shape[3]
    fq, oq = fs[3], os[3]
    shared = weights.shape[0] == 1
    T = offsets.shape[0]
    rb = _strip_rows(Q)
    for p in range(P):
        for r0 in range(0, R, rb):  # a strip of rows, down every i (_strip_rows)
            for i in range(i0, i1):
                row = 0 if shared else i - i0
                for r in range(r0, min(R, r0 + rb)):
                    base = fo + p * fs[0] + r * fs[2]
                    o = oo + p * os[0] + i * os[1] + r * os[2]
                    for q0 in range(0, Q, ACC_PIECE):  # acc stays in L1 (weighted_middle_axis)
                        n = min(ACC_PIECE, Q - q0)
                        for t in range(T):
                            w = weights[row, t]
                            a = base + (i + offsets[t]) * fs[1] + q0 * fq
                            if fq == 1:
                                fa = f[a : a + n]
                                if t == 0:
                                    for q in range(n):
                                        acc[q] = mul(w, fa[q], fused)
                                else:
                                    for q in range(n):
                                        acc[q] = acc[q] + mul(w, fa[q], fused)
                            elif t == 0:
                                for q in range(n):
                                    acc[q] = mul(w, f[a + q * fq], fused)
                            else:
                                for q in range(n):
                                    acc[q] = acc[q] + mul(w, f[a + q * fq], fused)
                        if oq == 1:
                            ov = out[o + q0 : o + q0 + n]
                            for q in range(n):
                                ov[q] = acc[q]
                        else:
                            for q in range(n):
                                out[o + (q0 + q) * oq] = acc[q]


@_jit
def weighted_strided_last(
    f, fo, fs, out, oo, os, shape, offsets, weights, i0, i1, acc, fused
):  # pragma: no cover
    """``weighted_last_axis`` on a ``(P, R, m)`` block (``acc``: i1 - i0, working dtype)."""
    P, R = shape[0], shape[1]
    fi, oi = fs[2], os[2]
    n = i1 - i0
    T = offsets.shape[0]
    shared = weights.shape[0] == 1
    for p in range(P):
        for r in range(R):
            a = fo + p * fs[0] + r * fs[1]
            for t in range(T):
                k = a + (i0 + offsets[t]) * fi
                if fi == 1:
                    fp = f[k : k + n]
                    if shared:
                        w = weights[0, t]
                        if t == 0:
                            for j in range(n):
                                acc[j] = mul(w, fp[j], fused)
                        else:
                            for j in range(n):
                                acc[j] = acc[j] + mul(w, fp[j], fused)
                    else:
                        wt = weights[:, t]
                        if t == 0:
                            for j in range(n):
                                acc[j] = mul(wt[j], fp[j], fused)
                        else:
                            for j in range(n):
                                acc[j] = acc[j] + mul(wt[j], fp[j], fused)
                else:
                    for j in range(n):
                        w = weights[0 if shared else j, t]
                        v = mul(w, f[k + j * fi], fused)
                        acc[j] = v if t == 0 else acc[j] + v
            o = oo + p * os[0] + r * os[1]
            if oi == 1:
                op = out[o + i0 : o + i1]
                for j in range(n):
                    op[j] = acc[j]
            else:
                for j in range(n):
                    out[o + (i0 + j) * oi] = acc[j]


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


@_jit
def _strip_rows(Q):  # pragma: no cover
    """How many ``Q``-long rows a strip of a strided middle-axis kernel holds: 32 KiB of
    float64 (at least one row).

    The middle kernels go down every ``i`` for one strip of rows before the next strip, so the
    rows ``i + 1`` a strip reads are read again from L1/L2 as rows ``i - 1`` two steps later,
    instead of from L3 or memory after a whole plane.  Plane by plane, a (15, 256, 512) block
    viewed in a (60, 512, 2048) float64 array took 1.32x its copy along axis 0 (one thread,
    medians of 9), against 0.97-1.00x with strips of 4-16 rows (0.88 and 0.81-0.84x for a
    contiguous block).  The values are the same: each output element is computed as before."""
    return max(1, 4096 // max(Q, 1))


# Rows next to a block face, as 3-D views of any strides (``kernels._row_compiled``: the dims
# ordered so the innermost loop runs along the output's smallest stride).  numba indexes them
# through their strides; on a contiguous (1, 256, 512) float64 row that ran as fast as the
# contiguous ``uniform_row`` (53 us both), and it spares the Python of flat buffers: a face
# row of a dask block cost 100-300 us of Python that way (``layouts._buffer`` of every row,
# 16 us each), 700 rows per 3-axis gradient of 32 (15, 256, 512) blocks.


@_jit
def uniform_face(prev, nxt, out, two_dx):  # pragma: no cover
    """``(nxt - prev) / two_dx`` (``_compiled.uniform_row``) on 3-D views."""
    A, B, C = out.shape
    for a in range(A):
        for b in range(B):
            for c in range(C):
                out[a, b, c] = div(nxt[a, b, c] - prev[a, b, c], two_dx)


@_jit
def nonuniform_face(prev, cur, nxt, out, wa, wb, wc, fused):  # pragma: no cover
    """``wa * prev + wb * cur + wc * nxt`` (``_compiled.nonuniform_row``) on 3-D views."""
    A, B, C = out.shape
    for a in range(A):
        for b in range(B):
            for c in range(C):
                out[a, b, c] = (
                    mul(wa, prev[a, b, c], fused)
                    + mul(wb, cur[a, b, c], fused)
                    + mul(wc, nxt[a, b, c], fused)
                )


@_jit
def weighted_face(acc, w, row, first, fused):  # pragma: no cover
    """One term of a weighted row next to a face (``_compiled.weighted_row``) on 3-D views:
    ``acc = w * row`` or ``acc += w * row``, ``acc`` in numpy's working dtype."""
    A, B, C = acc.shape
    for a in range(A):
        for b in range(B):
            for c in range(C):
                if first:
                    acc[a, b, c] = mul(w, row[a, b, c], fused)
                else:
                    acc[a, b, c] = acc[a, b, c] + mul(w, row[a, b, c], fused)
