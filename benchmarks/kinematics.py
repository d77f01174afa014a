"""Kinematics: each ``Dataset.grad`` method against the derivatives it needs, and against MetPy.

One float64 Dataset ``u, v, T (time, lat, lon)`` on a global grid. Each comparison is timed
on its own, in interleaved rounds of its two calls (results persisted and freed; medians
printed): with every method and MetPy in the same rounds, a call's time depended on which
heavy call ran before it (dask ``vector_gradient`` / its derivatives measured 1.26-1.40 that
way, 0.97 over 21 rounds of the two alone).

* dask: ``vector_gradient`` / ``deformation`` / ``advection`` / ``frontogenesis`` on the
  chunked Dataset against the ``.grad.along("lat", "lon")`` calls on ``u``, ``v``, ``T`` that each
  one needs (the floor: what is left is the metric terms and the arithmetic); target <= 1.3x;
* in memory: the same methods on numpy-backed data against MetPy's ``vector_derivative``,
  ``total_deformation``, ``advection``, ``frontogenesis`` on the same data (a spherical CRS of
  the same radius; MetPy computes eagerly, xgrad's numpy input is differentiated in one pass). Also against
  the derivatives each needs in memory (target <= 1.3x).

    python benchmarks/kinematics.py                 # (8, 361, 720) float64, chunks of 2
    python benchmarks/kinematics.py --runs 2 --write-docs  # and rewrite the tables it quotes
    python benchmarks/kinematics.py --smoke         # tiny, seconds: checks the script runs
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import _docs
import numpy as np
from _timing import interleaved

RADIUS = 6371008.8
C = {"lon": "u", "lat": "v"}
TARGET = 1.3


def build(ntime: int, nlat: int, nlon: int) -> Any:
    import xarray as xr

    lat = np.linspace(-90, 90, nlat + 2)[1:-1]  # no pole rows: MetPy's metric is infinite there
    lon = np.arange(nlon) * 360 / nlon
    phi, lam = np.meshgrid(np.deg2rad(lat), np.deg2rad(lon), indexing="ij")
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((3, ntime, nlat, nlon)) * 0.1
    wave = np.cos(phi) * np.sin(3 * lam)
    fields = {
        "u": (20 * np.cos(phi) ** 2 + 5 * wave + noise[0], "m s-1"),
        "v": (5 * np.cos(phi) * np.cos(3 * lam) + noise[1], "m s-1"),
        "T": (280 + 30 * np.cos(phi) ** 2 + 2 * wave + noise[2], "K"),
    }
    return xr.Dataset(
        {k: (("time", "lat", "lon"), v, {"units": units}) for k, (v, units) in fields.items()},
        coords={
            "lat": ("lat", lat, {"units": "degrees_north"}),
            "lon": ("lon", lon, {"units": "degrees_east"}),
        },
    )


def _data(obj: Any) -> list[Any]:
    import xarray as xr

    if isinstance(obj, xr.Dataset):
        return [v.data for v in obj.data_vars.values()]
    if isinstance(obj, tuple | list):
        return [d for o in obj for d in _data(o)]
    return [obj.data]


def dask_methods(ds: Any) -> dict[str, dict[str, Callable[[], list[Any]]]]:
    """Per kinematics method: the method itself and the derivatives it needs."""
    import xgrad  # noqa: F401  (registers .grad)

    def along(*names: str) -> Callable[[], list[Any]]:
        return lambda: _data([ds[k].grad.along("lat", "lon") for k in names])

    return {
        "vector_gradient": {
            "method": lambda: _data(ds.grad.vector_gradient(C)),
            "derivatives": along("u", "v"),
        },
        "deformation": {
            "method": lambda: _data(ds.grad.deformation(C)),
            "derivatives": along("u", "v"),
        },
        "advection": {
            "method": lambda: _data(ds.grad.advection("T", C)),
            "derivatives": along("T"),
        },
        "frontogenesis": {
            "method": lambda: _data(ds.grad.frontogenesis("T", C)),
            "derivatives": along("u", "v", "T"),
        },
    }


def memory_methods(ds: Any) -> dict[str, dict[str, Callable[[], Any]]]:
    """Per kinematics method: xgrad on numpy-backed data and MetPy's function (if installed)."""
    import xgrad  # noqa: F401

    xgrad_calls = {
        "vector_gradient": lambda: ds.grad.vector_gradient(C),
        "deformation": lambda: ds.grad.deformation(C),
        "advection": lambda: ds.grad.advection("T", C),
        "frontogenesis": lambda: ds.grad.frontogenesis("T", C),
    }
    out = {k: {"xgrad": v} for k, v in xgrad_calls.items()}
    for k, case in dask_methods(ds).items():  # the same calls on numpy-backed data
        out[k]["derivatives"] = case["derivatives"]
    try:
        import metpy.calc as mpcalc
    except ImportError:
        return out
    kw = metpy_grid(ds)
    u, v, t = (ds[k].metpy.quantify().data for k in ("u", "v", "T"))

    def quiet(f: Callable[[], Any]) -> Callable[[], Any]:
        def call() -> Any:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return f()

        return call

    out["vector_gradient"]["metpy"] = quiet(lambda: mpcalc.vector_derivative(u, v, **kw))
    # MetPy's deformation is three functions; xgrad's one call returns all three
    out["deformation"]["metpy"] = quiet(
        lambda: (
            mpcalc.stretching_deformation(u, v, **kw),
            mpcalc.shearing_deformation(u, v, **kw),
            mpcalc.total_deformation(u, v, **kw),
        )
    )
    out["advection"]["metpy"] = quiet(lambda: mpcalc.advection(t, u, v, **kw))
    out["frontogenesis"]["metpy"] = quiet(lambda: mpcalc.frontogenesis(t, u, v, **kw))
    return out


