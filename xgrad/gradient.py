"""Layer 4: ``xgrad.gradient``, a drop-in for numpy.gradient and dask.array.gradient."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from .blocks import empty_output, inmemory_gradients
from .stencils import plan_axis, spacing_from_varargs

__all__ = ["gradient", "differentiate", "output_dtype"]

ACCURACIES = (2, 4, 6)
NAN_MODES = ("propagate", "one-sided")


def _is_dask_array(f: Any) -> bool:
    return type(f).__module__.startswith("dask.") and hasattr(f, "__dask_graph__")


def _is_duck_array(f: Any) -> bool:
    """cupy, pint, sparse...: arrays numpy must not convert (they dispatch via NEP 18)."""
    return (
        not isinstance(f, np.ndarray)
        and hasattr(f, "__array_function__")
        and hasattr(f, "shape")
        and hasattr(f, "dtype")
    )


def _is_quantity(x: Any) -> bool:
    """A pint Quantity (numpy.gradient accepts them: pint implements it with units)."""
    return hasattr(x, "_REGISTRY") and hasattr(x, "magnitude") and hasattr(x, "units")


def _quantity_gradient(f, varargs, axis, edge_order, accuracy, nan) -> Any:
    """pint quantities: differentiate the magnitudes; units are f's over the spacing's."""
    registry = next(x._REGISTRY for x in (f, *varargs) if _is_quantity(x))
    f_units = f.units if _is_quantity(f) else registry.dimensionless
    mags = [v.magnitude if _is_quantity(v) else v for v in varargs]
    grads = gradient(
        f.magnitude if _is_quantity(f) else f,
        *mags,
        axis=axis,
        edge_order=edge_order,
        accuracy=accuracy,
        nan=nan,
    )
    single = not isinstance(grads, tuple)
    grads = (grads,) if single else grads
    per = [v.units if _is_quantity(v) else registry.dimensionless for v in varargs]
    per = per * len(grads) if len(per) <= 1 else per
    per = per or [registry.dimensionless] * len(grads)
    out = tuple(registry.Quantity(g, f_units / u) for g, u in zip(grads, per))
    return out[0] if single else out


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


def gradient(
    f: Any,
    *varargs: Any,
    axis: int | tuple[int, ...] | None = None,
    edge_order: int = 1,
    accuracy: int = 2,
    nan: str = "propagate",
) -> Any:
    """Return the gradient of an N-dimensional array: a drop-in for :func:`numpy.gradient`.

    Second-order central differences in the interior and one-sided differences of order
    ``edge_order`` at the boundaries, with numpy's formulas: for numpy input the results
    are bit-for-bit ``numpy.gradient``'s.  Dask input gives lazy dask output with the same
    chunks and the same bits as numpy.gradient of the computed array, for every chunking
    (including chunks of one element); several axes are computed in one pass.

    Parameters
    ----------
    f : array_like, dask.array.Array or duck array
        The data.  Integers give float64; float16/32/64 and complex are kept;
        datetime64 gives timedelta64.
    *varargs : scalar or 1-D array, optional
        Spacing as numpy: none (unit spacing), one scalar for every axis, or one scalar
        or 1-D coordinate array (numpy or dask) per differentiated axis.
    axis : None, int or tuple of ints, optional
        Axes to differentiate (default all).
    edge_order : {1, 2}, optional
        Order of the one-sided differences at the two global ends.
    accuracy : {2, 4, 6}, optional
        Order of accuracy.  2 is numpy's stencils (bit for bit); 4 and 6 use central
        stencils of that order inside and one-sided stencils of the same order at the
        ends (``edge_order`` then does not apply), from Fornberg's weights.
    nan : {"propagate", "one-sided"}, optional
        "propagate" (numpy's behaviour) lets a NaN spoil its neighbours' derivatives.
        "one-sided" recomputes those with the best stencil from the valid side (2nd
        order when two valid points are there, else 1st); NaN only where the point is
        missing or has no valid neighbour.

    Returns
    -------
    ndarray, dask array or tuple of them
        One array per axis, a tuple when several axes are differentiated.

    Raises
    ------
    TypeError
        Wrong number of spacing arguments; non-numeric data.
    ValueError
        Bad spacing shape, axis too short for the stencil, bad options, dask array with
        unknown chunk sizes.  All raised while building, before anything is computed.

    See Also
    --------
    numpy.gradient, dask.array.gradient, xarray.DataArray.differentiate

    Examples
    --------
    >>> import numpy as np, xgrad
    >>> f = np.array([1, 2, 4, 7, 11, 16], dtype=float)
    >>> xgrad.gradient(f)
    array([1. , 1.5, 2.5, 3.5, 4.5, 5. ])
    >>> xgrad.gradient(f, 2.0, edge_order=2)
    array([0.25, 0.75, 1.25, 1.75, 2.25, 2.75])
    >>> import dask.array as da
    >>> d = xgrad.gradient(da.from_array(f, chunks=1))
    >>> d.chunks, bool((d.compute() == np.gradient(f)).all())
    (((1, 1, 1, 1, 1, 1),), True)
    >>> xgrad.gradient(np.arange(8.0) ** 3, accuracy=4)[3]  # exact for cubics: 3 x**2
    np.float64(27.0)
    >>> xgrad.gradient(np.array([0.0, 1.0, np.nan, 3.0, 4.0]), nan="one-sided")
    array([ 1.,  1., nan,  1.,  1.])
    """
    if _is_quantity(f) or any(_is_quantity(v) for v in varargs):
        return _quantity_gradient(f, varargs, axis, edge_order, accuracy, nan)
    lazy = _is_dask_array(f)
    if not lazy and not _is_duck_array(f):
        f = np.asanyarray(f)
    axes = tuple(range(f.ndim)) if axis is None else normalize_axis_tuple(axis, f.ndim)
    if lazy:
        from .chunked import check_known_chunks

        check_known_chunks(f, axes)
    dx = spacing_from_varargs(varargs, f.shape, axes)
    outs = differentiate(f, axes, dx, edge_order=edge_order, accuracy=accuracy, nan=nan)
    if not axes:
        return ()
    return outs[0] if len(outs) == 1 else tuple(outs)


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
        need = edge_order + 1 if numpy_like else accuracy + (1 if wrap else order)
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
    if _is_dask_array(f):
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
