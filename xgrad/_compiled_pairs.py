"""Compiled (numba) drivers: the derivatives of a C-contiguous block along its last two axes
and what a combination builds from them, band by band, in one pass over memory.

:func:`xgrad.blocks.block_gradients` computes each derivative of a cache tile into scratch,
then combines the scratch tiles: a tile of a (361, 720) float64 time step is 2 MiB, so every
derivative goes out to the L3 cache and comes back for the combination (``advection`` of
(8, 361, 720) float64 took 1.4-1.5x ``along("lat", "lon")`` of the same field, in memory).
Here a few rows at a time (a *band*, :data:`BAND` elements) of each derivative are computed
into small buffers that stay in L1/L2, scaled by their metric factors, and combined into the
result before the next band: the input and the other fields are read once, the result written
once, and no derivative leaves the core.

The derivatives are the contiguous kernels of :mod:`xgrad._compiled` run on band views
(``uniform_middle_axis`` & co. along axis -2 with the global edge rows, ``uniform_last_axis``
& co. along axis -1; the Laplacian's second derivatives ``weighted_middle_axis`` and
``weighted_last_axis``, their end and seam rows summed term by term as the tiles' rows), the
rows across a periodic seam the face kernels of :mod:`xgrad._compiled_strided`, the factors
``_compiled._times_piece`` and the combinations those of the tiles (:mod:`xgrad._fused`'s
formulas inlined, :mod:`xgrad._fused_loops`' loops on band views, ``_vector_kernels._hypot``
and ``_term``, ``weighted_sum_loop``'s element): the same operations in the same order and
operand types as the engine's tiles, so the same bits (``tests/test_pairs.py``).
:mod:`xgrad.pairs` decides where they apply and builds their arguments.
"""

from __future__ import annotations

import numba

from . import _fused
from ._compiled import (
    _jit,
    _times_piece,
    mul,
    nonuniform_last_axis,
    nonuniform_middle_axis,
    uniform_last_axis,
    uniform_middle_axis,
    weighted_last_axis,
    weighted_middle_axis,
)
from ._compiled_strided import nonuniform_face, uniform_face
from ._fused_loops import _deformation, _minus_pair, _plus_pair
from ._vector_kernels import _hypot, _term

#: Elements per band and buffer (a few rows of the last axis): with the input's rows, the
#: other fields' and the result's, a band's working set stays in a 512 KiB L2.
BAND = 4096

_advection = numba.njit(inline="always")(_fused.advection)
_frontogenesis = numba.njit(inline="always")(_fused.frontogenesis)


@_jit
def _seam(prev, cur, nxt, out, uniform, two_dx, a, b, c, g, fused):  # pragma: no cover
    """One row across a periodic seam (global row ``g``) from the 3-D views ``prev``,
    ``cur``, ``nxt`` into ``out``: the face kernels of ``kernels._row``."""
    if uniform:
        uniform_face(prev, nxt, out, two_dx)
    else:
        nonuniform_face(prev, cur, nxt, out, a[g], b[g], c[g], fused)


