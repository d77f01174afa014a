"""NetCDF and Zarr input for the command line: open lazily, check before computing.

:func:`open_input` opens a NetCDF file or a Zarr store with dask chunks and turns every way a file
can be unreadable into an :class:`~xgrad.cli.errors.InputError` (exit status 2). A truncated
classic (NetCDF-3) file opens without complaint in netCDF-C and reads as zeros, so its header is
checked against its size here (:func:`_check_classic_size`). Writing is :mod:`xgrad.cli.writing`.
"""

from __future__ import annotations

import json
import os
import re
import struct
import warnings
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .errors import InputError

__all__ = ["input_format", "is_zarr_store", "open_input", "zarr_format"]

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def is_zarr_store(path: Path) -> bool:
    return path.is_dir() and any(
        (path / name).exists() for name in ("zarr.json", ".zgroup", ".zarray", ".zmetadata")
    )


def input_format(path: Path) -> str:
    """``"zarr"``, ``"netcdf3"`` or ``"netcdf4"``, from the store layout or the file's signature."""
    if not path.exists():
        raise InputError(f"input {str(path)!r} does not exist")
    if path.is_dir():
        if is_zarr_store(path):
            if _is_zarr_array(path):
                raise InputError(
                    f"input {str(path)!r} is a Zarr array, not a group: give the store (or "
                    "group) that holds it, with its coordinates, and choose it with --var"
                )
            return "zarr"
        raise InputError(f"input {str(path)!r} is a directory but not a Zarr store")
    with open(path, "rb") as f:
        head = f.read(8)
    if head[:3] == b"CDF" and head[3:4] in (b"\x01", b"\x02", b"\x05"):
        return "netcdf3"
    if head == _HDF5_SIGNATURE:
        return "netcdf4"
    raise InputError(
        f"input {str(path)!r} is neither a NetCDF file (no NetCDF or HDF5 signature at its start) "
        "nor a Zarr store"
    )


def _is_zarr_array(path: Path) -> bool:
    """Whether the Zarr store at ``path`` is an array (v2 ``.zarray``, v3 ``node_type``)."""
    if (path / ".zarray").is_file():
        return True
    try:
        return json.loads((path / "zarr.json").read_text()).get("node_type") == "array"
    except (OSError, ValueError, AttributeError):
        return False


def _check_classic_size(path: Path) -> None:
    """InputError when a NetCDF-3 file is shorter than its header says (a truncated copy).

    Parses just enough of the classic header (CDF-1, CDF-2 and CDF-5) to find where the last
    variable ends: ``begin + vsize`` for fixed-size variables, and ``numrecs`` records for
    record variables.
    """
    with open(path, "rb") as f:
        data = f.read(1 << 20)
    pos = 4
    version = data[3]
    big = version == 5  # CDF-5: 64-bit counts and offsets
    offset64 = version in (2, 5)

    def read(fmt: str) -> int:
        nonlocal pos
        (value,) = struct.unpack_from(">" + fmt, data, pos)
        pos += struct.calcsize(fmt)
        return value

    def count() -> int:
        return read("Q" if big else "I")

    def skip(nbytes: int) -> None:
        nonlocal pos
        pos += (nbytes + 3) // 4 * 4  # everything is padded to 4 bytes

    def name() -> None:
        skip(count())

    sizes = {1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 6: 8, 7: 1, 8: 2, 9: 4, 10: 8, 11: 8}

    def attributes() -> None:
        read("I")  # tag (NC_ATTRIBUTE or ABSENT)
        for _ in range(count()):
            name()
            nc_type = read("I")
            skip(count() * sizes[nc_type])

    try:
        numrecs = count()
        read("I")  # NC_DIMENSION or ABSENT
        dim_lengths = []
        for _ in range(count()):
            name()
            dim_lengths.append(count())
        attributes()
        read("I")  # NC_VARIABLE or ABSENT
        fixed_end, records = 0, []
        for _ in range(count()):
            name()
            dimids = [count() for _ in range(count())]
            attributes()
            read("I")  # nc_type
            vsize = count()
            begin = read("Q" if offset64 else "I")
            if dimids and dim_lengths[dimids[0]] == 0:  # the unlimited (record) dimension
                records.append((begin, vsize))
            else:
                fixed_end = max(fixed_end, begin + vsize)
    except struct.error:
        if len(data) < 1 << 20:  # we read the whole file and its header stops short
            raise InputError(
                f"input {str(path)!r} is truncated: the file ends inside its NetCDF header"
            ) from None
        return  # a header longer than 1 MiB: leave it to the NetCDF library
    except (IndexError, KeyError):
        return  # not a header we understand; the NetCDF library will say what is wrong
    need = fixed_end
    streaming = numrecs in (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF)
    if records and numrecs and not streaming:
        recsize = sum(v for _, v in records)
        need = max(need, max(b + (numrecs - 1) * recsize + v for b, v in records))
    size = path.stat().st_size
    if size < need:
        raise InputError(
            f"input {str(path)!r} is truncated: its NetCDF header describes {need} bytes of data "
            f"but the file has {size}; copy it again"
        )


