"""The batch pipeline of ``xgrad gradient`` (and ``xgrad demo``): open, choose, differentiate, write.

:func:`run_gradient` opens INPUT lazily with dask chunks, chooses the variables
(:func:`xgrad.variables.select_variables`), builds every derivative
(:func:`derivative_dataset`: one ``.grad.along(*dims)`` call per variable, so all dims share
one pass over the data; with ``--horizontal`` one ``Dataset.grad.horizontal()`` on the Earth
grid's variables), checks the output and plot paths, and only then computes: one dask
computation that streams chunks from INPUT to a hidden temporary next to OUTPUT, renamed into
place at the end (:func:`xgrad.cli.writing.write_dataset`). Memory stays at a few chunks per
worker thread, whatever the size of the data.
"""

from __future__ import annotations

import datetime
import os
import warnings
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from .. import __version__
from ..curvilinear import curvilinear_pairs
from ..geometry import cf_role
from ..variables import cf_metadata_variables, select_variables
from .errors import InputError, message
from .reading import input_format, open_input, warn_groups, zarr_format
from .schedulers import check_scheduler, scheduler
from .writing import check_output_path, output_format, write_dataset

__all__ = ["derivative_dataset", "run_gradient"]


def _dims_of(ds: xr.Dataset, along: Sequence[str]) -> list[Hashable]:
    """The dimension of each ``--along`` name (a dimension, or a 1-D coordinate along one)."""
    dims = []
    for name in along:
        if name in ds.dims:
            dims.append(name)
        elif name in ds.coords and ds[name].ndim == 1:
            dims.append(ds[name].dims[0])
        else:
            raise InputError(
                f"--along {name!r}: INPUT has no such dimension; its dimensions are "
                f"{tuple(map(str, ds.dims))!r}"
            )
    return dims


