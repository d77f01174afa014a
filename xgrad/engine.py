"""Layer 4: the engine behind every public API: dtype rules, planning, numpy / dask dispatch.

:func:`differentiate` validates, plans every axis (:mod:`xgrad.stencils`) and runs the in-memory
driver (:mod:`xgrad.blocks`) or builds the dask graph (:mod:`xgrad.chunked`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from .arrays import block_scale, check_engine, is_cubed_array, is_dask_array
from .blocks import empty_output
from .inmemory import inmemory_gradients
from .options import check_choice
from .stencils import AxisPlan, plan_axis, points_needed

__all__ = ["differentiate", "output_dtype", "real_dtype"]


def output_dtype(dtype: np.dtype) -> np.dtype:
    """numpy.gradient's output dtype; TypeError for data it cannot differentiate.

    ints and bools -> float64; float16/32/64 and complex kept; datetime64 -> timedelta64
    (same unit); timedelta64 kept.  object, strings and structured data raise TypeError.
    """
    kind = dtype.kind
    if kind == "M":
        return np.dtype(dtype.name.replace("datetime", "timedelta"))
    if kind in "fcm":
        return dtype
    if kind in "iub":
        return np.dtype(np.float64)
    raise TypeError(
        f"cannot differentiate data of dtype {dtype!r}: xgrad needs numbers (int, float, "
        "complex), datetime64 or timedelta64; convert first, e.g. `f.astype(float)`"
    )


def real_dtype(dtype: np.dtype) -> np.dtype:
    """The real floating dtype of derivatives of data of ``dtype``: float32 stays float32,
    complex64 gives float32, ints and times give float64 (metric factors are cast to it).

    >>> real_dtype(np.dtype("complex64")), real_dtype(np.dtype("int16"))
    (dtype('float32'), dtype('float64'))
    """
    dtype = output_dtype(np.dtype(dtype))
    return np.finfo(dtype).dtype if dtype.kind in "fc" else np.dtype(np.float64)


def differentiate(
    f: Any,
    axes: tuple[int, ...],
    spacings: list[Any],
    *,
    edge_order: int = 1,
    accuracy: int = 2,
    nan: str = "propagate",
    periodic: tuple[bool, ...] | None = None,
    orders: tuple[int, ...] | None = None,
    scales: tuple[Any, ...] | None = None,
    combine: Callable[[list, list], Any] | None = None,
    operands: Sequence[Any] = (),
    premultiply: Any = None,
    into: Sequence[Any] | None = None,
    fields: Sequence[Any] = (),
    direct: Sequence[tuple[int, int]] = (),
    names: Sequence[Hashable] | None = None,
) -> list[Any]:
    """Derivatives of ``f`` along ``axes`` in one pass: the engine behind every public API.

    ``spacings[j]`` is numpy-style spacing for ``axes[j]``: a scalar, or the coordinate
    differences (``n - 1`` of them; ``n`` for a periodic axis, the last being the seam
    ``first + period - last``).  Validates everything before building anything; returns a
    list of arrays (dask in, dask out).  ``orders[j]`` (default 1) asks for the second
    derivative along ``axes[j]`` instead; an axis may appear twice with different orders.
    ``scales[j]`` (None, a Python float or a numpy array broadcastable against ``f``, e.g. a
    sphere metric factor) multiplies result ``j`` inside the pass, with the bits of
    ``result * scale`` but without a second pass over memory.

    ``combine(derivatives, operands)`` builds what the caller wants from the (scaled)
    derivatives of a block, e.g. ``numpy.hypot(*derivatives)``, and returns one array or a
    tuple of arrays shaped as the block: those are returned instead of the derivatives,
    computed in the same pass (per cache tile in memory, inside each block's kernel task on
    dask and cubed), so the derivatives never leave it.  Elementwise numpy operations give the
    bits of the same operations on the whole derivative arrays.  ``operands`` are handed to it
    cut as the block (and tile): numpy arrays broadcastable against ``f`` (metric terms), or,
    for a dask ``f``, dask arrays of ``f``'s shape (other fields; rechunked as ``f`` where they
    differ).  ``combine`` must be deterministic to tokenize (a module-level function or a
    ``functools.partial`` of one) and is probed once on 1-element arrays for the dtypes.

    ``premultiply`` (a numpy array broadcastable against ``f``, e.g. ``cos(lat)`` of the flux
    form) makes these the derivatives of ``f * premultiply``, with its bits: a float numpy
    ``f`` of the product's dtype and shape gets the product tile by tile inside the pass (no
    whole-array layer before it, see :func:`xgrad.blocks.block_gradients`), anything else
    the product first.

    ``into`` (with ``combine``, a numpy ``f``): numpy arrays to write the combination's
    results in, instead of new ones; they may be ``operands`` (each element of a result is
    written after ``combine`` read the operands' same element). Ignored for chunked ``f``.

    ``fields`` (with ``combine``): other arrays differentiated along ``axes`` in the same pass
    (see :func:`fields_fit`, checked here); ``combine`` gets their derivatives after ``f``'s,
    field by field, with the bits of their own :func:`differentiate` calls.

    ``direct`` (with ``combine``): ``(j, i)`` pairs, derivative ``j`` (counted over ``f`` and
    ``fields``) written straight into result ``i`` (of the derivatives' dtype), which
    ``combine`` returns as it got it: no scratch and no copy for a result that is a plain
    derivative (the vector gradient's ``du/dy``).

    ``names``: the dims of ``axes`` (the labelled layer's), which the errors about a chunked
    layout name instead of axis numbers.
    """
    check_engine(f)
    if fields and (combine is None or not fields_fit(f, fields, axes)):
        raise ValueError(
            "fields= takes a combine= and arrays that fields_fit(f, fields, axes) accepts"
        )
    if premultiply is not None and not _tiled_product(f, premultiply):
        f, premultiply = f * premultiply, None
    # numpy accepts 1.0 or np.int64(2) for edge_order: integral numbers are normalised
    edge_order = check_choice("edge_order", edge_order)
    accuracy = check_choice("accuracy", accuracy)
    nan = check_choice("nan", nan)
    periodic = periodic or (False,) * len(axes)
    one_sided = nan == "one-sided"
    plans = []
    # numpy works axis by axis: length check, then the data, then that axis's coefficients
    # (a zero Python spacing raises ZeroDivisionError there).  Keep its order so the first
    # error is numpy's (tests/test_properties.py::test_first_error_wins_as_in_numpy).
    orders = orders or (1,) * len(axes)
    for k, seam, d, order in zip(axes, periodic, spacings, orders):
        try:
            plans.append(_plan_checked(f, k, seam, d, order, edge_order, accuracy, one_sided))
        except Exception:
            # numpy would have computed the axes before this one first: their dtype errors
            # (timedelta data over a complex spacing...) come before this axis's
            j = len(plans)
            if j:
                _probe_types(f, axes[:j], spacings[:j], plans, orders[:j], nan)
            raise
    if not axes:
        return []  # numpy returns () without looking at the data
    otype = output_dtype(f.dtype)
    scales = scales or (None,) * len(axes)
    # in place only where `out * scale` keeps the output dtype (it does for metric factors)
    inside = tuple(s if s is None or np.result_type(otype, s) == otype else None for s in scales)
    if combine is not None:
        if inside != tuple(scales):
            raise TypeError(
                f"combine= needs scales that keep the output dtype {otype} (cast them first, "
                "e.g. `scale.astype(dtype)`); metric factors of the labelled layer do"
            )
        return _combined(
            f,
            axes,
            spacings,
            plans,
            orders,
            nan,
            otype,
            inside,
            combine,
            operands,
            premultiply,
            into,
            fields,
            direct,
            names,
        )
    if is_dask_array(f):
        from .chunked import chunked_gradients

        _probe_types(f, axes, spacings, plans, orders, nan)
        outs = chunked_gradients(f, axes, plans, otype, inside)
    elif is_cubed_array(f):
        from .cubed_engine import cubed_gradients

        _probe_types(f, axes, spacings, plans, orders, nan)
        inside = tuple(map(block_scale, inside))
        outs = cubed_gradients(f, axes, plans, otype, inside, names=names)
    else:
        outs = [empty_output(f, otype) for _ in axes]
        inmemory_gradients(f, axes, plans, outs, inside, premultiply=premultiply)
    return [r if s is None or i is not None else r * s for r, s, i in zip(outs, scales, inside)]


def _plan_checked(
    f: Any,
    k: int,
    seam: bool,
    d: Any,
    order: int,
    edge_order: int,
    accuracy: int,
    one_sided: bool,
) -> AxisPlan:
    """:func:`plan_axis` for axis ``k`` of ``f`` after numpy's checks of that axis, in its
    order: the length, then the data's dtype (boolean data only where a stencil subtracts)."""
    numpy_like = accuracy == 2 and order == 1 and not seam
    need = points_needed(edge_order, accuracy, periodic=seam, order=order)
    if f.shape[k] < need:
        what = f"edge_order={edge_order}" if numpy_like else f"accuracy={accuracy}"
        what += "" if order == 1 else " (second derivative)"
        raise ValueError(
            "Shape of array too small to calculate a numerical gradient, at least "
            f"(edge_order + 1) elements are required: axis {k} has {f.shape[k]} "
            f"element(s) and {what} needs {need}"
        )
    # numpy meets bad data only when it computes the first axis, and boolean data only
    # where a stencil subtracts: uniform interior rows and first-order edges.
    output_dtype(f.dtype)
    if f.dtype.kind == "b" and numpy_like:
        if edge_order == 1 or (np.ndim(d) == 0 and f.shape[k] > 2):
            raise TypeError(
                "numpy boolean subtract, the `-` operator, is not supported: cannot "
                f"difference boolean data along axis {k}; convert it first, e.g. "
                "`f.astype(float)`"
            )
    return plan_axis(f.shape[k], d, edge_order, accuracy, seam, one_sided, order)


def _combined(
    f: Any,
    axes: tuple[int, ...],
    spacings: list[Any],
    plans: list[AxisPlan],
    orders: tuple[int, ...],
    nan: str,
    otype: np.dtype,
    scales: tuple[Any, ...],
    combine: Callable[[list, list], Any],
    operands: Sequence[Any],
    premultiply: Any,
    into: Sequence[Any] | None,
    fields: Sequence[Any],
    direct: Sequence[tuple[int, int]],
    names: Sequence[Hashable] | None,
) -> list[Any]:
    """:func:`differentiate` with ``combine``: dispatch with the combination's dtypes."""
    operands = tuple(operands)
    lazy = [op for op in operands if is_dask_array(op) or is_cubed_array(op)]
    if lazy and not is_dask_array(f):
        raise TypeError(
            "combine= takes chunked operands (other fields) with a dask array only; give "
            "numpy operands, or differentiate a dask array"
        )
    count = len(axes) * (1 + len(fields))
    rtypes = _combined_dtypes(f.ndim, otype, count, combine, operands)
    if any(not 0 <= j < count or rtypes[i] != otype for j, i in direct):
        raise ValueError(f"direct= names derivatives 0..{count - 1} and results of dtype {otype}")
    if is_dask_array(f):
        from .chunked import chunked_gradients

        _probe_types(f, axes, spacings, plans, orders, nan)
        return chunked_gradients(
            f,
            axes,
            plans,
            otype,
            scales,
            combine=combine,
            operands=operands,
            rtypes=rtypes,
            fields=fields,
            direct=tuple(direct),
        )
    if is_cubed_array(f):
        from .cubed_engine import cubed_gradients

        _probe_types(f, axes, spacings, plans, orders, nan)
        cut = tuple(map(block_scale, scales))
        if any(c is None and s is not None for c, s in zip(cut, scales)):
            raise TypeError(
                "combine= on cubed data takes numpy scales (or cubed ones made by "
                "xgrad.arrays.numpy_operand); a cubed scale would be computed in every task"
            )
        return cubed_gradients(
            f,
            axes,
            plans,
            otype,
            cut,
            combine=combine,
            operands=operands,
            rtypes=rtypes,
            names=names,
        )
    if into is not None:
        found = [(type(a), np.shape(a), a.dtype) for a in into]
        if found != [(np.ndarray, f.shape, dtype) for dtype in rtypes]:
            raise ValueError(
                f"into= takes numpy arrays of shape {f.shape} and dtypes {rtypes}; got {found}"
            )
    results = list(into) if into is not None else [empty_output(f, d) for d in rtypes]
    outs = [None] * count  # derivatives in per-tile scratch where the tiling allows
    for j, i in direct:
        outs[j] = results[i]
    inmemory_gradients(
        f,
        axes,
        plans,
        outs,
        scales,
        combine=combine,
        operands=operands,
        results=results,
        otype=otype,
        premultiply=premultiply,
        fields=fields,
    )
    return results


def fields_fit(f: Any, fields: Sequence[Any], axes: Sequence[int]) -> bool:
    """Whether ``fields`` can be differentiated in ``f``'s pass (:func:`differentiate`'s
    ``fields``): arrays of ``f``'s shape and real float dtype, all numpy, or all dask
    (``f`` too) of ``f``'s chunks, one chunk along each of ``axes`` (no halos to gather: the
    usual chunking of model output, along time or level). Cubed arrays: not yet."""
    arrays = [f, *fields]
    if f.dtype.kind != "f" or any(a.shape != f.shape or a.dtype != f.dtype for a in arrays):
        return False
    if all(type(a) is np.ndarray for a in arrays):
        return True
    return all(is_dask_array(a) and a.chunks == f.chunks for a in arrays) and all(
        len(f.chunks[k]) == 1 for k in axes
    )


def _tiled_product(f: Any, factor: Any) -> bool:
    """Whether the engine multiplies ``f`` by ``factor`` tile by tile (in memory): both numpy
    arrays, ``f`` real floating, the product of ``f``'s dtype and shape."""
    return (
        type(f) is np.ndarray
        and type(factor) is np.ndarray
        and f.dtype.kind == "f"
        and np.result_type(f.dtype, factor.dtype) == f.dtype
        and factor.ndim <= f.ndim
        and np.broadcast_shapes(f.shape, factor.shape) == f.shape
    )


def _combined_dtypes(
    ndim: int, otype: np.dtype, count: int, combine: Callable, operands: Sequence[Any]
) -> list[np.dtype]:
    """The dtypes of what ``combine`` returns, from one call on 1-element arrays."""
    one = (1,) * ndim
    parts = [
        np.zeros((1,) * op.ndim, dtype=op.dtype) if hasattr(op, "dtype") else op for op in operands
    ]
    with np.errstate(all="ignore"):
        values = combine([np.zeros(one, dtype=otype) for _ in range(count)], parts)
    return [np.dtype(v.dtype) for v in (values if isinstance(values, tuple) else (values,))]


def _probe_types(
    f: Any,
    axes: tuple[int, ...],
    spacings: list[Any],
    plans: list[AxisPlan],
    orders: tuple[int, ...],
    nan: str,
) -> None:
    """Raise now what the blocks of lazy array ``f`` would raise at compute time.

    Whether numpy's arithmetic accepts the data's dtype with the spacings' types (timedelta
    data with a complex spacing, a datetime64 coordinate, a bool spacing...) depends on the
    kinds of the operands and on which formulas run (uniform or not, edge order): a table
    with many exceptions.  Rather than a copy of that table, run the same kernels on a tiny
    stand-in (zeros of the data's dtype, a few rows per axis, the spacings' own types) in
    memory: it raises exactly what the blocks would, before anything is built.  Plain
    numbers need no probe.
    """
    kinds = [f.dtype.kind] + [np.asarray(d).dtype.kind for d in spacings]
    if all(k in "fiu" for k in kinds):
        return
    shape = [1] * f.ndim
    for k, plan in zip(axes, plans):
        shape[k] = max(shape[k], min(f.shape[k], 2 * plan.accuracy + 5))
    small = [
        d
        if np.ndim(d) == 0
        else np.append(d[: shape[k] - 1], d[-1:])
        if plan.periodic
        else d[: shape[k] - 1]
        for k, d, plan in zip(axes, spacings, plans)
    ]
    differentiate(
        np.zeros(shape, dtype=f.dtype),
        axes,
        small,
        edge_order=plans[0].edge_order,
        accuracy=plans[0].accuracy,
        nan=nan,
        periodic=tuple(p.periodic for p in plans),
        orders=orders,
    )