def open_input(
    path: str | os.PathLike,
    chunks: Mapping[str, int | str] | None = None,
    *,
    group: str | None = None,
) -> xr.Dataset:
    """Open a NetCDF file or Zarr store lazily, as dask arrays.

    Parameters
    ----------
    path : str or path-like
        A NetCDF file (classic or NetCDF-4) or a Zarr store (v2 or v3).
    chunks : mapping of str to int or "auto", optional
        Chunk sizes for some dimensions; the others, and all of them without ``chunks``, get
        dask's "auto" chunks, which are whole multiples of the file's own chunks.
    group : str, optional
        The group to read (NetCDF-4 or Zarr; ``"a/b"`` for a nested one); the root if None.

    Returns
    -------
    xarray.Dataset
        Nothing is read but metadata and index coordinates. Opened with
        ``decode_coords="all"``: cell bounds and grid mappings are coordinates, and each
        variable's ``grid_mapping`` is in its encoding, where the Earth grid is looked up.

    Raises
    ------
    InputError
        Missing, truncated or unreadable input, or a chunk size for an unknown dimension.
    """
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", str(path)):
        raise InputError(
            f"input {str(path)!r} is a URL; the command line reads local files and stores "
            "(copy it first, or differentiate it in Python: `xr.open_zarr(url).grad.along(...)`)"
        )
    path = Path(path)
    fmt = input_format(path)
    if fmt == "netcdf3":
        _check_classic_size(path)
    engine = _backend(fmt)
    kind = "a Zarr store" if fmt == "zarr" else "NetCDF"
    if group is not None:
        _check_group(path, fmt, group)
    where = {} if group is None else {"group": group}
    try:
        with warnings.catch_warnings():
            # Stores written without consolidated metadata are fine to read; xarray's fallback
            # warning about it is noise here.
            warnings.filterwarnings(
                "ignore", message=".*consolidated metadata", category=RuntimeWarning
            )
            # --chunks that split the file's chunks are the user's explicit choice, and xarray's
            # advice to "rechunk after loading" is not something a command-line user can act on.
            warnings.filterwarnings("ignore", message="The specified chunks separate")
            # An integer variable with a NaN _FillValue (or missing_value): no integer is NaN,
            # so nothing is missing; xarray drops the attribute and reads every value as stored.
            # The derivatives written are right, so this is not the user's concern
            # (test_nan_fill_value_on_integers_is_not_warned_about).
            warnings.filterwarnings(
                "ignore",
                message=r"variable .* has non-conforming '(_FillValue|missing_value)'",
                category=xr.SerializationWarning,
            )
            decode_times: bool | dict = True
            try:
                meta = xr.open_dataset(path, engine=engine, chunks=None, **where)
            except Exception as err:
                if "unable to decode time units" not in str(err):  # a readable file, times not CF's
                    raise
                decode_times = _times_as_numbers(path, engine, where, err)
                meta = xr.open_dataset(
                    path, engine=engine, chunks=None, decode_times=decode_times, **where
                )
            with meta:
                dims = dict(meta.sizes)
                dangling = _dangling_grid_mappings(meta)
            # Decoding warnings that do matter (several fill values, all masked) were given by
            # the open above; the same decoding again must not repeat them.
            warnings.filterwarnings("ignore", category=xr.SerializationWarning)
            unknown = [d for d in (chunks or {}) if d not in dims]
            if unknown:
                raise InputError(
                    f"--chunks names {unknown[0]!r}, which is not a dimension of {str(path)!r}; "
                    f"its dimensions are {tuple(dims)!r}"
                )
            spec = {d: "auto" for d in dims} | dict(chunks or {})
            opened = xr.open_dataset(
                path,
                engine=engine,
                chunks=spec,
                decode_coords="all",
                decode_times=decode_times,
                **where,
            )
    except InputError:
        raise
    except Exception as err:  # every backend has its own exception types for a bad file
        raise InputError(
            f"could not read {str(path)!r} as {kind} (is it truncated or in another format?): "
            f"{type(err).__name__}: {err}"
        ) from err
    for name, mapping in dangling.items():
        # decode_coords="all" drops a grid_mapping that names no variable (with xarray's
        # warning); kept, the library says what it means where the grid needs it (an audit: a
        # projected grid in km was differentiated per km without map factors, exit 0)
        opened[name].attrs["grid_mapping"] = mapping
    if fmt == "zarr":
        _warn_zero_fill(opened, path)
    return opened


