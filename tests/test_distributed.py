"""xgrad on a real dask.distributed cluster: exact results, worker loss, graph size, the CLI.

One module-scoped ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``: tasks,
graphs and results really cross process boundaries (pickled), as on a cluster. Kept small so
the module runs in well under a minute on a 2-core machine. The module passes in both of dask's
modes (``DASK_ARRAY__QUERY_PLANNING=True`` too); tests/test_expressions.py has a small in-process
cluster for CI's array-expression pass.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import time

import numpy as np
import pytest
import xarray as xr

import xgrad
import xgrad.accessor  # noqa: F401  (registers .grad)
from xgrad.cli import main

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

pytestmark = pytest.mark.filterwarnings("ignore:Consolidated metadata:UserWarning")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        # ":0": a free port; the scheduler runs an HTTP server even without a dashboard
        dashboard_address=":0",
        silence_logs=logging.CRITICAL,  # the killed worker is reported loudly otherwise
    ) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def client(cluster):
    # Not the default client: the rest of the test session keeps dask's local schedulers.
    with distributed.Client(cluster, set_as_default=False) as client:
        yield client


def _field(shape=(45, 60), chunks=(7, 13), seed=0):
    """Random data, ragged chunks; the dask graph holds a seed, not the data."""
    return da.random.RandomState(seed).random(shape, chunks=chunks)


def test_bit_identical_to_numpy(client, assert_bitwise_equal):
    f = _field()
    f_np = f.compute(scheduler="synchronous")
    y = np.cumsum(np.linspace(0.5, 2.0, f.shape[0]))  # non-uniform coordinate
    for kwargs in ({}, {"edge_order": 2}):
        got = client.gather(client.compute(xgrad.gradient(f, y, 0.25, axis=(0, 1), **kwargs)))
        assert_bitwise_equal(tuple(got), np.gradient(f_np, y, 0.25, axis=(0, 1), **kwargs))
    # beyond numpy: the same bits on the cluster as in this process
    high = xgrad.gradient(f, y, accuracy=4, axis=0)
    assert_bitwise_equal(client.compute(high).result(), high.compute(scheduler="synchronous"))


def test_accessor_on_the_cluster(client, assert_bitwise_equal):
    f = _field().astype("float32")
    arr = xr.DataArray(
        f,
        dims=("y", "x"),
        coords={"y": np.linspace(0, 1, f.shape[0]) ** 2, "x": np.arange(f.shape[1]) * 10.0},
        attrs={"units": "K"},
    )
    dy, dx = arr.grad.along("y", "x")
    local = arr.compute(scheduler="synchronous").grad.along("y", "x")
    assert_bitwise_equal(client.compute(dy.data).result(), local[0].values)
    assert_bitwise_equal(client.compute(dx.data).result(), local[1].values)


def test_worker_killed_mid_computation(client, cluster, assert_bitwise_equal):
    def slow(block):  # nested, so cloudpickle ships it by value to the workers
        time.sleep(0.2)
        return block

    f = _field(shape=(48, 40), chunks=(8, 10))  # 24 blocks, ~2.4 s of sleeping per worker
    expected = np.gradient(f.compute(scheduler="synchronous"), axis=(0, 1))
    slowed = f.map_blocks(slow, dtype=f.dtype, name="slow-block")
    future = client.compute(da.stack(xgrad.gradient(slowed, axis=(0, 1))))

    def finished_blocks(dask_scheduler):
        return sum(
            ts.state == "memory" and "slow-block" in str(ts.key)
            for ts in dask_scheduler.tasks.values()
        )

    deadline = time.monotonic() + 30
    while client.run_on_scheduler(finished_blocks) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not future.done(), "the computation finished before a worker could be killed"
    pids = client.run(os.getpid)
    victim_address, victim = sorted(pids.items())[0]
    os.kill(victim, signal.SIGKILL)  # its results in memory are lost; the nanny restarts it

    result = future.result(timeout=60)
    assert_bitwise_equal(tuple(result), expected)
    client.wait_for_workers(2, timeout=30)
    assert victim not in client.run(os.getpid).values()


def _graph_bytes(shape, chunks, *spacing) -> tuple[int, int]:
    """Pickled size of the whole graph of both derivatives, and the number of input chunks."""
    import cloudpickle

    x = da.ones(shape, chunks=chunks)  # no embedded data: each block is np.ones(shape)
    graph = {}
    for out in xgrad.gradient(x, *spacing, axis=(0, 1)):
        graph.update(dict(out.__dask_graph__()))
    return len(cloudpickle.dumps(graph)), math.prod(
        x.numblocks
    )  # array expressions: no npartitions


def test_graph_size_follows_chunks_not_data():
    # The same 8 x 8 chunks, each 8x8 or 800x800 elements (0.5 kB or 5 MB): the graph is the
    # same size. Data never travels in the graph; each chunk costs a bounded number of bytes.
    small, nchunks = _graph_bytes((64, 64), 8, 0.5)
    large, same = _graph_bytes((6400, 6400), 800, 0.5)
    assert nchunks == same == 64
    assert abs(large - small) < 8 * nchunks  # a few more digits in shapes and slices
    sizes = [_graph_bytes((n, n), 8, 0.5) for n in (64, 128, 256)]  # 64, 256, 1024 chunks
    for nbytes, n in sizes:
        assert nbytes / n < 4000  # a few hundred bytes today: kernel, faces and getitem tasks
    # A fixed part (the stencil plans, once) plus the same cost for every further chunk.
    (b0, n0), (b1, n1), (b2, n2) = sizes
    assert (b2 - b1) / (n2 - n1) == pytest.approx((b1 - b0) / (n1 - n0), rel=0.05)


def test_graph_size_with_coordinates_grows_with_the_axis_not_the_data():
    # 1-D coordinates are one literal in the graph (O(n) per axis), never per task.
    n = 6400
    coords = (np.cumsum(np.linspace(1.0, 2.0, n)), np.arange(n) * 0.5)
    nbytes, nchunks = _graph_bytes((n, n), 800, *coords)
    plain, _ = _graph_bytes((n, n), 800, 0.5)
    assert nbytes - plain < 8 * sum(c.nbytes for c in coords)
    assert nbytes < n * n * 8 / 1000  # data is 328 MB; the graph a few hundred kB


@pytest.mark.parametrize("method", ["along", "laplacian"])
def test_graph_holds_a_2d_metric_once_not_per_time_chunk(method):
    # A curvilinear grid's metric factors are (y, x) fields: each distinct block part is one
    # graph key that the kernel tasks name, so time chunks add no metric bytes (an audit found
    # every task carrying its own copy: a 154 MB graph for 38 MB of data at 40 time chunks).
    import cloudpickle

    ny, nx = 120, 160
    j, i = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    coords = {
        "nav_lat": (
            ("y", "x"),
            -60 + 120 * j / ny + 5 * np.sin(i / 50),
            {"units": "degrees_north"},
        ),
        "nav_lon": (
            ("y", "x"),
            -150 + 300 * i / nx + 3 * np.cos(j / 40),
            {"units": "degrees_east"},
        ),
    }

    def graph_bytes(ntime: int) -> int:
        data = da.zeros((ntime, ny, nx), chunks=(1, ny // 2, nx), dtype="f4")
        T = xr.DataArray(data, dims=("time", "y", "x"), coords=coords, attrs={"units": "K"})
        out = getattr(T.grad, method)("y", "x")
        graph = {}
        for o in out if isinstance(out, tuple) else (out,):
            graph.update(dict(o.data.__dask_graph__()))
        return len(cloudpickle.dumps(graph))

    metric = ny * nx * 8  # one float64 field over the grid
    few, many = graph_bytes(4), graph_bytes(40)
    # 36 more time chunks (72 blocks): their tasks, a few kB each, no metric field each
    assert (many - few) / 72 < metric / 20
    assert few < 8 * metric  # the metric fields once (a few of them), not per chunk


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_cli_on_the_cluster(cluster, tmp_path, suffix, capsys, assert_bitwise_equal):
    # NetCDF output from several processes goes through xarray's distributed write lock.
    arr = xr.DataArray(
        np.random.default_rng(2).random((4, 30, 40)),
        dims=("time", "lat", "lon"),
        coords={"lat": np.linspace(-60, 60, 30), "lon": np.linspace(0, 351, 40)},
        attrs={"units": "m"},
        name="h",
    )
    arr.to_dataset().to_netcdf(tmp_path / "in.nc")
    out = tmp_path / f"out{suffix}"
    args = ["gradient", str(tmp_path / "in.nc"), str(out), "--along", "lat", "lon"]
    args += ["--chunks", "time=1", "lat=10", "--scheduler", cluster.scheduler_address]
    assert main(args) == 0, capsys.readouterr().err
    dlat, dlon = arr.grad.along("lat", "lon")
    with xr.open_dataset(out, engine="zarr" if suffix == ".zarr" else None) as got:
        assert_bitwise_equal(got.dh_dlat.values, dlat.values)
        assert_bitwise_equal(got.dh_dlon.values, dlon.values)
    assert not [p for p in tmp_path.iterdir() if ".xgrad-" in p.name]


def test_cli_processes_scheduler(tmp_path, assert_bitwise_equal):
    ds = xr.Dataset({"a": (("y", "x"), np.random.default_rng(3).random((20, 30)))})
    ds.to_zarr(tmp_path / "in.zarr")
    out = tmp_path / "out.nc"
    args = ["gradient", str(tmp_path / "in.zarr"), str(out), "--along", "x", "--chunks", "y=5"]
    assert main([*args, "--scheduler", "processes"]) == 0
    with xr.open_dataset(out) as got:
        assert_bitwise_equal(got.da_dx.values, np.gradient(ds.a.values, axis=1))


def test_a_scheduler_lost_mid_run_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    # An audit (a cluster SIGKILLed during `xgrad gradient --scheduler ADDRESS`): the error was
    # distributed's internal task key ("_finalize_store-... cancelled for reason:
    # scheduler-connection-lost") after 35 lines of the client's logging, or for NetCDF the
    # write lock's "ConnectionPool is closed", raised while closing the output, which left the
    # temporary file behind
    from xgrad.cli import schedulers, writing

    class Lost:
        status = "closed"

        def compute(self, delayed):
            return self

        def result(self):
            raise RuntimeError("_finalize_store-0 cancelled for reason: scheduler-connection-lost")

        def cancel(self, future):
            raise OSError("the scheduler is gone")

    with pytest.raises(RuntimeError) as err:
        schedulers._compute_distributed(None, client=Lost())
    assert str(err.value) == (
        "the connection to the dask scheduler was lost during the computation (RuntimeError); "
        "nothing was written at OUTPUT"
    )

    class Store:  # a NetCDF store whose close needs the lost scheduler's lock
        def close(self):
            raise RuntimeError("ConnectionPool is closed")

    monkeypatch.setattr(writing, "_stores_in", lambda delayed: [Store()])
    ds = xr.Dataset({"a": ("x", np.arange(5.0))}).chunk(2)
    out = tmp_path / "o.nc"
    with pytest.raises(RuntimeError, match="connection to the dask scheduler was lost"):
        writing.write_dataset(
            ds, out, lambda delayed: schedulers._compute_distributed(delayed, client=Lost())
        )
    assert list(tmp_path.iterdir()) == []
