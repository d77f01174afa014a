"""Compiled (numba) bulk kernels: the interior rows ``1 .. m-2`` of a block along one axis.

Imported lazily by :mod:`xgrad.kernels` the first time a block is large enough to pay for
it, so ``import xgrad`` does not import numba.

Bit-exactness with numpy.gradient rests on three choices, each guarded by
``tests/test_kernels.py::test_compiled_matches_reference``:

* the same operations in the same order as numpy's expressions (no reassociation, no
  reciprocal multiply), and no ``fastmath`` (which would allow FMA contraction);
* operand types fixed by the caller: ``two_dx`` arrives as a NumPy scalar of the dtype
  numpy's NEP 50 promotion gives ``(f[2:] - f[:-2]) / (2. * dx)``, so numba's typing of
  ``float32 - float32`` then ``/ two_dx`` follows numpy's;
* ``error_model="numpy"``: division by a zero spacing gives inf/nan as in numpy instead of
  raising ZeroDivisionError;
* complex data goes through :func:`mul` and :func:`div`, which spell out numpy's own complex
  loops (numba's complex division divides by the denominator where numpy multiplies by its
  reciprocal, and numpy's SIMD complex multiply fuses into FMA on CPUs that have it; see
  :data:`FUSED_CMUL`).  For real data they are the plain ``*`` and ``/``.

Kernels compute a range of rows ``i0 .. i1-1`` so a block can be processed in cache-sized
pieces without sub-block views.  Each comes in two layouts, named for where the
differentiated axis is: ``*_middle_axis`` takes arrays viewed as ``(P, m, Q)`` (the axis in
the middle, other axes folded before and after it), ``*_last_axis`` takes ``(P, m)`` for the
contiguous last axis, so the innermost loop runs along memory in both cases.  The ``*_row``
kernels compute one row next to a block face, its neighbours in other arrays.  Blocks of any
other layout (strided views) go to :mod:`xgrad._compiled_strided`, which shares :data:`_jit`,
:func:`mul`, :func:`div` and :data:`ACC_PIECE` from here.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import intrinsic, overload
from numba.np.numpy_support import as_dtype

from ._numba_cache import inline  # per-row helpers, inlined (_numba_cache.inline)
from ._numba_cache import jit as _jit  # numba's on-disk cache, guarded (_numba_cache)


def _numpy_fuses_complex_multiply() -> bool:
    """Whether numpy's array loop for ``real * complex`` rounds once (FMA) or twice.

    The two differ only in the sign of a product that underflows to zero: with FMA,
    ``-1e-310 * (1e-310 - 0.36j)`` has real part ``fma(-1e-310, 1e-310, -(0 * -0.36))``, the
    exact negative product rounded, so -0.0; rounding the product first gives
    ``-0.0 - (-0.0) = +0.0``.  numpy picks its loop by CPU, so ask it rather than guess.
    """
    with np.errstate(all="ignore"):
        z = np.full(1, -1e-310) * np.full(1, complex(1e-310, -0.36))
    return bool(np.signbit(z.real[0]))


#: numpy's complex multiply rounds once (FMA) on this CPU; passed to the kernels as ``fused``.
FUSED_CMUL = _numpy_fuses_complex_multiply()


def mul(w, z, fused):  # pragma: no cover - the compiled overload below is what runs
    """``w * z`` for a real weight ``w``, as numpy's array loops compute it."""
    return w * z


def div(x, d):  # pragma: no cover - the compiled overload below is what runs
    """``x / d`` as numpy's array loops compute it."""
    return x / d


@intrinsic
def _fma(typingctx, a, b, c):  # pragma: no cover - compiled
    def codegen(context, builder, sig, args):
        return builder.fma(*args)

    return a(a, b, c), codegen


def _types_of(*tys):
    """The real and complex scalar types numpy computes ``tys`` in (complex64 with float64:
    float64 and complex128).  Results are built as that complex type: numba's ``complex(x, y)``
    is complex128, and adding float32 parts in float64 would round twice."""
    dt = np.result_type(*(as_dtype(t) for t in tys))
    return np.finfo(dt).dtype.type, np.result_type(dt, np.complex64).type


