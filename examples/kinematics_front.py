"""Deformation, Okubo-Weiss and frontogenesis of a jet streak with a front, on a lat/lon grid.

No package that installs offline ships real winds, so the flow is synthetic but shaped like
the real thing: a meandering westerly jet (50 m s-1 at its core) whose speed peaks in a jet
streak, built from a streamfunction on the sphere (so its divergence is exactly zero), and a
potential-temperature front along the jet axis, cold to the north. Upstream of the streak the
flow is confluent: deformation packs the isentropes together there (positive frontogenesis)
and spreads them downstream. Everything is computed lazily on a chunked Dataset, per metre on
the sphere with the metric terms (``ds.grad.deformation``, ``ds.grad.frontogenesis``).
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from _gallery import parse, save

import xgrad  # noqa: F401

R = 6371008.8
erf = np.vectorize(math.erf, otypes=[float])


def jet_and_front(step: float) -> xr.Dataset:
    lat = np.arange(20.0, 70.0 + step / 2, step)
    lon = np.arange(-80.0, 40.0 + step / 2, step)
    phi, lam = np.meshgrid(np.deg2rad(lat), np.deg2rad(lon), indexing="ij")
    u0, width = 50.0, np.deg2rad(5.0)  # jet core speed (m s-1), half-width
    # the axis meanders; the speed peaks in a streak centred at 10 W
    k, amp = 2 * np.pi / np.deg2rad(60.0), np.deg2rad(4.0)
    axis = np.deg2rad(45.0) + amp * np.sin(k * (lam + np.deg2rad(50.0)))
    daxis = amp * k * np.cos(k * (lam + np.deg2rad(50.0)))
    x = (lam + np.deg2rad(10.0)) / np.deg2rad(25.0)
    streak, dstreak = 0.6 + 0.4 * np.exp(-(x**2)), -0.8 * x * np.exp(-(x**2)) / np.deg2rad(25.0)
    s = (phi - axis) / width
    gauss, integral = np.exp(-(s**2)), np.sqrt(np.pi) / 2 * erf(s)
    # psi = -u0 R width streak(lam) integral(s): u = -psi_phi / R, v = psi_lam / (R cos phi)
    u = u0 * streak * gauss
    v = u0 * (streak * daxis * gauss - width * dstreak * integral) / np.cos(phi)
    theta = 300.0 - 8.0 * erf((phi - axis) / np.deg2rad(2.5)) - 0.3 * np.rad2deg(phi - 0.785)
    coords = {
        "lat": ("lat", lat, {"units": "degrees_north"}),
        "lon": ("lon", lon, {"units": "degrees_east"}),
    }
    dims = ("lat", "lon")
    return xr.Dataset(
        {
            "u": (dims, u, {"units": "m s-1", "long_name": "eastward wind"}),
            "v": (dims, v, {"units": "m s-1", "long_name": "northward wind"}),
            "theta": (dims, theta, {"units": "K", "long_name": "potential temperature"}),
        },
        coords=coords,
    )


def main() -> None:
    args = parse(__doc__.splitlines()[0], "kinematics_front.png")
    ds = jet_and_front(1.0 if args.fast else 0.25)
    ds = ds.chunk(lat=ds.sizes["lat"] // 3 + 1, lon=ds.sizes["lon"] // 4 + 1)
    wind = {"lon": "u", "lat": "v"}
    deformation = ds.grad.deformation(wind, accuracy=4)  # lazy: nothing computed yet
    zeta = ds.grad.curl(wind, accuracy=4)
    okubo_weiss = (
        deformation.stretching_deformation**2 + deformation.shearing_deformation**2 - zeta**2
    )
    front = ds.grad.frontogenesis("theta", wind, accuracy=4)
    div = ds.grad.divergence(wind, accuracy=4)

    # checks: the wind is non-divergent by construction; the vector gradient's trace is too
    g = ds.grad.vector_gradient(wind, accuracy=4)
    scale = float(np.abs(zeta).max())
    print(f"max |divergence| / max |vorticity|: {float(np.abs(div).max()) / scale:.1e}")
    trace = g.du_dx + g.dv_dy
    print(f"max |du/dx + dv/dy| / max |vorticity|: {float(np.abs(trace).max()) / scale:.1e}")
    print(
        f"total deformation up to {float(deformation.total_deformation.max()):.2e} "
        f"{deformation.total_deformation.attrs['units']}; frontogenesis from "
        f"{float(front.min()):.2e} to {float(front.max()):.2e} {front.attrs['units']}"
    )

    per_100km_3h = 1e5 * 3 * 3600.0  # K m-1 s-1 -> K (100 km)-1 (3 h)-1
    panels = [
        (deformation.total_deformation * 1e5, "viridis", None, "total deformation [1e-5 s-1]"),
        (okubo_weiss * 1e10, "RdBu_r", "sym", "Okubo-Weiss: strain^2 - vorticity^2 [1e-10 s-2]"),
        (front * per_100km_3h, "RdBu_r", "sym", "frontogenesis [K (100 km)-1 (3 h)-1]"),
    ]
    lon, lat = ds.lon.values, ds.lat.values
    fig, axes = plt.subplots(3, 1, figsize=(9, 11), sharex=True)
    every = max(1, len(lon) // 30)
    for ax, (field, cmap, sym, title) in zip(axes, panels, strict=True):
        values = field.values
        limit = np.nanmax(np.abs(values)) if sym else None
        mesh = ax.pcolormesh(
            lon,
            lat,
            values,
            cmap=cmap,
            shading="auto",
            vmin=-limit if sym else None,
            vmax=limit,
        )
        ax.contour(
            lon, lat, ds.theta.values, levels=np.arange(270, 330, 2), colors="k", linewidths=0.5
        )
        ax.quiver(
            lon[::every],
            lat[::every],
            ds.u.values[::every, ::every],
            ds.v.values[::every, ::every],
            scale=700,
            width=0.0015,
            color="0.3",
        )
        fig.colorbar(mesh, ax=ax)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("latitude [degrees_north]")
    axes[-1].set_xlabel("longitude [degrees_east]")
    fig.suptitle("Jet streak and front: isentropes (2 K) and wind")
    save(fig, args.out)


if __name__ == "__main__":
    main()
