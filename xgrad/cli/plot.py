"""A quick-look PNG of a derivative: a map for 2-D fields, a line for 1-D ones.

Used by ``xgrad gradient --plot`` and ``xgrad demo``. It reads only the slice it draws (the first
step of every leading dimension), so plotting a large output costs one slice. matplotlib's
object API with the Agg canvas is used rather than pyplot: no global figure state, no display.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["check_matplotlib", "plot_dataarray", "plot_first"]


def check_matplotlib() -> None:
    """ImportError with the fix when matplotlib is missing (checked before computing anything)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as err:
        raise ImportError(
            "--plot needs matplotlib; install it with `pip install 'xgrad[viz]'`"
        ) from err


def _label(obj: xr.DataArray, fallback: str) -> str:
    """``long_name [units]`` (or the name), for axes and colour bars."""
    name = obj.attrs.get("long_name") or obj.attrs.get("standard_name") or obj.name or fallback
    units = obj.attrs.get("units")
    return f"{name} [{units}]" if units not in (None, "") else str(name)


def _axis(da: xr.DataArray, dim: Any) -> tuple[np.ndarray, str]:
    """Values and label for one axis: its 1-D coordinate when plottable, else the index."""
    if dim in da.coords and da[dim].ndim == 1 and da[dim].dtype.kind in "iufM":
        return np.asarray(da[dim].values), _label(da[dim], str(dim))
    return np.arange(da.sizes[dim]), f"{dim} (index)"


def _selection_text(da: xr.DataArray) -> str:
    """``time = 2000-01-01, level = 0`` for the scalar coordinates left by the slicing."""
    parts = []
    for name, coord in da.coords.items():
        if coord.ndim == 0 and name not in da.dims:
            value = coord.values
            if np.issubdtype(coord.dtype, np.datetime64):
                text = np.datetime_as_string(value, unit="s").replace("T00:00:00", "")
            else:
                text = f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)
            parts.append(f"{name} = {text}")
    return ", ".join(parts)


def plot_dataarray(da: xr.DataArray, path: str | os.PathLike) -> Path:
    """Draw ``da`` (first step of every dimension but the last two) to a PNG at ``path``.

    Two dimensions give a ``pcolormesh`` map with a colour bar (a diverging colour map centred
    on zero: derivatives have both signs); one gives a line plot. The PNG is written to a hidden
    sibling and renamed, so a failure leaves nothing at ``path``.

    Parameters
    ----------
    da : xarray.DataArray
        At least one dimension.
    path : str or path-like
        Where the PNG goes.

    Returns
    -------
    pathlib.Path
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if da.ndim == 0:
        raise ValueError(f"cannot plot {da.name!r}: it has no dimensions")
    da = da.isel({d: 0 for d in da.dims[:-2]}).load()
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    values = np.asarray(da.values, dtype=float)
    if da.ndim == 2:
        ydim, xdim = da.dims
        x, xlabel = _axis(da, xdim)
        y, ylabel = _axis(da, ydim)
        finite = np.abs(values[np.isfinite(values)])
        vmax = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        mesh = ax.pcolormesh(x, y, values, cmap="RdBu_r", vmin=-vmax, vmax=vmax, shading="auto")
        units = da.attrs.get("units")  # the title has the long name; keep the bar's label short
        fig.colorbar(mesh, ax=ax, label=f"{da.name} [{units}]" if units else str(da.name))
        ax.set_ylabel(ylabel)
    else:
        (xdim,) = da.dims
        x, xlabel = _axis(da, xdim)
        ax.plot(x, values)
        ax.set_ylabel(_label(da, "value"))
        ax.grid(True, alpha=0.3)
    ax.set_xlabel(xlabel)
    title = str(da.attrs.get("long_name") or da.name)
    where = _selection_text(da)
    ax.set_title(f"{da.name}: {title}" + (f"\n{where}" if where else ""), fontsize=10)
    path = Path(path).absolute()
    tmp = path.with_name(f".{path.name}.xgrad-tmp-{os.getpid()}")
    try:
        fig.savefig(tmp, format="png", dpi=100)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def plot_first(store: str | os.PathLike, path: str | os.PathLike) -> Path:
    """Plot the first data variable of a written NetCDF file or Zarr store to ``path``.

    Parameters
    ----------
    store : str or path-like
        Output of ``xgrad gradient``.
    path : str or path-like
        PNG to write.

    Returns
    -------
    pathlib.Path
    """
    from .files import open_input

    with open_input(store) as ds:
        if not ds.data_vars:
            raise ValueError(f"{str(store)!r} has no data variables to plot")
        name = next(iter(ds.data_vars))
        return plot_dataarray(ds[name], path)
