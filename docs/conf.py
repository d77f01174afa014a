"""Sphinx configuration: MyST pages, numpydoc API reference, accessor methods as xarray lists them.

Build (warnings are errors): python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


def gallery_figures() -> None:
    """Run each gallery script (examples/*.py) into docs/generated/img/, where it is missing or
    older than its script: the figures are built, never committed. XGRAD_DOCS_FAST=1 runs the
    scripts' small --fast mode (what the tests run)."""
    here = Path(__file__).resolve().parent
    out = here / "generated" / "img"
    out.mkdir(parents=True, exist_ok=True)
    fast = ["--fast"] if os.environ.get("XGRAD_DOCS_FAST") else []
    for script in sorted((here.parent / "examples").glob("*.py")):
        if script.name.startswith("_") or script.name == "quickstart.py":
            continue
        png = out / f"{script.stem}.png"
        if png.exists() and png.stat().st_mtime >= script.stat().st_mtime:
            continue
        subprocess.run([sys.executable, str(script), "--out", str(png), *fast], check=True)


gallery_figures()