@_jit
def middle_band(f, p, r0, r1, buf, y, edges, fused, pre, pbuf):  # pragma: no cover
    """Rows ``r0 .. r1-1`` of d f/d(axis 1) of plane ``p`` of the ``(P, m, Q)`` block into
    ``buf`` (``(1, >= r1 - r0 + 4, Q)``), unscaled; returns ``lo``: row ``i`` is
    ``buf[0, i - lo]``.  ``y``: the axis' arguments (:func:`xgrad.pairs.axis_args`);
    ``edges``: an int64 scratch pair.  ``pre`` (None, or a line along axis 1 of ``f``'s
    dtype; not with a periodic axis): the derivative of ``f * pre``, the rows of the
    product formed in ``pbuf`` (``buf``'s shape) as the tiles form theirs."""
    uniform, periodic, two_dx, a, b, c, kinds, e1, e2 = y
    m = f.shape[1]
    lo, hi = max(0, r0 - 1), min(m, r1 + 1)
    if not periodic:  # the edge stencils of order 2 read three rows at their end
        if r0 == 0:
            hi = max(hi, min(m, 3))
        if r1 == m:
            lo = min(lo, max(0, m - 3))
    edges[0] = kinds[0] if r0 == 0 and not periodic else 0
    edges[1] = kinds[1] if r1 == m and not periodic else 0
    Q = f.shape[2]
    # 2-D slices of C arrays reshaped: numba types them C-contiguous (3-D slices: 'A')
    fv = f[p, lo:hi].reshape((1, hi - lo, Q))
    if pre is not None:  # np.multiply(f, pre) of blocks.block_gradients, these rows
        pv = pbuf[0, : hi - lo]
        for j in range(hi - lo):
            w = pre[lo + j]
            for q in range(Q):
                pv[j, q] = fv[0, j, q] * w
        fv = pv.reshape((1, hi - lo, Q))
    bv = buf[0, : hi - lo].reshape((1, hi - lo, Q))
    j0, j1 = max(r0 - lo, 1), min(r1 - lo, hi - lo - 1)
    j1 = max(j0, j1)
    if uniform:
        uniform_middle_axis(fv, bv, two_dx, j0, j1, edges, e1, e2, fused, None)
    else:
        g0, g1 = lo + j0, lo + j1
        nonuniform_middle_axis(
            fv, bv, a[g0:g1], b[g0:g1], c[g0:g1], j0, j1, edges, e1, e2, fused, None
        )
    if periodic and r0 == 0:
        rows = _row3(f, p, m - 1), _row3(f, p, 0), _row3(f, p, 1)
        _seam(*rows, _row3(buf, 0, 0), uniform, two_dx, a, b, c, 0, fused)
    if periodic and r1 == m:
        rows = _row3(f, p, m - 2), _row3(f, p, m - 1), _row3(f, p, 0)
        _seam(*rows, _row3(buf, 0, m - 1 - lo), uniform, two_dx, a, b, c, m - 1, fused)
    return lo


@_jit
def _row3(f, p, i):  # pragma: no cover - compiled
    """Row ``i`` of plane ``p`` as a C-contiguous ``(1, 1, Q)`` view."""
    return f[p, i : i + 1].reshape((1, 1, f.shape[2]))


@_jit
def last_band(f, p, r0, r1, buf, x, fused):  # pragma: no cover - compiled
    """Rows ``r0 .. r1-1`` of plane ``p``: d f/d(axis 2) into ``buf[0, :r1 - r0]``, unscaled
    (``x``: the axis' arguments)."""
    uniform, periodic, two_dx, a, b, c, kinds, e1, e2 = x
    Q = f.shape[2]
    fv = f[p, r0:r1]
    bv = buf[0, : r1 - r0]
    if uniform:
        uniform_last_axis(fv, bv, two_dx, 1, Q - 1, kinds, e1, e2, fused, None)
    else:
        nonuniform_last_axis(
            fv, bv, a[1 : Q - 1], b[1 : Q - 1], c[1 : Q - 1], 1, Q - 1, kinds, e1, e2, fused, None
        )
    if periodic:
        three = f[p : p + 1, r0:r1]
        out = buf[:, : r1 - r0]
        rows = three[:, :, Q - 1 : Q], three[:, :, 0:1], three[:, :, 1:2]
        _seam(*rows, out[:, :, 0:1], uniform, two_dx, a, b, c, 0, fused)
        rows = three[:, :, Q - 2 : Q - 1], three[:, :, Q - 1 : Q], three[:, :, 0:1]
        _seam(*rows, out[:, :, Q - 1 : Q], uniform, two_dx, a, b, c, Q - 1, fused)