@overload(mul, jit_options={"error_model": "numpy"})
def _mul_impl(w, z, fused):  # pragma: no cover - compiled
    if not isinstance(z, types.Complex):
        return lambda w, z, fused: w * z
    ft, ct = _types_of(w, z)
    zero = ft(0.0)  # the imaginary part of the real weight cast to complex

    def impl(w, z, fused):
        a, zr, zi = ft(w), ft(z.real), ft(z.imag)
        if fused:  # numpy's SIMD loop: fma(a, zr, -(0 * zi)), fma(a, zi, 0 * zr)
            return ct(complex(_fma(a, zr, -(zero * zi)), _fma(a, zi, zero * zr)))
        return ct(complex(a * zr - zero * zi, a * zi + zero * zr))

    return impl


@overload(div, jit_options={"error_model": "numpy"})
def _div_impl(x, d):  # pragma: no cover - compiled
    if not isinstance(d, types.Complex):
        return lambda x, d: x / d
    ft, ct = _types_of(x, d)
    one = ft(1.0)

    def impl(x, d):
        # numpy's complex divide (Smith's method, multiplying by the reciprocal)
        xr, xi, dr, di = ft(x.real), ft(x.imag), ft(d.real), ft(d.imag)
        if abs(dr) >= abs(di):
            if dr == 0 and di == 0:
                return ct(complex(xr / abs(dr), xi / abs(di)))
            rat = di / dr
            scl = one / (dr + di * rat)
            return ct(complex((xr + xi * rat) * scl, (xi - xr * rat) * scl))
        rat = dr / di
        scl = one / (di + dr * rat)
        return ct(complex((xr * rat + xi) * scl, (xi * rat - xr) * scl))

    return impl


#: Rows at most this long along a contiguous last axis go in one pass (uniform_last_axis).
SHORT_ROW = 64
#: ... in pieces of about this many elements, each piece's row ends right after it
#: (uniform_last_axis).
SHORT_PIECE = 2048


@_jit
def uniform_middle_axis(f, out, two_dx, i0, i1, edges, e1, e2, fused, scale):  # pragma: no cover
    # rows i0 .. i1-1, all with both neighbours inside the block (1 <= i0, i1 <= m-1); whole
    # rows: in pieces of 4096 elements, each with its edge rows, the tiled in-memory path
    # along axis 0 of a (512, 256, 256) float64 array took 10% longer (2 MiB tiles of four
    # rows of 65536: more prefetch streams, nothing gained in cache)
    P, m, Q = f.shape
    for p in range(P):
        for i in range(i0, i1):
            for q in range(Q):
                out[p, i, q] = div(f[p, i + 1, q] - f[p, i - 1, q], two_dx)
            if scale is not None:
                _times_piece(out[p, i], scale, p, i, 0)
        for s in range(2):
            _edge_piece(f[p], out[p], s, edges, e1, e2, fused, scale, p)


