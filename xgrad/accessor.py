"""The ``.grad`` accessor on :class:`xarray.DataArray` (the Dataset's is in
:mod:`xgrad.dataset_accessor`).

A thin layer: each method gathers its keyword options into an :class:`~xgrad.options.Options`,
plans the dimensions once (:func:`xgrad.labelled.prepare`: coordinates, periodic seams, the
Earth grid) and delegates to :mod:`xgrad.labelled` (``along``), :mod:`xgrad.horizontal`
(``horizontal``) or :mod:`xgrad.vector` (magnitude, Laplacian). The logic is written once for a
DataArray; the Dataset methods map it over the data variables. The options are listed in every
signature (no ``**kwargs``) and documented once, in :meth:`DataArrayGradAccessor.along`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import xarray as xr

from . import vector
from .arrays import is_expression_array
from .arrays import magnitude as numbers_of
from .coords import object_variables
from .horizontal import horizontal, plan_horizontal
from .labelled import derivatives, prepare
from .options import Options

__all__ = [
    "Boundary",
    "DataArrayGradAccessor",
    "GradAccessor",
    "Period",
    "expressions_via_legacy",
    "options_from",
]

Boundary = str | Mapping[Hashable, str]
Period = float | Mapping[Hashable, float] | None


def options_from(values: Mapping[str, Any]) -> Options:
    """The :class:`Options` record, by keyword, from a method's local variables."""
    return Options(**{name: values[name] for name in Options.names()})


class GradAccessor:
    """What both accessors hold: the xarray object."""

    __slots__ = ("_obj",)

    def __init__(self, obj: Any) -> None:
        self._obj = obj


def expressions_via_legacy(cls: type) -> type:
    """Make each public method of accessor class ``cls`` run on legacy dask graphs where the
    object holds arrays of dask's array expressions, and give back expression arrays of the
    same tasks (:mod:`xgrad.dask_expressions`); a no-op for everything else."""

    def wrapped(method: Callable) -> Callable:
        @functools.wraps(method)
        def run(self: GradAccessor, *args: Any, **kwargs: Any) -> Any:
            obj = self._obj
            variables = object_variables(obj)
            if not any(is_expression_array(numbers_of(v._data)) for v in variables):
                return method(self, *args, **kwargs)
            from .dask_expressions import expression_object, legacy_object

            legacy, originals = legacy_object(obj)
            return expression_object(method(type(self)(legacy), *args, **kwargs), originals)

        return run

    for name in dir(cls):
        if not name.startswith("_") and callable(getattr(cls, name)):
            setattr(cls, name, wrapped(getattr(cls, name)))
    return cls