def metpy_grid(ds: Any) -> dict[str, Any]:
    """MetPy's grid arguments, computed once (numpy quantities): spacings and map scales.

    MetPy derives them on every call from the Dataset's CF metadata, building a pyproj CRS
    each time (about 1 s per call on the benchmark machine, whatever the size); computed once
    here, what is timed is MetPy's arithmetic alone, the comparison most favourable to it.
    """
    mp = ds.metpy.assign_crs(grid_mapping_name="latitude_longitude", earth_radius=RADIUS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dx, dy = mp.u.metpy.grid_deltas["dx"], mp.u.metpy.grid_deltas["dy"]
        lon, lat = np.meshgrid(ds.lon.values, ds.lat.values)
        factors = mp.u.metpy.pyproj_proj.get_factors(lon, lat)
    from metpy.units import units

    return {
        "dx": dx,
        "dy": dy,
        "x_dim": -1,
        "y_dim": -2,
        "parallel_scale": units.Quantity(factors.parallel_scale, ""),
        "meridional_scale": units.Quantity(factors.meridional_scale, ""),
    }


def agreement(ds: Any, method: str, theirs: Any) -> float:
    """Largest difference between xgrad's ``method`` and MetPy's result, relative."""
    options = {"edge_order": 2, "boundary": "edge"}
    if method == "vector_gradient":
        ours = list(ds.grad.vector_gradient(C, **options).data_vars.values())
    elif method == "deformation":
        ours = list(ds.grad.deformation(C, **options).data_vars.values())
    else:
        ours = [getattr(ds.grad, method)("T", C, **options)]
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    inner = np.abs(ds.lat.values) < 60  # lat is the middle axis of (time, lat, lon)
    gaps = []
    for a, b in zip(ours, theirs, strict=True):
        a, b = a.values[:, inner], np.asarray(getattr(b, "magnitude", b))[:, inner]
        gaps.append(np.abs(a - b).max() / np.abs(b).max())
    return float(max(gaps))


def measure(ds: Any, chunk: int, repeat: int) -> list[tuple[str, float, str | None]]:
    """One run: print both sections; (case, ratio of medians, target or None) for the docs."""
    import dask

    lazy = ds.chunk({"time": chunk})
    (lazy,) = dask.persist(lazy)

    def persist(fn: Callable[[], list[Any]]) -> Any:
        return dask.persist(*fn(), scheduler="threads")

    dask_cases = dask_methods(lazy)
    med = {
        f"{m} {k}": t
        for m, case in dask_cases.items()
        for k, t in interleaved(case, repeat, persist).items()
    }
    print(f"== dask (chunks of {chunk} along time, threaded, persisted; median of {repeat}) ==")
    print(f"{'method':18}{'method [ms]':>13}{'derivatives [ms]':>18}{'ratio':>8}{'target':>9}")
    rows: list[tuple[str, float, str | None]] = []
    bound = f"<= {TARGET}"
    for m in dask_cases:
        a, b = med[f"{m} method"], med[f"{m} derivatives"]
        rows.append((f"dask: {m} / its derivatives", a / b, bound))
        ok = "met" if a / b <= TARGET else "MISSED"
        print(f"{m:18}{a * 1e3:13.1f}{b * 1e3:18.1f}{a / b:8.2f}{'<= ' + str(TARGET):>9} {ok}")

    memory_cases = memory_methods(ds)
    med = {}
    for m, case in memory_cases.items():  # xgrad against its derivatives, then against MetPy
        pairs = [("xgrad", "derivatives")] + ([("xgrad", "metpy")] if "metpy" in case else [])
        for ours, theirs in pairs:
            times = interleaved({k: case[k] for k in (ours, theirs)}, repeat, lambda fn: fn())
            med[f"{m} {theirs}"] = times[theirs]
            med[f"{m} {ours} vs {theirs}"] = times[ours]
    print(f"== in memory (numpy; median of {repeat}) ==")
    head = f"{'method':18}{'xgrad [ms]':>12}{'MetPy [ms]':>12}{'MetPy / xgrad':>15}"
    print(
        head
        + f"{'derivatives [ms]':>18}{'ratio':>7}{'(<= ' + str(TARGET) + ')':>10}"
        + (f"{'max difference':>16}")
    )
    for m, case in memory_cases.items():
        a, d = med[f"{m} xgrad vs derivatives"], med[f"{m} derivatives"]
        rows.append((f"numpy: {m} / its derivatives", a / d, bound))
        own = f"{d * 1e3:18.1f}{a / d:7.2f}{'met' if a / d <= TARGET else 'MISSED':>10}"
        if "metpy" in case:
            # MetPy against the xgrad calls of its own rounds
            a_mp, b = med[f"{m} xgrad vs metpy"], med[f"{m} metpy"]
            rows.append((f"numpy: MetPy / xgrad, {m}", b / a_mp, None))
            gap = agreement(ds, m, case["metpy"]())
            print(f"{m:18}{a * 1e3:12.1f}{b * 1e3:12.1f}{b / a_mp:15.2f}{own}{gap:16.1e}")
        else:
            print(f"{m:18}{a * 1e3:12.1f}{'(no MetPy)':>12}{'':15}{own}")
    print(
        "max difference: |xgrad - MetPy| / max |MetPy| within 60 degrees, same stencils "
        "(edge_order=2, boundary='edge'); MetPy differences the parallel scale for the metric "
        "term, xgrad takes tan(phi)/R"
    )
    return rows


def docs_blocks(rows: list, stamp: str, shape: tuple, chunk: int, repeat: int) -> list:
    """The (file, block, text) triples ``--write-docs`` writes; ranges are min-max over runs."""
    table = (
        f"Measured by `benchmarks/kinematics.py --write-docs`: float64 u, v, T {shape} (time, "
        f"lat, lon), dask chunks of {chunk} along time, persisted, threaded; in memory: the "
        f"same data as numpy; median of {repeat} interleaved rounds per run; {stamp}. Ratios "
        'of medians: a method\'s time over the `.grad.along("lat", "lon")` calls it needs '
        "(lower is better), and MetPy's time over xgrad's (higher is better); a range is "
        "min-max over runs.\n\n" + _docs.ratio_table(rows, issue=15)
    )
    methods = ("vector_gradient", "deformation", "advection", "frontogenesis")
    headline = _docs.operators_headline(
        "Kinematics",
        "kinematics.py",
        stamp,
        f"target {TARGET}x",
        rows,
        {m: f"dask: {m} / its derivatives" for m in methods},
    )
    return _docs.table_and_headline("kinematics", table, headline)


def main() -> None:
    # 9 rounds: a call takes 15-90 ms here, and with 5 rounds one slow call on a shared
    # machine moved a ratio by 0.3-0.5 between runs (dask vector_gradient 0.97 and 1.55)
    args, shape, chunk, repeat = _docs.parse_grid(
        __doc__, shape="8,361,720", chunk=2, repeat=9, smoke=(2, 19, 36)
    )
    ds = build(*shape)
    print(f"kinematics benchmark: float64 {shape}, u, v, T = {ds.nbytes / 1e6:.0f} MB")
    _docs.measure_runs(
        args,
        lambda: measure(ds, chunk, repeat),
        lambda rows, stamp: docs_blocks(rows, stamp, shape, chunk, repeat),
    )


if __name__ == "__main__":
    main()