@_jit
def _bands(f, p, i0, i1, ybuf, xbuf, grid, edges, fused):  # pragma: no cover
    """Rows ``i0 .. i1-1`` of plane ``p``: d f/d(axis 1) into ``ybuf`` (row ``i`` at
    ``ybuf[0, i - lo]``; returns ``lo``) and d f/d(axis 2) into ``xbuf`` (at
    ``xbuf[0, i - i0]``), each row times its factor.  ``grid``: ``(y, x, sy, sx, x_first)``,
    the axes' arguments (:func:`xgrad.pairs.axis_args`), their factors (compact
    ``(P', m', Q')``, or None) and whether the formula's x is along axis 2."""
    y, x, sy, sx, _ = grid
    lo = middle_band(f, p, i0, i1, ybuf, y, edges, fused, None, ybuf)
    last_band(f, p, i0, i1, xbuf, x, fused)
    _scale_rows(ybuf, sy, p, i0, i1, lo)
    _scale_rows(xbuf, sx, p, i0, i1, i0)
    return lo


@_jit
def _scale_rows(buf, scale, p, i0, i1, lo):  # pragma: no cover - compiled
    """Rows ``i0 .. i1-1`` of plane ``p`` (at ``buf[0, i - lo]``) times ``scale`` (None: as
    they are; an argument, so numba prunes the branch for None)."""
    if scale is not None:
        for i in range(i0, i1):
            _times_piece(buf[0, i - lo], scale, p, i, 0)


@_jit
def _pair(a, b, p, i0, i1, bufs, grid, edges, fused):  # pragma: no cover - compiled
    """``(ax, ay, bx, by)``: the formula's x and y derivatives of ``a`` and ``b`` on rows
    ``i0 .. i1-1`` of plane ``p`` as ``(1, n, Q)`` views of ``bufs`` (y and x band buffers of
    ``a``, then of ``b``)."""
    n = i1 - i0
    lo = _bands(a, p, i0, i1, bufs[0], bufs[1], grid, edges, fused)
    _bands(b, p, i0, i1, bufs[2], bufs[3], grid, edges, fused)  # the same lo
    ay, ax = _rows(bufs[0], 0, i0 - lo, i1 - lo), _rows(bufs[1], 0, 0, n)
    by, bx = _rows(bufs[2], 0, i0 - lo, i1 - lo), _rows(bufs[3], 0, 0, n)
    if grid[4]:
        return ax, ay, bx, by
    return ay, ax, by, bx  # the formula's x is along axis 1


@_jit
def _rows(a, p, i0, i1):  # pragma: no cover - compiled
    """Rows ``i0 .. i1-1`` of plane ``p`` of a ``(P, m, Q)`` array as a C ``(1, n, Q)`` view."""
    return a[p, i0:i1].reshape((1, i1 - i0, a.shape[2]))


@_jit
def _band(m, step, r, row1):  # pragma: no cover - compiled
    """``(p, i0, i1)``: the band of flat row ``r`` (plane ``p``, rows ``i0 .. i1-1``), at most
    ``step`` rows, within the plane and before flat row ``row1``."""
    p, i0 = r // m, r % m
    return p, i0, min(m, i0 + step, i0 + row1 - r)


@_jit
def _one_input(f, u, v, out, kind, grid, row0, row1, bufs, edges, fused):  # pragma: no cover
    """Flat rows ``row0 .. row1-1`` of ``(P, m, Q)`` blocks: ``kind`` 0 the advection
    ``-(u df/dx + v df/dy)`` (:func:`xgrad._fused.advection`), 1 the gradient's magnitude
    ``|(df/dx, df/dy)|`` (``_vector_kernels._hypot``; ``u``, ``v`` unused); ``grid``:
    :func:`_bands`'; ``bufs``: the y and x band buffers."""
    m = f.shape[1]
    ybuf, xbuf = bufs
    step = max(1, ybuf.shape[1] - 4)  # rows per band: the buffers are sized for a band
    r = row0
    while r < row1:
        p, i0, i1 = _band(m, step, r, row1)
        lo = _bands(f, p, i0, i1, ybuf, xbuf, grid, edges, fused)
        for i in range(i0, i1):
            dy, dx = ybuf[0, i - lo], xbuf[0, i - i0]
            d0, d1 = (dx, dy) if grid[4] else (dy, dx)
            op = out[p, i]
            if kind == 0:
                up, vp = u[p, i], v[p, i]
                for q in range(op.shape[0]):
                    op[q] = _advection(d0[q], up[q], d1[q], vp[q])
            else:
                for q in range(op.shape[0]):
                    op[q] = _hypot(d0[q], d1[q])
        r += i1 - i0


