"""The ``.grad`` accessor on :class:`xarray.DataArray` and :class:`xarray.Dataset`.

A thin layer: each method gathers its keyword options into an :class:`~xgrad.labelled.Options`,
plans the dimensions once (:func:`xgrad.labelled.prepare`: coordinates, periodic seams, the
Earth grid) and delegates to :mod:`xgrad.labelled` (``along``), :mod:`xgrad.horizontal`
(``horizontal``) or :mod:`xgrad.vector` (magnitude,
Laplacian, divergence, curl) and :mod:`xgrad.kinematics` (vector gradient, deformation,
advection, frontogenesis). The logic is written once for a DataArray; the Dataset methods map
it over the data variables. The options are listed in every signature (no ``**kwargs``) and
documented once, in :meth:`DataArrayGradAccessor.along`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

import xarray as xr

from . import kinematics, vector
from .grids import horizontal_dims
from .horizontal import horizontal, plan_horizontal
from .labelled import Plan, derivatives, prepare
from .options import Options
from .variables import check_differentiable, select_variables

__all__ = ["DataArrayGradAccessor", "DatasetGradAccessor"]

Boundary = str | Mapping[Hashable, str]
Period = float | Mapping[Hashable, float] | None


def _options(values: Mapping[str, Any]) -> Options:
    """The :class:`Options` record, by keyword, from a method's local variables."""
    return Options(**{name: values[name] for name in Options.names()})


class _GradAccessor:
    __slots__ = ("_obj",)

    def __init__(self, obj: Any) -> None:
        self._obj = obj


@xr.register_dataarray_accessor("grad")
class DataArrayGradAccessor(_GradAccessor):
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
            Unit of time coordinates and time data; None means seconds.
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
        options = _options(locals())
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
        options = _options(locals())
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
        options = _options(locals())
        return vector.magnitude(self._obj, prepare(self._obj, dims, options))

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
        options = _options(locals())
        return vector.laplacian(self._obj, prepare(self._obj, dims, options))