def derivative_dataset(
    ds: xr.Dataset,
    along: Sequence[str] | None,
    *,
    variables: Sequence[str] | None = None,
    options: Mapping[str, Any] | None = None,
    horizontal: bool = False,
) -> xr.Dataset:
    """The lazy derivatives ``d{var}_d{dim}`` of the chosen variables of ``ds``, as a Dataset.

    Parameters
    ----------
    ds : xarray.Dataset
    along : sequence of str or None
        Dimensions (or 1-D coordinates) to differentiate along; all in one pass per variable.
        None (or empty) with ``horizontal``.
    variables : sequence of str, optional
        Data variables (``--var``). By default every one that has all the ``along``
        dimensions (with ``horizontal``: those on an Earth grid, each on its own,
        :func:`xgrad.labelled.horizontal_grids`), except CF metadata (cell bounds, grid mappings:
        left out silently) and dtypes that cannot be differentiated (left out with a warning);
        see :func:`xgrad.variables.select_variables`.
    options : mapping, optional
        Keyword arguments for :meth:`DataArray.grad.along` (``geometry``, ``accuracy``, ...).
    horizontal : bool, default: False
        Eastward and northward derivatives per metre (``--horizontal``,
        :meth:`Dataset.grad.horizontal`), named ``d{var}_deast`` and ``d{var}_dnorth``.

    Returns
    -------
    xarray.Dataset
        One variable per (variable, dim), with the accessor's ``units`` and ``long_name``, and
        ``ds``'s global attributes.

    Raises
    ------
    InputError
        An unknown ``along`` name or variable, no Earth grid (``horizontal``), or nothing to
        differentiate.
    """
    from .. import accessor  # noqa: F401  (registers .grad)

    options = dict(options or {})
    if variables:
        # INPUT is opened with decode_coords="all", which makes CF bounds and grid mappings
        # coordinates, and a field named in another's `coordinates` attribute is one (the
        # orography of a hybrid-height file); one asked for by name is differentiated like any
        # data variable. Not the grid's latitude or longitude, which place the others
        metadata = cf_metadata_variables(ds)
        grid = {name for pair in curvilinear_pairs(ds) for name in pair}  # by CF or by name
        named = [
            v
            for v in variables
            if v in ds.coords
            and v not in ds.dims
            and (v in metadata or (cf_role(ds[v])[0] is None and v not in grid))
        ]
        if named:
            ds = ds.reset_coords(named)
    if horizontal:
        chosen, skipped, wanted = _on_grids(ds, variables, options)
    else:
        dims = _dims_of(ds, along or ())
        wanted = tuple(along or ())
        chosen, skipped = _select(ds, dims, variables)
    for left_out in skipped:
        if left_out.kind == "dtype":  # CF metadata (bounds, grid mappings) are no fields: silent
            warnings.warn(f"left out {left_out.name!r}: {left_out.reason}", stacklevel=2)
        elif left_out.kind == "flags":  # numbers, but not a field: named, it is differentiated
            warnings.warn(
                f"left out {left_out.name!r}: {left_out.reason}; name it with --var to "
                "differentiate it anyway",
                stacklevel=2,
            )
    if not chosen:
        raise InputError(
            f"no data variable of INPUT has all of the dimensions {wanted!r}; choose "
            f"one with --var (data variables: {tuple(map(str, ds.data_vars))!r})"
        )
    out: dict[str, xr.DataArray] = {}

    def put(name: str, result: xr.DataArray, source: str) -> None:
        if name in out:
            raise InputError(f"two outputs would both be named {name!r}; pick --var explicitly")
        out[name] = result.rename(name)
        mapping = ds[source].encoding.get("grid_mapping", ds[source].attrs.get("grid_mapping"))
        if mapping is not None:  # the derivative is on the source's grid
            out[name].attrs["grid_mapping"] = mapping

    if horizontal:
        # one plan per grid for all its variables: the grid's frame is computed once. The
        # coordinates all stay: a static field's grid may be WRF's XLAT(Time, y, x)
        others = [k for k, v in ds.data_vars.items() if v.ndim and k not in chosen]
        east, north = ds.drop_vars(others).grad.horizontal(**options)
        for var in chosen:
            put(f"d{var}_deast", east[var], var)
            put(f"d{var}_dnorth", north[var], var)
        return _with_bounds(xr.Dataset(out, attrs=dict(ds.attrs)), ds)
    for var in chosen:
        results = ds[var].grad.along(*(along or ()), **options)
        for dim, result in zip(along or (), results if isinstance(results, tuple) else (results,)):
            put(f"d{var}_d{dim}", result, var)
    return _with_bounds(xr.Dataset(out, attrs=dict(ds.attrs)), ds)


def _select(ds: xr.Dataset, dims: Any, variables: Any) -> tuple[list, list]:
    """``select_variables`` as the command line chooses (flags left out), its errors about
    ``--var``."""
    try:
        return select_variables(ds, dims, variables, leave_out_flags=True)
    except (ValueError, TypeError) as err:  # the messages start with the variable's name
        raise InputError(f"--var {message(err)}") from err


