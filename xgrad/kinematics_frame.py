"""Checking a kinematics call and finding its frame, before anything is built.

:func:`plan_frame` validates ``components`` and the options of a :mod:`xgrad.kinematics`
method and finds its :class:`xgrad.local_frame.Frame` (x and y, which component is along which,
the Earth grid's kind, Earth-relative keys); :func:`check_variables` checks the variables it
differentiates (dims, dtypes, pint, the components' units) and :func:`scalar_name` the scalar
of advection and frontogenesis. Every error names the offending value and gives the fix.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from .arrays import is_quantity
from .grids import horizontal_dims
from .labelled import (
    Options,
    check_dtype,
    cubed_alike,
    numeric_data,
    one_grid,
    own_coordinates,
    prepare,
    quantify_hint,
)
from .local_frame import Frame
from .orthogonal import is_orthogonal, require_orthogonal
from .units import check_component_units

# Private helper of xgrad.vector, shared on purpose (one definition):
from .vector import _check_same_units

__all__ = ["check_variables", "plan_frame", "scalar_name"]

_EXAMPLE = "{'lon': 'u', 'lat': 'v'}"


def _call(operator: str, name: Hashable | None) -> str:
    return f"ds.grad.{operator}({'' if name is None else f'{name!r}, '}{_EXAMPLE})"


def _earth_relative(operator: str, keys: Any, why: str) -> ValueError:
    return ValueError(
        f"{operator}: components keyed {keys!r} are Earth-relative (eastward and northward); "
        f"{why}. Give grid-relative components keyed by the grid's dims, e.g. "
        f"`{_call(operator, None)}`"
    )


def _earth_keys(ds: xr.Dataset, components: Mapping, operator: str, options: Options) -> Mapping:
    """``{"east": u, "north": v}`` -> keyed by the x and y dims of the Earth grid (on any grid
    but a regular latitude/longitude one :func:`xgrad.local_frame.winds` rotates them)."""
    keys = set(components)
    if not {k for k in keys if k in ("east", "north") and k not in ds.dims}:
        return components
    if keys != {"east", "north"}:
        raise _earth_relative(operator, sorted(map(str, keys)), "give both, 'east' and 'north'")
    try:  # the components' own grid (a B grid's T on another is refused later, by name)
        x, y = horizontal_dims(
            own_coordinates(ds, [components["east"], components["north"]]), options
        )
    except ValueError as err:
        raise _earth_relative(operator, ["east", "north"], f"but {err}") from err
    return {x: components["east"], y: components["north"]}


def _one_layout(arrays: dict, u: Hashable, v: Hashable, rotated: bool) -> dict:
    """``arrays`` with ``v`` laid out as ``u`` where they have the same dims in another order
    (a lazy view) and are ``rotated`` onto the grid lines together (combined elementwise)."""
    if rotated and arrays[u].dims != arrays[v].dims and set(arrays[u].dims) == set(arrays[v].dims):
        return arrays | {v: arrays[v].transpose(*arrays[u].dims)}
    return arrays


def plan_frame(
    ds: xr.Dataset, components: Any, options: Options, operator: str, name: Hashable = None
) -> Frame:
    """Validate ``components`` (and the options) and find x and y; every error before building."""
    if not isinstance(components, Mapping):
        raise TypeError(
            f"components={components!r} must be a mapping of dimension to data variable name, "
            f"e.g. `{_call(operator, name)}`"
        )
    earth = set(components) == {"east", "north"} and not set(components) & set(ds.dims)
    components = _earth_keys(ds, components, operator, options)
    if len(components) != 2:
        raise ValueError(
            f"{operator} needs exactly 2 components (dimension: data variable), got "
            f"{len(components)}: {dict(components)!r}; e.g. `{_call(operator, name)}`"
        )
    for var in components.values():
        if not isinstance(var, Hashable) or var not in ds.data_vars:
            raise ValueError(
                f"components names {var!r}, which is not a data variable of this Dataset; data "
                f"variables are {tuple(ds.data_vars)!r}"
            )
    (kx, u), (ky, v) = components.items()
    arrays = {k: ds[k] for k in dict.fromkeys([u, v, *([] if name is None else [name])])}
    one_grid(operator, arrays, (kx, ky))
    arrays = dict(zip(arrays, cubed_alike(list(arrays.values())), strict=True))
    plan = prepare(ds, [kx, ky], options)
    x, y = plan.spacings
    kind = None if plan.grid is None else plan.grid.kind
    if earth and kind is None:
        raise _earth_relative(
            operator, ["east", "north"], "in cartesian geometry there is no east or north"
        )
    if kind in ("projected", "curvilinear"):
        grid = plan.grid
        if {kx, ky} != set(grid.dims) or len(grid.dims) != 2:
            raise ValueError(
                f"{operator} on a {kind} grid needs the components along its two dims "
                f"{grid.dims!r} (grid-relative), e.g. `{{{grid.x!r}: 'u', {grid.y!r}: 'v'}}`, or "
                "Earth-relative ones: `{'east': 'u', 'north': 'v'}`"
            )
        if x.dim != grid.x:  # x is the grid's x dim, whatever the order given
            x, y, u, v = y, x, v, u
        # Earth-relative components: the general form on a curvilinear grid, and on a projected
        # one whose lines are not orthogonal; grid-relative ones: orthogonal-grid formulas
        general = earth and (kind == "curvilinear" or not is_orthogonal(ds, plan))
        if not general:
            require_orthogonal(ds, plan, operator)
        _grid_angle(ds, plan, earth)
        arrays = _one_layout(arrays, u, v, earth)
        return Frame(
            x=x,
            y=y,
            u=u,
            v=v,
            sphere=False,
            plan=plan,
            kind=kind,
            earth=earth,
            general=general,
            arrays=arrays,
        )
    roles = [x.role, y.role]
    sphere = kind is not None
    if sphere and sorted(map(str, roles)) != ["latitude", "longitude"]:
        raise ValueError(
            f"{operator} on the sphere needs the longitude and latitude dims as keys; "
            f"{x.dim!r} and {y.dim!r} are {roles[0] or 'neither'} and {roles[1] or 'neither'} "
            "(recognised by units 'degrees_east'/'degrees_north' or standard_name). Mark them, "
            "or differentiate per coordinate unit: `geometry='cartesian'`"
        )
    if sphere and roles[0] == "latitude":  # x is the longitude, whatever the order given
        x, y, u, v = y, x, v, u
    if not sphere:
        _check_same_units(operator, [x, y])
    _grid_angle(ds, plan, earth and kind == "rotated_pole")
    arrays = _one_layout(arrays, u, v, earth and kind == "rotated_pole")
    return Frame(
        x=x, y=y, u=u, v=v, sphere=sphere, plan=plan, kind=kind, earth=earth, arrays=arrays
    )


def _grid_angle(ds: xr.Dataset, plan: Any, needed: bool) -> None:
    """The grid's local frame (cached in the plan), so that its errors (a rotated pole without
    its grid mapping) come before anything is built."""
    if needed:
        from .horizontal import frame_metric

        frame_metric(plan, ds)


def check_variables(frame: Frame, operator: str, names: list[Hashable]) -> None:
    """Dims, dtypes, pint and units of the variables differentiated (the components' units
    must agree); nothing is built."""
    every = list(dict.fromkeys([*names, frame.u, frame.v]))
    for var in every:
        da = frame.arrays[var]
        for s in (frame.x, frame.y) if var in names else ():
            if s.dim not in da.dims:
                raise ValueError(
                    f"{operator} differentiates data variable {var!r} along {s.dim!r}, but its "
                    f"dims are {da.dims!r}; give variables that have both dimensions"
                )
        check_dtype(da)
        if np.dtype(getattr(da.data, "magnitude", da.data).dtype).kind == "c":
            raise TypeError(
                f"{operator}: data variable {var!r} is complex; the kinematics are defined for "
                f"real fields. Take its real part first, e.g. `ds[{var!r}].real`"
            )
    quantified = [is_quantity(frame.arrays[k].data) for k in every]
    if any(quantified) and not all(quantified):
        raise ValueError(
            f"{operator}: some variables are pint quantities and some are not; quantify all of "
            f"them: {quantify_hint({k: frame.arrays[k] for k in every}, (frame.u, frame.v))}"
        )
    a, b = (numeric_data(frame.arrays[k], frame.plan)[1] for k in (frame.u, frame.v))
    check_component_units(operator, frame.u, a, frame.v, b)


def scalar_name(ds: xr.Dataset, name: Any, operator: str) -> Hashable:
    if not isinstance(name, Hashable) or name not in ds.data_vars:
        raise ValueError(
            f"{operator}: {name!r} is not a data variable of this Dataset; data variables are "
            f"{tuple(ds.data_vars)!r}; e.g. `ds.grad.{operator}('T', {_EXAMPLE})`"
        )
    return name
