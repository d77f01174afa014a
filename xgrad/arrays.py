"""What kind of array is this: the one home of "is it dask", "is it a pint quantity", "a duck array".

Every module asks these questions through the functions here, so the answer never depends on
which module asked (``tests/test_duck.py`` covers the duck array and quantity paths).  The few
conversions the kernels and the NaN fallback share live here too: numpy coefficients in the
data's array library, an ndarray subclass's plain data, and time data as numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "check_engine",
    "is_cubed_array",
    "coordinate_numbers",
    "numpy_operand",
    "asarray_like",
    "difference_units",
    "is_dask_array",
    "is_expression_array",
    "is_duck_array",
    "is_quantity",
    "magnitude",
    "plain_array",
    "ticks_from_numbers",
    "time_as_numbers",
    "xarray_data",
]


def is_dask_array(x: Any) -> bool:
    """A ``dask.array.Array`` (checked without importing dask)."""
    return type(x).__module__.startswith("dask.") and hasattr(x, "__dask_graph__")


def is_expression_array(x: Any) -> bool:
    """A dask array of dask's array expressions (``array.query-planning``), not a legacy one."""
    return type(x).__module__.startswith("dask.array._array_expr") and hasattr(x, "__dask_graph__")


def is_cubed_array(x: Any) -> bool:
    """A ``cubed.Array`` (checked without importing cubed)."""
    return type(x).__module__.startswith("cubed.") and hasattr(x, "chunks")


def numpy_operand(values: np.ndarray, data: Any, chunks: tuple | None = None) -> Any:
    """numpy ``values`` ready to meet chunked ``data`` in an elementwise operation: as they are
    for numpy and dask (dask takes numpy operands lazily), a cubed array of ``data``'s spec for
    cubed, whose arrays defer to numpy, which then computes them whole (``cubed * ndarray`` is
    an ndarray).

    The cubed array is chunked as ``data`` (``values`` laid out to broadcast against it: its
    chunks along the axes of the same length, one chunk along a broadcast axis of 1), or as
    ``chunks`` says; ``cubed.asarray`` would refuse a field of more than 1 MB (a 354 x 354
    grid's metric) and chunk it unlike the data.
    """
    if not is_cubed_array(data):
        return values
    import cubed

    if chunks is None:
        if np.ndim(values) != data.ndim:
            raise ValueError(f"a {np.ndim(values)}-d operand for {data.ndim}-d cubed data")
        chunks = tuple(
            c if n == size else (n,)
            for c, n, size in zip(data.chunks, np.shape(values), data.shape, strict=True)
        )
    values = np.asarray(values)
    out = cubed.from_array(values, chunks=chunks, spec=data.spec)
    # the values themselves, for the engine: a scale applied in its pass is cut per block
    # from numpy (a cubed one was computed inside every block task, a nested run: an audit)
    out.xgrad_numpy_values = values
    return out


def block_scale(scale: Any) -> Any:
    """``scale`` as the cubed engine can cut it per block inside its tasks: as it is (None, a
    number, numpy), the numpy values of a cubed array made by :func:`numpy_operand`, or None
    for any other cubed array (then multiplied after the pass, as a cubed operation)."""
    if not is_cubed_array(scale):
        return scale
    return getattr(scale, "xgrad_numpy_values", None)


def check_engine(x: Any) -> None:
    """TypeError for a lazy, chunked array that xgrad cannot run on: never loaded silently.

    numpy arrays, dask and cubed arrays, and duck arrays that implement numpy's protocols
    (cupy, pint, sparse) pass; another chunked or lazy array (a zarr array, another chunk
    manager's array) would be read whole into memory by numpy's conversion.
    """
    if is_dask_array(x) and is_quantity(getattr(x, "_meta", None)):
        # blocks that are pint Quantities: the kernels' arithmetic fails on them at compute
        # time ("setting an array element with a sequence"), as dask.array.gradient's does
        raise TypeError(
            "the dask array's blocks are pint Quantities (what `.pint.quantify().chunk(...)` "
            "gives); xgrad differentiates a pint Quantity wrapping a dask array: chunk first, "
            "then quantify, `ds.chunk(...).pint.quantify()`, or `ds.pint.quantify()"
            ".pint.chunk(...)`; for a bare array "
            "`ureg.Quantity(dask.array.from_array(q.magnitude, chunks=...), q.units)`"
        )
    if isinstance(x, np.ndarray) or is_dask_array(x) or is_cubed_array(x) or is_duck_array(x):
        return
    if hasattr(x, "chunks") or hasattr(x, "chunksize"):
        kind = f"{type(x).__module__}.{type(x).__qualname__}"
        raise TypeError(
            f"xgrad cannot run lazily on a chunked array of type {kind} (it runs on numpy, dask "
            "and cubed arrays), and will not read it whole into memory silently; make it a dask "
            "array, e.g. `dask.array.from_array(x, chunks=x.chunks)`, or load it yourself: "
            "`numpy.asarray(x)`"
        )


