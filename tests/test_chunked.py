"""Layer 3: the dask graph.  Exhaustive chunkings, face-only halos, task counts."""

from __future__ import annotations

import itertools

import dask
import dask.array as da
import numpy as np
import pytest

import xgrad

RNG = np.random.default_rng(7)


def compositions(n):
    """Every way to cut n rows into chunks (2**(n-1) of them)."""
    for cuts in itertools.product([0, 1], repeat=n - 1):
        sizes, run = [], 1
        for c in cuts:
            if c:
                sizes.append(run)
                run = 1
            else:
                run += 1
        sizes.append(run)
        yield tuple(sizes)


@pytest.mark.parametrize(
    "n,edge_order", [(n, e) for e in (1, 2) for n in (2, 3, 4, 5, 7) if n >= e + 1]
)
@pytest.mark.parametrize("spacing", ["unit", "coord"])
def test_every_chunking_small(n, edge_order, spacing, assert_bitwise_equal):
    """All 2**(n-1) chunkings of a 1-D axis give numpy's bits (dask refuses most of these)."""
    f = RNG.standard_normal(n)
    varargs = (np.cumsum(RNG.random(n) + 0.1),) if spacing == "coord" else ()
    expected = np.gradient(f, *varargs, edge_order=edge_order)
    for chunks in compositions(n):
        got = xgrad.gradient(da.from_array(f, chunks=(chunks,)), *varargs, edge_order=edge_order)
        assert got.chunks == (chunks,)
        assert_bitwise_equal(got.compute(), expected, err_msg=str(chunks))


@pytest.mark.parametrize("edge_order", [1, 2])
def test_3d_all_axes_ragged(edge_order, assert_bitwise_equal):
    f = RNG.standard_normal((6, 7, 5)).astype(np.float32)
    coords = (np.cumsum(RNG.random(6)), 0.5, np.float64(2.0))
    expected = np.gradient(f, *coords, edge_order=edge_order)
    for chunks in [1, 2, ((1, 5), (3, 1, 1, 2), (2, 3)), ((6,), (7,), (5,))]:
        got = xgrad.gradient(da.from_array(f, chunks=chunks), *coords, edge_order=edge_order)
        assert isinstance(got, tuple) and len(got) == 3
        for g, e in zip(dask.compute(*got), expected):
            assert g.dtype == e.dtype
            assert_bitwise_equal(g, e)


def _task_count(arr, base):
    return len(dict(arr.__dask_graph__())) - len(dict(base.__dask_graph__()))


@pytest.mark.parametrize("naxes", [1, 2, 3])
def test_task_count(naxes):
    """N + 2 tasks per block (faces, kernel, N getitems; N == 1: faces and kernel) + 1 plan."""
    x = da.ones((8, 9, 10), chunks=(2, 3, 5))
    nblocks = x.npartitions
    out = xgrad.gradient(x, axis=tuple(range(naxes)))
    outs = out if isinstance(out, tuple) else (out,)
    per_block = 2 if naxes == 1 else naxes + 2
    # every output shares the faces and kernel layers: count the union of all graphs
    union = {}
    for o in outs:
        union.update(dict(o.__dask_graph__()))
    assert len(union) - len(dict(x.__dask_graph__())) == per_block * nblocks + 1
    assert _task_count(outs[0], x) <= (2 * naxes + 3) * nblocks


def test_halo_dependencies_are_face_neighbours_only():
    """A block's kernel reads its own block and faces of blocks differing in ONE index."""
    x = da.ones((6, 6, 6), chunks=2)
    out = xgrad.gradient(x)[0]
    graph = out.__dask_graph__()
    kernel_layer = next(n for n in graph.layers if n.startswith("xgrad-gradient-"))
    deps = graph.layers[kernel_layer].get_dependencies
    for key in graph.layers[kernel_layer]:
        if not isinstance(key, tuple):
            continue
        for dep in deps(key, graph.layers[kernel_layer].keys() | dict(graph).keys()):
            if isinstance(dep, tuple) and dep[0].startswith("xgrad-halo-"):
                diff = sum(a != b for a, b in zip(dep[1:], key[1:]))
                assert diff == 1, (key, dep)


def test_deterministic_names():
    x = da.from_array(np.arange(20.0), chunks=5)
    assert xgrad.gradient(x).name == xgrad.gradient(x).name
    assert xgrad.gradient(x).name != xgrad.gradient(x, edge_order=2).name
    assert xgrad.gradient(x, 0.5).name != xgrad.gradient(x, 0.25).name


def test_faces_are_copies_not_views():
    """Halo slabs are copied so a neighbour's whole block is not kept alive by a view."""
    from xgrad.chunked import _faces

    block = np.arange(24.0).reshape(4, 6)
    faces = _faces(block, ((0, 1, 2), (1, 1, 1)))
    for first, last in faces:
        for slab in (first, last):
            assert slab.base is None


def _faces_tasks(result):
    (layer,) = [v for k, v in result.dask.layers.items() if k.startswith("xgrad-halo")]
    return list(dict(layer).values())


def test_faces_of_persisted_blocks_are_views(assert_bitwise_equal):
    """A persisted block is held by the graph anyway: its faces are views, not copies; a
    block that is computed (read from disk, a lazy expression) still gets copied faces."""
    a = np.random.default_rng(0).standard_normal((12, 10))
    (held,) = dask.persist(da.from_array(a, chunks=(4, 5)))
    lazy = da.from_array(a, chunks=(4, 5)) * 1.0
    for x, copy in ((held, False), (lazy, True)):
        result = xgrad.gradient(x)
        tasks = _faces_tasks(result[0])
        assert tasks and all(task[-1] is copy for task in tasks)
        assert_bitwise_equal(tuple(r.compute() for r in result), np.gradient(a))
    func, key, spec, copy = _faces_tasks(xgrad.gradient(held, axis=0))[0]
    block = dict(held.dask)[key]
    ((first, last),) = func(block, spec, copy)
    assert np.shares_memory(last, block)  # a view of the held block


