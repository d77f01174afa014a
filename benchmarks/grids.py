"""Earth grids: ``grad.horizontal()`` on a curvilinear grid against ``grad.along`` on a regular one.

Two persisted float32 dask arrays ``T(time, y, x)`` of ERA5's size (8 x 721 x 1440, chunked
along time):

* ``along("lat", "lon")`` on a regular 0.25 degree latitude/longitude grid: the derivatives per
  metre on the sphere, the cheapest Earth-grid case;
* ``horizontal()`` on a curvilinear grid of the same size, given only by 2-D ``nav_lat`` /
  ``nav_lon`` (the regular grid turned by a fraction of a degree and perturbed smoothly): both
  grid dims in one pass, then the grid's frame (Jacobian from the 2-D coordinates, computed once
  in memory) combined with them to give east and north;
* ``magnitude("y", "x")`` on the curvilinear grid: the same pass, each block's east and north
  combined into their length before it is written (one output, not two).

Each is built and computed (both derivatives, results persisted then freed) once per round,
interleaved, after a warm-up round; the medians and their ratio are printed (target: horizontal
at most 1.5 times along, docs/performance.md). xgrad keeps the last grids' metrics
(:data:`xgrad.metric_cache.CACHED_GRIDS`, found by the coordinates' exact values), so
``horizontal()`` is timed twice: on the grid of the previous call (the metric reused: the next
file of a model run) and as the first call on a grid (the metric computed: cache cleared).

    python benchmarks/grids.py                 # (8, 721, 1440) float32
    python benchmarks/grids.py --smoke         # tiny, seconds: checks the script runs
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np
from _timing import interleaved


def build(ntime: int, ny: int, nx: int, chunk: int) -> tuple[Any, Any]:
    """(regular, curvilinear) DataArrays sharing one persisted dask array."""
    import dask
    import dask.array as da
    import xarray as xr

    data = np.random.default_rng(0).standard_normal((ntime, ny, nx)).astype(np.float32)
    (x,) = dask.persist(da.from_array(data, chunks=(chunk, ny, nx)).map_blocks(np.copy))
    lat1 = np.linspace(-90.0, 90.0, ny)
    lon1 = np.arange(nx) * 360.0 / nx
    regular = xr.DataArray(
        x,
        dims=("time", "lat", "lon"),
        coords={
            "lat": ("lat", lat1, {"units": "degrees_north"}),
            "lon": ("lon", lon1, {"units": "degrees_east"}),
        },
        name="T",
        attrs={"units": "K"},
    )
    # a regular grid kept off the poles, turned by 0.3 degree and perturbed smoothly: 2-D only
    j, i = np.meshgrid(np.arange(ny, dtype=float), np.arange(nx, dtype=float), indexing="ij")
    lat = -89.5 + 179.0 * j / (ny - 1)
    lon = 360.0 * i / nx
    lat2 = lat + 0.3 * np.sin(np.radians(lon)) * np.cos(np.radians(lat))
    lon2 = lon + 0.3 * np.sin(np.radians(2 * lat)) + 0.1 * np.cos(np.radians(3 * lon))
    curvilinear = xr.DataArray(
        x,
        dims=("time", "y", "x"),
        coords={
            "nav_lat": (("y", "x"), lat2, {"units": "degrees_north"}),
            "nav_lon": (("y", "x"), (lon2 + 180.0) % 360.0 - 180.0, {"units": "degrees_east"}),
        },
        name="T",
        attrs={"units": "K"},
    )
    return regular, curvilinear


def run(fn: Callable[[], Any]) -> Any:
    import dask

    results = fn()
    results = results if isinstance(results, tuple) else (results,)
    return dask.persist(*(r.data for r in results))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", default="8,721,1440", help="time,y,x")
    ap.add_argument("--chunk", type=int, default=1, help="chunk length along time")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--smoke", action="store_true", help="tiny grid, 1 repeat")
    args = ap.parse_args()
    import dask

    import xgrad  # noqa: F401  (registers .grad)

    shape = (2, 19, 36) if args.smoke else tuple(int(n) for n in args.shape.split(","))
    repeat = 1 if args.smoke else args.repeat
    regular, curvilinear = build(*shape, chunk=args.chunk)
    east, _ = curvilinear.grad.horizontal()
    assert east.attrs["xgrad_geometry"] == "curvilinear"
    from xgrad.metric_cache import clear_metrics

    def first_call() -> tuple[Any, Any]:
        clear_metrics()
        return curvilinear.grad.horizontal()

    fns = {
        "along(lat, lon) regular": lambda: regular.grad.along("lat", "lon"),
        "horizontal() curvilinear": lambda: curvilinear.grad.horizontal(),
        "horizontal() first call": first_call,
        # |grad T| inside the derivatives' pass (the frame combined per block, then hypot)
        "magnitude() curvilinear": lambda: curvilinear.grad.magnitude("y", "x"),
    }
    with dask.config.set(scheduler="threads"):
        medians = interleaved(fns, repeat, run)
    print(f"shape {shape} float32, chunks of {args.chunk} along time, {repeat} repeats")
    for key, seconds in medians.items():
        print(f"{key:28s} {seconds:8.3f} s")
    along = medians["along(lat, lon) regular"]
    ratio = medians["horizontal() curvilinear"] / along
    print(f"ratio horizontal/along {ratio:.2f} (target <= 1.5)")
    first = medians["horizontal() first call"] / along
    print(f"ratio horizontal/along, first call on the grid {first:.2f}")
    print(f"ratio magnitude/along {medians['magnitude() curvilinear'] / along:.2f}")


if __name__ == "__main__":
    main()
