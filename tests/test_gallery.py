"""Every gallery script runs in its fast mode and writes a PNG (the docs show the full ones)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))
NOT_GALLERY = {"quickstart.py"}  # prints a check, writes no figure


@pytest.mark.parametrize("script", [s for s in SCRIPTS if s not in NOT_GALLERY])
def test_gallery_script_writes_png(script, tmp_path):
    out = tmp_path / "figure.png"
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--fast", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=EXAMPLES,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert out.stat().st_size > 10_000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_quickstart_runs():
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "max error against the analytic derivative" in proc.stdout


def test_script_writes_into_the_current_directory_by_default(tmp_path):
    """Run from elsewhere without --out, a script leaves the source tree alone."""
    before = sorted(p.name for p in (EXAMPLES.parent / "docs").rglob("*.png"))
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "accuracy_convergence.py"), "--fast"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "accuracy_convergence.png").stat().st_size > 10_000
    assert sorted(p.name for p in (EXAMPLES.parent / "docs").rglob("*.png")) == before
