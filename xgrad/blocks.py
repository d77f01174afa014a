"""Several axes of one in-memory block in one pass, cache-tiled, optionally threaded.

The block is cut into *tiles* along its slowest-varying axis ``t`` (a few MiB each); every
requested derivative of a tile is computed before moving on, so the tile is read from
memory once and re-read from cache for the other axes (numpy.gradient makes a full pass per
axis).  Tiles write disjoint rows of the outputs, so the in-memory driver runs groups of
tiles on threads (the compiled kernels release the GIL); inside a dask task the tiles run
serially and dask supplies the parallelism.

The driver owns what spans a whole block: the NaN fallback (``nan="one-sided"``,
:mod:`xgrad.missing`) runs here after the kernels, and time data meets stencils numpy does
not have (accuracy 4/6, second derivatives) as float64 numbers, rounded to ticks once.
"""

from __future__ import annotations

import functools
import inspect
import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .arrays import asarray_like, ticks_from_numbers, time_as_numbers
from .kernels import _COMPILED_DTYPES, _index, axis_gradient, scale_in_place, working_array
from .layouts import _dense
from .missing import fill_missing
from .stencils import AxisPlan
from .threads import in_parallel

__all__ = ["block_gradients", "block_part", "empty_output"]

#: A tile's input bytes: its rows stay in cache (L2, else L3) while every requested axis reads
#: them.  4 MiB since session 13: on the Intel VM (2 MiB L2 a core, 105 MiB L3) the dask
#: 3-axis gradient took 5-21 % less time than with 2 MiB (fewer tiles: less Python per block,
#: fewer face rows), e.g. 60x512x2048 float64 in 15x256x512 blocks 487 -> 423 ms on
#: from_array blocks, 391 -> 345 ms on persisted ones, in memory 296 -> 289 ms (in-process,
#: interleaved, medians of 9); on the AMD VM of earlier sessions (512 KiB L2) 1 to 32 MiB
#: made no difference beyond noise.
TILE_BYTES = 4 << 20
_HUGE_PAGE = 2 << 20


def empty_output(f: Any, dtype: np.dtype) -> Any:
    """``np.empty_like(f, dtype=dtype)``, starting on a 2 MiB boundary when it is large.

    Writing fresh memory costs the kernel zeroing it page by page; numpy asks for transparent
    huge pages on large arrays (one fault per 2 MiB instead of 512), but malloc returns
    memory 16 bytes past a page boundary, so every partial 2 MiB stretch falls back to 4 KiB
    pages.  A 2 MiB-aligned start fills faster (docs/performance.md, "Huge pages need
    aligned starts"); the unused head of the buffer is never touched, so never resident.

    The output is dense with its dims in the memory order of ``f``'s (``empty_like``'s
    ``order="K"``: C for C, Fortran for Fortran, a transpose's order for a transpose, a
    view's order for a view of a bigger array), so the kernels' loops run along memory in
    both arrays and their dims fold alike (``layouts._groups``).
    """
    dtype = np.dtype(dtype)
    nbytes = f.size * dtype.itemsize
    if type(f) is not np.ndarray or dtype.hasobject or nbytes < 2 * _HUGE_PAGE:
        return np.empty_like(f, dtype=dtype)
    order, back = _memory_order(f)
    buf = np.empty(nbytes + _HUGE_PAGE, dtype=np.uint8)
    skip = -buf.ctypes.data % _HUGE_PAGE
    dense = buf[skip : skip + nbytes].view(dtype).reshape([f.shape[k] for k in order])
    return dense.transpose(back)


def _memory_order(a: np.ndarray) -> tuple[list[int], tuple[int, ...]]:
    """``a``'s dims outermost first in memory (a stable sort keeps C order among equal
    strides: size-1 dims, broadcasts), and the transpose that takes an array with its dims
    in that order back to ``a``'s order."""
    order = sorted(range(a.ndim), key=lambda k: -abs(a.strides[k]))
    return order, tuple(np.argsort(order).tolist())


def _tiling_axis(f: Any) -> int | None:
    """The block's slowest-varying axis longer than one (the largest stride), so that a tile
    is a slab of memory: C order, the first such axis; Fortran order, the last.  A length-1
    axis is skipped: a (1, 721, 1440) block (one time step) tiles along its 721 rows, so its
    derivatives stay in cache until ``combine`` reads them."""
    if f.ndim == 0 or not isinstance(f, np.ndarray):
        return None
    return max(range(f.ndim), key=lambda k: abs(f.strides[k]) if f.shape[k] > 1 else -1)


