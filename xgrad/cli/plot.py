"""A quick-look PNG of a derivative: a map for 2-D fields, a line for 1-D ones.

Used by ``xgrad gradient --plot`` and ``xgrad demo``. A field on a curvilinear or projected
grid (2-D latitude/longitude coordinates) is drawn on its true longitude and latitude
(:func:`geographic_mesh`), a regular one on its 1-D coordinates, latitude (or y) up. The map
is the Earth grid's two dims wherever they are in the array (:func:`map_dims`), else its last
two. It reads only the slice it draws (the first step of every other dimension), so plotting
a large output costs one slice. matplotlib's
object API with the Agg canvas is used rather than pyplot: no global figure state, no display.
"""

from __future__ import annotations

import os
import textwrap
import warnings
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

__all__ = [
    "check_matplotlib",
    "draw_dataarray",
    "geographic_mesh",
    "map_dims",
    "plot_dataarray",
    "plot_first",
]


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
    return _plain(f"{name} [{units}]" if units not in (None, "") else str(name))


def _axis(da: xr.DataArray, dim: Any) -> tuple[np.ndarray, str]:
    """Values and label for one axis: its 1-D coordinate when plottable, else the index."""
    if dim in da.coords and da[dim].ndim == 1 and da[dim].dtype.kind in "iufM":
        return np.asarray(da[dim].values), _label(da[dim], str(dim))
    return np.arange(da.sizes[dim]), f"{dim} (index)"


def geographic_mesh(
    da: xr.DataArray,
) -> tuple[np.ndarray, np.ndarray, np.ma.MaskedArray, tuple[float, float] | None] | None:
    """``(lon, lat, values, xlim)`` to draw a 2-D ``da`` on its 2-D latitude/longitude.

    None when ``da`` has no 2-D latitude/longitude on its two dims
    (:func:`xgrad.curvilinear.curvilinear_pairs`: CF units or standard names, or a model's
    names such as ``nav_lat``/``XLAT``), or when they are not all finite. Longitudes are
    wrapped into the 360 degrees centred on the data (their circular mean; 0 for a global
    grid); a point next to a jump of more than 180 degrees (the seam of that range) is masked,
    so that no cell of ``pcolormesh(lon, lat, values, shading="nearest")`` spans the map.
    ``xlim`` is the whole range for a global grid, else None (autoscale).

    Examples
    --------
    >>> lat, lon = np.meshgrid([0.0, 1.0], [178.0, 179.0, 180.0, 181.0], indexing="ij")
    >>> da = xr.DataArray(np.ones((2, 4)), dims=("y", "x"), coords={
    ...     "lat": (("y", "x"), lat, {"units": "degrees_north"}),
    ...     "lon": (("y", "x"), lon - 360 * (lon >= 180), {"units": "degrees_east"})})
    >>> x, y, v, xlim = geographic_mesh(da)
    >>> x[0].tolist(), int(v.mask.sum()), xlim
    ([178.0, 179.0, 180.0, 181.0], 0, None)
    """
    pair = geographic_mesh_pair(da)
    if pair is None:
        return None
    lat = np.asarray(da[pair[0]].transpose(*da.dims).values, dtype=float)
    lon = np.asarray(da[pair[1]].transpose(*da.dims).values, dtype=float)
    if not (np.isfinite(lat).all() and np.isfinite(lon).all()):
        return None
    angle = np.radians(lon)
    mean = complex(np.cos(angle).mean(), np.sin(angle).mean())
    glob = abs(mean) < 0.5  # longitudes all round: no centre worth keeping
    centre = 0.0 if glob else float(np.degrees(np.angle(mean)))
    lon = centre + (lon - centre + 180.0) % 360.0 - 180.0
    # a point whose 3x3 neighbourhood crosses the seam: its interpolated cell would span it
    jump = np.zeros(lon.shape, dtype=bool)
    for axis in (0, 1):
        step = np.abs(np.diff(lon, axis=axis)) > 180.0
        lo = [slice(None)] * 2
        hi = [slice(None)] * 2
        lo[axis], hi[axis] = slice(None, -1), slice(1, None)
        jump[tuple(lo)] |= step
        jump[tuple(hi)] |= step
    grown = jump.copy()
    grown[1:] |= jump[:-1]
    grown[:-1] |= jump[1:]
    grown[:, 1:] |= jump[:, :-1]
    grown[:, :-1] |= jump[:, 1:]
    values = np.ma.masked_invalid(np.asarray(da.values, dtype=float))
    values = np.ma.masked_where(grown | np.ma.getmaskarray(values), values)
    xlim = (centre - 180.0, centre + 180.0) if glob else None
    return lon, lat, values, xlim