def _on_grids(ds: xr.Dataset, variables: Any, options: Mapping) -> tuple[list, list, tuple]:
    """The variables ``--horizontal`` differentiates, those left out, and the dims asked for
    (for the message where none is found). Every Earth grid of the file counts (a ROMS file
    has four: rho, u, v and psi points; :func:`xgrad.labelled.horizontal_grids`), or those of
    the variables named, each variable on its own grid."""
    from ..labelled import horizontal_grids, own_coordinates
    from ..options import Options

    own = own_coordinates(ds, variables) if variables else ds
    try:
        grids = horizontal_grids(own, Options(**options))
    except (ValueError, TypeError) as err:
        try:  # a named variable without the grid: the file's grid, and --var says why
            grids = horizontal_grids(ds, Options(**options)) if variables else None
        except (ValueError, TypeError):
            grids = None
        if grids is None:
            raise InputError(f"--horizontal: {message(err)}") from err
    chosen, skipped = [], []
    for dims, keys in grids.items():
        names = [v for v in variables or () if v in ds.data_vars and frozenset(ds[v].dims) in keys]
        if variables and not names:
            continue
        found, left_out = _select(ds, dims, names or None)
        chosen += [k for k in found if frozenset(ds[k].dims) in keys]
        skipped += [k for k in left_out if frozenset(ds[k.name].dims) in keys]
    wanted = tuple(map(str, next(iter(grids))))
    if variables:  # a name on no grid: select_variables says what it lacks
        missing = [v for v in variables if v not in chosen]
        for v in missing:
            if v in ds.data_vars and not any(set(dims) <= set(ds[v].dims) for dims in grids):
                on = " or ".join(repr(tuple(map(str, dims[::-1]))) for dims in grids)
                raise InputError(
                    f"--var {v!r} is on no Earth grid: its dimensions are "
                    f"{tuple(map(str, ds[v].dims))!r}; --horizontal differentiates variables on "
                    f"an Earth grid: {on}"
                )
        _select(ds, next(iter(grids)), missing)
        return list(variables), skipped, wanted
    return [k for k in ds.data_vars if k in chosen], skipped, wanted


def _with_bounds(out: xr.Dataset, ds: xr.Dataset) -> xr.Dataset:
    """``out`` with the cell bounds of its coordinates (``lat_bnds`` of ``lat``, named by a
    ``bounds`` attribute or, as ``decode_coords="all"`` leaves it, encoding): the derivatives
    are on the same cells, and regridders need them."""
    for name in list(out.coords):
        coord = ds.variables.get(name)
        if coord is None:
            continue
        bounds = coord.encoding.get("bounds", coord.attrs.get("bounds"))
        if isinstance(bounds, str) and bounds in ds.variables and bounds not in out.variables:
            out = out.assign_coords({bounds: ds.variables[bounds]})
            out[name].attrs["bounds"] = bounds
    return out


def _keep_layout(out: xr.Dataset, ds: xr.Dataset, input: str | os.PathLike) -> None:
    """Give ``out`` the input file's record dimension and Zarr format, in its encoding.

    A NetCDF input's unlimited (record) dims stay unlimited, so that later records can be
    appended to the output as to the input (``ncrcat``, ``to_netcdf(mode="a")``); a Zarr v2
    input gives a v2 output, which the same older readers can open. xarray reads the first from
    ``ds.encoding["unlimited_dims"]``; :func:`xgrad.cli.writing.write_dataset` the second from
    ``out.encoding["zarr_format"]``.
    """
    record = [d for d in ds.encoding.get("unlimited_dims", ()) if d in out.dims]
    if record:
        out.encoding["unlimited_dims"] = set(record)
    if input_format(Path(input)) == "zarr":
        version = zarr_format(Path(input))
        if version is not None:
            out.encoding["zarr_format"] = version


def _add_history(ds: xr.Dataset, command: str) -> None:
    # CF convention: newest first, one line per program run.
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    line = f"{stamp} xgrad {__version__}: {command}"
    old = ds.attrs.get("history")
    ds.attrs["history"] = f"{line}\n{old}" if old else line


def _check_apart(in_path: Path, out_path: Path) -> None:
    """InputError where writing OUTPUT would replace or write into INPUT: the same file (a
    link to it included), a Zarr store that holds INPUT (a group of it), or a path inside the
    INPUT store.  ``--overwrite`` replaces an earlier output, never the data being read."""
    if out_path.exists() and in_path.samefile(out_path):
        raise InputError("OUTPUT is INPUT; write the derivatives to a new file")
    inside, output = in_path.resolve(), out_path.resolve()
    if output in inside.parents:
        raise InputError(
            f"OUTPUT {str(out_path)!r} contains INPUT {str(in_path)!r}; writing it would replace "
            "the data being read: write the derivatives to a new path"
        )
    if inside in output.parents:
        raise InputError(
            f"OUTPUT {str(out_path)!r} lies inside INPUT {str(in_path)!r}; write the "
            "derivatives to a path outside it"
        )


