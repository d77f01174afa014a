"""Per-call cost on small arrays: xgrad against numpy.gradient and DataArray.differentiate.

On small data a call's time is Python: validating, reading the coordinates, planning the
stencils, wrapping the result. This is what a loop over many small arrays (a notebook
iterating over stations, a model's time steps one by one) pays per call, and what every larger
call pays once. Each case is timed as a batch of calls (``--calls``, default 200) per round,
rounds interleaved with the peer's (``_timing.interleaved``); the medians per call and their
ratios are printed, xgrad's time over the peer's (lower is better):

* ``xgrad.gradient`` against ``numpy.gradient`` on a (50, 60) float64 array, both axes, and on
  a (15, 16, 16) array along one axis (numpy's own ``TestGradient`` sizes);
* ``.grad.along`` against ``DataArray.differentiate`` on the same (50, 60) array with 1-D
  coordinates: one dim and two dims (two ``differentiate`` calls), Cartesian;
* ``.grad.along("lat")`` on a (50, 60) latitude/longitude grid (per metre on the sphere:
  the metric read from the coordinates) against ``differentiate("lat")`` (per degree);
* ``Dataset.grad.advection`` on that grid against the two ``.grad.along`` calls it needs
  the data of (its own overhead: the frame, the fused pass, the attributes).

    python benchmarks/overhead.py                  # 9 rounds of 200 calls per case
    python benchmarks/overhead.py --runs 2 --write-docs
    python benchmarks/overhead.py --smoke          # one round of 2 calls: checks it runs
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import _docs
import numpy as np
from _timing import interleaved

CASES = (  # (label, xgrad's function name, peer's function name)
    ("xgrad.gradient / numpy.gradient, (50, 60), both axes", "gradient 2-D", "numpy 2-D"),
    ("xgrad.gradient / numpy.gradient, (15, 16, 16), one axis", "gradient 3-D", "numpy 3-D"),
    ("along('x') / differentiate('x'), (50, 60)", "along x", "differentiate x"),
    ("along('x', 'y') / two differentiate calls, (50, 60)", "along x y", "differentiate x y"),
    ("sphere: along('lat') / differentiate('lat'), (50, 60)", "along lat", "differentiate lat"),
    ("sphere: advection / along('lat', 'lon') of T, (50, 60)", "advection", "along lat lon"),
)


def build() -> dict[str, Callable[[], Any]]:
    """Every function timed, by name (the names of :data:`CASES`)."""
    import xarray as xr

    import xgrad

    rng = np.random.default_rng(0)
    a2, a3 = rng.standard_normal((50, 60)), rng.standard_normal((15, 16, 16))
    plain = xr.DataArray(
        a2,
        dims=("y", "x"),
        coords={"y": np.cumsum(rng.random(50) + 0.5), "x": np.arange(60.0) * 0.25},
        attrs={"units": "K"},
    )
    lat = np.linspace(-60.0, 60.0, 50)
    lon = np.arange(60) * 6.0
    grid = {
        "lat": ("lat", lat, {"units": "degrees_north"}),
        "lon": ("lon", lon, {"units": "degrees_east"}),
    }
    ds = xr.Dataset(
        {
            k: (("lat", "lon"), rng.standard_normal((50, 60)), {"units": u})
            for k, u in (("T", "K"), ("u", "m s-1"), ("v", "m s-1"))
        },
        coords=grid,
    )
    temperature = ds["T"]
    components = {"lon": "u", "lat": "v"}
    return {
        "gradient 2-D": lambda: xgrad.gradient(a2),
        "numpy 2-D": lambda: np.gradient(a2),
        "gradient 3-D": lambda: xgrad.gradient(a3, axis=1),
        "numpy 3-D": lambda: np.gradient(a3, axis=1),
        "along x": lambda: plain.grad.along("x"),
        "differentiate x": lambda: plain.differentiate("x"),
        "along x y": lambda: plain.grad.along("x", "y"),
        "differentiate x y": lambda: (plain.differentiate("x"), plain.differentiate("y")),
        "along lat": lambda: temperature.grad.along("lat"),
        "differentiate lat": lambda: temperature.differentiate("lat"),
        "advection": lambda: ds.grad.advection("T", components),
        "along lat lon": lambda: temperature.grad.along("lat", "lon"),
    }


def measure(calls: int, repeat: int) -> _docs.Rows:
    """One run: per-call medians printed; (case, xgrad / peer, None) per case."""
    functions = build()

    def batch(fn: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            for _ in range(calls):
                fn()

        return run

    med = interleaved({k: batch(f) for k, f in functions.items()}, repeat, lambda fn: fn())
    per_call = {k: v / calls for k, v in med.items()}
    print(f"== per call, median of {repeat} rounds of {calls} calls ==")
    print(f"{'case':58}{'xgrad [us]':>12}{'peer [us]':>11}{'ratio':>8}")
    rows: _docs.Rows = []
    for label, ours, theirs in CASES:
        a, b = per_call[ours], per_call[theirs]
        print(f"{label:58}{a * 1e6:12.0f}{b * 1e6:11.0f}{a / b:8.2f}")
        rows.append((label, a / b, None))
    return rows


def docs_blocks(rows: _docs.RowsOverRuns, stamp: str, calls: int, repeat: int) -> list:
    lines = ["| case | xgrad's time / the peer's |", "|---|---|"]
    lines += [f"| {label} | {_docs.span(values)} |" for label, values, _ in rows]
    table = (
        f"Measured by `benchmarks/overhead.py --write-docs`: median of {repeat} interleaved "
        f"rounds of {calls} calls per case and run; {stamp}. Ratios of the medians per call "
        "(lower is better); a range is min-max over runs.\n\n" + "\n".join(lines)
    )
    return [("docs/performance.md", "overhead-table", table)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200, help="calls per timed batch")
    ap.add_argument("--repeat", type=int, default=9, help="timed rounds (median)")
    ap.add_argument("--smoke", action="store_true", help="one round of 2 calls")
    _docs.add_arguments(ap, "docs/performance.md", runs=True)
    args = ap.parse_args()
    calls, repeat = (2, 1) if args.smoke else (args.calls, args.repeat)
    _docs.measure_runs(
        args,
        lambda: measure(calls, repeat),
        lambda rows, stamp: docs_blocks(rows, stamp, calls, repeat),
    )


if __name__ == "__main__":
    main()
