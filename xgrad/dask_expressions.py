"""dask's array expressions (``array.query-planning``): xgrad's tasks as one graph expression.

Imported only when the input is an expression-backed dask array, so dask's experimental
expression modules are never imported otherwise. dask's public ``from_graph`` renames the
output keys and adds one alias task per block to do it; xgrad's names are already
deterministic (a token of the inputs), so :class:`NamedGraph` keeps them and the graph has
exactly the tasks of the legacy graph (``tests/test_expressions.py``).
"""

from __future__ import annotations

from typing import Any

from dask.array._array_expr._collection import new_collection
from dask.array._array_expr._io import FromGraph

__all__ = ["NamedGraph", "expression_array"]


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