def geographic_mesh_pair(da: xr.DataArray) -> tuple[Hashable, Hashable] | None:
    """The names of the 2-D ``(latitude, longitude)`` on both dims of a 2-D ``da``, or None
    (:func:`xgrad.curvilinear.curvilinear_pairs`)."""
    from ..curvilinear import curvilinear_pairs

    if da.ndim != 2:
        return None
    return next(
        (
            (la, lo)
            for la, lo in curvilinear_pairs(da)
            if set(da[la].dims) == set(da.dims) and set(da[lo].dims) == set(da.dims)
        ),
        None,
    )


def _selection_text(da: xr.DataArray) -> str:
    """``time = 2000-01-01, level = 0`` for the scalar coordinates left by the slicing."""
    parts = []
    for name, coord in da.coords.items():
        if "grid_mapping_name" in coord.attrs:  # a grid mapping's placeholder value: no selection
            continue
        if coord.ndim == 0 and name not in da.dims:
            value = coord.values
            if np.issubdtype(coord.dtype, np.datetime64):
                text = np.datetime_as_string(value, unit="s").replace("T00:00:00", "")
            else:
                text = f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)
            parts.append(f"{name} = {text}")
    return ", ".join(parts)


def plot_dataarray(
    da: xr.DataArray, path: str | os.PathLike, metadata: dict[str, str] | None = None
) -> Path:
    """Draw ``da`` (first step of every dimension but the last two) to a PNG at ``path``.

    Two dimensions give a ``pcolormesh`` map with a colour bar (a diverging colour map centred
    on zero: derivatives have both signs), on the 2-D longitude/latitude of a curvilinear or
    projected grid (:func:`geographic_mesh`), else on the dims' coordinates (or indices); one
    gives a line plot. The PNG is written to a hidden
    sibling and renamed, so a failure leaves nothing at ``path``.

    Parameters
    ----------
    da : xarray.DataArray
        At least one dimension.
    path : str or path-like
        Where the PNG goes.
    metadata : dict of str to str, optional
        PNG text entries (matplotlib's ``savefig(metadata=...)``), e.g. ``{"Source": ...}``.

    Returns
    -------
    pathlib.Path
    """
    fig = draw_dataarray(da)
    path = Path(path).absolute()
    tmp = path.with_name(f".{path.name}.xgrad-tmp-{os.getpid()}")
    try:
        fig.savefig(tmp, format="png", dpi=100, metadata=metadata)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _plain(text: str) -> str:
    """``text`` shown as it is by matplotlib (its ``$`` would start mathtext)."""
    return text.replace("$", r"\$")


