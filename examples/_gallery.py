"""Shared command line of the gallery scripts: ``--out PNG`` and ``--fast`` (what CI runs)."""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")


def parse(description: str, default_png: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    here = Path(__file__).resolve().parent.parent / "docs" / "img"
    parser.add_argument("--out", type=Path, default=here / default_png, help="PNG to write")
    parser.add_argument("--fast", action="store_true", help="small sizes, for CI")
    return parser.parse_args()


def save(fig, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    print(f"wrote {path}")
