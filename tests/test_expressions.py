"""dask's array expressions (``array.query-planning``) give the legacy graphs' results and tasks.

The mode is fixed when dask is imported, so these tests run in both: CI runs this file and the
core property tests a second time with ``DASK_ARRAY__QUERY_PLANNING=True`` (``.ci/run``), and
the subprocess test below compares the two modes from a legacy run.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import re
import subprocess
import sys
import textwrap
import warnings

import dask
import dask.array as da
import numpy as np
import pytest
import xarray as xr

import xgrad

EXPRESSIONS = type(da.ones(1)).__module__.startswith("dask.array._array_expr")
F = np.random.default_rng(3).standard_normal((9, 11, 6))
X = np.cumsum(np.arange(1.0, 12.0))


@pytest.mark.parametrize("chunks", [(2, 3, 4), (9, 11, 6), (1, 5, 2)], ids=str)
@pytest.mark.parametrize(
    "options",
    [{}, {"edge_order": 2}, {"accuracy": 4}, {"nan": "one-sided"}],
    ids=["default", "edge2", "accuracy4", "one-sided"],
)
def test_same_bits_lazily(chunks, options, raise_on_compute, assert_bitwise_equal):
    x = da.from_array(F, chunks=chunks)
    with dask.config.set(scheduler=raise_on_compute):
        lazy = xgrad.gradient(x, 0.5, X, 1.0, **options)
    assert all(type(g) is type(x) and g.chunks == x.chunks for g in lazy)
    expected = xgrad.gradient(F, 0.5, X, 1.0, **options)
    assert_bitwise_equal(tuple(g.compute() for g in lazy), expected)


def test_persisted_and_derived_inputs(assert_bitwise_equal):
    x = da.from_array(F, chunks=(3, 4, 2))
    assert_bitwise_equal(xgrad.gradient(x.persist(), axis=1).compute(), np.gradient(F, axis=1))
    assert_bitwise_equal(
        xgrad.gradient(x * 2 + 1, axis=0).compute(), np.gradient(F * 2 + 1, axis=0)
    )
    part = xgrad.gradient(x, axis=2)[2:6, 1:4]  # slicing the result after the fact
    assert_bitwise_equal(part.compute(), np.gradient(F, axis=2)[2:6, 1:4])


def test_accessor_on_chunked_data(raise_on_compute, assert_bitwise_equal):
    obj = xr.DataArray(F, dims=("y", "x", "t"), coords={"x": X}).chunk(y=4, x=5)
    with dask.config.set(scheduler=raise_on_compute):
        dy, dx = obj.grad.along("y", "x")
    assert_bitwise_equal(dx.data.compute(), np.gradient(F, X, axis=1))
    assert_bitwise_equal(dy.data.compute(), np.gradient(F, axis=0))


def _earth_cases():
    """(name, in-memory Dataset, components) on each kind of Earth grid; ``T``, ``u``, ``v``."""
    from earth_grids import orca, rotated, sheared, sphere, stereo

    regular = sphere(12, {"T": (lambda p, q: np.sin(p) ** 2 * np.cos(q), "K")})
    regular = regular.assign(u=np.cos(regular.T), v=0.3 * regular.T)
    cases = [("sphere", regular, {"lon": "u", "lat": "v"})]
    for name, grid in [
        ("rotated", rotated(15)),
        ("stereographic", stereo(15)),
        ("orca", orca(12)),
        ("sheared", sheared(15, 10.0)),
    ]:
        T = grid.da.rename("T")
        ds = xr.Dataset({"T": T, "u": np.cos(T) * 10, "v": T * 0.5})
        for var in ds.data_vars.values():
            var.attrs.update(T.attrs, units="m s-1" if var.name != "T" else "K")
        cases.append((name, ds, {"east": "u", "north": "v"}))
    return cases


@pytest.mark.parametrize("case", _earth_cases(), ids=lambda c: c[0])
def test_every_operator_on_earth_grids(case, assert_bitwise_equal):
    # dask 2026.8's expressions cannot multiply by a numpy array or broadcast_to, which the
    # metric terms need: every method but `along` failed there (an audit); they run on legacy
    # graphs and give back expression arrays of the same tasks (xgrad.dask_expressions)
    name, ds, wind = case
    dims = ds.T.dims
    chunks = dict(zip(dims, (5, 6), strict=True))
    lazy_ds = ds.chunk(chunks)  # 2-D latitude/longitude coordinates chunked too
    operators = {
        "along": lambda d: d.T.grad.along(*dims),
        "horizontal": lambda d: d.T.grad.horizontal(),
        "magnitude": lambda d: d.T.grad.magnitude(*dims),
        "laplacian": lambda d: d.T.grad.laplacian(*dims),
        "curl": lambda d: d.grad.curl(wind),
        "divergence": lambda d: d.grad.divergence(wind),
        "deformation": lambda d: tuple(d.grad.deformation(wind).data_vars.values()),
        "advection": lambda d: d.grad.advection("T", wind),
        "frontogenesis": lambda d: d.grad.frontogenesis("T", wind),
        "Dataset.horizontal": lambda d: tuple(d.grad.horizontal()[0].data_vars.values()),
    }
    for label, operator in operators.items():
        if name == "sheared" and label == "laplacian":
            continue  # refused on a skewed grid, in memory too
        got, expected = operator(lazy_ds), operator(ds)
        got = got if isinstance(got, tuple) else (got,)
        expected = expected if isinstance(expected, tuple) else (expected,)
        for g, e in zip(got, expected, strict=True):
            assert type(g.data) is type(lazy_ds.T.data), (label, type(g.data))
            assert g.chunks == lazy_ds.T.chunks, label
            assert g.attrs == e.attrs, label
            assert_bitwise_equal(g.data.compute(), e.values, err_msg=f"{name} {label}")


def test_kinematics_of_components_in_different_orders(assert_bitwise_equal):
    # xarray's apply_ufunc transposed the fused kernel's arrays with `xp.transpose`, which
    # dask's expressions lack: the kinematics of a v laid out (lon, lat) beside u and T
    # (lat, lon) raised NotImplementedError in that mode (the review of this session's changes)
    lat, lon = np.linspace(20.0, 60.0, 9), np.linspace(-30.0, 10.0, 11)
    rng = np.random.default_rng(4)
    ds = xr.Dataset(
        {k: (("lat", "lon"), rng.standard_normal((9, 11)), {"units": "m s-1"}) for k in "uvT"},
        coords={
            "lat": ("lat", lat, {"units": "degrees_north"}),
            "lon": ("lon", lon, {"units": "degrees_east"}),
        },
    )
    mixed = ds.assign(v=ds.v.transpose("lon", "lat")).chunk({"lat": 5})
    wind = {"east": "u", "north": "v"}
    for method, args in [
        ("vector_gradient", ()),
        ("deformation", ()),
        ("advection", ("T",)),
        ("frontogenesis", ("T",)),
    ]:
        out, ref = getattr(mixed.grad, method)(*args, wind), getattr(ds.grad, method)(*args, wind)
        outs = out.data_vars.values() if isinstance(out, xr.Dataset) else [out]
        refs = ref.data_vars.values() if isinstance(ref, xr.Dataset) else [ref]
        for o, r in zip(outs, refs, strict=True):
            assert o.dims == r.dims, method
            assert_bitwise_equal(o.data.compute(), r.values)


def test_datetime_data_and_coordinates_pass_through(assert_bitwise_equal):
    # a time reduction (the earliest time) on legacy graphs while the mode is on: dask's nanmin
    # is then the expressions' and takes no legacy array
    t = np.array(["2000-01-01T00", "2000-01-01T03", "NaT", "2000-01-02T00"] * 3, "datetime64[h]")
    obj = xr.DataArray(t, dims="x", coords={"x": np.arange(12.0)})
    lazy = obj.chunk(x=5)
    result = lazy.grad.along("x")
    assert type(result.data) is type(lazy.data)
    assert result.x is not None and type(result.x.data) is np.ndarray
    assert_bitwise_equal(result.data.compute(), obj.grad.along("x").values)


_COUNT = textwrap.dedent(
    """
    import json, numpy as np, dask.array as da, xgrad
    x = da.from_array(np.ones((16, 12, 8)), chunks=(4, 5, 3))
    counts = {}
    for axis in (0, 2, None):
        g = xgrad.gradient(x, axis=axis)
        keys = set()
        for o in g if isinstance(g, tuple) else (g,):
            keys.update(dict(o.__dask_graph__()))
        counts[str(axis)] = len(keys)
    print(json.dumps({"expr": type(x).__module__, "counts": counts}))
    """
)


def _counts(query_planning: bool) -> dict:
    env = dict(os.environ, DASK_ARRAY__QUERY_PLANNING=str(query_planning))
    out = subprocess.run(
        [sys.executable, "-c", _COUNT], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def test_task_count_as_legacy():
    """With array expressions the graph has no more tasks than the legacy graph."""
    legacy, expressions = _counts(False), _counts(True)
    assert "_array_expr" not in legacy["expr"] and "_array_expr" in expressions["expr"]
    for axis, n in legacy["counts"].items():
        assert expressions["counts"][axis] <= n, (axis, expressions["counts"], legacy["counts"])


def _cli(cwd, output: str, planning: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DASK_ARRAY__QUERY_PLANNING=planning)
    command = [sys.executable, "-m", "xgrad", "gradient", "in.nc", output, "--along", "y", "x"]
    command += ["--chunks", "y=4", "x=5"]  # ragged: 9 = 4 + 4 + 1, 11 = 5 + 5 + 1
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _without_history(meta):
    """Zarr metadata with every ``history`` attribute left out (it holds the time of the run)."""
    if isinstance(meta, dict):
        return {k: _without_history(v) for k, v in meta.items() if k != "history"}
    if isinstance(meta, list):
        return [_without_history(v) for v in meta]
    return meta


def _assert_same_zarr(a, b):
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for name in files:
        if name.name in ("zarr.json", ".zattrs", ".zmetadata"):
            meta_a, meta_b = (json.loads((root / name).read_text()) for root in (a, b))
            assert _without_history(meta_a) == _without_history(meta_b), name
        else:  # the chunks, compressed: the same bytes
            assert (a / name).read_bytes() == (b / name).read_bytes(), name


def _assert_same_netcdf(a, b):
    # HDF5 places chunks in the order the writes come, so the file's bytes differ from run to
    # run in either mode; what is stored does not: raw values, attributes and storage options
    with xr.open_dataset(a, decode_cf=False) as got, xr.open_dataset(b, decode_cf=False) as ref:
        assert "xgrad" in got.attrs.pop("history") and "xgrad" in ref.attrs.pop("history")
        xr.testing.assert_identical(got.load(), ref.load())
        for name, var in got.variables.items():
            kept = ("chunksizes", "zlib", "complevel", "shuffle", "dtype", "contiguous")
            assert {k: var.encoding.get(k) for k in kept} == {
                k: ref[name].encoding.get(k) for k in kept
            }, name


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_command_line_with_array_expressions(tmp_path, suffix):
    """``xgrad gradient`` as users run it, with dask's array expressions on, writes what it
    writes in the legacy mode. dask 2026.8 has no ``store`` for expressions, which xarray's
    writers call; the command fills it in with dask's legacy one (``xgrad.cli.writing``)."""
    src = xr.Dataset(
        {"h": (("y", "x"), F[:, :, 0], {"units": "m"}), "u": (("y", "x"), F[:, :, 1])},
        coords={"x": ("x", X, {"units": "m"})},
    )
    written = {}
    for planning in ("True", "False"):
        run = tmp_path / planning
        run.mkdir()
        src.to_netcdf(run / "in.nc")
        proc = _cli(run, f"out{suffix}", planning)  # the same command line: the same history
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert proc.stderr == ""
        assert proc.stdout.startswith(f"wrote {run / ('out' + suffix)}: dh_dy, dh_dx, du_dy")
        assert sorted(p.name for p in run.iterdir()) == ["in.nc", f"out{suffix}"]  # no temporary
        written[planning] = run / f"out{suffix}"
    engine = "zarr" if suffix == ".zarr" else None
    with xr.open_dataset(written["True"], engine=engine) as result:
        np.testing.assert_array_equal(result["dh_dx"].values, np.gradient(F[:, :, 0], X, axis=1))
        np.testing.assert_array_equal(result["du_dy"].values, np.gradient(F[:, :, 1], axis=0))
    if suffix == ".zarr":
        _assert_same_zarr(written["True"], written["False"])
    else:
        _assert_same_netcdf(written["True"], written["False"])


