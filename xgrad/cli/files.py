"""NetCDF and Zarr for the command line: open lazily, check before computing, write atomically.

Reading: :func:`open_input` opens a NetCDF file or a Zarr store with dask chunks and turns every
way a file can be unreadable into an :class:`~xgrad.cli.errors.InputError` (exit status 2).
A truncated classic (NetCDF-3) file opens without complaint in netCDF-C and reads as zeros, so
its header is checked against its size here (:func:`_check_classic_size`).

Writing: :func:`write_dataset` stores into a hidden sibling of the output (same directory, so
the final rename is atomic on one file system), runs the computation through a caller-given
``compute`` function, and renames into place only when everything is written. On any exception,
``KeyboardInterrupt`` included, the temporary is removed and the output is untouched; with
``overwrite`` an existing output is replaced only after the new one is complete.

With dask's array expressions on (``DASK_ARRAY__QUERY_PLANNING=True``), dask 2026.8 has no
``dask.array.store``, which xarray's writers call for every dask array; while xarray builds the
write, :func:`_dask_store` puts :func:`xgrad.dask_expressions.store` (dask's legacy ``store`` of
the same tasks) in its place. Everything else is xarray's own ``to_zarr``/``to_netcdf``: the same
files, chunk by chunk, on every scheduler (``tests/test_expressions.py``).
"""

from __future__ import annotations

import os
import shutil
import struct
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import xarray as xr

from .errors import InputError

__all__ = [
    "check_output_path",
    "input_format",
    "open_input",
    "output_format",
    "write_dataset",
]

OUTPUT_SUFFIXES = {".nc": "netcdf", ".nc4": "netcdf", ".zarr": "zarr"}
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
# Encoding keys that describe a coordinate's *values* (kept so times round-trip with their
# units and calendar); chunking and compression keys describe the input file and are dropped.
_KEPT_ENCODING = ("units", "calendar", "dtype", "_FillValue", "scale_factor", "add_offset")


def _is_zarr_store(path: Path) -> bool:
    return path.is_dir() and any(
        (path / name).exists() for name in ("zarr.json", ".zgroup", ".zarray", ".zmetadata")
    )


