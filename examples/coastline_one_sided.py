"""One-sided derivatives next to a coastline: ``nan="one-sided"`` keeps the ocean points.

Sea-surface height on a grid with an island of land (NaN). numpy's stencils (the default,
``nan="propagate"``) lose every ocean point next to land; ``nan="one-sided"`` recomputes them
from the valid side.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from _gallery import parse, save

import xgrad  # noqa: F401


def main() -> None:
    args = parse(__doc__.splitlines()[0], "coastline_one_sided.png")
    n = 60 if args.fast else 160
    x = np.linspace(0.0, 400e3, n)
    y = np.linspace(0.0, 300e3, n * 3 // 4)
    X, Y = np.meshgrid(x, y)
    ssh = 0.5 * np.sin(2 * np.pi * X / 400e3) * np.cos(np.pi * Y / 300e3)
    land = ((X - 200e3) / 90e3) ** 2 + ((Y - 150e3) / 60e3) ** 2 < 1
    ssh[land] = np.nan
    da = xr.DataArray(
        ssh,
        dims=("y", "x"),
        coords={"x": ("x", x, {"units": "m"}), "y": ("y", y, {"units": "m"})},
        name="ssh",
        attrs={"units": "m", "long_name": "sea surface height"},
    ).chunk(x=n // 4, y=n // 4)
    numpy_like = da.grad.along("x")
    one_sided = da.grad.along("x", nan="one-sided")
    ocean = ~land
    lost = int((np.isnan(numpy_like.values) & ocean).sum())
    kept = int((np.isnan(one_sided.values) & ocean).sum())
    print(f"ocean points without a derivative: propagate {lost}, one-sided {kept}")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, field, title in (
        (axes[0], numpy_like, f'nan="propagate" (numpy): {lost} ocean points lost'),
        (axes[1], one_sided, f'nan="one-sided": {kept} lost'),
    ):
        mesh = ax.pcolormesh(x / 1e3, y / 1e3, field.values * 1e6, cmap="RdBu_r", vmin=-8, vmax=8)
        ax.contour(x / 1e3, y / 1e3, land, levels=[0.5], colors="k", linewidths=1)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("x [km]")
    axes[0].set_ylabel("y [km]")
    units = one_sided.attrs["units"]  # "1": metres per metre
    label = "d ssh / dx [1e-6, dimensionless]" if units == "1" else f"d ssh / dx [1e-6 {units}]"
    fig.colorbar(mesh, ax=axes, label=label)
    save(fig, args.out)


if __name__ == "__main__":
    main()
