"""``xgrad gradient --horizontal`` as users run it (``python -m xgrad`` in a subprocess).

The oracle is ``Dataset.grad.horizontal()`` in memory on the same file, opened as the command
opens it (``decode_coords="all"``): the command must write those values bit for bit, named
``d{var}_deast`` / ``d{var}_dnorth``, with their units and attributes. The grids are the
synthetic ones of ``earth_grids.py`` (a NEMO-like curvilinear grid, a polar stereographic
projection with a CF grid mapping) and a real NEMO file from ``iris-sample-data``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from earth_grids import orca_like, projected

import xgrad.accessor  # noqa: F401  (registers .grad)

pytestmark = pytest.mark.filterwarnings("ignore:Consolidated metadata:UserWarning")


def _xgrad(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "xgrad", *args], cwd=cwd, capture_output=True, text=True, timeout=180
    )


def _one_error_line(proc: subprocess.CompletedProcess) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("xgrad: error: ") and "Traceback" not in proc.stderr
    return lines[0]


def _with_time(da: xr.DataArray) -> xr.DataArray:
    """Two time steps (the second one a shifted field), so the grid dims are not the only ones."""
    return xr.concat([da, da * 0.5 + 3.0], dim="time").assign_coords(time=[0.0, 6.0])


def _curvilinear_file(path: Path) -> Path:
    grid = orca_like(24, 16)
    da = _with_time(grid.da)
    ds = da.to_dataset(name="tos")
    # CF cell bounds of nav_lat, on the grid's two dims: metadata, never differentiated
    bounds = np.repeat(ds.nav_lat.values[..., None], 4, axis=-1)
    ds["nav_lat_bnds"] = (("y", "x", "nvertex"), bounds)
    ds.nav_lat.attrs["bounds"] = "nav_lat_bnds"
    ds["depth"] = ("time", [1.0, 2.0])  # no grid dims: not differentiated
    ds.to_netcdf(path)
    return path


def _projected_file(path: Path) -> Path:
    grid = projected(20)
    ds = _with_time(grid.da).to_dataset(name="T")
    ds["T"].encoding["grid_mapping"] = "crs"
    ds["u"] = ds["T"] * 0.1
    ds["u"].attrs = {"units": "m s-1"}
    ds["u"].encoding["grid_mapping"] = "crs"
    ds.to_netcdf(path)
    return path


def _check(out: Path, src: Path, variables: list[str], assert_bitwise_equal) -> None:
    with xr.open_dataset(src, decode_coords="all") as ds:
        ds = ds.load()
        east, north = ds[variables].grad.horizontal()
    with xr.open_dataset(out, decode_coords="all") as got:
        names = [f"d{v}_d{d}" for v in variables for d in ("east", "north")]
        assert sorted(got.data_vars) == sorted(names)
        for var in variables:
            for direction, want in (("east", east[var]), ("north", north[var])):
                result = got[f"d{var}_d{direction}"]
                assert result.dims == want.dims
                assert_bitwise_equal(result.values, want.values)
                for key in ("units", "long_name", "xgrad_geometry"):
                    assert result.attrs[key] == want.attrs[key], key
                assert f"{direction}ward distance" in result.attrs["long_name"]
        # the 2-D latitude/longitude travel with the result (the plot draws on them)
        lat = next(n for n in ("nav_lat", "lat") if n in got.coords)
        assert got[lat].ndim == 2
        assert "--horizontal" in got.attrs["history"]


def test_curvilinear_netcdf(tmp_path, assert_bitwise_equal):
    src = _curvilinear_file(tmp_path / "orca.nc")
    proc = _xgrad("gradient", src.name, "out.nc", "--horizontal", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "dtos_deast, dtos_dnorth" in proc.stdout
    _check(tmp_path / "out.nc", src, ["tos"], assert_bitwise_equal)
    with xr.open_dataset(tmp_path / "out.nc") as got:
        assert got["dtos_deast"].attrs["units"] == "K m-1"  # degC differences are kelvin
        assert got["dtos_deast"].attrs["xgrad_geometry"] == "curvilinear"


def test_projected_zarr_with_grid_mapping(tmp_path, assert_bitwise_equal):
    src = _projected_file(tmp_path / "stereo.nc")
    store = tmp_path / "stereo.zarr"
    with xr.open_dataset(src, decode_coords="all") as ds:
        assert "crs" in ds.coords  # the grid mapping is a coordinate, not a data variable
        ds.chunk(time=1).to_zarr(store)
    proc = _xgrad("gradient", store.name, "out.nc", "--horizontal", "--var", "T", "u", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    _check(tmp_path / "out.nc", src, ["T", "u"], assert_bitwise_equal)
    with xr.open_dataset(tmp_path / "out.nc") as got:
        assert got["dT_deast"].attrs["units"] == "K m-1"
        assert got["du_dnorth"].attrs["units"] == "s-1"  # m s-1 per metre
        assert got["dT_deast"].attrs["xgrad_geometry"] == "projected"


def test_cf_metadata_with_the_grid_dims_is_not_differentiated(tmp_path):
    """Bounds read without CF decoding (a plain data variable ``nav_lat_bnds`` named by the
    ``bounds`` attribute) are still left out: xgrad.variables' rule."""
    src = _curvilinear_file(tmp_path / "orca.nc")
    with xr.open_dataset(src) as ds:
        assert "nav_lat_bnds" in ds.data_vars
    proc = _xgrad("gradient", src.name, "out.zarr", "--horizontal", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with xr.open_zarr(tmp_path / "out.zarr") as got:
        assert sorted(got.data_vars) == ["dtos_deast", "dtos_dnorth"]


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["gradient", "orca.nc", "o.nc"], r"one of the arguments --along --horizontal is required"),
        (
            ["gradient", "orca.nc", "o.nc", "--horizontal", "--along", "x"],
            r"argument --along: not allowed with argument --horizontal",
        ),
        (
            ["gradient", "plain.nc", "o.nc", "--horizontal"],
            r"--horizontal: horizontal derivatives need the two dims of one Earth grid",
        ),
        (
            ["gradient", "orca.nc", "o.nc", "--horizontal", "--var", "depth"],
            r"--var 'depth' is on no Earth grid: its dimensions are \('time',\); --horizontal "
            r"differentiates variables on an Earth grid: \('y', 'x'\)$",
        ),
        (
            ["gradient", "nofield.nc", "o.nc", "--horizontal"],
            r"no data variable of INPUT has all of the dimensions \('x', 'y'\)",
        ),
    ],
)
def test_errors_are_one_line_exit_2(tmp_path, args, match):
    _curvilinear_file(tmp_path / "orca.nc")
    xr.Dataset({"a": (("i", "j"), np.ones((3, 4)))}).to_netcdf(tmp_path / "plain.nc")
    grid = orca_like(8, 6).da
    xr.Dataset({"h": ("t", [1.0, 2.0])}, coords=grid.coords).to_netcdf(tmp_path / "nofield.nc")
    proc = _xgrad(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr

    assert re.search(match, _one_error_line(proc)), proc.stderr
    assert not (tmp_path / "o.nc").exists()


def test_nemo_sample_file(tmp_path, assert_bitwise_equal):
    """A real NEMO (ORCA) file: 2-D nav_lat/nav_lon, cell bounds, a north fold."""
    iris_sample_data = pytest.importorskip("iris_sample_data")
    src = Path(iris_sample_data.path) / "orca2_votemper.nc"
    proc = _xgrad("gradient", str(src), "out.nc", "--horizontal", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # degenerate cells on the fold are NaN, without warnings
    _check(tmp_path / "out.nc", src, ["votemper"], assert_bitwise_equal)
    with xr.open_dataset(tmp_path / "out.nc") as got:
        east = got["dvotemper_deast"]
        assert east.attrs["units"] == "K m-1"
        assert east.attrs["xgrad_geometry"] == "curvilinear"
        # an ocean temperature gradient: at most a few kelvin per kilometre, mostly far less
        finite = np.abs(east.values[np.isfinite(east.values)])
        assert finite.size > 10000 and np.median(finite) < 1e-5 and finite.max() < 1e-3


# ---- --plot on 2-D latitude/longitude ---------------------------------------------------------


def test_plot_curvilinear_on_longitude_latitude(tmp_path):
    """``--plot`` of a curvilinear result writes a PNG, drawn on longitude/latitude (not on grid
    indices), with the 180th-meridian seam masked rather than smeared across the map."""
    pytest.importorskip("matplotlib")
    from xgrad.cli.plot import draw_dataarray, geographic_mesh

    src = _curvilinear_file(tmp_path / "orca.nc")
    proc = _xgrad("gradient", src.name, "out.nc", "--horizontal", "--plot", "map.png", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with xr.open_dataset(tmp_path / "out.nc", decode_coords="all") as got:
        da = got["dtos_deast"].isel(time=0).load()
    fig = draw_dataarray(da)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "longitude [degrees_east]"
    assert ax.get_ylabel() == "latitude [degrees_north]"
    assert ax.get_xlim() == (-180.0, 180.0)  # a global grid: the whole globe
    lo, hi = ax.get_ylim()
    assert -90 <= lo < -60 and 80 < hi <= 90
    lon, lat, values, _ = geographic_mesh(da)
    np.testing.assert_array_equal(lat, da.nav_lat.values)
    assert values.mask.any() and not values.mask.all()  # the seam, and only near it
    unmasked = ~values.mask
    # no drawn point has a neighbour across the seam
    assert (np.abs(np.diff(lon, axis=1))[unmasked[:, 1:] & unmasked[:, :-1]] <= 180).all()


def test_plot_projected_regional_is_centred_on_the_data(tmp_path):
    """A regional grid across the 180th meridian (WRF-like Lambert) is drawn in a longitude
    range centred on it: nothing masked, x limits within its own longitudes."""
    pytest.importorskip("matplotlib")
    from earth_grids import wrf_like

    from xgrad.cli.plot import draw_dataarray, geographic_mesh

    da = wrf_like(12).da
    east, _ = da.grad.horizontal()
    lon, _, values, xlim = geographic_mesh(east)
    assert xlim is None and not values.mask.any()
    assert 100 < lon.min() < 180 < lon.max() < 260
    ax = draw_dataarray(east).axes[0]
    assert ax.get_xlabel().startswith("longitude")
    assert 100 < ax.get_xlim()[0] and ax.get_xlim()[1] < 260


@pytest.mark.parametrize("u_first", [False, True])
def test_staggered_file_differentiates_every_grid(tmp_path, assert_bitwise_equal, u_first):
    # An audit (ROMS-like file: temp on the rho points, u on the u points): --horizontal took
    # one grid, by the order of the coordinates, and left u out without a word; `--var u`
    # was refused ("'u' does not have the dimension 'xi_rho'"). Now every variable is
    # differentiated on its own grid, whatever the order of the coordinates
    def grid(ny, nx, joff, ioff):
        j, i = np.meshgrid(np.arange(ny) + joff, np.arange(nx) + ioff, indexing="ij")
        return 20.0 + 0.5 * j + 0.1 * i, -10.0 + 0.5 * i - 0.05 * j

    north, east = {"units": "degrees_north"}, {"units": "degrees_east"}
    lat_r, lon_r = grid(8, 9, 0.0, 0.0)
    lat_u, lon_u = grid(8, 8, 0.0, 0.5)
    rng = np.random.default_rng(11)
    ds = xr.Dataset(
        {
            "temp": (("eta_rho", "xi_rho"), rng.standard_normal((8, 9)), {"units": "K"}),
            "u": (("eta_u", "xi_u"), rng.standard_normal((8, 8)), {"units": "m s-1"}),
        },
        coords={
            "lat_rho": (("eta_rho", "xi_rho"), lat_r, north),
            "lon_rho": (("eta_rho", "xi_rho"), lon_r, east),
            "lat_u": (("eta_u", "xi_u"), lat_u, north),
            "lon_u": (("eta_u", "xi_u"), lon_u, east),
        },
    )
    if u_first:
        ds = ds.drop_vars(list(ds.coords)).assign_coords(
            {k: ds[k] for k in ("lat_u", "lon_u", "lat_rho", "lon_rho")}
        )
    ds.to_netcdf(tmp_path / "roms.nc")
    proc = _xgrad("gradient", "roms.nc", "o.nc", "--horizontal", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    with xr.open_dataset(tmp_path / "roms.nc", decode_coords="all") as src:
        want = {k: src[k].grad.horizontal() for k in ("temp", "u")}
    with xr.open_dataset(tmp_path / "o.nc") as got:
        assert sorted(got.data_vars) == ["dtemp_deast", "dtemp_dnorth", "du_deast", "du_dnorth"]
        for k, (want_east, want_north) in want.items():
            assert got[f"d{k}_deast"].dims == ds[k].dims
            assert_bitwise_equal(got[f"d{k}_deast"].values, want_east.values)
            assert_bitwise_equal(got[f"d{k}_dnorth"].values, want_north.values)
    proc = _xgrad("gradient", "roms.nc", "u.nc", "--horizontal", "--var", "u", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with xr.open_dataset(tmp_path / "u.nc") as got:
        assert list(got.data_vars) == ["du_deast", "du_dnorth"]
        assert_bitwise_equal(got.du_deast.values, want["u"][0].values)
        assert_bitwise_equal(got.du_dnorth.values, want["u"][1].values)