@xr.register_dataarray_accessor("grad")
@expressions_via_legacy
class DataArrayGradAccessor(GradAccessor):
    """Derivatives of a DataArray: ``da.grad.along("x")``, ``.magnitude``, ``.laplacian``."""

    __slots__ = ()

    def along(
        self,
        *dims: Hashable,
        edge_order: int = 1,
        accuracy: int = 2,
        datetime_unit: str | None = None,
        geometry: str = "auto",
        radius: float | str | None = None,
        crs: Any = None,
        boundary: Boundary = "auto",
        period: Period = None,
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
            Unit of time coordinates and time data; None means seconds. Undecoded times
            ("hours since 2000-01-01") count in their own unit unless it is given.
        geometry : {"auto", "cartesian", "sphere"}, default: "auto"
            "cartesian": per coordinate unit (exactly ``DataArray.differentiate``). "sphere":
            per metre on the Earth along each horizontal grid dim (other dims keep their
            units): along a CF latitude ``(1/R) d/dphi``, along a CF longitude
            ``1/(R cos phi) d/dlambda`` (NaN exactly at the poles); on rotated-pole,
            projected (map scale factors) and curvilinear grids (2-D latitude/longitude)
            per metre along each grid line (see ``docs/guide/grids.md``); ValueError when
            no dim is horizontal. "auto": "sphere" when a dim belongs to such a grid, else
            "cartesian". The grid is recorded in ``xgrad_geometry``.
        radius : float, {"WGS84", "GRS80"} or None, default: None
            A sphere's radius in metres, or an ellipsoid (meridional and prime-vertical
            radii of curvature); None: the grid mapping's figure of the Earth, else the mean
            radius 6371008.8 m. Recorded in ``xgrad_radius``.
        crs : pyproj.CRS, dict of CF grid-mapping attributes or DataArray, optional
            The grid mapping of a projected or rotated-pole grid; None finds it through the
            data's ``grid_mapping`` attribute. ValueError where no grid uses it.
        boundary : {"auto", "edge", "periodic"} or mapping of dim to those, default: "auto"
            "edge": one-sided differences at the two ends. "periodic": wrap around, the seam's
            spacing being ``first + period - last``. "auto": periodic for a CF longitude with
            uniform spacing covering exactly one period (relative tolerance 1e-9), else edge.
            The choice is recorded in the result's ``xgrad_boundary`` attribute.
        period : float or mapping of dim to float, optional
            Period of periodic dims in coordinate units; a CF longitude defaults to 360 degrees
            (2 pi radians), a dim without coordinate to its length. Needed otherwise.
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
        >>> import numpy as np, xarray as xr, xgrad
        >>> da = xr.DataArray([0.0, 1.0, 4.0, 9.0], dims="x", coords={"x": [0, 1, 2, 3]},
        ...                   attrs={"units": "m"})
        >>> dx = da.grad.along("x")
        >>> dx.values, dx.attrs["units"]
        (array([1., 2., 4., 5.]), 'm')
        >>> da = da.assign_coords(x=da.x.assign_attrs(units="s"))
        >>> da.grad.along("x").attrs["units"]
        'm s-1'
        >>> lat = xr.DataArray([-10.0, 0.0, 10.0], dims="lat", attrs={"units": "degrees_north"})
        >>> t = xr.DataArray(np.array([280.0, 290.0, 300.0]), dims="lat", coords={"lat": lat},
        ...                  attrs={"units": "K"})
        >>> dt = t.grad.along("lat")  # geometry="auto" finds the sphere: per metre
        >>> float(dt[1].round(10)), dt.attrs["units"]
        (8.9932e-06, 'K m-1')
        """
        options = options_from(locals())
        out = derivatives(self._obj, prepare(self._obj, dims, options))
        return out[0] if len(out) == 1 else out

    def horizontal(
        self,
        *,
        edge_order: int = 1,
        accuracy: int = 2,
        datetime_unit: str | None = None,
        geometry: str = "auto",
        radius: float | str | None = None,
        crs: Any = None,
        boundary: Boundary = "auto",
        period: Period = None,
        nan: str = "propagate",
        keep_attrs: bool = True,
    ) -> tuple[xr.DataArray, xr.DataArray]:
        """Eastward and northward derivatives per metre, Earth-relative, on any Earth grid.

        The grid (regular latitude/longitude, rotated pole, projected, curvilinear) is found
        from the data's dims as in :meth:`along`; its two dims are differentiated in one
        pass and combined with the grid's local frame:
        ``[df/deast, df/dnorth] = J^-T [df/di, df/dj]`` with ``J`` the grid's Jacobian in
        metres (a rotation by the grid angle on an orthogonal grid). On a regular grid they
        are ``.grad.along(lon, lat)``.

        Parameters
        ----------
        edge_order, accuracy, datetime_unit, geometry, radius, crs, boundary, period, nan, keep_attrs
            As in :meth:`along` (``geometry`` "auto" or "sphere").

        Returns
        -------
        (DataArray, DataArray)
            ``df/deast`` and ``df/dnorth``; same dims, coords, name and chunks as the input;
            ``units`` data units per metre.

        See Also
        --------
        along, magnitude

        Examples
        --------
        >>> import numpy as np, xarray as xr, xgrad
        >>> lat = xr.DataArray([-10.0, 0.0, 10.0], dims="lat", attrs={"units": "degrees_north"})
        >>> lon = xr.DataArray([0.0, 10.0, 20.0], dims="lon", attrs={"units": "degrees_east"})
        >>> t = xr.DataArray(np.add.outer([280.0, 290.0, 300.0], [0.0, 1.0, 2.0]),
        ...                  dims=("lat", "lon"), coords={"lat": lat, "lon": lon},
        ...                  attrs={"units": "K"})
        >>> east, north = t.grad.horizontal()
        >>> float(north[1, 1].round(10)), east.attrs["units"], east.attrs["xgrad_geometry"]
        (8.9932e-06, 'K m-1', 'sphere')
        """
        options = options_from(locals())
        return horizontal(self._obj, plan_horizontal(self._obj, options))

    def magnitude(
        self,
        *dims: Hashable,
        edge_order: int = 1,
        accuracy: int = 2,
        datetime_unit: str | None = None,
        geometry: str = "auto",
        radius: float | str | None = None,
        crs: Any = None,
        boundary: Boundary = "auto",
        period: Period = None,
        nan: str = "propagate",
        keep_attrs: bool = True,
    ) -> xr.DataArray:
        """Magnitude of the gradient along ``dims``, ``sqrt(sum_i (df/dx_i)**2)``.

        All derivatives come from one pass over the data. The dims' coordinates must share
        units (metres for latitude and longitude on the sphere). On a rotated-pole, projected
        or curvilinear grid, over both its dims, it is the length of
        :meth:`horizontal`'s vector (right on a skewed grid too).

        Parameters
        ----------
        *dims : Hashable
            As in :meth:`along`.
        edge_order, accuracy, datetime_unit, geometry, radius, crs, boundary, period, nan, keep_attrs
            As in :meth:`along`.

        Returns
        -------
        DataArray
            Same dims, coords, name and chunks as the input; ``units`` data units per
            coordinate unit.

        See Also
        --------
        along, laplacian, numpy.hypot

        Examples
        --------
        >>> import numpy as np, xarray as xr, xgrad
        >>> x = np.arange(4.0)
        >>> da = xr.DataArray(3 * x[:, None] + 4 * x[None, :], dims=("x", "y"),
        ...                   coords={"x": x, "y": x})
        >>> np.unique(da.grad.magnitude("x", "y").values).tolist()
        [5.0]
        """
        options = options_from(locals())
        return vector.magnitude(self._obj, prepare(self._obj, dims, options, method="magnitude"))

    def laplacian(
        self,
        *dims: Hashable,
        edge_order: int = 1,
        accuracy: int = 2,
        datetime_unit: str | None = None,
        geometry: str = "auto",
        radius: float | str | None = None,
        crs: Any = None,
        boundary: Boundary = "auto",
        period: Period = None,
        nan: str = "propagate",
        keep_attrs: bool = True,
    ) -> xr.DataArray:
        """Laplacian along ``dims``: the sum of second derivatives.

        On the sphere (latitude and longitude dims) it is the spherical Laplacian
        ``1/(R^2 cos phi) d/dphi(cos phi df/dphi) + 1/(R^2 cos^2 phi) d2f/dlambda2``, NaN
        exactly at the poles. Compact second-derivative stencils of the requested accuracy
        (3, 5 or 7 points), all dims in one pass (see :mod:`xgrad.vector`). On a rotated-pole,
        projected or curvilinear grid (both its dims) the Laplace-Beltrami operator with the
        grid's metric (:mod:`xgrad.orthogonal`). A sphere only: an ellipsoid is refused.

        Parameters
        ----------
        *dims : Hashable
            As in :meth:`along`.
        edge_order, accuracy, datetime_unit, geometry, radius, crs, boundary, period, nan, keep_attrs
            As in :meth:`along`.

        Returns
        -------
        DataArray
            Same dims, coords, name and chunks as the input; ``units`` data units per
            coordinate unit squared (``"K m-2"``).

        See Also
        --------
        along, magnitude, DatasetGradAccessor.divergence

        Examples
        --------
        >>> import numpy as np, xarray as xr, xgrad
        >>> x = np.arange(6.0)
        >>> da = xr.DataArray(x**2, dims="x", coords={"x": x})
        >>> da.grad.laplacian("x", accuracy=4).values.round(12).tolist()
        [2.0, 2.0, 2.0, 2.0, 2.0, 2.0]
        """
        options = options_from(locals())
        return vector.laplacian(self._obj, prepare(self._obj, dims, options, method="laplacian"))
