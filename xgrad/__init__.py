"""xgrad: derivatives of labelled, chunked, larger-than-memory arrays.

``xgrad.gradient`` is a bit-exact, lazy, chunk-invariant drop-in for numpy.gradient;
``import xgrad`` registers the ``.grad`` accessor on xarray objects.
"""

from __future__ import annotations

from . import dataset_accessor as _accessors  # noqa: F401  (registers .grad on both)
from .numpy_api import gradient

__version__ = "0.1.0"
__all__ = ["gradient", "__version__"]
