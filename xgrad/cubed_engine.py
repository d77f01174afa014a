"""Layer 3, second engine: derivatives of a cubed array with ``cubed.map_overlap``.

cubed (bounded-memory execution behind xarray's chunk-manager interface) reads each block
together with ``depth`` rows of its neighbours along the differentiated axis (clamped at the
global ends, never padded), so the block function knows its global position from
``block_id`` and hands the in-memory driver (:func:`xgrad.blocks.block_gradients`) the block
and its halos exactly as the dask graph does: the same kernels, the same bits as
``numpy.gradient`` for every chunking cubed accepts.

What cubed cannot carry is refused while building, naming cubed and the missing piece: a
periodic axis (cubed's overlap does not wrap around), and halos wider than a neighbouring
chunk (cubed reads only the adjacent blocks; rechunk). One ``map_overlap`` per differentiated
axis: cubed's overlap has one depth per array, and outputs are one array per call.  With
``combine`` (see :func:`xgrad.engine.differentiate`) one ``map_overlap`` reads the halos of every
differentiated axis (corners included, unused) and returns one combined output (one call per
output when it returns several).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from .blocks import block_gradients, block_part, empty_output
from .stencils import AxisPlan

__all__ = ["cubed_gradients"]


def _depth(x: Any, axis: int, plan: AxisPlan, name: Hashable = None) -> int:
    """Rows of the neighbours that the widest-reaching block along ``axis`` reads (``name``,
    where given, the dim the errors name)."""
    where = f"axis {axis}" if name is None else repr(name)
    if plan.periodic:
        raise ValueError(
            f"a periodic boundary along {where} is not supported on cubed arrays (cubed's "
            "map_overlap does not wrap around); use `boundary='edge'`, or a dask array: "
            "`da.chunk(..., chunked_array_type='dask')`"
        )
    sizes = x.chunks[axis]
    starts = np.cumsum((0,) + tuple(sizes))[:-1].tolist()
    depth = max(max(plan.rows_needed(s, n)) for s, n in zip(starts, sizes))
    # a block reads its adjacent blocks only, so a halo must not reach past a neighbour; the
    # first and last chunks may be thinner (reads are clamped at the global ends)
    inner = sizes[1:-1]
    if inner and depth > min(inner):
        rows = max(depth, max(sizes))
        fix = (
            f"x.rechunk({{{axis}: {rows}}})" if name is None else f"da.chunk({{{name!r}: {rows}}})"
        )
        raise ValueError(
            f"on cubed arrays the halo along {where} ({depth} rows) must not be wider than a "
            f"chunk other than the first and last (the thinnest has {min(inner)} rows: cubed "
            f"reads adjacent blocks only); rechunk to at least {depth} rows, e.g. `{fix}`"
        )
    return depth


def _block(
    a: np.ndarray,
    *,
    axis: int,
    plan: AxisPlan,
    bounds: list[list[int]],
    depth_rows: int,
    scale: Any,
    otype: np.dtype,
    block_id: tuple[int, ...] | None = None,
) -> np.ndarray:
    """The derivative of one block; ``a`` is the block with up to ``depth_rows`` halo rows."""
    start = bounds[axis][block_id[axis]]
    stop = bounds[axis][block_id[axis] + 1]
    before = start - max(start - depth_rows, 0)
    after = min(stop + depth_rows, bounds[axis][-1]) - stop

    def rows(lo: int, hi: int) -> Any:
        return a[(slice(None),) * axis + (slice(lo, hi),)]

    m = a.shape[axis]
    block = rows(before, m - after)
    halo = (rows(0, before) if before else None, rows(m - after, m) if after else None)
    out = empty_output(block, otype)
    block_gradients(
        block,
        (axis,),
        (plan,),
        (start,),
        [halo],
        [out],
        scales=[block_part(scale, a.ndim, block_id, bounds)],
    )
    return out


def _combined_block(
    a: np.ndarray,
    *,
    axes: tuple[int, ...],
    plans: tuple[AxisPlan, ...],
    bounds: list[list[int]],
    depths: dict[int, int],
    scales: tuple,
    otype: np.dtype,
    combine: Any,
    operands: tuple,
    rtypes: tuple,
    which: int,
    block_id: tuple[int, ...] | None = None,
) -> np.ndarray:
    """Output ``which`` of ``combine`` on one block; ``a`` has halos along every axis of
    ``depths``."""
    core = [slice(None)] * a.ndim
    sides = {}
    for k, d in depths.items():
        start, stop = bounds[k][block_id[k]], bounds[k][block_id[k] + 1]
        before = start - max(start - d, 0)
        after = min(stop + d, bounds[k][-1]) - stop
        m = a.shape[k]
        core[k] = slice(before, m - after)
        sides[k] = (slice(0, before) if before else None, slice(m - after, m) if after else None)

    def rows(k: int, sl: slice | None) -> Any:
        return None if sl is None else a[tuple(core[:k] + [sl] + core[k + 1 :])]

    block = a[tuple(core)]
    results = [empty_output(block, dtype) for dtype in rtypes]
    block_gradients(
        block,
        axes,
        plans,
        tuple(bounds[k][block_id[k]] for k in axes),
        [(rows(k, sides[k][0]), rows(k, sides[k][1])) for k in axes],
        [None] * len(axes),
        scales=[block_part(sc, a.ndim, block_id, bounds) for sc in scales],
        combine=combine,
        operands=[block_part(op, a.ndim, block_id, bounds) for op in operands],
        results=results,
        otype=otype,
    )
    return results[which]


def cubed_gradients(
    x: Any,
    axes: tuple[int, ...],
    plans: Sequence[AxisPlan],
    otype: np.dtype,
    scales: tuple[Any, ...] | None = None,
    *,
    combine: Any = None,
    operands: Sequence[Any] = (),
    rtypes: Sequence[np.dtype] = (),
    names: Sequence[Hashable] | None = None,
) -> list[Any]:
    """Lazy derivatives of cubed array ``x`` along ``axes``, chunked as ``x`` (or what
    ``combine`` returns, of dtypes ``rtypes``, from numpy ``operands`` cut per block)."""
    import cubed

    scales = tuple(scales or (None,) * len(axes))
    named = names or (None,) * len(axes)
    # every error before any array
    depths = [_depth(x, k, p, n) for k, p, n in zip(axes, plans, named, strict=True)]
    bounds = [np.cumsum((0,) + tuple(c)).tolist() for c in x.chunks]
    if combine is not None:
        depth: dict[int, int] = {}
        for k, d in zip(axes, depths):  # an axis may come twice (orders 1 and 2)
            depth[k] = max(depth.get(k, 0), d)
        return [
            cubed.map_overlap(
                _combined_block,
                x,
                dtype=dtype,
                chunks=x.chunks,
                depth=depth,
                boundary="none",
                axes=tuple(axes),
                plans=tuple(plans),
                bounds=bounds,
                depths=depth,
                scales=scales,
                otype=np.dtype(otype),
                combine=combine,
                operands=tuple(operands),
                rtypes=tuple(np.dtype(t) for t in rtypes),
                which=which,
            )
            for which, dtype in enumerate(rtypes)
        ]
    return [
        cubed.map_overlap(
            _block,
            x,
            dtype=otype,
            chunks=x.chunks,
            depth={k: d},
            boundary="none",
            axis=k,
            plan=plan,
            bounds=bounds,
            depth_rows=d,
            scale=scale,
            otype=np.dtype(otype),
        )
        for k, plan, d, scale in zip(axes, plans, depths, scales)
    ]
