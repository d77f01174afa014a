"""dask's array expressions (``array.query-planning``): xgrad's tasks as one graph expression.

Imported only when the input is an expression-backed dask array (or, by the command line, when
dask runs in that mode), so dask's experimental expression modules are never imported otherwise.
dask's public ``from_graph`` renames the output keys and adds one alias task per block to do it;
xgrad's names are already deterministic (a token of the inputs), so :class:`NamedGraph` keeps
them and the graph has exactly the tasks of the legacy graph (``tests/test_expressions.py``).

dask 2026.8 implements no ``store`` for expressions (``dask.array.store`` raises "Function
store is not implemented for dask-expr"), and xarray's ``to_zarr``/``to_netcdf`` write every
dask array through it. :func:`store` is dask's own legacy ``store`` applied to the same tasks
(:func:`legacy_array`), so files are written chunk by chunk exactly as in the legacy mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dask.array._array_expr._collection import new_collection
from dask.array._array_expr._io import FromGraph

__all__ = ["NamedGraph", "expression_array", "legacy_array", "store"]


class NamedGraph(FromGraph):
    """``FromGraph`` whose output keys are the given name's, with no alias tasks."""

    @property
    def _name(self) -> str:
        return self.operand("name_prefix")

    def _layer(self) -> dict:
        return dict(self.operand("layer"))


def expression_array(graph: dict, meta: Any, chunks: tuple, keys: list, name: str) -> Any:
    """A dask array (array expressions) of the tasks in ``graph`` whose outputs are ``keys``."""
    return new_collection(NamedGraph(graph, meta, chunks, keys, name))


def legacy_array(x: Any) -> Any:
    """The tasks of dask array ``x`` as a legacy ``dask.array.core.Array``, same keys and chunks.

    ``x`` is optimized first, as ``x.compute()`` would, so the blocks are computed by the same
    tasks as there. The graph is materialized (a dict of tasks); the legacy mode materializes
    it too, when the computation starts. A legacy array is returned as it is.
    """
    from dask.array.core import Array
    from dask.highlevelgraph import HighLevelGraph

    if isinstance(x, Array):
        return x
    x = x.optimize()
    graph = HighLevelGraph.from_collections(x.name, dict(x.__dask_graph__()), dependencies=())
    return Array(graph, x.name, x.chunks, meta=x._meta)


def store(sources: Any, targets: Any, **kwargs: Any) -> Any:
    """``dask.array.store`` for expression arrays: dask's legacy ``store`` of the same tasks.

    Same arguments and results as :func:`dask.array.core.store`; with ``compute=False`` the
    results are legacy arrays of ``store-map`` tasks, one per block, which ``dask.delayed``
    and every scheduler take as in the legacy mode. (Expression arrays inside a list, which is
    how xarray hands the results of a write to ``dask.delayed``, fail in dask 2026.8's
    ``unpack_collections``: "'method' object is not iterable".)
    """
    from dask.array.core import store as legacy_store

    if isinstance(sources, Sequence):
        sources = [legacy_array(s) for s in sources]
    else:
        sources = legacy_array(sources)
    return legacy_store(sources, targets, **kwargs)
