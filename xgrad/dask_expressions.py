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

The ``.grad`` methods build legacy graphs from expression-backed inputs and return expression
arrays of the same tasks (:func:`legacy_object`, :func:`expression_object`): dask 2026.8's
expression arrays cannot yet multiply by a numpy array or ``broadcast_to``, which the Earth
grids' metric terms and the vector operators need.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import xarray as xr
from dask.array._array_expr._collection import new_collection
from dask.array._array_expr._io import FromGraph
from dask.core import flatten

from .arrays import is_dask_array, is_expression_array, is_quantity, magnitude
from .coords import object_variables

__all__ = [
    "NamedGraph",
    "expression_array",
    "expression_object",
    "legacy_array",
    "legacy_object",
    "store",
]


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


def legacy_object(obj: Any) -> tuple[Any, dict]:
    """A shallow copy of DataArray or Dataset ``obj`` whose expression-backed variables (data
    and coordinates, pint-wrapped or not) are legacy dask arrays of the same tasks; and the
    original arrays by the legacy arrays' names, for :func:`expression_object`.

    The accessor runs on legacy graphs (:func:`xgrad.accessor.expressions_via_legacy`): dask
    2026.8's expression arrays lack operations the operators need (multiplying a numpy array,
    ``broadcast_to``, ``np.ndim``), and a result is the same tasks either way.
    """
    out = obj.copy(deep=False)
    originals: dict = {}
    for var in object_variables(out):
        data = var._data  # not .data: that would load a file's lazily indexed array
        inner = magnitude(data)
        if is_expression_array(inner):
            legacy = legacy_array(inner)
            originals[legacy.name] = inner
            var.data = type(data)(legacy, data.units) if is_quantity(data) else legacy
    return out, originals


def expression_object(result: Any, originals: dict) -> Any:
    """``result`` (a DataArray, Dataset, or a tuple of them) with its legacy dask arrays as
    expression arrays of the same tasks: the inputs' own arrays where passed through (their
    coordinates), new graph expressions for what the operator built."""
    if isinstance(result, tuple):
        items = [expression_object(item, originals) for item in result]
        return type(result)(*items) if hasattr(result, "_fields") else tuple(items)
    if not isinstance(result, (xr.DataArray, xr.Dataset)):
        return result
    out = result.copy(deep=False)
    for var in object_variables(out):
        data = var._data
        inner = magnitude(data)
        if is_dask_array(inner) and not is_expression_array(inner):
            new = originals.get(inner.name)
            if new is None:
                keys = list(flatten(inner.__dask_keys__()))
                graph = dict(inner.__dask_graph__())
                new = expression_array(graph, inner._meta, inner.chunks, keys, inner.name)
            var.data = type(data)(new, data.units) if is_quantity(data) else new
    return out


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
