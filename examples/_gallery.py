"""Shared command line of the gallery scripts: ``--out PNG`` and ``--fast`` (what CI runs).

A script writes its figure to ``--out`` or, by default, into the current directory, never into
the source tree; the documentation build regenerates the gallery's figures (``docs/conf.py``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")


def parse(description: str, default_png: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(default_png),
        help=f"PNG to write (default: ./{default_png})",
    )
    parser.add_argument("--fast", action="store_true", help="small sizes, for CI")
    return parser.parse_args()


def save(fig, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    print(f"wrote {path}")