def run_gradient(
    input: str | os.PathLike,
    output: str | os.PathLike,
    along: Sequence[str] | None,
    *,
    variables: Sequence[str] | None = None,
    options: Mapping[str, Any] | None = None,
    horizontal: bool = False,
    chunks: Mapping[str, int | str] | None = None,
    group: str | None = None,
    scheduler_spec: str = "threads",
    plot: str | os.PathLike | None = None,
    overwrite: bool = False,
    command: str | None = None,
) -> tuple[Path, list[str]]:
    """What ``xgrad gradient`` does: derivatives of INPUT written atomically to OUTPUT.

    Everything is checked and the whole graph built before anything is computed; those errors
    are :class:`xgrad.cli.errors.InputError`.

    Parameters
    ----------
    input : str or path-like
        NetCDF file or Zarr store.
    output : str or path-like
        ``*.nc`` or ``*.zarr``; written to a hidden sibling first, renamed when complete.
    along : sequence of str or None
        Dimensions to differentiate along (``--along``); None with ``horizontal``.
    variables : sequence of str, optional
        Data variables (``--var``); default: see :func:`derivative_dataset`.
    options : mapping, optional
        Keyword arguments for ``DataArray.grad.along`` (``geometry``, ``accuracy``, ...).
    horizontal : bool, default: False
        Eastward and northward derivatives on INPUT's Earth grid (``--horizontal``).
    chunks : mapping of str to int or "auto", optional
        Dask chunks for some dimensions (``--chunks``); the others get "auto".
    group : str, optional
        The group of INPUT to read (``--group``, e.g. ``"model/ocean"``); the root by default.
    scheduler_spec : str, default: "threads"
        ``threads``, ``processes``, ``synchronous`` or a distributed scheduler's address.
    plot : str or path-like, optional
        PNG of the first output variable, drawn from the written output.
    overwrite : bool, default: False
        Replace an existing OUTPUT (and PNG) once the new one is complete.
    command : str, optional
        The command line, recorded in the output's ``history`` attribute.

    Returns
    -------
    (pathlib.Path, list of str)
        The output path and the names of the variables written.
    """
    scheduler_spec = check_scheduler(scheduler_spec)  # a usage error: before reading anything
    ds = open_input(input, chunks, group=group)
    try:
        output_format(output)
        # OUTPUT is INPUT first: "pass --overwrite" would not help there
        _check_apart(Path(input), Path(output).absolute())
        out_path = check_output_path(output, overwrite=overwrite)
        if group is None:
            warn_groups(input)
        if plot is not None:
            from .plot import check_matplotlib

            if Path(plot).suffix.lower() != ".png":
                raise InputError(f"--plot {str(plot)!r}: name the plot '*.png'")
            try:
                check_matplotlib()
            except ImportError as err:
                raise InputError(str(err)) from err
            _check_apart(Path(input), Path(plot).absolute())  # not into the INPUT store
            plot = check_output_path(plot, overwrite=overwrite, what="plot")
        try:
            result = derivative_dataset(
                ds, along, variables=variables, options=options, horizontal=horizontal
            )
        except InputError:
            raise
        # the accessor's checks, all made while building the graph: bad input, exit status 2
        except (ValueError, TypeError, KeyError) as err:
            raise InputError(message(err)) from err
        how = "--horizontal" if horizontal else f"--along {' '.join(along or ())}"
        _add_history(result, command or f"xgrad gradient {input} {output} {how}")
        _keep_layout(result, ds, input)
        with scheduler(scheduler_spec) as compute:
            write_dataset(result, out_path, compute, overwrite=overwrite)
    finally:
        ds.close()
    if plot is not None:
        from .plot import plot_first

        try:
            plot_first(out_path, plot)
        except Exception as err:
            raise RuntimeError(
                f"wrote {str(out_path)!r}, but the plot failed: {message(err)}"
            ) from err
    return out_path, list(result.data_vars)
