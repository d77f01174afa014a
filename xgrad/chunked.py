"""Layer 3: the dask graph.  Face halos, one fused kernel layer, outputs chunked as the input.

Why not ``dask.array.map_overlap``/``overlap``: it concatenates every block with its halo (a
copy of the whole block), fetches corner blocks a gradient never reads, needs one graph per
axis for per-axis depths, and refuses chunks smaller than the depth.  Here, per block:

* one *faces* task copies the block's first and last few rows along each differentiated
  axis (thin slabs; copied so the block itself can be freed).  A block held in the graph
  as data (a persisted array) stays in memory anyway, so its faces are views (copying them
  was a large share of a 1-axis gradient; docs/performance.md, "Faces of persisted blocks");
* one *kernel* task takes the block and its face neighbours' slabs (never corners) and
  computes every requested derivative in one pass (:func:`xgrad.blocks.block_gradients`);
* with several axes, one ``getitem`` per output.

That is ``N + 2`` tasks per block for an ``N``-axis gradient besides the input's own
(pinned in ``tests/test_chunked.py::test_task_count``).  With ``combine`` (what the caller
builds from the derivatives: a magnitude, a Laplacian, a divergence) the kernel task returns
that instead, from the block's derivatives and its parts of the operands (metric terms as
literals, other dask arrays' blocks by key), so the derivatives never leave the task: ``2``
tasks per block for one combined output.  A halo wider than a neighbouring
chunk is gathered from several blocks, so chunks of size 1 work.  Only the global first and
last rows get edge stencils, so the bits equal numpy.gradient's for every chunking.
All plans (coefficients) are one literal in the graph, shared by every task.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from .arrays import is_dask_array, is_expression_array
from .blocks import block_gradients, block_part, empty_output
from .inmemory import periodic_halo
from .stencils import AxisPlan

__all__ = ["chunked_gradients", "check_known_chunks"]


def check_known_chunks(x: Any, axes: Sequence[int]) -> None:
    """ValueError when a differentiated axis has unknown (NaN) chunk sizes."""
    for k in axes:
        if any(math.isnan(c) for c in x.chunks[k]):
            raise ValueError(
                f"the dask array has unknown chunk sizes along axis {k} (its chunks are "
                f"{x.chunks[k]}), so halos cannot be planned; compute them first with "
                "`x = x.compute_chunk_sizes()` or rechunk to known sizes, e.g. "
                f"`x.rechunk({{{k}: 100}})` after computing the shape"
            )


def _halo_sources(
    plan: AxisPlan, sizes: Sequence[int]
) -> tuple[list[list[tuple[int, int]]], list[list[tuple[int, int]]], list[int], list[int]]:
    """For each chunk along one axis: which neighbouring chunks give its halo rows, and how many.

    Returns ``before[c]`` as ``[(chunk, rows), ...]`` farthest first, ``after[c]`` nearest
    first, and per chunk the number of its first / last rows some neighbour needs.
    """
    starts = np.cumsum((0,) + tuple(sizes))[:-1].tolist()
    nchunks = len(sizes)
    before: list[list[tuple[int, int]]] = []
    after: list[list[tuple[int, int]]] = []
    first_rows = [0] * nchunks
    last_rows = [0] * nchunks
    for c, (start, size) in enumerate(zip(starts, sizes)):
        # an empty chunk (after a boolean mask) computes nothing and needs no halo
        nbefore, nafter = plan.rows_needed(start, size) if size else (0, 0)
        # on a periodic axis the block before the first is the last (guarded by
        # test_accuracy.py::test_periodic_nonuniform_and_chunked_seam_bits)
        before.append(_walk(c, nbefore, -1, sizes, last_rows)[::-1])
        after.append(_walk(c, nafter, +1, sizes, first_rows))
    return before, after, first_rows, last_rows


def _walk(c: int, need: int, step: int, sizes: Sequence[int], used: list[int]) -> list:
    """Chunks ``c+step, c+2*step, ...`` (modulo the count) giving ``need`` rows, nearest first.

    Records in ``used`` how many rows (at the face towards ``c``) each of them gives.
    """
    parts = []
    src = c + step
    while need > 0:
        src %= len(sizes)
        take = min(need, sizes[src])
        if take:  # empty chunks give nothing: walk past them
            parts.append((src, take))
            used[src] = max(used[src], take)
        need -= take
        src += step
    return parts


def _faces(block: Any, spec: tuple[tuple[int, int, int], ...], copy: bool = True) -> tuple:
    """The first and last rows of ``block`` along each axis in ``spec`` (copies or views)."""
    faces = []
    for k, nfirst, nlast in spec:
        m = block.shape[k]
        first = block[(slice(None),) * k + (slice(0, nfirst),)] if nfirst else None
        last = block[(slice(None),) * k + (slice(m - nlast, m),)] if nlast else None
        if copy:
            first = None if first is None else first.copy()
            last = None if last is None else last.copy()
        faces.append((first, last))
    return tuple(faces)


def _held(x: Any, graph: Any) -> Any:
    """``held(key)``: whether the graph holds that input block as data (a persisted array)."""
    if isinstance(graph, dict):  # array expressions: the lowered graph, a plain mapping
        return lambda key: type(graph.get(key)) is np.ndarray
    from dask.highlevelgraph import MaterializedLayer

    layer = graph.layers.get(x.name)
    if not isinstance(layer, MaterializedLayer):  # never materialise a lazy layer to look
        return lambda key: False
    return lambda key: type(layer.get(key)) is np.ndarray


def _gather(faces: list, counts: tuple[int, ...], j: int, k: int, side: int) -> Any:
    """Concatenate the needed rows of neighbouring faces along axis ``k``."""
    if not faces:
        return None
    parts = []
    for face, rows in zip(faces, counts):
        slab = face[j][side]
        m = slab.shape[k]
        sl = slice(m - rows, m) if side == 1 else slice(0, rows)
        parts.append(slab[(slice(None),) * k + (sl,)])
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=k)


def _kernel(
    block: Any,
    plans: tuple[AxisPlan, ...],
    axes: tuple[int, ...],
    starts: tuple[int, ...],
    before_faces: list,
    before_counts: tuple,
    after_faces: list,
    after_counts: tuple,
    otype: np.dtype,
    scales: tuple = (),
    combine: Any = None,
    operands: list = (),
    rtypes: tuple = (),
    fields: list = (),
    direct: tuple = (),
) -> Any:
    halos = [
        (
            _gather(before_faces[j], before_counts[j], j, k, 1),
            _gather(after_faces[j], after_counts[j], j, k, 0),
        )
        for j, k in enumerate(axes)
    ]
    if combine is not None:
        results = [empty_output(block, dtype) for dtype in rtypes]
        outs = [None] * (len(axes) * (1 + len(fields)))  # per-tile scratch
        for j, i in direct:  # engine.differentiate's direct=
            outs[j] = results[i]
        block_gradients(
            block,
            axes,
            plans,
            starts,
            halos,
            outs,
            scales=scales,
            combine=combine,
            operands=operands,
            results=results,
            otype=otype,
            # one chunk along every axis (engine.fields_fit): the halos are the block's own
            fields=[(g, [periodic_halo(g, k, p) for k, p in zip(axes, plans)]) for g in fields],
        )
        return results[0] if len(results) == 1 else tuple(results)
    outs = [empty_output(block, otype) for _ in axes]
    block_gradients(block, axes, plans, starts, halos, outs, scales=scales)
    return outs[0] if len(outs) == 1 else tuple(outs)


#: Block parts of numpy scales and operands up to this size ride in the kernel tasks (a 1-D
#: cos(latitude) under a block: a few kB); larger ones (a 2-D metric's) are graph keys of their
#: own, once each (:func:`chunked_gradients`).
_EMBED_BYTES = 16 << 10


def chunked_gradients(
    x: Any,
    axes: tuple[int, ...],
    plans: Sequence[AxisPlan],
    otype: np.dtype,
    scales: tuple[Any, ...] | None = None,
    *,
    combine: Any = None,
    operands: Sequence[Any] = (),
    rtypes: Sequence[np.dtype] = (),
    fields: Sequence[Any] = (),
    direct: tuple = (),
) -> list[Any]:
    """Lazy derivatives of dask array ``x`` along ``axes``, chunked as ``x``.

    ``scales[j]`` (None, a Python float or a numpy array broadcastable against ``x``)
    multiplies output ``j`` in place inside the kernel task; each task gets its block's part.
    With ``combine`` (see :func:`xgrad.engine.differentiate`) the outputs are what it returns,
    of dtypes ``rtypes``; numpy ``operands`` are cut per block, dask ones (rechunked as ``x``
    where they differ) join the kernel task by key, and so do ``fields``, differentiated in
    the task (dask arrays chunked as ``x``, one chunk along each of ``axes``: see
    :func:`xgrad.engine.fields_fit`).
    """
    # dask.array's own names are array expressions' where that mode is on: legacy ones here
    from dask.array.core import Array, broadcast_to
    from dask.array.utils import meta_from_array
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph, MaterializedLayer

    check_known_chunks(x, axes)
    plans = tuple(plans)
    scales = tuple(scales or (None,) * len(axes))
    codiff = list(fields)
    fields = [
        op
        if op.shape == x.shape and op.chunks == x.chunks
        else broadcast_to(op, x.shape).rechunk(x.chunks)
        for op in operands
        if is_dask_array(op)
    ]
    field_of = iter(fields)
    operands = tuple(next(field_of) if is_dask_array(op) else op for op in operands)
    extra = () if combine is None else (combine, operands, [str(t) for t in rtypes])
    extra += (tuple(g.name for g in codiff), direct)
    fields += codiff  # in the graph as the operand fields are
    token = tokenize(x.name, axes, plans, str(otype), scales, *extra, "xgrad-1")
    fname = f"xgrad-halo-{token}"
    kname = f"xgrad-gradient-{token}"
    pname = f"xgrad-plans-{token}"

    per_axis = [_halo_sources(p, x.chunks[k]) for k, p in zip(axes, plans)]
    bounds = [np.cumsum((0,) + c).tolist() for c in x.chunks]
    # Everything that depends on one axis's chunk index, looked up per block (graph
    # construction is per-block Python; docs/performance.md, "Graph construction")
    jk = list(enumerate(axes))
    spec_of = [[(k, f, la) for f, la in zip(per_axis[j][2], per_axis[j][3])] for j, k in jk]
    before_of = [[tuple(c for c, _ in src) for src in per_axis[j][0]] for j, _ in jk]
    after_of = [[tuple(c for c, _ in src) for src in per_axis[j][1]] for j, _ in jk]
    before_count_of = [[tuple(r for _, r in src) for src in per_axis[j][0]] for j, _ in jk]
    after_count_of = [[tuple(r for _, r in src) for src in per_axis[j][1]] for j, _ in jk]
    start_of = [bounds[k][:-1] for k in axes]
    sliced = [sc is not None and np.ndim(sc) > 0 for sc in scales]

    def neighbours(idx: tuple, k: int, chunks: tuple) -> list:
        return [(fname,) + idx[:k] + (c,) + idx[k + 1 :] for c in chunks]

    faces_layer: dict = {}
    kernel_layer: dict = {pname: plans}
    # Numpy scales and operands (metric factors) enter the graph once per distinct block part,
    # under their own key, which the kernel tasks name: a 2-D metric cut per block would
    # otherwise ride along in every task, once per time chunk (a 1021 x 1442 grid's metric
    # over 60 daily chunks: a 674 MiB graph for 0.33 GB of data, an audit found).
    mname = f"xgrad-metric-{token}"
    metric_layer: dict = {}

    def part(value: Any, which: int, idx: tuple) -> Any:
        if value is None or np.ndim(value) == 0:
            return value
        lead = x.ndim - np.ndim(value)
        where = tuple(0 if n == 1 else idx[lead + d] for d, n in enumerate(np.shape(value)))
        key = (mname, which) + where
        if key not in metric_layer:
            piece = block_part(value, x.ndim, idx, bounds)
            if piece.nbytes <= _EMBED_BYTES:  # a small literal: cheaper than a task
                return piece
            metric_layer[key] = piece
        return key

    base = x.__dask_graph__()
    held = _held(x, base)
    for idx in itertools.product(*(range(len(c)) for c in x.chunks)):
        spec = tuple([spec_of[j][idx[k]] for j, k in jk])
        if any(nf or nl for _, nf, nl in spec):
            key = (x.name,) + idx
            faces_layer[(fname,) + idx] = (_faces, key, spec, not held(key))
        kernel_layer[(kname,) + idx] = (
            _kernel,
            (x.name,) + idx,
            pname,
            axes,
            tuple([start_of[j][idx[k]] for j, k in jk]),
            [neighbours(idx, k, before_of[j][idx[k]]) for j, k in jk],
            tuple([before_count_of[j][idx[k]] for j, k in jk]),
            [neighbours(idx, k, after_of[j][idx[k]]) for j, k in jk],
            tuple([after_count_of[j][idx[k]] for j, k in jk]),
            otype,
            # a list: dask puts the parts' values in place of their keys
            [part(sc, j, idx) if cut else sc for j, (sc, cut) in enumerate(zip(scales, sliced))],
        )
        if combine is not None:
            kernel_layer[(kname,) + idx] += (
                combine,
                [
                    (op.name,) + idx if is_dask_array(op) else part(op, len(scales) + m, idx)
                    for m, op in enumerate(operands)
                ],
                tuple(rtypes),
            )
            if codiff or direct:
                kernel_layer[(kname,) + idx] += ([(g.name,) + idx for g in codiff], direct)

    blocks = list(itertools.product(*(range(len(c)) for c in x.chunks)))
    labels = [f"d{k}" for k in axes] if combine is None else ["combined"] * len(rtypes)
    dtypes = [otype] * len(axes) if combine is None else list(rtypes)
    if len(labels) == 1:
        outputs = {kname: {}}
    else:  # one getitem per output; by position: an axis may come twice
        outputs = {
            f"xgrad-out{j}-{label}-{token}": {
                (f"xgrad-out{j}-{label}-{token}",) + idx: (operator.getitem, (kname,) + idx, j)
                for idx in blocks
            }
            for j, label in enumerate(labels)
        }
    metas = [meta_from_array(x._meta, ndim=x.ndim, dtype=dtype) for dtype in dtypes]
    if is_expression_array(x):
        from .dask_expressions import expression_array

        graph = {**dict(base), **faces_layer, **metric_layer, **kernel_layer}
        for op in fields:
            graph.update(dict(op.__dask_graph__()))
        return [
            expression_array(
                {**graph, **layer}, meta, x.chunks, [(name,) + i for i in blocks], name
            )
            for (name, layer), meta in zip(outputs.items(), metas)
        ]
    layers = dict(base.layers)
    deps = dict(base.dependencies)
    in_layers = set(x.__dask_layers__())
    for op in fields:
        layers.update(op.__dask_graph__().layers)
        deps.update(op.__dask_graph__().dependencies)
    layers[fname] = MaterializedLayer(faces_layer)
    deps[fname] = in_layers
    kernel_deps = in_layers | {fname}.union(*(op.__dask_layers__() for op in fields))
    if metric_layer:  # a layer only where a task names it (dask validates the dependencies)
        layers[mname] = MaterializedLayer(metric_layer)
        deps[mname] = set()
        kernel_deps = kernel_deps | {mname}
    layers[kname] = MaterializedLayer(kernel_layer)
    deps[kname] = kernel_deps
    outs = []
    for (name, layer), meta in zip(outputs.items(), metas):
        olayers, odeps = dict(layers), dict(deps)
        if layer:
            olayers[name] = MaterializedLayer(layer)
            odeps[name] = {kname}
        outs.append(Array(HighLevelGraph(olayers, odeps), name, chunks=x.chunks, meta=meta))
    return outs
