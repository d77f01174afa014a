"""``boundary="periodic"`` on a curvilinear grid: refused where the grid does not join up
(:mod:`xgrad.seams`), accepted on global grids and the real NEMO file, before anything is
computed."""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest
import xarray as xr
from earth_grids import orca_like, relative_error

import xgrad  # noqa: F401  (registers .grad)

PERIODIC = {"boundary": {"x": "periodic"}}


@pytest.fixture(scope="module")
def orca():
    return orca_like(64, 33)


def _with_halo(a: xr.DataArray) -> xr.DataArray:
    """NEMO's halo: the last column before the first, the first after the last."""
    return xr.concat([a.isel(x=[-1]), a, a.isel(x=[0])], dim="x")


def _lazy(a: xr.DataArray, coords: bool = False) -> xr.DataArray:
    """The data (and with ``coords`` the 2-D coordinates: the metric reads them while the graph
    is built) as dask arrays."""
    out = a.copy(data=da.from_array(a.values, chunks=8))
    if coords:
        lazy = {
            k: (c.dims, da.from_array(c.values, chunks=8), c.attrs) for k, c in a.coords.items()
        }
        out = out.assign_coords(lazy)
    return out


def test_global_grid_is_accepted_and_exact_at_the_seam(orca):
    east, north = orca.da.grad.horizontal(**PERIODIC)
    # the seam's columns are as good as the others: second order everywhere
    assert relative_error(east.values[:, [0, -1]], orca.east[:, [0, -1]]) < 0.05
    assert relative_error(north.values[:, [0, -1]], orca.north[:, [0, -1]]) < 0.05


@pytest.mark.parametrize("call", ["along", "horizontal", "laplacian"])
def test_halo_columns_are_refused(orca, call, raise_on_compute):
    halo = _lazy(_with_halo(orca.da))
    with dask.config.set(scheduler=raise_on_compute):
        with pytest.raises(ValueError, match=r"halo columns.*isel\(x=slice\(1, -1\)\)"):
            if call == "horizontal":
                halo.grad.horizontal(**PERIODIC)
            else:
                getattr(halo.grad, call)("y", "x", **PERIODIC)


def test_dropping_the_halo_gives_the_grid_without_it(orca):
    halo = _with_halo(orca.da)
    got = halo.isel(x=slice(1, -1)).grad.along("x", **PERIODIC)
    np.testing.assert_array_equal(got.values, orca.da.grad.along("x", **PERIODIC).values)


def test_cyclic_point_is_refused(orca):
    cyclic = xr.concat([orca.da, orca.da.isel(x=[0])], dim="x")
    with pytest.raises(ValueError, match=r"cyclic point.*isel\(x=slice\(None, -1\)\)"):
        cyclic.grad.horizontal(**PERIODIC)


def test_regional_grid_is_refused_with_the_distances(orca, raise_on_compute):
    regional = _lazy(orca.da.isel(x=slice(0, 40)))
    with dask.config.set(scheduler=raise_on_compute):
        with pytest.raises(ValueError) as info:
            regional.grad.along("y", "x", **PERIODIC)
    text = str(info.value)
    assert "does not wrap around" in text and "y index 0" in text
    assert "km apart" in text and "boundary={'x': 'edge'}" in text
    # edge, as the message says, works; and the check is only for periodic dims
    regional.grad.along("y", "x", boundary={"x": "edge"})
    with pytest.raises(ValueError, match="does not wrap around"):  # coordinates in dask too
        _lazy(orca.da.isel(x=slice(0, 40)), coords=True).grad.along("x", **PERIODIC)
    orca.da.grad.along("y", boundary={"y": "edge", "x": "periodic"})


def test_periodic_along_y_is_checked_too(orca):
    with pytest.raises(ValueError, match=r"along 'y'.*x index 0"):
        orca.da.grad.along("y", boundary={"y": "periodic"})


def test_rows_of_made_up_zeros_are_ignored(orca):
    """Some model files write 0 for the positions of land rows; those rows tell nothing."""
    a = orca.da.copy()
    lat, lon = a.nav_lat.values.copy(), a.nav_lon.values.copy()
    lat[-1], lon[-1] = 0.0, 0.0
    a = a.assign_coords(nav_lat=(a.nav_lat.dims, lat, a.nav_lat.attrs))
    a = a.assign_coords(nav_lon=(a.nav_lon.dims, lon, a.nav_lon.attrs))
    a.grad.along("x", **PERIODIC)


def test_nemo_file_is_periodic_in_x():
    iris_sample_data = pytest.importorskip("iris_sample_data")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cell_measures 'area' not in the file
        with xr.open_dataset(
            f"{iris_sample_data.path}/NEMO/nemo_1m_20150101-20150201_grid-T.nc",
            decode_coords="all",
        ) as opened:  # in memory and closed: no "deallocating CachingFileManager" warning
            ds = opened.load()
    # the north fold's rows have a seam a few % of their spacing: accepted
    east, north = ds.tos.grad.horizontal(**PERIODIC)
    edge_east, _ = ds.tos.grad.horizontal()
    inner = (slice(None), slice(None), slice(1, -1))
    np.testing.assert_array_equal(east.values[inner], edge_east.values[inner])
    assert (
        np.isfinite(east.values[..., 0]).sum() > 0.5 * np.isfinite(edge_east.values[..., 0]).sum()
    )
    with pytest.raises(ValueError, match="halo columns"):
        _with_halo(ds.tos).grad.horizontal(**PERIODIC)