@_jit
def advection(f, u, v, out, grid, row0, row1, bufs, edges, fused):  # pragma: no cover
    """``-(u df/dx + v df/dy)`` of flat rows ``row0 .. row1-1`` (:func:`_one_input`)."""
    _one_input(f, u, v, out, 0, grid, row0, row1, bufs, edges, fused)


@_jit
def magnitude(f, out, grid, row0, row1, bufs, edges, fused):  # pragma: no cover - compiled
    """``|grad f|`` along the last two axes of flat rows ``row0 .. row1-1``
    (``combinations.magnitude_of``'s ``hypot``; :func:`_one_input`)."""
    _one_input(f, f, f, out, 1, grid, row0, row1, bufs, edges, fused)


@_jit
def deformation(
    v, u, uop, vop, tan, metric, out0, out1, out2, grid, row0, row1, bufs, edges, fused
):  # pragma: no cover - compiled
    """Stretching, shearing and total deformation of flat rows ``row0 .. row1-1``: the loop
    of ``_fused_loops._deformation`` on each band.  ``v`` and ``u`` are differentiated here
    (``bufs``: y and x band buffers of ``v``, then of ``u``, as :func:`advection`'s),
    ``uop``/``vop`` are the winds of the metric terms and ``tan`` their factor per row of
    axis 1 (the formula's y; zeros without ``metric``)."""
    m = v.shape[1]
    step = max(1, bufs[0].shape[1] - 4)
    r = row0
    while r < row1:
        p, i0, i1 = _band(m, step, r, row1)
        n = i1 - i0
        vx, vy, ux, uy = _pair(v, u, p, i0, i1, bufs, grid, edges, fused)
        outs = _rows(out0, p, i0, i1), _rows(out1, p, i0, i1), _rows(out2, p, i0, i1)
        winds = _rows(uop, p, i0, i1), _rows(vop, p, i0, i1)
        _deformation(vx, vy, ux, uy, *winds, tan[i0:i1], metric, *outs)
        r += n


@_jit
def vector_gradient(
    u, v, uop, vop, tan, metric, out0, out1, out2, out3, grid, row0, row1, bufs, edges, fused
):  # pragma: no cover - compiled
    """``du/dx - v tan``, ``du/dy``, ``dv/dx + u tan``, ``dv/dy`` of flat rows ``row0 ..
    row1-1`` (``_fused_loops._minus_pair`` and ``_plus_pair`` on each band; ``metric`` is
    always True here: without it the vector gradient is four plain derivatives)."""
    m = u.shape[1]
    step = max(1, bufs[0].shape[1] - 4)
    r = row0
    while r < row1:
        p, i0, i1 = _band(m, step, r, row1)
        n = i1 - i0
        ux, uy, vx, vy = _pair(u, v, p, i0, i1, bufs, grid, edges, fused)
        t = tan[i0:i1]
        du = _rows(out0, p, i0, i1), _rows(out1, p, i0, i1)
        dv = _rows(out2, p, i0, i1), _rows(out3, p, i0, i1)
        _minus_pair(ux, uy, _rows(vop, p, i0, i1), t, *du)
        _plus_pair(vx, vy, _rows(uop, p, i0, i1), t, *dv)
        r += n


