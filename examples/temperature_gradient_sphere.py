"""Temperature gradient on the sphere, in K per 100 km, with latitude stored north to south.

A zonal-mean temperature with a baroclinic zone and a wave, on a grid stored like ERA5
(latitude 90 -> -90).  ``grad.along("lat", "lon")`` gives per-metre derivatives with the right
sign whatever the storage order; ``grad.magnitude`` gives |grad T|.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from _gallery import parse, save

import xgrad  # noqa: F401

R = 6371008.8


def main() -> None:
    args = parse(__doc__.splitlines()[0], "temperature_gradient_sphere.png")
    step = 2.0 if args.fast else 0.5
    lat = np.arange(90.0, -90.0 - step / 2, -step)  # north to south, poles included
    lon = np.arange(0.0, 360.0, step)
    phi, lam = np.meshgrid(np.deg2rad(lat), np.deg2rad(lon), indexing="ij")
    front = np.tanh((np.rad2deg(phi) - 45 - 8 * np.sin(4 * lam)) / 6)
    temp = 288 - 35 * np.sin(phi) ** 2 - 8 * front
    da = xr.DataArray(
        temp,
        dims=("lat", "lon"),
        coords={
            "lat": ("lat", lat, {"units": "degrees_north"}),
            "lon": ("lon", lon, {"units": "degrees_east"}),
        },
        name="t2m",
        attrs={"units": "K", "long_name": "2 metre temperature"},
    ).chunk(lat=len(lat) // 4, lon=len(lon) // 4)
    dT_dy, dT_dx = da.grad.along("lat", "lon")
    size = da.grad.magnitude("lat", "lon")
    # analytic meridional gradient of the zonal-mean part, away from the front
    exact_dy = -35 * np.sin(2 * phi) / R
    quiet = np.abs(np.rad2deg(phi) - 45) > 40
    print(
        f"units {dT_dy.attrs['units']!r}; boundary along lon: {dT_dx.attrs.get('xgrad_boundary')}"
    )
    error = np.nanmax(np.abs(dT_dy.values - exact_dy)[quiet])
    print(f"dT/dy away from the front: max |xgrad - analytic| {error:.2e} K m-1")

    per100km = 1e5
    fig, ax = plt.subplots(figsize=(10, 5))
    mesh = ax.pcolormesh(lon, lat, size.values * per100km, cmap="magma_r", shading="auto")
    skip = max(1, len(lon) // 40)
    ax.quiver(
        lon[::skip],
        lat[::skip],
        -dT_dx.values[::skip, ::skip],
        -dT_dy.values[::skip, ::skip],
        scale=2e-4,
        width=0.0015,
        color="tab:cyan",
    )
    ax.contour(lon, lat, temp, levels=np.arange(240, 300, 5), colors="k", linewidths=0.5)
    fig.colorbar(mesh, ax=ax, label="|grad T| [K per 100 km]")
    ax.set_title("2 m temperature (contours, K), |grad T| (colours) and -grad T (arrows)")
    ax.set_xlabel("longitude [degrees_east]")
    ax.set_ylabel("latitude [degrees_north]")
    save(fig, args.out)


if __name__ == "__main__":
    main()
