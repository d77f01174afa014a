"""The ``.grad`` accessor on :class:`xarray.DataArray` and :class:`xarray.Dataset`.

A thin layer: validate the options, build one :class:`~xgrad.coords.Spacing` per dimension
(:mod:`xgrad.coords`), choose geometry and boundary per dimension (:func:`_plan`, the one place
where the sphere and periodic seams will slot in), call :func:`xgrad.gradient.gradient` once for all
dimensions, and wrap the results with coordinates, name and attributes (:mod:`xgrad.units`). The
logic is written once for a DataArray; the Dataset accessor maps it over the data variables.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from .coords import DATETIME_UNITS, Spacing, is_time_like, resolve_spacings, time_to_numbers
from .gradient import gradient
from .units import _clean, derivative_attrs

__all__ = ["DataArrayGradAccessor", "DatasetGradAccessor"]

EDGE_ORDERS = (1, 2)
ACCURACIES = (2, 4, 6)
NAN_MODES = ("propagate", "one-sided")
GEOMETRIES = ("auto", "cartesian", "sphere")
BOUNDARIES = ("auto", "edge", "periodic")


def _choice(option: str, value: Any, choices: tuple[Any, ...]) -> None:
    if isinstance(value, bool) or value not in choices:
        raise ValueError(
            f"{option}={value!r} is not valid; choose one of {choices}, "
            f"e.g. `{option}={choices[-1]!r}`"
        )


def _check_options(
    obj: Any,
    *,
    edge_order: Any,
    accuracy: Any,
    nan: Any,
    geometry: Any,
    boundary: Any,
    period: Any,
    radius: Any,
    keep_attrs: Any,
) -> None:
    """Raise for invalid option values, before anything else happens."""
    _choice("edge_order", edge_order, EDGE_ORDERS)
    _choice("accuracy", accuracy, ACCURACIES)
    _choice("nan", nan, NAN_MODES)
    _choice("geometry", geometry, GEOMETRIES)
    if isinstance(boundary, Mapping):
        for dim, value in boundary.items():
            if dim not in obj.dims:
                raise ValueError(
                    f"boundary names {dim!r}, which is not a dimension; dimensions are "
                    f"{tuple(obj.dims)!r}"
                )
            _choice(f"boundary[{dim!r}]", value, BOUNDARIES)
    else:
        _choice("boundary", boundary, BOUNDARIES)
    if (
        isinstance(radius, bool)
        or not isinstance(radius, numbers.Real)
        or not (math.isfinite(radius) and radius > 0)
    ):
        raise ValueError(
            f"radius={radius!r} must be a positive number of metres, e.g. `radius=6371008.8`"
        )
    if period is not None:
        raise ValueError(
            f"period={period!r} is only used with boundary='periodic', which this version of "
            "xgrad does not have yet; leave it out: `period=None`"
        )
    if not isinstance(keep_attrs, (bool, np.bool_)):
        raise TypeError(f"keep_attrs={keep_attrs!r} must be True or False")


def _plan(obj: Any, spacings: list[Spacing], *, geometry: str, boundary: Any) -> list[str]:
    """Choose geometry and boundary per dimension; return the boundary name of each.

    This is the hook for the sphere (refine ``Spacing`` to metres, metric factors) and periodic
    seams (``Spacing`` with a period). Until they exist, "auto" means cartesian with edge
    boundaries, and asking for them explicitly is an error rather than a silent fallback.
    """
    if geometry == "sphere":
        raise ValueError(
            "geometry='sphere' is not available in this version of xgrad yet; use "
            "`geometry='cartesian'` for derivatives per coordinate unit (e.g. per degree)"
        )
    choices = []
    for spacing in spacings:
        choice = boundary.get(spacing.dim, "auto") if isinstance(boundary, Mapping) else boundary
        if choice == "periodic":
            raise ValueError(
                f"boundary='periodic' (for dimension {spacing.dim!r}) is not available in this "
                "version of xgrad yet; use `boundary='edge'` (one-sided differences at the ends)"
            )
        choices.append("edge")
    return choices


def _is_quantity(data: Any) -> bool:
    return type(data).__module__.startswith("pint") and hasattr(data, "magnitude")


def _check_dtype(da: xr.DataArray) -> None:
    """TypeError for data that cannot be differentiated, from the dtype alone (nothing computed)."""
    data = da.data.magnitude if _is_quantity(da.data) else da.data
    kind = data.dtype.kind
    if kind in "iufcmM" or (kind == "O" and isinstance(data, np.ndarray) and is_time_like(data)):
        return
    what = "object (chunked)" if kind == "O" and not isinstance(data, np.ndarray) else data.dtype
    raise TypeError(
        f"data variable {da.name!r} has dtype {what} and cannot be differentiated; xgrad needs "
        "numbers, datetime64 or (in memory) cftime values. Convert it first, e.g. "
        "`da.astype(float)`"
    )


def _numeric_data(da: xr.DataArray, datetime_unit: str) -> tuple[Any, str | None]:
    """The array to differentiate and its units; times become numbers in ``datetime_unit``."""
    _check_dtype(da)
    data = da.data
    units = da.attrs.get("units")
    if _is_quantity(data):
        units, data = str(data.units), data.magnitude
    if data.dtype.kind in "mMO":
        return time_to_numbers(data, datetime_unit), DATETIME_UNITS[datetime_unit]
    return data, None if units is None else str(units)


def _pint_units(data: Any, spacing: Spacing) -> Any:
    """pint units of the derivative of quantified ``data`` (pint-xarray) along ``spacing``."""
    reg = data._REGISTRY
    num = data.units
    if not reg.Quantity(1, num)._is_multiplicative:
        (name,) = num._units  # degC: differences are in delta_degC
        num = reg.Unit(f"delta_{name}")
    coord = _clean(spacing.units)
    if coord is None:
        return num
    try:
        den = reg.Unit(coord)
    except Exception as err:  # pint's errors vary by version; all mean "cannot parse"
        raise ValueError(
            f"the units of coordinate {spacing.name!r} ({coord!r}) are unknown to the pint "
            f"registry of the data; quantify the coordinate too: "
            f"`da.pint.quantify({{{spacing.name!r}: 'm'}})` with its real units"
        ) from err
    return num / den


def _differentiate(
    da: xr.DataArray,
    spacings: list[Spacing],
    boundaries: list[str],
    *,
    edge_order: int,
    accuracy: int,
    nan: str,
    datetime_unit: str,
    keep_attrs: bool,
) -> tuple[xr.DataArray, ...]:
    """Derivatives of one DataArray along each spacing's dim, in one call to xgrad.gradient."""
    data, data_units = _numeric_data(da, datetime_unit)
    quantified = _is_quantity(da.data)
    if quantified:  # units first: a unit error must come before any graph is built
        pint_units = [_pint_units(da.data, s) for s in spacings]
    axes = tuple(da.get_axis_num(s.dim) for s in spacings)
    results = gradient(
        data,
        *(s.values for s in spacings),
        axis=axes,
        edge_order=edge_order,
        accuracy=accuracy,
        nan=nan,
    )
    if len(axes) == 1:
        results = (results,)
    out = []
    for i, (spacing, choice, result) in enumerate(zip(spacings, boundaries, results, strict=True)):
        attrs = derivative_attrs(
            da.attrs,
            name=da.name,
            data_units=data_units,
            coord_units=spacing.units,
            wrt=spacing.name,
            boundary=choice,
            keep_attrs=keep_attrs,
            write_units=not quantified,
        )
        if quantified:
            result = da.data._REGISTRY.Quantity(result, pint_units[i])
        # A new DataArray, not da.copy(data=...): the input's encoding (dtype, scale_factor,
        # _FillValue) describes the input's values and must not be used to write the derivative.
        out.append(xr.DataArray(result, coords=da.coords, dims=da.dims, name=da.name, attrs=attrs))
    return tuple(out)