@_jit
def uniform_last_axis(f, out, two_dx, i0, i1, edges, e1, e2, fused, scale):  # pragma: no cover
    # zero-based loops over row slices: with ``range(i0, i1)`` and ``i +- 1`` indices LLVM did
    # not vectorise this loop (docs/performance.md, "Where the time goes")
    P, m = f.shape
    n = i1 - i0
    if m <= SHORT_ROW and i0 == 1 and i1 == m - 1:
        # Short rows (Fortran order or a transpose along its first axis: rows of 30 took
        # 1.9x a copy of the array row by row): one pass along the buffer, in pieces of
        # whole rows (SHORT_PIECE elements), each piece's row ends right after it.  The pass
        # also writes each row's first and last element from its neighbours' rows; the edge
        # stencils here, or the driver's face rows right after this call (axis_gradient),
        # overwrite them.  The ends of all rows after the whole pass read the buffer again
        # (rows of 30 float64: every fourth cache line or so): a (30, 512, 1024)
        # Fortran-ordered array along axis 0 took 36.6 ms that way, 22.4 in pieces (its copy
        # 29.0-29.6; in-process A/B, medians of 7).
        ff = f.reshape(P * m)
        of = out.reshape(P * m)
        rows = max(1, SHORT_PIECE // m)
        for p0 in range(0, P, rows):  # a piece of rows, then its edges while in L1
            p1 = min(P, p0 + rows)
            lo, hi = max(1, p0 * m), min(P * m - 1, p1 * m)
            fa = ff[lo - 1 : hi - 1]
            fc = ff[lo + 1 : hi + 1]
            ov = of[lo:hi]
            for k in range(hi - lo):
                ov[k] = div(fc[k] - fa[k], two_dx)
            _edge_planes(f[p0:p1].T, out[p0:p1].T, edges, e1, e2, fused)
            if scale is not None:
                _scale_lines(out, scale, p0, p1, i0, i1, edges)
        return
    for p in range(P):
        fp = f[p, i0 - 1 : i1 + 1]
        op = out[p, i0:i1]
        for j in range(n):
            op[j] = div(fp[j + 2] - fp[j], two_dx)
        _edge_planes(f[p : p + 1].T, out[p : p + 1].T, edges, e1, e2, fused)
        if scale is not None:
            _scale_lines(out, scale, p, p + 1, i0, i1, edges)


@inline
def _edge_planes(fp, op, edges, e1, e2, fused):  # pragma: no cover - compiled
    """numpy's edge stencils at both ends of one ``(m, Q)`` slab, while it is in cache.

    ``edges[s]`` (s = 0 first, 1 last row) is 0 (not a global end: done elsewhere), 1
    (``(f[1] - f[0]) / e1[s]``) or 2 (``e2[s, 0] * f[0] + e2[s, 1] * f[1] + e2[s, 2] * f[2]``,
    mirrored at the last end).  ``e1`` has numpy's working dtype of the division (complex for
    complex data: numpy divides by ``dx + 0j``), ``e2`` the real dtype of the weights.
    """
    for s in range(2):
        _edge_piece(fp, op, s, edges, e1, e2, fused, None, 0)


@inline
def _edge_piece(fp, op, s, edges, e1, e2, fused, scale, p):  # pragma: no cover
    """:func:`_edge_planes`' stencil at end ``s`` (0 first, 1 last row) of the slab, times
    the scale's plane ``p`` there (None: as it is)."""
    kind = edges[s]
    if kind == 0:
        return
    m = fp.shape[0]
    r = 0 if s == 0 else m - 1
    k = 0 if s == 0 else m - 1 - kind  # the stencil's first row
    x2 = fp[k + 2] if kind == 2 else fp[k + 1]
    edge_row(op[r], fp[k], fp[k + 1], x2, kind, e1[s], e2[s, 0], e2[s, 1], e2[s, 2], fused)
    if scale is not None:
        _times_piece(op[r], scale, p, r, 0)


@inline
def edge_row(ov, x0, x1, x2, kind, d, wa, wb, wc, fused):  # pragma: no cover - compiled
    """numpy's edge stencil on rows: ``ov = (x1 - x0) / d`` (``kind`` 1; ``x2`` unused) or
    ``wa x0 + wb x1 + wc x2`` (``kind`` 2), element by element (the one-element form on
    flat buffers: ``_compiled_strided._edge_value``)."""
    if kind == 1:
        for q in range(ov.shape[0]):
            ov[q] = div(x1[q] - x0[q], d)
    else:
        for q in range(ov.shape[0]):
            ov[q] = mul(wa, x0[q], fused) + mul(wb, x1[q], fused) + mul(wc, x2[q], fused)


@inline
def _at(n, i):  # pragma: no cover - compiled
    """Index ``i`` of a compact scale's dim of length ``n`` (1: broadcast)."""
    return i if n > 1 else 0


@inline
def _plane(scale, p):  # pragma: no cover - compiled
    """Plane (or line) ``p`` of a compact scale, whose first dim may be 1 (broadcast)."""
    return scale[_at(scale.shape[0], p)]


@inline
def _times(ov, sv):  # pragma: no cover - compiled
    """``ov *= sv`` in ``ov``'s dtype (``sv`` of that dtype, its length 1 or ``ov``'s):
    ``kernels.scale_in_place`` (``np.multiply(out, scale, out=out)``) on a row just written."""
    if sv.shape[0] == 1:
        s = sv[0]
        for j in range(ov.shape[0]):
            ov[j] = ov[j] * s
    else:
        for j in range(ov.shape[0]):
            ov[j] = ov[j] * sv[j]


@inline
def _times_piece(ov, scale, p, i, q0):  # pragma: no cover - compiled
    """``ov`` (elements ``q0 ..`` of row ``i`` of plane ``p``; a whole row from 0) times the
    scale's part there (:func:`_times`)."""
    sv = _plane(scale, p)[_at(scale.shape[1], i)]
    _times(ov, sv[q0 : q0 + ov.shape[0]] if sv.shape[0] > 1 else sv)


@_jit
def _scale_lines(out, scale, p0, p1, i0, i1, edges):  # pragma: no cover - compiled
    """Lines ``p0 .. p1-1`` of a ``(P, m)`` output times the scale (``(1 or P, 1 or m)``):
    elements ``i0 .. i1-1`` and the global edge elements written by :func:`_edge_planes`."""
    m = out.shape[1]
    for p in range(p0, p1):
        sv = _plane(scale, p)
        wide = sv.shape[0] > 1
        _times(out[p, i0:i1], sv[i0:i1] if wide else sv)
        if edges[0]:
            out[p, 0] = out[p, 0] * sv[0]
        if edges[1]:
            out[p, m - 1] = out[p, m - 1] * sv[m - 1 if wide else 0]


@_jit
def nonuniform_middle_axis(
    f, out, a, b, c, i0, i1, edges, e1, e2, fused, scale
):  # pragma: no cover
    # a, b, c hold the weights of local rows i0 .. i1-1 (index i - i0); whole rows
    # (uniform_middle_axis)
    P, m, Q = f.shape
    for p in range(P):
        for i in range(i0, i1):
            ai = a[i - i0]
            bi = b[i - i0]
            ci = c[i - i0]
            for q in range(Q):
                out[p, i, q] = (
                    mul(ai, f[p, i - 1, q], fused)
                    + mul(bi, f[p, i, q], fused)
                    + mul(ci, f[p, i + 1, q], fused)
                )
            if scale is not None:
                _times_piece(out[p, i], scale, p, i, 0)
        for s in range(2):
            _edge_piece(f[p], out[p], s, edges, e1, e2, fused, scale, p)


@_jit
def nonuniform_last_axis(f, out, a, b, c, i0, i1, edges, e1, e2, fused, scale):  # pragma: no cover
    P, m = f.shape
    n = i1 - i0
    for p in range(P):
        fp = f[p, i0 - 1 : i1 + 1]
        op = out[p, i0:i1]
        for j in range(n):
            op[j] = (
                mul(a[j], fp[j], fused) + mul(b[j], fp[j + 1], fused) + mul(c[j], fp[j + 2], fused)
            )
        _edge_planes(f[p : p + 1].T, out[p : p + 1].T, edges, e1, e2, fused)
        if scale is not None:
            _scale_lines(out, scale, p, p + 1, i0, i1, edges)


#: Elements of the scratch row the strided weighted kernels sum into at a time (16 KiB of
#: complex128).
ACC_PIECE = 1024
#: The most elements of a row :func:`weighted_middle_axis` takes through all rows at a time
#: (pieces of equal size): d/d(axis 1) of (4, 721, 1440) float32 at accuracy 4, one thread,
#: 5.1 ms in one piece of 1440 against 8.7 in pieces of 1024 + 416; a (30, 512, 1024) block
#: along axis 0 (rows of 524288) 28.9 ms in pieces of 2048 against 33.6 (medians, 2 runs).
ROW_PIECE = 2048


@_jit
def weighted_middle_axis(f, out, offsets, weights, i0, i1, acc, fused, scale):  # pragma: no cover
    """Rows i0 .. i1-1: ``sum_t weights[r, t] * f[i + offsets[t]]``, summed left to right.

    ``weights`` has one row per output row (non-uniform) or a single shared row (uniform),
    ``T >= 3`` points. The first three terms are summed in registers (with three points, the
    whole stencil, written once); each further term is a pass over the scratch row ``acc``
    (working dtype), the last one writing the output.  Four and five points (accuracy 4,
    uniform and non-uniform) are summed whole in registers too: d/d(axis 0) of a
    (30, 512, 1024) float32 array, 2 threads, in-process A/B (medians of 7), 24.2 -> 21.6 ms
    non-uniform and 21.8 -> 19.7 uniform (a copy: 15.0); one thread, (4, 721, 1440) along
    axis 1, 4.6 -> 3.5 ms (copy 2.7).  A loop over up to seven terms with ``if T > k`` inside
    was slower than either (LLVM did not unswitch it). Every element is summed left to right
    in the working dtype, as the NumPy reference (guarded by test_kernels.py): d2/d(axis 1)
    of a (4, 721, 1440) float32 array, one thread, 2.7 ms against 6.3 with a pass per point
    into ``acc`` (a copy: 2.0-2.4 ms). Loops written out, not shared helpers: each helper is
    compiled once per signature (the first call took ~1 s longer).
    """
    P, m, Q = f.shape
    shared = weights.shape[0] == 1
    T = offsets.shape[0]
    if T == 3:  # whole rows: no scratch to keep in L1, and streams prefetch best (5.2 ms
        # in pieces of 1024 + 416 against 2.7 for the example above)
        for p in range(P):
            for i in range(i0, i1):
                r = 0 if shared else i - i0
                w0, w1, w2 = weights[r, 0], weights[r, 1], weights[r, 2]
                f0, f1, f2 = f[p, i + offsets[0]], f[p, i + offsets[1]], f[p, i + offsets[2]]
                ov = out[p, i]
                for j in range(Q):
                    ov[j] = (mul(w0, f0[j], fused) + mul(w1, f1[j], fused)) + mul(w2, f2[j], fused)
                if scale is not None:
                    _times_piece(ov, scale, p, i, 0)
        return
    for p in range(P):
        # Q in pieces of ROW_PIECE or less, each taken through all rows: ``acc`` stays in L1
        # across the passes and the rows a piece's stencils share stay in L2 (d/d(axis 0) of
        # a (30, 512, 1024) float32 array at accuracy 4, one thread: 297 ms per call with
        # whole rows of Q, which went to memory and back once per stencil point, 155-175 ms
        # in pieces, on a shared 2-core machine)
        pieces = (Q + ROW_PIECE - 1) // ROW_PIECE
        piece = (Q + pieces - 1) // pieces  # balanced: 1440 is one piece, not 1024 + 416
        for q0 in range(0, Q, piece):
            n = min(piece, Q - q0)
            a = acc[:n]
            for i in range(i0, i1):
                r = 0 if shared else i - i0
                w0, w1, w2 = weights[r, 0], weights[r, 1], weights[r, 2]
                # zero-based loops over row slices (uniform_last_axis: LLVM vectorises these)
                f0 = f[p, i + offsets[0], q0 : q0 + n]
                f1 = f[p, i + offsets[1], q0 : q0 + n]
                f2 = f[p, i + offsets[2], q0 : q0 + n]
                ov = out[p, i, q0 : q0 + n]
                if T == 4:  # accuracy 4, uniform (no centre point): all four in registers
                    w3 = weights[r, 3]
                    f3 = f[p, i + offsets[3], q0 : q0 + n]
                    for j in range(n):
                        ov[j] = (
                            (mul(w0, f0[j], fused) + mul(w1, f1[j], fused)) + mul(w2, f2[j], fused)
                        ) + mul(w3, f3[j], fused)
                    if scale is not None:
                        _times_piece(ov, scale, p, i, q0)
                    continue
                if T == 5:  # accuracy 4, non-uniform: all five in registers
                    w3, w4 = weights[r, 3], weights[r, 4]
                    f3 = f[p, i + offsets[3], q0 : q0 + n]
                    f4 = f[p, i + offsets[4], q0 : q0 + n]
                    for j in range(n):
                        ov[j] = (
                            (
                                (mul(w0, f0[j], fused) + mul(w1, f1[j], fused))
                                + mul(w2, f2[j], fused)
                            )
                            + mul(w3, f3[j], fused)
                        ) + mul(w4, f4[j], fused)
                    if scale is not None:
                        _times_piece(ov, scale, p, i, q0)
                    continue
                for j in range(n):
                    a[j] = (mul(w0, f0[j], fused) + mul(w1, f1[j], fused)) + mul(w2, f2[j], fused)
                for t in range(3, T - 1):
                    w = weights[r, t]
                    fv = f[p, i + offsets[t], q0 : q0 + n]
                    for j in range(n):
                        a[j] = a[j] + mul(w, fv[j], fused)
                w = weights[r, T - 1]
                fv = f[p, i + offsets[T - 1], q0 : q0 + n]
                for j in range(n):
                    ov[j] = a[j] + mul(w, fv[j], fused)
                if scale is not None:
                    _times_piece(ov, scale, p, i, q0)


@_jit
def weighted_last_axis(
    f, out, offsets, columns, i0, i1, acc, ends, fused, scale
):  # pragma: no cover
    """``weighted_middle_axis`` along a contiguous last axis, ``T >= 3`` points, the weights
    as ``columns[t, j]`` (``(T, i1 - i0)``: a uniform stencil's repeated, so one loop serves
    both; compiling a second for scalar weights cost ~0.8 s on a first call and gained
    nothing measurable): the first three terms in registers, each further term a pass over
    the row into the scratch row ``acc`` (working dtype), so the inner loops run along memory
    and vectorise, and every element is still summed left to right.  ``ends``: the rows near
    a global end (:func:`weighted_ends`), each row's right after its bulk."""
    P, m = f.shape
    n = i1 - i0
    T = offsets.shape[0]
    c0, c1, c2 = columns[0], columns[1], columns[2]
    for p in range(P):
        f0 = f[p, i0 + offsets[0] : i1 + offsets[0]]
        f1 = f[p, i0 + offsets[1] : i1 + offsets[1]]
        f2 = f[p, i0 + offsets[2] : i1 + offsets[2]]
        op = out[p, i0:i1]
        if T == 3:
            for j in range(n):
                op[j] = (mul(c0[j], f0[j], fused) + mul(c1[j], f1[j], fused)) + mul(
                    c2[j], f2[j], fused
                )
        else:
            for j in range(n):
                acc[j] = (mul(c0[j], f0[j], fused) + mul(c1[j], f1[j], fused)) + mul(
                    c2[j], f2[j], fused
                )
            for t in range(3, T - 1):
                wt = columns[t]
                fv = f[p, i0 + offsets[t] : i1 + offsets[t]]
                for j in range(n):
                    acc[j] = acc[j] + mul(wt[j], fv[j], fused)
            wt = columns[T - 1]
            fv = f[p, i0 + offsets[T - 1] : i1 + offsets[T - 1]]
            for j in range(n):
                op[j] = acc[j] + mul(wt[j], fv[j], fused)
        weighted_ends(f[p], out[p], ends, fused)
        if scale is not None:
            sv = _plane(scale, p)
            wide = sv.shape[0] > 1
            _times(op, sv[i0:i1] if wide else sv)
            rows = ends[0]
            for e in range(rows.shape[0]):
                r = rows[e]
                out[p, r] = out[p, r] * sv[r if wide else 0]


@_jit
def weighted_ends(fp, op, ends, fused):  # pragma: no cover - compiled
    """Rows near a global end of one line ``fp`` along a contiguous last axis, while it is in
    cache: ``ends = (rows, index, weights, counts)``, row ``rows[e]`` is
    ``sum_t weights[e, t] * fp[index[e, t]]`` over ``counts[e]`` terms, summed left to right
    in the working dtype (``kernels._terms_compiled``'s order and types), then cast into
    ``op``.  Along a contiguous last axis these rows are columns: as rows of their own they
    read every line of the block again per term (rows of 30 float64 in Fortran order, 4 end
    rows at accuracy 4: 149 ms of a 211 ms call on one thread)."""
    rows, index, weights, counts = ends
    for e in range(rows.shape[0]):
        s = mul(weights[e, 0], fp[index[e, 0]], fused)
        for t in range(1, counts[e]):
            s = s + mul(weights[e, t], fp[index[e, t]], fused)
        op[rows[e]] = s


@_jit
def uniform_row(prev, nxt, out, two_dx):  # pragma: no cover - compiled
    """One row next to a face, its neighbours in other arrays (halo, previous tile): (P, Q)."""
    P, Q = out.shape
    for p in range(P):
        for q in range(Q):
            out[p, q] = div(nxt[p, q] - prev[p, q], two_dx)


@_jit
def nonuniform_row(prev, cur, nxt, out, a, b, c, fused):  # pragma: no cover - compiled
    P, Q = out.shape
    for p in range(P):
        for q in range(Q):
            out[p, q] = (
                mul(a, prev[p, q], fused) + mul(b, cur[p, q], fused) + mul(c, nxt[p, q], fused)
            )


@_jit
def weighted_row(acc, w, row, first, fused):  # pragma: no cover - compiled
    """One term of a weighted row next to a face: ``acc = w * row`` or ``acc += w * row``
    (``(P, Q)`` views; ``acc`` in numpy's working dtype, so terms add left to right as the
    NumPy reference's ``value = value + w * row``)."""
    P, Q = acc.shape
    for p in range(P):
        for q in range(Q):
            if first:
                acc[p, q] = mul(w, row[p, q], fused)
            else:
                acc[p, q] = acc[p, q] + mul(w, row[p, q], fused)
