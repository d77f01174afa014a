"""``xgrad demo``: a synthetic global field with a known gradient, end to end.

The field, on a 1-degree grid of cell centres (no point at a pole), over four daily steps,

    T(t, lat, lon) = 280 + 30 cos(lat) + 10 cos(lat)^2 sin(lon - 30 t)      [K; t in days]

has, on a sphere of radius R, the exact gradient (per metre)

    dT/dy = (1/R) dT/dlat            = -(30 + 20 cos(lat) sin(lon - 30 t)) sin(lat) / R
    dT/dx = 1/(R cos lat) dT/dlon    = 10 cos(lat) cos(lon - 30 t) / R

and per degree (``geometry="cartesian"``) the same without the metric factors, times pi/180.
The demo writes the field to ``DIR/field.zarr`` (computed lazily, chunk by chunk), runs exactly
what ``xgrad gradient DIR/field.zarr DIR/gradient.zarr --along lat lon --geometry sphere
--edge-order 2`` runs (longitude is recognised as periodic, latitude has edges), draws
``DIR/gradient.png`` and prints the error against the exact gradient: the stencils' truncation
error, O(h^2) with h = 1 degree, about 1e-4 of the gradient's size.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import xarray as xr

from ..earth import MEAN_RADIUS
from .errors import InputError
from .pipeline import run_gradient
from .plot import plot_dataarray
from .schedulers import scheduler
from .writing import write_dataset

__all__ = ["analytic_gradient", "run_demo", "synthetic_field"]

T0, A, B, SPEED = 280.0, 30.0, 10.0, 30.0  # K, K, K, degrees of longitude per day
RADIUS = MEAN_RADIUS  # the library's default sphere


#: Marks the demo's own files: the field's ``title`` starts with it, the gradient's ``history``
#: holds it, the PNG's ``Source`` text is it.  The demo replaces only files that carry it.
SOURCE = "xgrad demo"


def _check_own_output(out: Path) -> None:
    """InputError where ``out`` holds a ``field.zarr``, ``gradient.zarr`` or ``gradient.png``
    the demo did not write: it replaces its own earlier output, never a user's files."""
    import zarr

    def zarr_attr(path: Path, name: str) -> str:
        try:
            return str(zarr.open_group(str(path), mode="r").attrs.get(name, ""))
        except Exception:  # not a Zarr group (a file, another directory, a damaged store)
            return ""

    def png_source(path: Path) -> bool:
        # the Source text chunk the demo writes comes right after the PNG header
        if not path.is_file():
            return False
        with open(path, "rb") as f:
            return f"Source\0{SOURCE}".encode() in f.read(4096)

    owned = {
        "field.zarr": lambda p: zarr_attr(p, "title").startswith(SOURCE),
        "gradient.zarr": lambda p: SOURCE in zarr_attr(p, "history"),
        "gradient.png": png_source,
    }
    for name, own in owned.items():
        path = out / name
        if os.path.lexists(path) and not own(path):
            raise InputError(
                f"--out {str(out)!r} holds {name}, which the demo did not write (it replaces only "
                "its own earlier output); choose another --out, or move that file"
            )


def synthetic_field(ntime: int = 4, nlat: int = 180, nlon: int = 360) -> xr.Dataset:
    """The demo's temperature field, lazy (dask), CF-described; see the module docstring.

    Parameters
    ----------
    ntime, nlat, nlon : int
        Grid size; latitudes and longitudes are cell centres of a regular global grid.

    Returns
    -------
    xarray.Dataset
        ``T(time, lat, lon)`` in K, chunked ``(1, nlat // 2, nlon // 2)``.
    """
    import dask.array as dsa

    lat = -90 + (np.arange(nlat) + 0.5) * 180 / nlat
    lon = (np.arange(nlon) + 0.5) * 360 / nlon
    days = np.arange(ntime, dtype=float)
    chunks = (1, max(1, nlat // 2), max(1, nlon // 2))
    phi = dsa.from_array(np.deg2rad(lat), chunks=chunks[1])[None, :, None]
    lam = dsa.from_array(np.deg2rad(lon), chunks=chunks[2])[None, None, :]
    t = dsa.from_array(days, chunks=chunks[0])[:, None, None]
    # array first: with dask's array expressions (dask 2026.8) a numpy scalar times an
    # expression array raises AttributeError (it has no ``__array_priority__``)
    wave = np.sin(lam - t * np.deg2rad(SPEED))
    temperature = T0 + A * np.cos(phi) + B * np.cos(phi) ** 2 * wave
    return xr.Dataset(
        {"T": (("time", "lat", "lon"), temperature, {"units": "K", "long_name": "temperature"})},
        coords={
            "time": ("time", np.datetime64("2000-01-01", "ns") + days.astype("timedelta64[D]")),
            "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
            "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"}),
        },
        attrs={"title": f"{SOURCE}: synthetic global temperature with an analytic gradient"},
    )


