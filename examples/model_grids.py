"""Gradients on real model grids: NEMO's ORCA ocean, a rotated-pole regional model, a satellite
product on a polar stereographic projection (files from ``iris-sample-data``).

Each file is opened with ``decode_coords="all"`` (so its grid mapping is found), and
``.grad.horizontal()`` gives the eastward and northward derivatives per metre on its own grid:
curvilinear 2-D ``nav_lat``/``nav_lon``, rotated pole, projected. The magnitude
``hypot(east, north)`` is drawn on each grid's true longitude and latitude.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pyproj
import xarray as xr
from _gallery import parse, save

import xgrad  # noqa: F401
from xgrad.cli.plot import geographic_mesh


def _open(name: str) -> xr.Dataset:
    import iris_sample_data

    with warnings.catch_warnings():
        # NEMO's tos names a cell_measures 'area' variable that the file does not hold
        warnings.filterwarnings("ignore", message="Variable\\(s\\) referenced in cell_measures")
        return xr.open_dataset(Path(iris_sample_data.path) / name, decode_coords="all")


def _true_lat_lon(ds: xr.Dataset, mapping: str, ydim: str, xdim: str) -> xr.Dataset:
    """2-D latitude/longitude of a rotated-pole grid, from its CF grid mapping (PROJ)."""
    attrs = ds[mapping].attrs
    crs = pyproj.CRS.from_cf(attrs)
    radius = attrs.get("earth_radius", attrs.get("semi_major_axis", 6371229.0))
    # (the rotated CRS's own geodetic_crs is the rotated one: name plain longitude/latitude)
    to_true = pyproj.Transformer.from_crs(crs, pyproj.CRS(proj="longlat", R=radius), always_xy=True)
    x, y = np.meshgrid(ds[xdim].values, ds[ydim].values)
    lon, lat = to_true.transform(x, y)
    return ds.assign_coords(
        lat=((ydim, xdim), lat, {"standard_name": "latitude", "units": "degrees_north"}),
        lon=((ydim, xdim), lon, {"standard_name": "longitude", "units": "degrees_east"}),
    )


def _magnitude(da: xr.DataArray) -> xr.DataArray:
    east, north = da.grad.horizontal()
    out = np.hypot(east, north)
    out.attrs = {"units": east.attrs["units"], "xgrad_geometry": east.attrs["xgrad_geometry"]}
    return out


def main() -> None:
    args = parse(__doc__.splitlines()[0], "model_grids.png")
    panels = []

    # NEMO ORCA2: a global tripolar ocean grid (curvilinear, north fold), potential temperature
    orca = _open("orca2_votemper.nc")["votemper"]
    if args.fast:
        orca = orca.isel(dim1=slice(None, None, 2))  # every other column: still periodic-ish
    panels.append(("NEMO ORCA2 sea temperature", _magnitude(orca.chunk(dim0=74))))

    # A rotated-pole regional model (Met Office UM): mean sea-level pressure
    pole = _open("rotated_pole.nc")
    pmsl = pole["air_pressure_at_sea_level"]
    grad = _magnitude(pmsl)
    grad = _true_lat_lon(
        grad.to_dataset(name="g"), "rotated_latitude_longitude", "grid_latitude", "grid_longitude"
    )["g"]
    panels.append(("rotated-pole model: sea-level pressure", grad))

    # MSG brightness temperature on a polar stereographic grid (projected, CF grid mapping)
    stereo = _open("toa_brightness_stereographic.nc")["data"]
    if args.fast:
        stereo = stereo.isel(x=slice(None, None, 2), y=slice(None, None, 2))
    panels.append(("stereographic satellite product: brightness temperature", _magnitude(stereo)))

    fig, axes = plt.subplots(
        1, 3, figsize=(17, 4.6), gridspec_kw={"width_ratios": [1.9, 1.1, 1.3]}, layout="constrained"
    )
    for ax, (title, grad) in zip(axes, panels, strict=True):
        lon, lat, values, xlim = geographic_mesh(grad.load())
        # per 100 km: numbers of a readable size, same units
        units = grad.attrs["units"].removesuffix(" m-1")
        shown = values * 1e5
        vmax = float(np.nanpercentile(shown.compressed(), 99))
        with warnings.catch_warnings():
            # curvilinear centres are not monotonic; their midpoints are the cells wanted
            warnings.filterwarnings("ignore", message="The input coordinates to pcolormesh")
            mesh = ax.pcolormesh(
                lon, lat, shown, shading="nearest", cmap="magma_r", vmin=0, vmax=vmax
            )
        if xlim is not None:
            ax.set_xlim(*xlim)
        ax.set_title(f"{title}\n({grad.attrs['xgrad_geometry']} grid)", fontsize=10)
        ax.set_xlabel("longitude [degrees_east]")
        ax.set_aspect(1.0 / np.cos(np.radians(np.clip(np.median(lat), -60, 60))))
        fig.colorbar(mesh, ax=ax, label=f"|grad| [{units} per 100 km]", shrink=0.8)
        print(f"{title}: median |grad| {np.ma.median(shown):.3g} {units} per 100 km")
    axes[0].set_ylabel("latitude [degrees_north]")
    save(fig, args.out)


if __name__ == "__main__":
    main()
