"""The ``xgrad`` command line: ``xgrad gradient`` and ``xgrad demo`` (also ``python -m xgrad``).

``xgrad gradient INPUT OUTPUT --along DIM ...`` opens INPUT lazily with dask chunks, builds every
derivative (one ``.grad.along(*dims)`` call per variable, so all dims share one pass over the
data), checks the output and plot paths, and only then computes: one dask computation that
streams chunks from INPUT to a hidden temporary next to OUTPUT, renamed into place at the end
(:func:`xgrad.io.write_dataset`). Memory stays at a few chunks per worker thread, whatever the
size of the data.

Exit status: 0 on success; 2 for usage and input errors (bad options, missing or unreadable
input, unknown variable or dimension, existing output without ``--overwrite``), all found
before computing; 1 for failures while computing or writing; 130 when interrupted (Ctrl-C or
SIGTERM). Errors are one line on stderr, ``xgrad: error: ...``, without a traceback.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import signal
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from . import __version__
from .compute import check_scheduler, on_signal, scheduler
from .io import InputError, check_output_path, open_input, write_dataset

__all__ = ["build_parser", "derivatives", "main", "parse_chunks", "run_gradient"]


class _UsageError(Exception):
    """Raised instead of argparse's print-usage-and-exit, so the message stays one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{message} (see `{self.prog} --help`)")


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _message(err: BaseException) -> str:
    # str(KeyError('x')) is "'x'" with quotes; its argument is the message.
    text = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    return _one_line(text) or type(err).__name__


def parse_chunks(items: Sequence[str] | None) -> dict[str, int | str]:
    """``["lat=90", "lon=180"]`` (or ``["lat=90,lon=180"]``) -> ``{"lat": 90, "lon": 180}``.

    A size is a positive integer, ``-1`` (the whole dimension) or ``auto``.

    Examples
    --------
    >>> parse_chunks(["time=1", "lat=90,lon=-1"])
    {'time': 1, 'lat': 90, 'lon': -1}
    """
    chunks: dict[str, int | str] = {}
    for item in (p for raw in items or () for p in raw.split(",") if p):
        dim, sep, size = item.partition("=")
        ok = sep and dim and (size == "auto" or size.lstrip("-").isdigit())
        if ok and size != "auto":
            size_int = int(size)
            ok = size_int > 0 or size_int == -1
        if not ok:
            raise InputError(
                f"--chunks expects DIM=N with N a positive integer, -1 (whole dimension) or "
                f"auto, e.g. `--chunks time=1 lat=90`; got {item!r}"
            )
        chunks[dim] = size if size == "auto" else int(size)
    return chunks