def _in_order(values: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple:
    """``values`` on ``(y, x)`` with each axis sorted where it is not monotonic: pcolormesh
    takes cell edges from midpoints, and a longitude that wraps (0..177.5, -180..-2.5) drew
    the 177.5 cell over half the map (an audit: a silently wrong picture)."""
    for axis, centres in ((1, x), (0, y)):
        steps = np.diff(np.asarray(centres, dtype=float)) if centres.dtype.kind in "iuf" else None
        if steps is not None and not ((steps > 0).all() or (steps < 0).all()):
            order = np.argsort(centres, kind="stable")
            values = np.take(values, order, axis=axis)
            x, y = (centres[order], y) if axis == 1 else (x, centres[order])
    return values, x, y


def map_dims(da: xr.DataArray) -> tuple[Hashable, Hashable]:
    """The ``(y, x)`` dims to draw as a map: the Earth grid's (``.grad.horizontal``'s
    classification: latitude or y as rows) where ``da`` has one, else its last two dims.

    An audit of ``--plot``: the last two dims were drawn whatever they were, so a
    ``(lat, lon, time)`` result was pictured as longitude against time and a ``(lon, lat)``
    one on its side.

    Examples
    --------
    >>> da = xr.DataArray(np.zeros((3, 4, 2)), dims=("lat", "lon", "time"), coords={
    ...     "lat": ("lat", [0.0, 1, 2], {"units": "degrees_north"}),
    ...     "lon": ("lon", [0.0, 1, 2, 3], {"units": "degrees_east"})})
    >>> map_dims(da), map_dims(xr.DataArray(np.zeros((3, 4, 2)), dims=("a", "b", "c")))
    (('lat', 'lon'), ('b', 'c'))
    """
    from ..grids import horizontal_dims
    from ..options import Options

    # a 2-D one with 2-D latitude/longitude is drawn on them, in either order
    if da.ndim > 2 or (da.ndim == 2 and geographic_mesh_pair(da) is None):
        try:
            x, y = horizontal_dims(da, Options())
        except ValueError:  # no Earth grid (or not one xgrad can name): the last two dims
            pass
        else:
            return y, x
    return tuple(da.dims[-2:])  # type: ignore[return-value]


#: Characters per title line: longer names and selections wrap instead of running off the
#: figure (an audit: clipped titles).
TITLE_WIDTH = 100

#: Percentile of ``|value|`` that ends the colour scale (xarray's ``robust=True`` takes the
#: 2nd and 98th): a few large values, such as d/dlon per metre on the rows next to a pole,
#: took the whole scale and left the rest of the map white (an audit of ``--plot``).
ROBUST_PERCENTILE = 98.0


def _colour_range(values: np.ndarray) -> tuple[float, str]:
    """``(vmax, extend)`` of a colour scale centred on zero: the robust ``|value|`` and
    whether the colour bar shows values beyond it (``"both"``) or not (``"neither"``)."""
    finite = np.abs(values[np.isfinite(values)])
    if not finite.size or finite.max() == 0:
        return 1.0, "neither"
    vmax = float(np.percentile(finite, ROBUST_PERCENTILE))
    if vmax == 0:  # mostly zeros: the whole range
        vmax = float(finite.max())
    return vmax, "both" if finite.max() > vmax else "neither"


def draw_dataarray(da: xr.DataArray) -> Any:
    """The matplotlib Figure (Agg canvas) that :func:`plot_dataarray` saves."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if da.ndim == 0:
        raise ValueError(f"cannot plot {da.name!r}: it has no dimensions")
    if da.ndim >= 2:
        shown = map_dims(da)
        da = da.isel({d: 0 for d in da.dims if d not in shown}).transpose(*shown)
    da = da.load()
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    values = np.asarray(da.values, dtype=float)
    if not np.isfinite(values).any():  # a blank picture, said (an audit: no word before)
        where = _selection_text(da)
        warnings.warn(
            f"the plotted {da.name!r}{f' ({where})' if where else ''} has no finite value: "
            "the picture is blank",
            stacklevel=2,
        )
    if da.ndim == 2:
        vmax, extend = _colour_range(values)
        style = {"cmap": "RdBu_r", "vmin": -vmax, "vmax": vmax}
        mesh_on_earth = geographic_mesh(da)
        if mesh_on_earth is not None:  # curvilinear or projected: true longitude and latitude
            lon, lat, shown, xlim = mesh_on_earth
            with warnings.catch_warnings():
                # curvilinear centres are not monotonic; their midpoints are the cells wanted
                warnings.filterwarnings("ignore", message="The input coordinates to pcolormesh")
                mesh = ax.pcolormesh(lon, lat, shown, shading="nearest", **style)
            xlabel, ylabel = "longitude [degrees_east]", "latitude [degrees_north]"
            if xlim is not None:
                ax.set_xlim(*xlim)
        else:
            ydim, xdim = da.dims
            x, xlabel = _axis(da, xdim)
            y, ylabel = _axis(da, ydim)
            values, x, y = _in_order(values, x, y)
            mesh = ax.pcolormesh(x, y, values, shading="auto", **style)
        units = da.attrs.get("units")  # the title has the long name; keep the bar's label short
        label = f"{da.name} [{units}]" if units else str(da.name)
        fig.colorbar(mesh, ax=ax, label=_plain(label), extend=extend)
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
    text = "\n".join(
        textwrap.wrap(f"{da.name}: {title}", TITLE_WIDTH) + textwrap.wrap(where, TITLE_WIDTH)
    )
    # names are text, not mathtext: a `$` in a long name failed the plot after the output
    ax.set_title(_plain(text), fontsize=10)
    return fig


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
    from .reading import open_input

    with open_input(store) as ds:
        if not ds.data_vars:
            raise ValueError(f"{str(store)!r} has no data variables to plot")
        name = next(iter(ds.data_vars))
        return plot_dataarray(ds[name], path)