def block_gradients(
    f: Any,
    axes: Sequence[int],
    plans: Sequence[AxisPlan],
    starts: Sequence[int],
    halos: Sequence[tuple[Any, Any]],
    outs: Sequence[Any],
    *,
    threads: int = 1,
    scales: Sequence[Any] | None = None,
    combine: Callable[[list, list], Any] | None = None,
    operands: Sequence[Any] = (),
    results: Sequence[Any] = (),
    otype: Any = None,
    premultiply: Any = None,
    fields: Sequence[tuple[Any, Sequence[tuple[Any, Any]]]] = (),
) -> None:
    """Derivatives of block ``f`` (of ``f * premultiply``, where given) along each of ``axes``
    into ``outs``.

    ``starts[j]`` is the block's first global row along ``axes[j]`` and ``halos[j]`` the
    ``(before, after)`` rows around it (``None`` where not needed).  ``threads > 1`` runs
    contiguous groups of tiles on that many threads (the in-memory driver).  ``scales[j]`` (None, a
    Python float, or an array broadcastable against the block) multiplies ``outs[j]``: inside
    the kernels' pass (:func:`xgrad.kernels.axis_gradient`'s ``scale``: each row while it is
    in L1, where the compiled kernels take it), else tile by tile while it is in cache.
    Plans with a NaN fallback get it here, after their regular stencils (along the tiling
    axis, once every tile is done).

    ``combine(derivatives, operand_parts)`` (one array or a tuple of arrays) replaces the
    derivatives by what is built from them (a magnitude, a Laplacian, a divergence...), written
    into ``results``: tile by tile while the derivatives are in cache, each of ``operands``
    (arrays broadcastable against the block: metric terms, other fields) cut as the tile.
    ``outs[j]`` may then be None: that derivative lives in a per-tile scratch buffer of dtype
    ``otype`` (a whole-block one where the block cannot be tiled for it).

    ``premultiply`` (an array broadcastable against the block, of its dtype: ``cos(lat)``)
    is multiplied in tile by tile, into a per-thread scratch tile, where no derivative is
    along the tiling axis; elsewhere into the whole block first. ``halos`` are then those of
    the product.

    ``fields`` (with ``combine``): ``(g, g_halos)`` pairs, other blocks of ``f``'s shape and
    a real float dtype, differentiated along ``axes`` in the same tiles (the same plans,
    starts and scales); their derivatives follow ``f``'s in what ``combine`` gets, field by
    field, so each tile of every input is read once. ``outs`` then has a place for each
    (``len(axes)`` per input, None for scratch), or only ``f``'s.
    """
    # ints -> float64 (and datetime64 viewed as timedelta64) once per block, not once per
    # tile and axis inside axis_gradient
    f = working_array(f)
    halos = [(working_array(before), working_array(after)) for before, after in halos]
    scales = [
        None if s is None else s if np.ndim(s) == 0 else asarray_like(s, f) for s in scales or ()
    ]
    scales += [None] * (len(axes) - len(scales))
    timed = f.dtype.kind == "m" and any(plan.weights is not None for plan in plans)
    into = combine is not None and _takes_out(combine)
    if fields and (timed or combine is None):
        raise ValueError("fields= takes a combine= and blocks of numbers, not datetimes")
    pairs = getattr(combine, "pairs", None)  # a compiled pass for derivatives and combination
    if pairs is not None and not timed:
        from .pairs import run as run_pairs

        others = [g for g, _ in fields]
        block = (f, others, axes, plans, starts, scales, operands, results, premultiply)
        if run_pairs(*pairs, *block, threads):
            return
    t = None if timed else _tiling_axis(f)
    if premultiply is not None and (t is None or t in axes):
        f, premultiply = f * premultiply, None  # tiles would need their neighbours' rows
    if (
        t is not None
        and f.nbytes <= TILE_BYTES
        and combine is None
        and premultiply is None
        and not _copy_wanted(f, axes, combine)
    ):
        # one tile (a small block): the same kernels on the whole block, in the same order,
        # without the tiles' setup: xgrad.gradient of a (50, 60) array 188 -> 171 us, of a
        # (15, 16, 16) one 321 -> 287 us (interleaved in one process, medians of 7)
        t = None
    # every input as (whole block, halos, outs); fields' derivatives where f's would be
    per = len(axes)
    sources = [(f, halos, list(outs[:per]))] + [
        (g, h, list(outs[per * (i + 1) : per * (i + 2)]) or [None] * per)
        for i, (g, h) in enumerate(fields)
    ]
    if combine is not None:
        # a derivative needs the whole block where the kernel writes rows of the whole block
        # (along the tiling axis), where nothing is tiled, or where the combination waits for
        # a NaN fallback along the tiling axis; elsewhere a tile's scratch will do
        whole = t is None or any(k == t and p.fallback is not None for k, p in zip(axes, plans))
        sources = [
            (
                g,
                h,
                [
                    empty_output(g, otype) if o is None and (whole or k == t) else o
                    for o, k in zip(g_outs, axes)
                ],
            )
            for g, h, g_outs in sources
        ]
    outs = sources[0][2]
    if timed:
        _time_as_numbers(f, axes, plans, starts, halos, outs, threads, scales)
        _combine_into(combine, outs, operands, results, ..., into)
        return
    if t is None:
        for g, g_halos, g_outs in sources:
            for k, plan, start, (before, after), out, s in zip(
                axes, plans, starts, g_halos, g_outs, scales
            ):
                _scaled_gradient(g, k, plan, start, before, after, out, s)
        _combine_into(
            combine, [o for _, _, g_outs in sources for o in g_outs], operands, results, ..., into
        )
        return
    nd = f.ndim
    m = f.shape[t]
    if len(axes) == 1 and combine is None:
        # one derivative: nothing to reuse from cache, so one tile per thread (no per-tile
        # Python; the kernels stream through the block)
        step = max(1, -(-m // max(threads, 1)))
    else:
        row_bytes = max(f.nbytes // max(m, 1), 1)
        step = max(1, TILE_BYTES // row_bytes)
    tiles = [(r0, min(r0 + step, m)) for r0 in range(0, m, step)]

    # A strided view that is not dense in any order of its dims (a block of
    # ``da.from_array(big)``, a slice) is copied tile by tile into a per-thread scratch tile
    # just before the tile's kernels, which then read it from cache: with several derivatives
    # (or a combination) one copy + the contiguous kernels beats the strided ones.  The
    # derivative along the tiling axis reads the view itself (its rows beyond the tile are
    # the neighbouring tiles'), so the copy holds exactly the tile.  (Until session 13 the
    # copy was a whole dense block in fresh memory, one more page-faulted output per block.)
    # One derivative keeps the strided kernels: there a copy costs about what it saves.
    copy = premultiply is None and _copy_wanted(f, axes, combine)

    # along the tiling axis the NaN fallback runs after all tiles: scale after it
    late = [k == t and plan.fallback is not None for k, plan in zip(axes, plans)]
    # the combination runs per tile unless a derivative is finished only after all tiles
    per_tile = combine is not None and not any(late)

    def run(group: Sequence[tuple[int, int]]) -> None:
        scratch: dict[int, Any] = {}  # per thread: tile-sized derivatives (outs[j] None)
        for r0, r1 in group:
            sub = _index(nd, t, slice(r0, r1))
            tile = f[sub]
            if copy:  # into scratch: the group's first tile is its largest
                if -2 not in scratch:
                    scratch[-2] = _scratch_like(-2, tile)
                dense = scratch[-2][_index(nd, t, slice(0, r1 - r0))]
                np.copyto(dense, tile)
                tile = dense
            if premultiply is not None:  # into scratch: the group's first tile is its largest
                if -1 not in scratch:
                    scratch[-1] = kept_scratch(-1, tile.shape, f.dtype)
                tile = scratch[-1][_index(nd, t, slice(0, r1 - r0))]
                np.multiply(f[sub], _tile_of(premultiply, nd, t, sub), out=tile)
            parts = []
            for n, (g, g_halos, g_outs) in enumerate(sources):
                whole_g, tile_g = (f, tile) if n == 0 else (g, g[sub])
                for j, (k, plan, start, (before, after), out) in enumerate(
                    zip(axes, plans, starts, g_halos, g_outs)
                ):
                    if k == t:
                        # along the tiling axis: rows r0..r1 of the whole block, so neighbours
                        # across tile boundaries are plain rows of the block (no sub-block
                        # halos); scaled in the pass unless the NaN fallback comes later
                        scale = None if late[j] else scales[j]
                        rows = (r0, r1)
                        axis_gradient(whole_g, k, plan, start, before, after, out, rows, scale)
                        tile_out = out[sub]
                    else:
                        tile_before = None if before is None else before[sub]
                        tile_after = None if after is None else after[sub]
                        if out is None:
                            key = n * len(axes) + j
                            if key not in scratch:  # the group's first tile is its largest
                                scratch[key] = kept_scratch(key, tile.shape, otype)
                            tile_out = scratch[key][_index(nd, t, slice(0, r1 - r0))]
                        else:
                            tile_out = out[sub]
                        scale = _tile_of(scales[j], nd, t, sub)
                        halos = (tile_before, tile_after)
                        _scaled_gradient(tile_g, k, plan, start, *halos, tile_out, scale)
                    parts.append(tile_out)
            if per_tile:
                tile_operands = [_tile_of(op, nd, t, sub) for op in operands]
                _combine_into(combine, parts, tile_operands, results, sub, into)

    if threads <= 1 or len(tiles) == 1:
        run(tiles)
    else:
        size = -(-len(tiles) // threads)
        groups = [tiles[i : i + size] for i in range(0, len(tiles), size)]
        in_parallel(run, groups)
    # nan="one-sided" along the tiling axis, once every row of the block exists
    for g, g_halos, g_outs in sources:
        for j, (k, plan, start, (before, after), out) in enumerate(
            zip(axes, plans, starts, g_halos, g_outs)
        ):
            if late[j]:
                fill_missing(g, k, plan, start, before, after, out)
                scale_in_place(out, scales[j])
    if combine is not None and not per_tile:  # every derivative whole (late ones exclude scratch)
        every = [o for _, _, g_outs in sources for o in g_outs]
        _combine_into(combine, every, operands, results, ..., into)


def _scaled_gradient(
    f: Any, axis: int, plan: AxisPlan, start: int, before: Any, after: Any, out: Any, scale: Any
) -> None:
    """:func:`axis_gradient` times ``scale``, the NaN fallback of ``plan`` in between: the
    scale inside the kernels' pass where there is no fallback, after it where there is."""
    if plan.fallback is None:
        axis_gradient(f, axis, plan, start, before, after, out, scale=scale)
        return
    axis_gradient(f, axis, plan, start, before, after, out)
    fill_missing(f, axis, plan, start, before, after, out)
    scale_in_place(out, scale)


#: Scratch tiles (:func:`kept_scratch`) up to this size are kept per thread between calls.
_KEEP_BYTES = 8 << 20
_kept = threading.local()


def kept_scratch(slot: int, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised C-contiguous array for scratch tile ``slot`` of the calling thread,
    in memory the thread keeps for its next call (up to :data:`_KEEP_BYTES` per slot).

    Fresh memory costs a page fault per 4 KiB on its first write: the two scratch tiles of
    ``advection`` on (8, 361, 720) float64 (2 MiB each) were 1024 of its 1025 faults per
    call.  Only :func:`block_gradients` uses it, one ``run`` at a time per thread (nothing in
    a tile's work calls back into it), and nothing it returns outlives the call: what
    ``combine`` builds from the scratch is copied into the results."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > _KEEP_BYTES:
        return np.empty(shape, dtype)
    buffers = _kept.__dict__.setdefault("buffers", {})
    buf = buffers.get(slot)
    if buf is None or buf.nbytes < nbytes:
        buf = buffers[slot] = np.empty(max(nbytes, 1), np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


def _scratch_like(slot: int, tile: np.ndarray) -> np.ndarray:
    """:func:`kept_scratch` for a dense copy of ``tile``, its dims in the memory order of
    ``tile``'s (C for a C-ordered view, Fortran for a Fortran one): the copy and the kernels
    then run along memory in both."""
    order, back = _memory_order(tile)
    return kept_scratch(slot, tuple(tile.shape[k] for k in order), tile.dtype).transpose(back)


def _copy_wanted(f: Any, axes: Sequence[int], combine: Any) -> bool:
    """Whether :func:`block_gradients` copies the block ``f`` into a dense one, tile by tile:
    a numpy array of a compiled dtype whose memory is not dense in any order of its dims,
    with several derivatives or a combination to compute from each tile."""
    return (
        (len(axes) > 1 or combine is not None)
        and type(f) is np.ndarray
        and f.dtype in _COMPILED_DTYPES
        and not _dense(f)
    )


def _time_as_numbers(
    f: Any,
    axes: Sequence[int],
    plans: Sequence[AxisPlan],
    starts: Sequence[int],
    halos: Sequence[tuple[Any, Any]],
    outs: Sequence[Any],
    threads: int,
    scales: Sequence[Any],
) -> None:
    """:func:`block_gradients` of timedelta64 data where some plans are weighted.

    numpy has no such stencils, and its integer timedelta arithmetic would truncate every
    ``weight * f`` term (and overflow on large ones): those axes differentiate the data as
    float64 tick counts (NaT as NaN) and round each result to a tick once, NaN to NaT
    (``tests/test_accuracy.py::test_time_data_as_numbers``).  Accuracy 2 plans keep numpy's
    integer arithmetic.
    """
    numeric = [j for j, plan in enumerate(plans) if plan.weights is not None]
    numpy_like = [j for j in range(len(plans)) if j not in numeric]

    def pick(seq: Sequence[Any], js: list[int]) -> list[Any]:
        return [seq[j] for j in js]

    if numpy_like:  # numpy's integer timedelta arithmetic
        block_gradients(
            f,
            *(pick(seq, numpy_like) for seq in (axes, plans, starts, halos, outs)),
            threads=threads,
            scales=pick(scales, numpy_like),
        )
    numbers = time_as_numbers(f)
    number_halos = [tuple(time_as_numbers(h) for h in halos[j]) for j in numeric]
    results = [empty_output(numbers, np.dtype(np.float64)) for _ in numeric]
    picked = (pick(seq, numeric) for seq in (axes, plans, starts))
    block_gradients(numbers, *picked, number_halos, results, threads=threads)
    for j, result in zip(numeric, results):
        outs[j][...] = ticks_from_numbers(result, outs[j].dtype)
        scale_in_place(outs[j], scales[j])


def _tile_of(scale: Any, nd: int, t: int, sub: tuple) -> Any:
    """The part of a broadcastable ``scale`` that meets the tile ``sub`` of the tiling axis."""
    if (
        scale is None
        or np.ndim(scale) == 0
        or np.ndim(scale) < nd - t
        or np.shape(scale)[t - nd] == 1
    ):
        return scale
    return scale[(Ellipsis,) + sub[t:]]  # the scale's trailing dims align with the block's


def _takes_out(combine: Callable) -> bool:
    """Whether ``combine`` takes ``out=`` (see :func:`_combine_into`).

    A ``functools.partial`` takes what its function takes (binding ``out`` too would leave it a
    keyword); the answer is kept per function: ``inspect.signature`` of a partial costs 0.1-0.2
    ms, which every combined call (the kinematics, the vector operators) paid."""
    while isinstance(combine, functools.partial):
        combine = combine.func
    try:
        return _has_out(combine)
    except TypeError:  # unhashable callable: ask every time
        return _has_out.__wrapped__(combine)


@functools.lru_cache(maxsize=256)
def _has_out(fn: Callable) -> bool:
    try:
        return "out" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
        return False


def _combine_into(
    combine: Callable[[list, list], Any] | None,
    derivatives: Sequence[Any],
    operands: Sequence[Any],
    results: Sequence[Any],
    part: Any,
    into: bool = False,
) -> None:
    """``results[i][part] = combine(derivatives, operands)[i]`` (a lone array: ``i = 0``).

    With ``into`` (``combine`` takes ``out=``) it gets ``out=[results[i][part], ...]``, the
    views to write, and may return them after writing into them (where it can with the same
    bits: numpy arrays of the dtypes it would return); the values it returns that are not
    those views are copied in as without ``into``.  Saves a copy of every result: 18 ms of
    ``.grad.horizontal()`` on 8 blocks of (1, 721, 1440) float32."""
    if combine is None:
        return
    targets = [result[part] for result in results]
    if into:
        values = combine(list(derivatives), list(operands), out=targets)
    else:
        values = combine(list(derivatives), list(operands))
    for target, value in zip(targets, values if isinstance(values, tuple) else (values,)):
        if value is not target and not _same_memory(value, target):
            target[...] = value


def _same_memory(a: Any, b: Any) -> bool:
    """Whether numpy arrays ``a`` and ``b`` are views of the same elements (a derivative the
    engine wrote straight into a result: nothing to copy)."""
    if type(a) is not np.ndarray or type(b) is not np.ndarray:
        return False
    pointer = a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    return pointer and a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype


def block_part(scale: Any, ndim: int, idx: tuple[int, ...], bounds: list[list[int]]) -> Any:
    """The part of a broadcastable ``scale`` (None, scalar, or small array) under block ``idx``
    of an ``ndim``-dimensional chunked array whose block boundaries are ``bounds`` (one list
    per axis); used by both engines to hand each block its metric factors."""
    if scale is None or np.ndim(scale) == 0:
        return scale
    lead = ndim - scale.ndim
    index = tuple(
        slice(None)
        if n == 1
        else slice(bounds[lead + d][idx[lead + d]], bounds[lead + d][idx[lead + d] + 1])
        for d, n in enumerate(scale.shape)
    )
    return scale[index]