def derivatives(
    ds: xr.Dataset,
    along: Sequence[str],
    variables: Sequence[str] | None = None,
    options: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """The lazy derivatives ``d{var}_d{dim}`` of the chosen variables of ``ds``.

    Parameters
    ----------
    ds : xarray.Dataset
    along : sequence of str
        Dimensions (or 1-D coordinates) to differentiate along; all in one pass per variable.
    variables : sequence of str, optional
        Data variables; by default every one that has all the ``along`` dimensions.
    options : mapping, optional
        Keyword arguments for :meth:`DataArray.grad.along` (``geometry``, ``accuracy``, ...).

    Returns
    -------
    xarray.Dataset
        One variable per (variable, dim), with the accessor's ``units`` and ``long_name``, and
        ``ds``'s global attributes.
    """
    from . import accessor  # noqa: F401  (registers .grad)

    dims_of = {}
    for name in along:
        if name in ds.dims:
            dims_of[name] = name
        elif name in ds.coords and ds[name].ndim == 1:
            dims_of[name] = ds[name].dims[0]
        else:
            raise InputError(
                f"--along {name!r}: INPUT has no such dimension; its dimensions are "
                f"{tuple(map(str, ds.dims))!r}"
            )
    if variables:
        for name in variables:
            if name not in ds.data_vars:
                where = " (it is a coordinate)" if name in ds.coords else ""
                raise InputError(
                    f"--var {name!r} is not a data variable of INPUT{where}; its data variables "
                    f"are {tuple(map(str, ds.data_vars))!r}"
                )
            missing = [d for d in along if dims_of[d] not in ds[name].dims]
            if missing:
                raise InputError(
                    f"--var {name!r} does not have the dimension {missing[0]!r} given in --along; "
                    f"its dimensions are {tuple(map(str, ds[name].dims))!r}"
                )
    else:
        variables = [v for v in map(str, ds.data_vars) if set(dims_of.values()) <= set(ds[v].dims)]
        # Not asked for by name: leave out what cannot be differentiated (flags, strings),
        # saying so, rather than failing on it.
        skipped = [v for v in variables if ds[v].dtype.kind not in "iufcmM"]
        for v in skipped:
            warnings.warn(f"left out {v!r}: its dtype {ds[v].dtype} is not numeric", stacklevel=2)
        variables = [v for v in variables if v not in skipped]
        if not variables:
            raise InputError(
                f"no data variable of INPUT has all of the dimensions {tuple(along)!r}; choose "
                f"one with --var (data variables: {tuple(map(str, ds.data_vars))!r})"
            )
    out: dict[str, xr.DataArray] = {}
    for var in variables:
        results = ds[var].grad.along(*along, **dict(options or {}))
        for dim, result in zip(along, results if isinstance(results, tuple) else (results,)):
            name = f"d{var}_d{dim}"
            if name in out:
                raise InputError(f"two outputs would both be named {name!r}; pick --var explicitly")
            out[name] = result.rename(name)
    return xr.Dataset(out, attrs=dict(ds.attrs))


def _add_history(ds: xr.Dataset, command: str) -> None:
    # CF convention: newest first, one line per program run.
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    line = f"{stamp} xgrad {__version__}: {command}"
    old = ds.attrs.get("history")
    ds.attrs["history"] = f"{line}\n{old}" if old else line


def run_gradient(
    input: str | os.PathLike,
    output: str | os.PathLike,
    along: Sequence[str],
    *,
    variables: Sequence[str] | None = None,
    options: Mapping[str, Any] | None = None,
    chunks: Mapping[str, int | str] | None = None,
    scheduler_spec: str = "threads",
    plot: str | os.PathLike | None = None,
    overwrite: bool = False,
    command: str | None = None,
) -> tuple[Path, list[str]]:
    """What ``xgrad gradient`` does: derivatives of INPUT written atomically to OUTPUT.

    Everything is checked and the whole graph built before anything is computed; those errors
    are :class:`xgrad.io.InputError`.

    Parameters
    ----------
    input : str or path-like
        NetCDF file or Zarr store.
    output : str or path-like
        ``*.nc`` or ``*.zarr``; written to a hidden sibling first, renamed when complete.
    along : sequence of str
        Dimensions to differentiate along (``--along``).
    variables : sequence of str, optional
        Data variables (``--var``); default: every numeric one with all the ``along`` dims.
    options : mapping, optional
        Keyword arguments for ``DataArray.grad.along`` (``geometry``, ``accuracy``, ...).
    chunks : mapping of str to int or "auto", optional
        Dask chunks for some dimensions (``--chunks``); the others get "auto".
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
    from .io import output_format

    scheduler_spec = check_scheduler(scheduler_spec)  # a usage error: before reading anything
    ds = open_input(input, chunks)
    try:
        output_format(output)
        out_path = check_output_path(output, overwrite=overwrite)
        in_path = Path(input).absolute()
        if out_path.exists() and in_path.samefile(out_path):
            raise InputError("OUTPUT is INPUT; write the derivatives to a new file")
        if plot is not None:
            from .plot import check_matplotlib

            if Path(plot).suffix.lower() != ".png":
                raise InputError(f"--plot {str(plot)!r}: name the plot '*.png'")
            try:
                check_matplotlib()
            except ImportError as err:
                raise InputError(str(err)) from err
            plot = check_output_path(plot, overwrite=overwrite, what="plot")
        try:
            result = derivatives(ds, along, variables, options)
        except InputError:
            raise
        # the accessor's checks, all made while building the graph: bad input, exit status 2
        except (ValueError, TypeError, KeyError) as err:
            raise InputError(_message(err)) from err
        _add_history(
            result, command or f"xgrad gradient {input} {output} --along {' '.join(along)}"
        )
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
                f"wrote {str(out_path)!r}, but the plot failed: {_message(err)}"
            ) from err
    return out_path, list(result.data_vars)


def _gradient_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    options = {
        key: getattr(args, key)
        for key in ("geometry", "radius", "boundary", "period", "accuracy", "edge_order", "nan")
        if getattr(args, key) is not None
    }
    if args.datetime_unit is not None:
        options["datetime_unit"] = args.datetime_unit
    path, names = run_gradient(
        args.input,
        args.output,
        args.along,
        variables=args.var,
        options=options,
        chunks=parse_chunks(args.chunks),
        scheduler_spec=args.scheduler,
        plot=args.plot,
        overwrite=args.overwrite,
        command=shlex.join(["xgrad", *argv]),
    )
    print(f"wrote {path}: {', '.join(names)}" + (f"; plot {args.plot}" if args.plot else ""))
    return 0


def _demo_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .demo import run_demo

    run_demo(args.out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``xgrad`` (subcommands ``gradient`` and ``demo``)."""
    parser = _Parser(prog="xgrad", description="Derivatives of NetCDF and Zarr data, out of core.")
    parser.add_argument("--version", action="version", version=f"xgrad {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{gradient,demo}")
    g = sub.add_parser(
        "gradient",
        help="differentiate the variables of INPUT along dimensions, write OUTPUT",
        description="Differentiate INPUT (NetCDF or Zarr) along --along dims; write "
        "d{var}_d{dim} variables to OUTPUT (format from its suffix: .nc or .zarr), atomically.",
    )
    g.add_argument("input", metavar="INPUT", help="NetCDF file or Zarr store")
    g.add_argument(
        "output", metavar="OUTPUT", help="*.nc or *.zarr; must not exist (see --overwrite)"
    )
    g.add_argument(
        "--along", nargs="+", required=True, metavar="DIM", help="dimensions to differentiate along"
    )
    g.add_argument(
        "--var",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="data variables (default: all that have the dims)",
    )
    g.add_argument("--geometry", help="auto | cartesian | sphere (default: auto)")
    g.add_argument("--radius", type=float, help="sphere radius in metres (default: 6371008.8)")
    g.add_argument("--boundary", help="auto | edge | periodic (default: auto)")
    g.add_argument(
        "--period", type=float, help="period of a periodic dimension, in its coordinate's units"
    )
    g.add_argument("--accuracy", type=int, help="2 | 4 | 6 (default: 2, numpy's stencils)")
    g.add_argument("--edge-order", type=int, help="1 | 2 (default: 1)")
    g.add_argument("--nan", help="propagate | one-sided (default: propagate)")
    g.add_argument(
        "--datetime-unit", help="unit of time coordinates: W D h m s ms us ns (default: s)"
    )
    g.add_argument(
        "--chunks",
        nargs="+",
        action="extend",
        metavar="DIM=N",
        help="dask chunk sizes (default: the file's chunks, grouped to ~128 MiB)",
    )
    g.add_argument(
        "--scheduler",
        default="threads",
        metavar="threads|processes|synchronous|ADDRESS",
        help="dask scheduler, or a distributed scheduler's address (default: threads)",
    )
    g.add_argument(
        "--plot", metavar="PNG", help="also write a PNG map of the first output variable"
    )
    g.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing OUTPUT (and PNG) once the new one is complete",
    )
    g.set_defaults(func=_gradient_command)
    d = sub.add_parser(
        "demo",
        help="synthetic global field with a known gradient: compute, write, plot, check",
        description="Build a synthetic global field with an analytic gradient, differentiate "
        "it lazily, write field.zarr, gradient.zarr and gradient.png into DIR, and print the "
        "error against the analytic answer.",
    )
    d.add_argument(
        "--out",
        default="xgrad-demo-output",
        metavar="DIR",
        help="output directory (default: ./xgrad-demo-output)",
    )
    d.set_defaults(func=_demo_command)
    return parser


def _show_warning(
    message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    print(f"xgrad: warning: {_one_line(str(message))}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``xgrad`` command; return its exit status (0, 1, 2 or 130).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    # SIGTERM (a batch job's time limit) cleans up like Ctrl-C. Handlers can only be set from
    # the main thread (main() may be called from another one).
    signals = (signal.SIGINT, signal.SIGTERM) if _is_main_thread() else ()
    previous = {sig: signal.signal(sig, on_signal) for sig in signals}
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            args = build_parser().parse_args(argv)
            if args.command is None:
                raise _UsageError(
                    "choose a command: `xgrad gradient ...` or `xgrad demo` (see `xgrad --help`)"
                )
            return args.func(args, argv)
    except (_UsageError, InputError) as err:
        print(f"xgrad: error: {_message(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("xgrad: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        print(f"xgrad: error: {_message(err)}", file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _is_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