def test_command_line_horizontal_with_array_expressions(tmp_path, assert_bitwise_equal):
    # `--horizontal` on a projected grid exited 1 with "xgrad: error: NotImplementedError" with
    # the mode on (an audit); now the same values as in the legacy mode
    from earth_grids import stereo

    stereo(15).da.rename("T").to_dataset().to_netcdf(tmp_path / "in.nc")
    values = {}
    for planning in ("True", "False"):
        env = dict(os.environ, DASK_ARRAY__QUERY_PLANNING=planning)
        out = f"out-{planning}.zarr"
        command = [sys.executable, "-m", "xgrad", "gradient", "in.nc", out, "--horizontal"]
        command += ["--chunks", "y=4", "x=6"]
        proc = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        with xr.open_dataset(tmp_path / out, engine="zarr") as result:
            values[planning] = (result.dT_deast.values, result.dT_dnorth.values)
    assert_bitwise_equal(values["True"], values["False"])


def test_missing_dask_function_is_one_line_naming_the_mode(tmp_path, monkeypatch, capsys):
    """A dask function that array expressions lack, met while the write is built (were dask's
    stub for ``store`` renamed, say): one line naming the mode and the way out, nothing written,
    and the temporary NetCDF file xarray opened closed (no "deallocating CachingFileManager"
    warning when its manager goes: ``writing._close_cached``)."""
    from xgrad.cli import main

    def store(*args, **kwargs):  # not dask's stub by name, so the command does not replace it
        raise NotImplementedError("Function store is not implemented for dask-expr.")

    monkeypatch.setattr(da, "store", store)
    xr.Dataset({"h": (("y", "x"), F[:, :, 0])}).to_netcdf(tmp_path / "in.nc")
    for suffix in (".nc", ".zarr"):
        out = tmp_path / f"out{suffix}"
        args = ["gradient", str(tmp_path / "in.nc"), str(out), "--along", "x", "--chunks", "y=4"]
        with (
            xr.set_options(warn_for_unclosed_files=True),
            warnings.catch_warnings(record=True) as w,
        ):
            warnings.simplefilter("always")
            assert main(args) == 1
            gc.collect()
        assert not [x for x in w if "CachingFileManager" in str(x.message)], w
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1
        assert re.fullmatch(
            r"xgrad: error: Function store is not implemented for dask-expr\. dask's array "
            r"expressions are on \(DASK_ARRAY__QUERY_PLANNING=True.*; run without them: "
            r"`DASK_ARRAY__QUERY_PLANNING=False xgrad gradient \.\.\.`",
            err[0],
        ), err[0]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.nc"]  # no temporary either