@_jit
def frontogenesis(
    f, u, v, uop, vop, tan, metric, out, grid, row0, row1, bufs, edges, fused
):  # pragma: no cover - compiled
    """Frontogenesis (:func:`xgrad._fused.frontogenesis`) of flat rows ``row0 .. row1-1``:
    ``f``, ``u`` and ``v`` differentiated here (``bufs``: y and x band buffers of each),
    ``uop``/``vop`` the winds of the metric terms, ``tan`` per row of axis 1 (the formula's
    y; zeros without ``metric``)."""
    m = f.shape[1]
    step = max(1, bufs[0].shape[1] - 4)
    r = row0
    while r < row1:
        p, i0, i1 = _band(m, step, r, row1)
        lo = _bands(f, p, i0, i1, bufs[0], bufs[1], grid, edges, fused)
        _bands(u, p, i0, i1, bufs[2], bufs[3], grid, edges, fused)
        _bands(v, p, i0, i1, bufs[4], bufs[5], grid, edges, fused)
        for i in range(i0, i1):
            d = (
                bufs[0][0, i - lo],
                bufs[1][0, i - i0],
                bufs[2][0, i - lo],
                bufs[3][0, i - i0],
                bufs[4][0, i - lo],
                bufs[5][0, i - i0],
            )
            # (fx, fy, ux, uy, vx, vy): the formula's x along axis 2 or axis 1
            if grid[4]:
                fx, fy, ux, uy, vx, vy = d[1], d[0], d[3], d[2], d[5], d[4]
            else:
                fx, fy, ux, uy, vx, vy = d
            t = tan[i]
            up, vp, op = uop[p, i], vop[p, i], out[p, i]
            for q in range(op.shape[0]):
                op[q] = _frontogenesis(
                    fx[q], fy[q], ux[q], uy[q], vx[q], vy[q], up[q], vp[q], t, metric
                )
        r += i1 - i0


@_jit
def flux(b, a, pre, sec, sign, out, grid, row0, row1, bufs, edges, fused):  # pragma: no cover
    """The divergence (``sign`` 1) or curl (-1) on the sphere of flat rows ``row0 .. row1-1``:
    ``da/dx + sec d(b pre)/dy`` (``vector._fused_flux``'s two passes: ``weighted_sum_loop``'s
    element), ``a`` differentiated along the formula's x (axis 2), ``b`` times ``pre`` (cos
    of the latitude) along y (axis 1), ``sec`` per row of axis 1; ``bufs``: the y band of
    ``b``, the x band of ``a``, the product's rows."""
    m = b.shape[1]
    y, x, sy, sx, _ = grid
    ybuf, xbuf, pbuf = bufs
    step = max(1, ybuf.shape[1] - 4)
    r = row0
    while r < row1:
        p, i0, i1 = _band(m, step, r, row1)
        lo = middle_band(b, p, i0, i1, ybuf, y, edges, fused, pre, pbuf)
        last_band(a, p, i0, i1, xbuf, x, fused)
        _scale_rows(ybuf, sy, p, i0, i1, lo)
        _scale_rows(xbuf, sx, p, i0, i1, i0)
        for i in range(i0, i1):
            t, d, op, w = xbuf[0, i - i0], ybuf[0, i - lo], out[p, i], sec[i]
            if sign > 0:
                for q in range(op.shape[0]):
                    op[q] = t[q] + d[q] * w
            else:
                for q in range(op.shape[0]):
                    op[q] = t[q] - d[q] * w
        r += i1 - i0


@_jit
def second_band(f, p, r0, r1, buf, w, acc, fused):  # pragma: no cover - compiled
    """Rows ``r0 .. r1-1`` of the second derivative along axis 1 of plane ``p`` into ``buf``
    (``(1, >= r1 - r0 + 2h, Q)``); returns ``lo``: row ``i`` is ``buf[0, i - lo]``. ``w``:
    :func:`xgrad.pairs.second_args`; the bulk rows are ``weighted_middle_axis``'s on the
    band's view, the others (the ends, a periodic seam) :func:`_weighted_row`."""
    offsets, weights, _, ends, h = w
    m, Q = f.shape[1], f.shape[2]
    lo, hi = max(0, r0 - h), min(m, r1 + h)
    b0, b1 = max(r0, h), min(r1, m - h)
    if b1 > b0:
        fv = f[p, lo:hi].reshape((1, hi - lo, Q))
        bv = buf[0, : hi - lo].reshape((1, hi - lo, Q))
        ws = weights if weights.shape[0] == 1 else weights[b0:b1]
        weighted_middle_axis(fv, bv, offsets, ws, b0 - lo, b1 - lo, acc, fused, None)
    rows, index, coef, counts = ends
    for e in range(rows.shape[0]):
        i = rows[e]
        if r0 <= i < r1:
            _weighted_row(f, p, buf[0, i - lo], index[e], coef[e], counts[e], fused)
    return lo