@xr.register_dataset_accessor("grad")
class DatasetGradAccessor(_GradAccessor):
    """Derivatives of a Dataset's data variables: ``ds.grad.along("x")``, ``.curl(...)``."""

    __slots__ = ()

    def _map(
        self,
        dims: tuple[Hashable, ...],
        options: Options,
        apply: Callable[[Any, Plan], tuple[xr.DataArray, ...]],
        outputs: int | None = None,
    ) -> tuple[xr.Dataset, ...]:
        """``apply`` to every data variable that has all ``dims``; one Dataset per output
        (``outputs`` of them; by default one per dim)."""
        ds = self._obj
        plan = prepare(ds, dims, options)
        wanted = list(dict.fromkeys(s.dim for s in plan.spacings))
        # One rule for which variables (xgrad.variables): CF metadata (bounds, grid mappings)
        # is left out; a variable whose dtype cannot be differentiated is an error here (a
        # library call), where the command line warns and skips it.
        names, skipped = select_variables(ds, wanted)
        for left_out in skipped:  # every dtype error before any graph is built
            if left_out.kind == "dtype":
                check_differentiable(ds[left_out.name])
        per_var = {k: apply(ds[k], plan) for k in names}
        attrs = dict(ds.attrs) if options.keep_attrs else {}
        count = len(plan.spacings) if outputs is None else outputs
        return tuple(
            xr.Dataset({k: per_var[k][i] for k in names}, coords=ds.coords, attrs=attrs)
            for i in range(count)
        )

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
        options = _options(locals())
        out = self._map(dims, options, derivatives)
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
    ) -> tuple[xr.Dataset, xr.Dataset]:
        """``DataArray.grad.horizontal`` of every data variable on the Earth grid.

        The grid is found from the Dataset's dims and coordinates (its grid mapping through
        the data variables' ``grid_mapping`` attribute); data variables without both grid
        dims are left out.

        Returns
        -------
        (Dataset, Dataset)
            The eastward and the northward derivatives.

        Examples
        --------
        >>> import numpy as np, xarray as xr, xgrad
        >>> ds = xr.Dataset({"t": (("lat", "lon"), np.ones((3, 4)))}, coords={
        ...     "lat": ("lat", [0.0, 1.0, 2.0], {"units": "degrees_north"}),
        ...     "lon": ("lon", [0.0, 1.0, 2.0, 3.0], {"units": "degrees_east"})})
        >>> east, north = ds.grad.horizontal()
        >>> float(abs(east["t"]).max())
        0.0
        """
        options = _options(locals())
        east, north = self._map(horizontal_dims(self._obj, options), options, horizontal, 2)
        return east, north

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
    ) -> xr.Dataset:
        """``DataArray.grad.magnitude`` of every data variable that has all ``dims``.

        Examples
        --------
        >>> import xarray as xr, xgrad
        >>> ds = xr.Dataset({"a": ("x", [0.0, -1.0, -2.0])})
        >>> ds.grad.magnitude("x")["a"].values.tolist()
        [1.0, 1.0, 1.0]
        """
        options = _options(locals())
        return self._map(dims, options, lambda da, plan: (vector.magnitude(da, plan),), 1)[0]

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
    ) -> xr.Dataset:
        """``DataArray.grad.laplacian`` of every data variable that has all ``dims``.

        Examples
        --------
        >>> import xarray as xr, xgrad
        >>> ds = xr.Dataset({"a": ("x", [0.0, 1.0, 4.0, 9.0, 16.0, 25.0])})
        >>> ds.grad.laplacian("x", accuracy=4)["a"].values.round(12).tolist()
        [2.0, 2.0, 2.0, 2.0, 2.0, 2.0]
        """
        options = _options(locals())
        return self._map(dims, options, lambda da, plan: (vector.laplacian(da, plan),), 1)[0]

    def divergence(
        self,
        components: Mapping[Hashable, Hashable],
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
    ) -> xr.DataArray:
        """Divergence of the vector field whose components are data variables.

        Cartesian: ``sum_i dF_i/dx_i``. On the sphere, with the longitude and latitude dims
        as keys (either order), the horizontal divergence
        ``1/(R cos phi) [du/dlambda + d(v cos phi)/dphi]`` (NaN exactly at the poles). On a
        rotated-pole, projected or curvilinear grid, components keyed by its two dims are
        along the grid lines and use the orthogonal-grid formula
        ``1/(hx hy) [d(hy u)/dx + d(hx v)/dy]``; keys ``"east"``/``"north"`` give
        Earth-relative components, for which the divergence is exact on any grid (see
        :mod:`xgrad.orthogonal`). A sphere only: an ellipsoid is refused.

        Parameters
        ----------
        components : mapping of dim to data variable name
            E.g. ``{"lon": "u", "lat": "v"}``: ``u`` is the component along ``lon``; or
            ``{"east": "u", "north": "v"}`` for Earth-relative components on any Earth grid.
        edge_order, accuracy, datetime_unit, geometry, radius, crs, boundary, period, nan, keep_attrs
            As in :meth:`DataArrayGradAccessor.along`.

        Returns
        -------
        DataArray
            Named "divergence", units component units per metre (or per coordinate unit),
            attributes those the components share (when ``keep_attrs``).

        See Also
        --------
        curl, DataArrayGradAccessor.along

        Examples
        --------
        >>> import numpy as np, xarray as xr, xgrad
        >>> x = np.arange(5.0)
        >>> ds = xr.Dataset({"u": (("y", "x"), np.tile(2 * x, (5, 1))),
        ...                  "v": (("y", "x"), np.tile(-x[:, None], (1, 5)))},
        ...                 coords={"x": x, "y": x})
        >>> np.unique(ds.grad.divergence({"x": "u", "y": "v"}).values).tolist()
        [1.0]
        """
        options = _options(locals())
        return vector.divergence(self._obj, components, options)

    def curl(
        self,
        components: Mapping[Hashable, Hashable],
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
    ) -> xr.DataArray:
        """Vertical component of the curl of a 2-D vector field, ``dv/dx - du/dy``.

        Cartesian: the first key is x, the second y. On the sphere (keys the longitude and
        latitude dims, either order) the relative vorticity
        ``1/(R cos phi) [dv/dlambda - d(u cos phi)/dphi]`` (NaN exactly at the poles). On a
        rotated-pole, projected or curvilinear grid: grid-relative components keyed by its
        two dims (orthogonal-grid formula ``1/(hx hy) [d(hy v)/dx - d(hx u)/dy]``), or
        Earth-relative ones keyed ``"east"``/``"north"`` (exact on any grid; see
        :mod:`xgrad.orthogonal`).

        Parameters
        ----------
        components : mapping of dim to data variable name
            Exactly two entries, e.g. ``{"lon": "u", "lat": "v"}`` or
            ``{"east": "u", "north": "v"}``.
        edge_order, accuracy, datetime_unit, geometry, radius, crs, boundary, period, nan, keep_attrs
            As in :meth:`DataArrayGradAccessor.along`.

        Returns
        -------
        DataArray
            Named "curl", units component units per metre (``"s-1"`` for a wind in
            ``"m s-1"`` on the sphere).

        See Also
        --------
        divergence, DataArrayGradAccessor.along

        Examples
        --------
        >>> import numpy as np, xarray as xr, xgrad
        >>> x = np.arange(5.0)
        >>> ds = xr.Dataset({"u": (("y", "x"), np.tile(-x[:, None], (1, 5))),
        ...                  "v": (("y", "x"), np.tile(x, (5, 1)))},
        ...                 coords={"x": x, "y": x})
        >>> np.unique(ds.grad.curl({"x": "u", "y": "v"}).values).tolist()  # solid rotation
        [2.0]
        """
        options = _options(locals())
        return vector.curl(self._obj, components, options)

    def vector_gradient(
        self,
        components: Mapping[Hashable, Hashable],
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
    ) -> xr.Dataset:
        """Gradient of a 2-D vector field: ``du/dx``, ``du/dy``, ``dv/dx``, ``dv/dy``.

        On the sphere (keys the longitude and latitude dims, either order, or ``"east"`` and
        ``"north"``) x is eastward and y northward in the local frame, with the sphere's metric
        terms (``tan(phi)/R`` analytic)::

            du/dx = u_lambda / (R cos phi) - v tan(phi) / R     du/dy = u_phi / R
            dv/dx = v_lambda / (R cos phi) + u tan(phi) / R     dv/dy = v_phi / R

        On an ellipsoid ``R`` is the prime-vertical radius of curvature ``N(phi)`` in the
        metric terms (and ``d/dy`` is per metre of meridian); on a rotated-pole grid the
        components are grid-relative and the frame is the rotated sphere's. Projected and
        curvilinear grids are a ValueError for now. In cartesian geometry the plain
        derivatives, x the first key. Each component is differentiated along both dims in one
        pass (see :mod:`xgrad.kinematics` and ``docs/guide/kinematics.md``).

        Parameters
        ----------
        components : mapping of dim to data variable name
            Exactly two entries, e.g. ``{"lon": "u", "lat": "v"}``.
        edge_order, accuracy, datetime_unit, geometry, radius, crs, boundary, period, nan, keep_attrs
            As in :meth:`DataArrayGradAccessor.along`.

        Returns
        -------
        Dataset
            ``d{u}_dx``, ``d{u}_dy``, ``d{v}_dx``, ``d{v}_dy`` (``u``, ``v`` the components'
            names), units component units per metre (``"s-1"`` for a wind in ``"m s-1"``).

        See Also
        --------
        deformation, curl, divergence, metpy.calc.vector_derivative

        Examples
        --------
        >>> import numpy as np, xarray as xr, xgrad
        >>> x = np.arange(5.0)
        >>> X, Y = np.meshgrid(x, x)
        >>> ds = xr.Dataset({"u": (("y", "x"), 2 * X - 3 * Y), "v": (("y", "x"), 5 * X + Y / 2)},
        ...                 coords={"x": x, "y": x})
        >>> g = ds.grad.vector_gradient({"x": "u", "y": "v"})
        >>> {k: np.unique(g[k].values).tolist() for k in g.data_vars}
        {'du_dx': [2.0], 'du_dy': [-3.0], 'dv_dx': [5.0], 'dv_dy': [0.5]}
        """
        options = _options(locals())
        return kinematics.vector_gradient(self._obj, components, options)

    def deformation(
        self,
        components: Mapping[Hashable, Hashable],
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
    ) -> xr.Dataset:
        """Stretching, shearing and total deformation of a 2-D vector field.

        ``stretching = du/dx - dv/dy``, ``shearing = dv/dx + du/dy``, ``total`` their hypot,
        from :meth:`vector_gradient` (metric terms included on the sphere); MetPy's definitions.
        The Okubo-Weiss parameter is
        ``d.stretching_deformation**2 + d.shearing_deformation**2 - ds.grad.curl(components)**2``.

        Parameters
        ----------
        components : mapping of dim to data variable name
            Exactly two entries, e.g. ``{"lon": "u", "lat": "v"}``.
        edge_order, accuracy, datetime_unit, geometry, radius, crs, boundary, period, nan, keep_attrs
            As in :meth:`DataArrayGradAccessor.along`.

        Returns
        -------
        Dataset
            ``stretching_deformation``, ``shearing_deformation``, ``total_deformation``.

        See Also
        --------
        vector_gradient, metpy.calc.total_deformation

        Examples
        --------
        >>> import numpy as np, xarray as xr, xgrad
        >>> x = np.arange(5.0)
        >>> X, Y = np.meshgrid(x, x)
        >>> ds = xr.Dataset({"u": (("y", "x"), 2 * X - 3 * Y), "v": (("y", "x"), 5 * X + Y / 2)},
        ...                 coords={"x": x, "y": x})
        >>> d = ds.grad.deformation({"x": "u", "y": "v"})
        >>> {k: np.unique(d[k].values).tolist() for k in d.data_vars}
        {'stretching_deformation': [1.5], 'shearing_deformation': [2.0], 'total_deformation': [2.5]}
        """
        options = _options(locals())
        return kinematics.deformation(self._obj, components, options)

    def advection(
        self,
        name: Hashable,
        components: Mapping[Hashable, Hashable],
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
    ) -> xr.DataArray:
        """Advection ``-(u df/dx + v df/dy)`` of data variable ``name`` by the components.

        ``f`` is differentiated along both dims in one pass (per metre on the sphere, x the
        longitude); MetPy's sign: positive where the wind brings higher values.

        Parameters
        ----------
        name : Hashable
            The data variable advected.
        components : mapping of dim to data variable name
            Exactly two entries, e.g. ``{"lon": "u", "lat": "v"}``.
        edge_order, accuracy, datetime_unit, geometry, radius, crs, boundary, period, nan, keep_attrs
            As in :meth:`DataArrayGradAccessor.along`.

        Returns
        -------
        DataArray
            Named "advection", laid out as ``name``; units ``name``'s per second for a wind in
            ``"m s-1"`` (``"K s-1"``).

        See Also
        --------
        frontogenesis, metpy.calc.advection

        Examples
        --------
        >>> import numpy as np, xarray as xr, xgrad
        >>> x = np.arange(5.0)
        >>> X, Y = np.meshgrid(x, x)
        >>> ds = xr.Dataset({"T": (("y", "x"), X + 2 * Y), "u": (("y", "x"), 0 * X + 1),
        ...                  "v": (("y", "x"), 0 * X + 1)}, coords={"x": x, "y": x})
        >>> np.unique(ds.grad.advection("T", {"x": "u", "y": "v"}).values).tolist()
        [-3.0]
        """
        options = _options(locals())
        return kinematics.advection(self._obj, name, components, options)

    def frontogenesis(
        self,
        name: Hashable,
        components: Mapping[Hashable, Hashable],
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
    ) -> xr.DataArray:
        """2-D Petterssen frontogenesis of data variable ``name`` by the components.

        ``-(f_x**2 du/dx + f_x f_y (du/dy + dv/dx) + f_y**2 dv/dy) / |grad f|``: the rate of
        change of ``|grad f|`` following the flow, positive where the front strengthens (MetPy's
        definition and sign); 0 where ``grad f`` is exactly zero. The vector gradient
        includes the sphere's metric terms (:meth:`vector_gradient`).

        Parameters
        ----------
        name : Hashable
            The data variable (e.g. potential temperature).
        components : mapping of dim to data variable name
            Exactly two entries, e.g. ``{"lon": "u", "lat": "v"}``.
        edge_order, accuracy, datetime_unit, geometry, radius, crs, boundary, period, nan, keep_attrs
            As in :meth:`DataArrayGradAccessor.along`.

        Returns
        -------
        DataArray
            Named "frontogenesis", laid out as ``name``; units ``"K m-1 s-1"`` for a temperature
            in K and a wind in ``"m s-1"`` on the sphere.

        See Also
        --------
        advection, deformation, metpy.calc.frontogenesis

        Examples
        --------
        >>> import numpy as np, xarray as xr, xgrad
        >>> x = np.arange(5.0)
        >>> X, Y = np.meshgrid(x, x)
        >>> ds = xr.Dataset({"T": (("y", "x"), X), "u": (("y", "x"), -X),
        ...                  "v": (("y", "x"), 0 * X)}, coords={"x": x, "y": x})
        >>> np.unique(ds.grad.frontogenesis("T", {"x": "u", "y": "v"}).values).tolist()
        [1.0]
        """
        options = _options(locals())
        return kinematics.frontogenesis(self._obj, name, components, options)