def input_format(path: Path) -> str:
    """``"zarr"``, ``"netcdf3"`` or ``"netcdf4"``, from the store layout or the file's signature."""
    if not path.exists():
        raise InputError(f"input {str(path)!r} does not exist")
    if path.is_dir():
        if _is_zarr_store(path):
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
    path: str | os.PathLike, chunks: Mapping[str, int | str] | None = None
) -> xr.Dataset:
    """Open a NetCDF file or Zarr store lazily, as dask arrays.

    Parameters
    ----------
    path : str or path-like
        A NetCDF file (classic or NetCDF-4) or a Zarr store (v2 or v3).
    chunks : mapping of str to int or "auto", optional
        Chunk sizes for some dimensions; the others, and all of them without ``chunks``, get
        dask's "auto" chunks, which are whole multiples of the file's own chunks.

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
    path = Path(path)
    fmt = input_format(path)
    if fmt == "netcdf3":
        _check_classic_size(path)
    engine = _backend(fmt)
    kind = "a Zarr store" if fmt == "zarr" else "NetCDF"
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
            with xr.open_dataset(path, engine=engine, chunks=None) as meta:
                dims = dict(meta.sizes)
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
            return xr.open_dataset(path, engine=engine, chunks=spec, decode_coords="all")
    except InputError:
        raise
    except Exception as err:  # every backend has its own exception types for a bad file
        raise InputError(
            f"could not read {str(path)!r} as {kind} (is it truncated or in another format?): "
            f"{type(err).__name__}: {err}"
        ) from err


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


def output_format(path: str | os.PathLike) -> str:
    """``"netcdf"`` or ``"zarr"`` from the output's suffix; InputError for anything else.

    Examples
    --------
    >>> output_format("out.zarr"), output_format("derivatives.NC")
    ('zarr', 'netcdf')
    """
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise InputError(
            f"output {str(path)!r} has suffix {suffix!r}; name it '*.nc' for NetCDF or '*.zarr' "
            "for Zarr"
        )
    return OUTPUT_SUFFIXES[suffix]


def check_output_path(path: str | os.PathLike, *, overwrite: bool, what: str = "output") -> Path:
    """Check that ``path`` can be written (replaced only with ``overwrite``); return it absolute."""
    shown = str(path)
    path = Path(path).absolute()
    if not path.parent.is_dir():
        raise InputError(f"{what} directory {str(path.parent)!r} does not exist; create it first")
    if not os.access(path.parent, os.W_OK):
        raise InputError(f"{what} directory {str(path.parent)!r} is not writable")
    if os.path.lexists(path):
        if not overwrite:
            raise InputError(f"{what} {shown!r} already exists; pass --overwrite to replace it")
        # Replace only what xgrad could have written: a file, an empty directory or a Zarr store,
        # never some other directory that happens to have the name.
        if (
            path.is_dir()
            and not path.is_symlink()
            and any(path.iterdir())
            and not _is_zarr_store(path)
        ):
            raise InputError(
                f"{what} {shown!r} is a directory that is not a Zarr store; refusing to replace it"
            )
    return path


def _sibling(path: Path, tag: str) -> Path:
    """A hidden, unique name next to ``path``; the pid says which run left it if it is killed."""
    return path.with_name(f".{path.name}.xgrad-{tag}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def _remove(path: Path) -> None:
    """Remove a file or directory tree, retrying briefly.

    A task that was already running when the computation stopped (a worker thread or process)
    can still write a chunk after a first removal; trying again for a moment removes it too.
    """
    deadline = time.monotonic() + 5.0
    while os.path.lexists(path):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
        if not os.path.lexists(path) or time.monotonic() > deadline:
            break
        time.sleep(0.05)


def _prepare(ds: xr.Dataset, fmt: str) -> tuple[xr.Dataset, dict[str, dict[str, Any]]]:
    """Drop the input file's storage encodings; choose chunking and compression for the output."""
    ds = ds.copy()
    for var in ds.variables.values():
        var.encoding = {k: v for k, v in var.encoding.items() if k in _KEPT_ENCODING}
    encoding: dict[str, dict[str, Any]] = {}
    for name, var in ds.variables.items():
        if var.chunks is None or (fmt != "zarr" and name not in ds.data_vars):
            continue
        if fmt == "zarr":
            # Zarr needs equal chunks along each dim (a smaller last one allowed); a ragged
            # dask chunking is evened out to its largest chunk.
            ragged = {
                d: max(c)
                for d, c in zip(var.dims, var.chunks)
                if len(set(c[:-1])) > 1 or c[-1] > c[0]
            }
            if ragged:
                ds[name] = ds[name].chunk(ragged)
        else:
            # NetCDF-4 chunks matching the dask chunks, so each task writes whole chunks.
            chunksizes = tuple(max(1, c[0]) for c in var.chunks)
            encoding[name] = {"chunksizes": chunksizes, "zlib": True, "complevel": 1}
    return ds, encoding


def _netcdf_engine() -> str:
    for engine, module in (("netcdf4", "netCDF4"), ("h5netcdf", "h5py")):
        try:
            __import__(module)
        except ImportError:
            continue
        return engine
    return "scipy"


def write_dataset(
    ds: xr.Dataset,
    path: str | os.PathLike,
    compute: Callable[[Any], Any],
    *,
    overwrite: bool = False,
) -> Path:
    """Write ``ds`` to ``path`` (format from its suffix) atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        Lazy (dask-backed) or in-memory data.
    path : str or path-like
        ``*.zarr`` or ``*.nc``.
    compute : callable
        Called once with the dask ``Delayed`` that writes the data; it runs the computation
        (scheduler, progress bar) and returns when everything is written.
    overwrite : bool, default: False
        Replace an existing ``path`` (only once the new output is complete).

    Returns
    -------
    pathlib.Path
        The absolute output path.
    """
    fmt = output_format(path)
    path = check_output_path(path, overwrite=overwrite)
    ds, encoding = _prepare(ds, fmt)
    tmp = _sibling(path, "tmp")
    delayed = None
    try:
        with warnings.catch_warnings():
            # xarray writes consolidated metadata for fast opening; zarr-python warns that it is
            # not (yet) part of the v3 spec, which says nothing about this store's validity.
            warnings.filterwarnings("ignore", message="Consolidated metadata", module="zarr")
            with _dask_store():
                if fmt == "zarr":
                    delayed = ds.to_zarr(tmp, mode="w-", compute=False, consolidated=True)
                else:
                    engine = _netcdf_engine()
                    if engine == "scipy":
                        encoding = {}
                    delayed = ds.to_netcdf(tmp, engine=engine, encoding=encoding, compute=False)
            compute(delayed)
        _commit(tmp, path, overwrite=overwrite)
    except BaseException:
        # xarray closes a NetCDF file in the last task of the write; when the computation
        # fails that task never runs, and the open file would be closed (with a warning) by
        # whichever later garbage collection finds it.  Close it now, before removing it.
        for store in _stores_in(delayed):
            store.close()
        _remove(tmp)
        raise
    return path


