"""Spacing from coordinates: validation, datetime/cftime to numbers, one record per dim.

This is the first half of the labelled layer (layer 5 in docs/architecture.md): it turns the name of a
dimension (or of a 1-D coordinate) into a :class:`Spacing` record holding the float64 values that
:func:`xgrad.gradient` takes for that axis. Everything here is checked before any data is touched, so
an error never waits in a dask graph until compute time.

Geometry (sphere metrics, :mod:`xgrad.geometry`) and periodic seams (:mod:`xgrad.periodic`) are
later steps that take these records and refine them with :func:`dataclasses.replace`.
"""

from __future__ import annotations

import datetime
import difflib
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import xarray as xr

from .arrays import (
    coordinate_numbers,
    is_cubed_array,
    is_dask_array,
    is_expression_array,
    is_quantity,
)
from .options import DATETIME_UNITS, check_datetime_unit, outside_xgrad
from .stencils import points_needed
from .units import counts_time

__all__ = [
    "coordinate_units",
    "coordinate_variables",
    "DATETIME_UNITS",
    "Spacing",
    "resolve_spacings",
    "time_to_numbers",
]


@dataclass(frozen=True)
class Spacing:
    """How to step along one dimension.

    Attributes
    ----------
    dim : Hashable
        The dimension differentiated along.
    name : Hashable
        The name the caller used: ``dim`` itself, or a 1-D non-dimension coordinate along ``dim``.
    size : int
        Number of points along ``dim``.
    values : float or numpy.ndarray
        ``1.0`` (no coordinate: unit spacing) or the coordinate as a 1-D float64 array, ready for
        :func:`xgrad.gradient`.
    units : str or None
        Units of ``values``: the coordinate's ``units`` attribute, the CF spelling of
        ``datetime_unit`` for time coordinates, or None when unknown.
    kind : {"index", "numeric", "time"}
        Where ``values`` came from.
    period : float or None
        Set by :func:`xgrad.periodic.plan_boundaries` for a periodic dimension (in the units of
        ``values``); None means one-sided differences at the two ends.
    role : {"latitude", "longitude", "grid"} or None
        Set by :func:`xgrad.grids.plan_grid` on an Earth grid; ``units`` is then ``"m"``.
        "latitude"/"longitude" on a regular or rotated-pole grid (the rotated ones there),
        "grid" along a projected or curvilinear grid's dims.
    per_radian : float
        Coordinate units per radian for a latitude/longitude ``role`` (``180/pi`` for degrees,
        1 for radians); metres per coordinate unit along a projected grid's dims.
    """

    dim: Hashable
    name: Hashable
    size: int
    values: float | np.ndarray
    units: str | None
    kind: Literal["index", "numeric", "time"]
    period: float | None = None
    role: Literal["latitude", "longitude", "grid"] | None = None
    per_radian: float = 1.0


def _is_time_object(value: Any) -> bool:
    # cftime.datetime is not a datetime.datetime subclass; check both without importing cftime.
    if isinstance(value, datetime.datetime):
        return True
    return any(cls.__module__.startswith("cftime") for cls in type(value).__mro__)


def is_time_like(values: np.ndarray) -> bool:
    """True for datetime64/timedelta64 arrays and object arrays of (cf)datetimes."""
    if values.dtype.kind in "mM":
        return True
    if values.dtype.kind == "O" and values.size:
        first = next((v for v in values.flat if v is not None), None)
        return first is not None and _is_time_object(first)
    return False