def analytic_gradient(
    ds: xr.Dataset, geometry: str, radius: float = RADIUS
) -> dict[str, np.ndarray]:
    """Exact ``dT_dlat`` and ``dT_dlon`` of :func:`synthetic_field` on ``ds``'s grid.

    ``geometry="sphere"`` gives per-metre values; ``"cartesian"`` per degree.
    """
    phi = np.deg2rad(ds.lat.values)[None, :, None]
    days = (ds.time.values - ds.time.values[0]) / np.timedelta64(1, "D")
    phase = np.deg2rad(ds.lon.values)[None, None, :] - np.deg2rad(SPEED) * days[:, None, None]
    d_dlat = -(A + 2 * B * np.cos(phi) * np.sin(phase)) * np.sin(phi)  # per radian
    d_dlon = B * np.cos(phi) ** 2 * np.cos(phase)
    if geometry == "sphere":
        return {"dT_dlat": d_dlat / radius, "dT_dlon": d_dlon / (radius * np.cos(phi))}
    per_degree = np.pi / 180
    return {"dT_dlat": d_dlat * per_degree, "dT_dlon": d_dlon * per_degree}


def run_demo(
    out_dir: str | os.PathLike = "xgrad-demo-output", *, quiet: bool = False
) -> dict[str, float]:
    """Run the demo; write ``field.zarr``, ``gradient.zarr`` and ``gradient.png`` into ``out_dir``.

    Parameters
    ----------
    out_dir : str or path-like, default: "xgrad-demo-output"
        Created if missing; the demo's own earlier files there are replaced, nothing else: a
        ``field.zarr``, ``gradient.zarr`` or ``gradient.png`` it did not write is an
        InputError (exit status 2), before anything is written.
    quiet : bool, default: False
        Print nothing.

    Returns
    -------
    dict of str to float
        ``max_abs_error`` and ``relative_error`` (max abs error / max abs exact value) per
        output variable, e.g. ``"dT_dlat.relative_error"``, plus ``"seconds"``.
    """
    say = (lambda *a: None) if quiet else print
    start = time.perf_counter()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {str(out)!r} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    _check_own_output(out)
    field = synthetic_field()
    sizes = " x ".join(f"{n} {d}" for d, n in field.sizes.items())
    say(f"xgrad demo: T = {T0:g} + {A:g} cos(lat) + {B:g} cos(lat)^2 sin(lon - {SPEED:g} t) K")
    say(
        f"  grid {sizes}, dask chunks {tuple(c[0] for c in field['T'].chunks)}, sphere of radius {RADIUS:.1f} m"
    )
    with scheduler("threads") as compute:
        write_dataset(field, out / "field.zarr", compute, overwrite=True)
    geometry = "sphere"
    path, names = run_gradient(
        out / "field.zarr",
        out / "gradient.zarr",
        ["lat", "lon"],
        options={"geometry": geometry, "edge_order": 2},
        overwrite=True,
        command=SOURCE,
    )
    results: dict[str, float] = {}
    with xr.open_zarr(path) as grad:
        plot_dataarray(grad["dT_dlon"], out / "gradient.png", metadata={"Source": SOURCE})
        exact = analytic_gradient(grad, geometry)
        say(
            f"  wrote {out / 'field.zarr'}, {out / 'gradient.zarr'} ({', '.join(names)}), "
            f"{out / 'gradient.png'}"
        )
        say(f"  geometry {geometry!r}; error against the analytic gradient:")
        for name in names:
            # computed by dask: with its array expressions (dask 2026.8) ``.values`` of a dask
            # array converts it element by element (the array has no ``__array__``)
            values = grad[name].compute().values
            err = float(np.nanmax(np.abs(values - exact[name])))
            scale = float(np.nanmax(np.abs(exact[name])))
            results[f"{name}.max_abs_error"] = err
            results[f"{name}.relative_error"] = err / scale
            boundary = grad[name].attrs.get("xgrad_boundary", "?")
            units = grad[name].attrs.get("units", "")
            say(
                f"    {name}: max abs error {err:.3e} {units} (relative {err / scale:.2e}; "
                f"boundary {boundary})"
            )
    results["seconds"] = time.perf_counter() - start
    say(
        f"  done in {results['seconds']:.1f} s. Next: xgrad gradient {out / 'field.zarr'} "
        f"out.nc --along lat lon --plot out.png"
    )
    return results