def test_datetime_and_masked_blocks():
    t = np.array(["2000-01-01", "2000-01-02", "2000-01-04", "2000-01-07"], dtype="M8[s]")
    got = xgrad.gradient(da.from_array(t, chunks=1)).compute()
    np.testing.assert_array_equal(got, np.gradient(t))
    assert got.dtype == np.dtype("m8[s]")
    m = np.ma.masked_array(np.arange(6.0) ** 2, mask=[0, 0, 1, 0, 0, 0])
    got = xgrad.gradient(da.from_array(m, chunks=2, asarray=False)).compute()
    expected = np.gradient(m)
    assert isinstance(got, np.ma.MaskedArray)
    np.testing.assert_array_equal(got.mask, expected.mask)
    np.testing.assert_array_equal(got.data[~got.mask], expected.data[~expected.mask])


def test_masked_constant_spacing_on_dask(assert_bitwise_equal):
    """``numpy.gradient(f, np.ma.masked)`` runs; on dask the plan's token must hash it (dask's
    tokenize could not: AttributeError)."""
    f = np.arange(24.0).reshape(4, 6) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.gradient(f, np.ma.masked)
        got = tuple(g.compute() for g in xgrad.gradient(da.from_array(f, chunks=2), np.ma.masked))
    assert_bitwise_equal(got, expected)


def test_repeated_axis_outputs_have_distinct_keys(assert_bitwise_equal):
    """An axis asked twice (first and second derivative) gives two outputs with distinct keys
    that survive being computed together (the Laplacian on the sphere does this)."""
    from xgrad.engine import differentiate

    f = RNG.standard_normal((9, 8))
    x = da.from_array(f, chunks=(3, 4))
    first, second = differentiate(x, (0, 0), [0.5, 0.5], orders=(1, 2))
    assert first.name != second.name
    got = dask.compute(first, second)
    expected = differentiate(f, (0, 0), [0.5, 0.5], orders=(1, 2))
    for g, e in zip(got, expected):
        assert_bitwise_equal(g, e)
    assert not np.array_equal(got[0], got[1])


SCALE_CASES = {
    "python float": lambda f: 0.25,
    "row": lambda f: np.linspace(0.5, 2.0, f.shape[-1]),
    "column": lambda f: np.linspace(0.5, 2.0, f.shape[0])[:, None, None],
    "middle, NaN at the ends": lambda f: np.r_[
        np.nan, np.linspace(0.5, 2.0, f.shape[1] - 2), np.nan
    ][None, :, None],
    "full": lambda f: np.random.default_rng(1).random(f.shape),
}


@pytest.mark.parametrize("case", sorted(SCALE_CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
@pytest.mark.parametrize("nan", ["propagate", "one-sided"])
def test_scales_in_the_pass_equal_a_multiply_after(
    case, dtype, nan, monkeypatch, assert_bitwise_equal
):
    """``scales`` (the sphere's metric factors) give the bits of ``result * scale`` on every path:
    in memory, tiled (the NaN fallback along the tiling axis runs before its scale), and chunked."""
    from xgrad import blocks
    from xgrad.engine import differentiate

    rng = np.random.default_rng(0)
    f = (rng.standard_normal((6, 7, 8)) * 10).astype(dtype)
    f[2, 3, 4] = np.nan
    scale = SCALE_CASES[case](f)
    if np.ndim(scale) and dtype == np.float32:
        scale = scale.astype(np.float32)  # as metric_factor does: keeps the output dtype
    axes, spacings = (0, 1, 2, 1), [0.5, np.diff(np.cumsum(rng.random(7) + 0.5)), 2.0, 1.0]
    options = {"edge_order": 2, "nan": nan}
    plain = differentiate(f, axes, spacings, **options)
    scales = (scale, None, scale, scale)
    expected = [r if s is None else r * s for r, s in zip(plain, scales)]
    assert_bitwise_equal(differentiate(f, axes, spacings, scales=scales, **options), expected)
    monkeypatch.setattr(blocks, "TILE_BYTES", 1)  # one-row tiles
    assert_bitwise_equal(differentiate(f, axes, spacings, scales=scales, **options), expected)
    for chunks in [(2, 3, 4), 1, (4, 7, 3)]:
        lazy = differentiate(
            da.from_array(f, chunks=chunks), axes, spacings, scales=scales, **options
        )
        assert all(len(r.dask.layers) == len(lazy[0].dask.layers) for r in lazy)
        assert_bitwise_equal(list(dask.compute(*lazy)), expected)  # one graph: shared halos


def test_scale_that_widens_the_dtype_is_applied_after(assert_bitwise_equal):
    """A float64 scale on float32 data promotes: it cannot go in place, so it multiplies after."""
    from xgrad.engine import differentiate

    f = np.arange(24.0, dtype=np.float32).reshape(4, 6) ** 2
    scale = np.linspace(1.0, 2.0, 6)
    (got,) = differentiate(f, (1,), [1.0], scales=(scale,))
    assert got.dtype == np.float64
    assert_bitwise_equal(got, differentiate(f, (1,), [1.0])[0] * scale)