def _ticks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact int64 microseconds (cftime's resolution) of (cf)datetime objects from the earliest one.

    Returns the ticks and a mask of missing values (None or NaN), whose ticks are 0.
    """
    flat = np.asarray(values).ravel()
    missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in flat], bool)
    ticks = np.zeros(flat.shape, dtype=np.int64)
    if not missing.all():
        present = flat[~missing]
        start = min(present)
        micro = datetime.timedelta(microseconds=1)
        ticks[~missing] = [(v - start) // micro for v in present]
    return ticks.reshape(np.shape(values)), missing.reshape(np.shape(values))


def _earliest(values: Any) -> Any:
    """The earliest time of dask array ``values`` (NaT skipped), lazily: a 0-d dask array.

    Each block's earliest, then the earliest of those in one task. Not dask's ``nanmin``: with
    array expressions on, it is the expressions' reduction, which takes no legacy array (the
    accessor runs on legacy graphs, :mod:`xgrad.dask_expressions`).
    """
    if is_expression_array(values):
        import dask.array

        return dask.array.nanmin(values)
    from dask.array.core import Array
    from dask.base import tokenize
    from dask.core import flatten
    from dask.highlevelgraph import HighLevelGraph

    firsts = values.map_blocks(
        _block_earliest, chunks=tuple((1,) * len(c) for c in values.chunks), dtype=values.dtype
    )
    name = f"xgrad-earliest-{tokenize(firsts)}"
    task = {(name,): (_block_earliest, list(flatten(firsts.__dask_keys__())))}
    graph = HighLevelGraph.from_collections(name, task, dependencies=[firsts])
    return Array(graph, name, chunks=(), dtype=values.dtype)


def _block_earliest(block: Any) -> np.ndarray:
    """The earliest non-NaT value of a block (or of a list of 1-element blocks), NaT if none,
    shaped as one element of the block."""
    values = np.concatenate([np.ravel(b) for b in block]) if isinstance(block, list) else block
    valid = values[~np.isnat(values)]
    first = valid.min() if valid.size else np.array("NaT", dtype=values.dtype)
    shape = () if isinstance(block, list) else (1,) * block.ndim
    return np.full(shape, first, dtype=values.dtype)


def time_to_numbers(values: Any, datetime_unit: str) -> Any:
    """Express datetime64, timedelta64 or cftime values as float64 numbers in ``datetime_unit``.

    The minimum is subtracted first, in exact integer arithmetic, so that the float64 numbers keep
    full precision; xarray's ``_to_numeric`` does the same, so the numbers are the same bits. cftime
    values go through exact integer microseconds and then the same division, so a cftime and a
    datetime64 coordinate holding the same instants give the same numbers. Missing values (NaT,
    None) become NaN. A dask array of datetime64/timedelta64 stays lazy.

    Examples
    --------
    >>> t = np.array(["2000-01-01", "2000-01-02"], dtype="datetime64[s]")
    >>> time_to_numbers(t, "h")
    array([ 0., 24.])
    """
    if values.dtype.kind in "mM":
        values = _fixed_length(values)
        if is_dask_array(values):
            delta = values - _earliest(values)
            return delta.map_blocks(_in_unit, datetime_unit, dtype=np.float64)
        if is_cubed_array(values):
            return _cubed_numbers(values, datetime_unit)
        valid = values[~np.isnat(values)]
        if valid.size == 0:
            return np.full(values.shape, np.nan)
        # NaT - x is NaT, and NaT / unit is NaN: missing values come out as NaN by themselves.
        return _in_unit(values - valid.min(), datetime_unit)
    ticks, missing = _ticks(values)
    out = _in_unit(ticks.astype("timedelta64[us]"), datetime_unit)
    out[missing] = np.nan
    return out


def _fixed_length(values: Any) -> Any:
    """datetime64 in months or years (which xarray keeps where dask holds them) as seconds:
    the instants are month starts, exact in seconds; their differences in months dropped the
    month lengths (and numpy refused to divide them by seconds: an audit). A timedelta64 in
    months or years has no fixed length: a TypeError."""
    unit = np.datetime_data(values.dtype)[0]
    if unit not in ("Y", "M"):
        return values
    if values.dtype.kind == "M":
        return values.astype("datetime64[s]")
    raise TypeError(
        f"timedelta64[{unit}] values have no fixed length in seconds (a month or a year "
        "varies); give the differences as datetime64 instants or in days"
    )


def _cubed_numbers(values: Any, datetime_unit: str) -> Any:
    """:func:`time_to_numbers` of a cubed datetime64/timedelta64 array, lazily and with the same
    bits: cubed reduces real numbers only, so the earliest time is the minimum of the int64
    ticks (NaT read as the largest int64), subtracted in exact integer arithmetic."""
    import cubed
    import cubed.array_api as xp

    ticks = cubed.map_blocks(_ticks_or_last, values, dtype=np.int64)
    delta = ticks - xp.min(ticks)
    unit, count = np.datetime_data(values.dtype)
    return cubed.map_blocks(
        _ticks_in_unit,
        delta,
        values,
        own=f"{count}{unit}",  # a multiple of a unit too: datetime64[10s]
        datetime_unit=datetime_unit,
        dtype=np.float64,
    )


def _ticks_or_last(block: np.ndarray) -> np.ndarray:
    """int64 ticks of a datetime64/timedelta64 block, NaT the largest int64 (never the min)."""
    return np.where(np.isnat(block), np.iinfo(np.int64).max, block.view(np.int64))


def _ticks_in_unit(delta: np.ndarray, block: np.ndarray, own: str, datetime_unit: str) -> Any:
    """int64 ``delta`` ticks of unit ``own`` in ``datetime_unit`` (NaN where ``block`` is NaT)."""
    span = delta.view(f"m8[{own}]").copy()
    span[np.isnat(block)] = np.timedelta64("NaT")
    return _in_unit(span, datetime_unit)


def _in_unit(delta: np.ndarray, datetime_unit: str) -> np.ndarray:
    """timedelta64 ``delta`` as float64 numbers of ``datetime_unit``: ``delta / unit`` (numpy's
    bits, as xarray's), except where numpy would overflow converting ``delta`` to a finer unit
    (it wraps silently: 'ns' of a span over 292 years). There ``delta`` in its own unit times the
    exact integer ratio of the units, the same single rounding of the exact product."""
    unit = np.timedelta64(1, datetime_unit)
    own = np.timedelta64(1, np.datetime_data(delta.dtype)[0])
    if own <= unit:  # a coarser (or the same) unit: no finer conversion
        return delta / unit
    ratio = int(own / unit)
    ticks = delta.view(np.int64)
    safe = (np.abs(ticks) <= np.iinfo(np.int64).max // ratio) | np.isnat(delta)
    if safe.all():
        return delta / unit
    return np.where(safe, delta / unit, (delta / own) * float(ratio))  # wrapped ones dropped


def _call(names: Sequence[Hashable]) -> str:
    return "(" + ", ".join(repr(n) for n in names) + ")"


def _isel(dim: Hashable, expr: str) -> str:
    if isinstance(dim, str) and dim.isidentifier():
        return f"da.isel({dim}={expr})"
    return f"da.isel({{{dim!r}: {expr}}})"


def _what(obj: Any) -> str:
    return type(obj).__name__


def coordinate_variables(obj: Any) -> Mapping[Hashable, Any]:
    """``obj``'s coordinates as :class:`xarray.Variable` (dims, attrs, data), to read them.

    ``obj.coords[name]`` builds a new DataArray at every lookup (about 50 us), and planning a
    derivative reads the coordinates a dozen times; the variables are the same objects,
    unchanged, with no name (the caller holds it).
    """
    return obj.coords.variables


def object_variables(obj: Any) -> list:
    """The Variables of a DataArray (its data, then its coordinates) or of a Dataset, the
    objects themselves (reading ``.data`` of one may load a file's lazily indexed array:
    read ``._data``)."""
    if isinstance(obj, xr.DataArray):
        return [obj.variable, *obj.coords.variables.values()]
    return list(obj.variables.values())


def _find(obj: Any, name: Hashable) -> tuple[Hashable, Any]:
    """Return (dim, coordinate variable or None) for a name given to ``along``."""
    variables = coordinate_variables(obj)
    if name in variables:
        coord = variables[name]
        if coord.ndim != 1:
            example = next(iter(obj.dims), "x") if coord.ndim == 0 else coord.dims[0]
            shape = "a scalar" if coord.ndim == 0 else f"{coord.ndim}-D with dims {coord.dims!r}"
            raise ValueError(
                f"coordinate {name!r} is {shape}; a derivative needs a 1-D coordinate. "
                f"Differentiate along a dimension instead, e.g. `.grad.along({example!r})`"
            )
        return coord.dims[0], coord
    if name in obj.dims:
        return name, None
    hint = ""
    candidates = [str(d) for d in obj.dims] + [str(c) for c in obj.coords]
    close = difflib.get_close_matches(str(name), candidates, n=1)
    if close:
        hint = f"; did you mean {close[0]!r}?"
    raise ValueError(
        f"{name!r} is not a dimension or coordinate of this {_what(obj)}; "
        f"dimensions are {tuple(obj.dims)!r}{hint}"
    )


def _check_monotonic(
    name: Hashable, dim: Hashable, steps: np.ndarray, values: np.ndarray, units: str | None = None
) -> None:
    """Raise for repeated or non-monotonic coordinate values; ``steps`` are the exact differences."""
    if steps.size == 0:
        return
    zero = np.flatnonzero(steps == 0)
    if zero.size:
        i = int(zero[0])
        raise ValueError(
            f"coordinate {name!r} has repeated values ({name}[{i}] == {name}[{i + 1}] == "
            f"{values[i]}), so the spacing there is zero. Remove the duplicates first: "
            f"`da.drop_duplicates({dim!r})`"
        )
    rising = steps[0] > 0
    wrong = np.flatnonzero((steps < 0) if rising else (steps > 0))
    if wrong.size:
        j = int(wrong[0]) + 1
        first, then = ("increases", "decreases") if rising else ("decreases", "increases")
        raise ValueError(
            f"coordinate {name!r} is not monotonic (it {first} at index 1 and {then} at index "
            f"{j}); {_wrapped_longitude(name, values, units) or _sort_first(name)}"
        )


def _as_times_fix(name: Hashable, dim: Hashable, values: np.ndarray) -> str:
    """The fix for a coordinate of other objects: periods (a pandas PeriodIndex, monthly data)
    and dates become datetime64 (an audit: the advice to differentiate along positions dropped
    the month lengths); anything else, positions."""
    first = values.ravel()[0] if values.size else None
    if type(first).__name__ == "Period":
        times = f"da[{name!r}].to_index().to_timestamp()"
    elif isinstance(first, datetime.date):
        times = f"pd.to_datetime(da[{name!r}].values)"
    else:
        return (
            f"Differentiate along positions instead: `da.drop_vars({name!r}).grad.along({dim!r})`"
        )
    return (
        f"Convert it to datetime64 first: `da = da.assign_coords({{{name!r}: ({dim!r}, {times})}})`"
    )


def _distinct_times(name: Hashable, dim: Hashable, values: np.ndarray, unit: str) -> np.ndarray:
    """``time_to_numbers(values, unit)``, checked: distinct times (checked on their integers)
    whose float64 numbers are equal gave inf and NaN derivatives with only numpy's warnings (an
    audit: 2000-01-01, 2010-01-01, and 1 and 2 ns after it)."""
    numbers = time_to_numbers(values, unit)
    same = np.flatnonzero(np.diff(numbers) == 0)
    if same.size:
        i = int(same[0])
        swap = (
            "" if name == dim else f"make it the dim: `da = da.swap_dims({{{dim!r}: {name!r}}})`, "
        )
        raise ValueError(
            f"coordinate {name!r} has times {values[i]!s} and {values[i + 1]!s} too close for "
            f"float64 to tell apart over its span; {swap}round them to a resolution it keeps, "
            f"e.g. `da = da.assign_coords({{{name!r}: da[{name!r}].dt.round('1s')}})`, then "
            f"remove the duplicates: `da.drop_duplicates({name!r})`"
        )
    return numbers


def _sort_first(name: Hashable) -> str:
    return f"sort it first: `da.sortby({name!r})`"


def _wrapped_longitude(name: Hashable, values: np.ndarray, units: str | None) -> str | None:
    """The fix for a longitude in degrees that wraps once around (a regional grid across the
    dateline, -180..180, or across Greenwich, 0..360), where sorting would join its two ends
    (a gap of the whole rest of the circle: wrong derivatives there, silently); None if not."""
    if not str(units or "").strip().lower().startswith("degree") or values.dtype.kind not in "iuf":
        return None
    values = values.astype(np.float64)
    for wrapped, text in (
        (values % 360.0, f"da[{name!r}] % 360"),
        ((values + 180.0) % 360.0 - 180.0, f"(da[{name!r}] + 180) % 360 - 180"),
    ):
        steps = np.abs(np.diff(wrapped))
        jumps = np.abs(np.diff(values)) > 180.0  # where it wraps
        if not jumps.any():  # not monotonic, but no wrap either
            return None
        monotonic = (np.diff(wrapped) > 0).all() or (np.diff(wrapped) < 0).all()
        # across the wrap a step like the others (not a jump back over a gap)
        if monotonic and steps[jumps].max() <= 1.5 * steps[~jumps].max(initial=0.0):
            return (
                f"it wraps around at the dateline or Greenwich: make it continuous, "
                f"`da.assign_coords({name}={text})` (sorting would join its two ends)"
                if isinstance(name, str) and name.isidentifier()
                else f"it wraps around: make it continuous with `{text}` (not sortby)"
            )
    return None


def _missing(name: Hashable, dim: Hashable, index: int, what: str, fix: str) -> ValueError:
    return ValueError(
        f"coordinate {name!r} contains {what} at index {index}; every point needs a finite "
        f"coordinate value. Drop those points first: `{_isel(dim, fix)}`"
    )


def coordinate_units(coord: Any) -> str | None:
    """A coordinate's units: pint's (pint-xarray keeps them on the data), else its ``units``
    attribute, else None."""
    # An index variable holds a pandas index, never a pint quantity (pint-xarray quantifies a
    # dimension coordinate into a plain Variable); reading its ``data`` builds an array (12 us).
    if not isinstance(getattr(coord, "variable", coord), xr.IndexVariable):
        data = coord.data
        if is_quantity(data):
            return str(data.units)
        # quantified, then chunked: a dask array of pint blocks, its units attribute gone (an
        # audit: latitudes read as unitless, derivatives per degree, silently)
        meta = getattr(data, "_meta", None) if is_dask_array(data) else None
        if is_quantity(meta):
            return str(meta.units)
    units = coord.attrs.get("units")
    return None if units is None else str(units)


def _one_calendar_fix(name: Hashable, dim: Hashable, values: np.ndarray) -> str:
    """Advice for times of several calendars (or types) in one coordinate: rebuild them in
    the first one's calendar (``convert_calendar``, advised before, leaves a coordinate of
    mixed calendars as it is: an audit)."""
    kinds = list(dict.fromkeys(getattr(v, "calendar", type(v).__name__) for v in values.flat))
    # the first calendar that has every date (a 360_day 30 February is no noleap date)
    first = next((c for c in kinds if _has_every_date(values, c)), None)
    if first is None or not all(hasattr(v, "calendar") for v in values.flat):
        return (
            f"give all its values one type ({', '.join(kinds)} are mixed): datetime64, or "
            "cftime of one calendar"
        )
    rebuilt = (
        "cftime.datetime(t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond, "
        f"calendar={first!r}) for t in da[{name!r}].values"
    )
    return (
        f"give all its values one calendar ({', '.join(kinds)} are mixed), e.g. "
        f"`da = da.assign_coords({{{name!r}: ({dim!r}, [{rebuilt}])}})`"
    )


def _has_every_date(values: np.ndarray, calendar: str) -> bool:
    """Whether every cftime value in ``values`` is a date of ``calendar``."""
    import cftime

    try:
        for t in values.flat:
            cftime.datetime(t.year, t.month, t.day, calendar=calendar)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def _coordinate_values(
    name: Hashable, dim: Hashable, coord: Any, datetime_unit: str
) -> tuple[np.ndarray, str | None, Literal["numeric", "time"]]:
    """Validate one 1-D coordinate; return float64 values, their units and the kind."""
    units = coordinate_units(coord)
    values = np.asarray(coordinate_numbers(coord.data))  # small; a dask-backed one is computed here
    notnull = f"da[{name!r}].notnull()"
    if values.dtype.kind in "mM":
        missing = np.isnat(values)
        if missing.any():
            raise _missing(name, dim, int(np.flatnonzero(missing)[0]), "NaT", notnull)
        # Check on the integers: exact, where float64 could merge neighbouring nanoseconds.
        _check_monotonic(name, dim, np.diff(values.view(np.int64)), values)
        return (
            _distinct_times(name, dim, values, datetime_unit),
            DATETIME_UNITS[datetime_unit],
            "time",
        )
    if values.dtype.kind == "O" and is_time_like(values):
        try:
            ticks, missing = _ticks(values)
        except TypeError as err:
            raise TypeError(
                f"coordinate {name!r} mixes times that cannot be subtracted ({err}); "
                + _one_calendar_fix(name, dim, values)
            ) from err
        if missing.any():
            raise _missing(name, dim, int(np.flatnonzero(missing)[0]), "a missing time", notnull)
        _check_monotonic(name, dim, np.diff(ticks), values)
        return (
            _distinct_times(name, dim, values, datetime_unit),
            DATETIME_UNITS[datetime_unit],
            "time",
        )
    if values.dtype.kind not in "iuf":
        raise TypeError(
            f"coordinate {name!r} has dtype {getattr(coord, 'dtype', values.dtype)} and cannot "
            "be used as a spacing; it must hold numbers, datetime64 or cftime values. "
            + _as_times_fix(name, dim, values)
        )
    # float64 whatever the coordinate's dtype: float32 latitudes would otherwise give float32
    # differences (numpy computes the spacing in the coordinate's own dtype).
    numbers = values.astype(np.float64)
    bad = ~np.isfinite(numbers)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        nan = bool(np.isnan(numbers[i]))
        fix = notnull if nan else f"np.isfinite(da[{name!r}])"
        raise _missing(name, dim, i, "nan" if nan else repr(float(numbers[i])), fix)
    if values.dtype.kind in "iu":
        # Exact integer differences (no wrap-around for unsigned) for the checks.
        _check_monotonic(name, dim, np.diff(values.astype(np.int64)), values, units)
    else:
        _check_monotonic(name, dim, np.diff(numbers), values, units)
    return numbers, units, "numeric"


def resolve_spacings(
    obj: Any,
    names: Sequence[Hashable],
    *,
    edge_order: int = 1,
    accuracy: int = 2,
    datetime_unit: str | None = None,
    method: str = "along",
) -> list[Spacing]:
    """Validate the names given to ``.grad.along`` and build one :class:`Spacing` per name.

    Parameters
    ----------
    obj : xarray.DataArray or xarray.Dataset
        Supplies ``dims``, ``sizes`` and ``coords``.
    names : sequence of Hashable
        Dimensions, or 1-D coordinates (the derivative is then along the coordinate's dimension,
        as in :meth:`xarray.DataArray.differentiate`).
    edge_order, accuracy : int
        Only used to check that each dimension has enough points.
    datetime_unit : str, optional
        Unit of the numbers for time coordinates; None means seconds.
    method : str, default: "along"
        The ``.grad`` method the names were given to, for the fixes the errors suggest.

    Returns
    -------
    list of Spacing
        In the order of ``names``.

    Examples
    --------
    >>> import xarray as xr
    >>> da = xr.DataArray([1.0, 2.0, 4.0], dims="x", coords={"x": [0, 1, 3]})
    >>> [s.values for s in resolve_spacings(da, ["x"])]
    [array([0., 1., 3.])]
    """
    if not names:
        example = next(iter(obj.dims), "x")
        raise ValueError(
            f"no dimension given; name at least one, e.g. `.grad.{method}({example!r})`"
        )
    unit = check_datetime_unit(datetime_unit)
    need = points_needed(edge_order, accuracy)
    spacings: list[Spacing] = []
    seen: dict[Hashable, Hashable] = {}
    for name in names:
        if not isinstance(name, Hashable):
            given = ", ".join(repr(n) for n in name) if isinstance(name, list) else repr(name)
            raise TypeError(
                f"dims must be given as separate arguments, not as {type(name).__name__} "
                f"{name!r}: `.grad.{method}({given})`"
            )
        dim, coord = _find(obj, name)
        if dim in seen:
            which = (
                f"dimension {dim!r} is given more than once"
                if seen[dim] == name
                else f"{seen[dim]!r} and {name!r} both lie along dimension {dim!r}"
            )
            raise ValueError(
                f"{which} in dims={_call(names)}; ask for each dimension once, e.g. "
                f"`.grad.{method}{_call(list(dict.fromkeys(names)))}`"
            )
        seen[dim] = name
        size = obj.sizes[dim]
        if size != size:  # NaN: a dask array whose chunk sizes are unknown (after a boolean mask)
            raise ValueError(
                f"dimension {dim!r} has unknown size (the dask array's chunk sizes along it are "
                "unknown); compute them first: "
                "`da = da.copy(data=da.data.compute_chunk_sizes())`"
            )
        size = int(size)
        if size < need:
            if accuracy != 2:
                option, fix = f"accuracy={accuracy}", "`accuracy=2` or more points"
            elif edge_order == 2:
                option, fix = "edge_order=2", "`edge_order=1` or more points"
            else:
                option, fix = "edge_order=1", "more points"
            raise ValueError(
                f"dimension {dim!r} has {size} point(s) but {option} needs at least {need}; "
                f"use {fix}"
            )
        if coord is None:
            spacings.append(Spacing(dim, name, size, 1.0, None, "index"))
            continue
        values, units, kind = _coordinate_values(name, dim, coord, unit)
        if datetime_unit is not None and kind == "numeric":
            values, units = _counted_times(name, values, units, unit)
        spacings.append(Spacing(dim, name, size, values, units, kind))
    return spacings


#: Nanoseconds per unit of the undecoded CF time coordinates ("hours since ..."), as udunits
#: spells them: exact integers, each a multiple of the finer ones. Months and years are no
#: fixed length and are not here.
NANOSECONDS_PER: dict[str, int] = {
    **dict.fromkeys(("ns", "nanosecond", "nanoseconds"), 1),
    **dict.fromkeys(("us", "microsecond", "microseconds"), 10**3),
    **dict.fromkeys(("ms", "millisecond", "milliseconds", "msec"), 10**6),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 10**9),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), 60 * 10**9),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600 * 10**9),
    **dict.fromkeys(("d", "day", "days"), 86400 * 10**9),
    **dict.fromkeys(("week", "weeks"), 7 * 86400 * 10**9),
    **dict.fromkeys(("common_year", "common_years"), 365 * 86400 * 10**9),  # udunits: 365 d
}


def _counted_times(
    name: Hashable, values: np.ndarray, units: str | None, datetime_unit: str
) -> tuple[np.ndarray, str | None]:
    """A numeric time coordinate ("hours since 2000-01-01", read with ``decode_times=False``)
    counted in ``datetime_unit``, which was given: it was ignored (the derivative stayed per
    hour, labelled so: an audit). Other numeric coordinates are returned as they are; counts
    of months or years (no fixed length) too, with a warning: the label says per month."""
    own = counts_time(units)
    if own is None:
        return values, units
    ns = NANOSECONDS_PER.get(own)
    if ns is None:
        warnings.warn(
            f"`datetime_unit={datetime_unit!r}` does not apply to coordinate {name!r}, which "
            f"counts {own} since a reference date ({units!r}): a {own.rstrip('s')} has no "
            "fixed length; the derivative is per unit of the coordinate, as its units say",
            UserWarning,
            stacklevel=outside_xgrad(),
        )
        return values, units
    target = int(np.timedelta64(1, datetime_unit) / np.timedelta64(1, "ns"))
    units = DATETIME_UNITS[datetime_unit]
    if ns == target:
        return values, units
    # from the first time (only differences count): 1.7e9 "seconds since 1970" in weeks kept
    # 7 digits of a 1 s step (a review); then the exact integer ratio of the units, one
    # rounding where one unit divides the other (a float ratio was 1 ulp off)
    values = values - values.min()
    if ns % target == 0:
        return values * (ns // target), units
    if target % ns == 0:
        return values / (target // ns), units
    return values * ns / target, units
