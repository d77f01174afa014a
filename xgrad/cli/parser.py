"""The argument parser of ``xgrad``: subcommands ``gradient`` and ``demo``, one-line usage errors.

argparse prints the usage and exits on a bad option; :class:`UsageError` is raised instead, so
the command reports it as its other errors: one line, exit status 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .. import __version__
from ..earth import MEAN_RADIUS
from .errors import InputError

__all__ = ["UsageError", "build_parser", "parse_chunks"]


class UsageError(Exception):
    """Raised instead of argparse's print-usage-and-exit, so the message stays one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see `{self.prog} --help`)")


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


def _radius(text: str) -> float | str:
    """``--radius``: a number of metres, else an ellipsoid name (checked with the other options)."""
    try:
        return float(text)
    except ValueError:
        return text


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``xgrad``; ``args.command`` is ``"gradient"``, ``"demo"`` or None.

    Examples
    --------
    >>> args = build_parser().parse_args(["gradient", "in.nc", "out.zarr", "--along", "lat"])
    >>> args.command, args.along, args.horizontal, args.scheduler
    ('gradient', ['lat'], False, 'threads')
    """
    parser = _Parser(prog="xgrad", description="Derivatives of NetCDF and Zarr data, out of core.")
    parser.add_argument("--version", action="version", version=f"xgrad {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{gradient,demo}")
    g = sub.add_parser(
        "gradient",
        help="differentiate the variables of INPUT along dimensions, write OUTPUT",
        description="Differentiate INPUT (NetCDF or Zarr) along --along dims (d{var}_d{dim}) "
        "or eastward and northward on its Earth grid with --horizontal (d{var}_deast, "
        "d{var}_dnorth); write them to OUTPUT (format from its suffix: .nc or .zarr), atomically.",
    )
    g.add_argument("input", metavar="INPUT", help="NetCDF file or Zarr store")
    g.add_argument(
        "output", metavar="OUTPUT", help="*.nc or *.zarr; must not exist (see --overwrite)"
    )
    how = g.add_mutually_exclusive_group(required=True)
    how.add_argument(
        "--along",
        nargs="+",
        action="extend",  # `--along lat --along lon` is both, as --var and --chunks add up
        metavar="DIM",
        help="dimensions to differentiate along",
    )
    how.add_argument(
        "--horizontal",
        action="store_true",
        help="eastward and northward derivatives per metre on an Earth grid (regular "
        "latitude/longitude, rotated pole, projected, curvilinear): d{var}_deast, d{var}_dnorth",
    )
    g.add_argument(
        "--var",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="data variables (default: all that have the dims)",
    )
    g.add_argument(
        "--group",
        metavar="PATH",
        help="the group of INPUT to read (NetCDF-4 or Zarr), e.g. 'ocean' or 'model/ocean' "
        "(default: the root group)",
    )
    g.add_argument("--geometry", help="auto | cartesian | sphere (default: auto)")
    g.add_argument(
        "--radius",
        type=_radius,
        help="sphere radius in metres, or an ellipsoid: WGS84, GRS80 (default: the grid "
        f"mapping's, else {MEAN_RADIUS})",
    )
    g.add_argument("--boundary", help="auto | edge | periodic (default: auto)")
    g.add_argument(
        "--period",
        type=float,
        help="period of a periodic dimension, in its coordinate's units (a time coordinate's: "
        "--datetime-unit's)",
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
    return parser
