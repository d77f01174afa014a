"""On the sphere: ``grad.along("lat", "lon")`` of a dask array against what else a user could run.

One persisted float32 dask array ``T(time, lat, lon)`` (a 0.25 degree global grid, chunked
along time), timed in interleaved rounds (every method once per round, results persisted and
freed, medians printed with ratios):

* ``x.map_blocks(np.copy)``: the floor, one pass into fresh memory;
* ``grad.along("lat", "lon")``: xgrad on the sphere, metres, metric factors in the kernel pass;
* ``grad.along(..., geometry="cartesian")``: the same derivatives per degree (no metric);
* ``differentiate`` by hand: xarray's ``differentiate`` per dim in radians, then the metric
  factors ``1/R`` and ``1/(R cos phi)``, what one writes without xgrad.

Then the sphere's vector operators against the derivatives they need, dask and in memory (the
same data as numpy), with the targets of issue #14: ``magnitude`` <= 1.3x and ``laplacian``
<= 1.5x ``along("lat", "lon")``; ``divergence``/``curl`` of ``(u, v)`` <= 1.3x the two
derivatives they take (``u`` along lon and ``v`` along lat; ``v`` along lon and ``u`` along lat).

    python benchmarks/sphere.py                 # (64, 721, 1440) float32, 265 MB
    python benchmarks/sphere.py --runs 2 --write-docs  # and rewrite the tables it quotes
    python benchmarks/sphere.py --smoke         # tiny, seconds: checks the script runs
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import _docs
import numpy as np
from _timing import interleaved

RADIUS = 6371008.8
COMPONENTS = {"lon": "u", "lat": "v"}


def build(ntime: int, nlat: int, nlon: int, chunk: int) -> Any:
    import dask
    import dask.array as da
    import xarray as xr

    data = np.random.default_rng(0).standard_normal((ntime, nlat, nlon)).astype(np.float32)
    (x,) = dask.persist(da.from_array(data, chunks=(chunk, nlat, nlon)).map_blocks(np.copy))
    lat = xr.DataArray(np.linspace(-90, 90, nlat), dims="lat", attrs={"units": "degrees_north"})
    lon = xr.DataArray(np.arange(nlon) * 360 / nlon, dims="lon", attrs={"units": "degrees_east"})
    return xr.DataArray(x, dims=("time", "lat", "lon"), coords={"lat": lat, "lon": lon})


def winds(t: Any) -> Any:
    """``u`` (the benchmark's array) and ``v`` (its negative, another array) as one Dataset."""
    import dask

    (v,) = dask.persist(-t)
    return t.to_dataset(name="u").assign(v=v)


def operators(ds: Any) -> dict[str, tuple[Callable[[], list[Any]], Callable[[], list[Any]], float]]:
    """Per vector operator: (the operator, the derivatives it needs, the target ratio)."""
    import xgrad  # noqa: F401

    u, v = ds.u, ds.v

    def data(*arrays: Any) -> list[Any]:
        return [a.data for a in arrays]

    return {
        "magnitude": (
            lambda: data(u.grad.magnitude("lat", "lon")),
            lambda: data(*u.grad.along("lat", "lon")),
            1.3,
        ),
        "laplacian": (
            lambda: data(u.grad.laplacian("lat", "lon")),
            lambda: data(*u.grad.along("lat", "lon")),
            1.5,
        ),
        "divergence": (
            lambda: data(ds.grad.divergence(COMPONENTS)),
            lambda: data(*u.grad.along("lon"), *v.grad.along("lat")),
            1.3,
        ),
        "curl": (
            lambda: data(ds.grad.curl(COMPONENTS)),
            lambda: data(*v.grad.along("lon"), *u.grad.along("lat")),
            1.3,
        ),
    }


def operator_table(
    ds: Any, repeat: int, run: Callable[[Callable[[], Any]], Any]
) -> dict[str, tuple[float, float]]:
    """Print each operator against its derivatives; (ratio, target) per operator."""
    cases = operators(ds)
    flat = {}
    for name, (method, needed, _) in cases.items():
        flat[f"{name} method"] = method
        flat[f"{name} derivatives"] = needed
    med = interleaved(flat, repeat, run)
    print(f"{'operator':14}{'operator [ms]':>15}{'derivatives [ms]':>18}{'ratio':>8}{'target':>9}")
    found = {}
    for name, (_, _, target) in cases.items():
        a, b = med[f"{name} method"], med[f"{name} derivatives"]
        ok = "met" if a / b <= target else "MISSED"
        print(f"{name:14}{a * 1e3:15.1f}{b * 1e3:18.1f}{a / b:8.2f}{'<= ' + str(target):>9} {ok}")
        found[name] = (a / b, target)
    return found


def by_hand(t: Any) -> list[Any]:
    """d/dy and d/dx in metres with xarray alone (edges one-sided, as xgrad's default)."""
    rad = t.assign_coords(lat=np.deg2rad(t.lat), lon=np.deg2rad(t.lon))
    cos = np.cos(rad.lat).where(np.abs(t.lat.values) < 90)
    return [
        rad.differentiate("lat") / RADIUS,
        rad.differentiate("lon") / (RADIUS * cos),
    ]


def methods(t: Any) -> dict[str, Callable[[], list[Any]]]:
    import xgrad  # noqa: F401  (registers .grad)

    return {
        "x.map_blocks(np.copy)": lambda: [t.data.map_blocks(np.copy)],
        'grad.along("lat", "lon")': lambda: [r.data for r in t.grad.along("lat", "lon")],
        "grad.along(..., cartesian)": lambda: [
            r.data for r in t.grad.along("lat", "lon", geometry="cartesian")
        ],
        "differentiate + metric by hand": lambda: [r.data for r in by_hand(t)],
    }


def measure(t: Any, repeat: int) -> list[tuple[str, float, str | None]]:
    """One run: print every section; (case, ratio of medians, target or None) for the docs."""
    import dask

    med = interleaved(methods(t), repeat, lambda fn: dask.persist(*fn(), scheduler="threads"))
    print(f"{'method':34}{'median [ms]':>12}{'time / copy':>13}{'by hand / this':>16}")
    for key, m in med.items():
        ratio = med["differentiate + metric by hand"] / m
        print(f"{key:34}{m * 1e3:12.1f}{m / med['x.map_blocks(np.copy)']:13.2f}{ratio:16.2f}")
    along = med['grad.along("lat", "lon")']
    rows: list[tuple[str, float, str | None]] = [
        ('dask: along("lat", "lon") / copy', along / med["x.map_blocks(np.copy)"], None),
        ("dask: differentiate + metric by hand / along", med[BY_HAND] / along, None),
    ]
    ds = winds(t)
    print("== vector operators, dask (as above); derivatives: along('lat', 'lon') for magnitude")
    print("   and laplacian, the two derivatives taken for divergence and curl ==")
    found = operator_table(ds, repeat, lambda fn: dask.persist(*fn(), scheduler="threads"))
    rows += [(f"dask: {k} / {NEEDS[k]}", r, f"<= {b}") for k, (r, b) in found.items()]
    print("== vector operators, in memory (the same data as numpy) ==")
    found = operator_table(ds.compute(), repeat, lambda fn: fn())
    rows += [(f"numpy: {k} / {NEEDS[k]}", r, f"<= {b}") for k, (r, b) in found.items()]
    return rows


BY_HAND = "differentiate + metric by hand"
NEEDS = {  # what each operator is compared with, in the words of the docs table
    "magnitude": 'along("lat", "lon")',
    "laplacian": 'along("lat", "lon")',
    "divergence": "d/dlon of u and d/dlat of v",
    "curl": "d/dlon of v and d/dlat of u",
}


def docs_blocks(rows: list, stamp: str, shape: tuple, chunk: int, repeat: int) -> list:
    """The (file, block, text) triples ``--write-docs`` writes; ranges are min-max over runs."""
    table = (
        f"Measured by `benchmarks/sphere.py --write-docs`: float32 {shape} (time, lat, lon), "
        f"dask chunks of {chunk} along time, persisted, threaded; in memory: the same data as "
        f"numpy; median of {repeat} interleaved rounds per run; {stamp}. Ratios of medians "
        "(time of the operator / time of the derivatives it needs, lower is better); a range "
        "is min-max over runs.\n\n" + _docs.ratio_table(rows, issue=14)
    )
    headline = _docs.operators_headline(
        "Sphere operators",
        "sphere.py",
        stamp,
        "targets: `laplacian` 1.5x, the others 1.3x",
        rows,
        {k: f"dask: {k} / {NEEDS[k]}" for k in NEEDS},
    )
    return _docs.table_and_headline("operators", table, headline)


def main() -> None:
    args, shape, chunk, repeat = _docs.parse_grid(
        __doc__, shape="64,721,1440", chunk=8, repeat=9, smoke=(4, 19, 36)
    )
    t = build(*shape, chunk)
    mb = t.nbytes / 1e6
    print(f"sphere benchmark: float32 {shape} = {mb:.0f} MB, chunks of {chunk} along time,")
    print(f"threaded scheduler, persisted; median of {repeat} interleaved rounds")
    _docs.measure_runs(
        args,
        lambda: measure(t, repeat),
        lambda rows, stamp: docs_blocks(rows, stamp, shape, chunk, repeat),
    )


if __name__ == "__main__":
    main()
