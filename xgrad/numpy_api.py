"""Layer 4: ``xgrad.gradient``, a drop-in for numpy.gradient and dask.array.gradient.

numpy's argument handling (``*varargs``, ``axis``) and pint quantities; the work is done by
:func:`xgrad.engine.differentiate`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from .arrays import (
    check_engine,
    difference_units,
    is_cubed_array,
    is_dask_array,
    is_duck_array,
    is_quantity,
    xarray_data,
)
from .engine import differentiate
from .stencils import spacing_from_varargs

__all__ = ["gradient"]


def _quantity_gradient(f, varargs, axis, edge_order, accuracy, nan) -> Any:
    """pint quantities: differentiate the magnitudes; units are f's over the spacing's."""
    registry = next(x._REGISTRY for x in (f, *varargs) if is_quantity(x))
    f_units = difference_units(f.units) if is_quantity(f) else registry.dimensionless
    mags = [v.magnitude if is_quantity(v) else v for v in varargs]
    grads = gradient(
        f.magnitude if is_quantity(f) else f,
        *mags,
        axis=axis,
        edge_order=edge_order,
        accuracy=accuracy,
        nan=nan,
    )
    single = not isinstance(grads, tuple)
    grads = (grads,) if single else grads
    per = [v.units if is_quantity(v) else registry.dimensionless for v in varargs]
    per = per * len(grads) if len(per) <= 1 else per
    per = per or [registry.dimensionless] * len(grads)
    out = tuple(registry.Quantity(g, f_units / u) for g, u in zip(grads, per))
    return out[0] if single else out


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
        datetime64 gives timedelta64.  An xarray ``DataArray`` or ``Variable`` is
        differentiated as the array it wraps: numpy's values for in-memory data, lazily for
        dask data (for labelled results, coordinates as spacing, use ``.grad.along``).
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
    f, varargs = xarray_data(f), tuple(xarray_data(v) for v in varargs)
    if is_quantity(f) or any(is_quantity(v) for v in varargs):
        return _quantity_gradient(f, varargs, axis, edge_order, accuracy, nan)
    check_engine(f)
    if isinstance(edge_order, np.ndarray):
        # numpy compares it as a number where it has one element and cannot where it has more
        if edge_order.size != 1:
            raise ValueError(
                f"edge_order={edge_order!r} is not valid: the truth value of an array with more "
                "than one element is ambiguous; give one number, e.g. `edge_order=2`"
            )
        edge_order = edge_order.reshape(())[()]
    if edge_order is True or type(edge_order) is np.bool_ and edge_order:
        # numpy compares edge_order with `== 1` and `> 2` only: True is the number 1 there
        # (tests/test_properties.py::test_edge_order_spelled_differently). The accessor,
        # which is not a drop-in, refuses bools.
        edge_order = 1
    lazy = is_dask_array(f)
    if not lazy and not is_cubed_array(f) and not is_duck_array(f):
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