def _dangling_grid_mappings(ds: xr.Dataset) -> dict[Hashable, str]:
    """``{variable: grid_mapping}`` for the variables whose ``grid_mapping`` attribute (CF
    1.7's ``"crs: x y"`` form too) names a variable that ``ds`` does not have."""
    from ..crs import _attribute_name

    return {
        name: mapping
        for name, var in ds.data_vars.items()
        if (named := _attribute_name(mapping := var.attrs.get("grid_mapping"))) is not None
        and named not in ds.variables
    }


def _warn_zero_fill(ds: xr.Dataset, path: Path) -> None:
    """Warn about float variables of a Zarr v2 store whose fill_value is 0: xarray reads a v2
    array's fill_value as missing data (a v3 one's not), so every exact 0 becomes NaN, and the
    derivatives next to it. 0 is what zarr writes where none was given (an audit: a
    precipitation field, 210 zeros of 441 values, gave 273 NaN derivatives, exit 0).
    NaN fill values (xarray's own for floats) mask nothing that is data."""
    if zarr_format(path) != 2:
        return
    for name, var in ds.variables.items():
        fill = var.encoding.get("_FillValue")
        if var.dtype.kind == "f" and fill is not None and np.ndim(fill) == 0 and fill == 0:
            warnings.warn(
                f"Zarr v2 variable {name!r} has fill_value 0, which xarray reads as missing: "
                "its exact zeros are NaN here, and the derivatives next to them; if 0 is data, "
                "differentiate it in Python from "
                "`xr.open_zarr(path, mask_and_scale=False)`",
                stacklevel=3,
            )


def _times_as_numbers(
    path: Path, engine: str, where: Mapping[str, str], err: Exception
) -> dict[Hashable, bool]:
    """``decode_times`` leaving the times xarray cannot decode (``months since`` in a standard
    calendar, an unparsable reference date) as numbers in their units, with their cell bounds
    (which xarray decodes with their time's units), each with a warning: refusing the file
    refused ``--along lat lon`` for a time axis it does not differentiate (an audit). Along
    such a time the derivative is per those units (``K month-1``)."""
    failed = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the real open, after, gives the decoding warnings
        with xr.open_dataset(path, engine=engine, chunks=None, decode_times=False, **where) as raw:
            for name, var in raw.variables.items():
                if " since " not in str(var.attrs.get("units", "")):
                    continue
                try:
                    xr.decode_cf(xr.Dataset({name: var}))
                except Exception as problem:  # xarray's own reasons, quoted below
                    failed[name] = (str(var.attrs["units"]), str(problem).split(". Try")[0])
            bounds = [raw[n].attrs.get("bounds") for n in failed]
            bounds = [b for b in bounds if b in raw.variables]
    if not failed:  # xarray failed on the whole file but on no variable alone: as it said
        raise err
    for name, (units, why) in failed.items():
        warnings.warn(
            f"the times of {name!r} are left as numbers in their units ({units!r}): {why}",
            stacklevel=4,
        )
    return dict.fromkeys([*failed, *bounds], False)