class _GradAccessor:
    __slots__ = ("_obj",)

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def _prepare(
        self,
        dims: tuple[Hashable, ...],
        *,
        edge_order: int,
        accuracy: int,
        datetime_unit: str | None,
        geometry: str,
        radius: float,
        boundary: Any,
        period: Any,
        nan: str,
        keep_attrs: bool,
    ) -> tuple[list[Spacing], list[str], dict[str, Any]]:
        obj = self._obj
        _check_options(
            obj,
            edge_order=edge_order,
            accuracy=accuracy,
            nan=nan,
            geometry=geometry,
            boundary=boundary,
            period=period,
            radius=radius,
            keep_attrs=keep_attrs,
        )
        spacings = resolve_spacings(
            obj, dims, edge_order=edge_order, accuracy=accuracy, datetime_unit=datetime_unit
        )
        boundaries = _plan(obj, spacings, geometry=geometry, boundary=boundary)
        options = dict(
            edge_order=edge_order,
            accuracy=accuracy,
            nan=nan,
            datetime_unit=datetime_unit or "s",
            keep_attrs=bool(keep_attrs),
        )
        return spacings, boundaries, options


@xr.register_dataarray_accessor("grad")
class DataArrayGradAccessor(_GradAccessor):
    """Derivatives of a DataArray: ``da.grad.along("x")``."""

    __slots__ = ()

    def along(
        self,
        *dims: Hashable,
        edge_order: int = 1,
        accuracy: int = 2,
        datetime_unit: str | None = None,
        geometry: str = "auto",
        radius: float = 6371008.8,
        boundary: str | Mapping[Hashable, str] = "auto",
        period: float | Mapping[Hashable, float] | None = None,
        nan: str = "propagate",
        keep_attrs: bool = True,
    ) -> xr.DataArray | tuple[xr.DataArray, ...]:
        """Derivative along each named dimension, spaced by its coordinate.

        Parameters
        ----------
        *dims : Hashable
            Dimensions to differentiate along, or 1-D coordinates (then along the coordinate's
            dimension, spaced by that coordinate). Without a coordinate the spacing is 1.
        edge_order : {1, 2}, default: 1
            Order of the one-sided differences at the two ends (accuracy 2 only).
        accuracy : {2, 4, 6}, default: 2
            Order of the stencils; 2 is numpy's.
        datetime_unit : {"W", "D", "h", "m", "s", "ms", "us", "ns"}, optional
            Unit of time coordinates and time data; None means seconds.
        geometry : {"auto", "cartesian", "sphere"}, default: "auto"
            "auto" and "cartesian": derivatives per coordinate unit. "sphere" is not available
            in this version yet.
        radius : float, default: 6371008.8
            Radius of the sphere in metres (for ``geometry="sphere"``).
        boundary : {"auto", "edge", "periodic"} or mapping of dim to those, default: "auto"
            "auto" and "edge": one-sided differences at the two ends. "periodic" is not
            available in this version yet.
        period : float or mapping, optional
            Period for periodic boundaries (not available yet; must be None).
        nan : {"propagate", "one-sided"}, default: "propagate"
            Missing values: numpy's behaviour, or one-sided stencils around them.
        keep_attrs : bool, default: True
            Keep the input's attributes; ``units`` and ``long_name`` are always rewritten.

        Returns
        -------
        DataArray or tuple of DataArray
            One per dim, in the order given; same dims, coords, name and chunks as the input.

        See Also
        --------
        xgrad.gradient, numpy.gradient, xarray.DataArray.differentiate

        Examples
        --------
        >>> import xarray as xr, xgrad
        >>> da = xr.DataArray([0.0, 1.0, 4.0, 9.0], dims="x", coords={"x": [0, 1, 2, 3]},
        ...                   attrs={"units": "m"})
        >>> dx = da.grad.along("x")
        >>> dx.values, dx.attrs["units"]
        (array([1., 2., 4., 5.]), 'm')
        >>> da = da.assign_coords(x=da.x.assign_attrs(units="s"))
        >>> da.grad.along("x").attrs["units"]
        'm s-1'
        """
        spacings, boundaries, options = self._prepare(
            dims,
            edge_order=edge_order,
            accuracy=accuracy,
            datetime_unit=datetime_unit,
            geometry=geometry,
            radius=radius,
            boundary=boundary,
            period=period,
            nan=nan,
            keep_attrs=keep_attrs,
        )
        out = _differentiate(self._obj, spacings, boundaries, **options)
        return out[0] if len(out) == 1 else out


