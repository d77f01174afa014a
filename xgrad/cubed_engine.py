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
axis: cubed's overlap has one depth per array, and outputs are one array per call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .blocks import block_gradients, block_part, empty_output
from .stencils import AxisPlan

__all__ = ["cubed_gradients"]


def _depth(x: Any, axis: int, plan: AxisPlan) -> int:
    """Rows of the neighbours that the widest-reaching block along ``axis`` reads."""
    if plan.periodic:
        raise ValueError(
            f"a periodic boundary along axis {axis} is not supported on cubed arrays (cubed's "
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
        raise ValueError(
            f"on cubed arrays the halo along axis {axis} ({depth} rows) must not be wider than a "
            f"chunk other than the first and last (the thinnest has {min(inner)} rows: cubed "
            f"reads adjacent blocks only); rechunk to at least {depth} rows, e.g. "
            f"`x.rechunk({{{axis}: {max(depth, max(sizes))}}})`"
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


def cubed_gradients(
    x: Any,
    axes: tuple[int, ...],
    plans: Sequence[AxisPlan],
    otype: np.dtype,
    scales: tuple[Any, ...] | None = None,
) -> list[Any]:
    """Lazy derivatives of cubed array ``x`` along ``axes``, chunked as ``x``."""
    import cubed

    scales = tuple(scales or (None,) * len(axes))
    depths = [_depth(x, k, p) for k, p in zip(axes, plans)]  # every error before any array
    bounds = [np.cumsum((0,) + tuple(c)).tolist() for c in x.chunks]
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