# ---- dask.distributed, in this process's mode (the CI's second pass: array expressions) -------


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    # In this process (small, quick), but on TCP: the command line takes an address it can dial,
    # and the graphs and results are serialised as on any cluster
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp",
        dashboard_address=":0",
        silence_logs=logging.CRITICAL,
    ) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def client(cluster):
    import distributed

    with distributed.Client(cluster, set_as_default=False) as client:  # local schedulers elsewhere
        yield client


def test_distributed_same_bits(client, raise_on_compute, assert_bitwise_equal):
    x = da.from_array(F, chunks=(2, 4, 6))
    with dask.config.set(scheduler=raise_on_compute):
        lazy = xgrad.gradient(x, 0.5, X, axis=(0, 1), edge_order=2)
        obj = xr.DataArray(x, dims=("y", "x", "t"), coords={"x": X})
        dx = obj.grad.along("x", accuracy=4)
    assert all(type(g) is type(x) for g in lazy) and type(dx.data) is type(x)
    got = client.gather(client.compute(lazy))
    assert_bitwise_equal(tuple(got), np.gradient(F, 0.5, X, axis=(0, 1), edge_order=2))
    local = xgrad.gradient(F, X, axis=1, accuracy=4)
    assert_bitwise_equal(client.compute(dx.data).result(), local)
    # an input whose blocks are already on the cluster (persisted: futures in its graph)
    held = client.persist(x)
    assert_bitwise_equal(
        client.compute(xgrad.gradient(held, axis=2)).result(), np.gradient(F, axis=2)
    )


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_distributed_command_line(cluster, tmp_path, suffix, capsys, assert_bitwise_equal):
    from xgrad.cli import main

    xr.Dataset({"h": (("y", "x", "t"), F)}, coords={"x": X}).to_netcdf(tmp_path / "in.nc")
    out = tmp_path / f"out{suffix}"
    args = ["gradient", str(tmp_path / "in.nc"), str(out), "--along", "y", "x"]
    args += ["--chunks", "y=4", "x=5", "--scheduler", cluster.scheduler_address]
    assert main(args) == 0, capsys.readouterr().err
    with xr.open_dataset(out, engine="zarr" if suffix == ".zarr" else None) as got:
        assert_bitwise_equal(got.dh_dy.values, np.gradient(F, axis=0))
        assert_bitwise_equal(got.dh_dx.values, np.gradient(F, X, axis=1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.nc", f"out{suffix}"]