def xarray_data(x: Any) -> Any:
    """An xarray ``DataArray`` or ``Variable``: the array it wraps (numpy, dask, cupy, pint...);
    anything else unchanged.

    numpy.gradient converts these to their values; the wrapped array gives those values for
    in-memory data and keeps dask data lazy (dask in, dask out) instead of loading it.
    """
    if type(x).__module__.startswith("xarray.") and hasattr(x, "dims"):
        import xarray as xr

        if isinstance(x, (xr.DataArray, xr.Variable)):
            return x.data
    return x


def is_duck_array(x: Any) -> bool:
    """cupy, pint, sparse...: arrays numpy must not convert (they dispatch via NEP 18)."""
    return (
        not isinstance(x, np.ndarray)
        and hasattr(x, "__array_function__")
        and hasattr(x, "shape")
        and hasattr(x, "dtype")
    )


def is_quantity(x: Any) -> bool:
    """A pint Quantity (bare, or the data of a pint-xarray quantified DataArray)."""
    return hasattr(x, "_REGISTRY") and hasattr(x, "magnitude") and hasattr(x, "units")


def magnitude(x: Any) -> Any:
    """The numbers of a pint quantity; anything else unchanged."""
    return x.magnitude if is_quantity(x) else x


def coordinate_numbers(x: Any) -> Any:
    """A coordinate's numbers: :func:`magnitude`, and of a dask array of pint blocks too,
    lazily (what pint-xarray's quantified coordinates become once chunked; their units are
    :func:`xgrad.coords.coordinate_units`')."""
    if is_dask_array(x) and is_quantity(getattr(x, "_meta", None)):
        return x.map_blocks(_block_magnitude, meta=x._meta.magnitude)
    return magnitude(x)


def _block_magnitude(block: Any) -> Any:
    return block.magnitude


def difference_units(units: Any) -> Any:
    """The pint units of a difference of values in ``units``: ``delta_degC`` for ``degC``.

    An offset unit's differences (hence its derivatives) are in the matching delta unit, as
    pint's own ``numpy.gradient`` gives; multiplicative units are their own.
    """
    registry = units._REGISTRY
    if registry.Quantity(1, units)._is_multiplicative:
        return units
    (name,) = units._units
    return registry.Unit(f"delta_{name}")


def asarray_like(values: np.ndarray, f: Any) -> Any:
    """numpy ``values`` (coefficients, masks) in ``f``'s array library (NEP 35): cupy refuses
    to mix numpy arrays into its own arithmetic."""
    return values if isinstance(f, np.ndarray) else np.asarray(values, like=f)


def plain_array(x: Any) -> Any:
    """An ndarray subclass as a plain ndarray view of its data; anything else unchanged.

    ``np.matrix`` makes ``*`` a matrix product and a masked array masks where arithmetic
    fails; code that means elementwise arithmetic on the data works on this view (writes go
    to the same memory)."""
    return x.view(np.ndarray) if isinstance(x, np.ndarray) and type(x) is not np.ndarray else x


_NAT = np.iinfo(np.int64).min  # NaT's integer


def time_as_numbers(x: Any) -> Any:
    """timedelta64 data as float64 tick counts, NaT as NaN; anything else unchanged.

    Stencils numpy does not have (accuracy 4/6, the NaN fallback) differentiate time data as
    these numbers and round once (:func:`ticks_from_numbers`); numpy's integer timedelta
    arithmetic would truncate every term and overflow on large weights.
    """
    if x is None or x.dtype.kind != "m":
        return x
    numbers = x.astype(np.float64)  # keeps a masked array's mask
    plain_array(numbers)[np.isnat(plain_array(x))] = np.nan
    return numbers


def ticks_from_numbers(x: Any, dtype: np.dtype) -> Any:
    """float64 tick counts as timedelta64 ``dtype``: rounded to the nearest tick (half to even),
    NaN, infinities and counts beyond int64 as NaT.  A masked array keeps its mask."""
    r = np.rint(plain_array(x))
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(r) < 2.0**63)
    ticks = np.where(bad, _NAT, np.where(bad, 0.0, r).astype(np.int64)).view(dtype)
    if isinstance(x, np.ma.MaskedArray):
        return np.ma.masked_array(ticks, mask=np.ma.getmaskarray(x))
    return ticks
