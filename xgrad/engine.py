"""Layer 4: the engine behind every public API: dtype rules, planning, numpy / dask dispatch.

:func:`differentiate` validates, plans every axis (:mod:`xgrad.stencils`) and runs the in-memory
driver (:mod:`xgrad.blocks`) or builds the dask graph (:mod:`xgrad.chunked`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .arrays import is_dask_array
from .blocks import empty_output, inmemory_gradients
from .stencils import plan_axis, points_needed

__all__ = ["differentiate", "output_dtype"]

ACCURACIES = (2, 4, 6)
NAN_MODES = ("propagate", "one-sided")


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
    """
    _check_options(edge_order, accuracy, nan)
    edge_order = 1 if edge_order == 1 else 2  # numpy accepts 1.0, np.int64(2), True...
    periodic = periodic or (False,) * len(axes)
    one_sided = nan == "one-sided"
    plans = []
    # numpy works axis by axis: length check, then the data, then that axis's coefficients
    # (a zero Python spacing raises ZeroDivisionError there).  Keep its order so the first
    # error is numpy's (tests/test_properties.py::test_first_error_wins_as_in_numpy).
    orders = orders or (1,) * len(axes)
    for k, wrap, d, order in zip(axes, periodic, spacings, orders):
        numpy_like = accuracy == 2 and order == 1 and not wrap
        need = points_needed(edge_order, accuracy, periodic=wrap, order=order)
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
        plans.append(plan_axis(f.shape[k], d, edge_order, accuracy, wrap, one_sided, order))
    if not axes:
        return []  # numpy returns () without looking at the data
    otype = output_dtype(f.dtype)
    scales = scales or (None,) * len(axes)
    # in place only where `out * scale` keeps the output dtype (it does for metric factors)
    inside = tuple(s if s is None or np.result_type(otype, s) == otype else None for s in scales)
    if is_dask_array(f):
        from .chunked import chunked_gradients

        outs = chunked_gradients(f, axes, plans, otype, inside)
    else:
        outs = [empty_output(f, otype) for _ in axes]
        inmemory_gradients(f, axes, plans, outs, inside)
    return [r if s is None or i is not None else r * s for r, s, i in zip(outs, scales, inside)]


def _check_options(edge_order: Any, accuracy: Any, nan: Any) -> None:
    if edge_order > 2:
        raise ValueError(
            f"'edge_order' greater than 2 not supported (got edge_order={edge_order!r}); use 1 or 2"
        )
    if edge_order not in (1, 2):
        raise ValueError(f"edge_order must be 1 or 2, got {edge_order!r}")
    if accuracy not in ACCURACIES:
        raise ValueError(f"accuracy must be one of {ACCURACIES}, got {accuracy!r}")
    if nan not in NAN_MODES:
        raise ValueError(f"nan must be one of {NAN_MODES}, got {nan!r}")