@_jit
def _weighted_row(f, p, out, index, coef, count, fused):  # pragma: no cover - compiled
    """``out = sum_t coef[t] * f[p, index[t]]`` over ``count`` terms, summed left to right in
    the working dtype and then cast (``kernels._terms_compiled``' order and types)."""
    for q in range(out.shape[0]):
        s = mul(coef[0], f[p, index[0], q], fused)
        for t in range(1, count):
            s = s + mul(coef[t], f[p, index[t], q], fused)
        out[q] = s


@_jit
def second_last_band(f, p, r0, r1, buf, w, acc, fused):  # pragma: no cover - compiled
    """Rows ``r0 .. r1-1`` of plane ``p``: the second derivative along axis 2 into
    ``buf[0, :r1 - r0]`` (``weighted_last_axis`` with the ends and a periodic seam's columns
    as its ``ends``; ``w``: :func:`xgrad.pairs.second_args`)."""
    offsets, _, columns, ends, h = w
    Q = f.shape[2]
    out = buf[0, : r1 - r0]
    weighted_last_axis(f[p, r0:r1], out, offsets, columns, h, Q - h, acc, ends, fused, None)


@_jit
def laplacian(f, tan, metric, coef, out, grid, row0, row1, bufs, edges, fused):  # pragma: no cover
    """The Laplacian (``combinations.laplacian_of``: ``laplacian_loop``'s element,
    ``_vector_kernels._term`` per dim) of flat rows ``row0 .. row1-1``.  ``grid``: ``(y2,
    x2, y1, ry, rx, y_first)``: the second derivatives' arguments along axis 1 and 2
    (:func:`xgrad.pairs.second_args`), the first derivative's along axis 1 (the latitude's,
    :func:`xgrad.pairs.axis_args`; None without), the roles of the two axes' terms and
    whether axis 1's term comes first in the sum; ``tan``/``metric``: the metric lines per row
    of axis 1 (``k tan``, ``(k sec / R)^2``); ``coef``: ``(k^2, R^2)`` of each axis' term;
    ``bufs``: the band buffers of the three derivatives and the weighted kernels' scratch."""
    y2, x2, y1, ry, rx, y_first = grid
    m = f.shape[1]
    ybuf, xbuf, fbuf, acc = bufs
    cy, qy, cx, qx = coef[0], coef[1], coef[2], coef[3]
    step = max(1, ybuf.shape[1] - 4)
    r = row0
    while r < row1:
        p, i0, i1 = _band(m, step, r, row1)
        lo = second_band(f, p, i0, i1, ybuf, y2, acc, fused)
        second_last_band(f, p, i0, i1, xbuf, x2, acc, fused)
        lo1 = _first(f, p, i0, i1, fbuf, y1, edges, fused, lo)
        for i in range(i0, i1):
            s, d, g, op = ybuf[0, i - lo], xbuf[0, i - i0], fbuf[0, i - lo1], out[p, i]
            t, w = tan[i], metric[i]
            if y_first:
                for q in range(op.shape[0]):
                    op[q] = _term(ry, s[q], g[q], t, cy, qy) + _term(rx, d[q], d[q], w, cx, qx)
            else:
                for q in range(op.shape[0]):
                    op[q] = _term(rx, d[q], d[q], w, cx, qx) + _term(ry, s[q], g[q], t, cy, qy)
        r += i1 - i0


@_jit
def _first(f, p, i0, i1, buf, y, edges, fused, lo):  # pragma: no cover - compiled
    """:func:`middle_band` with ``y`` (None: nothing, returns ``lo``; an argument, so numba
    prunes the branch)."""
    if y is None:
        return lo
    return middle_band(f, p, i0, i1, buf, y, edges, fused, None, buf)