@xr.register_dataset_accessor("grad")
class DatasetGradAccessor(_GradAccessor):
    """Derivatives of every data variable of a Dataset: ``ds.grad.along("x")``."""

    __slots__ = ()

    def along(
        self,
        *dims: Hashable,
        edge_order: int = 1,
        accuracy: int = 2,
        datetime_unit: str | None = None,
        geometry: str = "auto",
        radius: float = 6371008.8,
        boundary: str | Mapping[Hashable, str] = "auto",
        period: float | Mapping[Hashable, float] | None = None,
        nan: str = "propagate",
        keep_attrs: bool = True,
    ) -> xr.Dataset | tuple[xr.Dataset, ...]:
        """Derivative of every data variable that has all ``dims``; see ``DataArray.grad.along``.

        Data variables without all the dims are left out; coordinates are kept, and the
        Dataset's attributes too when ``keep_attrs``. Every variable is checked before any is
        differentiated, so an error leaves nothing half done.

        Returns
        -------
        Dataset or tuple of Dataset
            One per dim, in the order given.

        See Also
        --------
        xgrad.gradient, numpy.gradient, xarray.Dataset.differentiate

        Examples
        --------
        >>> import xarray as xr, xgrad
        >>> ds = xr.Dataset({"a": ("x", [0.0, 1.0, 4.0]), "b": ("y", [1.0, 2.0])})
        >>> list(ds.grad.along("x").data_vars)
        ['a']
        """
        ds = self._obj
        spacings, boundaries, options = self._prepare(
            dims,
            edge_order=edge_order,
            accuracy=accuracy,
            datetime_unit=datetime_unit,
            geometry=geometry,
            radius=radius,
            boundary=boundary,
            period=period,
            nan=nan,
            keep_attrs=keep_attrs,
        )
        wanted = {s.dim for s in spacings}
        names = [k for k, v in ds.data_vars.items() if wanted <= set(v.dims)]
        for k in names:  # every dtype error before any graph is built
            _check_dtype(ds[k])
        per_var = {k: _differentiate(ds[k], spacings, boundaries, **options) for k in names}
        attrs = dict(ds.attrs) if options["keep_attrs"] else {}
        out = tuple(
            xr.Dataset({k: per_var[k][i] for k in names}, coords=ds.coords, attrs=attrs)
            for i in range(len(spacings))
        )
        return out[0] if len(out) == 1 else out
