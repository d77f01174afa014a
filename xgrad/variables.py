"""Which data variables of a Dataset to differentiate: one rule for every entry point.

:func:`select_variables` decides for ``xgrad gradient`` (and is meant for the Dataset accessor):

- variables named explicitly must be data variables, have all the dimensions and a dtype that
  can be differentiated; anything else is an error naming the variable and the fix;
- otherwise every data variable with all the dimensions is taken, except CF metadata
  variables (cell bounds and grid mappings: they describe the grid, they are not fields) and
  variables whose dtype cannot be differentiated (flags stored as strings, booleans); those are
  returned as :class:`Skipped`, with the reason, for the caller to report or not.

:func:`dtype_problem` is the one dtype decision: numbers (integer, float, complex), datetime64
and timedelta64, and in-memory object arrays of (cf)datetimes. :func:`check_differentiable`
raises on the rest, for a single DataArray.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Literal, NamedTuple

import numpy as np
import xarray as xr

from .arrays import is_quantity
from .coords import is_time_like

__all__ = [
    "Skipped",
    "cf_metadata_variables",
    "check_differentiable",
    "dtype_problem",
    "select_variables",
]

# CF attributes that name the variables holding a coordinate's cell bounds ("climatology":
# the bounds of a climatological time axis, CF 1.11 section 7.4).
_BOUNDS_ATTRS = ("bounds", "climatology")


class Skipped(NamedTuple):
    """A data variable :func:`select_variables` left out, and why."""

    name: Hashable
    #: what to tell a user: ``"its dtype <U2 is not numeric"``, ``"cell bounds of 'lat'"``
    reason: str
    #: ``"dtype"`` (cannot be differentiated), ``"bounds"`` or ``"grid_mapping"`` (CF metadata),
    #: ``"flags"`` (numbers that name states or roles, not a field: CF flags, ``cf_role``)
    kind: Literal["dtype", "bounds", "grid_mapping", "flags"]


def dtype_problem(da: xr.DataArray) -> str | None:
    """None when ``da`` can be differentiated, judged from its dtype; else its dtype, as said.

    Nothing is computed or loaded, except that an object-dtype variable's data is looked at
    (an in-memory array of cftime datetimes can be differentiated; a chunked one cannot).
    The data of pint quantities are judged by their magnitude.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> dtype_problem(xr.DataArray(np.arange(3))) is None
    True
    >>> dtype_problem(xr.DataArray(np.array(["a", "b"])))
    '<U1'
    """
    kind = da.dtype.kind  # a pint quantity's dtype is its magnitude's
    if kind in "iufcmM":
        return None
    if kind != "O":
        return str(da.dtype)
    data = da.data.magnitude if is_quantity(da.data) else da.data
    if isinstance(data, np.ndarray):
        return None if is_time_like(data) else str(da.dtype)
    return CHUNKED_OBJECTS


#: What :func:`dtype_problem` says of chunked object data (cftime values on dask: an audit
#: found the advice `astype(float)`, which fails for them; loaded, they are differentiated).
CHUNKED_OBJECTS = "object (chunked)"
_LOAD = (
    "cftime values are differentiated in memory: load them first, `da.load()`; other objects: "
    "convert them, e.g. `da.astype(float)`"
)


def check_differentiable(da: xr.DataArray, *, in_dataset: bool = False) -> None:
    """TypeError, naming ``da`` and the fix, when :func:`dtype_problem` finds one.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> check_differentiable(xr.DataArray(np.array(["a"]), name="s"))
    Traceback (most recent call last):
    ...
    TypeError: data variable 's' has dtype <U1 and cannot be differentiated; xgrad needs numbers, datetime64 or (in memory) cftime values. Convert it first, e.g. `da.astype(float)`
    """
    what = dtype_problem(da)
    if what is not None:
        raise TypeError(
            f"data variable {da.name!r} has dtype {what} and cannot be differentiated; xgrad "
            "needs numbers, datetime64 or (in memory) cftime values. "
            + (_LOAD if what == CHUNKED_OBJECTS else "Convert it first, e.g. `da.astype(float)`")
            + (
                f", or leave it out: `ds.drop_vars({da.name!r})` (a Dataset method "
                "differentiates every data variable that has the dims)"
                if in_dataset
                else ""
            )
        )


def _named_in(value: object) -> list[str]:
    """Variable names in a ``bounds`` or ``grid_mapping`` attribute.

    ``grid_mapping`` has two forms (CF 1.7+): ``"crs"``, or ``"crsA: lat lon crsB: x y"``
    where the names are the words ending in a colon.
    """
    if not isinstance(value, str):
        return []
    words = value.split()
    if any(w.endswith(":") for w in words):
        return [w[:-1] for w in words if w.endswith(":")]
    return words


def cf_metadata_variables(ds: xr.Dataset) -> dict[Hashable, Skipped]:
    """The CF metadata variables of ``ds`` (cell bounds, grid mappings), as :class:`Skipped`.

    A cell-bounds variable is one named in some variable's ``bounds`` (or ``climatology``)
    attribute; a grid-mapping variable is one named in a ``grid_mapping`` attribute, or one
    with a ``grid_mapping_name`` attribute. Attributes that xarray moved to ``encoding`` when
    decoding (``decode_coords="all"``) count too.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> ds = xr.Dataset(
    ...     {"T": ("lat", np.ones(3), {"grid_mapping": "crs"}),
    ...      "lat_bnds": (("lat", "nv"), np.ones((3, 2))), "crs": ((), 0)},
    ...     coords={"lat": ("lat", [0.0, 1.0, 2.0], {"bounds": "lat_bnds"})},
    ... )
    >>> {k: v.reason for k, v in cf_metadata_variables(ds).items()}
    {'crs': "grid mapping of 'T'", 'lat_bnds': "cell bounds of 'lat'"}
    """
    found: dict[Hashable, Skipped] = {}
    for owner, var in ds.variables.items():
        where: Mapping[Hashable, object]
        for where in (var.attrs, var.encoding):
            for attr in _BOUNDS_ATTRS:
                for name in _named_in(where.get(attr)):
                    if name in ds.variables and name not in found:
                        found[name] = Skipped(name, f"cell bounds of {owner!r}", "bounds")
            for name in _named_in(where.get("grid_mapping")):
                if name in ds.variables and name not in found:
                    found[name] = Skipped(name, f"grid mapping of {owner!r}", "grid_mapping")
    for name, var in ds.variables.items():
        if "grid_mapping_name" in var.attrs and name not in found:
            mapping = var.attrs["grid_mapping_name"]
            found[name] = Skipped(name, f"grid mapping {mapping!r}", "grid_mapping")
    return found


def select_variables(
    ds: xr.Dataset,
    dims: Iterable[Hashable],
    names: Iterable[Hashable] | None = None,
    *,
    leave_out_flags: bool = False,
) -> tuple[list[Hashable], list[Skipped]]:
    """The data variables of ``ds`` to differentiate along ``dims``, and those left out.

    Parameters
    ----------
    ds : xarray.Dataset
    dims : iterable of hashable
        Dimension names (not coordinate names): a variable must have all of them.
    names : iterable of hashable, optional
        Variables asked for by name. Each must be a data variable with all of ``dims`` and a
        dtype that can be differentiated (:func:`dtype_problem`); nothing is left out then.
        Without ``names``: every data variable with all of ``dims``, except CF metadata
        (:func:`cf_metadata_variables`) and dtypes that cannot be differentiated.
    leave_out_flags : bool, default False
        Without ``names``, also leave out numbers that are no field (CF flag variables,
        status or quality flags, variables with a ``cf_role``): the command line's choice;
        the ``Dataset.grad`` methods differentiate every data variable with the dims.

    Returns
    -------
    chosen : list of hashable
        In the order of ``names``, or of ``ds.data_vars``.
    skipped : list of Skipped
        Data variables with all of ``dims`` that were left out (only without ``names``);
        variables without them are neither chosen nor listed.

    Raises
    ------
    ValueError
        A name that is not a data variable, is given twice, or lacks one of ``dims``.
    TypeError
        A name whose dtype cannot be differentiated. The messages start with the name, so a
        caller can put its option's name in front (``--var 'u' is not a data variable ...``).

    See Also
    --------
    xarray.Dataset.differentiate

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> ds = xr.Dataset(
    ...     {"T": (("y", "x"), np.ones((2, 3))), "flag": ("x", np.array(["a", "b", "c"])),
    ...      "h": ("y", np.ones(2))}
    ... )
    >>> chosen, skipped = select_variables(ds, ["x"])
    >>> chosen, [(s.name, s.reason) for s in skipped]
    (['T'], [('flag', 'its dtype <U1 is not numeric')])
    >>> select_variables(ds, ["x"], names=["h"])
    Traceback (most recent call last):
    ...
    ValueError: 'h' does not have the dimension 'x'; its dimensions are ('y',)
    """
    wanted = list(dims)
    if names is not None:
        chosen = list(names)
        for name in chosen:
            _check_named(ds, name, wanted, twice=chosen.count(name) > 1)
        return chosen, []
    metadata = cf_metadata_variables(ds)
    chosen, skipped = [], []
    for name, var in ds.data_vars.items():
        if not set(wanted) <= set(var.dims):
            continue
        if name in metadata:
            skipped.append(metadata[name])
        elif (what := dtype_problem(var)) is not None:
            skipped.append(Skipped(name, f"its dtype {what} is not numeric", "dtype"))
        elif leave_out_flags and (role := _not_a_field(var)) is not None:
            skipped.append(Skipped(name, role, "flags"))
        else:
            chosen.append(name)
    return chosen, skipped


def _not_a_field(var: xr.DataArray) -> str | None:
    """Why numeric ``var`` is no field to differentiate (its numbers name states or roles: CF
    flags, a status or quality flag, a ``cf_role`` such as UGRID connectivity), or None."""
    for attr in ("flag_values", "flag_masks", "flag_meanings"):
        if attr in var.attrs:
            return f"a CF flag variable (it has {attr!r})"
    standard_name = str(var.attrs.get("standard_name", ""))
    if standard_name.endswith(("status_flag", "quality_flag")):
        return f"a flag (standard_name {standard_name!r})"
    if "cf_role" in var.attrs:
        return f"it has cf_role {var.attrs['cf_role']!r}"
    return None


def _check_named(ds: xr.Dataset, name: Hashable, dims: list[Hashable], *, twice: bool) -> None:
    if name not in ds.data_vars:
        where = " (it is a coordinate)" if name in ds.coords else ""
        raise ValueError(
            f"{name!r} is not a data variable{where}; the data variables are "
            f"{tuple(ds.data_vars)!r}"
        )
    if twice:
        raise ValueError(f"{name!r} is named twice; name each variable once")
    var = ds[name]
    missing = [d for d in dims if d not in var.dims]
    if missing:
        raise ValueError(
            f"{name!r} does not have the dimension {missing[0]!r}; its dimensions are {var.dims!r}"
        )
    what = dtype_problem(var)
    if what is not None:
        fix = (
            "cftime values are differentiated in memory; the command line reads variables "
            f"chunked: differentiate it in Python, `ds[{name!r}].load().grad.along(...)`"
            if what == CHUNKED_OBJECTS
            else f"Convert it first, e.g. `ds[{name!r}] = ds[{name!r}].astype(float)`"
        )
        raise TypeError(
            f"{name!r} has dtype {what} and cannot be differentiated; xgrad needs numbers, "
            f"datetime64 or (in memory) cftime values. {fix}, or leave it out"
        )
