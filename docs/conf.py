"""Sphinx configuration: MyST pages, numpydoc API reference, accessor methods as xarray lists them.

Build (warnings are errors): python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import sphinx_autosummary_accessors

import xgrad  # registers the accessor so `xarray.DataArray.grad.along` resolves

project = "xgrad"
author = "the xgrad developers"
copyright = "2026, the xgrad developers"
release = version = xgrad.__version__

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx_autosummary_accessors",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path = [sphinx_autosummary_accessors.templates_path]
exclude_patterns = ["_build", "**/README.md"]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

autosummary_generate = True
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# No network in CI: intersphinx inventories are optional, not fetched.
intersphinx_mapping: dict = {}

html_theme = "pydata_sphinx_theme"
html_title = "xgrad"
html_theme_options = {"navigation_depth": 2, "show_toc_level": 2}
