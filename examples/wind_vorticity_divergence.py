"""Vorticity and divergence of a global wind field, against their analytic values.

The wind is built from a streamfunction psi (rotational part) and a velocity potential chi
(divergent part), both degree-2 spherical harmonics, so relative vorticity = Laplacian(psi)
= -6 psi / R**2 and divergence = Laplacian(chi) = -6 chi / R**2 exactly.  ``ds.grad.curl`` and
``ds.grad.divergence`` include the spherical metric terms; longitude wraps (periodic, detected).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from _gallery import parse, save

import xgrad  # noqa: F401

R = 6371008.8


def main() -> None:
    args = parse(__doc__.splitlines()[0], "wind_vorticity_divergence.png")
    step = 4.0 if args.fast else 1.0
    lat = np.arange(-90 + step / 2, 90, step)  # cell centres: no point exactly at a pole
    lon = np.arange(0.0, 360.0, step)
    phi, lam = np.meshgrid(np.deg2rad(lat), np.deg2rad(lon), indexing="ij")
    psi0, chi0 = 5e7, 1e7  # m2 s-1
    psi = psi0 * np.sin(phi) * np.cos(phi) * np.cos(lam)
    chi = chi0 * np.cos(phi) ** 2 * np.cos(2 * lam)
    u = (-psi0 * np.cos(2 * phi) * np.cos(lam) - 2 * chi0 * np.cos(phi) * np.sin(2 * lam)) / R
    v = (-psi0 * np.sin(phi) * np.sin(lam) - chi0 * np.sin(2 * phi) * np.cos(2 * lam)) / R
    coords = {
        "lat": ("lat", lat, {"units": "degrees_north"}),
        "lon": ("lon", lon, {"units": "degrees_east"}),
    }
    wind = xr.Dataset(
        {
            "u": (("lat", "lon"), u, {"units": "m s-1", "long_name": "eastward wind"}),
            "v": (("lat", "lon"), v, {"units": "m s-1", "long_name": "northward wind"}),
        },
        coords=coords,
    ).chunk(lat=len(lat) // 3, lon=len(lon) // 4)
    components = {"lon": "u", "lat": "v"}
    zeta = wind.grad.curl(components, accuracy=4)
    delta = wind.grad.divergence(components, accuracy=4)
    exact = {"vorticity": -6 * psi / R**2, "divergence": -6 * chi / R**2}
    for name, field in (("vorticity", zeta), ("divergence", delta)):
        err = np.abs(field.values - exact[name])
        rel = np.nanmax(err[np.abs(lat) < 80]) / np.abs(exact[name]).max()
        print(
            f"{name}: units {field.attrs.get('units')!r}, max relative error (|lat| < 80) {rel:.1e}"
        )

    fig, axes = plt.subplots(2, 1, figsize=(10, 8), sharex=True)
    step_q = max(1, len(lon) // 36)
    for ax, field, title in (
        (axes[0], zeta, "relative vorticity  ds.grad.curl({'lon': 'u', 'lat': 'v'})"),
        (axes[1], delta, "divergence  ds.grad.divergence({'lon': 'u', 'lat': 'v'})"),
    ):
        mesh = ax.pcolormesh(lon, lat, field.values * 1e6, cmap="RdBu_r", shading="auto")
        ax.quiver(
            lon[::step_q],
            lat[::step_q],
            u[::step_q, ::step_q],
            v[::step_q, ::step_q],
            scale=300,
            width=0.0015,
        )
        fig.colorbar(
            mesh, ax=ax, label=f"{field.name or title.split()[0]} [1e-6 {field.attrs.get('units')}]"
        )
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("latitude [degrees_north]")
    axes[1].set_xlabel("longitude [degrees_east]")
    fig.suptitle("Wind from a streamfunction and a velocity potential (arrows)")
    save(fig, args.out)


if __name__ == "__main__":
    main()
