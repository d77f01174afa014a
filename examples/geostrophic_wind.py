"""Geostrophic wind and its relative vorticity from a global geopotential field, on the sphere.

A synthetic mid-troposphere geopotential ``Phi = g Z`` on a regular, chunked latitude/longitude
grid: a poleward decrease (westerlies), a wavenumber-5 train of troughs and ridges, and a
cut-off low near 50 N, 200 E. The geostrophic wind balances the Coriolis force and the pressure-gradient force::

    u_g = -(1/f) dPhi/dy,   v_g = (1/f) dPhi/dx,   f = 2 Omega sin(lat)

with ``d/dy`` and ``d/dx`` per metre on the sphere: ``.grad.along("lat", "lon")`` finds the CF
latitude/longitude, applies ``1/R`` and ``1/(R cos lat)``, and wraps the longitude seam. Its
relative vorticity is ``ds.grad.curl({"lon": "u", "lat": "v"})`` (flux form on the sphere).
Near the equator f vanishes and geostrophy fails: the wind is masked within 15 degrees.
Everything is lazy (dask) until the plot needs the numbers.

Run: python examples/geostrophic_wind.py [--fast] [--out PNG]
"""

from __future__ import annotations

import dask.array as dsa
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from _gallery import parse, save

import xgrad  # noqa: F401  (registers the .grad accessor)

G = 9.80665  # m s-2
OMEGA = 7.292115e-5  # s-1, Earth's rotation rate
EQUATORIAL_BAND = 15.0  # degrees: no geostrophic wind closer to the equator


def wave_shape(phi):
    """Latitude profile of the wave: 1 at its peak (48 degrees), ``cos(phi)**5`` at the poles.

    A wavenumber-5 pattern is smooth at a pole only if it vanishes there like ``cos(phi)**5``;
    with a slower decay its Laplacian (and so its vorticity) would not vanish at the poles.
    """
    peak = np.arctan(np.sqrt(6 / 5))  # where cos**5 sin**6 is largest
    return (np.cos(phi) ** 5 * np.sin(phi) ** 6) / (np.cos(peak) ** 5 * np.sin(peak) ** 6)


def geopotential(step: float) -> xr.DataArray:
    """Phi(lat, lon) in m2 s-2 on a ``step``-degree grid of cell centres, chunked (lazy)."""
    lat = np.arange(-90 + step / 2, 90, step)
    lon = np.arange(0.0, 360.0, step)
    chunks = (max(1, lat.size // 3), max(1, lon.size // 4))
    phi = dsa.from_array(np.deg2rad(lat), chunks=chunks[0])[:, None]
    lam = dsa.from_array(np.deg2rad(lon), chunks=chunks[1])[None, :]
    # cut-off low: a Gaussian in great-circle distance from (50 N, 200 E)
    centre_phi, centre_lam = np.deg2rad(50.0), np.deg2rad(200.0)
    cos_d = np.sin(phi) * np.sin(centre_phi) + np.cos(phi) * np.cos(centre_phi) * np.cos(
        lam - centre_lam
    )
    distance = np.arccos(np.clip(cos_d, -1.0, 1.0))
    height = (
        5800.0
        - 500.0 * np.sin(phi) ** 2  # colder poles: heights fall poleward
        + 120.0 * wave_shape(phi) * np.cos(5 * lam)  # troughs and ridges
        - 300.0 * np.exp(-((distance / 0.15) ** 2))  # cut-off low
    )
    return xr.DataArray(
        G * height,
        dims=("lat", "lon"),
        coords={
            "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
            "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"}),
        },
        name="Phi",
        attrs={"units": "m2 s-2", "long_name": "geopotential"},
    )


def geostrophic_wind(phi: xr.DataArray) -> xr.Dataset:
    """u_g, v_g (m s-1, NaN near the equator) and their relative vorticity (s-1); lazy."""
    dphi_dy, dphi_dx = phi.grad.along("lat", "lon")  # m s-2 each, one pass, periodic in lon
    print(
        f"dPhi/dy: {dphi_dy.attrs['units']} ({dphi_dy.attrs['xgrad_boundary']}), "
        f"dPhi/dx: {dphi_dx.attrs['units']} ({dphi_dx.attrs['xgrad_boundary']})"
    )
    # f is NaN in the equatorial band (not 0): no 0/0 there, and no wind either
    f = (2 * OMEGA * np.sin(np.deg2rad(phi.lat))).where(np.abs(phi.lat) >= EQUATORIAL_BAND)
    wind = {"units": "m s-1"}
    ds = xr.Dataset(
        {
            "u": (-dphi_dy / f).assign_attrs(wind, long_name="geostrophic u"),
            "v": (dphi_dx / f).assign_attrs(wind, long_name="geostrophic v"),
        }
    )
    ds["zeta"] = ds.grad.curl({"lon": "u", "lat": "v"})
    return ds


def main() -> None:
    args = parse(__doc__.splitlines()[0], "geostrophic_wind.png")
    phi = geopotential(4.0 if args.fast else 1.0)
    ds = geostrophic_wind(phi)
    zeta = ds.zeta
    print(
        f"chunks {ds.u.chunks}; vorticity units {zeta.attrs['units']!r}: {zeta.attrs['long_name']}"
    )
    ds, height = ds.compute(), (phi / G).compute()
    speed = np.hypot(ds.u, ds.v)
    print(f"max geostrophic speed {float(speed.max()):.1f} m s-1")

    lon, lat = ds.lon.values, ds.lat.values
    fig, axes = plt.subplots(2, 1, figsize=(10, 9), sharex=True, constrained_layout=True)
    ax = axes[0]
    mesh = ax.pcolormesh(lon, lat, speed, cmap="viridis", shading="nearest", vmin=0)
    fig.colorbar(mesh, ax=ax, label="geostrophic wind speed [m s-1]")
    lines = ax.contour(
        lon, lat, height, levels=np.arange(5000, 6000, 60), colors="w", linewidths=0.7
    )
    ax.clabel(lines, fmt="%d", fontsize=7)
    every = max(1, lat.size // 18)
    ax.quiver(
        lon[::every],
        lat[::every],
        ds.u.values[::every, ::every],
        ds.v.values[::every, ::every],
        color="k",
        scale=900,
        width=0.0018,
    )
    ax.set_title("Geopotential height [m] (contours) and geostrophic wind (arrows, colours)")
    ax.set_ylabel("latitude [degrees_north]")

    ax = axes[1]
    scaled = zeta * 1e5
    limit = float(np.nanpercentile(np.abs(scaled.values), 99))
    mesh = ax.pcolormesh(
        lon, lat, scaled, cmap="RdBu_r", shading="nearest", vmin=-limit, vmax=limit
    )
    fig.colorbar(mesh, ax=ax, label=f"relative vorticity [1e-5 {zeta.attrs['units']}]")
    ax.contour(lon, lat, height, levels=np.arange(5000, 6000, 60), colors="k", linewidths=0.5)
    ax.set_title(
        "Geostrophic relative vorticity, ds.grad.curl({'lon': 'u', 'lat': 'v'}) "
        f"(NaN within {EQUATORIAL_BAND:g} degrees of the equator)"
    )
    ax.set_xlabel("longitude [degrees_east]")
    ax.set_ylabel("latitude [degrees_north]")
    for ax in axes:
        ax.set_xlim(lon[0], lon[-1])
        ax.set_ylim(-90, 90)
        ax.set_yticks(range(-90, 91, 30))
    save(fig, args.out)


if __name__ == "__main__":
    main()
