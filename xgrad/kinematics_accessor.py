"""The kinematics methods of the Dataset ``.grad`` accessor: vector gradient, deformation,
advection and frontogenesis (:mod:`xgrad.kinematics`), written as a base class of
:class:`xgrad.dataset_accessor.DatasetGradAccessor` so that each stays a thin, documented
signature (options as in :meth:`xgrad.accessor.DataArrayGradAccessor.along`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import xarray as xr

from . import kinematics
from .accessor import Boundary, GradAccessor, Period, options_from

__all__ = ["KinematicsMethods"]


class KinematicsMethods(GradAccessor):
    """``ds.grad.vector_gradient``, ``.deformation``, ``.advection``, ``.frontogenesis``."""

    __slots__ = ()

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
        components are grid-relative and the frame is the rotated sphere's. On projected and
        curvilinear grids, grid-relative components take the orthogonal-grid formulas with the
        grid's scale factors, x and y along the grid lines (ValueError where the grid lines
        depart from a right angle by more than :data:`xgrad.orthogonal.MAX_SKEW_DEGREES`,
        projected ones by more than :data:`xgrad.orthogonal.MAX_PROJECTED_SKEW_DEGREES`);
        Earth-relative ones (``{"east": "u", "north": "v"}``) hold on any skew, x along the x
        lines and y 90 degrees to its left (the frame is right-handed on every grid, so
        ``dv_dx - du_dy`` is the relative vorticity). In cartesian geometry the plain
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
            names), units component units per metre (``"s-1"`` for a wind in ``"m s-1"``),
            each laid out as the x (east) component.

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
        options = options_from(locals())
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
            ``stretching_deformation``, ``shearing_deformation``, ``total_deformation``, each
            laid out as the x (east) component.

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
        options = options_from(locals())
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
        options = options_from(locals())
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
        options = options_from(locals())
        return kinematics.frontogenesis(self._obj, name, components, options)