def warn_groups(path: str | os.PathLike) -> None:
    """Warn that only the root group of ``path`` is read, where it has groups below it (an
    audit: a sub-group's variables were left out without a word)."""
    path = Path(path)
    fmt = input_format(path)
    groups = _subgroups(path, fmt)
    if groups:
        with_data = _subgroups(path, fmt, with_variables=True) or groups
        warnings.warn(
            f"only the root group of {str(path)!r} is read; its groups {tuple(groups)!r} are "
            f"not (read one with --group, e.g. `--group {with_data[0]}`)",
            stacklevel=2,
        )


def zarr_format(path: Path) -> int | None:
    """The Zarr format (2 or 3) of the store at ``path``; None where zarr cannot tell."""
    try:
        import zarr

        return int(zarr.open_group(str(path), mode="r").metadata.zarr_format)
    except Exception:  # the output then gets zarr's default format: never a reason to fail
        return None


def _subgroups(path: Path, fmt: str, *, with_variables: bool = False) -> list[str]:
    """The paths of the groups below the root of a NetCDF-4 file or a Zarr store, nested ones
    as ``"a/b"`` ([] where there are none, or where the library that would list them is
    missing); ``with_variables``: only those that hold variables."""

    def walk(groups: Any, prefix: str) -> list[str]:
        found = []
        for name, sub in sorted(groups.items()):
            held = any(True for _ in sub.arrays()) if fmt == "zarr" else bool(sub.variables)
            if held or not with_variables:
                found.append(prefix + name)
            found += walk(dict(sub.groups()) if fmt == "zarr" else sub.groups, f"{prefix}{name}/")
        return found

    try:
        if fmt == "zarr":
            import zarr

            return walk(dict(zarr.open_group(str(path), mode="r").groups()), "")
        if fmt == "netcdf4":
            try:
                import netCDF4
            except ImportError:  # h5netcdf alone (it needs h5py)
                import h5netcdf

                with h5netcdf.File(path, "r") as f:
                    return walk(f.groups, "")
            with netCDF4.Dataset(path, "r") as f:
                return walk(f.groups, "")
    except Exception:  # listing groups is a courtesy: never a reason to fail
        return []
    return []


def _check_group(path: Path, fmt: str, group: str) -> None:
    """InputError for ``--group`` on a file without groups or naming none of its groups."""
    if fmt not in ("zarr", "netcdf4"):
        raise InputError(
            f"--group {group!r}: {str(path)!r} is a NetCDF-3 file, which has no groups"
        )
    groups = _subgroups(path, fmt)
    name = group.strip("/")
    if name not in groups:
        listed = f"its groups are {tuple(groups)!r}" if groups else "it has no groups"
        raise InputError(f"--group {group!r} is not a group of {str(path)!r}; {listed}")
    with_data = _subgroups(path, fmt, with_variables=True)
    if name not in with_data:  # an audit: "INPUT has no such dimension; its dimensions are ()"
        below = [g for g in with_data if g.startswith(f"{name}/")] or with_data
        advice = f"; groups with variables: {tuple(below)!r} (e.g. `--group {below[0]}`)"
        raise InputError(
            f"--group {group!r} of {str(path)!r} holds no variables" + (advice if below else "")
        )


def _backend(fmt: str) -> Any:
    """xarray's backend for an input format, named rather than left to xarray to guess.

    Guessing (``engine=None``, or any engine given by name) loads every installed xarray
    backend plugin first, and some import a whole package (metpy's: seconds on every run).
    None when no library for the format is installed: xarray's guess then says which to install.
    """
    from xarray import backends

    if fmt == "zarr":
        return backends.ZarrBackendEntrypoint
    second = ("h5netcdf", "H5netcdfBackendEntrypoint")
    if fmt == "netcdf3":
        second = ("scipy", "ScipyBackendEntrypoint")
    for module, name in (("netCDF4", "NetCDF4BackendEntrypoint"), second):
        try:
            __import__(module)
        except ImportError:
            continue
        return getattr(backends, name)
    return None
