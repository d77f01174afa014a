"""The ``.grad`` accessor on :class:`xarray.Dataset`: the DataArray methods
(:mod:`xgrad.accessor`) mapped over the data variables, the vector operators (divergence, curl:
:mod:`xgrad.vector`) and, from :class:`~xgrad.kinematics_accessor.KinematicsMethods`, the
kinematics.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

import xarray as xr

from . import vector
from .accessor import Boundary, Period, expressions_via_legacy, options_from
from .horizontal import horizontal
from .kinematics_accessor import KinematicsMethods
from .labelled import Plan, coordinates_on, derivatives, horizontal_grids, on_grid, prepare
from .options import Options
from .variables import check_differentiable, select_variables

__all__ = ["DatasetGradAccessor"]


def _staggered_plans(
    ds: xr.Dataset, dims: tuple, options: Options, method: str, err: ValueError, frame: bool
) -> dict[frozenset, Plan]:
    """One plan per set of dims among the data variables, where the Dataset as a whole has none
    (a staggered grid: T on ``(lat, lon)`` and v on ``(lat_v, lon)`` give two latitudes for a
    derivative along ``lon``). Each set is planned with the coordinates on its dims only; ``err``
    (the Dataset's error) is raised where that does not help: no set, or a set that fails."""
    plans = {}
    for key in dict.fromkeys(frozenset(ds.variables[k].dims) for k in ds.data_vars):
        if not set(dims) <= key:
            continue
        try:
            plans[key] = prepare(coordinates_on(ds, key), dims, options, frame=frame, method=method)
        except ValueError:
            raise err from None
    if not plans:  # one set is enough: the coordinates dropped are on no variable differentiated
        raise err
    return plans


@xr.register_dataset_accessor("grad")
@expressions_via_legacy
class DatasetGradAccessor(KinematicsMethods):
    """Derivatives of a Dataset's data variables: ``ds.grad.along("x")``, ``.curl(...)``."""

    __slots__ = ()

    def _map(
        self,
        dims: tuple[Hashable, ...],
        options: Options,
        apply: Callable[[Any, Plan], tuple[xr.DataArray, ...]],
        outputs: int | None = None,
        method: str = "along",
        frame: bool = False,
    ) -> tuple[xr.Dataset, ...]:
        """``apply`` to every data variable that has all ``dims``; one Dataset per output
        (``outputs`` of them; by default one per dim). ``method``: the ``.grad`` method."""
        ds = self._obj
        try:
            plan = prepare(ds, dims, options, frame=frame, method=method)
            plans = None
        except ValueError as err:
            plans = _staggered_plans(ds, dims, options, method, err, frame)
            plan = next(iter(plans.values()))
        names = self._chosen(list(dict.fromkeys(s.dim for s in plan.spacings)))
        per_var = {
            k: apply(ds[k], plan if plans is None else plans[frozenset(ds[k].dims)]) for k in names
        }
        return self._datasets(per_var, len(plan.spacings) if outputs is None else outputs, options)

    def _chosen(self, dims: Any) -> list[Hashable]:
        """The data variables with all ``dims``. One rule for which variables
        (xgrad.variables): CF metadata (bounds, grid mappings) is left out; a variable whose
        dtype cannot be differentiated is an error here (a library call), where the command
        line warns and skips it."""
        names, skipped = select_variables(self._obj, dims)
        for left_out in skipped:  # every dtype error before any graph is built
            if left_out.kind == "dtype":
                check_differentiable(self._obj[left_out.name], in_dataset=True)
        return names

    def _datasets(self, per_var: dict, count: int, options: Options) -> tuple[xr.Dataset, ...]:
        """``count`` Datasets of the results ``per_var`` (name -> one result per output), in
        the order of the data variables, with the Dataset's coordinates (and attributes)."""
        ds = self._obj
        names = [k for k in ds.data_vars if k in per_var]
        attrs = dict(ds.attrs) if options.keep_attrs else {}
        return tuple(
            xr.Dataset({k: per_var[k][i] for k in names}, coords=ds.coords, attrs=attrs)
            for i in range(count)
        )

    def _map_grids(
        self, grids: dict[tuple, list[frozenset]], options: Options
    ) -> tuple[xr.Dataset, ...]:
        """``horizontal`` of the data variables of several Earth grids (``grids``: a grid's
        dims -> the sets of dims of its variables), each planned on its own coordinates."""
        ds = self._obj
        work = []
        for dims, keys in grids.items():  # every plan and check before any derivative
            plan = on_grid(
                ds, keys, lambda part, d=dims: prepare(part, d, options, frame=True), dims
            )
            work += [(k, plan) for k in self._chosen(dims) if frozenset(ds[k].dims) in keys]
        return self._datasets({k: horizontal(ds[k], plan) for k, plan in work}, 2, options)

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
        options = options_from(locals())
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
        """``DataArray.grad.horizontal`` of every data variable on an Earth grid.

        Each variable's grid is found from its dims and the coordinates on them (the grid
        mapping through the data variables' ``grid_mapping`` attribute): a Dataset with several
        grids (ROMS's rho, u, v and psi points) gets every variable on its own grid, bit for bit
        its own ``.grad.horizontal()``. Data variables on no grid are left out; a grid that
        cannot be used is an error.

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
        options = options_from(locals())
        grids = horizontal_grids(self._obj, options)
        if len(grids) > 1:
            east, north = self._map_grids(grids, options)
        else:
            east, north = self._map(next(iter(grids)), options, horizontal, 2, frame=True)
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
        options = options_from(locals())
        return self._map(
            dims, options, lambda da, plan: (vector.magnitude(da, plan),), 1, "magnitude"
        )[0]

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
        options = options_from(locals())
        return self._map(
            dims, options, lambda da, plan: (vector.laplacian(da, plan),), 1, "laplacian"
        )[0]

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
            Named "divergence", laid out as the x component, units component units per
            metre (or per coordinate unit), attributes those the components share (when
            ``keep_attrs``).

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
        options = options_from(locals())
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
            Named "curl", laid out as the x component, units component units per metre
            (``"s-1"`` for a wind in ``"m s-1"`` on the sphere).

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
        options = options_from(locals())
        return vector.curl(self._obj, components, options)
