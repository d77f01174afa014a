"""NetCDF and Zarr output for the command line: check the path first, write atomically.

:func:`write_dataset` stores into a hidden sibling of the output (same directory, so the final
rename is atomic on one file system), runs the computation through a caller-given ``compute``
function, and renames into place only when everything is written. On any exception,
``KeyboardInterrupt`` included, the temporary is removed and the output is untouched; with
``overwrite`` an existing output is replaced only after the new one is complete. Reading is
:mod:`xgrad.cli.reading`.

With dask's array expressions on (``DASK_ARRAY__QUERY_PLANNING=True``), dask 2026.8 has no
``dask.array.store``, which xarray's writers call for every dask array; while xarray builds the
write, :func:`_dask_store` puts :func:`xgrad.dask_expressions.store` (dask's legacy ``store`` of
the same tasks) in its place. Everything else is xarray's own ``to_zarr``/``to_netcdf``: the same
files, chunk by chunk, on every scheduler (``tests/test_expressions.py``).
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .errors import InputError
from .reading import is_zarr_store

__all__ = ["check_output_path", "output_format", "write_dataset"]

OUTPUT_SUFFIXES = {".nc": "netcdf", ".nc4": "netcdf", ".zarr": "zarr"}
# Encoding keys that describe a coordinate's *values* (kept so times round-trip with their
# units and calendar); chunking and compression keys describe the input file and are dropped.
_KEPT_ENCODING = ("units", "calendar", "dtype", "_FillValue", "scale_factor", "add_offset")

# Not kept either: the CF links ``bounds`` and ``grid_mapping``. xarray's encoder tests
# ``name in encoding["bounds"]`` on the string, so ``nav_lat`` (in "nav_lat_bnds") would leave the
# derivatives' ``coordinates`` attribute and read back as a data variable; the links are written
# as attributes (:func:`xgrad.cli.pipeline.derivative_dataset`).


def output_format(path: str | os.PathLike) -> str:
    """``"netcdf"`` or ``"zarr"`` from the output's suffix; InputError for anything else.

    Examples
    --------
    >>> output_format("out.zarr"), output_format("derivatives.NC")
    ('zarr', 'netcdf')
    """
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        # a name that is only a suffix ('.zarr') is a hidden file without one
        found = f"has suffix {suffix!r}" if suffix else "has no suffix"
        raise InputError(
            f"output {str(path)!r} {found}; name it '*.nc' for NetCDF or '*.zarr' for Zarr"
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
        if what == "plot" and path.is_dir():  # a PNG is a file (it failed after writing OUTPUT)
            raise InputError(f"{what} {shown!r} is a directory; name a PNG file")
        # Replace only what xgrad could have written: a file, an empty directory or a Zarr store,
        # never some other directory that happens to have the name.
        if (
            path.is_dir()
            and not path.is_symlink()
            and any(path.iterdir())
            and not is_zarr_store(path)
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


def _netcdf_attribute(value: Any) -> bool:
    """Whether NetCDF can store an attribute value: a string, a number (not a bool), or a 1-D
    sequence of them."""
    scalar = (str, bytes, int, float, np.number)
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, scalar):
        return True
    if isinstance(value, (list, tuple, np.ndarray)):
        items = np.asarray(value, dtype=object).ravel() if np.ndim(value) <= 1 else None
        return items is not None and all(
            isinstance(v, scalar) and not isinstance(v, (bool, np.bool_)) for v in items
        )
    return False


def _not_netcdf(ds: xr.Dataset) -> str | None:
    """What of ``ds`` NetCDF cannot store (complex values, attributes such as nested mappings
    or booleans, legal in Zarr) and what to do instead, or None."""
    zarr = "write a Zarr store instead (an OUTPUT ending in .zarr)"
    leave_out = f"{zarr}, or leave the variable out (--var)"
    for name, var in ds.variables.items():
        if var.dtype.kind == "c":
            return f"variable {name!r} is complex ({var.dtype}), which NetCDF cannot store; " + (
                leave_out if name in ds.data_vars else zarr
            )
    for where, attrs, fix in [("the dataset", ds.attrs, zarr)] + [
        (f"variable {name!r}", var.attrs, leave_out if name in ds.data_vars else zarr)
        for name, var in ds.variables.items()
    ]:
        for key, value in attrs.items():
            if not _netcdf_attribute(value):
                # --var only helps where the attribute is a derivative's (an audit: it was
                # advised for the dataset's own attributes too)
                return (
                    f"attribute {key!r} of {where} is a {type(value).__name__} ({value!r}), "
                    f"which NetCDF cannot store; {fix}"
                )
    return None


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
            chunksizes = _netcdf_chunks(tuple(max(1, c[0]) for c in var.chunks), var.dtype)
            encoding[name] = {"chunksizes": chunksizes, "zlib": True, "complevel": 1}
    return ds, encoding


#: The largest NetCDF-4 chunk written: well inside netCDF-C's default chunk cache (64 MiB)
#: and small enough that reading one map does not decompress many.
NETCDF_CHUNK_BYTES = 4 * 2**20


def _netcdf_chunks(dask_chunk: tuple[int, ...], dtype: np.dtype) -> tuple[int, ...]:
    """NetCDF-4 chunk sizes for dask chunks of shape ``dask_chunk``: the dask chunk, halved
    along its leading dims (time, level first) until it holds at most
    :data:`NETCDF_CHUNK_BYTES`. A dask chunk is ~128 MiB ("auto"): as one NetCDF chunk,
    reading one time step decompressed 32 of them (33x slower than the input; an audit)."""
    sizes = list(dask_chunk)
    itemsize = np.dtype(dtype).itemsize
    for k in range(len(sizes)):
        while sizes[k] > 1 and math.prod(sizes) * itemsize > NETCDF_CHUNK_BYTES:
            sizes[k] = -(-sizes[k] // 2)
    return tuple(sizes)


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
        Lazy (dask-backed) or in-memory data. Its encoding's ``"unlimited_dims"`` are a NetCDF
        output's record dims (xarray's own rule), its ``"zarr_format"`` (2 or 3) a Zarr
        output's format (zarr's default without it).
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
    if fmt == "netcdf":
        problem = _not_netcdf(ds)
        if problem is not None:  # before anything is computed or written (exit status 2)
            raise InputError(f"OUTPUT is NetCDF, but {problem}")
    ds, encoding = _prepare(ds, fmt)
    version = ds.encoding.pop("zarr_format", None)  # the input's, where it was a Zarr store
    tmp = _sibling(path, "tmp")
    delayed = None
    try:
        with warnings.catch_warnings():
            # xarray writes consolidated metadata for fast opening; zarr-python warns that it is
            # not (yet) part of the v3 spec, which says nothing about this store's validity.
            warnings.filterwarnings("ignore", message="Consolidated metadata", module="zarr")
            with _dask_store():
                if fmt == "zarr":
                    delayed = ds.to_zarr(
                        tmp, mode="w-", compute=False, consolidated=True, zarr_format=version
                    )
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
            try:
                store.close()
            except Exception:  # its lock lived on a dask scheduler now gone (an audit: the
                pass  # close raised "ConnectionPool is closed" and the temporary file stayed)
        _close_cached(tmp)
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


def _close_cached(path: Path) -> None:
    """Close the files xarray's file cache holds open at ``path``.

    A write that fails while it is built (``to_netcdf(compute=False)`` raising: a dask
    function missing in the array-expression mode) has opened the output and returned no
    Delayed to find the store by; xarray closes such a file only when its manager is garbage
    collected, with a RuntimeWarning where ``warn_for_unclosed_files`` is set."""
    try:
        from xarray.backends.file_manager import FILE_CACHE
    except ImportError:  # pragma: no cover - xarray moved it: garbage collection closes it
        return
    target = os.fspath(path)
    for key in list(FILE_CACHE.keys()):
        args = key[1] if len(key) > 1 and isinstance(key[1], tuple) else ()
        if any(isinstance(a, str | os.PathLike) and os.fspath(a) == target for a in args):
            cached = FILE_CACHE.pop(key, None)
            if cached is not None:
                cached.close()


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