_STORE_SWAP = threading.Lock()


@contextmanager
def _dask_store() -> Iterator[None]:
    """``dask.array.store`` works inside the block, also with dask's array expressions on.

    dask 2026.8 puts a stub in ``dask.array`` for each function it has not yet written for
    expressions; ``store`` is one, and xarray's writers look it up when they build the write
    (``from dask.array import store``, in ``DaskManager.store``). While the stub is there, it is
    replaced, inside this block only, by :func:`xgrad.dask_expressions.store`. Nothing changes
    in the legacy mode, or once dask has a ``store`` of its own. Were the stub renamed, or
    another dask function missing in that mode, the write fails while it is built, before any
    chunk is computed, with a RuntimeError naming the mode and the way out
    (``test_missing_dask_function_is_one_line_naming_the_mode``); nothing is left behind.
    """
    dask_array = sys.modules.get("dask.array")  # not imported: no dask array to write
    stub = getattr(getattr(dask_array, "store", None), "__qualname__", "")
    try:
        if not stub.startswith("raise_not_implemented_error"):
            yield
            return
        from ..dask_expressions import store

        with _STORE_SWAP:  # one swap at a time: two writes in threads restore in any order
            missing = dask_array.store
            dask_array.store = store
            try:
                yield
            finally:
                dask_array.store = missing
    except NotImplementedError as err:  # another dask function missing for expressions
        if "dask-expr" not in str(err):
            raise
        raise RuntimeError(
            f"{err} dask's array expressions are on (DASK_ARRAY__QUERY_PLANNING=True, or "
            "array.query-planning in dask's config) and xarray's writer needs a function they "
            "lack; run without them: `DASK_ARRAY__QUERY_PLANNING=False xgrad gradient ...`"
        ) from err


def _stores_in(delayed: Any) -> list:
    """xarray data stores referenced by the tasks of a write's Delayed (none if unknown)."""
    if delayed is None or not hasattr(delayed, "__dask_graph__"):
        return []
    found: list = []
    seen: set[int] = set()

    def walk(obj: Any, depth: int) -> None:
        if depth > 8 or id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, xr.backends.AbstractDataStore):
            found.append(obj)
        elif isinstance(obj, (list, tuple, set)):
            for item in obj:
                walk(item, depth + 1)
        elif isinstance(obj, dict):
            for item in obj.values():
                walk(item, depth + 1)
        else:  # dask's task objects keep their arguments in ``args``/``kwargs``
            for name in ("args", "kwargs", "value"):
                if hasattr(obj, name):
                    walk(getattr(obj, name), depth + 1)

    for task in dict(delayed.__dask_graph__()).values():
        walk(task, 0)
    return found


def _commit(tmp: Path, path: Path, *, overwrite: bool) -> None:
    """Rename the complete ``tmp`` to ``path``; an old ``path`` is kept until the swap is done."""
    if not os.path.lexists(path):
        os.rename(tmp, path)
        return
    if not overwrite:  # it appeared while we computed
        raise FileExistsError(
            f"output {str(path)!r} appeared while computing; nothing was replaced"
        )
    old = _sibling(path, "old")
    os.rename(path, old)
    try:
        os.rename(tmp, path)
    except BaseException:
        os.rename(old, path)
        raise
    _remove(old)
